//! Running for real: the log format and the environment (`development` or `production`).

use serde::Deserialize;

/// How log events are written to stderr.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One human-readable line per event.
    #[default]
    Text,
    /// One JSON object per line per event.
    Json,
}

/// What the server runs as: `production` refuses every development convenience.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum RunEnv {
    #[default]
    Development,
    Production,
}

/// The environment variable holding the key-encryption key of private signing keys.
pub const KEY_ENCRYPTION_KEY_ENV: &str = "LOCALIDP_KEY_ENCRYPTION_KEY";
