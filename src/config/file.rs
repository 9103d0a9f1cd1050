//! The TOML config file: read, and its relative paths rebased onto its folder.

use std::path::{Path, PathBuf};

use super::{ConfigArgs, ConfigError, Settings};
use crate::db::DatabaseTarget;

impl Settings {
    /// Reads a config file; the paths in it are relative to its folder.
    pub fn load_file(path: &Path) -> Result<ConfigArgs, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::File {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        let args: ConfigArgs = toml::from_str(&text).map_err(|e| ConfigError::File {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        Ok(match path.parent().filter(|d| !d.as_os_str().is_empty()) {
            Some(dir) => args.relative_to(dir),
            None => args,
        })
    }
}

impl ConfigArgs {
    /// The relative paths of a config file in `dir` (keys, seed, SQLite file, CA
    /// output, JWKS and CA files), rebased so they no longer depend on the working directory.
    fn relative_to(mut self, dir: &Path) -> ConfigArgs {
        let rebase = |p: PathBuf| if p.is_relative() { dir.join(p) } else { p };
        self.keys_dir = self.keys_dir.map(rebase);
        self.key_encryption_key_file = self.key_encryption_key_file.map(rebase);
        self.seed = self.seed.map(rebase);
        self.tls_ca_out = self.tls_ca_out.map(rebase);
        for issuer in &mut self.trusted_issuers {
            issuer.jwks_file = issuer.jwks_file.take().map(rebase);
            issuer.ca_file = issuer.ca_file.take().map(rebase);
        }
        for provider in &mut self.upstream_providers {
            provider.ca_file = provider.ca_file.take().map(rebase);
        }
        self.database_url = self
            .database_url
            .map(|url| match DatabaseTarget::parse(&url) {
                // `file:` names are SQLite URIs, left as written.
                DatabaseTarget::SqliteFile(file)
                    if Path::new(&file).is_relative() && !file.starts_with("file:") =>
                {
                    format!("sqlite://{}", dir.join(file).display())
                }
                _ => url,
            });
        self
    }
}
