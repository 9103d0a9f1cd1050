//! `TestIdp`: an ephemeral localidp inside a Rust test process (cargo feature `testing`).
//!
//! The server runs on its own thread with its own actix runtime, on 127.0.0.1 port 0,
//! with an in-memory database and the `/_dev/*` endpoints, so it serves a test written
//! for tokio, actix or plain threads alike; it stops when the `TestIdp` is dropped.
//!
//! ```no_run
//! use localidp::testing::{TestClient, TestIdp, TestUser};
//!
//! let idp = TestIdp::builder()
//!     .user(TestUser::new("alice@contoso.com").password("alice-pw").roles(["Admin"]))
//!     .client(TestClient::confidential("my-api", "my-api-secret"))
//!     .start()
//!     .expect("localidp starts");
//! let token = idp.token_for("alice@contoso.com").expect("a token");
//! // call the API under test with `Authorization: Bearer {token}`;
//! // validate with idp.issuer() and idp.jwks_uri().
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::{Map, Value, json};
use tokio::sync::mpsc as jobs;

use crate::clock::Clock;
use crate::config::{ConfigArgs, Settings};
use crate::oauth::OAuthError;
use crate::oauth::authority::entra_issuer;
pub use crate::oauth::mint::{MintRequest, Minted};
use crate::seed::{SeedFile, SeedReport};

/// The hostile `variant`s of [`MintRequest`], each a token wrong in one way that an
/// API must refuse: `expired`, `not_yet_valid`, `wrong_audience`, `wrong_issuer`,
/// `foreign_key`, `alg_none`.
pub const HOSTILE_VARIANTS: [&str; 6] = crate::oauth::mint::Variant::HOSTILE;
use crate::startup::Application;
use crate::state::AppState;

/// The tenant a `TestIdp` makes when the builder names none.
pub const DEFAULT_TENANT: &str = "test.onmicrosoft.com";
/// The client a `TestIdp` makes when the builder names none: confidential, every grant.
pub const DEFAULT_CLIENT_ID: &str = "00000000-0000-4000-8000-0000000a11e5";
pub const DEFAULT_CLIENT_SECRET: &str = "test-client-secret";

/// Why a `TestIdp` did not start or did not mint.
#[derive(Debug, thiserror::Error)]
pub enum TestIdpError {
    #[error("localidp did not start: {0}")]
    Start(String),
    #[error("{error}: {description}")]
    Refused { error: String, description: String },
    #[error("the localidp server thread is gone")]
    Gone,
}

/// A tenant of the fixture (seed file `[[tenants]]`).
#[derive(Debug, Clone)]
pub struct TestTenant(Map<String, Value>);

impl TestTenant {
    pub fn new(name: &str) -> Self {
        TestTenant(obj(json!({ "name": name })))
    }
    /// The tenant GUID (`tid`, in issuers); default: a new one.
    pub fn id(self, id: &str) -> Self {
        self.set("id", json!(id))
    }
    /// B2C user flows served, e.g. `["B2C_1_signupsignin"]`.
    pub fn policies<S: Into<String>>(self, policies: impl IntoIterator<Item = S>) -> Self {
        self.set("policies", strings(policies))
    }
    /// Any other seed field of a tenant (`b2c_issuer`, `sign_up`, `default_client`, …).
    pub fn set(mut self, field: &str, value: Value) -> Self {
        self.0.insert(field.to_owned(), value);
        self
    }
}

/// A user of the fixture (seed file `[[users]]`); the password gets a fixture hash.
#[derive(Debug, Clone)]
pub struct TestUser(Map<String, Value>);

impl TestUser {
    /// A user who signs in with this email address (or user name, if it has no `@`).
    pub fn new(sign_in_name: &str) -> Self {
        let field = if sign_in_name.contains('@') {
            "email"
        } else {
            "username"
        };
        TestUser(obj(json!({ field: sign_in_name })))
    }
    pub fn password(self, password: &str) -> Self {
        self.set("password", json!(password))
    }
    pub fn oid(self, oid: &str) -> Self {
        self.set("oid", json!(oid))
    }
    pub fn name(self, name: &str) -> Self {
        self.set("name", json!(name))
    }
    pub fn roles<S: Into<String>>(self, roles: impl IntoIterator<Item = S>) -> Self {
        self.set("roles", strings(roles))
    }
    /// Group names; missing groups are created.
    pub fn groups<S: Into<String>>(self, groups: impl IntoIterator<Item = S>) -> Self {
        self.set("groups", strings(groups))
    }
    /// The tenant's name or GUID; default: the first tenant.
    pub fn tenant(self, tenant: &str) -> Self {
        self.set("tenant", json!(tenant))
    }
    /// Any other seed field of a user (`given_name`, `directory_roles`, `disabled`, …).
    pub fn set(mut self, field: &str, value: Value) -> Self {
        self.0.insert(field.to_owned(), value);
        self
    }
}

