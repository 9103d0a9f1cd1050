//! Builds the server: binds the listener (port 0 allowed), opens and migrates the
//! database, creates first-start data, loads the keys, and starts actix-web.

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};

use crate::audit::{self, AuditEvent};
use crate::clock::Clock;
use crate::config::{ConfigError, RunEnv, Settings, VerifyTenants};
use crate::crypto::keys::KeyError;
use crate::db::{self, DbError};
use crate::directory::{self, DirectoryError, bootstrap::Bootstrap};
use crate::http;
use crate::seed::{self, SeedReport};
use crate::state::{self, AppState, StateParts};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("database: {0}")]
    Db(#[from] DbError),
    #[error("signing keys: {0}")]
    Keys(#[from] KeyError),
    #[error("{0}")]
    Directory(#[from] DirectoryError),
    #[error("configuration: {0}")]
    Config(#[from] crate::config::ConfigError),
    #[error("crypto self-test failed: {0}")]
    SelfTest(String),
    #[error("TLS: {0}")]
    Tls(#[from] crate::tls::TlsError),
    #[error("start-up task failed: {0}")]
    Join(String),
    #[error(
        "refusing to start in production (env = production) while development conveniences are on; change:{}",
        .0.iter().map(|r| format!("\n  - {r}")).collect::<String>()
    )]
    Production(Vec<String>),
}

/// What a start did besides starting: shown in the banner.
#[derive(Debug, Default)]
pub struct StartReport {
    pub bootstrap: Option<Bootstrap>,
    pub seeded: Option<SeedReport>,
    /// The default tenant's default client, when it names one that exists.
    pub default_client: Option<crate::db::clients::Client>,
}

pub struct Application {
    port: u16,
    state: AppState,
    server: Server,
    /// The metrics listener's port and server, when `metrics_listen` is set.
    metrics: Option<(u16, Server)>,
    pub report: StartReport,
    /// The development CA to trust, when serving HTTPS.
    pub tls_ca: Option<crate::tls::DevCa>,
}

/// The host of a URL, without scheme, port or path.
fn host_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split('/').next()?;
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next()?,
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    (!host.is_empty()).then(|| host.to_owned())
}

/// Selects aws-lc-rs for jsonwebtoken once per process (a second call is a no-op).
pub fn install_crypto_provider() {
    let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
}

/// glibc raises its mmap threshold after the first large free, after which large
/// buffers (argon2's, when a hash of other parameters is checked) come from arenas
/// that keep the memory: fix the threshold so they go back to the system when freed.
fn tune_allocator() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| crate::sys::set_mmap_threshold(1 << 20));
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Application, StartError> {
        Self::build_with_clock(settings, Clock::system()).await
    }

    /// [`Application::build`] with the clock every expiry check reads: tests pass
    /// [`Clock::adjustable`] and move it instead of sleeping.
    pub async fn build_with_clock(
        settings: Settings,
        clock: Clock,
    ) -> Result<Application, StartError> {
        let refusals = settings.production_refusals();
        if !refusals.is_empty() {
            return Err(StartError::Production(refusals));
        }
        install_crypto_provider();
        tune_allocator();
        let addr = format!("{}:{}", settings.host, settings.port);
        let listener = TcpListener::bind(&addr).map_err(|source| StartError::Bind {
            addr: addr.clone(),
            source,
        })?;
        let port = listener
            .local_addr()
            .map_err(|source| StartError::Bind { addr, source })?
            .port();
        let scheme = if settings.tls { "https" } else { "http" };
        let public_url = settings
            .public_url
            .clone()
            .unwrap_or_else(|| format!("{scheme}://localhost:{port}"));
        let also = match &settings.also_listen {
            Some(addr) => Some(TcpListener::bind(addr).map_err(|source| StartError::Bind {
                addr: addr.clone(),
                source,
            })?),
            None => None,
        };
        let metrics_listener = match &settings.metrics_listen {
            Some(addr) => Some(TcpListener::bind(addr).map_err(|source| StartError::Bind {
                addr: addr.clone(),
                source,
            })?),
            None => None,
        };
        let tls = if settings.tls {
            let mut names = settings.tls_names.clone();
            if let Some(host) = host_of(&public_url) {
                names.push(host);
            }
            // An ephemeral server writes nothing: its CA lives in memory.
            let ca_dir = (!settings.ephemeral).then(|| settings.keys_dir.join("tls"));
            let mut tls = crate::tls::dev_tls(ca_dir.as_deref(), &names)?;
            if let Some(out) = &settings.tls_ca_out {
                crate::tls::write_ca_certificate(out, &tls.ca.pem)?;
                tls.ca.path.get_or_insert_with(|| out.clone());
            }
            Some(tls)
        } else {
            None
        };
        let tls_ca = tls.as_ref().map(|t| t.ca.clone());

        let hasher = settings.password_hasher()?;
        let pool_events = db::PoolEvents::default();
        let prepared = {
            let settings = settings.clone();
            let hasher = hasher.clone();
            let events = pool_events.clone();
            let now = clock.now();
            tokio::task::spawn_blocking(move || prepare(&settings, &hasher, events, now))
                .await
                .map_err(|e| StartError::Join(e.to_string()))??
        };
        hasher.warm_up();
        self_test(&prepared.ring)?;

        let external =
            crate::oauth::external::load(&settings.trusted_issuers, &clock).map_err(|reason| {
                StartError::Config(crate::config::ConfigError::Invalid {
                    name: "trusted_issuers",
                    reason,
                })
            })?;
        let providers = crate::oauth::broker::load(
            &settings.upstream_providers,
            &prepared.pool,
            &prepared.default_tenant_id,
        )
        .await
        .map_err(|reason| {
            StartError::Config(crate::config::ConfigError::Invalid {
                name: "upstream_providers",
                reason,
            })
        })?;
        let state = AppState::new(StateParts {
            settings: settings.clone(),
            clock,
            public_url,
            pool: prepared.pool,
            hasher,
            default_tenant_id: prepared.default_tenant_id,
            ring: prepared.ring,
            external_issuers: external,
            providers,
            status: prepared.status,
            metrics: crate::metrics::Metrics::new(metrics_listener.is_some()),
            pool_events,
        });
        let metrics = match metrics_listener {
            Some(l) => {
                let addr = settings.metrics_listen.clone().unwrap_or_default();
                let bind_error = |source| StartError::Bind {
                    addr: addr.clone(),
                    source,
                };
                let port = l.local_addr().map_err(bind_error)?.port();
                let server = crate::metrics::server::serve(l, state.clone()).map_err(bind_error)?;
                Some((port, server))
            }
            None => None,
        };
        let data = web::Data::new(state.clone());
        let journal = settings
            .dev
            .then(|| web::Data::new(http::journal::Journal::default()));
        if settings.dev {
            tracing::warn!(
                "the /_dev endpoints are on (--dev or --ephemeral): anyone who can reach this server can mint tokens"
            );
        }
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(http::form_config(http::MAX_BODY_BYTES))
                .app_data(http::json_config(http::MAX_BODY_BYTES))
                .app_data(web::PayloadConfig::new(http::MAX_BODY_BYTES))
                .wrap(actix_web::middleware::from_fn(http::cors_public_documents))
                .wrap(actix_web::middleware::from_fn(http::access_log))
                .configure(http::dev::app_routes(journal.clone()))
                .default_service(web::to(http::not_found))
        })
        .workers(settings.workers)
        // Signals are ours (`run_until_signalled`): /readyz must fail before the stop.
        .disable_signals()
        .shutdown_timeout(settings.shutdown_grace)
        .keep_alive(match settings.keep_alive {
            0 => actix_web::http::KeepAlive::Disabled,
            s => actix_web::http::KeepAlive::Timeout(std::time::Duration::from_secs(s)),
        });
        let bind_error = |source| StartError::Bind {
            addr: format!("port {port}"),
            source,
        };
        for l in std::iter::once(listener).chain(also) {
            server = match &tls {
                Some(t) => server
                    .listen_rustls_0_23(l, t.config.clone())
                    .map_err(bind_error)?,
                None => server.listen(l).map_err(bind_error)?,
            };
        }
        let server = server.run();

        Ok(Application {
            port,
            state,
            server,
            metrics,
            report: prepared.report,
            tls_ca,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn public_url(&self) -> &str {
        &self.state.public_url
    }

    /// The port `/metrics` is served on, when `metrics_listen` is set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(port, _)| *port)
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub fn server_handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until the server is stopped, with housekeeping alongside; then writes
    /// the audit events still queued.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let housekeeping = tokio::spawn(housekeeping(self.state.clone()));
        let metrics = self.metrics.map(|(_, server)| {
            let handle = server.handle();
            (handle, tokio::spawn(server))
        });
        let result = self.server.await;
        if let Some((handle, task)) = metrics {
            handle.stop(true).await;
            let _ = task.await;
        }
        housekeeping.abort();
        self.state.audit.shutdown().await;
        result
    }

    /// [`Application::run_until_stopped`], stopping gracefully on SIGTERM or SIGINT:
    /// `/readyz` fails at once, in-flight requests get `shutdown_grace` seconds to
    /// finish (a second signal cuts that short), then the audit log is flushed.
    /// `signals` are listened for from before the caller announced the server (a
    /// SIGTERM right after the banner must not find the default action, which kills).
    pub async fn run_until_signalled(self, signals: StopSignals) -> std::io::Result<()> {
        let stopper = tokio::spawn(stop_on_signal(
            signals,
            self.state.clone(),
            self.server_handle(),
        ));
        let result = self.run_until_stopped().await;
        stopper.abort();
        tracing::info!("stopped; audit log flushed");
        result
    }
}

