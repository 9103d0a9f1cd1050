//! Stateless replicas: two servers on one PostgreSQL schema share every piece of state
//! (keys, refresh tokens, users, token status), and what one in-memory cache holds is
//! stale for a bounded time only. PostgreSQL only (SQLite is one process's file); each
//! test passes without running when LOCALIDP_TEST_POSTGRES_URL is unset.
//!
//! The replicas are real `localidp` processes, except in the key-rotation test, where
//! rotation is driven on the injected clock of two in-process servers.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use localidp::config::Settings;
use localidp::crypto::key_rotation::RotationStep;
use serde_json::{Value, json};

use crate::helpers::graph::append_to_seed;
use crate::helpers::process::serve_fixture;
use crate::helpers::replica::{Replica, eventually};
use crate::helpers::*;

const GRAPH_ADMIN: &str = "99999999-0000-4000-8000-000000000001";
const GRAPH_ADMIN_SECRET: &str = "graph-admin-secret-0123456789abcdefghijk";
const GRAPH_DEFAULT: &str = "https://graph.microsoft.com/.default";
/// `token_status_refresh_seconds` the replicas run with (the default).
const STATUS_BOUND: u64 = 1;

/// A fresh schema with the standard seed plus a Graph admin client, and `n` replicas
/// on it (keys in the database, one public URL), started one after the other.
fn replicas(n: usize, extra_flags: &[&str]) -> Option<(Vec<Replica>, Arc<Fixture>)> {
    let base = postgres_url()?;
    let (settings, fixture) = test_fixture(&Backend::Postgres(base));
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
    let bound = STATUS_BOUND.to_string();
    // One public URL, as behind a load balancer: tokens name it in `iss`.
    let mut flags = vec![
        "--keys-in-database",
        "--public-url",
        PUBLIC_URL,
        "--token-status-refresh",
        &bound,
    ];
    flags.extend_from_slice(extra_flags);
    let started = (0..n)
        .map(|_| {
            Replica::new(serve_fixture(
                &settings,
                &flags,
                &[("LOCALIDP_RATE_LIMIT_PER_MINUTE", "0")],
            ))
        })
        .collect();
    Some((started, fixture))
}

async fn tokens(res: reqwest::Response) -> Value {
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

fn text(v: &Value, key: &str) -> String {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("no {key} in {v}"))
        .to_owned()
}

#[tokio::test]
async fn a_token_issued_by_one_replica_verifies_on_the_other() {
    let Some((r, _fixture)) = replicas(2, &[]) else {
        return;
    };
    let (a, b) = (&r[0], &r[1]);
    let user = text(&tokens(a.password_grant().await).await, "access_token");
    let res = b.verify(&user).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let app = a
        .client_token(DAEMON_ONLY, DAEMON_SECRET, &format!("{API_APP}/.default"))
        .await;
    assert_eq!(b.verify(&app).await.status(), 200);
    let back = text(&tokens(b.password_grant().await).await, "access_token");
    assert_eq!(a.verify(&back).await.status(), 200);
    // Both publish the same keys.
    let jwks = "/.well-known/jwks.json";
    assert_eq!(a.status(jwks, None).await.2, b.status(jwks, None).await.2);
}

#[tokio::test]
async fn a_refresh_token_from_one_replica_rotates_on_the_other_and_its_reuse_is_caught() {
    // No retry grace: a second use of a spent token is reuse at once.
    let Some((r, _fixture)) = replicas(2, &["--refresh-retry-grace", "0"]) else {
        return;
    };
    let (a, b) = (&r[0], &r[1]);
    let first = text(&tokens(a.password_grant().await).await, "refresh_token");
    let rotated = tokens(b.refresh(&first).await).await;
    let (second, access) = (
        text(&rotated, "refresh_token"),
        text(&rotated, "access_token"),
    );
    assert_eq!(b.verify(&access).await.status(), 200);

    let description = assert_oauth_error(a.refresh(&first).await, 400, "invalid_grant").await;
    assert!(description.contains("already used"), "{description}");
    // The family is revoked everywhere: the successor B issued ...
    assert_oauth_error(b.refresh(&second).await, 400, "invalid_grant").await;
    // ... and the access token issued with it, on B within the status bound.
    let took = eventually(
        Duration::from_secs(STATUS_BOUND + 3),
        "B refuses the revoked family's access token",
        || async { b.verify(&access).await.status() == 401 },
    )
    .await;
    eprintln!("B refused the revoked access token after {took:?}");
}