/// A client (application) of the fixture (seed file `[[clients]]`).
#[derive(Debug, Clone)]
pub struct TestClient(Map<String, Value>);

impl TestClient {
    pub fn confidential(client_id: &str, secret: &str) -> Self {
        TestClient(obj(json!({ "client_id": client_id, "secret": secret })))
    }
    pub fn public(client_id: &str) -> Self {
        TestClient(obj(json!({ "client_id": client_id, "public": true })))
    }
    /// The `roles` of its client-credentials tokens.
    pub fn app_roles<S: Into<String>>(self, roles: impl IntoIterator<Item = S>) -> Self {
        self.set("app_roles", strings(roles))
    }
    /// Microsoft Graph application permissions (`User.ReadWrite.All`, …).
    pub fn graph_permissions<S: Into<String>>(
        self,
        permissions: impl IntoIterator<Item = S>,
    ) -> Self {
        self.set("graph_permissions", strings(permissions))
    }
    pub fn redirect_uris<S: Into<String>>(self, uris: impl IntoIterator<Item = S>) -> Self {
        self.set("redirect_uris", strings(uris))
    }
    pub fn tenant(self, tenant: &str) -> Self {
        self.set("tenant", json!(tenant))
    }
    /// Any other seed field of a client (`grant_types`, `spa`, `optional_claims`, …).
    pub fn set(mut self, field: &str, value: Value) -> Self {
        self.0.insert(field.to_owned(), value);
        self
    }
}

fn strings<S: Into<String>>(items: impl IntoIterator<Item = S>) -> Value {
    Value::Array(items.into_iter().map(|s| Value::String(s.into())).collect())
}

