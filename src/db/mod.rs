//! Storage: one diesel schema served by SQLite (embedded default) or PostgreSQL,
//! chosen from the database URL. Every query module takes `&mut DbConnection`.

pub mod api_keys;
pub mod app_role_assignments;
pub mod audit_events;
pub mod auth_codes;
pub mod client_secrets;
pub mod clients;
pub mod directory_roles;
pub mod federation;
pub mod graph_permissions;
pub mod groups;
pub mod import_keys;
pub mod lockout;
mod pool_events;
pub mod profile;
pub mod refresh_tokens;
pub mod schema;
pub mod server_secrets;
pub mod sessions;
pub mod signing_keys;
mod start_lock;
pub mod status_changes;
pub mod tenants;
pub mod transfer;
pub mod user_flows;
pub mod users;

use std::path::Path;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub use pool_events::PoolEvents;
pub use start_lock::StartLock;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

pub type DbPool = Pool<ConnectionManager<DbConnection>>;
pub type PooledDb = PooledConnection<ConnectionManager<DbConnection>>;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("{0} already exists")]
    Conflict(String),
    #[error("not found")]
    NotFound,
    #[error("database error: {0}")]
    Query(DieselError),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
}

impl From<DieselError> for DbError {
    fn from(e: DieselError) -> Self {
        match e {
            DieselError::NotFound => DbError::NotFound,
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                DbError::Conflict(info.message().to_owned())
            }
            DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                DbError::Unavailable(info.message().to_owned())
            }
            other => DbError::Query(other),
        }
    }
}

impl From<r2d2::Error> for DbError {
    fn from(e: r2d2::Error) -> Self {
        DbError::Unavailable(e.to_string())
    }
}

pub type DbResult<T> = Result<T, DbError>;

/// Where the data lives, parsed once from the configured URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseTarget {
    Postgres(String),
    SqliteFile(String),
    /// A private in-memory database (`serve --ephemeral`): nothing touches the disk.
    SqliteMemory,
}

impl DatabaseTarget {
    pub fn parse(url: &str) -> Self {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return DatabaseTarget::Postgres(url.to_owned());
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        if path == ":memory:" {
            DatabaseTarget::SqliteMemory
        } else {
            DatabaseTarget::SqliteFile(path.to_owned())
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, DatabaseTarget::Postgres(_))
    }
}

#[derive(Debug)]
struct SqlitePragmas;

impl CustomizeConnection<DbConnection, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut DbConnection) -> Result<(), diesel::r2d2::Error> {
        if let DbConnection::Sqlite(c) = conn {
            c.batch_execute(
                "PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
            )
            .map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

/// Opens the pool and applies pending migrations (under the [`StartLock`]).
pub fn connect(target: &DatabaseTarget, max_size: u32) -> DbResult<DbPool> {
    let pool = open(target, max_size)?;
    let _start = start_lock(target)?;
    migrate(&mut *pool.get()?)?;
    Ok(pool)
}

/// Waits for, then takes, the lock that processes starting on `target` take turns at
/// first-start work with (see `start_lock.rs`).
pub fn start_lock(target: &DatabaseTarget) -> DbResult<StartLock> {
    match target {
        DatabaseTarget::Postgres(url) => StartLock::postgres(url),
        DatabaseTarget::SqliteFile(path) => StartLock::sqlite_file(path),
        DatabaseTarget::SqliteMemory => Ok(StartLock::none()),
    }
    .map_err(DbError::Unavailable)
}

/// Opens the pool; migrations are the caller's, under the [`StartLock`].
pub fn open(target: &DatabaseTarget, max_size: u32) -> DbResult<DbPool> {
    open_observed(target, max_size, PoolEvents::default())
}

/// [`open`], with every checkout's wait recorded in `events`.
pub fn open_observed(
    target: &DatabaseTarget,
    max_size: u32,
    events: PoolEvents,
) -> DbResult<DbPool> {
    let (url, max_size) = match target {
        DatabaseTarget::Postgres(url) => (url.clone(), max_size),
        DatabaseTarget::SqliteFile(path) => {
            create_private_file(Path::new(path))?;
            (path.clone(), max_size)
        }
        // A named shared-cache memory database lives as long as one connection does;
        // a single pooled connection that never expires keeps it alive and avoids
        // shared-cache table locks.
        DatabaseTarget::SqliteMemory => (
            format!(
                "file:localidp-{}?mode=memory&cache=shared",
                crate::crypto::secrets::uuid_v4()
            ),
            1,
        ),
    };
    let manager = ConnectionManager::<DbConnection>::new(url);
    let mut builder = Pool::builder()
        .max_size(max_size)
        .connection_timeout(Duration::from_secs(5))
        // Checked in `checkout` only after idling: see CHECK_AFTER_IDLE.
        .test_on_check_out(false)
        .connection_customizer(Box::new(SqlitePragmas))
        .event_handler(Box::new(events));
    if matches!(target, DatabaseTarget::SqliteMemory) {
        builder = builder
            .idle_timeout(None)
            .max_lifetime(None)
            .min_idle(Some(1));
    } else {
        builder = builder.min_idle(Some(1));
    }
    Ok(builder.build(manager)?)
}

/// Creates a missing SQLite file (and its folder) with mode 0600 before SQLite opens
/// it: it holds password hashes and server secrets. SQLite gives the `-wal` and `-shm`
/// files it creates the database file's mode. An existing file keeps its mode.
fn create_private_file(path: &Path) -> DbResult<()> {
    let failed = |what: &Path, e: std::io::Error| {
        DbError::Unavailable(format!("cannot create {}: {e}", what.display()))
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| failed(parent, e))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            warn_if_readable_by_others(path);
            Ok(())
        }
        Err(e) => Err(failed(path, e)),
    }
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.is_file()
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(
            path = %path.display(),
            mode = format!("{:o}", meta.permissions().mode() & 0o777),
            "the database file is readable by other users; chmod 600 it"
        );
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}