/// SIGTERM and SIGINT, listened for from the moment this is made.
pub struct StopSignals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl StopSignals {
    /// Must run inside the runtime.
    pub fn listen() -> std::io::Result<StopSignals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(StopSignals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }
}

async fn stop_on_signal(
    signals: StopSignals,
    state: AppState,
    handle: actix_web::dev::ServerHandle,
) {
    let StopSignals { mut term, mut int } = signals;
    let name = tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    };
    state.begin_draining();
    let delay = state.settings.shutdown_delay;
    tracing::info!(
        signal = name,
        delay_seconds = delay,
        grace_seconds = state.settings.shutdown_grace,
        "shutting down: /readyz fails, in-flight requests finish"
    );
    let mut again = async || tokio::select! { _ = term.recv() => {}, _ = int.recv() => {} };
    // The listener stays open for `shutdown_delay` (requests are still answered, each
    // closing its connection) while load balancers see /readyz fail.
    if delay > 0 {
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(delay)) => {}
            _ = again() => {
                tracing::warn!("second signal: stopping without waiting for requests");
                handle.stop(false).await;
                return;
            }
        }
        tracing::info!("closing the listener");
    }
    let graceful = handle.stop(true);
    tokio::select! {
        _ = graceful => {}
        _ = again() => {
            tracing::warn!("second signal: stopping without waiting for requests");
            handle.stop(false).await;
        }
    }
}

