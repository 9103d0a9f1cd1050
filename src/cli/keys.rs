//! `localidp keys …`: list, rotate and re-encrypt the signing keys, through the key
//! store.

use std::path::PathBuf;

use clap::Subcommand;

use super::shared::{CliError, fmt_time, record, with_database};
use crate::audit::{AuditEvent, kind};
use crate::clock::Clock;
use crate::config::Settings;
use crate::crypto::kek::{KEK_ENV, Kek, NEW_KEK_ENV};
use crate::crypto::keys::{self, KeyStatus};
use crate::state::key_retention;

#[derive(Subcommand)]
pub(super) enum KeysCommand {
    /// List signing keys.
    List,
    /// Create a new active signing key; the previous one keeps verifying until the
    /// tokens it signed have expired.
    Rotate,
    /// Encrypt every private key under a new key-encryption key. The current one is
    /// LOCALIDP_KEY_ENCRYPTION_KEY or --key-encryption-key-file (neither: the keys are
    /// unencrypted now); the new one is LOCALIDP_NEW_KEY_ENCRYPTION_KEY or
    /// --new-key-file. Safe to run again after an interruption.
    Rewrap {
        /// File holding the new key-encryption key (base64 of 32 bytes).
        #[arg(long)]
        new_key_file: Option<PathBuf>,
    },
}

pub(super) fn run(cmd: KeysCommand, settings: &Settings) -> Result<(), CliError> {
    let now = Clock::system().now();
    // Read before the database is opened: a bad key changes nothing.
    let new_kek = match &cmd {
        KeysCommand::Rewrap { new_key_file } => Some(new_kek(new_key_file.as_deref())?),
        _ => None,
    };
    with_database(settings, |conn, _| {
        match cmd {
            KeysCommand::List => {
                println!("kid\tcreated\tstatus");
                for key in keys::list_keys(conn, now, key_retention(settings))? {
                    let status = match key.status {
                        KeyStatus::Active => "active".to_owned(),
                        KeyStatus::Next { from } => {
                            format!("next (published; signs from {})", fmt_time(from))
                        }
                        KeyStatus::Previous { until } => {
                            format!("previous (published until {})", fmt_time(until))
                        }
                        KeyStatus::Expired => "expired".to_owned(),
                    };
                    println!("{}\t{}\t{}", key.kid, fmt_time(key.created_at), status);
                }
            }
            KeysCommand::Rotate => {
                let live_since = now - key_retention(settings);
                let kid = settings.key_store().create_active(conn, now, live_since)?;
                let event = AuditEvent::key(kind::KEY_ROTATED).detail("kid", kid.as_str());
                record(conn, settings, event);
                println!("new active key {kid}; running servers pick it up within a minute");
            }
            KeysCommand::Rewrap { .. } => {
                let new = new_kek.expect("read above");
                let report = settings.key_store().rewrap(conn, &new)?;
                let mut event = AuditEvent::key(kind::KEY_REWRAPPED)
                    .detail("new_kek_id", new.id())
                    .detail("kids", report.rewrapped.clone());
                if let Some(old) = &settings.key_encryption_key {
                    event = event.detail("old_kek_id", old.id());
                }
                record(conn, settings, event);
                println!(
                    "{} keys encrypted under key-encryption key {} ({} already were)",
                    report.rewrapped.len(),
                    new.id(),
                    report.already
                );
                if !report.missing.is_empty() {
                    println!(
                        "no file for {} (deleted by hand?): {}",
                        report.missing.len(),
                        report.missing.join(", ")
                    );
                }
                println!(
                    "servers now start only with the new key: set {KEK_ENV} (or key_encryption_key_file) to it and restart them"
                );
            }
        }
        Ok(())
    })
}

/// The new key-encryption key: `--new-key-file`, else `LOCALIDP_NEW_KEY_ENCRYPTION_KEY`.
fn new_kek(file: Option<&std::path::Path>) -> Result<Kek, CliError> {
    let env = std::env::var(NEW_KEK_ENV).ok().filter(|v| !v.is_empty());
    match (file, env) {
        (Some(path), _) => Kek::from_file(path, "--new-key-file"),
        (None, Some(text)) => Kek::parse(&text, NEW_KEK_ENV),
        (None, None) => Err(format!(
            "keys rewrap needs the new key-encryption key: --new-key-file FILE or {NEW_KEK_ENV}"
        )),
    }
    .map_err(CliError::Invalid)
}
