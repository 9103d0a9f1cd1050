//! API keys: long-lived credentials of a user or a client, stored as the SHA-256 of
//! the key, found by the id the key carries in the clear.

use diesel::prelude::*;

use super::schema::api_keys;
use super::{DbConnection, DbError, DbResult, decode_list};

/// `last_used_at` is written at most this often per key, so that using a key does not
/// cost a write per request.
pub const LAST_USED_RESOLUTION: i64 = 60;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_keys)]
pub struct ApiKey {
    pub id: String,
    pub tenant_id: String,
    /// `user` or `client`.
    pub owner_kind: String,
    /// The user's object id or the client id.
    pub owner_id: String,
    pub name: String,
    /// SHA-256 (hex) of the whole key.
    pub key_hash: String,
    /// JSON list: the roles the key may carry (of those its owner has).
    pub roles: String,
    /// JSON list: the delegated permissions a user's key may carry.
    pub scopes: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

pub const OWNER_USER: &str = "user";
pub const OWNER_CLIENT: &str = "client";

impl ApiKey {
    pub fn role_list(&self) -> DbResult<Vec<String>> {
        decode_list(&self.roles)
    }

    pub fn scope_list(&self) -> DbResult<Vec<String>> {
        decode_list(&self.scopes)
    }

    pub fn is_expired(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|e| e <= now)
    }
}

pub fn insert(conn: &mut DbConnection, key: &ApiKey) -> DbResult<()> {
    diesel::insert_into(api_keys::table)
        .values(key)
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConnection, id: &str) -> DbResult<Option<ApiKey>> {
    Ok(api_keys::table
        .find(id)
        .select(ApiKey::as_select())
        .get_result(conn)
        .optional()?)
}

/// The tenant's keys, or one owner's, oldest first.
pub fn list(
    conn: &mut DbConnection,
    tenant_id: &str,
    owner: Option<(&str, &str)>,
) -> DbResult<Vec<ApiKey>> {
    let mut query = api_keys::table
        .filter(api_keys::tenant_id.eq(tenant_id))
        .into_boxed();
    if let Some((kind, id)) = owner {
        query = query
            .filter(api_keys::owner_kind.eq(kind.to_owned()))
            .filter(api_keys::owner_id.eq(id.to_owned()));
    }
    Ok(query
        .order((api_keys::created_at.asc(), api_keys::id.asc()))
        .select(ApiKey::as_select())
        .load(conn)?)
}

/// Revokes the key (idempotent: a revoked key keeps its first revocation time).
pub fn revoke(conn: &mut DbConnection, id: &str, now: i64) -> DbResult<()> {
    if find(conn, id)?.is_none() {
        return Err(DbError::NotFound);
    }
    diesel::update(
        api_keys::table
            .find(id)
            .filter(api_keys::revoked_at.is_null()),
    )
    .set(api_keys::revoked_at.eq(now))
    .execute(conn)?;
    Ok(())
}

/// Records a use unless one was recorded in the last [`LAST_USED_RESOLUTION`]
/// seconds; the condition makes concurrent replicas write once between them.
pub fn touch(conn: &mut DbConnection, id: &str, now: i64) -> DbResult<()> {
    diesel::update(
        api_keys::table.find(id).filter(
            api_keys::last_used_at
                .is_null()
                .or(api_keys::last_used_at.le(now - LAST_USED_RESOLUTION)),
        ),
    )
    .set(api_keys::last_used_at.eq(now))
    .execute(conn)?;
    Ok(())
}
