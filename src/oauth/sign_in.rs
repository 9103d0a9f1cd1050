//! Who a token is for: a user of the tenant who proved their password, or one found
//! again by id (refresh, code redemption, on-behalf-of), with the groups and roles
//! tokens carry. Disabled users are refused here, once for every grant.

use secrecy::SecretString;

use super::{OAuthError, Reason};
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

/// Checks an email and password in the tenant: the shared core of the password grant,
/// `/auth/login` and the login page. An unknown email costs the same time as a wrong
/// password.
pub async fn authenticate_user(
    state: &AppState,
    tenant_id: &str,
    email: &str,
    password: SecretString,
) -> Result<UserProfile, OAuthError> {
    let tid = tenant_id.to_owned();
    let lookup = email.to_owned();
    let user = state
        .db(move |c| db::users::find_by_email(c, &tid, &lookup))
        .await?;
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    let check = state.hasher.verify(password, stored.clone()).await?;
    let (user, upgrade) = match (user, check) {
        (Some(user), PasswordCheck::Valid { upgrade }) => (user, upgrade),
        _ => {
            return Err(OAuthError::invalid_grant(
                Reason::InvalidCredentials,
                BAD_CREDENTIALS,
            ));
        }
    };
    if user.is_disabled() {
        return Err(OAuthError::invalid_grant(
            Reason::UserDisabled,
            "The user account is disabled.",
        ));
    }
    state
        .db(move |c| {
            if let (Some(new_hash), Some(old_hash)) = (upgrade, stored) {
                db::users::upgrade_password_hash(c, &user.id, &old_hash, &new_hash)?;
            }
            load_profile(c, user)
        })
        .await
        .map_err(OAuthError::from)
}
