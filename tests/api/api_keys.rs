//! API keys: made with `localidp api-key` on the test server's database, presented as
//! `x-api-key` to /auth/verify, introspected, exchanged for access tokens (RFC 8693),
//! listed with their last use, revoked, expired.

use std::process::Command;
use std::time::Duration;

use crate::helpers::*;
use localidp::db::DatabaseTarget;
use serde_json::{Value, json};

const EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const API_KEY_TYPE: &str = "urn:localidp:params:oauth:token-type:api-key";

/// Runs the `localidp` binary on the app's database: stdout, or stderr on failure.
async fn cli(app: &TestApp, args: &[&str]) -> Result<String, String> {
    let url = match &app.settings.database {
        DatabaseTarget::Postgres(url) => url.clone(),
        DatabaseTarget::SqliteFile(path) => format!("sqlite://{path}"),
        DatabaseTarget::SqliteMemory => unreachable!("tests use a file or PostgreSQL"),
    };
    let keys = app.settings.keys_dir.display().to_string();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let out = tokio::task::spawn_blocking(move || {
        let out = Command::new(env!("CARGO_BIN_EXE_localidp"))
            .args(["--database-url", &url, "--keys-dir", &keys])
            .args(&args)
            .env("LOCALIDP_LOG", "warn")
            .output()
            .expect("run localidp");
        let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
        if out.status.success() {
            Ok(text(out.stdout))
        } else {
            Err(text(out.stderr))
        }
    })
    .await
    .unwrap();
    // The CLI stamps its rows with the system clock; the server's clock stands still.
    app.catch_up_with_system_clock();
    out
}

/// `api-key create … --json` (in Contoso unless `args` name a tenant): the printed
/// key and fields.
async fn create_key(app: &TestApp, args: &[&str]) -> Value {
    let mut all = vec!["api-key", "create", "--json"];
    if !args.contains(&"--tenant") {
        all.extend(["--tenant", "contoso.onmicrosoft.com"]);
    }
    all.extend_from_slice(args);
    let out = cli(app, &all)
        .await
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    serde_json::from_str(out.trim()).unwrap()
}

/// `api-key list --json` in Contoso, by key id.
async fn listed(app: &TestApp, id: &str) -> Value {
    let out = cli(app, &["api-key", "list", "--json", "--tenant", CONTOSO_ID])
        .await
        .unwrap();
    let all: Vec<Value> = serde_json::from_str(out.trim()).unwrap();
    all.into_iter()
        .find(|k| k["id"] == id)
        .expect("the key is listed")
}

async fn verify_key(app: &TestApp, key: &str) -> reqwest::Response {
    app.http
        .get(app.url("/auth/verify"))
        .header("x-api-key", key)
        .send()
        .await
        .unwrap()
}

