//! The audit log: an event for each sign-in, token, revocation, admin change and key
//! rotation, with the request's address, user agent and correlation id; never a
//! secret; kept for the retention; listed and filtered by `localidp audit`.

use std::time::Duration;

use localidp::db::DatabaseTarget;
use localidp::db::audit_events::AuditRow;
use serde_json::Value;

use crate::helpers::*;

const WRONG_PASSWORD: &str = "Wrong-Pa55word-not-alice";
const CORRELATION: &str = "0f1e2d3c-4b5a-4697-8877-665544332211";
const AGENT: &str = "audit-test/1.0 (+tests)";

fn detail(row: &AuditRow) -> Value {
    serde_json::from_str(&row.detail).expect("detail is JSON")
}

/// The only event of this kind.
async fn one(app: &TestApp, kind: &str) -> AuditRow {
    let mut rows = app.audit_events(kind).await;
    assert_eq!(rows.len(), 1, "{kind}: {rows:#?}");
    rows.remove(0)
}

/// A password grant for `user` via the web app, with a user agent and correlation id.
async fn password_grant(app: &TestApp, user: &str, password: &str) -> reqwest::Response {
    app.http
        .post(app.url("/auth/token"))
        .header("user-agent", AGENT)
        .header("client-request-id", CORRELATION)
        .form(&[
            ("grant_type", "password"),
            ("client_id", WEB_APP),
            ("client_secret", WEB_APP_SECRET),
            ("username", user),
            ("password", password),
            ("scope", "openid offline_access"),
        ])
        .send()
        .await
        .unwrap()
}

on_every_backend!(a_sign_in_is_recorded_with_the_request_s_address_agent_and_correlation_id);
async fn a_sign_in_is_recorded_with_the_request_s_address_agent_and_correlation_id(
    backend: Backend,
) {
    let app = spawn_app(&backend).await;
    let res = password_grant(&app, ALICE, ALICE_PASSWORD).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let jti = claims(body["access_token"].as_str().unwrap())["jti"].clone();

    let signed_in = one(&app, "sign_in.password").await;
    assert_eq!(
        (signed_in.category.as_str(), signed_in.outcome.as_str()),
        ("sign_in", "success")
    );
    assert_eq!(signed_in.reason, None);
    assert_eq!(signed_in.user_id.as_deref(), Some(ALICE_OID));
    assert_eq!(signed_in.actor.as_deref(), Some(ALICE_OID));
    assert_eq!(signed_in.client_id.as_deref(), Some(WEB_APP));
    assert_eq!(signed_in.tenant_id.as_deref(), Some(CONTOSO_ID));
    assert_eq!(signed_in.ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(signed_in.user_agent.as_deref(), Some(AGENT));
    assert_eq!(signed_in.correlation_id.as_deref(), Some(CORRELATION));
    assert_eq!(detail(&signed_in)["via"], "password_grant");
    assert_eq!(detail(&signed_in)["sign_in_name"], ALICE);
    let now = app.now();
    assert!((now - 5..=now).contains(&signed_in.occurred_at));

    let issued = one(&app, "token.issued").await;
    assert_eq!(issued.category, "token");
    assert_eq!(issued.user_id.as_deref(), Some(ALICE_OID));
    assert_eq!(issued.client_id.as_deref(), Some(WEB_APP));
    assert_eq!(issued.correlation_id.as_deref(), Some(CORRELATION));
    let d = detail(&issued);
    assert_eq!(d["grant_type"], "password");
    assert_eq!(d["jti"], jti);
    assert_eq!(d["audience"], WEB_APP);
    assert_eq!(d["refresh_issued"], true);
    assert!(
        d["scope"].as_str().unwrap().contains("offline_access"),
        "{d}"
    );

    // Without client-request-id, the events of one request share an id of its own,
    // and an Azure error body carries the same.
    let res = app
        .tenant_token(
            CONTOSO_ID,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", DAEMON_ONLY),
                ("client_secret", "not-the-secret"),
                ("scope", &format!("{API_APP}/.default")),
            ],
        )
        .await;
    assert_eq!(res.status(), 401);
    let body: Value = res.json().await.unwrap();
    let refused = one(&app, "token.refused").await;
    assert_eq!(
        refused.correlation_id.as_deref(),
        body["correlation_id"].as_str()
    );
    assert_eq!(refused.reason.as_deref(), Some("invalid_client_secret"));
    assert_eq!(refused.client_id.as_deref(), Some(DAEMON_ONLY));
}

