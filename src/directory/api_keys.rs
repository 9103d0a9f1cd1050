//! API keys as an administrator manages them: create one for a user or a client (the
//! key is returned once, only its hash is stored), list them, revoke one. Blocking:
//! call from a blocking thread.
//!
//! A key reads `lidp_{id}_{secret}`: `id` (16 hex digits) is the row's primary key and
//! is not secret; `secret` is 256 random bits. The stored hash is the SHA-256 of the
//! whole key, compared in constant time.

use super::users::user_by_sign_in_name;
use super::{DirectoryError, DirectoryResult, invalid};
use crate::crypto::secrets;
use crate::db::api_keys::{self, ApiKey, OWNER_CLIENT, OWNER_USER};
use crate::db::clients::Client;
use crate::db::tenants::Tenant;
use crate::db::users::User;
use crate::db::{DbConnection, DbError, clients, encode_list, users};

/// What every key starts with, so that scanners and people recognise one.
pub const KEY_PREFIX: &str = "lidp_";
const ID_LEN: usize = 16;

/// The id a presented key names, if it has the shape of a key.
pub fn key_id(presented: &str) -> Option<&str> {
    let (id, secret) = presented.strip_prefix(KEY_PREFIX)?.split_once('_')?;
    let well_formed = id.len() == ID_LEN
        && id.bytes().all(|b| b.is_ascii_hexdigit())
        && secret.len() == 43
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    well_formed.then_some(id)
}

/// Whom a key is for, as an administrator names them.
#[derive(Debug, Clone, Copy)]
pub enum OwnerName<'a> {
    /// A user's email address or user name, in the tenant given.
    User(&'a str),
    /// A client id (the key goes to the client's tenant).
    Client(&'a str),
}

#[derive(Debug, Default)]
pub struct NewApiKey {
    pub name: String,
    /// Roles the key carries; each must be one its owner has.
    pub roles: Vec<String>,
    /// Delegated permissions (names such as `Tasks.Read`) a user's key carries.
    pub scopes: Vec<String>,
    pub expires_at: Option<i64>,
}

/// A key just made: the key itself (shown once) and its row.
#[derive(Debug)]
pub struct CreatedApiKey {
    pub key: String,
    pub row: ApiKey,
}

/// A key as listed: the row and a readable name of its owner.
#[derive(Debug)]
pub struct ApiKeyListing {
    pub row: ApiKey,
    /// The user's sign-in name or the client id; `None` when the owner is gone.
    pub owner: Option<String>,
}

/// At most this many roles, and this many scopes, on one key.
pub const MAX_ITEMS: usize = 100;

fn clean_list(what: &str, items: &[String]) -> DirectoryResult<Vec<String>> {
    if items.len() > MAX_ITEMS {
        return invalid(format!("a key carries at most {MAX_ITEMS} {what}s"));
    }
    let mut out: Vec<String> = Vec::new();
    for item in items.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        if item.len() > 120 || !item.bytes().all(|b| b.is_ascii_graphic()) {
            return invalid(format!(
                "{what} {item:?} must be printable ASCII without spaces"
            ));
        }
        if !out.iter().any(|o| o == item) {
            out.push(item.to_owned());
        }
    }
    Ok(out)
}

/// Whom a key is for, found: a user or a client of the directory.
#[derive(Debug, Clone, Copy)]
pub enum Owner<'a> {
    User(&'a User),
    Client(&'a Client),
}

impl Owner<'_> {
    /// `user` or `client`, as stored.
    pub fn kind(&self) -> &'static str {
        match self {
            Owner::User(_) => OWNER_USER,
            Owner::Client(_) => OWNER_CLIENT,
        }
    }

    /// The user's object id or the client id.
    pub fn id(&self) -> &str {
        match self {
            Owner::User(u) => &u.id,
            Owner::Client(c) => &c.client_id,
        }
    }

    /// The tenant the owner (and so the key) is in.
    pub fn tenant_id(&self) -> &str {
        match self {
            Owner::User(u) => &u.tenant_id,
            Owner::Client(c) => &c.tenant_id,
        }
    }

    fn owns(&self, key: &ApiKey) -> bool {
        key.owner_kind == self.kind()
            && key.owner_id == self.id()
            && key.tenant_id == self.tenant_id()
    }
}

/// Creates a key for `owner` in `tenant` (a client's key goes to the client's tenant).
pub fn create(
    conn: &mut DbConnection,
    tenant: &Tenant,
    owner: OwnerName<'_>,
    new: &NewApiKey,
    now: i64,
) -> DirectoryResult<CreatedApiKey> {
    match owner {
        OwnerName::User(sign_in_name) => {
            let user = user_by_sign_in_name(conn, tenant, sign_in_name)?;
            create_for(conn, Owner::User(&user), new, now)
        }
        OwnerName::Client(client_id) => {
            let client = clients::find(conn, client_id)?
                .ok_or_else(|| DirectoryError::NotFound(format!("client {client_id}")))?;
            create_for(conn, Owner::Client(&client), new, now)
        }
    }
}

