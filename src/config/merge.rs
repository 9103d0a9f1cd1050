//! Command line over config file: a value given on the command line (or in the
//! environment) wins over the same setting in the file.

use super::ConfigArgs;

impl ConfigArgs {
    /// Values given here win over `file`.
    pub fn over(self, file: ConfigArgs) -> ConfigArgs {
        ConfigArgs {
            host: self.host.or(file.host),
            port: self.port.or(file.port),
            public_url: self.public_url.or(file.public_url),
            database_url: self.database_url.or(file.database_url),
            keys_dir: self.keys_dir.or(file.keys_dir),
            keys_in_database_flag: false,
            keys_in_database: if self.keys_in_database_flag {
                Some(true)
            } else {
                file.keys_in_database
            },
            key_encryption_key_file: self
                .key_encryption_key_file
                .or(file.key_encryption_key_file),
            key_encryption_key: self.key_encryption_key,
            key_rotation_days: self.key_rotation_days.or(file.key_rotation_days),
            key_publish_ahead: self.key_publish_ahead.or(file.key_publish_ahead),
            key_retention_hours: self.key_retention_hours.or(file.key_retention_hours),
            ephemeral: self.ephemeral || file.ephemeral_setting.unwrap_or(false),
            ephemeral_setting: None,
            seed: self.seed.or(file.seed),
            no_demo_flag: false,
            demo: if self.no_demo_flag {
                Some(false)
            } else {
                file.demo
            },
            dev_flag: false,
            dev: if self.dev_flag { Some(true) } else { file.dev },
            default_tenant: self.default_tenant.or(file.default_tenant),
            access_token_lifetime: self.access_token_lifetime.or(file.access_token_lifetime),
            refresh_token_lifetime: self.refresh_token_lifetime.or(file.refresh_token_lifetime),
            refresh_retry_grace: self.refresh_retry_grace.or(file.refresh_retry_grace),
            hash_concurrency: self.hash_concurrency.or(file.hash_concurrency),
            hash_queue: self.hash_queue.or(file.hash_queue),
            argon2_memory_kib: self.argon2_memory_kib.or(file.argon2_memory_kib),
            argon2_iterations: self.argon2_iterations.or(file.argon2_iterations),
            workers: self.workers.or(file.workers),
            db_pool_size: self.db_pool_size.or(file.db_pool_size),
            tls_flag: false,
            tls: if self.tls_flag { Some(true) } else { file.tls },
            tls_ca_out: self.tls_ca_out.or(file.tls_ca_out),
            tls_names: if self.tls_names.is_empty() {
                file.tls_names
            } else {
                self.tls_names
            },
            also_listen: self.also_listen.or(file.also_listen),
            metrics_listen: self.metrics_listen.or(file.metrics_listen),
            trusted_proxies: if self.trusted_proxies.is_empty() {
                file.trusted_proxies
            } else {
                self.trusted_proxies
            },
            trusted_issuers: if self.trusted_issuers.is_empty() {
                file.trusted_issuers
            } else {
                self.trusted_issuers
            },
            upstream_providers: if self.upstream_providers.is_empty() {
                file.upstream_providers
            } else {
                self.upstream_providers
            },
            authorization_code_lifetime: self
                .authorization_code_lifetime
                .or(file.authorization_code_lifetime),
            session_idle_timeout: self.session_idle_timeout.or(file.session_idle_timeout),
            session_lifetime: self.session_lifetime.or(file.session_lifetime),
            pkce_allow_plain_flag: false,
            pkce_allow_plain: if self.pkce_allow_plain_flag {
                Some(true)
            } else {
                file.pkce_allow_plain
            },
            verify_tenants: if self.verify_tenants.is_empty() {
                file.verify_tenants
            } else {
                self.verify_tenants
            },
            clock_skew_seconds: self.clock_skew_seconds.or(file.clock_skew_seconds),
            token_status_refresh_seconds: self
                .token_status_refresh_seconds
                .or(file.token_status_refresh_seconds),
            db_outage_grace_seconds: self
                .db_outage_grace_seconds
                .or(file.db_outage_grace_seconds),
            lockout_threshold: self.lockout_threshold.or(file.lockout_threshold),
            lockout_duration: self.lockout_duration.or(file.lockout_duration),
            lockout_max_duration: self.lockout_max_duration.or(file.lockout_max_duration),
            rate_limit: self.rate_limit.over(file.rate_limit),
            audit_retention_days: self.audit_retention_days.or(file.audit_retention_days),
            no_audit_log_flag: false,
            audit_log: if self.no_audit_log_flag {
                Some(false)
            } else {
                file.audit_log
            },
            log_format: self.log_format.or(file.log_format),
            shutdown_grace: self.shutdown_grace.or(file.shutdown_grace),
            shutdown_delay: self.shutdown_delay.or(file.shutdown_delay),
            keep_alive: self.keep_alive.or(file.keep_alive),
            env: self.env.or(file.env),
        }
    }
}
