//! Entra ID v2 token claims (`ver` "2.0"): `tid`, `azpacr`, `uti`/`aio`/`rh`,
//! `preferred_username`, roles and groups in access and ID tokens.

use super::{AccessGrant, AccessTokenClaims, IdTokenClaims, Issuance, opaque_id};
use crate::oauth::sign_in::UserProfile;

const VERSION: &str = "2.0";

/// A user's access token.
pub fn user_access_token(
    at: &Issuance<'_>,
    grant: AccessGrant<'_>,
    profile: &UserProfile,
) -> AccessTokenClaims {
    let user = &profile.user;
    AccessTokenClaims {
        aud: grant.audience,
        iss: at.issuer.clone(),
        iat: at.now,
        nbf: at.now,
        exp: at.now + at.lifetime,
        sub: user.id.clone(),
        oid: user.id.clone(),
        azp: grant.client_id.to_owned(),
        ver: VERSION.into(),
        jti: opaque_id(),
        tid: Some(at.tenant_id.to_owned()),
        azpacr: Some(grant.azpacr.into()),
        uti: Some(opaque_id()),
        aio: Some(opaque_id()),
        rh: Some(opaque_id()),
        email: Some(user.email.clone()),
        name: Some(user.display_name.clone()),
        preferred_username: Some(user.email.clone()),
        given_name: user.given_name.clone(),
        family_name: user.family_name.clone(),
        scp: grant.scp,
        roles: profile.roles.clone(),
        groups: profile.groups.clone(),
        ..Default::default()
    }
}

/// An app-only (client credentials) access token: the client is its own subject.
pub fn app_access_token(
    at: &Issuance<'_>,
    audience: String,
    client_id: &str,
    roles: Vec<String>,
) -> AccessTokenClaims {
    AccessTokenClaims {
        aud: audience,
        iss: at.issuer.clone(),
        iat: at.now,
        nbf: at.now,
        exp: at.now + at.lifetime,
        sub: client_id.to_owned(),
        oid: client_id.to_owned(),
        azp: client_id.to_owned(),
        ver: VERSION.into(),
        jti: opaque_id(),
        tid: Some(at.tenant_id.to_owned()),
        azpacr: Some("1".into()),
        uti: Some(opaque_id()),
        aio: Some(opaque_id()),
        rh: Some(opaque_id()),
        idtyp: Some("app".into()),
        roles,
        ..Default::default()
    }
}

/// A user's ID token for `client_id`, before `at_hash`/`c_hash`/`sid` are added.
pub fn id_token(
    at: &Issuance<'_>,
    client_id: &str,
    profile: &UserProfile,
    auth_time: i64,
    nonce: Option<String>,
) -> IdTokenClaims {
    let user = &profile.user;
    IdTokenClaims {
        aud: client_id.to_owned(),
        iss: at.issuer.clone(),
        iat: at.now,
        nbf: at.now,
        exp: at.now + at.lifetime,
        auth_time,
        sub: user.id.clone(),
        oid: user.id.clone(),
        ver: VERSION.into(),
        tid: Some(at.tenant_id.to_owned()),
        uti: Some(opaque_id()),
        nonce,
        email: Some(user.email.clone()),
        name: user.display_name.clone(),
        preferred_username: Some(user.email.clone()),
        given_name: user.given_name.clone(),
        family_name: user.family_name.clone(),
        roles: profile.roles.clone(),
        groups: profile.groups.clone(),
        ..Default::default()
    }
}
