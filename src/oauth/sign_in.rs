//! Who a token is for: a user of the tenant who proved their password, or one found
//! again by id (refresh, code redemption, on-behalf-of), with the groups and roles
//! tokens carry. Disabled users are refused here, once for every grant.

use secrecy::SecretString;

use super::{OAuthError, Reason};
use crate::audit::{self, AuditEvent, RequestContext, kind, reason};
use crate::crypto::password::PasswordCheck;
use crate::db::users::User;
use crate::db::{self, DbConnection, DbResult};
use crate::state::AppState;

/// A user with what tokens say about them.
#[derive(Debug)]
pub struct UserProfile {
    pub user: User,
    pub groups: Vec<String>,
    pub roles: Vec<String>,
}

/// Adds the user's groups and roles.
pub fn load_profile(conn: &mut DbConnection, user: User) -> DbResult<UserProfile> {
    let groups = db::users::group_ids(conn, &user.id)?;
    let roles = user.role_list()?;
    Ok(UserProfile {
        user,
        groups,
        roles,
    })
}

/// The user with this id, if they exist and are enabled, with groups and roles.
pub fn active_profile(conn: &mut DbConnection, user_id: &str) -> DbResult<Option<UserProfile>> {
    match db::users::find(conn, user_id)? {
        Some(user) if !user.is_disabled() => Ok(Some(load_profile(conn, user)?)),
        _ => Ok(None),
    }
}

const BAD_CREDENTIALS: &str = "The username or password is incorrect.";

/// Where a password sign-in comes from, for its audit event.
#[derive(Debug, Clone, Copy)]
pub struct SignInSource<'a> {
    /// `password_grant`, `auth_login` or `login_form`.
    pub via: &'static str,
    /// The application signed in to, when known.
    pub client_id: Option<&'a str>,
    pub request: &'a RequestContext,
}

impl SignInSource<'_> {
    /// A sign-in event of this kind from this source, naming what was typed to sign in.
    pub fn event(&self, kind: &'static str, tenant_id: &str, sign_in_name: &str) -> AuditEvent {
        let mut event = AuditEvent::sign_in(kind)
            .request(self.request)
            .tenant(tenant_id)
            .detail("via", self.via)
            .detail("sign_in_name", audit::bounded_text(sign_in_name));
        if let Some(client) = self.client_id {
            event = event.client(client);
        }
        event
    }
}

/// Checks a sign-in name (user name or email address) and password in the tenant:
/// the shared core of the password grant, `/auth/login` and the login page. An unknown
/// email costs the same time as a wrong password. Writes a `sign_in.password` audit
/// event for each answer on the credentials (not for an overloaded hasher or database).
pub async fn authenticate_user(
    state: &AppState,
    tenant_id: &str,
    sign_in_name: &str,
    password: SecretString,
    source: &SignInSource<'_>,
) -> Result<UserProfile, OAuthError> {
    let tid = tenant_id.to_owned();
    let lookup = sign_in_name.to_owned();
    let user = state
        .db(move |c| db::users::find_by_sign_in_name(c, &tid, &lookup))
        .await?;
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    let check = state.hasher.verify(password, stored.clone()).await?;
    let event = source.event(kind::SIGN_IN_PASSWORD, tenant_id, sign_in_name);
    let (user, upgrade) = match (user, check) {
        (Some(user), PasswordCheck::Valid { upgrade }) => (user, upgrade),
        (user, _) => {
            let event = match user {
                None => event.failure(reason::UNKNOWN_USER),
                Some(u) if u.password_hash.is_none() => {
                    event.user(&u.id).failure(reason::NO_PASSWORD)
                }
                Some(u) => event.user(&u.id).failure(reason::INVALID_PASSWORD),
            };
            state.audit.record(event).await;
            return Err(OAuthError::invalid_grant(
                Reason::InvalidCredentials,
                BAD_CREDENTIALS,
            ));
        }
    };
    let event = event.user(&user.id);
    if user.is_disabled() {
        state.audit.record(event.failure(reason::DISABLED)).await;
        return Err(OAuthError::invalid_grant(
            Reason::UserDisabled,
            "The user account is disabled.",
        ));
    }
    let profile = state
        .db(move |c| {
            if let (Some(new_hash), Some(old_hash)) = (upgrade, stored) {
                db::users::upgrade_password_hash(c, &user.id, &old_hash, &new_hash)?;
            }
            load_profile(c, user)
        })
        .await
        .map_err(OAuthError::from)?;
    state.audit.record(event).await;
    Ok(profile)
}