/// Applies pending migrations. Hold the [`StartLock`]: two processes migrating at
/// once would both try to apply the same migration.
pub fn migrate(conn: &mut DbConnection) -> DbResult<()> {
    let result = match conn {
        DbConnection::Sqlite(c) => {
            // WAL lets readers proceed while one writer commits.
            c.batch_execute("PRAGMA journal_mode = WAL;")?;
            c.run_pending_migrations(SQLITE_MIGRATIONS).map(|_| ())
        }
        DbConnection::Postgresql(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|_| ()),
    };
    result.map_err(|e| DbError::Unavailable(format!("migration failed: {e}")))
}

/// Runs `f` in a write transaction. On SQLite the write lock is taken at `BEGIN`
/// (`BEGIN IMMEDIATE`, waiting up to `busy_timeout` for another writer): a deferred
/// transaction that reads before it writes fails at once with "database is locked"
/// when another connection committed after its first read, and `busy_timeout` cannot
/// help it. On PostgreSQL, and inside another transaction (a savepoint), it is an
/// ordinary transaction.
pub fn write_tx<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<DieselError>,
{
    use diesel::Connection;
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    let DbConnection::Sqlite(sqlite) = conn else {
        return conn.transaction(f);
    };
    if AnsiTransactionManager::transaction_manager_status_mut(sqlite)
        .transaction_depth()?
        .is_some()
    {
        return conn.transaction(f);
    }
    AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?;
    type Manager = <DbConnection as Connection>::TransactionManager;
    match f(conn) {
        Ok(value) => {
            Manager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(error) => match Manager::rollback_transaction(conn) {
            Ok(()) | Err(DieselError::BrokenTransactionManager) => Err(error),
            Err(rollback) => Err(rollback.into()),
        },
    }
}

/// How long a checkout waits while the pool holds no connection at all.
const CHECKOUT_WHEN_DOWN: Duration = Duration::from_millis(250);

/// A connection used successfully within this long is handed out without a check; one
/// idle for longer (or new) answers a `SELECT 1` first. The pool does not check every
/// checkout (`test_on_check_out(false)`): under load that was one more round trip per
/// request on PostgreSQL, two per refresh-token rotation.
const CHECK_AFTER_IDLE: Duration = Duration::from_secs(1);

/// When a pooled connection last did its work without a connection-level error (kept in
/// the pool's per-connection extensions, real monotonic time: a liveness matter, not a
/// business time).
struct LastGood(std::time::Instant);

/// A pooled connection. A healthy pool always holds one (`min_idle`); one that holds
/// none has lost the database (its connections failed their check and new ones fail
/// to connect), so a request waits `CHECKOUT_WHEN_DOWN` for the pool's background
/// reconnection instead of the full `connection_timeout`: a prompt 503.
///
/// A connection idle for more than [`CHECK_AFTER_IDLE`] is checked first; one that fails
/// the check is dropped from the pool and the next one tried (every idle connection at
/// most once), so after an outage dead connections are found here, not by a request.
pub fn checkout(pool: &DbPool) -> DbResult<PooledDb> {
    for _ in 0..=pool.max_size() {
        let mut conn = if pool.state().connections == 0 {
            pool.get_timeout(CHECKOUT_WHEN_DOWN)?
        } else {
            pool.get()?
        };
        let recent = PooledConnection::extensions(&conn)
            .get::<LastGood>()
            .is_some_and(|t| t.0.elapsed() < CHECK_AFTER_IDLE);
        if recent || ping(&mut conn).is_ok() {
            return Ok(conn);
        }
        discard(&mut conn);
    }
    Err(DbError::Unavailable(
        "no pooled database connection passed its check".into(),
    ))
}

/// Runs `f` with a pooled connection on the calling (blocking) thread. After an error
/// the connection is checked, and dropped from the pool when it no longer answers.
pub fn with_conn<T, E, F>(pool: &DbPool, f: F) -> Result<T, E>
where
    E: From<DbError>,
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
{
    let mut conn = checkout(pool)?;
    let result = f(&mut conn);
    settle(&mut conn, result.is_ok());
    result
}

/// Records a connection's use: good, or (after an error that may mean a lost
/// connection) checked with a `SELECT 1` and discarded when that fails too.
fn settle(conn: &mut PooledDb, ok: bool) {
    if ok || ping(conn).is_ok() {
        PooledConnection::extensions_mut(conn).insert(LastGood(std::time::Instant::now()));
    } else {
        discard(conn);
    }
}

/// Errors that say nothing about the connection (a missing row, a constraint, bad
/// stored data): no check needed after them.
fn leaves_connection_sound(error: &DbError) -> bool {
    match error {
        DbError::NotFound | DbError::Conflict(_) | DbError::Corrupt(_) => true,
        DbError::Query(DieselError::DatabaseError(kind, _)) => !matches!(
            kind,
            DatabaseErrorKind::ClosedConnection
                | DatabaseErrorKind::UnableToSendCommand
                | DatabaseErrorKind::Unknown
        ),
        DbError::Query(_) | DbError::Unavailable(_) => false,
    }
}

/// Makes the pool drop this connection when it comes back: r2d2 asks the connection
/// whether it is broken, which diesel answers from its transaction manager.
fn discard(conn: &mut DbConnection) {
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    match conn {
        DbConnection::Postgresql(c) => {
            AnsiTransactionManager::transaction_manager_status_mut(c).set_in_error()
        }
        DbConnection::Sqlite(c) => {
            AnsiTransactionManager::transaction_manager_status_mut(c).set_in_error()
        }
    }
}

/// Runs a diesel closure on a blocking thread with a pooled connection, in the
/// caller's tracing span: never on an actix worker.
pub async fn run<T, F>(pool: &DbPool, f: F) -> DbResult<T>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConnection) -> DbResult<T> + Send + 'static,
{
    let pool = pool.clone();
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || {
        let _entered = span.enter();
        let mut conn = checkout(&pool)?;
        let result = f(&mut conn);
        let ok = match &result {
            Ok(_) => true,
            Err(e) => leaves_connection_sound(e),
        };
        settle(&mut conn, ok);
        result
    })
    .await
    .map_err(|e| DbError::Unavailable(format!("blocking task failed: {e}")))?
}