#[tokio::test]
async fn a_user_disabled_through_one_replica_cannot_refresh_on_the_other() {
    let Some((r, _fixture)) = replicas(2, &[]) else {
        return;
    };
    let (a, b) = (&r[0], &r[1]);
    let signed_in = tokens(a.password_grant().await).await;
    let (refresh, access) = (
        text(&signed_in, "refresh_token"),
        text(&signed_in, "access_token"),
    );
    assert_eq!(a.verify(&access).await.status(), 200);

    let admin = b
        .client_token(GRAPH_ADMIN, GRAPH_ADMIN_SECRET, GRAPH_DEFAULT)
        .await;
    let (status, _, body) = b
        .send(
            reqwest::Method::PATCH,
            &format!("/v1.0/users/{ALICE_OID}"),
            Some(&admin),
            Some(json!({"accountEnabled": false})),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let disabled_at = Instant::now();

    // The refresh grant reads the user from the database: refused at once.
    assert_oauth_error(a.refresh(&refresh).await, 400, "invalid_grant").await;
    assert_oauth_error(a.password_grant().await, 400, "invalid_grant").await;
    // The access token: refused by A within the token-status bound.
    eventually(
        Duration::from_secs(STATUS_BOUND + 2),
        "A refuses the disabled user's access token",
        || async { a.verify(&access).await.status() == 401 },
    )
    .await;
    let took = disabled_at.elapsed();
    eprintln!("A refused the disabled user's access token {took:?} after B disabled them");
}

#[tokio::test]
async fn a_key_rotated_on_one_replica_is_served_by_the_other() {
    const DAY: u64 = 86_400;
    let Some(base) = postgres_url() else {
        return;
    };
    let (settings, fixture) = test_fixture(&Backend::Postgres(base));
    let settings = Settings {
        keys_in_database: true,
        key_rotation_days: 30,
        key_publish_ahead: 48,
        ..settings
    };
    let a = spawn_with(settings.clone(), fixture.clone()).await;
    let b = spawn_with_clock(settings, fixture, a.state.clock.clone()).await;
    let kid = |t: &Value| header(t["access_token"].as_str().unwrap())["kid"].clone();
    let first = kid(&b.alice_tokens("openid").await);

    a.advance(Duration::from_secs(28 * DAY + 1));
    let step = a.state.rotate_keys_if_due().await.unwrap();
    assert!(matches!(step, RotationStep::Published { .. }), "{step:?}");
    a.advance(Duration::from_secs(2 * DAY));
    let RotationStep::Promoted { kid: next, .. } = a.state.rotate_keys_if_due().await.unwrap()
    else {
        panic!("A promotes the key it published");
    };
    let token = a.alice_tokens("openid").await;
    assert_eq!(kid(&token), next.as_str(), "A signs with the new key");

    // B did nothing: a token of the key it has not loaded makes it reload the keys
    // (at most every 2 s), and from then on it publishes and signs with that key.
    let access = token["access_token"].as_str().unwrap().to_owned();
    eventually(
        Duration::from_secs(5),
        "B verifies the new key's token",
        || async { b.verify(&access).await.status() == 200 },
    )
    .await;
    let jwks = b.get_json("/.well-known/jwks.json").await;
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids[0], next, "B's JWKS: {kids:?}");
    assert!(
        kids.contains(&first.as_str().unwrap()),
        "the old key stays published"
    );
    assert_eq!(kid(&b.alice_tokens("openid").await), next.as_str());
}

/// What one stream of writes had acknowledged.
#[derive(Default)]
struct Acknowledged {
    users: std::sync::Mutex<Vec<String>>,
    refresh_tokens: std::sync::Mutex<Vec<String>>,
    count: AtomicUsize,
    failures: std::sync::Mutex<Vec<String>>,
}

/// Sign-ins and user creations against one replica, one after the other, until one
/// fails or `stop` is set; each acknowledged write is recorded.
async fn write_stream(
    replica: Arc<Replica>,
    admin: String,
    tag: &'static str,
    acked: Arc<Acknowledged>,
    stop: Arc<AtomicBool>,
    progress: Arc<tokio::sync::Notify>,
) {
    let mut n = 0;
    while !stop.load(Ordering::SeqCst) {
        n += 1;
        let failure = if n % 2 == 0 {
            let upn = format!("{tag}-{n}-{}@contoso.com", uuid::Uuid::new_v4().simple());
            let body = json!({
                "accountEnabled": true,
                "displayName": upn,
                "mailNickname": upn.split('@').next().unwrap(),
                "userPrincipalName": upn,
                "passwordProfile": {"forceChangePasswordNextSignIn": false, "password": "Str0ng-Passw0rd!"},
            });
            let req = replica
                .http
                .post(replica.url("/v1.0/users"))
                .bearer_auth(&admin)
                .json(&body)
                .send()
                .await;
            match req {
                // An answer cut off in its body was not acknowledged.
                Ok(res) if res.status() == 201 => match res.json::<Value>().await {
                    Ok(user) => {
                        acked.users.lock().unwrap().push(text(&user, "id"));
                        None
                    }
                    Err(e) => Some(format!("create user: {e}")),
                },
                Ok(res) => Some(format!("create user: {}", res.status())),
                Err(e) => Some(format!("create user: {e}")),
            }
        } else {
            let req = replica
                .http
                .post(replica.url("/auth/token"))
                .form(&[
                    ("grant_type", "password"),
                    ("client_id", WEB_APP),
                    ("client_secret", WEB_APP_SECRET),
                    ("username", ALICE),
                    ("password", ALICE_PASSWORD),
                    ("scope", "openid offline_access"),
                ])
                .send()
                .await;
            match req {
                Ok(res) if res.status() == 200 => match res.json::<Value>().await {
                    Ok(t) => {
                        acked
                            .refresh_tokens
                            .lock()
                            .unwrap()
                            .push(text(&t, "refresh_token"));
                        None
                    }
                    Err(e) => Some(format!("sign-in: {e}")),
                },
                Ok(res) => Some(format!("sign-in: {}", res.status())),
                Err(e) => Some(format!("sign-in: {e}")),
            }
        };
        if let Some(f) = failure {
            acked.failures.lock().unwrap().push(f);
            return;
        }
        acked.count.fetch_add(1, Ordering::SeqCst);
        progress.notify_waiters();
    }
}

