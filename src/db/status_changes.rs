//! The token status log: one row per change that makes issued access tokens
//! unacceptable — a token revoked (put on the deny list), a user disabled, enabled
//! again or deleted — written in the transaction of the change. Every server keeps the
//! resulting state in memory and reads the rows it has not seen yet (`oauth::status`).

use diesel::prelude::*;

use super::schema::{revoked_access_tokens, status_changes};
use super::{DbConnection, DbResult};

/// What a row says happened to its subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusKind {
    /// An access token (subject: its `jti`) is on the deny list until `expires_at`.
    TokenRevoked,
    /// A user (subject: their id) was disabled: their tokens are refused.
    UserDisabled,
    /// A user was enabled again, or an id that was deleted belongs to a user again.
    UserEnabled,
    /// A user was deleted: their tokens are refused.
    UserDeleted,
    /// A client application (subject: its client id) was deleted: the tokens issued
    /// to it (`azp`) are refused.
    ClientDeleted,
    /// A client id that was deleted belongs to a client again: tokens issued to it
    /// from now on are accepted.
    ClientCreated,
}

impl StatusKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StatusKind::TokenRevoked => "token_revoked",
            StatusKind::UserDisabled => "user_disabled",
            StatusKind::UserEnabled => "user_enabled",
            StatusKind::UserDeleted => "user_deleted",
            StatusKind::ClientDeleted => "client_deleted",
            StatusKind::ClientCreated => "client_created",
        }
    }

    pub fn parse(s: &str) -> Option<StatusKind> {
        [
            StatusKind::TokenRevoked,
            StatusKind::UserDisabled,
            StatusKind::UserEnabled,
            StatusKind::UserDeleted,
            StatusKind::ClientDeleted,
            StatusKind::ClientCreated,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = status_changes)]
pub struct StatusChange {
    /// Allocated in insertion order; on PostgreSQL, not necessarily committed in it.
    pub id: i64,
    pub kind: String,
    pub subject: String,
    /// When the row stops mattering (a revoked token's `exp`); `None` for user rows,
    /// which matter for one access-token lifetime after `created_at`.
    pub expires_at: Option<i64>,
    pub created_at: i64,
}

pub fn record(
    conn: &mut DbConnection,
    kind: StatusKind,
    subject: &str,
    expires_at: Option<i64>,
    now: i64,
) -> DbResult<()> {
    diesel::insert_into(status_changes::table)
        .values((
            status_changes::kind.eq(kind.as_str()),
            status_changes::subject.eq(subject),
            status_changes::expires_at.eq(expires_at),
            status_changes::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// The rows after id `after`, and the rows with ids in `missing` (ids below `after`
/// that were not visible at an earlier read), in id order.
pub fn read(conn: &mut DbConnection, after: i64, missing: &[i64]) -> DbResult<Vec<StatusChange>> {
    let mut query = status_changes::table
        .filter(status_changes::id.gt(after))
        .into_boxed();
    if !missing.is_empty() {
        query = query.or_filter(status_changes::id.eq_any(missing.to_vec()));
    }
    Ok(query
        .order(status_changes::id.asc())
        .select(StatusChange::as_select())
        .load(conn)?)
}

/// Puts an access token on the deny list (if it is not there yet) and logs it, in one
/// transaction. Safe inside a caller's transaction on PostgreSQL: a duplicate is
/// skipped with `ON CONFLICT DO NOTHING`, not by catching an error that would abort it.
pub fn deny_access_token(
    conn: &mut DbConnection,
    jti: &str,
    expires_at: i64,
    now: i64,
) -> DbResult<()> {
    crate::db::write_tx(conn, |conn| {
        let row = (
            revoked_access_tokens::jti.eq(jti),
            revoked_access_tokens::expires_at.eq(expires_at),
            revoked_access_tokens::revoked_at.eq(now),
        );
        // ON CONFLICT is not available through the multi-backend connection.
        let inserted = match conn {
            DbConnection::Sqlite(c) => diesel::insert_into(revoked_access_tokens::table)
                .values(row)
                .on_conflict_do_nothing()
                .execute(c)?,
            DbConnection::Postgresql(c) => diesel::insert_into(revoked_access_tokens::table)
                .values(row)
                .on_conflict_do_nothing()
                .execute(c)?,
        };
        if inserted > 0 {
            record(conn, StatusKind::TokenRevoked, jti, Some(expires_at), now)?;
        }
        Ok(())
    })
}

/// Users created with an id that belonged to a deleted user: their tokens are the new
/// user's, so the deletion must no longer refuse them. Call before inserting them.
pub fn users_recreated(conn: &mut DbConnection, ids: &[&str], now: i64) -> DbResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut deleted = std::collections::HashSet::new();
    for part in ids.chunks(500) {
        deleted.extend(
            status_changes::table
                .filter(status_changes::kind.eq(StatusKind::UserDeleted.as_str()))
                .filter(status_changes::subject.eq_any(part))
                .select(status_changes::subject)
                .load::<String>(conn)?,
        );
    }
    for id in ids.iter().filter(|id| deleted.contains(**id)) {
        record(conn, StatusKind::UserEnabled, id, None, now)?;
    }
    Ok(())
}

/// Drops rows that no longer matter: token rows whose `expires_at` is before
/// `tokens_before`, user rows created before `users_before`.
pub fn purge(conn: &mut DbConnection, tokens_before: i64, users_before: i64) -> DbResult<usize> {
    Ok(diesel::delete(
        status_changes::table.filter(
            status_changes::expires_at
                .lt(tokens_before)
                .or(status_changes::expires_at
                    .is_null()
                    .and(status_changes::created_at.lt(users_before))),
        ),
    )
    .execute(conn)?)
}

/// A client is being created with an id that belonged to a deleted client: tokens
/// issued to the new one must not be refused. Call before inserting it.
pub fn client_recreated(conn: &mut DbConnection, client_id: &str, now: i64) -> DbResult<()> {
    let deleted: i64 = status_changes::table
        .filter(status_changes::kind.eq(StatusKind::ClientDeleted.as_str()))
        .filter(status_changes::subject.eq(client_id))
        .count()
        .get_result(conn)?;
    if deleted > 0 {
        record(conn, StatusKind::ClientCreated, client_id, None, now)?;
    }
    Ok(())
}