fn obj(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// Builds a [`TestIdp`]: its tenants, users, groups and clients are a seed file's.
#[derive(Debug, Default)]
pub struct TestIdpBuilder {
    tenants: Vec<TestTenant>,
    users: Vec<TestUser>,
    clients: Vec<TestClient>,
    groups: Vec<Value>,
    access_token_lifetime: Option<i64>,
}

impl TestIdpBuilder {
    /// A tenant; without one the fixture has [`DEFAULT_TENANT`]. The first is the default.
    pub fn tenant(mut self, tenant: TestTenant) -> Self {
        self.tenants.push(tenant);
        self
    }
    pub fn user(mut self, user: TestUser) -> Self {
        self.users.push(user);
        self
    }
    /// A client; without one the fixture has [`DEFAULT_CLIENT_ID`]. A tenant's first
    /// client is its default client (the one `token_for` issues to) unless the tenant
    /// names another.
    pub fn client(mut self, client: TestClient) -> Self {
        self.clients.push(client);
        self
    }
    /// A group by name (users' `groups` create theirs anyway), for a fixed `id`.
    pub fn group(mut self, name: &str, id: &str) -> Self {
        self.groups.push(json!({ "name": name, "id": id }));
        self
    }
    /// Seconds access tokens live (default: the server's, 3600).
    pub fn access_token_lifetime(mut self, seconds: i64) -> Self {
        self.access_token_lifetime = Some(seconds);
        self
    }

    /// The seed file these make, as JSON.
    fn seed(&self) -> Value {
        let mut tenants: Vec<Map<String, Value>> =
            self.tenants.iter().map(|t| t.0.clone()).collect();
        if tenants.is_empty() {
            tenants.push(TestTenant::new(DEFAULT_TENANT).0);
        }
        let mut clients: Vec<Map<String, Value>> =
            self.clients.iter().map(|c| c.0.clone()).collect();
        if clients.is_empty() {
            clients.push(TestClient::confidential(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET).0);
        }
        for (i, tenant) in tenants.iter_mut().enumerate() {
            if tenant.contains_key("default_client") {
                continue;
            }
            let names = [tenant.get("name").cloned(), tenant.get("id").cloned()];
            let first = clients.iter().find(|c| match c.get("tenant") {
                None => i == 0,
                Some(t) => names.iter().flatten().any(|n| n == t),
            });
            if let Some(id) = first.and_then(|c| c.get("client_id")).cloned() {
                tenant.insert("default_client".to_owned(), id);
            }
        }
        json!({
            "tenants": tenants,
            "groups": self.groups,
            "users": self.users.iter().map(|u| &u.0).collect::<Vec<_>>(),
            "clients": clients,
        })
    }

    /// Starts the server and waits until it listens.
    pub fn start(self) -> Result<TestIdp, TestIdpError> {
        static STARTS: AtomicU64 = AtomicU64::new(0);
        let seed_path = std::env::temp_dir().join(format!(
            "localidp-testidp-{}-{}.json",
            std::process::id(),
            STARTS.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&seed_path, self.seed().to_string())
            .map_err(|e| TestIdpError::Start(format!("cannot write the seed: {e}")))?;
        let settings = Settings::from_args(ConfigArgs {
            host: Some("127.0.0.1".into()),
            port: Some(0),
            ephemeral: true,
            seed: Some(seed_path.clone()),
            workers: Some(2),
            access_token_lifetime: self.access_token_lifetime,
            ..Default::default()
        })
        .map_err(|e| TestIdpError::Start(e.to_string()));
        let settings = match settings {
            Ok(s) => s,
            Err(e) => {
                let _ = std::fs::remove_file(&seed_path);
                return Err(e);
            }
        };
        let started = TestIdp::spawn(settings);
        let _ = std::fs::remove_file(&seed_path);
        started
    }
}

/// What the test thread asks of the server thread, whose runtime runs the server.
enum Job {
    Mint(Box<MintRequest>, mpsc::Sender<Result<Minted, OAuthError>>),
    Seed(Box<SeedFile>, mpsc::Sender<Result<SeedReport, String>>),
    Stop,
}

/// What the server thread hands back once it listens.
struct Running {
    state: AppState,
    base_url: String,
    jobs: jobs::UnboundedSender<Job>,
}

/// A localidp server for one test; see the [module](self) docs.
pub struct TestIdp {
    running: Running,
    clock: Clock,
    tenant_id: String,
    thread: Option<JoinHandle<()>>,
}

impl TestIdp {
    pub fn builder() -> TestIdpBuilder {
        TestIdpBuilder::default()
    }

    /// A fixture with [`DEFAULT_TENANT`], [`DEFAULT_CLIENT_ID`] and no users.
    pub fn start() -> Result<TestIdp, TestIdpError> {
        Self::builder().start()
    }

    fn spawn(settings: Settings) -> Result<TestIdp, TestIdpError> {
        let clock = Clock::adjustable();
        let (tx, rx) = mpsc::channel::<Result<Running, String>>();
        let server_clock = clock.clone();
        let thread = std::thread::Builder::new()
            .name("localidp-testidp".into())
            .spawn(move || {
                actix_web::rt::System::new().block_on(async move {
                    let app = match Application::build_with_clock(settings, server_clock).await {
                        Ok(app) => app,
                        Err(e) => {
                            let _ = tx.send(Err(e.to_string()));
                            return;
                        }
                    };
                    let (job_tx, mut job_rx) = jobs::unbounded_channel();
                    let state = app.state().clone();
                    let base_url = app.public_url().to_owned();
                    let server = app.server_handle();
                    let running = Running {
                        state: state.clone(),
                        base_url: base_url.clone(),
                        jobs: job_tx,
                    };
                    // Jobs run here, on the server's runtime (its blocking pool and database).
                    actix_web::rt::spawn(async move {
                        while let Some(job) = job_rx.recv().await {
                            match job {
                                Job::Mint(request, reply) => {
                                    let (state, base) = (state.clone(), base_url.clone());
                                    actix_web::rt::spawn(async move {
                                        let minted =
                                            crate::oauth::mint::mint(&state, base, *request).await;
                                        let _ = reply.send(minted);
                                    });
                                }
                                Job::Seed(seed, reply) => {
                                    let state = state.clone();
                                    actix_web::rt::spawn(async move {
                                        let _ = reply.send(apply_seed(&state, *seed).await);
                                    });
                                }
                                Job::Stop => break,
                            }
                        }
                        // A stop, or every sender gone: the TestIdp was dropped.
                        server.stop(false).await;
                    });
                    let _ = tx.send(Ok(running));
                    if let Err(e) = app.run_until_stopped().await {
                        tracing::error!("the test server stopped: {e}");
                    }
                });
            })
            .map_err(|e| TestIdpError::Start(format!("cannot start a thread: {e}")))?;
        let running = match rx.recv() {
            Ok(Ok(running)) => running,
            Ok(Err(e)) => {
                let _ = thread.join();
                return Err(TestIdpError::Start(e));
            }
            Err(_) => {
                let _ = thread.join();
                return Err(TestIdpError::Gone);
            }
        };
        let tenant_id = running.state.directory.default_tenant_id().to_string();
        Ok(TestIdp {
            running,
            clock,
            tenant_id,
            thread: Some(thread),
        })
    }

    /// `http://localhost:{port}`, the issuer's base.
    pub fn base_url(&self) -> &str {
        &self.running.base_url
    }
    /// `base_url` followed by `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.running.base_url)
    }
    /// The default tenant's GUID.
    pub fn tenant_id(&self) -> &str {
        &self.tenant_id
    }
    /// The Entra authority for MSAL: `{base}/{tenant id}`.
    pub fn authority(&self) -> String {
        self.url(&format!("/{}", self.tenant_id))
    }
    /// The B2C authority of a user flow: `{base}/{tenant id}/{policy}`.
    pub fn b2c_authority(&self, policy: &str) -> String {
        self.url(&format!("/{}/{policy}", self.tenant_id))
    }
    /// The `iss` of the default tenant's Entra v2 tokens.
    pub fn issuer(&self) -> String {
        entra_issuer(&self.running.base_url, &self.tenant_id)
    }
    /// Where the signing keys are published (JWKS).
    pub fn jwks_uri(&self) -> String {
        self.url(&format!("/{}/discovery/v2.0/keys", self.tenant_id))
    }
    /// The server's clock: `advance` it to expire tokens, codes and sessions.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }
    /// The server's state, for what the methods here do not cover.
    pub fn state(&self) -> &AppState {
        &self.running.state
    }

    /// A valid access token for this user (email or user name) from the tenant's
    /// default client, with the claims a password sign-in would give.
    pub fn token_for(&self, user: &str) -> Result<String, TestIdpError> {
        self.token_for_scope(user, "openid profile")
    }

    /// As [`token_for`](Self::token_for) with a scope, e.g. `api://my-api/.default`,
    /// which decides `aud` and `scp`.
    pub fn token_for_scope(&self, user: &str, scope: &str) -> Result<String, TestIdpError> {
        let minted = self.mint(MintRequest {
            user: Some(user.to_owned()),
            scope: Some(scope.to_owned()),
            kind: Some("access".to_owned()),
            ..Default::default()
        })?;
        minted.access_token.ok_or(TestIdpError::Gone)
    }

    /// Mints as `POST /_dev/token` does: any user, client, flavour, claim, lifetime,
    /// or a hostile `variant` (`expired`, `wrong_audience`, `foreign_key`, …).
    pub fn mint(&self, request: MintRequest) -> Result<Minted, TestIdpError> {
        let (tx, rx) = mpsc::channel();
        if self
            .running
            .jobs
            .send(Job::Mint(Box::new(request), tx))
            .is_err()
        {
            return Err(TestIdpError::Gone);
        }
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(Ok(minted)) => Ok(minted),
            Ok(Err(e)) => Err(TestIdpError::Refused {
                error: e.code.as_str().to_owned(),
                description: e.description,
            }),
            Err(_) => Err(TestIdpError::Gone),
        }
    }
}

