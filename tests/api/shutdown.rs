//! SIGTERM under load: `/readyz` fails at once, every request the server took gets
//! its whole answer, the process exits 0 within the grace period, and the audit
//! events of the sign-ins it answered are written.

use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use localidp::db::audit_events::{self, AuditFilter};
use serde_json::Value;

use crate::helpers::process::{ServerProcess, ask, serve_fixture};
use crate::helpers::*;

const GRACE: u64 = 10;
const CLIENTS: usize = 4;

on_every_backend!(
    sigterm_lets_in_flight_sign_ins_finish_then_exits_zero,
    once_draining_readyz_fails_and_every_answer_closes_its_connection,
);

async fn once_draining_readyz_fails_and_every_answer_closes_its_connection(backend: Backend) {
    let app = spawn_app(&backend).await;
    let res = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers().get("connection"), None);
    // What SIGTERM does first, before the server stops taking connections.
    app.state.begin_draining();
    let res = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(res.status(), 503);
    assert_eq!(res.headers()["connection"], "close");
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body,
        serde_json::json!({"status": "unavailable", "reason": "shutting down"})
    );
    // Other requests are still answered, each on a connection that then closes.
    let res = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["connection"], "close");
}

/// The fixture's server as a process, with the given extra `serve` flags.
fn serve(settings: &localidp::config::Settings, extra: &[&str]) -> ServerProcess {
    let mut flags = vec!["--default-tenant", "contoso.onmicrosoft.com"];
    flags.extend_from_slice(extra);
    serve_fixture(settings, &flags, &[("LOCALIDP_LOG", "info")])
}

/// What the sign-in clients saw.
#[derive(Default)]
struct Seen {
    /// client-request-ids of sign-ins answered 200 with a whole token response.
    completed: Vec<String>,
    /// Anything else: a wrong status, a cut body, a reset connection.
    failures: Vec<String>,
    /// Connections refused once the server stopped listening (a request never taken).
    refused: usize,
    /// Requests written to a kept-alive connection just as the stopping server closed
    /// it idle: closed before an answer began (HTTP/1.1's keep-alive race, which a
    /// client must retry). Each must be missing from the server's log — never taken.
    closed_unanswered: Vec<String>,
}

/// Password grants in a loop until the server says it is closing the connection
/// (`Connection: close`) or refuses new ones.
async fn sign_in_loop(base: String, seen: Arc<Mutex<Seen>>) {
    let http = crate::helpers::http_client();
    loop {
        let id = uuid::Uuid::new_v4().to_string();
        let res = http
            .post(format!("{base}/auth/token"))
            .header("client-request-id", &id)
            .form(&[
                ("grant_type", "password"),
                ("client_id", WEB_APP),
                ("client_secret", WEB_APP_SECRET),
                ("username", ALICE),
                ("password", ALICE_PASSWORD),
                ("scope", "openid"),
            ])
            .send()
            .await;
        let res = match res {
            Ok(res) => res,
            Err(e) if e.is_connect() => {
                seen.lock().unwrap().refused += 1;
                return;
            }
            Err(e) if format!("{e:?}").contains("IncompleteMessage") => {
                seen.lock().unwrap().closed_unanswered.push(id);
                return;
            }
            Err(e) => {
                seen.lock().unwrap().failures.push(format!("{id}: {e:?}"));
                return;
            }
        };
        let status = res.status();
        let closing = res
            .headers()
            .get("connection")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"close"));
        let echoed = res.headers().get("x-request-id").cloned();
        match res.json::<Value>().await {
            Ok(body) if status == 200 && body["access_token"].is_string() => {
                assert_eq!(
                    echoed.as_ref().map(|v| v.to_str().unwrap()),
                    Some(id.as_str())
                );
                seen.lock().unwrap().completed.push(id);
            }
            other => seen
                .lock()
                .unwrap()
                .failures
                .push(format!("{id}: {status} {other:?}")),
        }
        if closing {
            return;
        }
    }
}

