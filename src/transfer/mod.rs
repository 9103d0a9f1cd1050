//! Moving a whole directory between databases: `export` to a versioned JSON Lines
//! file, `import` from one, and `migrate`, an export streamed into an import through
//! a pipe (no file in between). Blocking: call from a blocking thread.

mod error;
mod export;
pub mod format;
mod import;

pub use error::TransferError;
pub use export::{ExportReport, export};
pub use import::{ImportObserver, ImportReport, Refused, import};

use std::io::{BufReader, BufWriter};
use std::path::PathBuf;

use crate::db::{DbConnection, DbPool};

/// Rows per transaction on import.
pub const BATCH_ROWS: usize = 1000;

/// Exports `source` (on a thread of its own) into an import into `target`.
pub fn migrate(
    source: DbPool,
    keys_dir: PathBuf,
    now: i64,
    target: &mut DbConnection,
    batch_rows: usize,
    observer: &mut dyn ImportObserver,
) -> Result<(ExportReport, ImportReport), TransferError> {
    let (reader, writer) = std::io::pipe()?;
    let exporter = std::thread::spawn(move || {
        let mut conn = source.get().map_err(crate::db::DbError::from)?;
        let mut out = BufWriter::with_capacity(1 << 16, writer);
        export(&mut conn, &keys_dir, now, &mut out)
    });
    let imported = {
        // Dropped before the join: an import that stops early ends the export's writes.
        let mut input = BufReader::with_capacity(1 << 16, reader);
        import(target, &mut input, batch_rows, observer)
    };
    let exported = exporter
        .join()
        .map_err(|_| TransferError::Invalid("the export thread panicked".into()))?;
    match (exported, imported) {
        (Ok(exported), Ok(imported)) => Ok((exported, imported)),
        // The import stopped first, and the export met the closed pipe.
        (Err(TransferError::Io(e)), Err(imported))
            if e.kind() == std::io::ErrorKind::BrokenPipe =>
        {
            Err(imported)
        }
        // The export's own error says more than the import's view of a cut-off stream.
        (Err(exported), _) => Err(exported),
        (Ok(_), Err(imported)) => Err(imported),
    }
}
