//! `localidp keys …`: list and rotate the signing keys, through the key store.

use clap::Subcommand;

use super::shared::{CliError, fmt_time, record, with_database};
use crate::audit::{AuditEvent, kind};
use crate::clock::Clock;
use crate::config::Settings;
use crate::crypto::keys::{self, KeyStatus};
use crate::state::key_retention;

#[derive(Subcommand)]
pub(super) enum KeysCommand {
    /// List signing keys.
    List,
    /// Create a new active signing key; the previous one keeps verifying until the
    /// tokens it signed have expired.
    Rotate,
}

pub(super) fn run(cmd: KeysCommand, settings: &Settings) -> Result<(), CliError> {
    let now = Clock::system().now();
    with_database(settings, |conn, _| {
        match cmd {
            KeysCommand::List => {
                println!("kid\tcreated\tstatus");
                for key in keys::list_keys(conn, now, key_retention(settings))? {
                    let status = match key.status {
                        KeyStatus::Active => "active".to_owned(),
                        KeyStatus::Previous { until } => {
                            format!("previous (published until {})", fmt_time(until))
                        }
                        KeyStatus::Expired => "expired".to_owned(),
                    };
                    println!("{}\t{}\t{}", key.kid, fmt_time(key.created_at), status);
                }
            }
            KeysCommand::Rotate => {
                let kid = settings.key_store().create_active(conn, now)?;
                let event = AuditEvent::key(kind::KEY_ROTATED).detail("kid", kid.as_str());
                record(conn, settings, event);
                println!("new active key {kid}; running servers pick it up within a minute");
            }
        }
        Ok(())
    })
}
