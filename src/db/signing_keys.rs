use diesel::prelude::*;

use super::schema::signing_keys;
use super::{DbConnection, DbResult};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = signing_keys)]
pub struct SigningKeyRow {
    pub kid: String,
    /// PKCS#8 PEM when keys live in the database; `None` when it is in `keys/{kid}.pem`.
    pub private_key_pem: Option<String>,
    pub created_at: i64,
    pub retired_at: Option<i64>,
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
