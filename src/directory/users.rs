//! Users: creation (one, or many from a JSON Lines file), look-up by the name they
//! sign in with, and password changes. Blocking: call from a blocking thread.

use secrecy::SecretString;

use super::{
    DirectoryError, DirectoryResult, ensure_group, invalid, validate_email, validate_username,
    validate_uuid,
};
use crate::crypto::password::{PasswordHasher, importable_hash};
use crate::db::tenants::Tenant;
use crate::db::users::{self, User, normalize_email, normalize_username};
use crate::db::{DbConnection, DbError, encode_list};
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
        None => uuid::Uuid::new_v4().to_string(),
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

/// One line of a `user import` file.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportedUser {
    email: Option<String>,
    username: Option<String>,
    password: Option<String>,
    password_hash: Option<String>,
    /// A Keycloak realm export's credential object, instead of `password_hash`.
    keycloak_credential: Option<serde_json::Value>,
    name: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    oid: Option<String>,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    disabled: bool,
}

/// What an import does with a row whose user is already there (same oid, or same
/// email address or user name in the tenant).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnConflict {
    /// Leave the user as it is and count the row as already there (re-runs change
    /// nothing).
    #[default]
    Skip,
    /// Stop: the whole import fails and nothing is written.
    Fail,
}

/// How to import.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    pub on_conflict: OnConflict,
    /// Check every row and report, write nothing.
    pub dry_run: bool,
}

/// A row the import refused: its line, why, and the line as it was (for `--errors`).
#[derive(Debug, Clone)]
pub struct RefusedRow {
    pub line: usize,
    pub reason: String,
    pub text: String,
}

/// What an import did (or, dry, would do).
#[derive(Debug, Default)]
pub struct ImportReport {
    pub created: usize,
    /// Rows whose user was already there, left as it is.
    pub existing: usize,
    pub refused: Vec<RefusedRow>,
}

/// A row that parsed and checked out, waiting for the look-up of existing users.
struct Candidate {
    line: usize,
    text: String,
    row: User,
    oid_given: bool,
}

/// Bulk import from JSON Lines. A row that does not parse or check out is refused with
/// its line and reason and the rest goes on; a row whose user exists is skipped (or,
/// with [`OnConflict::Fail`], fails the whole import); the new users go in in one
/// transaction. With `dry_run` nothing is written.
pub fn import_users(
    conn: &mut DbConnection,
    hasher: &PasswordHasher,
    tenant: &Tenant,
    path: &std::path::Path,
    options: ImportOptions,
    now: i64,
) -> DirectoryResult<ImportReport> {
    use std::io::BufRead;
    let file = std::fs::File::open(path)
        .map_err(|e| DirectoryError::Invalid(format!("cannot open {}: {e}", path.display())))?;
    let mut report = ImportReport::default();
    let mut candidates = Vec::new();
    // Names and ids seen so far in the file, with their line.
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line_no = i + 1;
        let text = line.map_err(|e| DirectoryError::Invalid(format!("line {line_no}: {e}")))?;
        if text.trim().is_empty() {
            continue;
        }
        match candidate(hasher, tenant, &text, now) {
            Err(reason) => report.refused.push(RefusedRow {
                line: line_no,
                reason,
                text,
            }),
            Ok((row, oid_given)) => {
                let keys = [
                    row.email_normalized.clone(),
                    row.username_normalized.clone(),
                    oid_given.then(|| row.id.clone()),
                ];
                if let Some((key, first)) = keys
                    .iter()
                    .flatten()
                    .find_map(|k| seen.get(k).map(|first| (k, *first)))
                {
                    report.refused.push(RefusedRow {
                        line: line_no,
                        reason: format!("{key} is already on line {first}"),
                        text,
                    });
                    continue;
                }
                for key in keys.into_iter().flatten() {
                    seen.insert(key, line_no);
                }
                candidates.push(Candidate {
                    line: line_no,
                    text,
                    row,
                    oid_given,
                });
            }
        }
    }
    let ids: Vec<String> = candidates
        .iter()
        .filter(|c| c.oid_given)
        .map(|c| c.row.id.clone())
        .collect();
    let names: Vec<String> = candidates
        .iter()
        .flat_map(|c| [&c.row.email_normalized, &c.row.username_normalized])
        .flatten()
        .cloned()
        .collect();
    let (found_ids, found_names) = users::existing_keys(conn, &tenant.id, &ids, &names)?;
    let mut rows = Vec::new();
    let mut given = Vec::new();
    for c in candidates {
        let other_tenant = found_ids.get(&c.row.id).is_some_and(|t| *t != tenant.id);
        let exists = found_ids.contains_key(&c.row.id)
            || [&c.row.email_normalized, &c.row.username_normalized]
                .into_iter()
                .flatten()
                .any(|n| found_names.contains(n));
        if other_tenant {
            report.refused.push(RefusedRow {
                line: c.line,
                reason: format!("the oid {} belongs to a user of another tenant", c.row.id),
                text: c.text,
            });
        } else if exists && options.on_conflict == OnConflict::Fail {
            return Err(DirectoryError::Conflict(format!(
                "line {}: a user with this oid, email address or user name",
                c.line
            )));
        } else if exists {
            report.existing += 1;
        } else {
            if c.oid_given {
                given.push(c.row.id.clone());
            }
            rows.push(c.row);
        }
    }
    report.created = rows.len();
    if options.dry_run || rows.is_empty() {
        return Ok(report);
    }
    crate::db::write_tx(conn, |conn| {
        // Ids given in the file may be those of deleted users.
        let given: Vec<&str> = given.iter().map(String::as_str).collect();
        status_changes::users_recreated(conn, &given, now)?;
        users::insert_many(conn, &rows)
    })
    .map_err(|e| match e {
        DbError::Conflict(_) => DirectoryError::Conflict(
            "a user of this file (added meanwhile by someone else)".to_owned(),
        ),
        other => other.into(),
    })?;
    Ok(report)
}

/// One line of an import file as the user row it makes (password hashed, hash
/// checked), and whether it named the oid; or why it is refused.
fn candidate(
    hasher: &PasswordHasher,
    tenant: &Tenant,
    text: &str,
    now: i64,
) -> Result<(User, bool), String> {
    let u: ImportedUser = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let password_hash = match (u.password_hash, u.keycloak_credential) {
        (Some(_), Some(_)) => {
            return Err("give password_hash or keycloak_credential, not both".into());
        }
        (hash, credential) => hash.or(credential.map(|c| c.to_string())),
    };
    let new = NewUser {
        email: u.email,
        username: u.username,
        password: u.password.map(SecretString::from),
        password_hash,
        display_name: u.name,
        given_name: u.given_name,
        family_name: u.family_name,
        roles: u.roles,
        groups: Vec::new(),
        oid: u.oid,
        disabled: u.disabled,
        force_change_password: false,
    };
    let row = new_user_row(hasher, tenant, &new, now).map_err(|e| e.to_string())?;
    Ok((row, new.oid.is_some()))
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
