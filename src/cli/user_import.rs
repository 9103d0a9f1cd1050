//! `localidp user import`: the arguments, what is shown while it runs (refused rows,
//! progress) and the summary, and the audit events of what it changed.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use super::shared::{CliError, StatusLine, TenantArg, record, record_all};
use crate::audit::{AuditEvent, kind};
use crate::config::Settings;
use crate::crypto::password::PasswordHasher;
use crate::db::DbConnection;
use crate::directory::import::{
    self, Format, ImportObserver, ImportOptions, ImportProgress, ImportReport, OnConflict,
    RefusedRow, UserUpdate,
};

#[derive(clap::Args)]
pub(super) struct ImportArgs {
    /// The file: JSON Lines (.jsonl, .ndjson, .json) or CSV with a header row (.csv).
    file: PathBuf,
    #[command(flatten)]
    tenant: TenantArg,
    /// The file's format, when its extension does not say.
    #[arg(long, value_enum)]
    format: Option<FormatArg>,
    /// A row whose user is already there (same oid, email or user name): skip it
    /// (re-runs change nothing), stop the import there (the rows before it stay
    /// written), or update what the row gives that differs.
    #[arg(long, value_enum, default_value = "skip")]
    on_conflict: ConflictArg,
    /// Check every row and print the summary; write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Write the refused rows to this file (as they were, CSV with its header), to
    /// fix and import again.
    #[arg(long)]
    errors: Option<PathBuf>,
}

/// `--format`.
#[derive(Clone, Copy, clap::ValueEnum)]
enum FormatArg {
    Csv,
    Jsonl,
}

/// `--on-conflict`.
#[derive(Clone, Copy, clap::ValueEnum)]
enum ConflictArg {
    Skip,
    Fail,
    Update,
}

pub(super) fn run(
    conn: &mut DbConnection,
    hasher: &PasswordHasher,
    settings: &Settings,
    args: ImportArgs,
    now: i64,
) -> Result<(), CliError> {
    let tenant = args.tenant.resolve(conn, settings)?;
    let options = ImportOptions {
        on_conflict: match args.on_conflict {
            ConflictArg::Skip => OnConflict::Skip,
            ConflictArg::Fail => OnConflict::Fail,
            ConflictArg::Update => OnConflict::Update,
        },
        dry_run: args.dry_run,
        format: args.format.map(|f| match f {
            FormatArg::Csv => Format::Csv,
            FormatArg::Jsonl => Format::JsonLines,
        }),
        ..ImportOptions::default()
    };
    let errors = match &args.errors {
        Some(path) => Some(std::io::BufWriter::new(std::fs::File::create(path)?)),
        None => None,
    };
    let mut shown = Shown::new(settings, errors);
    let report = import::import_users(conn, hasher, &tenant, &args.file, options, now, &mut shown)?;
    shown.clear_line();
    if let Some(mut errors) = shown.errors.take() {
        errors.flush()?;
    }
    if let Some(e) = shown.failed.take() {
        return Err(e.into());
    }
    let secs = shown.status.started.elapsed().as_secs_f64();
    println!("{}", summary(&report, args.dry_run, secs));
    if !args.dry_run && report.created + report.updated > 0 {
        let event = AuditEvent::admin(kind::USER_IMPORTED).tenant(&tenant.id);
        let event = event.detail("count", report.created);
        record(conn, settings, event.detail("updated", report.updated));
    }
    if let Some(stopped) = &report.stopped {
        return Err(CliError::Invalid(format!(
            "{stopped}: the import stopped there (the rows before it are written)"
        )));
    }
    if report.refused > 0 {
        return Err(CliError::Invalid(format!(
            "{} row(s) refused (listed above)",
            report.refused
        )));
    }
    Ok(())
}

/// `imported N users (U updated, C unchanged, E already there, R refused) in Ts (X rows/s)`.
fn summary(report: &ImportReport, dry_run: bool, secs: f64) -> String {
    let mut line = format!(
        "{} {} users ({} updated, {} unchanged, {} already there, {} refused) in {secs:.2}s ({:.0} rows/s)",
        if dry_run { "would import" } else { "imported" },
        report.created,
        report.updated,
        report.unchanged,
        report.existing,
        report.refused,
        report.rows() as f64 / secs.max(1e-9)
    );
    if report.created + report.updated == 0 && report.stopped.is_none() {
        line.push_str("; nothing changed");
    }
    line
}

/// What the terminal (or log) sees while an import runs: refused rows as they come,
/// and a progress line: redrawn a few times a second on a terminal, else a plain line
/// every few seconds.
struct Shown<'a> {
    settings: &'a Settings,
    errors: Option<std::io::BufWriter<std::fs::File>>,
    header_written: bool,
    /// The first failure to write the errors file (reported at the end).
    failed: Option<std::io::Error>,
    status: StatusLine,
}

impl<'a> Shown<'a> {
    fn new(settings: &'a Settings, errors: Option<std::io::BufWriter<std::fs::File>>) -> Self {
        Shown {
            settings,
            errors,
            header_written: false,
            failed: None,
            status: StatusLine::new(),
        }
    }

    fn clear_line(&mut self) {
        self.status.clear();
    }

    fn keep(&mut self, row: &RefusedRow, header: Option<&str>) -> std::io::Result<()> {
        let Some(out) = self.errors.as_mut() else {
            return Ok(());
        };
        if let Some(header) = header.filter(|_| !self.header_written) {
            writeln!(out, "{header}")?;
            self.header_written = true;
        }
        writeln!(out, "{}", row.text)
    }
}

impl ImportObserver for Shown<'_> {
    fn refused(&mut self, row: &RefusedRow, header: Option<&str>) {
        self.clear_line();
        eprintln!("line {}: {}", row.line, row.reason);
        if let Err(e) = self.keep(row, header) {
            self.failed.get_or_insert(e);
        }
    }

    fn progress(&mut self, p: ImportProgress) {
        let every = if self.status.tty {
            Duration::from_millis(250)
        } else {
            Duration::from_secs(5)
        };
        if !self.status.due(every) {
            return;
        }
        let secs = self.status.started.elapsed().as_secs_f64();
        let rate = p.rows as f64 / secs.max(1e-9);
        let share = p.bytes_read as f64 / (p.bytes_total.max(1)) as f64;
        let left = if share > 0.0 {
            secs * (1.0 - share) / share
        } else {
            0.0
        };
        let line = format!(
            "{} rows, {rate:.0} rows/s, {:.0}% of the file, about {} left",
            p.rows,
            share * 100.0,
            duration(left)
        );
        self.status.show(&line);
    }

    fn updated(&mut self, conn: &mut DbConnection, updates: &[UserUpdate]) {
        let mut events = Vec::new();
        for u in updates {
            let event = |kind| {
                AuditEvent::admin(kind)
                    .tenant(&u.tenant_id)
                    .user(&u.user_id)
            };
            let fields: Vec<&str> = u
                .fields
                .iter()
                .copied()
                .filter(|f| !matches!(*f, "password" | "disabled"))
                .collect();
            if !fields.is_empty() {
                events.push(event(kind::USER_UPDATED).detail("fields", fields.join(", ")));
            }
            if u.password {
                events.push(event(kind::USER_PASSWORD_SET));
            }
            match u.disabled {
                Some(true) => events.push(event(kind::USER_DISABLED)),
                Some(false) => events.push(event(kind::USER_ENABLED)),
                None => {}
            }
        }
        record_all(conn, self.settings, events);
    }
}

/// `1h02m`, `3m05s`, `12s`.
fn duration(secs: f64) -> String {
    let s = secs.round() as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}
