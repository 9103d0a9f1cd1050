//! Settings from command-line flags, `LOCALIDP_*` environment variables and an optional
//! TOML file, in that order of precedence; validated once at start.

use std::path::PathBuf;

use clap::Args;
use serde::Deserialize;

use crate::db::DatabaseTarget;

mod file;
mod ip_range;
mod key_settings;
mod lockout;
mod merge;
mod production;
mod rate_limit;
mod run_env;
mod seconds;
mod trusted_issuer;
mod upstream_provider;
mod verify_tenants;
pub use ip_range::IpRange;
pub use lockout::LockoutPolicy;
pub use rate_limit::{RateLimit, RateLimitArgs};
pub use run_env::{KEY_ENCRYPTION_KEY_ENV, LogFormat, RunEnv};
pub use trusted_issuer::TrustedIssuer;
pub use upstream_provider::UpstreamProvider;
pub use verify_tenants::VerifyTenants;

/// Every setting, as given on the command line / environment or in the config file.
/// `None` means "not given here". As command-line arguments these are the server's
/// flags (`serve`); the few that every command takes are [`StorageArgs`].
#[derive(Debug, Clone, Default, Args, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConfigArgs {
    /// Address to listen on.
    #[arg(long, env = "LOCALIDP_HOST")]
    pub host: Option<String>,
    /// Port to listen on; 0 picks a free port (printed on start).
    #[arg(long, env = "LOCALIDP_PORT")]
    pub port: Option<u16>,
    /// Base URL clients use to reach this server; issuers and endpoints are built from it.
    /// Default: http://localhost:{port}.
    #[arg(long, env = "LOCALIDP_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// On the command line: [`StorageArgs::database_url`].
    #[arg(skip)]
    pub database_url: Option<String>,
    /// On the command line: [`StorageArgs::keys_dir`].
    #[arg(skip)]
    pub keys_dir: Option<PathBuf>,
    /// On the command line: [`StorageArgs::keys_in_database`].
    #[arg(skip)]
    #[serde(skip)]
    pub keys_in_database_flag: bool,
    #[arg(skip)]
    pub keys_in_database: Option<bool>,
    /// On the command line: [`StorageArgs::key_encryption_key_file`].
    #[arg(skip)]
    pub key_encryption_key_file: Option<PathBuf>,
    /// `LOCALIDP_KEY_ENCRYPTION_KEY`, from the environment only.
    #[arg(skip)]
    #[serde(skip)]
    pub key_encryption_key: Option<secrecy::SecretString>,
    /// Make a new signing key every this many days (0: never; `keys rotate` by hand).
    #[arg(long, env = "LOCALIDP_KEY_ROTATION_DAYS")]
    pub key_rotation_days: Option<u32>,
    /// Hours the next signing key is in the JWKS before it signs (default 48).
    #[arg(long, env = "LOCALIDP_KEY_PUBLISH_AHEAD")]
    pub key_publish_ahead: Option<i64>,
    /// Hours a retired signing key stays in the JWKS (at least, and by default, as long
    /// as tokens it signed can be valid: the access-token lifetime and 5 minutes).
    #[arg(long, env = "LOCALIDP_KEY_RETENTION_HOURS")]
    pub key_retention_hours: Option<u32>,
    /// In-memory database and fresh keys; nothing is written to disk.
    #[arg(long, env = "LOCALIDP_EPHEMERAL")]
    #[serde(skip)]
    pub ephemeral: bool,
    #[arg(skip)]
    #[serde(rename = "ephemeral")]
    pub ephemeral_setting: Option<bool>,
    /// TOML file of tenants, users, groups and clients to create at start (idempotent).
    #[arg(long, env = "LOCALIDP_SEED")]
    pub seed: Option<PathBuf>,
    /// Do not create the demo user and client in an empty database.
    #[arg(long = "no-demo", env = "LOCALIDP_NO_DEMO")]
    #[serde(skip)]
    pub no_demo_flag: bool,
    #[arg(skip)]
    pub demo: Option<bool>,
    /// Serve the /_dev endpoints (token minting, request journal) for tests; implied by
    /// --ephemeral. Never on a shared server.
    #[arg(long = "dev", env = "LOCALIDP_DEV")]
    #[serde(skip)]
    pub dev_flag: bool,
    #[arg(skip)]
    pub dev: Option<bool>,
    /// Tenant (GUID or name) served by /auth/* and the root discovery document.
    #[arg(long, env = "LOCALIDP_DEFAULT_TENANT")]
    pub default_tenant: Option<String>,
    /// Access and ID token lifetime, seconds.
    #[arg(long, env = "LOCALIDP_ACCESS_TOKEN_LIFETIME")]
    pub access_token_lifetime: Option<i64>,
    /// Refresh token lifetime, seconds.
    #[arg(long, env = "LOCALIDP_REFRESH_TOKEN_LIFETIME")]
    pub refresh_token_lifetime: Option<i64>,
    /// A rotated refresh token presented again by its client within this many seconds
    /// is a retry (a fresh successor), not reuse; 0 turns the grace off.
    #[arg(long, env = "LOCALIDP_REFRESH_RETRY_GRACE")]
    pub refresh_retry_grace: Option<i64>,
    /// Password hashes computed at once (default: number of CPUs).
    #[arg(long, env = "LOCALIDP_HASH_CONCURRENCY")]
    pub hash_concurrency: Option<usize>,
    /// Password checks allowed to wait; more are refused with 503.
    #[arg(long, env = "LOCALIDP_HASH_QUEUE")]
    pub hash_queue: Option<usize>,
    /// argon2id memory cost, KiB.
    #[arg(long, env = "LOCALIDP_ARGON2_MEMORY_KIB")]
    pub argon2_memory_kib: Option<u32>,
    /// argon2id passes.
    #[arg(long, env = "LOCALIDP_ARGON2_ITERATIONS")]
    pub argon2_iterations: Option<u32>,
    /// HTTP worker threads (default: number of CPUs).
    #[arg(long, env = "LOCALIDP_WORKERS")]
    pub workers: Option<usize>,
    /// Database connections in the pool.
    #[arg(long, env = "LOCALIDP_DB_POOL_SIZE")]
    pub db_pool_size: Option<u32>,
    /// Serve HTTPS with a development CA generated into `{keys_dir}/tls/` (kept in memory
    /// with --ephemeral).
    #[arg(long = "tls", env = "LOCALIDP_TLS")]
    #[serde(skip)]
    pub tls_flag: bool,
    #[arg(skip)]
    pub tls: Option<bool>,
    /// Also write the development CA's certificate (not its key) to this file at start.
    #[arg(long, env = "LOCALIDP_TLS_CA_OUT")]
    pub tls_ca_out: Option<PathBuf>,
    /// Extra names (host names or IPs) for the TLS certificate, comma separated.
    #[arg(long, env = "LOCALIDP_TLS_NAMES", value_delimiter = ',')]
    #[serde(default)]
    pub tls_names: Vec<String>,
    /// A second address to serve on, e.g. 127.0.0.1:443 (MSAL Python's user-realm call).
    #[arg(long, env = "LOCALIDP_ALSO_LISTEN")]
    pub also_listen: Option<String>,
    /// Serve Prometheus metrics (`GET /metrics`) on this address only, e.g.
    /// 127.0.0.1:9464; off when unset.
    #[arg(long, env = "LOCALIDP_METRICS_LISTEN")]
    pub metrics_listen: Option<String>,
    /// Proxies (IPs or CIDRs, comma separated) whose X-Forwarded-Proto/Host are believed
    /// when no public URL is configured.
    #[arg(long, env = "LOCALIDP_TRUSTED_PROXIES", value_delimiter = ',')]
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    /// Other identity providers whose tokens may be exchanged for ours (config file only).
    #[arg(skip)]
    #[serde(default)]
    pub trusted_issuers: Vec<TrustedIssuer>,
    /// Identity providers users sign in through (brokered sign-in; config file only).
    #[arg(skip)]
    #[serde(default)]
    pub upstream_providers: Vec<UpstreamProvider>,
    /// Authorization code lifetime, seconds (60 to 600).
    #[arg(long, env = "LOCALIDP_AUTHORIZATION_CODE_LIFETIME")]
    pub authorization_code_lifetime: Option<i64>,
    /// An SSO session unused for this long ends, seconds.
    #[arg(long, env = "LOCALIDP_SESSION_IDLE_TIMEOUT")]
    pub session_idle_timeout: Option<i64>,
    /// An SSO session ends this long after sign-in whatever its use, seconds.
    #[arg(long, env = "LOCALIDP_SESSION_LIFETIME")]
    pub session_lifetime: Option<i64>,
    /// Accept PKCE `code_challenge_method=plain` from confidential clients.
    #[arg(long = "pkce-allow-plain", env = "LOCALIDP_PKCE_ALLOW_PLAIN")]
    #[serde(skip)]
    pub pkce_allow_plain_flag: bool,
    #[arg(skip)]
    pub pkce_allow_plain: Option<bool>,
    /// Tenants (GUIDs or names, comma separated) whose tokens /auth/verify accepts
    /// besides the default tenant's; `*` for every tenant.
    #[arg(long, env = "LOCALIDP_VERIFY_TENANTS", value_delimiter = ',')]
    #[serde(default)]
    pub verify_tenants: Vec<String>,
    /// Clock skew tolerated on a token's exp and nbf, seconds (0 to 3600; default 60).
    #[arg(long = "clock-skew", env = "LOCALIDP_CLOCK_SKEW")]
    pub clock_skew_seconds: Option<i64>,
    /// Token status changed elsewhere (revocations, disabled or deleted users: another
    /// replica, the CLI) is honoured within this many seconds (1 to 3600; default 1).
    #[arg(long = "token-status-refresh", env = "LOCALIDP_TOKEN_STATUS_REFRESH")]
    pub token_status_refresh_seconds: Option<i64>,
    /// With the database unreachable, token checks serve the last known token status
    /// and directory for this many seconds, then answer 503 (0 to 3600; default 60).
    #[arg(long = "db-outage-grace", env = "LOCALIDP_DB_OUTAGE_GRACE")]
    pub db_outage_grace_seconds: Option<i64>,
    /// `[rate_limit]` in the file.
    #[command(flatten)]
    pub rate_limit: RateLimitArgs,
    /// Wrong passwords in a row that lock an account (smart lockout; default 10).
    #[arg(long, env = "LOCALIDP_LOCKOUT_THRESHOLD")]
    pub lockout_threshold: Option<u32>,
    /// The first lock's length, seconds (default 60); each lock in a row doubles it.
    #[arg(long, env = "LOCALIDP_LOCKOUT_DURATION")]
    pub lockout_duration: Option<i64>,
    /// The longest lock, seconds (default 3600).
    #[arg(long, env = "LOCALIDP_LOCKOUT_MAX_DURATION")]
    pub lockout_max_duration: Option<i64>,
    /// Days audit events are kept (default 90; 0 keeps them forever).
    #[arg(long, env = "LOCALIDP_AUDIT_RETENTION_DAYS")]
    pub audit_retention_days: Option<u32>,
    /// Write no audit log.
    #[arg(long = "no-audit-log", env = "LOCALIDP_NO_AUDIT_LOG")]
    #[serde(skip)]
    pub no_audit_log_flag: bool,
    #[arg(skip)]
    pub audit_log: Option<bool>,
    /// Log lines as `text` (default) or `json` (one object per line).
    #[arg(long, env = "LOCALIDP_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
    /// Seconds in-flight requests get to finish after SIGTERM/SIGINT (default 10).
    #[arg(long, env = "LOCALIDP_SHUTDOWN_GRACE")]
    pub shutdown_grace: Option<i64>,
    /// Seconds an idle keep-alive connection stays open (default 5; 0 closes each
    /// connection after its response). Behind a load balancer, longer than its idle timeout.
    #[arg(long, env = "LOCALIDP_KEEP_ALIVE")]
    pub keep_alive: Option<i64>,
    /// Seconds between SIGTERM/SIGINT and closing the listener, while `/readyz` already
    /// fails, so load balancers stop sending before connections are refused (default 0).
    #[arg(long, env = "LOCALIDP_SHUTDOWN_DELAY")]
    pub shutdown_delay: Option<i64>,
    /// `development` (default) or `production`: production refuses to start while any
    /// development convenience is on.
    #[arg(long = "env", env = "LOCALIDP_ENV", value_enum)]
    pub env: Option<RunEnv>,
}

