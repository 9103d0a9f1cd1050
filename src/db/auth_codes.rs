//! Authorization codes (RFC 6749 §4.1.2), stored as SHA-256, single use. The row
//! remembers what was issued from it so a replay can revoke it (§4.1.2, §10.5).

use diesel::prelude::*;

use super::schema::{authorization_codes, revoked_access_tokens};
use super::{DbConnection, DbResult};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = authorization_codes)]
pub struct AuthorizationCode {
    pub id: String,
    pub code_hash: String,
    /// The client fixes the tenant.
    pub client_id: String,
    pub user_id: String,
    pub session_id: Option<String>,
    pub redirect_uri: String,
    pub scope: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub auth_time: i64,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    /// Refresh tokens issued from this code carry this family, fixed in advance so a
    /// replay racing the first redemption still finds them.
    pub refresh_family_id: String,
    pub access_token_jti: Option<String>,
}

pub fn insert(conn: &mut DbConnection, code: &AuthorizationCode) -> DbResult<()> {
    diesel::insert_into(authorization_codes::table)
        .values(code)
        .execute(conn)?;
    Ok(())
}

pub fn find_by_hash(
    conn: &mut DbConnection,
    code_hash: &str,
) -> DbResult<Option<AuthorizationCode>> {
    Ok(authorization_codes::table
        .filter(authorization_codes::code_hash.eq(code_hash))
        .select(AuthorizationCode::as_select())
        .get_result(conn)
        .optional()?)
}

/// Marks the code used if nobody has yet; true for the single caller that won.
pub fn claim(conn: &mut DbConnection, id: &str, now: i64) -> DbResult<bool> {
    let n = diesel::update(
        authorization_codes::table
            .find(id)
            .filter(authorization_codes::used_at.is_null()),
    )
    .set(authorization_codes::used_at.eq(now))
    .execute(conn)?;
    Ok(n == 1)
}

/// Remembers the access token issued from the code, to revoke it on a replay.
pub fn record_access_token(conn: &mut DbConnection, id: &str, jti: &str) -> DbResult<()> {
    diesel::update(authorization_codes::table.find(id))
        .set(authorization_codes::access_token_jti.eq(jti))
        .execute(conn)?;
    Ok(())
}

/// Refresh token families issued from codes of one SSO session (ended at logout).
pub fn refresh_families_of_session(
    conn: &mut DbConnection,
    session_id: &str,
) -> DbResult<Vec<String>> {
    Ok(authorization_codes::table
        .filter(authorization_codes::session_id.eq(session_id))
        .filter(authorization_codes::used_at.is_not_null())
        .select(authorization_codes::refresh_family_id)
        .load(conn)?)
}

pub fn purge_expired(conn: &mut DbConnection, before: i64) -> DbResult<usize> {
    Ok(diesel::delete(
        authorization_codes::table.filter(authorization_codes::expires_at.lt(before)),
    )
    .execute(conn)?)
}

/// Adds an access token id to the deny list, logged for every server's token status.
pub fn revoke_access_token(
    conn: &mut DbConnection,
    jti: &str,
    expires_at: i64,
    now: i64,
) -> DbResult<()> {
    super::status_changes::deny_access_token(conn, jti, expires_at, now)
}

pub fn purge_revoked_access_tokens(conn: &mut DbConnection, now: i64) -> DbResult<usize> {
    Ok(diesel::delete(
        revoked_access_tokens::table.filter(revoked_access_tokens::expires_at.lt(now)),
    )
    .execute(conn)?)
}
