//! Test fixture: the real server on port 0 over a fresh database (a SQLite file, or a
//! schema of its own in PostgreSQL), talked to over HTTP, on a clock the test moves.

mod browser;
pub mod clients;
pub mod graph;
pub mod process;
pub mod proxy;
pub mod replica;

pub use browser::*;

use std::path::PathBuf;
use std::sync::{Arc, Once};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use localidp::clock::Clock;
use localidp::config::{ConfigArgs, Settings};
use localidp::db::audit_events::{self, AuditFilter, AuditRow};
use localidp::startup::Application;
use serde_json::Value;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

pub const PUBLIC_URL: &str = "http://localidp.test";
pub const CONTOSO_ID: &str = "11111111-1111-4111-8111-111111111111";
pub const FABRIKAM_ID: &str = "22222222-2222-4222-8222-222222222222";
pub const WEB_APP: &str = "aaaaaaaa-0000-4000-8000-000000000001";
pub const WEB_APP_SECRET: &str = "web-app-secret-0123456789abcdefghijklmnop";
pub const PUBLIC_APP: &str = "aaaaaaaa-0000-4000-8000-000000000002";
pub const API_APP: &str = "aaaaaaaa-0000-4000-8000-000000000003";
pub const API_APP_SECRET: &str = "api-app-secret-0123456789abcdefghijklmnop";
pub const DAEMON_ONLY: &str = "aaaaaaaa-0000-4000-8000-000000000004";
pub const DAEMON_SECRET: &str = "daemon-secret-0123456789abcdefghijklmnopq";
pub const FABRIKAM_APP: &str = "bbbbbbbb-0000-4000-8000-000000000001";
pub const FABRIKAM_SECRET: &str = "fabrikam-secret-0123456789abcdefghijklmno";
pub const ALICE: &str = "alice@contoso.com";
pub const ALICE_PASSWORD: &str = "alice-password";
pub const ALICE_OID: &str = "a11ce000-0000-4000-8000-000000000001";
pub const CAROL_PASSWORD: &str = "carol-password";
pub const DAVE_PASSWORD: &str = "dave-password";

/// Which database a test runs against.
#[derive(Clone, Debug)]
pub enum Backend {
    Sqlite,
    Postgres(String),
}

/// Makes each named `async fn(Backend)` two tests, `NAME::sqlite` and `NAME::postgres`;
/// the PostgreSQL one passes without running when LOCALIDP_TEST_POSTGRES_URL is unset.
macro_rules! on_every_backend {
    ($($test:ident),+ $(,)?) => {$(
        mod $test {
            #[tokio::test]
            async fn sqlite() {
                super::$test($crate::helpers::Backend::Sqlite).await
            }

            #[tokio::test]
            async fn postgres() {
                if let Some(url) = $crate::helpers::postgres_url() {
                    super::$test($crate::helpers::Backend::Postgres(url)).await
                }
            }
        }
    )+};
}
pub(crate) use on_every_backend;

