//! Rotating refresh tokens (RFC 6749 §10.4, OAuth 2.0 Security BCP §4.14): each use
//! yields a new token of the same family; presenting a used one revokes the family.

use diesel::prelude::*;

use super::schema::refresh_tokens;
use super::{DbConnection, DbResult};
use crate::clock::MAX_CLOCK_SKEW;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshToken {
    pub id: String,
    pub token_hash: String,
    pub family_id: String,
    pub tenant_id: String,
    pub user_id: String,
    pub client_id: String,
    pub scope: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub revoked_at: Option<i64>,
    /// The B2C user flow it was issued under; `None` for Entra and `/auth/*`.
    pub policy: Option<String>,
    /// When the user signed in (OIDC `auth_time`), carried across rotations.
    pub auth_time: Option<i64>,
    /// The access token issued together with this refresh token (its `jti` and `exp`),
    /// put on the deny list when the family is revoked.
    pub access_token_jti: Option<String>,
    pub access_token_expires_at: Option<i64>,
    /// The token this one was rotated from; `None` for the first of a family.
    pub parent_id: Option<String>,
    /// Set for a family that does not slide (issued to a SPA redirect URI): every
    /// token of the family expires then, however often it is rotated.
    pub family_expires_at: Option<i64>,
}

/// Stores a token. A token of an existing family that does not slide keeps the
/// family's expiry, whoever mints it (Entra's 24-hour SPA refresh tokens).
pub fn insert(conn: &mut DbConnection, token: &RefreshToken) -> DbResult<()> {
    let mut token = token.clone();
    if token.family_expires_at.is_none()
        && let Some(fixed) = family_expiry(conn, &token.family_id)?
    {
        token.expires_at = token.expires_at.min(fixed);
        token.family_expires_at = Some(fixed);
    }
    insert_successor(conn, &token)
}

/// Stores a rotation's successor, whose family fields its caller took from the parent:
/// no look-up of the family.
pub fn insert_successor(conn: &mut DbConnection, token: &RefreshToken) -> DbResult<()> {
    diesel::insert_into(refresh_tokens::table)
        .values(token)
        .execute(conn)?;
    Ok(())
}

/// The fixed expiry of a family that does not slide, if it is one. Every token of such
/// a family carries it (each is stored through [`insert`] or [`insert_successor`]), so
/// one row tells: the look-up does not grow with the family, which gains a row per
/// rotation.
fn family_expiry(conn: &mut DbConnection, family_id: &str) -> DbResult<Option<i64>> {
    Ok(refresh_tokens::table
        .filter(refresh_tokens::family_id.eq(family_id))
        .select(refresh_tokens::family_expires_at)
        .get_result::<Option<i64>>(conn)
        .optional()?
        .flatten())
}

pub fn find_by_hash(conn: &mut DbConnection, token_hash: &str) -> DbResult<Option<RefreshToken>> {
    Ok(refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(token_hash))
        .select(RefreshToken::as_select())
        .get_result(conn)
        .optional()?)
}

/// Marks the token used if nobody has yet; true for the single caller that won.
pub fn claim(conn: &mut DbConnection, id: &str, now: i64) -> DbResult<bool> {
    let n = diesel::update(
        refresh_tokens::table
            .find(id)
            .filter(refresh_tokens::used_at.is_null())
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::used_at.eq(now))
    .execute(conn)?;
    Ok(n == 1)
}

/// A retry of a rotation (the refresh retry grace): true when the token was spent
/// after `used_after`, is not revoked, and no successor of it has been used — then
/// the client never received what the rotation issued, or is a second tab of the
/// same client. The UPDATE changes nothing but takes the row's lock, so a concurrent
/// revocation of the family is ordered before or after this retry.
pub fn claim_retry(
    conn: &mut DbConnection,
    token: &RefreshToken,
    used_after: i64,
) -> DbResult<bool> {
    let n = diesel::update(
        refresh_tokens::table
            .find(&token.id)
            .filter(refresh_tokens::used_at.gt(used_after))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::used_at.eq(refresh_tokens::used_at))
    .execute(conn)?;
    if n != 1 {
        return Ok(false);
    }
    let successors_used: i64 = refresh_tokens::table
        .filter(refresh_tokens::family_id.eq(&token.family_id))
        .filter(refresh_tokens::parent_id.eq(&token.id))
        .filter(refresh_tokens::used_at.is_not_null())
        .count()
        .get_result(conn)?;
    Ok(successors_used == 0)
}

/// Revokes every refresh token of the family and puts the access tokens issued with
/// them that may still be accepted somewhere (up to the largest clock-skew allowance
/// past their `exp`) on the deny list, in one transaction. Only the rows this call
/// revoked are listed: a concurrent revocation of the same family waits on their row
/// locks and then finds nothing left to revoke, so the two never insert the same
/// deny-list entries in different orders.
pub fn revoke_family(conn: &mut DbConnection, family_id: &str, now: i64) -> DbResult<usize> {
    crate::db::write_tx(conn, |conn| {
        let revoked: Vec<(Option<String>, Option<i64>)> = diesel::update(
            refresh_tokens::table
                .filter(refresh_tokens::family_id.eq(family_id))
                .filter(refresh_tokens::revoked_at.is_null()),
        )
        .set(refresh_tokens::revoked_at.eq(now))
        .returning((
            refresh_tokens::access_token_jti,
            refresh_tokens::access_token_expires_at,
        ))
        .get_results(conn)?;
        for (jti, exp) in &revoked {
            if let (Some(jti), Some(exp)) = (jti, exp)
                && *exp >= now - MAX_CLOCK_SKEW
            {
                super::status_changes::deny_access_token(conn, jti, *exp, now)?;
            }
        }
        Ok(revoked.len())
    })
}

/// Drops rows that can no longer be redeemed; run occasionally.
pub fn purge_expired(conn: &mut DbConnection, now: i64) -> DbResult<usize> {
    Ok(
        diesel::delete(refresh_tokens::table.filter(refresh_tokens::expires_at.lt(now)))
            .execute(conn)?,
    )
}

/// Revokes every refresh token of the user that is not revoked yet (Graph's
/// `revokeSignInSessions`); their access tokens run out on their own, as in Entra.
pub fn revoke_user(conn: &mut DbConnection, user_id: &str, now: i64) -> DbResult<usize> {
    Ok(diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::user_id.eq(user_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(conn)?)
}