on_every_backend!(failed_sign_ins_say_why_on_every_sign_in_path);
async fn failed_sign_ins_say_why_on_every_sign_in_path(backend: Backend) {
    let app = spawn_app(&backend).await;
    let res = password_grant(&app, ALICE, WRONG_PASSWORD).await;
    assert_oauth_error(res, 400, "invalid_grant").await;
    let res = password_grant(&app, "nobody@contoso.com", WRONG_PASSWORD).await;
    assert_oauth_error(res, 400, "invalid_grant").await;
    let res = password_grant(&app, "bob@contoso.com", "bob-password").await;
    assert_oauth_error(res, 400, "invalid_grant").await;
    let res = app
        .http
        .post(app.url("/auth/login"))
        .json(&serde_json::json!({"email": ALICE, "password": WRONG_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let browser = Browser::new(&app);
    let query = authorize_query(&web_request(&[]));
    let res = browser.sign_in(&query, ALICE, WRONG_PASSWORD).await;
    assert_eq!(res.status(), 401);

    let events = app.audit_events("sign_in.password").await;
    let seen: Vec<(&str, Option<&str>, Option<&str>, String)> = events
        .iter()
        .rev()
        .map(|e| {
            (
                e.outcome.as_str(),
                e.reason.as_deref(),
                e.user_id.as_deref(),
                detail(e)["via"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let bob = events[2].user_id.as_deref();
    assert!(bob.is_some_and(|b| b != ALICE_OID));
    assert_eq!(
        seen,
        [
            (
                "failure",
                Some("invalid_password"),
                Some(ALICE_OID),
                "password_grant".into()
            ),
            (
                "failure",
                Some("unknown_user"),
                None,
                "password_grant".into()
            ),
            ("failure", Some("disabled"), bob, "password_grant".into()),
            (
                "failure",
                Some("invalid_password"),
                Some(ALICE_OID),
                "auth_login".into()
            ),
            (
                "failure",
                Some("invalid_password"),
                Some(ALICE_OID),
                "login_form".into()
            ),
        ]
    );
    assert_eq!(detail(&events[3])["sign_in_name"], "nobody@contoso.com");
    assert_eq!(events[0].client_id.as_deref(), Some(RP_WEB));
    // The sign-in event says it all: no second `token.refused` for the same failure.
    assert!(app.audit_events("token.*").await.is_empty());
}

on_every_backend!(each_grant_s_token_is_recorded_and_the_login_form_and_sign_up_too);
async fn each_grant_s_token_is_recorded_and_the_login_form_and_sign_up_too(backend: Backend) {
    let app = spawn_app(&backend).await;
    let res = app
        .token(&[
            ("grant_type", "client_credentials"),
            ("client_id", DAEMON_ONLY),
            ("client_secret", DAEMON_SECRET),
            ("scope", &format!("{API_APP}/.default")),
        ])
        .await;
    assert_eq!(res.status(), 200);
    let tokens = app.alice_tokens("openid offline_access").await;
    let res = app
        .refresh(tokens["refresh_token"].as_str().unwrap(), &[])
        .await;
    assert_eq!(res.status(), 200);
    let browser = Browser::new(&app);
    let code = browser.code_for_alice(&[]).await;
    assert_eq!(app.redeem_code(&code, Some(VERIFIER)).await.status(), 200);

    let issued = app.audit_events("token.issued").await;
    assert_eq!(issued.len(), 4, "{issued:#?}");
    let grants: Vec<String> = issued
        .iter()
        .rev()
        .map(|e| detail(e)["grant_type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        grants,
        [
            "client_credentials",
            "password",
            "refresh_token",
            "authorization_code"
        ]
    );
    let app_token = &issued[3];
    assert_eq!(app_token.user_id, None);
    assert_eq!(app_token.client_id.as_deref(), Some(DAEMON_ONLY));
    assert_eq!(app_token.actor.as_deref(), Some(DAEMON_ONLY));
    assert_eq!(detail(app_token)["audience"], API_APP);
    assert_eq!(issued[1].user_id.as_deref(), Some(ALICE_OID));
    assert_eq!(issued[0].client_id.as_deref(), Some(RP_WEB));

    let form = app.audit_events("sign_in.password").await;
    assert_eq!(detail(&form[0])["via"], "login_form");
    assert_eq!(form[0].outcome, "success");
    assert_eq!(form[0].client_id.as_deref(), Some(RP_WEB));

    // Sign-up on Fabrikam: refused, then done.
    let html = browser
        .get(&fabrikam_request(&[]))
        .await
        .text()
        .await
        .unwrap();
    let html = browser
        .get(&link(&html, "Sign up now"))
        .await
        .text()
        .await
        .unwrap();
    let form = hidden_fields(&html);
    for password in ["short1A", "Correct-Horse-9"] {
        let mut f = form.clone();
        f.push(("email".into(), "frank@fabrikam.com".into()));
        f.push(("password".into(), password.into()));
        f.push(("password_confirm".into(), password.into()));
        browser.post("/signup", &f).await;
    }
    let sign_ups = app.audit_events("sign_in.sign_up").await;
    assert_eq!(sign_ups.len(), 2, "{sign_ups:#?}");
    assert_eq!(sign_ups[1].outcome, "failure");
    assert_eq!(sign_ups[1].reason.as_deref(), Some("rejected"));
    assert_eq!(sign_ups[0].outcome, "success");
    assert_eq!(sign_ups[0].tenant_id.as_deref(), Some(FABRIKAM_ID));
    assert!(sign_ups[0].user_id.is_some());
    assert_eq!(detail(&sign_ups[0])["sign_in_name"], "frank@fabrikam.com");
}

async fn revoke(app: &TestApp, token: &str) {
    let res = app
        .http
        .post(app.url("/revoke"))
        .basic_auth(WEB_APP, Some(WEB_APP_SECRET))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

on_every_backend!(revocations_refresh_reuse_and_code_replay_are_recorded);
async fn revocations_refresh_reuse_and_code_replay_are_recorded(backend: Backend) {
    let app = spawn_app(&backend).await;
    let first = app.alice_tokens("openid offline_access").await;
    let first_refresh = first["refresh_token"].as_str().unwrap();
    assert_eq!(app.refresh(first_refresh, &[]).await.status(), 200);
    // Reuse of the spent token, after the refresh retry grace, revokes the family.
    app.advance(Duration::from_secs(31));
    let res = app.refresh(first_refresh, &[]).await;
    assert_oauth_error(res, 400, "invalid_grant").await;
    let reused = one(&app, "refresh_family.revoked").await;
    assert_eq!(reused.category, "revocation");
    assert_eq!(
        (reused.outcome.as_str(), reused.reason.as_deref()),
        ("failure", Some("reuse"))
    );
    assert_eq!(reused.user_id.as_deref(), Some(ALICE_OID));
    assert_eq!(reused.actor.as_deref(), Some(WEB_APP));
    assert!(detail(&reused)["family_id"].is_string());

    // /revoke: an access token, a refresh token, and something unknown.
    // (The access tokens of the reused family are refused: one of another family.)
    let fresh = app.alice_tokens("openid offline_access").await;
    let access = fresh["access_token"].as_str().unwrap();
    revoke(&app, access).await;
    revoke(&app, fresh["refresh_token"].as_str().unwrap()).await;
    revoke(&app, "no-such-token").await;
    let revoked = app.audit_events("token.revoked").await;
    assert_eq!(revoked.len(), 3, "{revoked:#?}");
    let (unknown, refresh, access_event) = (&revoked[0], &revoked[1], &revoked[2]);
    assert_eq!(access_event.outcome, "success");
    assert_eq!(detail(access_event)["token_type"], "access_token");
    assert_eq!(detail(access_event)["jti"], claims(access)["jti"]);
    assert_eq!(access_event.user_id.as_deref(), Some(ALICE_OID));
    assert_eq!(access_event.actor.as_deref(), Some(WEB_APP));
    assert_eq!(detail(refresh)["token_type"], "refresh_token");
    assert!(detail(refresh)["family_id"].is_string());
    assert_eq!(
        (unknown.outcome.as_str(), unknown.reason.as_deref()),
        ("failure", Some("unknown_token"))
    );

    // A replayed authorization code.
    let browser = Browser::new(&app);
    let code = browser.code_for_alice(&[]).await;
    assert_eq!(app.redeem_code(&code, Some(VERIFIER)).await.status(), 200);
    let res = app.redeem_code(&code, Some(VERIFIER)).await;
    assert_oauth_error(res, 400, "invalid_grant").await;
    let replayed = one(&app, "code.reused").await;
    assert_eq!(replayed.reason.as_deref(), Some("reuse"));
    assert_eq!(replayed.client_id.as_deref(), Some(RP_WEB));
    assert_eq!(replayed.user_id.as_deref(), Some(ALICE_OID));
    assert!(detail(&replayed)["jti"].is_string());
}

on_every_backend!(the_seed_and_the_first_key_are_recorded_once);
async fn the_seed_and_the_first_key_are_recorded_once(backend: Backend) {
    let app = spawn_app(&backend).await;
    let tenants = app.audit_events("tenant.created").await;
    let names: Vec<Value> = tenants
        .iter()
        .rev()
        .map(|e| detail(e)["name"].clone())
        .collect();
    assert_eq!(
        names,
        ["contoso.onmicrosoft.com", "fabrikam.onmicrosoft.com"]
    );
    assert!(tenants.iter().all(|e| e.actor.as_deref() == Some("seed")));
    let users = app.audit_events("user.created").await;
    assert_eq!(users.len(), 5);
    let alice = users
        .iter()
        .find(|e| e.user_id.as_deref() == Some(ALICE_OID))
        .unwrap();
    assert_eq!(
        (alice.actor.as_deref(), alice.tenant_id.as_deref()),
        (Some("seed"), Some(CONTOSO_ID))
    );
    let clients = app.audit_events("client.created").await;
    assert!(
        clients
            .iter()
            .any(|e| e.client_id.as_deref() == Some(WEB_APP))
    );
    let default = one(&app, "client.default_set").await;
    assert_eq!(default.client_id.as_deref(), Some(WEB_APP));
    let key = one(&app, "key.created").await;
    assert_eq!(
        (key.category.as_str(), key.actor.as_deref()),
        ("key", Some("system"))
    );
    assert_eq!(detail(&key)["kid"], app.state.keys.ring().active().kid);
    let before = app.audit_events("*").await.len();

    // A restart with the same seed changes nothing, so records nothing.
    let (settings, fixture) = app.stop().await;
    let app = spawn_with(settings, fixture).await;
    assert_eq!(app.audit_events("*").await.len(), before);
}

on_every_backend!(events_older_than_the_retention_go_in_the_hourly_purge);
async fn events_older_than_the_retention_go_in_the_hourly_purge(backend: Backend) {
    let app = spawn_app(&backend).await;
    assert_eq!(app.settings.audit_retention_days, 90);
    app.alice_tokens("openid").await;
    let at_start = app.audit_events("*").await.len();
    app.advance(Duration::from_secs(89 * 86_400));
    localidp::startup::purge_expired(&app.state).await;
    assert_eq!(app.audit_events("*").await.len(), at_start);
    app.advance(Duration::from_secs(2 * 86_400));
    app.alice_tokens("openid").await;
    localidp::startup::purge_expired(&app.state).await;
    let left = app.audit_events("*").await;
    let kinds: Vec<&str> = left.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["token.issued", "sign_in.password"]);
    assert!(left.iter().all(|e| e.occurred_at >= app.now() - 5));

    // Retention 0 keeps everything.
    let (mut settings, fixture) = test_fixture(&backend);
    settings.audit_retention_days = 0;
    let app = spawn_with(settings, fixture).await;
    let at_start = app.audit_events("*").await.len();
    assert!(at_start > 0);
    app.advance(Duration::from_secs(1000 * 86_400));
    localidp::startup::purge_expired(&app.state).await;
    assert_eq!(app.audit_events("*").await.len(), at_start);
}

on_every_backend!(the_audit_log_can_be_turned_off);
async fn the_audit_log_can_be_turned_off(backend: Backend) {
    let (mut settings, fixture) = test_fixture(&backend);
    settings.audit_log = false;
    let app = spawn_with(settings, fixture).await;
    assert!(!app.state.audit.is_enabled());
    app.alice_tokens("openid").await;
    let res = password_grant(&app, ALICE, WRONG_PASSWORD).await;
    assert_eq!(res.status(), 400);
    assert!(app.audit_events("*").await.is_empty());
}

on_every_backend!(events_queued_when_the_server_stops_are_written);
async fn events_queued_when_the_server_stops_are_written(backend: Backend) {
    let app = spawn_app(&backend).await;
    for _ in 0..3 {
        let res = password_grant(&app, ALICE, WRONG_PASSWORD).await;
        assert_eq!(res.status(), 400);
    }
    let state = app.state.clone();
    // The fixture (the database) stays until the end of the test.
    let (_settings, _fixture) = app.stop().await;
    state.audit.stopped().await;
    let filter = localidp::db::audit_events::AuditFilter {
        kind: Some("sign_in.password".into()),
        limit: 100,
        ..Default::default()
    };
    let rows = state
        .db(move |c| localidp::db::audit_events::list(c, &filter))
        .await
        .unwrap();
    assert_eq!(rows.len(), 3);
    // After the stop, nothing is queued any more: the event is counted as lost.
    state
        .audit
        .record(localidp::audit::AuditEvent::admin("user.created"))
        .await;
    assert_eq!(state.audit.lost(), 1);
}

/// `localidp` run against the test server's database; its standard output.
async fn cli(app: &TestApp, args: &[&str]) -> String {
    let url = match &app.settings.database {
        DatabaseTarget::Postgres(url) => url.clone(),
        DatabaseTarget::SqliteFile(path) => format!("sqlite://{path}"),
        DatabaseTarget::SqliteMemory => unreachable!("tests use a file"),
    };
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_localidp"))
        .args(["--database-url", &url])
        .arg("--keys-dir")
        .arg(&app.settings.keys_dir)
        .args(args)
        .env("LOCALIDP_LOG", "warn")
        .env("USER", "audit-tester")
        .output()
        .await
        .expect("run localidp");
    assert!(
        out.status.success(),
        "localidp {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The CLI stamps its events with the system clock; the server's clock stands still.
    app.catch_up_with_system_clock();
    String::from_utf8(out.stdout).unwrap()
}

fn json_lines(out: &str) -> Vec<Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

on_every_backend!(cli_changes_are_recorded_and_localidp_audit_filters_them);
async fn cli_changes_are_recorded_and_localidp_audit_filters_them(backend: Backend) {
    let app = spawn_app(&backend).await;
    let tenant = ["--tenant", "contoso.onmicrosoft.com"];
    let disable = ["user", "disable", "--email", "carol@contoso.com"];
    cli(&app, &[&disable[..], &tenant[..]].concat()).await;
    cli(&app, &["keys", "rotate"]).await;
    cli(&app, &["client", "delete", API_APP]).await;
    let disabled = one(&app, "user.disabled").await;
    assert_eq!(
        (disabled.category.as_str(), disabled.actor.as_deref()),
        ("admin", Some("cli"))
    );
    assert_eq!(disabled.tenant_id.as_deref(), Some(CONTOSO_ID));
    assert_eq!(detail(&disabled)["os_user"], "audit-tester");
    let rotated = one(&app, "key.rotated").await;
    assert_eq!(rotated.actor.as_deref(), Some("cli"));
    assert!(detail(&rotated)["kid"].is_string());
    let deleted = one(&app, "client.deleted").await;
    assert_eq!(deleted.client_id.as_deref(), Some(API_APP));
    assert_eq!(deleted.tenant_id.as_deref(), Some(CONTOSO_ID));

    // Traffic to filter: a sign-in, a failure, an application token.
    app.alice_tokens("openid").await;
    password_grant(&app, ALICE, WRONG_PASSWORD).await;
    let res = app
        .token(&[
            ("grant_type", "client_credentials"),
            ("client_id", DAEMON_ONLY),
            ("client_secret", DAEMON_SECRET),
        ])
        .await;
    assert_eq!(res.status(), 200);
    app.state.audit.flush().await;

    let all = json_lines(&cli(&app, &["audit", "--json", "--limit", "1000"]).await);
    assert_eq!(all.len(), app.audit_events("*").await.len());
    let order: Vec<(i64, i64)> = all
        .iter()
        .map(|e| {
            (
                e["occurred_at"].as_i64().unwrap(),
                e["id"].as_i64().unwrap(),
            )
        })
        .collect();
    assert!(
        order.windows(2).all(|w| w[0] > w[1]),
        "newest first: {order:?}"
    );
    assert_eq!(all[0]["kind"], "token.issued");
    assert!(all[0]["detail"].is_object() && all[0]["time"].is_string());

    let lines = |args: &'static [&'static str]| {
        let app = &app;
        async move { json_lines(&cli(app, &[&["audit", "--json"][..], args].concat()).await) }
    };
    let failures = lines(&["--outcome", "failure"]).await;
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0]["reason"], "invalid_password");
    let alice = lines(&["--user", ALICE]).await;
    assert!(alice.len() >= 4);
    assert!(alice.iter().all(|e| e["user_id"] == ALICE_OID));
    assert_eq!(lines(&["--user", ALICE_OID]).await, alice);
    let daemon = lines(&["--client", DAEMON_ONLY]).await;
    let kinds: Vec<&str> = daemon.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["token.issued", "client.created"]);
    let keys = lines(&["--category", "key"]).await;
    let kinds: Vec<&str> = keys.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["key.rotated", "key.created"]);
    let tokens = lines(&["--kind", "token.*", "--ip", "127.0.0.1"]).await;
    assert_eq!(tokens.len(), 2);
    assert_eq!(
        lines(&["--kind", "token.*", "--ip", "10.9.9.9"])
            .await
            .len(),
        0
    );
    assert_eq!(lines(&["--kind", "user.disabled"]).await.len(), 1);
    assert_eq!(lines(&["--limit", "2"]).await.len(), 2);
    assert_eq!(lines(&["--since", "1h"]).await.len(), all.len());
    assert_eq!(lines(&["--until", "2020-01-01T00:00:00Z"]).await.len(), 0);
    assert_eq!(
        lines(&["--since", "2020-01-01T00:00:00Z"]).await.len(),
        all.len()
    );

    let table = cli(&app, &["audit", "--kind", "sign_in.*"]).await;
    let rows: Vec<&str> = table.lines().collect();
    assert_eq!(rows.len(), 3, "{table}");
    assert!(rows[0].starts_with("time") && rows[0].ends_with("detail"));
    let column = rows[0].find("outcome").unwrap();
    assert_eq!(&rows[1][column..column + 7], "failure");
    assert_eq!(&rows[2][column..column + 7], "success");
}

/// The tokens of a token response, and each part of them (a JWT's signature above all).
fn tokens_in(response: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for name in ["access_token", "refresh_token", "id_token"] {
        if let Some(token) = response[name].as_str() {
            out.push(token.to_owned());
            out.extend(token.split('.').filter(|p| p.len() > 16).map(String::from));
        }
    }
    assert!(!out.is_empty(), "no token in {response}");
    out
}

on_every_backend!(no_password_secret_token_code_or_hash_reaches_any_audit_column);
async fn no_password_secret_token_code_or_hash_reaches_any_audit_column(backend: Backend) {
    let app = spawn_app(&backend).await;
    let mut secrets: Vec<String> = [
        ALICE_PASSWORD,
        WRONG_PASSWORD,
        WEB_APP_SECRET,
        DAEMON_SECRET,
        RP_WEB_SECRET,
        VERIFIER,
    ]
    .map(String::from)
    .to_vec();
    let tokens = app.alice_tokens("openid offline_access").await;
    secrets.extend(tokens_in(&tokens));
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let refreshed: Value = app.refresh(refresh, &[]).await.json().await.unwrap();
    secrets.extend(tokens_in(&refreshed));
    app.advance(Duration::from_secs(31)); // past the refresh retry grace: reuse
    app.refresh(refresh, &[]).await;
    password_grant(&app, ALICE, WRONG_PASSWORD).await;
    password_grant(&app, "nobody@contoso.com", WRONG_PASSWORD).await;
    let res = app
        .token(&[
            ("grant_type", "client_credentials"),
            ("client_id", DAEMON_ONLY),
            ("client_secret", DAEMON_SECRET),
        ])
        .await;
    secrets.extend(tokens_in(&res.json().await.unwrap()));
    app.token(&[
        ("grant_type", "client_credentials"),
        ("client_id", DAEMON_ONLY),
        ("client_secret", WEB_APP_SECRET),
    ])
    .await;
    let res = app
        .http
        .post(app.url("/auth/login"))
        .json(&serde_json::json!({"email": ALICE, "password": ALICE_PASSWORD}))
        .send()
        .await
        .unwrap();
    secrets.extend(tokens_in(&res.json().await.unwrap()));
    let browser = Browser::new(&app);
    let code = browser.code_for_alice(&[]).await;
    secrets.push(code.clone());
    let redeemed: Value = app
        .redeem_code(&code, Some(VERIFIER))
        .await
        .json()
        .await
        .unwrap();
    secrets.extend(tokens_in(&redeemed));
    app.redeem_code(&code, Some(VERIFIER)).await;
    revoke(&app, refreshed["refresh_token"].as_str().unwrap()).await;
    revoke(&app, refreshed["access_token"].as_str().unwrap()).await;
    let new_password = "Cli-Set-Password-77";
    cli(
        &app,
        &[
            "user",
            "set-password",
            "--email",
            "dave@contoso.com",
            "--tenant",
            "contoso.onmicrosoft.com",
            "--password",
            new_password,
        ],
    )
    .await;
    secrets.push(new_password.to_owned());
    // What the database keeps instead of the secrets: hashes.
    let stored = app
        .state
        .db(|c| {
            use diesel::prelude::*;
            use localidp::db::schema::{clients, refresh_tokens, users};
            let mut hashes: Vec<String> = users::table
                .select(users::password_hash)
                .load::<Option<String>>(c)?
                .into_iter()
                .flatten()
                .collect();
            hashes.extend(
                clients::table
                    .select(clients::secret_hash)
                    .load::<Option<String>>(c)?
                    .into_iter()
                    .flatten(),
            );
            hashes.extend(
                refresh_tokens::table
                    .select(refresh_tokens::token_hash)
                    .load::<String>(c)?,
            );
            Ok(hashes)
        })
        .await
        .unwrap();
    assert!(stored.len() > 10);
    secrets.extend(stored);

    let rows = app.audit_events("*").await;
    let kinds: std::collections::BTreeSet<&str> = rows.iter().map(|r| r.kind.as_str()).collect();
    for kind in [
        "sign_in.password",
        "token.issued",
        "token.refused",
        "token.revoked",
        "refresh_family.revoked",
        "code.reused",
        "user.password_set",
    ] {
        assert!(kinds.contains(kind), "{kind} missing from {kinds:?}");
    }
    for row in &rows {
        let text = serde_json::to_string(row).unwrap();
        for secret in &secrets {
            assert!(!text.contains(secret.as_str()), "{secret:?} in {text}");
        }
    }
}

on_every_backend!(lockouts_unlocks_and_api_keys_are_recorded);
async fn lockouts_unlocks_and_api_keys_are_recorded(backend: Backend) {
    let (mut settings, fixture) = test_fixture(&backend);
    settings.lockout = localidp::config::LockoutPolicy::new(Some(3), Some(60), Some(3600)).unwrap();
    let app = spawn_with(settings, fixture).await;

    // Three wrong passwords lock the account; the right one is then refused as locked.
    for _ in 0..3 {
        assert_eq!(
            password_grant(&app, ALICE, WRONG_PASSWORD).await.status(),
            400
        );
    }
    assert_eq!(
        password_grant(&app, ALICE, ALICE_PASSWORD).await.status(),
        400
    );
    let locked = one(&app, "account.locked").await;
    assert_eq!(
        (locked.category.as_str(), locked.outcome.as_str()),
        ("lockout", "success")
    );
    assert_eq!(locked.user_id.as_deref(), Some(ALICE_OID));
    assert_eq!(locked.tenant_id.as_deref(), Some(CONTOSO_ID));
    assert_eq!(locked.ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(locked.correlation_id.as_deref(), Some(CORRELATION));
    let reasons: Vec<Option<String>> = app
        .audit_events("sign_in.password")
        .await
        .into_iter()
        .map(|r| r.reason)
        .collect();
    let expected = [
        "locked",
        "invalid_password",
        "invalid_password",
        "invalid_password",
    ];
    assert_eq!(
        reasons,
        expected.map(|r| Some(r.to_owned())).to_vec(),
        "newest first"
    );

    cli(&app, &["user", "unlock", ALICE, "--tenant", CONTOSO_ID]).await;
    let unlocked = one(&app, "account.unlocked").await;
    assert_eq!(unlocked.actor.as_deref(), Some("cli"));
    assert_eq!(unlocked.user_id.as_deref(), Some(ALICE_OID));
    assert_eq!(detail(&unlocked)["was_locked"], true);
    assert_eq!(
        password_grant(&app, ALICE, ALICE_PASSWORD).await.status(),
        200
    );

    // An API key: made, used (one event a minute at most), revoked; never the key.
    let out = cli(
        &app,
        &[
            "api-key", "create", "--json", "--tenant", CONTOSO_ID, "--user", ALICE, "--name",
            "nightly",
        ],
    )
    .await;
    let made: Value = serde_json::from_str(out.trim()).unwrap();
    let (id, key) = (made["id"].as_str().unwrap(), made["key"].as_str().unwrap());
    let created = one(&app, "api_key.created").await;
    assert_eq!(
        (created.category.as_str(), created.actor.as_deref()),
        ("api_key", Some("cli"))
    );
    assert_eq!(created.user_id.as_deref(), Some(ALICE_OID));
    assert_eq!(detail(&created)["key_id"], id);
    assert_eq!(detail(&created)["name"], "nightly");
    let verify = || async {
        let res = app
            .http
            .get(app.url("/auth/verify"))
            .header("x-api-key", key)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    };
    verify().await;
    verify().await;
    let used = one(&app, "api_key.used").await;
    assert_eq!(used.user_id.as_deref(), Some(ALICE_OID));
    assert_eq!(detail(&used)["key_id"], id);
    app.advance(Duration::from_secs(61));
    verify().await;
    assert_eq!(app.audit_events("api_key.used").await.len(), 2);
    cli(&app, &["api-key", "revoke", id]).await;
    let revoked = one(&app, "api_key.revoked").await;
    assert_eq!(detail(&revoked)["key_id"], id);
    // lidp_{id}_{secret}: the id is hex, the secret base64url (it may hold '_' too).
    let secret = key.splitn(3, '_').nth(2).unwrap();
    assert_eq!(secret.len(), 43);
    for kind in ["api_key.created", "api_key.used", "api_key.revoked"] {
        for row in app.audit_events(kind).await {
            assert!(!format!("{row:?}").contains(secret), "{kind}: {row:?}");
        }
    }
}