pub fn postgres_url() -> Option<String> {
    std::env::var("LOCALIDP_TEST_POSTGRES_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

/// What a test server lives on: a temp dir, and maybe its own PostgreSQL schema,
/// dropped when the last server using them is gone.
pub struct Fixture {
    /// Kept for its Drop, which removes the directory.
    _dir: tempfile::TempDir,
    /// The server URL and the schema's name.
    postgres: Option<(String, String)>,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        use diesel::Connection;
        use diesel::connection::SimpleConnection;
        if let Some((base, name)) = &self.postgres
            && let Ok(mut admin) = diesel::PgConnection::establish(base)
        {
            let _ = admin.batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"));
        }
    }
}

/// A fresh schema, named uniquely, in the PostgreSQL database at `base_url`; returns
/// a URL whose connections see only that schema (libpq's `options` sets their
/// `search_path`), and the schema's name. A schema rather than a database per test:
/// CREATE DATABASE copies a template and takes up to a second.
pub fn fresh_postgres_schema(base_url: &str) -> (String, String) {
    use diesel::Connection;
    use diesel::connection::SimpleConnection;
    let mut admin = diesel::PgConnection::establish(base_url)
        .unwrap_or_else(|e| panic!("cannot reach {base_url}: {e}"));
    let name = format!("localidp_test_{}", uuid::Uuid::new_v4().simple());
    admin
        .batch_execute(&format!("CREATE SCHEMA {name}"))
        .expect("create test schema");
    let separator = if base_url.contains('?') { '&' } else { '?' };
    (
        format!("{base_url}{separator}options=-csearch_path%3D{name}"),
        name,
    )
}

pub fn bcrypt_hash(password: &str) -> String {
    bcrypt::hash(password, 4).unwrap()
}

/// The seed every test starts from.
pub fn seed_toml() -> String {
    let carol = bcrypt_hash(CAROL_PASSWORD);
    // PHP and passlib write $2y$ and $2a$; both must verify.
    let dave = bcrypt_hash(DAVE_PASSWORD).replacen("$2b$", "$2y$", 1);
    format!(
        r#"
[[tenants]]
name = "contoso.onmicrosoft.com"
id = "{CONTOSO_ID}"
display_name = "Contoso"
policies = ["B2C_1_ROPC", "B2C_1_signupsignin"]
default_client = "{WEB_APP}"

[[tenants]]
name = "fabrikam.onmicrosoft.com"
id = "{FABRIKAM_ID}"
policies = ["B2C_1_signin"]
b2c_issuer = "tfp"
sign_up = true
forgot_password = true
logout_requires_id_token = true

[[clients]]
client_id = "{WEB_APP}"
name = "web app"
secret = "{WEB_APP_SECRET}"
app_roles = ["Tasks.Read.All"]

[[clients]]
client_id = "{PUBLIC_APP}"
name = "spa"
public = true

[[clients]]
client_id = "{API_APP}"
name = "tasks api"
secret = "{API_APP_SECRET}"

[[clients]]
client_id = "{DAEMON_ONLY}"
name = "daemon"
secret = "{DAEMON_SECRET}"
grant_types = ["client_credentials"]

[[clients]]
client_id = "{FABRIKAM_APP}"
tenant = "fabrikam.onmicrosoft.com"
secret = "{FABRIKAM_SECRET}"

[[users]]
email = "{ALICE}"
password = "{ALICE_PASSWORD}"
oid = "{ALICE_OID}"
given_name = "Alice"
family_name = "Smith"
roles = ["Admin", "Tasks.Write"]
groups = ["admins", "everyone"]

[[users]]
email = "bob@contoso.com"
password = "bob-password"
disabled = true

[[users]]
email = "carol@contoso.com"
password_hash = "{carol}"
name = "Carol Imported"

[[users]]
email = "dave@contoso.com"
password_hash = "{dave}"

[[users]]
email = "erin@fabrikam.com"
password = "erin-password"
tenant = "fabrikam.onmicrosoft.com"
{interactive}"#,
        interactive = interactive_seed(),
    )
}

pub const RP_WEB: &str = "cccccccc-0000-4000-8000-000000000001";
pub const RP_WEB_SECRET: &str = "rp-web-secret-0123456789abcdefghijklmnopq";
pub const RP_WEB_CALLBACK: &str = "http://rp.test/signin-oidc";
pub const RP_WEB_SIGNED_OUT: &str = "http://rp.test/signed-out?from=idp";
pub const RP_SPA: &str = "cccccccc-0000-4000-8000-000000000002";
pub const RP_SPA_CALLBACK: &str = "http://spa.test/callback";
pub const RP_PASSWORD_ONLY: &str = "cccccccc-0000-4000-8000-000000000003";
pub const RP_FABRIKAM: &str = "dddddddd-0000-4000-8000-000000000001";
/// A single-page app with Entra's typed redirect URIs (MSAL.js's shape).
pub const MSAL_SPA: &str = "cccccccc-0000-4000-8000-000000000005";
pub const MSAL_SPA_ORIGIN: &str = "http://localhost:5173";
pub const MSAL_SPA_REDIRECT: &str = "http://localhost:5173/";
pub const MSAL_SPA_SIGNED_OUT: &str = "http://localhost:5173/signed-out";
pub const FABRIKAM_SPA: &str = "dddddddd-0000-4000-8000-000000000002";
pub const FABRIKAM_SPA_ORIGIN: &str = "http://localhost:5174";
pub const RP_FABRIKAM_SECRET: &str = "rp-fabrikam-secret-0123456789abcdefghijk";

/// Relying parties of the interactive flow, with registered redirect URIs.
fn interactive_seed() -> String {
    format!(
        r#"
[[clients]]
client_id = "{RP_WEB}"
name = "Contoso Web"
secret = "{RP_WEB_SECRET}"
redirect_uris = ["{RP_WEB_CALLBACK}", "{RP_WEB_SIGNED_OUT}"]

[[clients]]
client_id = "{RP_SPA}"
name = "Contoso SPA"
public = true
redirect_uris = ["{RP_SPA_CALLBACK}"]

[[clients]]
client_id = "{RP_PASSWORD_ONLY}"
name = "password only"
secret = "{RP_WEB_SECRET}"
redirect_uris = ["{RP_WEB_CALLBACK}"]
grant_types = ["password"]

[[clients]]
client_id = "{RP_FABRIKAM}"
name = "Fabrikam Web"
tenant = "fabrikam.onmicrosoft.com"
secret = "{RP_FABRIKAM_SECRET}"
redirect_uris = ["{RP_WEB_CALLBACK}"]

[[clients]]
client_id = "{MSAL_SPA}"
name = "Contoso MSAL SPA"
public = true
spa = {{ redirect_uris = ["{MSAL_SPA_REDIRECT}", "{MSAL_SPA_SIGNED_OUT}"] }}
publicClient = {{ redirectUris = ["msal{MSAL_SPA}://auth"] }}

[[clients]]
client_id = "{FABRIKAM_SPA}"
name = "Fabrikam SPA"
tenant = "fabrikam.onmicrosoft.com"
public = true
spa = {{ redirect_uris = ["{FABRIKAM_SPA_ORIGIN}/"] }}
"#
    )
}

pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub settings: Settings,
    handle: actix_web::dev::ServerHandle,
    pub state: localidp::state::AppState,
    pub fixture: Arc<Fixture>,
    /// `http://127.0.0.1:PORT` of the metrics listener, when `metrics_listen` was set.
    pub metrics_base: Option<String>,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The server's time, unix seconds.
    pub fn now(&self) -> i64 {
        self.state.clock.now()
    }

    /// Moves the server's clock forward, so tokens, codes and sessions expire without
    /// the test waiting for them.
    pub fn advance(&self, by: Duration) {
        self.state.clock.advance(by);
    }

    /// Moves the server's clock up to the system time when it is behind: the CLI runs
    /// as its own process on the system clock, so a test that mixes its changes with
    /// the server's calls this after each command to keep their times in order.
    pub fn catch_up_with_system_clock(&self) {
        let system = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let behind = system - self.now();
        if behind > 0 {
            self.advance(Duration::from_secs(behind as u64));
        }
    }

    pub async fn stop(self) -> (Settings, Arc<Fixture>) {
        self.handle.stop(true).await;
        (self.settings, self.fixture)
    }

    /// POSTs a form to a path.
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .form(form)
            .send()
            .await
            .expect("POST")
    }

    pub async fn token(&self, form: &[(&str, &str)]) -> reqwest::Response {
        self.post_form("/auth/token", form).await
    }

    pub async fn tenant_token(&self, tenant: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.post_form(&format!("/{tenant}/oauth2/v2.0/token"), form)
            .await
    }

    /// A password-grant token response for a user via the web app.
    pub async fn password_tokens(&self, user: &str, password: &str, scope: &str) -> Value {
        let res = self
            .token(&[
                ("grant_type", "password"),
                ("client_id", WEB_APP),
                ("client_secret", WEB_APP_SECRET),
                ("username", user),
                ("password", password),
                ("scope", scope),
            ])
            .await;
        assert_eq!(res.status(), 200, "password grant for {user}");
        res.json().await.unwrap()
    }

    /// A password-grant token response for alice via the web app.
    pub async fn alice_tokens(&self, scope: &str) -> Value {
        self.password_tokens(ALICE, ALICE_PASSWORD, scope).await
    }

    /// Redeems a refresh token as the web app, with extra form fields.
    pub async fn refresh(&self, token: &str, extra: &[(&str, &str)]) -> reqwest::Response {
        self.refresh_as(WEB_APP, WEB_APP_SECRET, token, extra).await
    }

    /// Redeems a refresh token as the given confidential client.
    pub async fn refresh_as(
        &self,
        client_id: &str,
        client_secret: &str,
        token: &str,
        extra: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("client_id", client_id),
            ("client_secret", client_secret),
            ("refresh_token", token),
        ];
        form.extend_from_slice(extra);
        self.token(&form).await
    }

    /// Redeems an authorization code as the Contoso web relying party.
    pub async fn redeem_code(&self, code: &str, verifier: Option<&str>) -> reqwest::Response {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("client_id", RP_WEB),
            ("client_secret", RP_WEB_SECRET),
            ("code", code),
            ("redirect_uri", RP_WEB_CALLBACK),
        ];
        if let Some(v) = verifier {
            form.push(("code_verifier", v));
        }
        self.token(&form).await
    }

    /// GET a path and parse its JSON body.
    pub async fn get_json(&self, path: &str) -> Value {
        self.get_status_and_json(path).await.1
    }

    /// GET a path: its status and JSON body.
    pub async fn get_status_and_json(&self, path: &str) -> (u16, Value) {
        let res = self.http.get(self.url(path)).send().await.expect("GET");
        let status = res.status().as_u16();
        (status, res.json().await.expect("JSON body"))
    }

    /// GET a path with a query: its status and body text (an HTML page).
    pub async fn get_page(&self, path: &str, query: &[(&str, &str)]) -> (u16, String) {
        let res = self
            .http
            .get(self.url(path))
            .query(query)
            .send()
            .await
            .expect("GET");
        (res.status().as_u16(), res.text().await.expect("body text"))
    }

    pub async fn verify(&self, token: &str) -> reqwest::Response {
        self.http
            .get(self.url("/auth/verify"))
            .bearer_auth(token)
            .send()
            .await
            .expect("verify request")
    }

    pub async fn userinfo(&self, token: &str) -> reqwest::Response {
        self.http
            .get(self.url("/userinfo"))
            .bearer_auth(token)
            .send()
            .await
            .expect("userinfo request")
    }

    /// What /introspect says of a token, asked by the Contoso web relying party.
    pub async fn introspect(&self, token: &str) -> Value {
        let res = self
            .http
            .post(self.url("/introspect"))
            .basic_auth(RP_WEB, Some(RP_WEB_SECRET))
            .form(&[("token", token)])
            .send()
            .await
            .expect("introspect request");
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    }

    /// The audit events of a kind (`token.*`: a prefix; `*`: all), newest first, once
    /// every event recorded so far is written.
    pub async fn audit_events(&self, kind: &str) -> Vec<AuditRow> {
        self.state.audit.flush().await;
        let filter = AuditFilter {
            kind: Some(kind.to_owned()),
            limit: 100_000,
            ..Default::default()
        };
        self.state
            .db(move |c| audit_events::list(c, &filter))
            .await
            .expect("audit events")
    }

    /// `POST /_dev/token` with this JSON body.
    pub async fn mint(&self, body: &Value) -> reqwest::Response {
        self.http
            .post(self.url("/_dev/token"))
            .json(body)
            .send()
            .await
            .expect("mint request")
    }

    /// The answer of `POST /_dev/token`, which must be 200.
    pub async fn minted(&self, body: Value) -> Value {
        let res = self.mint(&body).await;
        assert_eq!(res.status(), 200, "mint {body}");
        res.json().await.unwrap()
    }

    /// Signs arbitrary claims with the server's active key: tokens that are well
    /// signed but wrong in one respect.
    pub fn sign(&self, claims: &Value) -> String {
        localidp::crypto::jwt::sign(self.state.keys.ring().active(), claims).unwrap()
    }

    /// Adds a Contoso user with a password of their own and the given object id.
    pub async fn add_user(&self, email: &'static str, oid: &'static str) {
        use localidp::directory::{self, users::NewUser};
        let hasher = self.state.hasher.clone();
        let now = self.now();
        self.state
            .db(move |c| {
                let tenant = directory::tenant(c, CONTOSO_ID).unwrap();
                let new = NewUser {
                    email: Some(email.into()),
                    password: Some(OWN_PASSWORD.to_owned().into()),
                    display_name: Some(format!("User {email}")),
                    oid: Some(oid.into()),
                    ..Default::default()
                };
                directory::users::create_user(c, &hasher, &tenant, &new, now).unwrap();
                Ok(())
            })
            .await
            .unwrap();
    }
}

