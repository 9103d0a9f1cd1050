//! Entra ID v2 token claims (`ver` "2.0"): `tid`, `azpacr`, `uti`/`aio`/`rh`,
//! `preferred_username`, roles, groups and directory roles (`wids`) in access and ID
//! tokens.

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
        tid: Some(at.tenant_id.to_owned()),
        azpacr: Some(grant.azpacr.into()),
        uti: Some(opaque_id()),
        aio: Some(opaque_id()),
        rh: Some(opaque_id()),
        email: user.email.clone(),
        name: Some(user.display_name.clone()),
        preferred_username: Some(user.sign_in_name().to_owned()),
        given_name: user.given_name.clone(),
        family_name: user.family_name.clone(),
        scp: grant.scp,
        roles: profile.roles.clone(),
        groups: profile.groups.clone(),
        wids: profile.directory_roles.clone(),
        ..AccessTokenClaims::base(at, grant.audience, &user.id, grant.client_id, VERSION)
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
        tid: Some(at.tenant_id.to_owned()),
        azpacr: Some("1".into()),
        uti: Some(opaque_id()),
        aio: Some(opaque_id()),
        rh: Some(opaque_id()),
        idtyp: Some("app".into()),
        roles,
        ..AccessTokenClaims::base(at, audience, client_id, client_id, VERSION)
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
        tid: Some(at.tenant_id.to_owned()),
        uti: Some(opaque_id()),
        nonce,
        email: user.email.clone(),
        preferred_username: Some(user.sign_in_name().to_owned()),
        roles: profile.roles.clone(),
        groups: profile.groups.clone(),
        wids: profile.directory_roles.clone(),
        ..IdTokenClaims::base(at, client_id, user, auth_time, VERSION)
    }
}
