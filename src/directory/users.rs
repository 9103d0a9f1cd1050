//! Users: creation, look-up by the name they
//! sign in with, and password changes. Blocking: call from a blocking thread.

use secrecy::SecretString;

use super::{
    DirectoryError, DirectoryResult, ensure_group, invalid, validate_email, validate_username,
    validate_uuid,
};
use crate::crypto::password::{PasswordHasher, importable_hash};
use crate::db::tenants::Tenant;
use crate::db::users::{self, User, normalize_email, normalize_username};
use crate::db::{DbConnection, encode_list};
use crate::db::{groups, status_changes};

#[derive(Debug, Default)]
pub struct NewUser {
    /// At least one of `email` and `username`; either signs in.
    pub email: Option<String>,
    pub username: Option<String>,
    pub password: Option<SecretString>,
    /// An existing hash: bcrypt and argon2 as they are, the other formats of
    /// [`crate::crypto::hash_formats`] normalised.
    pub password_hash: Option<String>,
    pub display_name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub roles: Vec<String>,
    pub groups: Vec<String>,
    pub oid: Option<String>,
    pub disabled: bool,
    /// A temporary password: a new one is asked for at the first sign-in.
    pub force_change_password: bool,
}

/// Builds the row for a new user; hashes the password on this thread.
pub fn new_user_row(
    hasher: &PasswordHasher,
    tenant: &Tenant,
    new: &NewUser,
    now: i64,
) -> DirectoryResult<User> {
    let email = new
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty());
    let username = new
        .username
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty());
    match (email, username) {
        (None, None) => return invalid("a user needs an email address or a user name"),
        (e, u) => {
            if let Some(e) = e {
                validate_email(e)?;
            }
            if let Some(u) = u {
                validate_username(u)?;
            }
        }
    }
    let password_hash = match (&new.password, &new.password_hash) {
        (Some(_), Some(_)) => return invalid("give a password or a password hash, not both"),
        (Some(pw), None) => {
            use secrecy::ExposeSecret;
            if pw.expose_secret().is_empty() {
                return invalid("the password is empty");
            }
            Some(hasher.hash_blocking(pw)?)
        }
        (None, Some(hash)) => Some(importable_hash(hash).map_err(DirectoryError::Invalid)?),
        (None, None) => None,
    };
    let id = match &new.oid {
        Some(oid) => validate_uuid("oid", oid)?,
        None => crate::crypto::secrets::uuid_v4().to_string(),
    };
    let sign_in_name = username.or(email).unwrap_or_default();
    let display_name =
        new.display_name
            .clone()
            .unwrap_or_else(|| match (&new.given_name, &new.family_name) {
                (Some(g), Some(f)) => format!("{g} {f}"),
                _ => sign_in_name
                    .split('@')
                    .next()
                    .unwrap_or(sign_in_name)
                    .to_owned(),
            });
    let ts = now;
    Ok(User {
        id,
        tenant_id: tenant.id.clone(),
        email_normalized: email.map(normalize_email),
        email: email.map(str::to_owned),
        username_normalized: username.map(normalize_username),
        username: username.map(str::to_owned),
        display_name,
        given_name: new.given_name.clone(),
        family_name: new.family_name.clone(),
        password_hash,
        roles: encode_list(&new.roles),
        disabled: i32::from(new.disabled),
        force_change_password: i32::from(new.force_change_password),
        created_at: ts,
        updated_at: ts,
    })
}

pub fn create_user(
    conn: &mut DbConnection,
    hasher: &PasswordHasher,
    tenant: &Tenant,
    new: &NewUser,
    now: i64,
) -> DirectoryResult<User> {
    let row = new_user_row(hasher, tenant, new, now)?;
    crate::db::write_tx(conn, |conn| {
        if new.oid.is_some() {
            status_changes::users_recreated(conn, &[row.id.as_str()], now)?;
        }
        users::insert(conn, &row)?;
        for group in &new.groups {
            let g = ensure_group(conn, tenant, group, None, now)?;
            groups::add_member(conn, &g.id, &row.id)?;
        }
        Ok::<_, DirectoryError>(())
    })?;
    Ok(row)
}

/// A user by the name they sign in with: user name or email address.
pub fn user_by_sign_in_name(
    conn: &mut DbConnection,
    tenant: &Tenant,
    name: &str,
) -> DirectoryResult<User> {
    users::find_by_sign_in_name(conn, &tenant.id, name)?
        .ok_or_else(|| DirectoryError::NotFound(format!("user {name}")))
}

/// Sets a user's password (CLI); `force_change` asks for a new one at the next
/// sign-in.
pub fn set_password(
    conn: &mut DbConnection,
    hasher: &PasswordHasher,
    tenant: &Tenant,
    email: &str,
    password: &SecretString,
    force_change: bool,
    now: i64,
) -> DirectoryResult<User> {
    use secrecy::ExposeSecret;
    if password.expose_secret().is_empty() {
        return invalid("the password is empty");
    }
    let user = user_by_sign_in_name(conn, tenant, email)?;
    let hash = hasher.hash_blocking(password)?;
    users::set_password_hash(conn, &user.id, &hash, force_change, now)?;
    Ok(user)
}