async fn sigterm_lets_in_flight_sign_ins_finish_then_exits_zero(backend: Backend) {
    let (settings, _fixture) = test_fixture(&backend);
    let grace = GRACE.to_string();
    let mut server = serve(&settings, &["--shutdown-grace", &grace]);
    let base = server.base();

    let seen = Arc::new(Mutex::new(Seen::default()));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| tokio::spawn(sign_in_loop(base.clone(), seen.clone())))
        .collect();
    // Load first: some sign-ins done, others waiting for their password check.
    let started = Instant::now();
    while seen.lock().unwrap().completed.len() < 2 * CLIENTS {
        assert!(started.elapsed() < Duration::from_secs(120), "no sign-ins");
        assert!(seen.lock().unwrap().failures.is_empty());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let before = seen.lock().unwrap().completed.len();

    server.signal("TERM");
    let signalled = Instant::now();
    server
        .until_logged("shutting down", Duration::from_secs(5))
        .await;
    // The listener closes with the signal: a new connection is refused, or if it is
    // still taken, /readyz fails.
    let port = server.port;
    let ready = tokio::task::spawn_blocking(move || {
        TcpStream::connect(("127.0.0.1", port)).map(|mut tcp| {
            tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            ask(&mut tcp, "/readyz")
        })
    })
    .await
    .unwrap();
    if let Ok(ready) = ready {
        assert!(
            ready.is_empty() || ready.starts_with("HTTP/1.1 503"),
            "{ready}"
        );
    }

    for client in clients {
        client.await.unwrap();
    }
    let exit = tokio::task::spawn_blocking(move || {
        let exit = server.wait_exit(Duration::from_secs(GRACE + 20));
        (exit, server)
    })
    .await
    .unwrap();
    let (exit, server) = exit;
    let (status, _) = exit.unwrap_or_else(|| panic!("still running:\n{}", server.log().join("\n")));
    let took = signalled.elapsed();
    let log = server.log().join("\n");
    assert!(status.success(), "exit {status}:\n{log}");
    assert!(
        took < Duration::from_secs(GRACE),
        "exit took {took:?}:\n{log}"
    );
    assert!(log.contains("stopped; audit log flushed"), "{log}");

    let seen = std::mem::take(&mut *seen.lock().unwrap());
    assert!(seen.failures.is_empty(), "{:#?}\n{log}", seen.failures);
    for id in &seen.closed_unanswered {
        assert!(
            !log.contains(id.as_str()),
            "{id} was taken by the server but its connection closed without an answer:\n{log}"
        );
    }
    // Sign-ins in flight at the signal were answered, not cut.
    assert!(
        seen.completed.len() > before,
        "none answered after the signal:\n{log}"
    );

    // Every answered sign-in left its audit event, written before the exit.
    let pool = localidp::db::open(&settings.database, 1).unwrap();
    let mut conn = pool.get().unwrap();
    let filter = AuditFilter {
        kind: Some("sign_in.password".into()),
        limit: 100_000,
        ..Default::default()
    };
    let rows = audit_events::list(&mut conn, &filter).unwrap();
    let written: std::collections::HashSet<_> = rows
        .iter()
        .filter_map(|r| r.correlation_id.clone())
        .collect();
    let missing: Vec<_> = seen
        .completed
        .iter()
        .filter(|id| !written.contains(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} answered sign-ins have no audit event: {missing:?}",
        missing.len(),
        seen.completed.len()
    );
    // A request closed unanswered was not taken: no sign-in of it was recorded either.
    let taken: Vec<_> = seen
        .closed_unanswered
        .iter()
        .filter(|id| written.contains(*id))
        .collect();
    assert!(
        taken.is_empty(),
        "signed in but closed without an answer: {taken:?}"
    );
}

/// `--shutdown-delay`: after SIGTERM the listener stays open for the delay, new
/// connections are answered (`/readyz` 503, everything else as usual, each answer
/// closing its connection), then it closes and the process exits 0.
#[tokio::test]
async fn during_the_shutdown_delay_new_connections_are_still_answered() {
    let (settings, _fixture) = test_fixture(&Backend::Sqlite);
    let mut server = serve(&settings, &["--shutdown-delay", "3"]);
    server.signal("TERM");
    let signalled = Instant::now();
    server
        .until_logged("shutting down", Duration::from_secs(5))
        .await;
    // A new connection after the signal, within the delay: taken and answered.
    let port = server.port;
    let (ready, health) = tokio::task::spawn_blocking(move || {
        let connect = || {
            let tcp = TcpStream::connect(("127.0.0.1", port)).expect("listener still open");
            tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            tcp
        };
        (
            ask(&mut connect(), "/readyz"),
            ask(&mut connect(), "/healthz"),
        )
    })
    .await
    .unwrap();
    assert!(ready.starts_with("HTTP/1.1 503"), "{ready}");
    assert!(ready.contains("shutting down"), "{ready}");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(
        health.to_ascii_lowercase().contains("connection: close"),
        "{health}"
    );
    let (status, _) = tokio::task::spawn_blocking(move || {
        let exit = server.wait_exit(Duration::from_secs(20));
        (exit, server)
    })
    .await
    .map(|(exit, server)| {
        exit.unwrap_or_else(|| panic!("still running:\n{}", server.log().join("\n")))
    })
    .unwrap();
    assert!(status.success(), "{status}");
    let took = signalled.elapsed();
    // It waited out the delay: the listener was open for the answers above (a
    // connection refused would have failed them), and it exited no sooner.
    assert!(took >= Duration::from_secs(3), "exited after {took:?}");
}
