//! `localidp export`, `import` and `migrate`: a whole directory to a file, from a
//! file, or from one database to another; progress on a terminal, a summary line, and
//! the count check at the end.

use std::io::{BufRead, BufReader, BufWriter};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::shared::{CliError, StatusLine};
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::{self, DatabaseTarget, DbError, DbPool};
use crate::transfer::{self, ImportObserver, ImportReport, Refused, TransferError};

#[derive(clap::Args)]
pub(super) struct ExportArgs {
    /// The file to write (`-`: standard output). It holds password hashes: it is
    /// created readable by its owner only.
    #[arg(long)]
    to: PathBuf,
}

#[derive(clap::Args)]
pub(super) struct ImportArgs {
    /// The export file to read (`-`: standard input).
    #[arg(long)]
    from: PathBuf,
    /// Rows written per transaction.
    #[arg(long, default_value_t = transfer::BATCH_ROWS)]
    batch_rows: usize,
}

#[derive(clap::Args)]
pub(super) struct MigrateArgs {
    /// The source database URL (`sqlite://PATH` or `postgres://...`); only read.
    #[arg(long)]
    from: String,
    /// The target database URL; its migrations are applied first.
    #[arg(long)]
    to: String,
    /// Rows written per transaction.
    #[arg(long, default_value_t = transfer::BATCH_ROWS)]
    batch_rows: usize,
}

impl From<TransferError> for CliError {
    fn from(e: TransferError) -> Self {
        match e {
            TransferError::Invalid(m) => CliError::Invalid(m),
            TransferError::Db(e) => CliError::Db(e),
            TransferError::Io(e) => CliError::Io(e),
        }
    }
}

pub(super) fn export(args: ExportArgs, settings: &Settings) -> Result<(), CliError> {
    let source = open_source(&settings.database)?;
    let mut conn = source.get().map_err(DbError::from)?;
    let now = Clock::system().now();
    let started = Instant::now();
    let report = if args.to == Path::new("-") {
        let mut out = BufWriter::new(std::io::stdout().lock());
        transfer::export(&mut conn, &settings.keys_dir, now, &mut out)?
    } else {
        let mut out = BufWriter::new(private_file(&args.to)?);
        transfer::export(&mut conn, &settings.keys_dir, now, &mut out)?
    };
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    let rows = ImportReport::total(&report.counts);
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "exported {rows} rows in {secs:.2}s ({:.0} rows/s): {}",
        rows as f64 / secs.max(1e-9),
        per_kind(&report.counts)
    );
    Ok(())
}

pub(super) fn import(args: ImportArgs, settings: &Settings) -> Result<(), CliError> {
    let target = open_target(&settings.database)?;
    let mut conn = target.get().map_err(DbError::from)?;
    let mut shown = Progress::new();
    let mut input: Box<dyn BufRead> = if args.from == Path::new("-") {
        Box::new(BufReader::new(std::io::stdin().lock()))
    } else {
        let file = std::fs::File::open(&args.from)
            .map_err(|e| CliError::Invalid(format!("cannot read {}: {e}", args.from.display())))?;
        Box::new(BufReader::with_capacity(1 << 16, file))
    };
    let result = transfer::import(&mut conn, &mut input, args.batch_rows, &mut shown);
    shown.clear_line();
    conclude("imported", &result?, &shown)
}

pub(super) fn migrate(args: MigrateArgs, settings: &Settings) -> Result<(), CliError> {
    let (from, to) = (
        DatabaseTarget::parse(&args.from),
        DatabaseTarget::parse(&args.to),
    );
    if from == to {
        return Err(CliError::Invalid(
            "--from and --to name the same database".into(),
        ));
    }
    let source = open_source(&from)?;
    let target = open_target(&to)?;
    let mut conn = target.get().map_err(DbError::from)?;
    let mut shown = Progress::new();
    let now = Clock::system().now();
    let keys_dir = settings.keys_dir.clone();
    let result = transfer::migrate(
        source,
        keys_dir,
        now,
        &mut conn,
        args.batch_rows,
        &mut shown,
    );
    shown.clear_line();
    let (exported, imported) = result?;
    for w in &exported.warnings {
        eprintln!("warning: {w}");
    }
    conclude("migrated", &imported, &shown)
}

