//! What Graph's user writes do to the directory: the request bodies, and the blocking
//! steps (call them from a blocking thread). Passwords arrive here already hashed;
//! disabling and deleting go through `db::users::set_disabled` and `db::users::delete`,
//! as `localidp user disable|delete` do, so the token status refuses the user's tokens.

use serde::Deserialize;

use crate::crypto::password::importable_hash;
use crate::db::users::{self, NameChanges, User};
use crate::db::{DbConnection, DbError};
use crate::directory::users::{NewUser, create_user};
use crate::directory::{self, DirectoryError};

/// `passwordProfile`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasswordProfile {
    pub password: Option<String>,
    /// localidp's extension: an existing hash in one of the formats `user import`
    /// accepts, instead of `password`.
    pub password_hash: Option<String>,
    /// The user must choose a new password at the next sign-in.
    pub force_change_password_next_sign_in: Option<bool>,
}

/// B2C's `identities` entry.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    pub sign_in_type: String,
    pub issuer: Option<String>,
    pub issuer_assigned_id: String,
}

/// The body of `POST /users` (properties localidp does not keep are ignored).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateUser {
    pub account_enabled: Option<bool>,
    pub display_name: Option<String>,
    pub given_name: Option<String>,
    pub surname: Option<String>,
    pub mail: Option<String>,
    pub mail_nickname: Option<String>,
    pub user_principal_name: Option<String>,
    pub password_profile: Option<PasswordProfile>,
    pub identities: Option<Vec<Identity>>,
}

/// The body of `PATCH /users/{id}`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateUser {
    pub account_enabled: Option<bool>,
    pub display_name: Option<String>,
    pub given_name: Option<String>,
    pub surname: Option<String>,
    pub password_profile: Option<PasswordProfile>,
}

