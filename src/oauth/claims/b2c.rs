//! Azure AD B2C token claims (`ver` "1.0"): `tfp` names the user flow, email
//! addresses come as `emails`, and user tokens carry no `tid`, `roles` or `groups`.

use super::{AccessGrant, AccessTokenClaims, IdTokenClaims, Issuance};
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
        auth_time: Some(at.now),
        tfp: at.policy.map(str::to_owned),
        emails: vec![user.email.clone()],
        name: Some(user.display_name.clone()),
        given_name: user.given_name.clone(),
        family_name: user.family_name.clone(),
        scp: grant.scp,
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
        idtyp: Some("app".into()),
        tfp: at.policy.map(str::to_owned),
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
        tfp: at.policy.map(str::to_owned),
        nonce,
        emails: vec![user.email.clone()],
        ..IdTokenClaims::base(at, client_id, user, auth_time, VERSION)
    }
}
