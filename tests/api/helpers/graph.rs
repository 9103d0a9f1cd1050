//! Microsoft Graph requests and Graph's error shape, shared by the Graph tests.

use serde_json::Value;

use super::{Backend, CONTOSO_ID, PUBLIC_URL, TestApp, spawn_with, test_fixture};

/// Graph's `.default` scope: an app-only token with the client's Graph permissions.
pub const GRAPH_DEFAULT: &str = "https://graph.microsoft.com/.default";

/// Appends TOML (tenants, users, clients) to the seed file the settings name.
pub fn append_to_seed(settings: &localidp::config::Settings, extra: &str) {
    let seed = settings.seed.clone().expect("a seed file");
    let mut text = std::fs::read_to_string(&seed).unwrap();
    text.push_str(extra);
    std::fs::write(&seed, text).unwrap();
}

/// A server on the standard seed with `extra` (TOML) added to it.
pub async fn spawn_with_seed(backend: &Backend, extra: &str) -> TestApp {
    let (settings, fixture) = test_fixture(backend);
    append_to_seed(&settings, extra);
    spawn_with(settings, fixture).await
}

/// A client-credentials access token of a confidential client for `scope`, from the
/// default tenant's `/auth/token`.
pub async fn client_credentials_token(
    app: &TestApp,
    client: &str,
    secret: &str,
    scope: &str,
) -> String {
    let res = app
        .token(&[
            ("grant_type", "client_credentials"),
            ("client_id", client),
            ("client_secret", secret),
            ("scope", scope),
        ])
        .await;
    assert_eq!(res.status(), 200, "client credentials for {client}");
    let body: Value = res.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

/// An app-only Graph token of a client (its granted Graph permissions in `roles`).
pub async fn graph_app_token(app: &TestApp, client: &str, secret: &str) -> String {
    client_credentials_token(app, client, secret, GRAPH_DEFAULT).await
}

/// A Graph request with an optional token and JSON body: the status and the JSON
/// answer (`null` when there is none). A full URL (an `@odata.nextLink`) is sent to the
/// test server.
pub async fn graph(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let url = if path.starts_with("http") {
        path.replace(PUBLIC_URL, &app.base)
    } else {
        app.url(path)
    };
    let mut req = app.http.request(method, url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

pub async fn get(app: &TestApp, path: &str, token: &str) -> (u16, Value) {
    graph(app, reqwest::Method::GET, path, Some(token), None).await
}

/// Asserts Graph's error shape and code.
pub fn assert_graph_error(status: u16, body: &Value, want_status: u16, code: &str) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
    let inner = &body["error"]["innerError"];
    assert!(
        inner["date"].as_str().is_some_and(|d| d.len() == 19),
        "{body}"
    );
    assert!(uuid::Uuid::parse_str(inner["request-id"].as_str().unwrap()).is_ok());
    assert_eq!(inner["request-id"], inner["client-request-id"]);
}

/// Runs `localidp ARGS...` against the test server's database.
pub fn cli(app: &TestApp, args: &[&str]) -> std::process::Output {
    let url = match &app.settings.database {
        localidp::db::DatabaseTarget::Postgres(url) => url.clone(),
        localidp::db::DatabaseTarget::SqliteFile(path) => format!("sqlite://{path}"),
        localidp::db::DatabaseTarget::SqliteMemory => unreachable!("tests use a file"),
    };
    std::process::Command::new(env!("CARGO_BIN_EXE_localidp"))
        .args(["--database-url", &url])
        .arg("--keys-dir")
        .arg(&app.settings.keys_dir)
        .args(args)
        .env("LOCALIDP_LOG", "warn")
        .output()
        .unwrap()
}

/// Adds users `{prefix}{i}@contoso.com` straight to the directory (no password: fast,
/// and no hashing to wait for); returns their ids.
pub async fn add_people(app: &TestApp, prefix: &str, n: usize) -> Vec<String> {
    use localidp::directory::{self, users::NewUser};
    let hasher = app.state.hasher.clone();
    let now = app.now();
    let prefix = prefix.to_owned();
    app.state
        .db(move |c| {
            let tenant = directory::tenant(c, CONTOSO_ID).unwrap();
            let mut ids = Vec::new();
            for i in 0..n {
                let new = NewUser {
                    email: Some(format!("{prefix}{i}@contoso.com")),
                    display_name: Some(format!("{prefix} {i}")),
                    ..Default::default()
                };
                ids.push(
                    directory::users::create_user(c, &hasher, &tenant, &new, now)
                        .unwrap()
                        .id,
                );
            }
            Ok(ids)
        })
        .await
        .unwrap()
}