/// The password of users made by [`TestApp::add_user`].
pub const OWN_PASSWORD: &str = "pw-of-their-own";

/// A fixture and settings for a test server: fixed public URL, temp keys dir, seed,
/// and the given database.
pub fn test_fixture(backend: &Backend) -> (Settings, Arc<Fixture>) {
    let dir = tempfile::tempdir().unwrap();
    let (database_url, postgres) = match backend {
        Backend::Sqlite => (
            format!("sqlite://{}", dir.path().join("data/localidp.db").display()),
            None,
        ),
        Backend::Postgres(base) => {
            let (url, name) = fresh_postgres_schema(base);
            (url, Some((base.clone(), name)))
        }
    };
    let seed: PathBuf = dir.path().join("seed.toml");
    std::fs::write(&seed, seed_toml()).unwrap();
    let settings = Settings::from_args(ConfigArgs {
        host: Some("127.0.0.1".into()),
        port: Some(0),
        public_url: Some(PUBLIC_URL.into()),
        database_url: Some(database_url),
        keys_dir: Some(dir.path().join("keys")),
        seed: Some(seed),
        default_tenant: Some("contoso.onmicrosoft.com".into()),
        workers: Some(2),
        ..Default::default()
    })
    .unwrap();
    (
        settings,
        Arc::new(Fixture {
            _dir: dir,
            postgres,
        }),
    )
}