#[tokio::test]
async fn a_replica_killed_mid_stream_loses_no_acknowledged_write_while_the_other_serves() {
    const STREAMS: usize = 3;
    const BEFORE_KILL: usize = 24;
    const AFTER_KILL: usize = 12;
    let Some((r, _fixture)) = replicas(2, &[]) else {
        return;
    };
    let mut r = r.into_iter();
    let (a, b) = (Arc::new(r.next().unwrap()), Arc::new(r.next().unwrap()));
    let admin_a = a
        .client_token(GRAPH_ADMIN, GRAPH_ADMIN_SECRET, GRAPH_DEFAULT)
        .await;
    let admin_b = b
        .client_token(GRAPH_ADMIN, GRAPH_ADMIN_SECRET, GRAPH_DEFAULT)
        .await;
    let (on_a, on_b) = (
        Arc::new(Acknowledged::default()),
        Arc::new(Acknowledged::default()),
    );
    let (stop_a, stop_b) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicBool::new(false)),
    );
    let progress = Arc::new(tokio::sync::Notify::new());
    let mut streams = Vec::new();
    for (replica, admin, tag, acked, stop) in [
        (&a, &admin_a, "a", &on_a, &stop_a),
        (&b, &admin_b, "b", &on_b, &stop_b),
    ] {
        for _ in 0..STREAMS {
            streams.push(tokio::spawn(write_stream(
                replica.clone(),
                admin.clone(),
                tag,
                acked.clone(),
                stop.clone(),
                progress.clone(),
            )));
        }
    }
    // Kill A (SIGKILL) once it has acknowledged enough writes, in the middle of more.
    let enough = async {
        loop {
            let woken = progress.notified();
            if on_a.count.load(Ordering::SeqCst) >= BEFORE_KILL {
                return;
            }
            woken.await;
        }
    };
    let waited = tokio::time::timeout(Duration::from_secs(60), enough).await;
    assert!(
        waited.is_ok(),
        "A acknowledged {} writes",
        on_a.count.load(Ordering::SeqCst)
    );
    let pid = a.process.child.id();
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let b_at_kill = on_b.count.load(Ordering::SeqCst);

    // B keeps serving: its streams go on acknowledging writes after the kill.
    let went_on = async {
        loop {
            let woken = progress.notified();
            if on_b.count.load(Ordering::SeqCst) >= b_at_kill + AFTER_KILL {
                return;
            }
            assert!(
                on_b.failures.lock().unwrap().is_empty(),
                "B failed: {:?}",
                on_b.failures.lock().unwrap()
            );
            woken.await;
        }
    };
    let waited = tokio::time::timeout(Duration::from_secs(60), went_on).await;
    assert!(
        waited.is_ok(),
        "B acknowledged {} writes after the kill; failures {:?}",
        on_b.count.load(Ordering::SeqCst) - b_at_kill,
        on_b.failures.lock().unwrap()
    );
    stop_a.store(true, Ordering::SeqCst);
    stop_b.store(true, Ordering::SeqCst);
    for s in streams {
        s.await.unwrap();
    }
    assert!(
        on_b.failures.lock().unwrap().is_empty(),
        "B failed: {:?}",
        on_b.failures.lock().unwrap()
    );
    assert!(
        !on_a.failures.lock().unwrap().is_empty(),
        "A's streams ended with the kill"
    );

    // Every write A (and B) acknowledged is there, read through B.
    let users: Vec<String> = [&on_a, &on_b]
        .iter()
        .flat_map(|acked| acked.users.lock().unwrap().clone())
        .collect();
    let refresh: Vec<String> = [&on_a, &on_b]
        .iter()
        .flat_map(|acked| acked.refresh_tokens.lock().unwrap().clone())
        .collect();
    assert!(users.len() >= BEFORE_KILL / 3, "{} users", users.len());
    for id in &users {
        let (status, _, body) = b.status(&format!("/v1.0/users/{id}"), Some(&admin_b)).await;
        assert_eq!(status, 200, "user {id}: {body}");
    }
    for token in &refresh {
        let res = b.refresh(token).await;
        assert_eq!(res.status(), 200, "an acknowledged sign-in's refresh token");
    }
    eprintln!(
        "A acknowledged {} writes before SIGKILL, B {} in all; {} users, {} refresh tokens checked",
        on_a.count.load(Ordering::SeqCst),
        on_b.count.load(Ordering::SeqCst),
        users.len(),
        refresh.len()
    );
}
