//! What every request shares: settings, the clock, the database pool, and the
//! services built on them — password hashing, signing keys, the directory and the
//! token layer's memory. Each service documents how stale its caches may be.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::audit::writer::AuditLog;
use crate::clock::Clock;
use crate::config::Settings;
use crate::crypto::key_rotation::RotationStep;
use crate::crypto::key_service::KeyService;
use crate::crypto::keys::{KeyError, KeyRing};
use crate::crypto::password::PasswordHasher;
use crate::db::{self, DbConnection, DbPool, DbResult};
use crate::directory::service::DirectoryService;
use crate::federation::provider::Providers;
use crate::metrics::Metrics;
use crate::oauth::external::ExternalIssuer;
use crate::oauth::services::TokenServices;
use crate::oauth::status::TokenStatus;
use crate::rate_limit::RateLimiter;

#[derive(Clone)]
pub struct AppState {
    pub inner: Arc<Inner>,
}

pub struct Inner {
    pub settings: Settings,
    /// Where every expiry check gets the time from.
    pub clock: Clock,
    pub public_url: String,
    pub pool: DbPool,
    pub hasher: PasswordHasher,
    pub keys: KeyService,
    pub directory: DirectoryService,
    pub tokens: TokenServices,
    /// Upstream identity providers of brokered sign-in.
    pub providers: Providers,
    /// Credential requests per client address (this replica's count only).
    pub rate_limiter: RateLimiter,
    /// The audit log's queue (`crate::audit`).
    pub audit: AuditLog,
    /// What `/metrics` reports (recorded only when it is served).
    pub metrics: Metrics,
    /// The pool's checkout waits (also given to the pool when it was opened).
    pub pool_events: db::PoolEvents,
    /// Told to stop: `/readyz` fails and responses close their connections.
    draining: AtomicBool,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.inner
    }
}

/// What [`AppState::new`] is built from.
pub struct StateParts {
    pub settings: Settings,
    pub clock: Clock,
    pub public_url: String,
    pub pool: DbPool,
    pub hasher: PasswordHasher,
    pub default_tenant_id: String,
    pub ring: KeyRing,
    pub external_issuers: Vec<ExternalIssuer>,
    pub providers: Providers,
    /// The token status as loaded at start.
    pub status: TokenStatus,
    pub metrics: Metrics,
    pub pool_events: db::PoolEvents,
}

impl AppState {
    pub fn new(parts: StateParts) -> Self {
        let keys = KeyService::new(
            parts.settings.key_store(),
            parts.pool.clone(),
            parts.clock.clone(),
            parts.ring,
            key_retention(&parts.settings),
            parts.settings.key_rotation(),
        );
        let audit = AuditLog::start(
            parts.pool.clone(),
            parts.clock.clone(),
            parts.settings.audit_log,
            parts.settings.audit_retention_days,
        );
        AppState {
            inner: Arc::new(Inner {
                audit,
                directory: DirectoryService::new(
                    parts.pool.clone(),
                    parts.default_tenant_id,
                    std::time::Duration::from_secs(
                        parts.settings.db_outage_grace_seconds.unsigned_abs(),
                    ),
                ),
                tokens: TokenServices::new(parts.external_issuers, parts.status),
                rate_limiter: RateLimiter::new(
                    parts.settings.rate_limit.per_minute,
                    parts.settings.rate_limit.burst,
                ),
                keys,
                providers: parts.providers,
                settings: parts.settings,
                clock: parts.clock,
                public_url: parts.public_url,
                pool: parts.pool,
                hasher: parts.hasher,
                metrics: parts.metrics,
                pool_events: parts.pool_events,
                draining: AtomicBool::new(false),
            }),
        }
    }

    /// Runs a diesel closure on a blocking thread with a pooled connection.
    pub async fn db<T, F>(&self, f: F) -> DbResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> DbResult<T> + Send + 'static,
    {
        db::run(&self.pool, f).await
    }

    /// The housekeeping step of automatic key rotation (every replica runs it; one at
    /// a time acts), with its audit event and log line.
    pub async fn rotate_keys_if_due(&self) -> Result<RotationStep, KeyError> {
        use crate::audit::{AuditEvent, actor, kind};
        let step = self.keys.rotate_if_due().await?;
        let event = match &step {
            RotationStep::Nothing => return Ok(step),
            RotationStep::Published { kid, from } => {
                tracing::info!(kid = %kid, signs_from = *from, "next signing key published");
                AuditEvent::key(kind::KEY_PUBLISHED)
                    .detail("kid", kid.as_str())
                    .detail("signs_from", *from)
            }
            RotationStep::Promoted { kid, retired } => {
                tracing::info!(kid = %kid, ?retired, "signing key rotated");
                AuditEvent::key(kind::KEY_ROTATED)
                    .detail("kid", kid.as_str())
                    .detail("retired", retired.clone())
            }
        };
        self.audit.record(event.actor(actor::SYSTEM)).await;
        Ok(step)
    }

    /// From now on `/readyz` answers 503 and every response closes its connection.
    pub fn begin_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    /// Forgets every cached directory lookup and verified token, and has the token
    /// status read again (after changes made through this process).
    pub fn invalidate_caches(&self) {
        self.directory.invalidate();
        self.tokens.verified.clear();
        self.tokens.status.mark_stale();
    }
}

/// A retired key stays published while tokens it signed can still be valid, or for
/// `key_retention_hours` when longer.
pub fn key_retention(settings: &Settings) -> i64 {
    (settings.access_token_lifetime + 300).max(i64::from(settings.key_retention_hours) * 3600)
}