struct Prepared {
    pool: db::DbPool,
    ring: crate::crypto::keys::KeyRing,
    default_tenant_id: String,
    report: StartReport,
    status: crate::oauth::status::TokenStatus,
}

/// Blocking start-up work: database, first-start data, seed, keys; everything up to
/// the first key under the database's start lock.
fn prepare(
    settings: &Settings,
    hasher: &crate::crypto::password::PasswordHasher,
    pool_events: db::PoolEvents,
    now: i64,
) -> Result<Prepared, StartError> {
    let pool = db::open_observed(&settings.database, settings.db_pool_size, pool_events)?;
    // Replicas starting together on one database take turns from here to the first
    // signing key: each finds what the first one made instead of making it again.
    let start = db::start_lock(&settings.database)?;
    let mut conn = pool.get().map_err(DbError::from)?;
    db::migrate(&mut conn)?;
    if settings.env == RunEnv::Production && directory::bootstrap::demo_data_present(&mut conn)? {
        return Err(StartError::Production(vec![format!(
            "the database holds the demo user and clients of a development start: delete them with `localidp user delete --tenant {t} --email {e}` and `localidp client delete CLIENT_ID` for demo-public and demo-api (`localidp client list --tenant {t}`)",
            t = directory::bootstrap::BOOTSTRAP_TENANT,
            e = directory::bootstrap::DEMO_EMAIL,
        )]));
    }
    let seed = match &settings.seed {
        Some(path) => Some(seed::read(path)?),
        None => None,
    };
    let mut report = StartReport::default();
    // A seed with tenants defines them; otherwise an empty database gets the
    // bootstrap tenant, with the demo user and clients unless seeding or told not to.
    let seed_has_tenants = seed.as_ref().is_some_and(|s| !s.tenants.is_empty());
    if !seed_has_tenants {
        report.bootstrap = directory::bootstrap::bootstrap(
            &mut conn,
            hasher,
            settings.demo && seed.is_none(),
            now,
        )?;
    }
    // The configured default tenant; else a seed's first tenant; else the oldest.
    let default_name = settings.default_tenant.clone().or_else(|| {
        seed.as_ref()
            .and_then(|s| s.tenants.first())
            .map(|t| t.name.clone())
    });
    if let Some(seed) = &seed {
        let hasher = hasher.for_seed();
        let apply =
            |c: &mut db::DbConnection| seed::apply(c, &hasher, seed, default_name.as_deref(), now);
        // An ephemeral server's seed (fixture hashes, so quick) goes in as one write;
        // elsewhere argon2id takes its time per user, and other writers their turns.
        report.seeded = Some(if settings.ephemeral {
            db::write_tx(&mut conn, apply)?
        } else {
            apply(&mut conn)?
        });
    }
    let default_tenant = directory::default_tenant(&mut conn, default_name.as_deref())?;
    if let VerifyTenants::DefaultAnd(listed) = &settings.verify_tenants {
        for t in listed {
            if db::tenants::find(&mut conn, t)?.is_none() {
                return Err(StartError::Config(ConfigError::Invalid {
                    name: "verify_tenants",
                    reason: format!("there is no tenant {t:?}"),
                }));
            }
        }
    }
    report.default_client = match &default_tenant.default_client_id {
        Some(id) => db::clients::find(&mut conn, id)?,
        None => None,
    };
    let store = settings.key_store();
    let mut events = report
        .bootstrap
        .as_ref()
        .map_or_else(Vec::new, |b| b.audit_events(audit::actor::SYSTEM));
    if let Some(seeded) = &mut report.seeded {
        events.append(&mut seeded.events);
    }
    if let Some(kid) = store.ensure_active(&mut conn, now)? {
        let event = AuditEvent::key(audit::kind::KEY_CREATED).actor(audit::actor::SYSTEM);
        events.push(event.detail("kid", kid));
    }
    // With a key-encryption key, keys still stored as PEM are encrypted now; keys
    // under another key-encryption key (or none given) stop the start here.
    let sealed = store.seal_unencrypted(&mut conn, now - state::key_retention(settings))?;
    if !sealed.is_empty() {
        tracing::info!(keys = sealed.len(), "signing keys encrypted at rest");
        let event = AuditEvent::key(audit::kind::KEY_ENCRYPTED).actor(audit::actor::SYSTEM);
        events.push(event.detail("kids", sealed));
    }
    audit::write_now(&mut conn, settings.audit_log, now, events)?;
    drop(start);
    let ring = store.load_ring(&mut conn, now, state::key_retention(settings))?;
    let status = crate::oauth::status::TokenStatus::load(
        &mut conn,
        now,
        crate::oauth::status::StatusConfig::from_settings(settings),
    )?;
    Ok(Prepared {
        pool,
        ring,
        default_tenant_id: default_tenant.id,
        report,
        status,
    })
}

