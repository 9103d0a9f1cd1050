//! What the admin commands do to the directory beyond creating things: pick the tenant,
//! list users and clients, disable or delete a user.

use super::{DirectoryResult, default_tenant, tenant, user_by_email};
use crate::db::DbConnection;
use crate::db::clients::{self, Client};
use crate::db::tenants::Tenant;
use crate::db::users::{self, User};

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

/// A disabled user's sign-in and refresh are refused.
pub fn set_user_disabled(
    conn: &mut DbConnection,
    tenant: &Tenant,
    email: &str,
    disabled: bool,
    now: i64,
) -> DirectoryResult<()> {
    let user = user_by_email(conn, tenant, email)?;
    Ok(users::set_disabled(conn, &user.id, disabled, now)?)
}

/// Deletes the user; group memberships, refresh tokens, SSO sessions and authorization
/// codes go with them (foreign keys `ON DELETE CASCADE`).
pub fn delete_user(conn: &mut DbConnection, tenant: &Tenant, email: &str) -> DirectoryResult<()> {
    let user = user_by_email(conn, tenant, email)?;
    Ok(users::delete(conn, &user.id)?)
}

/// The tenant's clients, oldest first.
pub fn list_clients(conn: &mut DbConnection, tenant: &Tenant) -> DirectoryResult<Vec<Client>> {
    Ok(clients::list(conn, &tenant.id)?)
}
