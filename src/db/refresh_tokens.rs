//! Rotating refresh tokens (RFC 6749 §10.4, OAuth 2.0 Security BCP §4.14): each use
//! yields a new token of the same family; presenting a used one revokes the family.

use diesel::prelude::*;

use super::schema::{refresh_tokens, users};
use super::users::User;
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

/// The token with this hash and its user (`None` when the user no longer exists), in
/// one statement: the refresh grant reads both for every rotation.
pub fn find_with_user(
    conn: &mut DbConnection,
    token_hash: &str,
) -> DbResult<Option<(RefreshToken, Option<User>)>> {
    Ok(refresh_tokens::table
        .left_join(users::table.on(users::id.eq(refresh_tokens::user_id)))
        .filter(refresh_tokens::token_hash.eq(token_hash))
        .select((RefreshToken::as_select(), Option::<User>::as_select()))
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

/// PostgreSQL: spends the token and stores its successor in one statement (a
/// data-modifying `WITH`), committed on its own: the successor is written only when
/// this call spent the token, and both or neither are durable. `Ok(None)` on SQLite
/// (no DML in a `WITH` there: the caller's transaction does it), `Ok(Some(false))` when
/// the token was already spent or revoked (the caller then decides on a retry).
/// Outside a transaction only: nothing else is written in this round trip.
pub fn spend_and_store(
    conn: &mut DbConnection,
    spent_id: &str,
    now: i64,
    successor: &RefreshToken,
) -> DbResult<Option<bool>> {
    let DbConnection::Postgresql(pg) = conn else {
        return Ok(None);
    };
    let n = SpendAndStore {
        spent_id,
        now,
        successor,
    }
    .execute(pg)?;
    Ok(Some(n == 1))
}

/// The statement of [`spend_and_store`], written as a diesel query of its own (not
/// `sql_query`) so that diesel prepares it once per connection: its text never changes.
struct SpendAndStore<'a> {
    spent_id: &'a str,
    now: i64,
    successor: &'a RefreshToken,
}

impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for SpendAndStore<'_> {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> QueryResult<()> {
        use diesel::sql_types::{BigInt, Nullable, Text};
        let t = self.successor;
        out.push_sql("WITH spent AS (UPDATE refresh_tokens SET used_at = ");
        out.push_bind_param::<BigInt, _>(&self.now)?;
        out.push_sql(" WHERE id = ");
        out.push_bind_param::<Text, _>(self.spent_id)?;
        out.push_sql(
            " AND used_at IS NULL AND revoked_at IS NULL RETURNING id) \
             INSERT INTO refresh_tokens (id, token_hash, family_id, tenant_id, user_id, \
             client_id, scope, created_at, expires_at, used_at, revoked_at, policy, auth_time, \
             access_token_jti, access_token_expires_at, parent_id, family_expires_at) SELECT ",
        );
        for (i, text) in [
            &t.id,
            &t.token_hash,
            &t.family_id,
            &t.tenant_id,
            &t.user_id,
            &t.client_id,
            &t.scope,
        ]
        .into_iter()
        .enumerate()
        {
            if i > 0 {
                out.push_sql(", ");
            }
            out.push_bind_param::<Text, _>(text)?;
        }
        out.push_sql(", ");
        out.push_bind_param::<BigInt, _>(&t.created_at)?;
        out.push_sql(", ");
        out.push_bind_param::<BigInt, _>(&t.expires_at)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<BigInt>, _>(&t.used_at)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<BigInt>, _>(&t.revoked_at)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&t.policy)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<BigInt>, _>(&t.auth_time)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&t.access_token_jti)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<BigInt>, _>(&t.access_token_expires_at)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&t.parent_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<BigInt>, _>(&t.family_expires_at)?;
        out.push_sql(" FROM spent");
        Ok(())
    }
}

/// Its statement-cache key: one type, one statement text.
struct SpendAndStoreId;

impl diesel::query_builder::QueryId for SpendAndStore<'_> {
    type QueryId = SpendAndStoreId;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl diesel::RunQueryDsl<diesel::PgConnection> for SpendAndStore<'_> {}

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
