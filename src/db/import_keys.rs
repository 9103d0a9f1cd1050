//! What a running import has seen, in TEMP tables of the import's own connection:
//! kept out of the process so its memory stays flat however long the file. On SQLite
//! they live in a temporary file (`PRAGMA temp_store = FILE`), not in memory.
//!
//! - `import_users`: each user a written import's rows reached (created, updated or
//!   found there), with the row's line. New users' ids are time-ordered, so this
//!   grows at its end.
//! - `import_keys` (a dry run, which writes no user to find again): a 64-bit hash of
//!   each sign-in name and oid with its first line. Hashes fall anywhere in the
//!   table, so each batch touches pages all over it: slower, used only when needed.

use diesel::QueryableByName;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

diesel::table! {
    /// TEMP: see the module's note.
    import_users (user_id) {
        user_id -> Text,
        line -> BigInt,
    }
}

use super::{DbConnection, DbResult};

/// Keys per statement: the SQL text of a chunk stays well under SQLite's 1,000,000
/// bytes (the keys are written into it as integer literals, never user text).
const CHUNK: usize = 1_000;

/// Makes both tables, empty, for this connection (ones left by an import that
/// failed on this connection are dropped first). On PostgreSQL the connection also
/// plans each statement for its parameters: the cached generic plan of the look-up of
/// existing users, made while the table was small, scanned it (measured: 1,929 rows/s
/// at 50,000 rows, 5,538 with custom plans).
pub fn create(conn: &mut DbConnection) -> DbResult<()> {
    match conn {
        DbConnection::Sqlite(c) => c.batch_execute(
            // temp_store first: changing it drops the connection's temporary tables.
            "PRAGMA temp_store = FILE;
             DROP TABLE IF EXISTS temp.import_keys;
             DROP TABLE IF EXISTS temp.import_users;
             CREATE TEMP TABLE import_keys (hash INTEGER PRIMARY KEY, line INTEGER NOT NULL);
             CREATE TEMP TABLE import_users (user_id TEXT PRIMARY KEY NOT NULL, line INTEGER NOT NULL) WITHOUT ROWID;",
        )?,
        DbConnection::Postgresql(c) => c.batch_execute(
            "SET plan_cache_mode = force_custom_plan;
             DROP TABLE IF EXISTS pg_temp.import_keys;
             DROP TABLE IF EXISTS pg_temp.import_users;
             CREATE TEMP TABLE import_keys (hash BIGINT PRIMARY KEY, line BIGINT NOT NULL);
             CREATE TEMP TABLE import_users (user_id TEXT PRIMARY KEY, line BIGINT NOT NULL);",
        )?,
    }
    Ok(())
}

/// Drops both tables (and, on PostgreSQL, resets the planning).
pub fn drop(conn: &mut DbConnection) -> DbResult<()> {
    let sql = match conn {
        DbConnection::Sqlite(_) => {
            "DROP TABLE IF EXISTS temp.import_keys; DROP TABLE IF EXISTS temp.import_users;"
        }
        DbConnection::Postgresql(_) => {
            "DROP TABLE IF EXISTS pg_temp.import_keys; DROP TABLE IF EXISTS pg_temp.import_users;
             RESET plan_cache_mode;"
        }
    };
    conn.batch_execute(sql)?;
    Ok(())
}

/// The lines of those of these users the import reached already.
pub fn user_lines(conn: &mut DbConnection, ids: &[&str]) -> DbResult<Vec<(String, i64)>> {
    let mut found = Vec::new();
    for part in ids.chunks(500) {
        found.extend(
            import_users::table
                .filter(import_users::user_id.eq_any(part))
                .select((import_users::user_id, import_users::line))
                .load::<(String, i64)>(conn)?,
        );
    }
    Ok(found)
}

/// Records users the import reached, with their rows' lines; the users must be new
/// to the table.
pub fn add_users(conn: &mut DbConnection, users: &[(&str, i64)]) -> DbResult<()> {
    // Two bound parameters a row: well within SQLite's 32,766.
    for part in users.chunks(5_000) {
        let rows: Vec<_> = part
            .iter()
            .map(|(id, line)| (import_users::user_id.eq(*id), import_users::line.eq(*line)))
            .collect();
        let insert = diesel::insert_into(import_users::table).values(&rows);
        match conn {
            DbConnection::Sqlite(c) => insert.execute(c)?,
            DbConnection::Postgresql(c) => insert.execute(c)?,
        };
    }
    Ok(())
}

#[derive(QueryableByName)]
struct Seen {
    #[diesel(sql_type = BigInt)]
    hash: i64,
    #[diesel(sql_type = BigInt)]
    line: i64,
}

/// The hashes of `keys` already there, with their lines.
pub fn lines(conn: &mut DbConnection, keys: &[i64]) -> DbResult<Vec<(i64, i64)>> {
    let mut found = Vec::new();
    for part in keys.chunks(CHUNK) {
        let list = join(part.iter().map(i64::to_string));
        let query = diesel::sql_query(format!(
            "SELECT hash, line FROM import_keys WHERE hash IN ({list})"
        ));
        let seen: Vec<Seen> = match conn {
            DbConnection::Sqlite(c) => query.load(c)?,
            DbConnection::Postgresql(c) => query.load(c)?,
        };
        found.extend(seen.into_iter().map(|s| (s.hash, s.line)));
    }
    Ok(found)
}

/// Adds (key, line) pairs; the keys must be new.
pub fn insert(conn: &mut DbConnection, rows: &[(i64, i64)]) -> DbResult<()> {
    for part in rows.chunks(CHUNK) {
        let values = join(part.iter().map(|(k, l)| format!("({k},{l})")));
        let query = diesel::sql_query(format!(
            "INSERT INTO import_keys (hash, line) VALUES {values}"
        ));
        match conn {
            DbConnection::Sqlite(c) => query.execute(c)?,
            DbConnection::Postgresql(c) => query.execute(c)?,
        };
    }
    Ok(())
}

fn join(items: impl Iterator<Item = String>) -> String {
    items.collect::<Vec<_>>().join(",")
}