/// A server with the standard seed and the /_dev endpoints (`--dev`).
pub async fn spawn_dev_app(backend: &Backend) -> TestApp {
    let (mut settings, fixture) = test_fixture(backend);
    settings.dev = true;
    spawn_with(settings, fixture).await
}

/// A server with the standard seed on the given database.
pub async fn spawn_app(backend: &Backend) -> TestApp {
    let (settings, fixture) = test_fixture(backend);
    spawn_with(settings, fixture).await
}

pub async fn spawn_with(settings: Settings, fixture: Arc<Fixture>) -> TestApp {
    spawn_with_clock(settings, fixture, Clock::adjustable()).await
}

/// A server on the given clock: a second replica shares the first one's, so that
/// moving it moves both.
pub async fn spawn_with_clock(settings: Settings, fixture: Arc<Fixture>, clock: Clock) -> TestApp {
    init_test_log();
    let app = Application::build_with_clock(settings.clone(), clock)
        .await
        .expect("server starts");
    let base = format!("http://127.0.0.1:{}", app.port());
    let metrics_base = app
        .metrics_port()
        .map(|port| format!("http://127.0.0.1:{port}"));
    let handle = app.server_handle();
    let state = app.state().clone();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        base,
        // Idle connections are dropped before the server's 5 s keep-alive ends them:
        // a request written to a connection the server is closing just then is lost
        // (HTTP/1.1's keep-alive race), which tests that pause (CLI runs) would meet.
        http: crate::helpers::http_client_builder()
            .pool_idle_timeout(Duration::from_secs(2))
            .build()
            .unwrap(),
        settings,
        handle,
        state,
        fixture,
        metrics_base,
    }
}

