//! The database connection cut under a running server (PostgreSQL only: a TCP proxy
//! the test controls drops every connection and refuses new ones, then lets them
//! through again). SQLite is a file in the server's own process: nothing comparable
//! can vanish under it, so there is no SQLite half.
//!
//! While cut: the token endpoint answers 503 `temporarily_unavailable` with
//! `Retry-After`, promptly; `/auth/verify` keeps answering a valid token from the keys
//! and directory it holds until `db_outage_grace_seconds` have passed, then 503; Graph
//! answers its own 503 shape; `/readyz` is red. Restored: everything answers again,
//! without a restart.

use std::time::{Duration, Instant};

use localidp::db::DatabaseTarget;
use serde_json::Value;

use crate::helpers::graph::append_to_seed;
use crate::helpers::process::serve_fixture;
use crate::helpers::proxy::CutProxy;
use crate::helpers::replica::{Replica, eventually};
use crate::helpers::*;

const GRAPH_ADMIN: &str = "99999999-0000-4000-8000-000000000001";
const GRAPH_ADMIN_SECRET: &str = "graph-admin-secret-0123456789abcdefghijk";
/// The outage grace the server is started with, seconds.
const GRACE: u64 = 15;

#[tokio::test]
async fn a_cut_database_gives_prompt_503s_verify_from_memory_then_service_returns() {
    let Some(base) = postgres_url() else {
        return;
    };
    let (mut settings, _fixture) = test_fixture(&Backend::Postgres(base));
    append_to_seed(
        &settings,
        &format!(
            r#"
[[clients]]
client_id = "{GRAPH_ADMIN}"
name = "graph admin"
secret = "{GRAPH_ADMIN_SECRET}"
grant_types = ["client_credentials"]
graph_permissions = ["User.ReadWrite.All"]
"#
        ),
    );
    let DatabaseTarget::Postgres(url) = &settings.database else {
        unreachable!()
    };
    let (upstream, via) = CutProxy::route(url);
    let proxy = CutProxy::start(upstream);
    settings.database = DatabaseTarget::Postgres(via(proxy.port));
    let grace = GRACE.to_string();
    let server = Replica::new(serve_fixture(
        &settings,
        &["--token-status-refresh", "1", "--db-outage-grace", &grace],
        &[("LOCALIDP_RATE_LIMIT_PER_MINUTE", "0")],
    ));

    let res = server.password_grant().await;
    assert_eq!(res.status(), 200);
    let tokens: Value = res.json().await.unwrap();
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(server.verify(&access).await.status(), 200);
    let res = server
        .token(&[
            ("grant_type", "client_credentials"),
            ("client_id", GRAPH_ADMIN),
            ("client_secret", GRAPH_ADMIN_SECRET),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .await;
    assert_eq!(res.status(), 200);
    let graph_token = res.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        server.status("/v1.0/users", Some(&graph_token)).await.0,
        200
    );
    assert_eq!(server.status("/readyz", None).await.0, 200);

    proxy.cut();
    let cut_at = Instant::now();

    // The token endpoint: 503 temporarily_unavailable with Retry-After. The first
    // request may wait out the pool's connection timeout (5 s) while the pool finds
    // every connection dead; after that, answers are prompt.
    for attempt in 0..4 {
        let started = Instant::now();
        let res = server.password_grant().await;
        let took = started.elapsed();
        assert_eq!(res.status(), 503, "attempt {attempt}");
        assert_eq!(res.headers()["retry-after"], "1");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], "temporarily_unavailable", "{body}");
        eprintln!("token request {attempt} into the outage: 503 after {took:?}");
        let limit = if attempt == 0 { 7 } else { 2 };
        assert!(
            took < Duration::from_secs(limit),
            "attempt {attempt} took {took:?}"
        );
    }
    let res = server
        .token(&[
            ("grant_type", "refresh_token"),
            ("client_id", WEB_APP),
            ("client_secret", WEB_APP_SECRET),
            ("refresh_token", &refresh),
        ])
        .await;
    assert_eq!(res.status(), 503, "a refresh needs the database");
    assert_eq!(res.headers()["retry-after"], "1");

    // Readiness is red.
    let (status, _, body) = server.status("/readyz", None).await;
    assert_eq!(status, 503, "{body}");

    // Graph answers in its own shape.
    let (status, retry, body) = server.status("/v1.0/users", Some(&graph_token)).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(retry.as_deref(), Some("1"));
    assert_eq!(body["error"]["code"], "serviceNotAvailable", "{body}");

    // The JSON sign-in and the sign-in page (its client is looked up again once the
    // 5 s directory cache has expired, which the waits above have seen to).
    let res = server
        .http
        .post(server.url("/auth/login"))
        .json(&serde_json::json!({"email": ALICE, "password": ALICE_PASSWORD, "client_id": WEB_APP, "client_secret": WEB_APP_SECRET}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503, "/auth/login");
    assert_eq!(res.headers()["retry-after"], "1");
    if cut_at.elapsed() > Duration::from_secs(5) {
        let res = server
            .http
            .get(server.url(&authorize_query(&web_request(&[]))))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 503, "the sign-in page");
        assert_eq!(res.headers()["retry-after"], "1");
        assert!(res.text().await.unwrap().contains("Try again shortly"));
    }

    // /auth/verify keeps answering the valid token from memory, past the verified-token
    // and directory caches' 5 s (it is verified again: keys in memory, tenant and
    // audiences from the last lookup) ...
    // (The token status was last read at most a second or two before the cut, in
    // whole seconds: it fails closed no earlier than GRACE - 3 s after the cut.)
    let deadline = Duration::from_secs(GRACE - 3);
    let mut pace = tokio::time::interval(Duration::from_millis(250));
    let mut verified_at = Duration::ZERO;
    while cut_at.elapsed() < deadline {
        pace.tick().await;
        let res = server.verify(&access).await;
        let elapsed = cut_at.elapsed();
        let status = res.status();
        let body = res.text().await.unwrap();
        assert_eq!(status, 200, "verify {elapsed:?} into the outage: {body}");
        verified_at = elapsed;
    }
    assert!(
        verified_at > Duration::from_secs(7),
        "last verified {verified_at:?} into the outage: not past the 5 s caches"
    );
    // ... and fails closed (503, Retry-After) once the token status is older than
    // the refresh bound plus the grace: a revocation made meanwhile cannot be known.
    let mut answered = server.status("/auth/verify", Some(&access)).await;
    while answered.0 != 503 {
        assert_eq!(answered.0, 200, "{}", answered.2);
        assert!(
            cut_at.elapsed() < Duration::from_secs(GRACE + 10),
            "verify still answers 200 {:?} into the outage",
            cut_at.elapsed()
        );
        pace.tick().await;
        answered = server.status("/auth/verify", Some(&access)).await;
    }
    assert!(
        cut_at.elapsed() >= deadline,
        "failed closed after {:?}",
        cut_at.elapsed()
    );
    assert_eq!(answered.1.as_deref(), Some("1"));
    assert_eq!(
        answered.2["error"], "temporarily_unavailable",
        "{}",
        answered.2
    );

    // Restored: service returns without a restart.
    proxy.restore();
    let back = eventually(Duration::from_secs(20), "token endpoint back", || async {
        server.password_grant().await.status() == 200
    })
    .await;
    eprintln!("token endpoint back {back:?} after the restore");
    assert_eq!(server.status("/readyz", None).await.0, 200);
    eventually(Duration::from_secs(5), "verify back", || async {
        server.verify(&access).await.status() == 200
    })
    .await;
    let res = server
        .token(&[
            ("grant_type", "refresh_token"),
            ("client_id", WEB_APP),
            ("client_secret", WEB_APP_SECRET),
            ("refresh_token", &refresh),
        ])
        .await;
    assert_eq!(res.status(), 200, "the refresh token issued before the cut");
    assert_eq!(
        server.status("/v1.0/users", Some(&graph_token)).await.0,
        200
    );
}
