//! `user import`: users from a JSON Lines or CSV file, streamed. Rows are read,
//! checked and written a batch at a time (one transaction each), so memory stays flat
//! however long the file; what is needed to refuse a row that repeats an earlier one
//! is kept in TEMP tables of the import's connection ([`crate::db::import_keys`]).
//! Blocking: call from a blocking thread.

mod batch;
mod candidate;
mod report;
mod rows;

pub use report::{
    ImportObserver, ImportOptions, ImportProgress, ImportReport, OnConflict, RefusedRow, UserUpdate,
};
pub use rows::{FIELDS, Format};

use crate::crypto::password::PasswordHasher;
use crate::db::DbConnection;
use crate::db::tenants::Tenant;
use crate::directory::{DirectoryError, DirectoryResult};
use candidate::{NewIds, SeenKeys, Tenants, prepare};

/// Plain passwords per batch and thread: a batch of them takes a few seconds, so
/// progress is told that often.
const PASSWORDS_PER_THREAD: usize = 32;

/// Imports the file into `tenant` (a row's `tenant` field names another). A row that
/// does not parse or check out is refused with its line and reason and the rest goes
/// on; a row whose user exists is skipped, updated, or stops the import
/// ([`OnConflict`]). With `dry_run` nothing is written.
pub fn import_users(
    conn: &mut DbConnection,
    hasher: &PasswordHasher,
    tenant: &Tenant,
    path: &std::path::Path,
    options: ImportOptions,
    now: i64,
    observer: &mut dyn ImportObserver,
) -> DirectoryResult<ImportReport> {
    let format = options
        .format
        .or_else(|| Format::of_path(path))
        .ok_or_else(|| {
            DirectoryError::Invalid(format!(
                "cannot tell the format of {} from its extension: give --format csv or jsonl",
                path.display()
            ))
        })?;
    let mut reader = rows::RowReader::open(path, format)?;
    let mut tenants = Tenants::new(tenant.clone());
    let mut seen = SeenKeys::new(conn, options.dry_run)?;
    let ids = NewIds::new(now);
    let mut run = batch::Run::new(hasher, options, now);
    let password_cap = options.threads.max(1) * PASSWORDS_PER_THREAD;
    loop {
        let mut candidates = Vec::new();
        let mut refused = Vec::new();
        let (mut rows, mut passwords) = (0, 0);
        while rows < options.batch_rows.max(1) && passwords < password_cap {
            let Some(source) = reader.next_row()? else {
                break;
            };
            rows += 1;
            match prepare(conn, hasher, &mut tenants, &ids, source, now)? {
                Ok(c) => {
                    passwords += usize::from(c.password.is_some());
                    candidates.push(c);
                }
                Err(r) => refused.push(r),
            }
        }
        if rows == 0 {
            break;
        }
        let candidates = seen.check(conn, candidates, &mut refused)?;
        let updates = run.batch(conn, candidates, &mut refused)?;
        seen.remember_refused(conn, &refused)?;
        for r in &refused {
            observer.refused(r, reader.header());
        }
        run.report.refused += refused.len();
        if !updates.is_empty() {
            observer.updated(conn, &updates);
        }
        let (bytes_read, bytes_total) = reader.position();
        observer.progress(ImportProgress {
            rows: run.report.rows(),
            bytes_read,
            bytes_total,
        });
        if run.report.stopped.is_some() {
            break;
        }
    }
    seen.finish(conn)?;
    Ok(run.report)
}
