//! Server-side SSO sessions: the browser holds a random id, the table its SHA-256,
//! with an idle and an absolute expiry.

use diesel::prelude::*;

use super::schema::sso_sessions;
use super::{DbConnection, DbResult};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sso_sessions)]
pub struct SsoSession {
    pub id: String,
    pub token_hash: String,
    pub tenant_id: String,
    pub user_id: String,
    /// When the user last typed their password (OIDC `auth_time`).
    pub auth_time: i64,
    pub created_at: i64,
    pub last_seen_at: i64,
    /// Absolute end, whatever the activity.
    pub expires_at: i64,
    pub ended_at: Option<i64>,
}

pub fn insert(conn: &mut DbConnection, session: &SsoSession) -> DbResult<()> {
    diesel::insert_into(sso_sessions::table)
        .values(session)
        .execute(conn)?;
    Ok(())
}

pub fn find_by_hash(conn: &mut DbConnection, token_hash: &str) -> DbResult<Option<SsoSession>> {
    Ok(sso_sessions::table
        .filter(sso_sessions::token_hash.eq(token_hash))
        .select(SsoSession::as_select())
        .get_result(conn)
        .optional()?)
}

/// Records activity, which pushes the idle expiry back.
pub fn touch(conn: &mut DbConnection, id: &str, now: i64) -> DbResult<()> {
    diesel::update(sso_sessions::table.find(id))
        .set(sso_sessions::last_seen_at.eq(now))
        .execute(conn)?;
    Ok(())
}

pub fn end(conn: &mut DbConnection, id: &str, now: i64) -> DbResult<bool> {
    let n = diesel::update(
        sso_sessions::table
            .find(id)
            .filter(sso_sessions::ended_at.is_null()),
    )
    .set(sso_sessions::ended_at.eq(now))
    .execute(conn)?;
    Ok(n == 1)
}

/// Drops sessions past their absolute expiry or idle for longer than `idle`.
pub fn purge_expired(conn: &mut DbConnection, now: i64, idle: i64) -> DbResult<usize> {
    Ok(diesel::delete(
        sso_sessions::table.filter(
            sso_sessions::expires_at
                .lt(now)
                .or(sso_sessions::last_seen_at.lt(now - idle))
                .or(sso_sessions::ended_at.is_not_null()),
        ),
    )
    .execute(conn)?)
}

/// Ends every SSO session of the user; returns how many were open.
pub fn end_user(conn: &mut DbConnection, user_id: &str, now: i64) -> DbResult<usize> {
    Ok(diesel::update(
        sso_sessions::table
            .filter(sso_sessions::user_id.eq(user_id))
            .filter(sso_sessions::ended_at.is_null()),
    )
    .set(sso_sessions::ended_at.eq(now))
    .execute(conn)?)
}