/// A 401 in /auth/verify's shape; returns the description.
async fn assert_refused(res: reqwest::Response) -> String {
    assert_eq!(res.status(), 401);
    let challenge = res.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        challenge.contains(r#"error="invalid_token""#),
        "{challenge}"
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid_token", "{body}");
    body["error_description"].as_str().unwrap().to_owned()
}

/// The key exchanged at `/auth/token` with extra form fields.
async fn exchange(
    app: &TestApp,
    key: &str,
    scope: &str,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let mut form = vec![
        ("grant_type", EXCHANGE),
        ("subject_token", key),
        ("subject_token_type", API_KEY_TYPE),
        ("scope", scope),
    ];
    form.extend_from_slice(extra);
    app.token(&form).await
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap()
}

on_every_backend!(a_users_key_is_verified_introspected_exchanged_listed_and_revoked);
async fn a_users_key_is_verified_introspected_exchanged_listed_and_revoked(backend: Backend) {
    let app = spawn_app(&backend).await;
    let created = create_key(
        &app,
        &[
            "--user",
            ALICE,
            "--name",
            "ci deploy",
            "--roles",
            "Admin",
            "--scopes",
            "Tasks.Read",
            "--expires-in",
            "30d",
        ],
    )
    .await;
    let (key, id) = (s(&created["key"]).to_owned(), s(&created["id"]).to_owned());
    assert!(key.starts_with(&format!("lidp_{id}_")), "{key}");
    assert_eq!(created["owner_id"], ALICE_OID);
    let expires = created["expires_at"].as_i64().unwrap();
    assert!((expires - app.now() - 30 * 86_400).abs() < 5);
    assert!(created["last_used_at"].is_null());
    assert!(
        !listed(&app, &id).await.to_string().contains(&key[22..]),
        "no secret in lists"
    );

    // /auth/verify: the bearer answer's shape, plus how the caller authenticated.
    let res = verify_key(&app, &key).await;
    assert_eq!(res.status(), 200);
    let who: Value = res.json().await.unwrap();
    assert_eq!(who["user_id"], ALICE_OID);
    assert_eq!(who["email"], ALICE);
    assert_eq!(who["tid"], CONTOSO_ID);
    assert_eq!(
        who["roles"],
        json!(["Admin"]),
        "only the key's roles, not Tasks.Write"
    );
    assert_eq!(who["scp"], "Tasks.Read");
    assert_eq!(who["groups"].as_array().unwrap().len(), 2);
    assert_eq!(who["idtyp"], "user");
    assert_eq!(who["exp"], expires);
    assert!(who["aud"].is_null() && who["azp"].is_null());
    assert_eq!(who["auth_method"], "api_key");
    assert_eq!(who["api_key_id"], id.as_str());
    assert_eq!(who["api_key_name"], "ci deploy");

    // RFC 7662.
    let info = app.introspect(&key).await;
    assert_eq!(info["active"], true);
    assert_eq!(info["token_type"], "api_key");
    assert_eq!(info["sub"], ALICE_OID);
    assert_eq!(info["username"], ALICE);
    assert_eq!(info["scope"], "Tasks.Read");
    assert_eq!(info["exp"], expires);
    assert_eq!(info["roles"], json!(["Admin"]));
    assert_eq!(info["api_key_id"], id.as_str());

    // Exchanged for a JWT for the tasks API, issued to the default client.
    let scope = format!("api://{API_APP}/.default");
    let res = exchange(&app, &key, &scope, &[]).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert!(body.get("refresh_token").is_none() && body.get("id_token").is_none());
    assert_eq!(body["scope"], format!("{API_APP}/Tasks.Read"));
    let at = s(&body["access_token"]).to_owned();
    let c = claims(&at);
    assert_eq!(c["oid"], ALICE_OID);
    assert_eq!(c["aud"], API_APP);
    assert_eq!(c["azp"], WEB_APP);
    assert_eq!(c["scp"], "Tasks.Read");
    assert_eq!(c["roles"], json!(["Admin"]));
    let res = app
        .http
        .get(app.url(&format!("/auth/verify?audience={API_APP}")))
        .bearer_auth(&at)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let who: Value = res.json().await.unwrap();
    assert_eq!(who["auth_method"], "bearer");
    assert_eq!(who["roles"], json!(["Admin"]));
    assert!(who.get("api_key_id").is_none());
    // Only what the key allows.
    let more = format!("api://{API_APP}/Tasks.Write");
    let d = assert_oauth_error(exchange(&app, &key, &more, &[]).await, 400, "invalid_scope").await;
    assert!(d.contains("Tasks.Write"), "{d}");
    let offline = format!("{scope} offline_access");
    assert_oauth_error(
        exchange(&app, &key, &offline, &[]).await,
        400,
        "invalid_scope",
    )
    .await;
    // Through a client named and authenticated in the request.
    let res = exchange(
        &app,
        &key,
        &scope,
        &[("client_id", RP_WEB), ("client_secret", "wrong")],
    )
    .await;
    assert_oauth_error(res, 401, "invalid_client").await;
    let res = exchange(
        &app,
        &key,
        &scope,
        &[("client_id", RP_WEB), ("client_secret", RP_WEB_SECRET)],
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        claims(s(&res.json::<Value>().await.unwrap()["access_token"]))["azp"],
        RP_WEB
    );

    // Listed with its last use, written at most once a minute.
    let first_use = listed(&app, &id).await["last_used_at"]
        .as_i64()
        .expect("last use");
    assert!(first_use <= app.now() && first_use >= created["created_at"].as_i64().unwrap());
    assert_eq!(verify_key(&app, &key).await.status(), 200);
    assert_eq!(listed(&app, &id).await["last_used_at"], first_use);
    app.advance(Duration::from_secs(61));
    assert_eq!(verify_key(&app, &key).await.status(), 200);
    assert!(listed(&app, &id).await["last_used_at"].as_i64().unwrap() >= first_use + 61);
    let table = cli(
        &app,
        &["api-key", "list", "--user", ALICE, "--tenant", CONTOSO_ID],
    )
    .await
    .unwrap();
    assert!(
        table.contains(&id) && table.contains("active") && table.contains(ALICE),
        "{table}"
    );

    // A second replica on the same database sees the key, and its revocation at once.
    let replica = spawn_with(app.settings.clone(), app.fixture.clone()).await;
    assert_eq!(verify_key(&replica, &key).await.status(), 200);
    let out = cli(&app, &["api-key", "revoke", &id]).await.unwrap();
    assert!(out.contains(&id), "{out}");
    for server in [&app, &replica] {
        let d = assert_refused(verify_key(server, &key).await).await;
        assert!(d.contains("revoked"), "{d}");
    }
    assert_eq!(app.introspect(&key).await, json!({"active": false}));
    let d = assert_oauth_error(
        exchange(&app, &key, &scope, &[]).await,
        400,
        "invalid_grant",
    )
    .await;
    assert!(d.contains("revoked"), "{d}");
    assert!(listed(&app, &id).await["revoked_at"].is_i64());
    let table = cli(&app, &["api-key", "list", "--tenant", CONTOSO_ID])
        .await
        .unwrap();
    assert!(table.contains("revoked"), "{table}");
}

on_every_backend!(expired_keys_and_keys_of_disabled_or_deleted_users_are_refused);
async fn expired_keys_and_keys_of_disabled_or_deleted_users_are_refused(backend: Backend) {
    let app = spawn_app(&backend).await;
    let scope = format!("api://{API_APP}/.default");
    let short = create_key(
        &app,
        &["--user", ALICE, "--name", "short", "--expires-in", "1h"],
    )
    .await;
    let short = s(&short["key"]).to_owned();
    assert_eq!(verify_key(&app, &short).await.status(), 200);
    app.advance(Duration::from_secs(3600));
    let d = assert_refused(verify_key(&app, &short).await).await;
    assert!(d.contains("expired"), "{d}");
    assert_eq!(app.introspect(&short).await["active"], false);
    let d = assert_oauth_error(
        exchange(&app, &short, &scope, &[]).await,
        400,
        "invalid_grant",
    )
    .await;
    assert!(d.contains("expired"), "{d}");

    // An owner disabled, enabled again, then deleted.
    app.add_user("kim@contoso.com", "c0ffee00-0000-4000-8000-000000000001")
        .await;
    let kims = create_key(&app, &["--user", "kim@contoso.com", "--name", "kim's"]).await;
    let kims = s(&kims["key"]).to_owned();
    assert!(verify_key(&app, &kims).await.status() == 200);
    let as_kim = ["--email", "kim@contoso.com", "--tenant", CONTOSO_ID];
    cli(&app, &[&["user", "disable"][..], &as_kim].concat())
        .await
        .unwrap();
    let d = assert_refused(verify_key(&app, &kims).await).await;
    assert!(d.contains("disabled"), "{d}");
    assert_eq!(app.introspect(&kims).await["active"], false);
    assert_oauth_error(
        exchange(&app, &kims, &scope, &[]).await,
        400,
        "invalid_grant",
    )
    .await;
    cli(&app, &[&["user", "enable"][..], &as_kim].concat())
        .await
        .unwrap();
    assert_eq!(verify_key(&app, &kims).await.status(), 200);
    cli(&app, &[&["user", "delete"][..], &as_kim].concat())
        .await
        .unwrap();
    let d = assert_refused(verify_key(&app, &kims).await).await;
    assert!(d.contains("no longer exists"), "{d}");
    let table = cli(&app, &["api-key", "list", "--tenant", CONTOSO_ID])
        .await
        .unwrap();
    assert!(table.contains("owner deleted"), "{table}");

    // A key for a disabled user, or with an expiry in the past, is not made.
    let e = cli(
        &app,
        &[
            "api-key",
            "create",
            "--user",
            "bob@contoso.com",
            "--name",
            "x",
        ],
    )
    .await;
    assert!(e.unwrap_err().contains("disabled"));
    let e = cli(
        &app,
        &[
            "api-key",
            "create",
            "--user",
            ALICE,
            "--name",
            "x",
            "--expires-at",
            "2001-01-01",
        ],
    )
    .await;
    assert!(e.unwrap_err().contains("past"));
}

on_every_backend!(a_clients_key_is_exchanged_for_an_app_token_with_the_keys_roles);
async fn a_clients_key_is_exchanged_for_an_app_token_with_the_keys_roles(backend: Backend) {
    let app = spawn_app(&backend).await;
    let created = create_key(
        &app,
        &[
            "--client",
            WEB_APP,
            "--name",
            "nightly",
            "--roles",
            "Tasks.Read.All",
        ],
    )
    .await;
    let key = s(&created["key"]).to_owned();
    assert!(created["expires_at"].is_null());

    let res = verify_key(&app, &key).await;
    assert_eq!(res.status(), 200);
    let who: Value = res.json().await.unwrap();
    assert_eq!(who["user_id"], WEB_APP);
    assert_eq!(who["azp"], WEB_APP);
    assert_eq!(who["idtyp"], "app");
    assert_eq!(who["roles"], json!(["Tasks.Read.All"]));
    assert!(who["exp"].is_null() && who["email"].is_null() && who["scp"].is_null());
    assert_eq!(who["auth_method"], "api_key");
    let info = app.introspect(&key).await;
    assert_eq!(info["active"], true);
    assert_eq!(info["client_id"], WEB_APP);
    assert!(info.get("exp").is_none(), "{info}");

    // No client authentication needed: the key is the credential.
    let scope = format!("api://{API_APP}/.default");
    let res = exchange(&app, &key, &scope, &[]).await;
    assert_eq!(res.status(), 200);
    let at = s(&res.json::<Value>().await.unwrap()["access_token"]).to_owned();
    let c = claims(&at);
    assert_eq!(c["idtyp"], "app");
    assert_eq!(c["oid"], WEB_APP);
    assert_eq!(c["aud"], API_APP);
    assert_eq!(c["roles"], json!(["Tasks.Read.All"]));
    let who: Value = app.verify(&at).await.json().await.unwrap();
    assert_eq!(who["auth_method"], "bearer");
    assert_eq!(who["roles"], json!(["Tasks.Read.All"]));
    // For Microsoft Graph a key's roles (app roles) are no Graph permissions.
    let res = exchange(&app, &key, "https://graph.microsoft.com/.default", &[]).await;
    assert_eq!(res.status(), 200);
    let graph = claims(s(&res.json::<Value>().await.unwrap()["access_token"]));
    assert_eq!(graph["aud"], "https://graph.microsoft.com");
    assert!(
        graph.get("roles").is_none_or(|r| r == &json!([])),
        "{graph}"
    );
    // The same client may name itself; another may not use the key.
    let mine = [("client_id", WEB_APP), ("client_secret", WEB_APP_SECRET)];
    assert_eq!(exchange(&app, &key, &scope, &mine).await.status(), 200);
    let other = [("client_id", API_APP), ("client_secret", API_APP_SECRET)];
    let d = assert_oauth_error(
        exchange(&app, &key, &scope, &other).await,
        400,
        "invalid_grant",
    )
    .await;
    assert!(d.contains("another application"), "{d}");
    let perm = format!("api://{API_APP}/Tasks.Read");
    assert_oauth_error(exchange(&app, &key, &perm, &[]).await, 400, "invalid_scope").await;

    // A key without roles carries none; roles or scopes the client lacks are refused.
    let bare = create_key(&app, &["--client", WEB_APP, "--name", "bare"]).await;
    let res = exchange(&app, s(&bare["key"]), &scope, &[]).await;
    let c = claims(s(&res.json::<Value>().await.unwrap()["access_token"]));
    assert!(c.get("roles").is_none(), "{c}");
    let e = cli(
        &app,
        &[
            "api-key", "create", "--client", WEB_APP, "--name", "x", "--roles", "Admin",
        ],
    )
    .await;
    assert!(e.unwrap_err().contains("does not hold the role"));
    let e = cli(
        &app,
        &[
            "api-key",
            "create",
            "--client",
            WEB_APP,
            "--name",
            "x",
            "--scopes",
            "Tasks.Read",
        ],
    )
    .await;
    assert!(e.unwrap_err().contains("roles only"));
    let e = cli(
        &app,
        &[
            "api-key", "create", "--user", ALICE, "--client", WEB_APP, "--name", "x",
        ],
    )
    .await;
    assert!(e.is_err());
}

on_every_backend!(wrong_malformed_and_foreign_keys_are_refused_in_shape);
async fn wrong_malformed_and_foreign_keys_are_refused_in_shape(backend: Backend) {
    let app = spawn_app(&backend).await;
    let good = create_key(&app, &["--user", ALICE, "--name", "good"]).await;
    let good = s(&good["key"]).to_owned();
    let (head, secret) = good.split_at(22);
    let wrong_secret = format!("{head}{}", "A".repeat(secret.len()));
    let unknown_id = format!("lidp_0000000000000000_{secret}");
    for key in [wrong_secret.as_str(), unknown_id.as_str()] {
        let d = assert_refused(verify_key(&app, key).await).await;
        assert_eq!(d, "The API key is not valid.");
        assert_eq!(app.introspect(key).await, json!({"active": false}));
        let scope = format!("api://{API_APP}/.default");
        assert_oauth_error(exchange(&app, key, &scope, &[]).await, 400, "invalid_grant").await;
    }
    for key in ["nonsense", "lidp_", "   "] {
        let d = assert_refused(verify_key(&app, key).await).await;
        assert!(d.contains("malformed"), "{key:?}: {d}");
    }
    let res = app
        .http
        .get(app.url("/auth/verify"))
        .header(
            "x-api-key",
            reqwest::header::HeaderValue::from_bytes(b"lidp_\xff").unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert!(assert_refused(res).await.contains("malformed"));

    // Both credentials at once, or an audience the key is not bound to.
    let res = app
        .http
        .get(app.url("/auth/verify"))
        .header("x-api-key", &good)
        .bearer_auth("x.y.z")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"],
        "invalid_request"
    );
    let res = app
        .http
        .get(app.url(&format!("/auth/verify?audience={API_APP}")))
        .header("x-api-key", &good)
        .send()
        .await
        .unwrap();
    assert!(assert_refused(res).await.contains("audience"));

    // Another tenant's key: /auth/verify does not serve Fabrikam, Contoso's token
    // endpoint and introspection do not accept it.
    let erin = create_key(
        &app,
        &[
            "--user",
            "erin@fabrikam.com",
            "--name",
            "erin",
            "--tenant",
            "fabrikam.onmicrosoft.com",
        ],
    )
    .await;
    let erin = s(&erin["key"]).to_owned();
    assert!(
        assert_refused(verify_key(&app, &erin).await)
            .await
            .contains("verify_tenants")
    );
    assert_eq!(app.introspect(&erin).await, json!({"active": false}));
    let scope = format!("api://{API_APP}/.default");
    let d = assert_oauth_error(
        exchange(&app, &erin, &scope, &[]).await,
        400,
        "invalid_grant",
    )
    .await;
    assert!(d.contains("another tenant"), "{d}");
}
