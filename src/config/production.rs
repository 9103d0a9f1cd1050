//! What `env = "production"` refuses.

use super::Settings;
use super::run_env::{KEY_ENCRYPTION_KEY_ENV, RunEnv};
use crate::db::DatabaseTarget;

/// Whether private signing keys are written encrypted: a key-encryption key is set
/// (`LOCALIDP_KEY_ENCRYPTION_KEY` or `key_encryption_key_file`); a start without the
/// right one fails on its own.
fn private_keys_encrypted(settings: &Settings) -> bool {
    settings.key_encryption_key.is_some()
}

impl Settings {
    /// In production, each development convenience that is on, with the setting that
    /// turns it off; empty when the server may start (and always in development).
    pub fn production_refusals(&self) -> Vec<String> {
        if self.env != RunEnv::Production {
            return Vec::new();
        }
        let mut refusals = Vec::new();
        if self.ephemeral {
            refusals.push(
                "--ephemeral keeps everything in memory and serves the /_dev endpoints: drop it and give database_url (LOCALIDP_DATABASE_URL)"
                    .to_owned(),
            );
        } else if matches!(self.database, DatabaseTarget::SqliteMemory) {
            refusals.push(
                "database_url names an in-memory database: use a file or PostgreSQL".to_owned(),
            );
        }
        if self.dev && !self.ephemeral {
            refusals.push(
                "the /_dev endpoints are on: drop --dev (LOCALIDP_DEV, dev = true)".to_owned(),
            );
        }
        if self.demo && self.seed.is_none() {
            refusals.push(
                "an empty database would get the demo user and clients: pass --no-demo (LOCALIDP_NO_DEMO=true, demo = false) or a seed"
                    .to_owned(),
            );
        }
        // Tokens name the public URL as their issuer: an explicit `http://` one is
        // what clients would see even behind a TLS-terminating proxy.
        match &self.public_url {
            Some(url) if url.starts_with("http://") => refusals.push(
                "the public URL is plain HTTP: set public_url (LOCALIDP_PUBLIC_URL) to https://... (a TLS-terminating proxy in front does not change the issuer tokens name)"
                    .to_owned(),
            ),
            None if !self.tls && self.trusted_proxies.is_empty() => refusals.push(
                "the public URL would be plain HTTP: set public_url (LOCALIDP_PUBLIC_URL) to https://..., or name the TLS-terminating proxy in trusted_proxies (LOCALIDP_TRUSTED_PROXIES)"
                    .to_owned(),
            ),
            _ => {}
        }
        if !private_keys_encrypted(self) {
            refusals.push(format!(
                "private signing keys are not encrypted: set {KEY_ENCRYPTION_KEY_ENV} or key_encryption_key_file"
            ));
        }
        refusals
    }
}