/// Signs and verifies once, so a broken crypto backend fails the start, not a request.
fn self_test(ring: &crate::crypto::keys::KeyRing) -> Result<(), StartError> {
    let key = ring.active();
    let claims = serde_json::json!({"sub": "self-test", "exp": i64::MAX / 2});
    let token =
        crate::crypto::jwt::sign(key, &claims).map_err(|e| StartError::SelfTest(e.to_string()))?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.validate_aud = false;
    jsonwebtoken::decode::<serde_json::Value>(&token, &key.decoding, &validation)
        .map_err(|e| StartError::SelfTest(e.to_string()))?;
    Ok(())
}

/// Rotates the signing keys when due and picks up keys rotated elsewhere every minute; hourly, purges (see [`purge_expired`])
/// and measures the kinds of stored password hashes (also at start).
async fn housekeeping(state: AppState) {
    crate::oauth::sign_in::calibrate_timing(&state).await;
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    tick.tick().await;
    let mut n: u64 = 0;
    loop {
        tick.tick().await;
        n += 1;
        // Rotation (when due) reloads the keys too.
        if let Err(e) = state.rotate_keys_if_due().await {
            tracing::warn!(error = %e, "key rotation or reload failed");
        }
        if n.is_multiple_of(60) {
            purge_expired(&state).await;
            crate::oauth::sign_in::calibrate_timing(&state).await;
        }
    }
}

/// The hourly purge: refresh tokens past their expiry, ended sessions and old codes,
/// and audit events past their retention.
pub async fn purge_expired(state: &AppState) {
    let now = state.clock.now();
    match state
        .db(move |c| db::refresh_tokens::purge_expired(c, now))
        .await
    {
        Ok(purged) if purged > 0 => {
            tracing::info!(purged, "expired refresh tokens removed")
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "refresh token purge failed"),
    }
    let settings = state.settings.clone();
    if let Err(e) = state
        .db(move |c| crate::oauth::session::purge(c, &settings, now))
        .await
    {
        tracing::warn!(error = %e, "session and code purge failed");
    }
    match state.audit.purge_expired().await {
        Ok(purged) if purged > 0 => tracing::info!(purged, "audit events past retention removed"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "audit event purge failed"),
    }
}
