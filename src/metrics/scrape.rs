//! One scrape: the recorded families, and the values read now (pool, caches, keys,
//! hashing queue), gathered into a registry built for this answer and encoded in the
//! Prometheus text format (0.0.4) or OpenMetrics. Nothing here waits on the database.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::registry::Registry;

use crate::state::AppState;

/// The exposition formats a scraper may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `text/plain; version=0.0.4`: what Prometheus reads by default.
    Text,
    /// `application/openmetrics-text; version=1.0.0`, when the `Accept` header names it.
    OpenMetrics,
}

impl Format {
    /// OpenMetrics when `accept` names it, else the 0.0.4 text format.
    pub fn from_accept(accept: Option<&str>) -> Format {
        match accept {
            Some(a) if a.contains("application/openmetrics-text") => Format::OpenMetrics,
            _ => Format::Text,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Text => prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CacheLabels {
    cache: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
}

/// The registry of this scrape.
fn registry(state: &AppState) -> Registry {
    let m = &state.metrics;
    let mut r = Registry::with_prefix("localidp");
    let build = Family::<BuildLabels, Gauge>::default();
    build
        .get_or_create(&BuildLabels {
            version: env!("CARGO_PKG_VERSION"),
        })
        .set(1);
    r.register("build_info", "The running version (always 1)", build);
    r.register(
        "process_start_time_seconds",
        "When this process started, unix seconds",
        ConstGauge::new(m.started_at()),
    );
    r.register(
        "http_requests",
        "HTTP requests answered, by route pattern, method and status",
        m.requests.clone(),
    );
    r.register(
        "http_request_duration_seconds",
        "Time from a request's arrival to its response's head, by route pattern and method",
        m.request_seconds.clone(),
    );
    r.register(
        "tokens_issued",
        "Token responses from the token endpoint, by grant and flavour (plain, entra, b2c)",
        m.tokens_issued.clone(),
    );
    r.register(
        "token_requests_refused",
        "Token requests refused, by grant, flavour and reason",
        m.token_failures.clone(),
    );
    r.register(
        "sign_in_failures",
        "Password sign-ins that failed, by reason",
        m.sign_in_failures.clone(),
    );
    r.register(
        "refresh_token_families_revoked",
        "Refresh token families ended by a spent token presented again, by reason",
        m.refresh_families_revoked.clone(),
    );
    r.register(
        "account_lockouts",
        "Accounts locked by smart lockout",
        m.lockouts.clone(),
    );
    hashing(&mut r, state);
    pool(&mut r, state);
    caches(&mut r, state);
    keys(&mut r, state);
    r
}

fn hashing(r: &mut Registry, state: &AppState) {
    let queue = state.hasher.queue_stats();
    r.register(
        "password_hash_queue_depth",
        "Password checks waiting for a hashing thread",
        ConstGauge::new(queue.waiting()),
    );
    r.register(
        "password_hash_queue_wait_seconds",
        "How long each password check waited for a hashing thread",
        queue.wait.clone(),
    );
    r.register(
        "password_hash_refused",
        "Password checks refused because the queue was full (answered 503)",
        queue.refused.clone(),
    );
}

fn pool(r: &mut Registry, state: &AppState) {
    let now = state.pool.state();
    r.register(
        "db_pool_connections",
        "Database connections open in the pool",
        ConstGauge::new(i64::from(now.connections)),
    );
    r.register(
        "db_pool_idle_connections",
        "Open database connections not checked out",
        ConstGauge::new(i64::from(now.idle_connections)),
    );
    r.register(
        "db_pool_max_connections",
        "The pool's size (db_pool_size)",
        ConstGauge::new(i64::from(state.pool.max_size())),
    );
    r.register(
        "db_pool_checkout_wait_seconds",
        "How long each database connection checkout waited",
        state.pool_events.checkout_wait.clone(),
    );
    r.register(
        "db_pool_checkout_timeouts",
        "Checkouts that gave up waiting for a connection",
        state.pool_events.checkout_timeouts.clone(),
    );
}

fn caches(r: &mut Registry, state: &AppState) {
    let mut all = state.directory.cache_stats().to_vec();
    all.push(("verified_tokens", state.tokens.verified.stats()));
    let hits = Family::<CacheLabels, Counter>::default();
    let misses = Family::<CacheLabels, Counter>::default();
    let entries = Family::<CacheLabels, Gauge>::default();
    for (cache, stats) in all {
        let labels = CacheLabels { cache };
        hits.get_or_create(&labels).inc_by(stats.hits);
        misses.get_or_create(&labels).inc_by(stats.misses);
        entries
            .get_or_create(&labels)
            .set(i64::try_from(stats.entries).unwrap_or(i64::MAX));
    }
    r.register("cache_hits", "Cache look-ups that found a live entry", hits);
    r.register(
        "cache_misses",
        "Cache look-ups that found none or an expired one",
        misses,
    );
    r.register("cache_entries", "Entries held now", entries);
}

fn keys(r: &mut Registry, state: &AppState) {
    let ring = state.keys.ring();
    let now = state.clock.now();
    let age = now - ring.active().signs_from();
    r.register(
        "signing_key_age_seconds",
        "Seconds since the active signing key began signing",
        ConstGauge::new(age.max(0)),
    );
    r.register(
        "signing_keys_published",
        "Keys in the JWKS (active, next and retired ones still published)",
        ConstGauge::new(i64::try_from(ring.keys().len()).unwrap_or(i64::MAX)),
    );
}

/// The exposition of everything, in `format`.
pub fn render(state: &AppState, format: Format) -> Result<String, std::fmt::Error> {
    let registry = registry(state);
    let mut out = String::with_capacity(16 * 1024);
    match format {
        Format::Text => prometheus_client::encoding::prometheus_text::encode(&mut out, &registry)?,
        Format::OpenMetrics => prometheus_client::encoding::text::encode(&mut out, &registry)?,
    }
    Ok(out)
}