/// The flags every command takes, `serve` and the admin commands alike: where the
/// settings file, the database and the signing keys are.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Settings, database and keys (every command)")]
pub struct StorageArgs {
    /// TOML file with any of the settings (flags and LOCALIDP_* variables win).
    #[arg(long, short, env = "LOCALIDP_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// sqlite://path, a file path, or postgres://user@host/db.
    #[arg(long, env = "LOCALIDP_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// Directory holding the signing keys (PKCS#8 PEM, mode 0600).
    #[arg(long, env = "LOCALIDP_KEYS_DIR", global = true)]
    pub keys_dir: Option<PathBuf>,
    /// Keep private keys in the database, not in --keys-dir (replicas sharing PostgreSQL).
    #[arg(long, env = "LOCALIDP_KEYS_IN_DATABASE", global = true)]
    pub keys_in_database: bool,
    /// File holding the key-encryption key (base64 of 32 bytes) that private keys are
    /// encrypted with; LOCALIDP_KEY_ENCRYPTION_KEY (the key itself) wins over it.
    #[arg(long, env = "LOCALIDP_KEY_ENCRYPTION_KEY_FILE", global = true)]
    pub key_encryption_key_file: Option<PathBuf>,
}

impl StorageArgs {
    /// The settings given on the command line: `flags` (the server's) with these.
    pub fn with(self, flags: ConfigArgs) -> ConfigArgs {
        ConfigArgs {
            database_url: self.database_url,
            keys_dir: self.keys_dir,
            keys_in_database_flag: self.keys_in_database,
            key_encryption_key_file: self.key_encryption_key_file,
            // The key itself only from the environment, never a flag (`ps` shows those).
            key_encryption_key: std::env::var(crate::crypto::kek::KEK_ENV)
                .ok()
                .filter(|v| !v.is_empty())
                .map(secrecy::SecretString::from),
            ..flags
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {reason}")]
    File { path: PathBuf, reason: String },
    #[error("invalid setting {name}: {reason}")]
    Invalid { name: &'static str, reason: String },
}

impl From<seconds::OutOfRange> for ConfigError {
    fn from(e: seconds::OutOfRange) -> Self {
        ConfigError::Invalid {
            name: e.name,
            reason: e.reason,
        }
    }
}

/// The validated settings the server runs with.
#[derive(Debug, Clone)]
pub struct Settings {
    pub host: String,
    pub port: u16,
    pub public_url: Option<String>,
    pub database: DatabaseTarget,
    pub keys_dir: PathBuf,
    pub keys_in_database: bool,
    /// Private keys are stored encrypted under it (`LOCALIDP_KEY_ENCRYPTION_KEY`,
    /// `key_encryption_key_file`); `None`: stored as PEM.
    pub key_encryption_key: Option<std::sync::Arc<crate::crypto::kek::Kek>>,
    /// Days a signing key signs before the next one takes over; 0: no automatic rotation.
    pub key_rotation_days: u32,
    /// Hours the next key is published before it signs.
    pub key_publish_ahead: i64,
    /// Hours a retired key stays published; 0: as long as its tokens can be valid.
    pub key_retention_hours: u32,
    pub ephemeral: bool,
    pub seed: Option<PathBuf>,
    pub demo: bool,
    /// The /_dev endpoints are served (`dev`, or `ephemeral`).
    pub dev: bool,
    pub default_tenant: Option<String>,
    pub access_token_lifetime: i64,
    pub refresh_token_lifetime: i64,
    /// Seconds; 0 when off.
    pub refresh_retry_grace: i64,
    pub hash_concurrency: usize,
    pub hash_queue: usize,
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub workers: usize,
    pub db_pool_size: u32,
    pub tls: bool,
    pub tls_names: Vec<String>,
    pub tls_ca_out: Option<PathBuf>,
    pub also_listen: Option<String>,
    /// Where `GET /metrics` is served (a listener of its own); `None`: no metrics.
    pub metrics_listen: Option<String>,
    pub trusted_proxies: Vec<IpRange>,
    pub trusted_issuers: Vec<TrustedIssuer>,
    pub upstream_providers: Vec<UpstreamProvider>,
    pub authorization_code_lifetime: i64,
    pub session_idle_timeout: i64,
    pub session_lifetime: i64,
    pub pkce_allow_plain: bool,
    pub verify_tenants: VerifyTenants,
    pub clock_skew_seconds: i64,
    pub token_status_refresh_seconds: i64,
    pub db_outage_grace_seconds: i64,
    pub rate_limit: RateLimit,
    pub lockout: LockoutPolicy,
    /// Whether audit events are written, and for how many days (0: forever).
    pub audit_log: bool,
    pub audit_retention_days: u32,
    pub log_format: LogFormat,
    /// Seconds in-flight requests get to finish when the server is told to stop.
    pub shutdown_grace: u64,
    pub shutdown_delay: u64,
    /// Seconds an idle keep-alive connection is held (0: no keep-alive).
    pub keep_alive: u64,
    pub env: RunEnv,
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/localidp.db";

fn cpus() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// RFC 6749 §4.1.2: codes are short-lived; ten minutes at most.
fn code_lifetime(given: Option<i64>) -> Result<i64, ConfigError> {
    let v = given.unwrap_or(300);
    if (60..=600).contains(&v) {
        Ok(v)
    } else {
        Err(ConfigError::Invalid {
            name: "authorization_code_lifetime",
            reason: "must be between 60 and 600 seconds".into(),
        })
    }
}

impl Settings {
    pub fn from_args(args: ConfigArgs) -> Result<Settings, ConfigError> {
        let ephemeral = args.ephemeral;
        let database = if ephemeral {
            DatabaseTarget::SqliteMemory
        } else {
            DatabaseTarget::parse(args.database_url.as_deref().unwrap_or(DEFAULT_DATABASE_URL))
        };
        let public_url = match args.public_url {
            Some(url) => {
                let trimmed = url.trim_end_matches('/').to_owned();
                if !(trimmed.starts_with("http://") || trimmed.starts_with("https://")) {
                    return Err(ConfigError::Invalid {
                        name: "public_url",
                        reason: format!("{url:?} must start with http:// or https://"),
                    });
                }
                Some(trimmed)
            }
            None => None,
        };
        let positive = |name: &'static str, v: i64| {
            if v > 0 {
                Ok(v)
            } else {
                Err(ConfigError::Invalid {
                    name,
                    reason: "must be greater than 0".into(),
                })
            }
        };
        let pool_default = if database.is_postgres() { 10 } else { 8 };
        let mut trusted_proxies = Vec::new();
        for p in &args.trusted_proxies {
            trusted_proxies.push(IpRange::parse(p).ok_or_else(|| ConfigError::Invalid {
                name: "trusted_proxies",
                reason: format!("{p:?} is not an IP address or CIDR range"),
            })?);
        }
        let tls = args.tls.unwrap_or(false);
        if args.tls_ca_out.is_some() && !tls {
            return Err(ConfigError::Invalid {
                name: "tls_ca_out",
                reason: "applies only with tls".into(),
            });
        }
        let invalid = |(name, reason)| ConfigError::Invalid { name, reason };
        let (key_rotation_days, key_publish_ahead) =
            key_settings::rotation(args.key_rotation_days, args.key_publish_ahead)
                .map_err(invalid)?;
        Ok(Settings {
            key_encryption_key: key_settings::key_encryption_key(
                args.key_encryption_key.as_ref(),
                args.key_encryption_key_file.as_deref(),
            )
            .map_err(invalid)?,
            key_rotation_days,
            key_publish_ahead,
            key_retention_hours: args.key_retention_hours.unwrap_or(0).min(24 * 3650),
            host: args.host.unwrap_or_else(|| "127.0.0.1".into()),
            port: args.port.unwrap_or(8080),
            public_url,
            keys_in_database: ephemeral || args.keys_in_database.unwrap_or(false),
            database,
            keys_dir: args.keys_dir.unwrap_or_else(|| PathBuf::from("keys")),
            ephemeral,
            seed: args.seed,
            demo: args.demo.unwrap_or(true),
            dev: ephemeral || args.dev.unwrap_or(false),
            default_tenant: args.default_tenant,
            access_token_lifetime: positive(
                "access_token_lifetime",
                args.access_token_lifetime.unwrap_or(3600),
            )?,
            refresh_token_lifetime: positive(
                "refresh_token_lifetime",
                args.refresh_token_lifetime.unwrap_or(14 * 24 * 3600),
            )?,
            refresh_retry_grace: match args.refresh_retry_grace.unwrap_or(30) {
                v @ 0..=300 => v,
                _ => {
                    return Err(ConfigError::Invalid {
                        name: "refresh_retry_grace",
                        reason: "must be 0 to 300 seconds".into(),
                    });
                }
            },
            hash_concurrency: args.hash_concurrency.unwrap_or_else(cpus).max(1),
            hash_queue: args.hash_queue.unwrap_or(1024),
            argon2_memory_kib: args
                .argon2_memory_kib
                .unwrap_or(crate::crypto::password::DEFAULT_MEMORY_KIB),
            argon2_iterations: args
                .argon2_iterations
                .unwrap_or(crate::crypto::password::DEFAULT_ITERATIONS),
            workers: args.workers.unwrap_or_else(cpus).max(1),
            db_pool_size: args.db_pool_size.unwrap_or(pool_default).max(1),
            trusted_issuers: args.trusted_issuers,
            upstream_providers: args.upstream_providers,
            tls,
            tls_names: args.tls_names,
            tls_ca_out: args.tls_ca_out,
            also_listen: args.also_listen,
            metrics_listen: args.metrics_listen,
            trusted_proxies,
            authorization_code_lifetime: code_lifetime(args.authorization_code_lifetime)?,
            session_idle_timeout: positive(
                "session_idle_timeout",
                args.session_idle_timeout.unwrap_or(30 * 60),
            )?,
            session_lifetime: positive(
                "session_lifetime",
                args.session_lifetime.unwrap_or(10 * 3600),
            )?,
            pkce_allow_plain: args.pkce_allow_plain.unwrap_or(false),
            verify_tenants: VerifyTenants::parse(&args.verify_tenants).map_err(|reason| {
                ConfigError::Invalid {
                    name: "verify_tenants",
                    reason,
                }
            })?,
            clock_skew_seconds: seconds::clock_skew(args.clock_skew_seconds)?,
            token_status_refresh_seconds: seconds::status_refresh(
                args.token_status_refresh_seconds,
            )?,
            db_outage_grace_seconds: seconds::outage_grace(args.db_outage_grace_seconds)?,
            rate_limit: RateLimit::from_args(&args.rate_limit).map_err(|reason| {
                ConfigError::Invalid {
                    name: "rate_limit",
                    reason,
                }
            })?,
            lockout: LockoutPolicy::new(
                args.lockout_threshold,
                args.lockout_duration,
                args.lockout_max_duration,
            )
            .map_err(|(name, reason)| ConfigError::Invalid {
                name,
                reason: reason.into(),
            })?,
            audit_log: args.audit_log.unwrap_or(true),
            audit_retention_days: args.audit_retention_days.unwrap_or(90),
            log_format: args.log_format.unwrap_or_default(),
            shutdown_grace: seconds::shutdown_grace(args.shutdown_grace)?,
            shutdown_delay: seconds::shutdown_delay(args.shutdown_delay)?,
            keep_alive: seconds::keep_alive(args.keep_alive)?,
            env: args.env.unwrap_or_default(),
        })
    }

    /// The password hasher; an ephemeral server's gives its seed fixture hashes.
    pub fn password_hasher(&self) -> Result<crate::crypto::password::PasswordHasher, ConfigError> {
        let new = if self.ephemeral {
            crate::crypto::password::PasswordHasher::new_ephemeral
        } else {
            crate::crypto::password::PasswordHasher::new
        };
        new(
            self.argon2_memory_kib,
            self.argon2_iterations,
            self.hash_concurrency,
            self.hash_queue,
        )
        .map_err(|e| ConfigError::Invalid {
            name: "argon2",
            reason: e.to_string(),
        })
    }

    /// Automatic rotation, when `key_rotation_days` turns it on.
    pub fn key_rotation(&self) -> Option<crate::crypto::key_rotation::RotationPolicy> {
        (self.key_rotation_days > 0).then(|| crate::crypto::key_rotation::RotationPolicy {
            every: i64::from(self.key_rotation_days) * 86_400,
            ahead: self.key_publish_ahead * 3600,
        })
    }

    pub fn key_store(&self) -> crate::crypto::key_store::KeyStore {
        use crate::crypto::key_store::{KeyPlace, KeyStore};
        let place = if self.keys_in_database {
            KeyPlace::Database
        } else {
            KeyPlace::Directory(self.keys_dir.clone())
        };
        KeyStore::new(place, self.key_encryption_key.clone())
    }
}

#[cfg(test)]
mod tests;
