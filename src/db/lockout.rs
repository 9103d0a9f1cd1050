//! The sign-in protection columns of `users`: smart lockout's counters, changed only by
//! conditional UPDATEs so that replicas sharing the database count together; and one
//! stored hash of each kind, to calibrate the even timing of failed sign-ins with.

use diesel::prelude::*;
use diesel::sql_types::Text;

use super::schema::users;
use super::{DbConnection, DbResult};

/// Where an account stands with smart lockout.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Queryable)]
pub struct LockoutState {
    /// Wrong passwords since the last success or lock.
    pub failed_sign_ins: i32,
    /// The end of the current lock, or of the last one (unix seconds).
    pub locked_until: Option<i64>,
    /// Locks in a row so far (the next one lasts longer).
    pub lockouts: i32,
}

impl LockoutState {
    pub fn is_locked(&self, now: i64) -> bool {
        self.locked_until.is_some_and(|until| until > now)
    }
}

type Columns = (users::failed_sign_ins, users::locked_until, users::lockouts);
const COLUMNS: Columns = (users::failed_sign_ins, users::locked_until, users::lockouts);

pub fn state(conn: &mut DbConnection, user_id: &str) -> DbResult<Option<LockoutState>> {
    Ok(users::table
        .find(user_id)
        .select(COLUMNS)
        .get_result(conn)
        .optional()?)
}

/// Not locked at `now` (never locked, or the lock has run out).
fn unlocked_at(
    now: i64,
) -> diesel::dsl::Or<
    diesel::dsl::IsNull<users::locked_until>,
    diesel::dsl::LtEq<users::locked_until, i64>,
> {
    users::locked_until
        .is_null()
        .or(users::locked_until.le(now))
}

/// Counts a wrong password, unless the account is locked at `now`: the state after
/// counting, or `None` when it was locked meanwhile (or is gone).
pub fn count_failure(
    conn: &mut DbConnection,
    user_id: &str,
    now: i64,
) -> DbResult<Option<LockoutState>> {
    Ok(
        diesel::update(users::table.find(user_id).filter(unlocked_at(now)))
            .set(users::failed_sign_ins.eq(users::failed_sign_ins + 1))
            .returning(COLUMNS)
            .get_result(conn)
            .optional()?,
    )
}

/// Locks the account until `until` as lock number `lockouts` in a row, if its counters
/// are still those `counted` saw: of concurrent failures past the threshold, the last
/// one counted locks, once. False when another request changed them first.
pub fn lock(
    conn: &mut DbConnection,
    user_id: &str,
    counted: &LockoutState,
    until: i64,
    lockouts: i32,
) -> DbResult<bool> {
    let n = diesel::update(
        users::table
            .find(user_id)
            .filter(users::failed_sign_ins.eq(counted.failed_sign_ins))
            .filter(users::lockouts.eq(counted.lockouts)),
    )
    .set((
        users::locked_until.eq(until),
        users::lockouts.eq(lockouts),
        users::failed_sign_ins.eq(0),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// After a successful sign-in the count of wrong passwords starts again; the locks so
/// far still make the next one longer (see `LockoutPolicy`).
pub fn clear_failures(conn: &mut DbConnection, user_id: &str) -> DbResult<()> {
    diesel::update(users::table.find(user_id))
        .set(users::failed_sign_ins.eq(0))
        .execute(conn)?;
    Ok(())
}

/// An administrator's unlock: no lock, no count, no growth. Returns the state before.
pub fn unlock(conn: &mut DbConnection, user_id: &str) -> DbResult<Option<LockoutState>> {
    crate::db::write_tx(conn, |conn| {
        let before = state(conn, user_id)?;
        diesel::update(users::table.find(user_id))
            .set((
                users::failed_sign_ins.eq(0),
                users::locked_until.eq(None::<i64>),
                users::lockouts.eq(0),
            ))
            .execute(conn)?;
        Ok(before)
    })
}

#[derive(QueryableByName)]
struct Example {
    #[diesel(sql_type = Text)]
    example: String,
}

/// Groups stored hashes by kind without parsing each one in Rust: bcrypt by its
/// `$2b$12$` prefix, PHC strings (argon2) by what is left once the trailing hash and
/// salt (base64, or bcrypt's alphabet with '.') are trimmed off. Both backends have `substr` and `rtrim(text, chars)`.
const HASH_KINDS: &str = "SELECT MIN(password_hash) AS example FROM users \
     WHERE password_hash IS NOT NULL \
     GROUP BY CASE WHEN password_hash LIKE '$2%' THEN substr(password_hash, 1, 7) \
     ELSE rtrim(rtrim(rtrim(password_hash, \
     'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/.'), '$'), \
     'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/.') END \
     LIMIT 64";

/// One stored password hash of each kind (algorithm and cost) in the database: a
/// scan of `users`, run at start and hourly, not per request.
pub fn hash_kind_examples(conn: &mut DbConnection) -> DbResult<Vec<String>> {
    let rows: Vec<Example> = match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(HASH_KINDS).load(c)?,
        DbConnection::Postgresql(c) => diesel::sql_query(HASH_KINDS).load(c)?,
    };
    Ok(rows.into_iter().map(|r| r.example).collect())
}
