//! What an import is asked to do and what it tells along the way and at the end.

use super::rows::Format;
use crate::db::DbConnection;

/// What an import does with a row whose user is already there (same oid, or same
/// email address or user name in the row's tenant).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnConflict {
    /// Leave the user as it is and count the row as already there (re-runs change
    /// nothing).
    #[default]
    Skip,
    /// Stop at that row: the rows before it are written, it and those after are not.
    Fail,
    /// Change what the row gives that differs from the user (names, roles, groups,
    /// disabled, password); a row with nothing different is unchanged.
    Update,
}

/// How to import.
#[derive(Debug, Clone, Copy)]
pub struct ImportOptions {
    pub on_conflict: OnConflict,
    /// Check every row and report, write nothing.
    pub dry_run: bool,
    /// `None`: from the file's extension.
    pub format: Option<Format>,
    /// Rows read, checked and written per transaction.
    pub batch_rows: usize,
    /// Threads that hash plain passwords.
    pub threads: usize,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            on_conflict: OnConflict::Skip,
            dry_run: false,
            format: None,
            batch_rows: 5_000,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

/// A row the import refused: its line, why, and the row as it was (for `--errors`).
#[derive(Debug, Clone)]
pub struct RefusedRow {
    pub line: usize,
    pub reason: String,
    pub text: String,
}

/// What an import did (or, dry, would do).
#[derive(Debug, Default)]
pub struct ImportReport {
    pub created: usize,
    /// Users changed by `--on-conflict update`.
    pub updated: usize,
    /// Rows of `--on-conflict update` with nothing that differs from their user.
    pub unchanged: usize,
    /// Rows whose user was already there, left as it is (`--on-conflict skip`).
    pub existing: usize,
    pub refused: usize,
    /// `--on-conflict fail`: why the import stopped (the rows before are written).
    pub stopped: Option<String>,
}

impl ImportReport {
    /// Rows looked at.
    pub fn rows(&self) -> usize {
        self.created + self.updated + self.unchanged + self.existing + self.refused
    }
}

/// How far an import is: rows done, and bytes of the file read of its size.
#[derive(Debug, Clone, Copy)]
pub struct ImportProgress {
    pub rows: usize,
    pub bytes_read: u64,
    pub bytes_total: u64,
}

/// A user an import changed, and what changed (for the audit log).
#[derive(Debug, Clone)]
pub struct UserUpdate {
    pub tenant_id: String,
    pub user_id: String,
    /// The fields changed, in the row's words (`name`, `roles`, `groups`, …).
    pub fields: Vec<&'static str>,
    pub password: bool,
    /// `Some(disabled)` when `disabled` changed.
    pub disabled: Option<bool>,
}

/// Told about refused rows as they are found, about progress after each batch, and
/// about the users each batch changed once it is written.
pub trait ImportObserver {
    fn refused(&mut self, row: &RefusedRow, header: Option<&str>);
    fn progress(&mut self, progress: ImportProgress);
    fn updated(&mut self, conn: &mut DbConnection, updates: &[UserUpdate]);
}
