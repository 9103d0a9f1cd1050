//! The start lock: replicas (and admin commands) starting together on one database
//! take turns at the first-start work — migrations, the bootstrap tenant and demo
//! data, the seed, the first signing key — so each sees what the previous one made
//! instead of making it again.
//!
//! PostgreSQL: a session-level advisory lock, held on a connection of its own for
//! as long as the lock lives (closing the connection releases it, even if the process
//! dies). SQLite file: an exclusive `flock` on `{database}.lock` beside the file (SQLite
//! itself could only serialise this with one write transaction, and a migration that
//! rebuilds a table has to manage its own). In-memory SQLite: nothing to share.

use std::fs::File;
use std::path::PathBuf;

use diesel::Connection;
use diesel::connection::SimpleConnection;

/// Advisory lock key: "localidp start" (any constant the replicas agree on).
const ADVISORY_KEY: i64 = 7_243_517;

/// Held until dropped.
pub struct StartLock {
    _held: Held,
}

enum Held {
    Postgres(diesel::PgConnection),
    /// Kept open: closing it releases the lock.
    File {
        _open: File,
    },
    Nothing,
}

impl StartLock {
    /// Waits until no other session holds the lock of the PostgreSQL database at `url`.
    pub fn postgres(url: &str) -> Result<StartLock, String> {
        let mut conn = diesel::PgConnection::establish(url).map_err(|e| e.to_string())?;
        conn.batch_execute(&format!("SELECT pg_advisory_lock({ADVISORY_KEY});"))
            .map_err(|e| format!("cannot take the start lock: {e}"))?;
        Ok(StartLock {
            _held: Held::Postgres(conn),
        })
    }

    /// Waits until no other process (or other open in this one) holds the lock file of
    /// the SQLite database at `path`.
    pub fn sqlite_file(path: &str) -> Result<StartLock, String> {
        let held = match lock_path(path) {
            Some(path) => Held::File {
                _open: lock_file(path)?,
            },
            None => Held::Nothing,
        };
        Ok(StartLock { _held: held })
    }

    /// Nothing to take turns at (a private in-memory database).
    pub fn none() -> StartLock {
        StartLock {
            _held: Held::Nothing,
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Held::Postgres(conn) = self {
            // Closing the connection right after releases it anyway.
            let _ = conn.batch_execute(&format!("SELECT pg_advisory_unlock({ADVISORY_KEY});"));
        }
    }
}

/// `{database}.lock`; for a `file:` URI, beside the file it names.
fn lock_path(database: &str) -> Option<PathBuf> {
    let file = match database.strip_prefix("file:") {
        Some(uri) => uri.split('?').next().unwrap_or_default(),
        None => database,
    };
    (!file.is_empty()).then(|| PathBuf::from(format!("{file}.lock")))
}

fn lock_file(path: PathBuf) -> Result<File, String> {
    let failed = |e: std::io::Error| format!("cannot lock {}: {e}", path.display());
    let mut options = std::fs::OpenOptions::new();
    options.create(true).truncate(false).write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(&path).map_err(failed)?;
    crate::sys::lock_exclusive(&file).map_err(failed)?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::lock_path;
    use std::path::PathBuf;

    #[test]
    fn the_lock_file_sits_beside_the_database() {
        assert_eq!(
            lock_path("data/localidp.db"),
            Some(PathBuf::from("data/localidp.db.lock"))
        );
        assert_eq!(
            lock_path("file:/tmp/x.db?mode=rwc"),
            Some(PathBuf::from("/tmp/x.db.lock"))
        );
        assert_eq!(lock_path("file:?mode=memory"), None);
    }
}