/// Cheap round trip for `/readyz`.
pub fn ping(conn: &mut DbConnection) -> DbResult<()> {
    conn.batch_execute("SELECT 1")?;
    Ok(())
}

/// JSON-array text columns (redirect URIs, grant types, roles).
pub(crate) fn decode_list(raw: &str) -> DbResult<Vec<String>> {
    serde_json::from_str(raw).map_err(|e| DbError::Corrupt(format!("list column: {e}")))
}

pub(crate) fn encode_list<S: AsRef<str> + serde::Serialize>(items: &[S]) -> String {
    serde_json::to_string(items).expect("a list of strings always serialises")
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::RunQueryDsl;

    fn sqlite_file(dir: &Path) -> DbConnection {
        use diesel::Connection;
        let url = dir.join("t.db").display().to_string();
        let mut conn = DbConnection::establish(&url).unwrap();
        conn.batch_execute("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 50;")
            .unwrap();
        conn
    }

    #[test]
    fn a_write_transaction_holds_the_sqlite_write_lock_from_its_start() {
        let dir = tempfile::tempdir().unwrap();
        let mut a = sqlite_file(dir.path());
        a.batch_execute("CREATE TABLE t (n INTEGER)").unwrap();
        let mut b = sqlite_file(dir.path());
        let result = write_tx(&mut a, |a| {
            // Only a read so far, yet another writer must wait (here: time out).
            a.batch_execute("SELECT count(*) FROM t")?;
            let other = diesel::sql_query("INSERT INTO t VALUES (1)").execute(&mut b);
            assert!(other.is_err(), "the other writer got in: {other:?}");
            // Nested: a savepoint inside the same transaction.
            write_tx(a, |a| a.batch_execute("INSERT INTO t VALUES (2)"))?;
            Ok::<_, DieselError>(())
        });
        result.unwrap();
        diesel::sql_query("INSERT INTO t VALUES (3)")
            .execute(&mut b)
            .expect("the lock is released at commit");
        // A failing closure rolls back.
        let failed = write_tx(&mut a, |a| {
            a.batch_execute("INSERT INTO t VALUES (4)")?;
            Err::<(), _>(DieselError::RollbackTransaction)
        });
        assert!(failed.is_err());
        let rows: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
            "(SELECT count(*) FROM t)",
        ))
        .get_result(&mut a)
        .unwrap();
        assert_eq!(rows, 2);
    }
}