/// An HTTP client builder for tests. reqwest's rustls comes without a crypto provider
/// (localidp's outbound client brings aws-lc-rs itself): the process default is
/// installed first, as `localidp` does at start.
pub fn http_client_builder() -> reqwest::ClientBuilder {
    localidp::federation::fetch::install_crypto_provider();
    reqwest::Client::builder()
}

pub fn http_client() -> reqwest::Client {
    http_client_builder().build().expect("HTTP client")
}

/// Whether TEST_LOG asks for the server's logs.
fn test_log() -> bool {
    std::env::var("TEST_LOG").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// With TEST_LOG set, the server's logs (tracing, and `log` records such as the access
/// log) go to the test writer, so `cargo test` shows them for a failing test; without
/// it, tests are silent. The filter is LOCALIDP_LOG or RUST_LOG, else `info`.
pub fn init_test_log() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if !test_log() {
            return;
        }
        let filter = tracing_subscriber::EnvFilter::try_from_env("LOCALIDP_LOG")
            .or_else(|_| tracing_subscriber::EnvFilter::try_from_default_env())
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_test_writer()
            .with_ansi(false)
            .finish()
            .with(localidp::logging::QuietClientErrors)
            .try_init();
    });
}

/// JSON in unpadded base64url: a JWT part, MSAL's client_info.
pub fn decode_b64_json(s: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(s).expect("base64url")).expect("JSON")
}

/// JSON as unpadded base64url: a JWT part.
pub fn encode_b64_json(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

/// The claims of a JWT, without verifying it.
pub fn claims(jwt: &str) -> Value {
    decode_b64_json(jwt.split('.').nth(1).expect("three parts"))
}

/// The header of a JWT.
pub fn header(jwt: &str) -> Value {
    decode_b64_json(jwt.split('.').next().unwrap())
}

/// Asserts an RFC 6749 §5.2 error body and returns its description.
pub async fn assert_oauth_error(res: reqwest::Response, status: u16, code: &str) -> String {
    assert_eq!(res.status(), status, "status for {code}");
    let body: Value = res.json().await.expect("JSON error body");
    assert_eq!(body["error"], code, "body: {body}");
    body["error_description"]
        .as_str()
        .expect("error_description")
        .to_owned()
}
