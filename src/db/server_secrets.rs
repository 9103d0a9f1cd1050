//! Keys the server makes for itself (the CSRF MAC key), shared by replicas through
//! the database. Unlike user secrets these must be readable, so they are not hashed.

use diesel::prelude::*;

use super::schema::server_secrets;
use super::{DbConnection, DbError, DbResult};

/// The secret called `name`, created from `fresh` by the first caller to ask.
pub fn get_or_create(
    conn: &mut DbConnection,
    name: &str,
    fresh: &str,
    now: i64,
) -> DbResult<String> {
    diesel::insert_into(server_secrets::table)
        .values((
            server_secrets::name.eq(name),
            server_secrets::secret.eq(fresh),
            server_secrets::created_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
        .or_else(ignore_conflict)?;
    Ok(server_secrets::table
        .find(name)
        .select(server_secrets::secret)
        .get_result(conn)?)
}

/// A concurrent writer got there first: the row we wanted exists.
fn ignore_conflict(e: diesel::result::Error) -> DbResult<()> {
    match DbError::from(e) {
        DbError::Conflict(_) => Ok(()),
        other => Err(other),
    }
}