/// Creates a key for an owner already found, after the checks every key passes: a
/// name of 1 to 200 characters, an expiry in the future, roles the owner holds,
/// scopes only for a user (permission names, not OIDC scopes or resources), at most
/// [`MAX_ITEMS`] of each, an owner that is not disabled.
pub fn create_for(
    conn: &mut DbConnection,
    owner: Owner<'_>,
    new: &NewApiKey,
    now: i64,
) -> DirectoryResult<CreatedApiKey> {
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return invalid("the key needs a name of 1 to 200 characters");
    }
    if new.expires_at.is_some_and(|e| e <= now) {
        return invalid("the expiry is in the past");
    }
    let roles = clean_list("role", &new.roles)?;
    let scopes = clean_list("scope", &new.scopes)?;
    if let Some(s) = scopes
        .iter()
        .find(|s| s.contains('/') || crate::oauth::scope::OIDC_SCOPES.contains(&s.as_str()))
    {
        return invalid(format!(
            "scope {s:?}: give permission names such as Tasks.Read, without a resource or OIDC scopes"
        ));
    }
    let held = match owner {
        Owner::User(user) => {
            if user.is_disabled() {
                return invalid(format!("user {} is disabled", user.sign_in_name()));
            }
            user.role_list()?
        }
        Owner::Client(client) => {
            if !scopes.is_empty() {
                return invalid(
                    "an application's key carries roles only: scopes are delegated permissions of a user",
                );
            }
            crate::graph::app_role_defs::application_values(client)
        }
    };
    if let Some(r) = roles.iter().find(|r| !held.contains(r)) {
        return invalid(format!(
            "the {} does not hold the role {r:?} (it holds: {})",
            owner.kind(),
            held.join(", ")
        ));
    }
    let id = crate::crypto::secrets::uuid_v4().simple().to_string()[..ID_LEN].to_owned();
    let key = format!("{KEY_PREFIX}{id}_{}", secrets::generate());
    let row = ApiKey {
        id,
        tenant_id: owner.tenant_id().to_owned(),
        owner_kind: owner.kind().to_owned(),
        owner_id: owner.id().to_owned(),
        name: name.to_owned(),
        key_hash: secrets::sha256_hex(&key),
        roles: encode_list(&roles),
        scopes: encode_list(&scopes),
        created_at: now,
        expires_at: new.expires_at,
        last_used_at: None,
        revoked_at: None,
    };
    api_keys::insert(conn, &row)?;
    Ok(CreatedApiKey { key, row })
}

/// What a key begins with, not secret (`lidp_{id}`): how a listing hints at a key.
pub fn hint(key: &ApiKey) -> String {
    format!("{KEY_PREFIX}{}", key.id)
}

/// An owner's keys that are not revoked (expired ones included), oldest first.
pub fn list_for(conn: &mut DbConnection, owner: Owner<'_>) -> DirectoryResult<Vec<ApiKey>> {
    let rows = api_keys::list(conn, owner.tenant_id(), Some((owner.kind(), owner.id())))?;
    Ok(rows
        .into_iter()
        .filter(|k| k.revoked_at.is_none())
        .collect())
}

/// Revokes one of an owner's keys: NotFound when the key is another's, unknown, or
/// already revoked.
pub fn revoke_for(
    conn: &mut DbConnection,
    owner: Owner<'_>,
    id: &str,
    now: i64,
) -> DirectoryResult<ApiKey> {
    let not_found = || DirectoryError::NotFound(format!("API key {id}"));
    match api_keys::find(conn, id)? {
        Some(key) if owner.owns(&key) && key.revoked_at.is_none() => {
            api_keys::revoke(conn, id, now)?;
            api_keys::find(conn, id)?.ok_or_else(not_found)
        }
        _ => Err(not_found()),
    }
}

/// The tenant's keys, or one owner's (a client's are listed in the client's tenant).
pub fn list(
    conn: &mut DbConnection,
    tenant: &Tenant,
    owner: Option<OwnerName<'_>>,
) -> DirectoryResult<Vec<ApiKeyListing>> {
    let rows = match owner {
        None => api_keys::list(conn, &tenant.id, None)?,
        Some(OwnerName::User(name)) => {
            let user = user_by_sign_in_name(conn, tenant, name)?;
            api_keys::list(conn, &tenant.id, Some((OWNER_USER, &user.id)))?
        }
        Some(OwnerName::Client(client_id)) => {
            let client = clients::find(conn, client_id)?
                .ok_or_else(|| DirectoryError::NotFound(format!("client {client_id}")))?;
            api_keys::list(conn, &client.tenant_id, Some((OWNER_CLIENT, client_id)))?
        }
    };
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let owner = if row.owner_kind == OWNER_USER {
            users::find(conn, &row.owner_id)?.map(|u| u.sign_in_name().to_owned())
        } else {
            clients::find(conn, &row.owner_id)?.map(|c| c.client_id)
        };
        out.push(ApiKeyListing { row, owner });
    }
    Ok(out)
}

/// Revokes a key by its id (in whichever tenant it is); revoking twice is no error.
pub fn revoke(conn: &mut DbConnection, id: &str, now: i64) -> DirectoryResult<ApiKey> {
    api_keys::revoke(conn, id, now).map_err(|e| match e {
        DbError::NotFound => DirectoryError::NotFound(format!("API key {id}")),
        other => other.into(),
    })?;
    api_keys::find(conn, id)?.ok_or_else(|| DirectoryError::NotFound(format!("API key {id}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ids_are_read_only_from_well_formed_keys() {
        let secret = secrets::generate();
        let key = format!("lidp_0123456789abcdef_{secret}");
        assert_eq!(key_id(&key), Some("0123456789abcdef"));
        assert_eq!(key_id(&format!("lidp_0123456789abcdeg_{secret}")), None);
        assert_eq!(key_id(&format!("lidp_0123456789abcdef_{secret}x")), None);
        assert_eq!(key_id(&format!("xxxx_0123456789abcdef_{secret}")), None);
        assert_eq!(key_id("lidp_"), None);
        assert_eq!(key_id(""), None);
    }
}
