//! What the admin commands do to the directory beyond creating things: pick the tenant,
//! list users, groups and clients, show a user, disable or delete a user, name the
//! tenant's default client.

use super::users::user_by_sign_in_name;
use super::{DirectoryError, DirectoryResult, default_tenant, tenant};
use crate::db::DbConnection;
use crate::db::clients::{self, Client};
use crate::db::groups::{self, Group};
use crate::db::lockout::{self, LockoutState};
use crate::db::tenants::{self, Tenant};
use crate::db::users::{self, User};
use crate::oauth::grant_type::GrantType;

/// A user with what their tokens carry besides the user row: roles and groups.
#[derive(Debug)]
pub struct UserDetails {
    pub user: User,
    pub roles: Vec<String>,
    pub groups: Vec<Group>,
    /// Smart lockout's counters.
    pub lockout: LockoutState,
}

/// The tenant named (GUID or name), else the configured default, else the oldest one.
pub fn tenant_or_default(
    conn: &mut DbConnection,
    named: Option<&str>,
    configured_default: Option<&str>,
) -> DirectoryResult<Tenant> {
    match named {
        Some(t) => tenant(conn, t),
        None => default_tenant(conn, configured_default),
    }
}

/// The tenant's users, by email.
pub fn list_users(conn: &mut DbConnection, tenant: &Tenant) -> DirectoryResult<Vec<User>> {
    Ok(users::list(conn, &tenant.id)?)
}

/// The user, their roles and their groups.
pub fn show_user(
    conn: &mut DbConnection,
    tenant: &Tenant,
    email: &str,
) -> DirectoryResult<UserDetails> {
    let user = user_by_sign_in_name(conn, tenant, email)?;
    let roles = user.role_list()?;
    let groups = groups::of_member(conn, &user.id)?;
    let lockout = lockout::state(conn, &user.id)?.unwrap_or_default();
    Ok(UserDetails {
        user,
        roles,
        groups,
        lockout,
    })
}

/// The tenant's groups, by name.
pub fn list_groups(conn: &mut DbConnection, tenant: &Tenant) -> DirectoryResult<Vec<Group>> {
    Ok(groups::list(conn, &tenant.id)?)
}

/// A disabled user's sign-in and refresh are refused, and their access tokens too.
/// Returns the user as it was.
pub fn set_user_disabled(
    conn: &mut DbConnection,
    tenant: &Tenant,
    email: &str,
    disabled: bool,
    now: i64,
) -> DirectoryResult<User> {
    let user = user_by_sign_in_name(conn, tenant, email)?;
    users::set_disabled(conn, &user.id, disabled, now)?;
    Ok(user)
}

/// Ends a smart lockout: no lock, no count of wrong passwords, and the next lock is a
/// first lock again. The user, and the counters as they were.
pub fn unlock_user(
    conn: &mut DbConnection,
    tenant: &Tenant,
    email: &str,
) -> DirectoryResult<(User, LockoutState)> {
    let user = user_by_sign_in_name(conn, tenant, email)?;
    let before = lockout::unlock(conn, &user.id)?.unwrap_or_default();
    Ok((user, before))
}

/// Deletes the user; group memberships, refresh tokens, SSO sessions and authorization
/// codes go with them (foreign keys `ON DELETE CASCADE`); their access tokens are refused.
/// Returns the user deleted.
pub fn delete_user(
    conn: &mut DbConnection,
    tenant: &Tenant,
    email: &str,
    now: i64,
) -> DirectoryResult<User> {
    let user = user_by_sign_in_name(conn, tenant, email)?;
    users::delete(conn, &user.id, now)?;
    Ok(user)
}

/// The tenant's clients, oldest first.
pub fn list_clients(conn: &mut DbConnection, tenant: &Tenant) -> DirectoryResult<Vec<Client>> {
    Ok(clients::list(conn, &tenant.id)?)
}

/// Names the tenant's default client — the application `/auth/login` and `/auth/token`
/// password forms without a `client_id` sign users in to — or clears it with `None`.
/// It must be one of the tenant's clients and allowed the password grant.
pub fn set_default_client(
    conn: &mut DbConnection,
    tenant: &Tenant,
    client_id: Option<&str>,
) -> DirectoryResult<()> {
    if let Some(id) = client_id {
        let client = clients::find(conn, id)?
            .filter(|c| c.tenant_id == tenant.id)
            .ok_or_else(|| {
                DirectoryError::NotFound(format!("client {id} in tenant {}", tenant.name))
            })?;
        if !client.allows(GrantType::Password) {
            return Err(DirectoryError::Invalid(format!(
                "client {id} is not allowed the password grant, which a default client signs users in with"
            )));
        }
    }
    Ok(tenants::set_default_client(conn, &tenant.id, client_id)?)
}