/// Why a write was refused.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{0}")]
    Invalid(String),
    /// Another user has this value of the property.
    #[error("duplicate {0}")]
    Duplicate(&'static str),
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<DirectoryError> for WriteError {
    fn from(e: DirectoryError) -> Self {
        match e {
            DirectoryError::Invalid(m) => WriteError::Invalid(m),
            DirectoryError::Conflict(_) => WriteError::Duplicate("userPrincipalName"),
            DirectoryError::NotFound(_) => WriteError::NotFound,
            DirectoryError::Db(e) => WriteError::Db(e),
            DirectoryError::Hash(e) => WriteError::Db(DbError::Unavailable(e.to_string())),
        }
    }
}

impl From<diesel::result::Error> for WriteError {
    fn from(e: diesel::result::Error) -> Self {
        WriteError::Db(e.into())
    }
}

fn trimmed(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The user with this object id, else this user principal name, in the tenant.
pub fn find(
    conn: &mut DbConnection,
    tenant_id: &str,
    id_or_upn: &str,
) -> Result<Option<User>, DbError> {
    if let Some(u) = users::find(conn, id_or_upn)?.filter(|u| u.tenant_id == tenant_id) {
        return Ok(Some(u));
    }
    users::find_by_sign_in_name(conn, tenant_id, id_or_upn)
}

/// Who a new user is from `userPrincipalName`, `mail` and `identities`: their email
/// address and user name.
fn sign_in_names(body: &CreateUser) -> Result<(Option<String>, Option<String>), WriteError> {
    let mut email = trimmed(&body.mail);
    let mut username = trimmed(&body.user_principal_name);
    for identity in body.identities.iter().flatten() {
        let id = identity.issuer_assigned_id.trim().to_owned();
        match identity.sign_in_type.as_str() {
            "emailAddress" if email.is_none() => email = Some(id),
            "userName" if username.is_none() => username = Some(id),
            "emailAddress" | "userName" | "userPrincipalName" => {}
            other => {
                return Err(WriteError::Invalid(format!(
                    "The signInType '{other}' is not supported; use emailAddress or userName."
                )));
            }
        }
    }
    if email.is_none() && username.is_none() {
        return Err(WriteError::Invalid(
            "Property 'userPrincipalName' (or an identity) is required to create a user.".into(),
        ));
    }
    Ok((email, username))
}

/// Checks a create request before its password is hashed.
pub fn validate_create(body: &CreateUser) -> Result<(), WriteError> {
    if trimmed(&body.display_name).is_none() {
        return Err(WriteError::Invalid(
            "Property 'displayName' is required to create a user.".into(),
        ));
    }
    sign_in_names(body)?;
    let profile = body.password_profile.as_ref();
    let password = profile.and_then(|p| p.password.as_deref());
    if given_hash(profile)?.is_none() && password.is_none_or(str::is_empty) {
        return Err(WriteError::Invalid(
            "Property 'passwordProfile' with a password is required to create a user.".into(),
        ));
    }
    Ok(())
}

/// The hash of `passwordProfile.passwordHash` (localidp's extension) as it is stored,
/// `None` without one; refused when the format is none `user import` accepts or a
/// password is given too.
pub fn given_hash(profile: Option<&PasswordProfile>) -> Result<Option<String>, WriteError> {
    let Some(profile) = profile else {
        return Ok(None);
    };
    let Some(hash) = profile.password_hash.as_deref() else {
        return Ok(None);
    };
    if profile.password.is_some() {
        return Err(WriteError::Invalid(
            "Give passwordProfile.password or passwordProfile.passwordHash, not both.".into(),
        ));
    }
    importable_hash(hash)
        .map(Some)
        .map_err(|why| WriteError::Invalid(format!("passwordProfile.passwordHash: {why}")))
}

/// Creates the user with an already hashed password; a second user with the same
/// user principal name or email address is a duplicate.
pub fn create(
    conn: &mut DbConnection,
    hasher: &crate::crypto::password::PasswordHasher,
    tenant_id: &str,
    body: &CreateUser,
    password_hash: String,
    now: i64,
) -> Result<User, WriteError> {
    let (email, username) = sign_in_names(body)?;
    let tenant = directory::tenant(conn, tenant_id)?;
    crate::db::write_tx(conn, |conn| {
        for (name, property) in [(&username, "userPrincipalName"), (&email, "mail")] {
            if let Some(n) = name
                && users::find_by_sign_in_name(conn, tenant_id, n)?.is_some()
            {
                return Err(WriteError::Duplicate(property));
            }
        }
        let new = NewUser {
            email,
            username,
            password_hash: Some(password_hash),
            display_name: trimmed(&body.display_name),
            given_name: trimmed(&body.given_name),
            family_name: trimmed(&body.surname),
            disabled: body.account_enabled == Some(false),
            force_change_password: body
                .password_profile
                .as_ref()
                .and_then(|p| p.force_change_password_next_sign_in)
                .unwrap_or(false),
            ..Default::default()
        };
        // No password in `new`: nothing is hashed on this thread.
        Ok(create_user(conn, hasher, &tenant, &new, now)?)
    })
}

/// What an update changed, for the audit log.
#[derive(Debug, Default)]
pub struct Updated {
    pub names: bool,
    pub password: bool,
    /// `Some(disabled)` when `accountEnabled` changed.
    pub disabled: Option<bool>,
}

/// Applies an update in one transaction; the password comes hashed.
pub fn update(
    conn: &mut DbConnection,
    user: &User,
    body: &UpdateUser,
    password_hash: Option<String>,
    now: i64,
) -> Result<Updated, WriteError> {
    let changes = NameChanges {
        display_name: trimmed(&body.display_name),
        given_name: trimmed(&body.given_name),
        family_name: trimmed(&body.surname),
    };
    if body.display_name.is_some() && changes.display_name.is_none() {
        return Err(WriteError::Invalid(
            "Invalid value specified for property 'displayName' of resource 'User'.".into(),
        ));
    }
    crate::db::write_tx(conn, |conn| {
        let mut done = Updated::default();
        if changes.display_name.is_some()
            || changes.given_name.is_some()
            || changes.family_name.is_some()
        {
            users::update_names(conn, &user.id, &changes, now)?;
            done.names = true;
        }
        let force = body
            .password_profile
            .as_ref()
            .and_then(|p| p.force_change_password_next_sign_in);
        if let Some(hash) = &password_hash {
            users::set_password_hash(conn, &user.id, hash, force.unwrap_or(false), now)?;
            done.password = true;
        } else if let Some(force) = force {
            users::set_force_change(conn, &user.id, force, now)?;
            done.password = true;
        }
        if let Some(enabled) = body.account_enabled
            && enabled == user.is_disabled()
        {
            users::set_disabled(conn, &user.id, !enabled, now)?;
            done.disabled = Some(!enabled);
        }
        Ok(done)
    })
}

/// Grants Graph application permissions to a client (CLI and seed file): the names
/// are checked against [`APPLICATION_PERMISSIONS`](crate::graph::permissions) and
/// written in Graph's spelling. Returns those newly granted.
pub fn grant_permissions(
    conn: &mut DbConnection,
    client_id: &str,
    names: &[String],
    now: i64,
) -> Result<Vec<String>, DirectoryError> {
    let permissions = canonical(names)?;
    let client = crate::db::clients::find(conn, client_id)?
        .ok_or_else(|| DirectoryError::NotFound(format!("client {client_id}")))?;
    if client.is_public() {
        return Err(DirectoryError::Invalid(format!(
            "client {client_id} is public: application permissions need a confidential client"
        )));
    }
    Ok(crate::db::graph_permissions::grant(
        conn,
        client_id,
        &permissions,
        now,
    )?)
}

/// Withdraws Graph application permissions; returns how many were held.
pub fn revoke_permissions(
    conn: &mut DbConnection,
    client_id: &str,
    names: &[String],
) -> Result<usize, DirectoryError> {
    let permissions = canonical(names)?;
    crate::db::clients::find(conn, client_id)?
        .ok_or_else(|| DirectoryError::NotFound(format!("client {client_id}")))?;
    Ok(crate::db::graph_permissions::revoke(
        conn,
        client_id,
        &permissions,
    )?)
}

fn canonical(names: &[String]) -> Result<Vec<String>, DirectoryError> {
    use crate::graph::permissions::{APPLICATION_PERMISSIONS, application_permission};
    if names.is_empty() {
        return Err(DirectoryError::Invalid(
            "name at least one permission".into(),
        ));
    }
    names
        .iter()
        .map(|n| {
            application_permission(n.trim())
                .map(str::to_owned)
                .ok_or_else(|| {
                    DirectoryError::Invalid(format!(
                        "{n:?} is not a Graph application permission localidp knows (one of {})",
                        APPLICATION_PERMISSIONS.join(", ")
                    ))
                })
        })
        .collect()
}

/// Assigns Entra directory roles, by display name or template id, to a user (CLI and
/// seed file); returns the display names of those newly assigned.
pub fn assign_roles(
    conn: &mut DbConnection,
    user_id: &str,
    names: &[String],
    now: i64,
) -> Result<Vec<&'static str>, DirectoryError> {
    let wanted = crate::graph::roles::parse_all(names).map_err(DirectoryError::Invalid)?;
    let ids: Vec<&str> = wanted.iter().map(|r| r.template_id).collect();
    let added = crate::db::directory_roles::assign(conn, user_id, &ids, now)?;
    Ok(wanted
        .iter()
        .filter(|r| added.iter().any(|a| a == r.template_id))
        .map(|r| r.display_name)
        .collect())
}

/// Withdraws directory roles from a user; returns how many were held.
pub fn remove_roles(
    conn: &mut DbConnection,
    user_id: &str,
    names: &[String],
) -> Result<usize, DirectoryError> {
    let wanted = crate::graph::roles::parse_all(names).map_err(DirectoryError::Invalid)?;
    let ids: Vec<&str> = wanted.iter().map(|r| r.template_id).collect();
    Ok(crate::db::directory_roles::remove(conn, user_id, &ids)?)
}

/// The display names of the user's directory roles.
pub fn role_names(conn: &mut DbConnection, user_id: &str) -> Result<Vec<&'static str>, DbError> {
    Ok(crate::db::directory_roles::of_user(conn, user_id)?
        .iter()
        .filter_map(|id| crate::graph::roles::find(id))
        .map(|r| r.display_name)
        .collect())
}

/// Graph's `revokeSignInSessions`: the user's refresh tokens and SSO sessions end, in
/// one transaction; returns how many of each.
pub fn revoke_sign_in_sessions(
    conn: &mut DbConnection,
    user_id: &str,
    now: i64,
) -> Result<(usize, usize), DbError> {
    crate::db::write_tx(conn, |conn| {
        let refresh = crate::db::refresh_tokens::revoke_user(conn, user_id, now)?;
        let sessions = crate::db::sessions::end_user(conn, user_id, now)?;
        Ok((refresh, sessions))
    })
}