/// The summary line on stdout, and the exit: refused rows or counts that differ fail.
fn conclude(verb: &str, report: &ImportReport, shown: &Progress) -> Result<(), CliError> {
    let secs = shown.0.started.elapsed().as_secs_f64();
    let rows = ImportReport::total(&report.expected);
    let inserted = ImportReport::total(&report.inserted);
    let unchanged = ImportReport::total(&report.unchanged);
    let refused = ImportReport::total(&report.refused);
    let mut line = format!(
        "{verb} {rows} rows in {secs:.2}s ({:.0} rows/s): {inserted} written, {unchanged} already there, {refused} refused",
        rows as f64 / secs.max(1e-9)
    );
    if inserted == 0 && refused == 0 {
        line.push_str("; nothing changed");
    }
    println!("{line}");
    let mut problems = Vec::new();
    if refused > 0 {
        problems.push(format!("{refused} row(s) refused (listed above)"));
    }
    for (kind, file, database) in &report.mismatches {
        problems.push(format!(
            "{kind}: the source has {file} row(s), the target {database}"
        ));
    }
    if problems.is_empty() {
        println!("counts match: {}", per_kind(&report.found));
        Ok(())
    } else {
        Err(CliError::Invalid(format!(
            "the target is not a copy of the source: {}",
            problems.join("; ")
        )))
    }
}

/// `tenant 2, user 10003, ...`, in file order.
fn per_kind(counts: &transfer::format::Counts) -> String {
    transfer::format::KINDS
        .iter()
        .map(|k| format!("{k} {}", counts.get(*k).copied().unwrap_or(0)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The source, opened without migrating it (nor creating a SQLite file).
fn open_source(target: &DatabaseTarget) -> Result<DbPool, CliError> {
    match target {
        DatabaseTarget::SqliteMemory => {
            return Err(CliError::Invalid(
                "an in-memory database has nothing to export".into(),
            ));
        }
        DatabaseTarget::SqliteFile(path) if !Path::new(path).is_file() => {
            return Err(CliError::Invalid(format!("there is no database at {path}")));
        }
        _ => {}
    }
    Ok(db::open(target, 1)?)
}

/// The target, its migrations applied (as `serve` does), without first-start data.
fn open_target(target: &DatabaseTarget) -> Result<DbPool, CliError> {
    if *target == DatabaseTarget::SqliteMemory {
        return Err(CliError::Invalid(
            "an in-memory database would be gone when the import ends".into(),
        ));
    }
    Ok(db::connect(target, 1)?)
}

fn private_file(path: &Path) -> Result<std::fs::File, CliError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(path)
        .map_err(|e| CliError::Invalid(format!("cannot write {}: {e}", path.display())))
}

/// Refused rows as they come, and on a terminal a progress line redrawn a few times
/// a second; nothing else when stderr is not a terminal.
struct Progress(StatusLine);

impl Progress {
    fn new() -> Self {
        Progress(StatusLine::new())
    }

    fn clear_line(&mut self) {
        self.0.clear();
    }
}

impl ImportObserver for Progress {
    fn refused(&mut self, r: &Refused) {
        self.clear_line();
        eprintln!(
            "line {}: {} {} refused: {}",
            r.line, r.kind, r.key, r.reason
        );
    }

    fn progress(&mut self, rows: u64, total: Option<u64>, kind: &str) {
        if !self.0.tty || !self.0.due(Duration::from_millis(250)) {
            return;
        }
        let rate = rows as f64 / self.0.started.elapsed().as_secs_f64().max(1e-9);
        let share = match total {
            Some(total) if total > 0 => {
                format!(" of {total} ({:.0}%)", 100.0 * rows as f64 / total as f64)
            }
            _ => String::new(),
        };
        self.0.show(&format!(
            "{rows} rows{share}, {rate:.0} rows/s, now: {kind}"
        ));
    }
}
