use diesel::prelude::*;

use super::schema::signing_keys;
use super::{DbConnection, DbResult};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = signing_keys)]
pub struct SigningKeyRow {
    pub kid: String,
    /// When keys live in the database: the PKCS#8 PEM, or with a key-encryption key
    /// its `localidp-kek-v1:` envelope ([`crate::crypto::kek`]); `None` when the key
    /// is in `keys/{kid}.pem`.
    pub private_key_pem: Option<String>,
    pub created_at: i64,
    pub retired_at: Option<i64>,
    /// A key published ahead of its use signs from this time on; `None`: since
    /// `created_at`.
    pub activates_at: Option<i64>,
}

impl SigningKeyRow {
    /// When the key started (or starts) to sign.
    pub fn signs_from(&self) -> i64 {
        self.activates_at.unwrap_or(self.created_at)
    }
}

pub fn insert(conn: &mut DbConnection, row: &SigningKeyRow) -> DbResult<()> {
    diesel::insert_into(signing_keys::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Keys that may still verify a live token: never retired, or retired after `since`.
pub fn live(conn: &mut DbConnection, since: i64) -> DbResult<Vec<SigningKeyRow>> {
    Ok(signing_keys::table
        .filter(
            signing_keys::retired_at
                .is_null()
                .or(signing_keys::retired_at.gt(since)),
        )
        .order((signing_keys::created_at.desc(), signing_keys::kid.desc()))
        .select(SigningKeyRow::as_select())
        .load(conn)?)
}

pub fn all(conn: &mut DbConnection) -> DbResult<Vec<SigningKeyRow>> {
    Ok(signing_keys::table
        .order((signing_keys::created_at.desc(), signing_keys::kid.desc()))
        .select(SigningKeyRow::as_select())
        .load(conn)?)
}

/// Retires every active key except `keep`.
pub fn retire_others(conn: &mut DbConnection, keep: &str, now: i64) -> DbResult<usize> {
    Ok(diesel::update(
        signing_keys::table
            .filter(signing_keys::kid.ne(keep))
            .filter(signing_keys::retired_at.is_null()),
    )
    .set(signing_keys::retired_at.eq(now))
    .execute(conn)?)
}

/// Retires these keys (those a newer key took over from) unless already retired.
pub fn retire(conn: &mut DbConnection, kids: &[String], now: i64) -> DbResult<usize> {
    Ok(diesel::update(
        signing_keys::table
            .filter(signing_keys::kid.eq_any(kids))
            .filter(signing_keys::retired_at.is_null()),
    )
    .set(signing_keys::retired_at.eq(now))
    .execute(conn)?)
}

/// Replaces a stored private key (re-encrypted) when it is still `was`.
pub fn replace_private_key(
    conn: &mut DbConnection,
    kid: &str,
    was: &str,
    now_stored: &str,
) -> DbResult<usize> {
    Ok(diesel::update(
        signing_keys::table
            .filter(signing_keys::kid.eq(kid))
            .filter(signing_keys::private_key_pem.eq(was)),
    )
    .set(signing_keys::private_key_pem.eq(now_stored))
    .execute(conn)?)
}

/// Serialises key rotation between replicas for the rest of the transaction: on
/// PostgreSQL a transaction-scoped advisory lock; SQLite's write transaction
/// (`BEGIN IMMEDIATE`, [`super::write_tx`]) already admits one writer at a time.
pub fn lock_for_rotation(conn: &mut DbConnection) -> DbResult<()> {
    use diesel::connection::SimpleConnection;
    if let DbConnection::Postgresql(c) = conn {
        // 0x6b657973 = "keys": one lock id for localidp's key rotation.
        c.batch_execute("SELECT pg_advisory_xact_lock(1801812339)")?;
    }
    Ok(())
}
