//! Azure AD B2C token claims (`ver` "1.0"): `tfp` names the user flow, email
//! addresses come as `emails`, and there is no `tid`, `roles` or `groups`.

use super::{AccessGrant, AccessTokenClaims, IdTokenClaims, Issuance, opaque_id};
use crate::oauth::sign_in::UserProfile;

const VERSION: &str = "1.0";

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
        auth_time: Some(at.now),
        tfp: at.policy.map(str::to_owned),
        emails: vec![user.email.clone()],
        name: Some(user.display_name.clone()),
        given_name: user.given_name.clone(),
        family_name: user.family_name.clone(),
        scp: grant.scp,
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
        idtyp: Some("app".into()),
        tfp: at.policy.map(str::to_owned),
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
        tfp: at.policy.map(str::to_owned),
        nonce,
        emails: vec![user.email.clone()],
        name: user.display_name.clone(),
        given_name: user.given_name.clone(),
        family_name: user.family_name.clone(),
        ..Default::default()
    }
}
