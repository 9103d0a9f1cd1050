//! What several commands share: the error they report, the tenant argument, the
//! password arguments, a connection to the configured database, and how times print.

use std::io::Read;

use secrecy::SecretString;

use crate::audit::{self, AuditEvent};
use crate::clock::Clock;
use crate::config::{ConfigError, Settings};
use crate::crypto::keys::KeyError;
use crate::crypto::password::PasswordHasher;
use crate::db::tenants::Tenant;
use crate::db::{self, DbConnection, DbError};
use crate::directory::{self, DirectoryError, DirectoryResult, admin};
use crate::startup::StartError;

/// Why a command failed; printed as `error: {it}`.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Start(#[from] StartError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Directory(#[from] DirectoryError),
    #[error(transparent)]
    Keys(#[from] KeyError),
}

#[derive(clap::Args)]
pub(super) struct TenantArg {
    /// Tenant GUID or name (default: the default tenant).
    #[arg(long)]
    tenant: Option<String>,
}

impl TenantArg {
    /// The tenant named here, else the configured default, else the oldest one.
    pub(super) fn resolve(
        &self,
        conn: &mut DbConnection,
        settings: &Settings,
    ) -> DirectoryResult<Tenant> {
        admin::tenant_or_default(
            conn,
            self.tenant.as_deref(),
            settings.default_tenant.as_deref(),
        )
    }
}

#[derive(clap::Args)]
pub(super) struct PasswordArgs {
    /// The password (visible to other local users in the process list; see --password-stdin).
    #[arg(long, env = "LOCALIDP_USER_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// Read the password from standard input.
    #[arg(long, conflicts_with = "password")]
    password_stdin: bool,
}

impl PasswordArgs {
    pub(super) fn read(&self) -> Result<Option<SecretString>, CliError> {
        if self.password_stdin {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s).map_err(|e| {
                CliError::Invalid(format!("cannot read the password from stdin: {e}"))
            })?;
            return Ok(Some(SecretString::from(
                s.trim_end_matches(['\r', '\n']).to_owned(),
            )));
        }
        Ok(self.password.clone().map(SecretString::from))
    }
}

/// Runs an admin command on one connection to the configured database.
pub(super) fn with_database(
    settings: &Settings,
    command: impl FnOnce(&mut DbConnection, &PasswordHasher) -> Result<(), CliError>,
) -> Result<(), CliError> {
    if settings.ephemeral {
        return Err(CliError::Invalid(
            "ephemeral (LOCALIDP_EPHEMERAL or the config file) applies to serve only".into(),
        ));
    }
    let hasher = settings.password_hasher()?;
    let pool = db::connect(&settings.database, 1)?;
    let mut conn = pool.get().map_err(DbError::from)?;
    // An empty database gets its first tenant (without the demo data).
    let now = Clock::system().now();
    if let Some(created) = directory::bootstrap::bootstrap(&mut conn, &hasher, false, now)? {
        for event in created.audit_events(audit::actor::CLI) {
            record(&mut conn, settings, event);
        }
    }
    command(&mut conn, &hasher)
}

/// Writes the audit event of an admin command, by `cli` (with the OS user in `detail`
/// when `$USER` names one). A failure to write it is reported; the change stays made.
pub(super) fn record(conn: &mut DbConnection, settings: &Settings, event: AuditEvent) {
    record_all(conn, settings, vec![event]);
}

/// [`record`] for several events, written together.
pub(super) fn record_all(conn: &mut DbConnection, settings: &Settings, events: Vec<AuditEvent>) {
    let os_user = std::env::var("USER").ok().filter(|u| !u.is_empty());
    let events = events
        .into_iter()
        .map(|event| {
            let event = event.actor(audit::actor::CLI);
            match &os_user {
                Some(user) => event.detail("os_user", audit::bounded_text(user)),
                None => event,
            }
        })
        .collect();
    let now = Clock::system().now();
    if let Err(e) = audit::write_now(conn, settings.audit_log, now, events) {
        eprintln!("warning: the audit event was not written: {e}");
    }
}

/// A Unix time as UTC RFC 3339, to the second.
pub(super) fn fmt_time(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| unix.to_string())
}

/// The progress line of a long command on stderr: redrawn in place on a terminal
/// (cleared before other output), printed as plain lines elsewhere.
pub(super) struct StatusLine {
    pub tty: bool,
    pub started: std::time::Instant,
    last: std::time::Instant,
    on_screen: bool,
}

impl StatusLine {
    pub fn new() -> Self {
        use std::io::IsTerminal;
        let now = std::time::Instant::now();
        StatusLine {
            tty: std::io::stderr().is_terminal(),
            started: now,
            last: now,
            on_screen: false,
        }
    }

    /// Whether `every` has passed since the last line shown (then counted as shown).
    pub fn due(&mut self, every: std::time::Duration) -> bool {
        if self.last.elapsed() < every {
            return false;
        }
        self.last = std::time::Instant::now();
        true
    }

    /// Shows `line`: in place on a terminal, else as a line of its own.
    pub fn show(&mut self, line: &str) {
        use std::io::Write;
        if self.tty {
            eprint!("\r\x1b[K{line}");
            let _ = std::io::stderr().flush();
            self.on_screen = true;
        } else {
            eprintln!("{line}");
        }
    }

    /// Clears a line shown in place, before other output.
    pub fn clear(&mut self) {
        if self.on_screen {
            eprint!("\r\x1b[K");
            self.on_screen = false;
        }
    }
}