/// Applies a seed on a running server, as its start would (fixture hashes; what exists
/// is left alone), audited, then drops the directory caches so the next request sees it.
async fn apply_seed(state: &AppState, seed: SeedFile) -> Result<SeedReport, String> {
    let hasher = state.hasher.for_seed();
    let (audit, now) = (state.settings.audit_log, state.clock.now());
    let applied = state
        .db(move |c| {
            Ok(crate::db::write_tx(c, |c| {
                let mut report = crate::seed::apply(c, &hasher, &seed, None, now)?;
                let events = std::mem::take(&mut report.events);
                crate::audit::write_now(c, audit, now, events)?;
                Ok::<_, crate::directory::DirectoryError>(report)
            }))
        })
        .await;
    state.invalidate_caches();
    match applied {
        Ok(Ok(report)) => Ok(report),
        Ok(Err(e)) => Err(e.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

impl TestIdp {
    /// Adds a user while the server runs (a fixture hash for its password, as the
    /// seed's); an existing email address or user name is an error.
    pub fn add_user(&self, user: TestUser) -> Result<(), TestIdpError> {
        let report = self.apply(json!({ "users": [user.0] }))?;
        if report.users == 0 {
            return Err(TestIdpError::Refused {
                error: "conflict".into(),
                description: "a user with this email address or user name exists".into(),
            });
        }
        Ok(())
    }

    /// Adds a client (application) while the server runs; an existing client id is an
    /// error.
    pub fn add_client(&self, client: TestClient) -> Result<(), TestIdpError> {
        let report = self.apply(json!({ "clients": [client.0] }))?;
        if report.clients == 0 {
            return Err(TestIdpError::Refused {
                error: "conflict".into(),
                description: "a client with this client id exists".into(),
            });
        }
        Ok(())
    }

    fn apply(&self, seed: Value) -> Result<SeedReport, TestIdpError> {
        let refused = |description: String| TestIdpError::Refused {
            error: "invalid_request".into(),
            description,
        };
        let seed: SeedFile = serde_json::from_value(seed).map_err(|e| refused(e.to_string()))?;
        let (tx, rx) = mpsc::channel();
        if self
            .running
            .jobs
            .send(Job::Seed(Box::new(seed), tx))
            .is_err()
        {
            return Err(TestIdpError::Gone);
        }
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(result) => result.map_err(refused),
            Err(_) => Err(TestIdpError::Gone),
        }
    }
}

impl Drop for TestIdp {
    fn drop(&mut self) {
        let _ = self.running.jobs.send(Job::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
