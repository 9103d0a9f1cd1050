//! Prometheus metrics: served only on the metrics listener (`metrics_listen`), never on
//! the public one; the counters move by exactly what was done; labels carry route
//! patterns and closed sets of names, never an id from a path; the exposition parses
//! strictly as the Prometheus text format (0.0.4), and as OpenMetrics when asked.

mod exposition;

use std::time::Duration;

use crate::helpers::*;
use exposition::{Exposition, parse_text};
use localidp::config::LockoutPolicy;

/// A server with the metrics listener on an ephemeral port.
async fn spawn_metered(backend: &Backend, lockout_threshold: Option<u32>) -> TestApp {
    let (mut settings, fixture) = test_fixture(backend);
    settings.metrics_listen = Some("127.0.0.1:0".into());
    if let Some(threshold) = lockout_threshold {
        settings.lockout = LockoutPolicy::new(Some(threshold), Some(60), Some(3600)).unwrap();
    }
    spawn_with(settings, fixture).await
}

async fn scrape(app: &TestApp) -> Exposition {
    let base = app.metrics_base.as_deref().expect("the metrics listener");
    let res = app
        .http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = res.text().await.unwrap();
    parse_text(&text).unwrap_or_else(|e| panic!("not Prometheus text: {e}\n{text}"))
}

async fn client_credentials_at(app: &TestApp, path: &str) {
    let res = app
        .post_form(
            path,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", DAEMON_ONLY),
                ("client_secret", DAEMON_SECRET),
            ],
        )
        .await;
    assert_eq!(res.status(), 200, "client_credentials at {path}");
}

on_every_backend!(the_public_listener_has_no_metrics_and_they_are_off_by_default);
async fn the_public_listener_has_no_metrics_and_they_are_off_by_default(backend: Backend) {
    let off = spawn_app(&backend).await;
    assert!(off.metrics_base.is_none());
    assert!(!off.state.metrics.enabled());
    let res = off.http.get(off.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), 404);

    let on = spawn_metered(&backend, None).await;
    let res = on.http.get(on.url("/metrics")).send().await.unwrap();
    assert_eq!(
        res.status(),
        404,
        "the public listener never serves /metrics"
    );
    // The metrics listener serves /metrics and nothing else.
    let base = on.metrics_base.clone().unwrap();
    let res = on
        .http
        .get(format!("{base}/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let res = on
        .http
        .post(format!("{base}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    assert_eq!(res.headers()["allow"], "GET");
}

on_every_backend!(counters_move_by_exactly_what_was_done);
async fn counters_move_by_exactly_what_was_done(backend: Backend) {
    let app = spawn_metered(&backend, None).await;
    let before = scrape(&app).await;

    client_credentials_at(&app, "/auth/token").await;
    client_credentials_at(&app, "/auth/token").await;
    client_credentials_at(&app, &format!("/{CONTOSO_ID}/oauth2/v2.0/token")).await;
    let res = app
        .token(&[
            ("grant_type", "password"),
            ("client_id", WEB_APP),
            ("client_secret", WEB_APP_SECRET),
            ("username", ALICE),
            ("password", "not-alice-password"),
            ("scope", "openid"),
        ])
        .await;
    assert_eq!(res.status(), 400);
    let tokens = app.alice_tokens("openid offline_access").await;
    let discovery = format!("/{CONTOSO_ID}/v2.0/.well-known/openid-configuration");
    assert_eq!(app.get_status_and_json(&discovery).await.0, 200);
    let res = app
        .http
        .get(app.url(&format!("/{ALICE_OID}/no/such/page")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);

    let after = scrape(&app).await;
    let moved = |name: &str, labels: &[(&str, &str)]| {
        after.value(name, labels).unwrap_or(0.0) - before.value(name, labels).unwrap_or(0.0)
    };
    let cc = "client_credentials";
    assert_eq!(
        moved(
            "localidp_tokens_issued_total",
            &[("grant", cc), ("flavour", "plain")]
        ),
        2.0
    );
    assert_eq!(
        moved(
            "localidp_tokens_issued_total",
            &[("grant", cc), ("flavour", "entra")]
        ),
        1.0
    );
    assert_eq!(
        moved(
            "localidp_tokens_issued_total",
            &[("grant", "password"), ("flavour", "plain")]
        ),
        1.0
    );
    assert_eq!(
        moved(
            "localidp_token_requests_refused_total",
            &[
                ("grant", "password"),
                ("flavour", "plain"),
                ("reason", "invalid_credentials")
            ]
        ),
        1.0
    );
    assert_eq!(
        moved(
            "localidp_sign_in_failures_total",
            &[("reason", "invalid_password")]
        ),
        1.0
    );
    // Requests by route pattern: 2 successes and 1 refusal on /auth/token.
    let token_route = [("route", "/auth/token"), ("method", "POST")];
    let with_status = |status: &'static str| {
        let mut l = token_route.to_vec();
        l.push(("status", status));
        l
    };
    assert_eq!(
        moved("localidp_http_requests_total", &with_status("200")),
        3.0
    );
    assert_eq!(
        moved("localidp_http_requests_total", &with_status("400")),
        1.0
    );
    assert_eq!(
        moved("localidp_http_request_duration_seconds_count", &token_route),
        4.0
    );
    let tenant_token = after
        .samples_named("localidp_http_requests_total")
        .filter(|s| {
            s.label("route")
                .is_some_and(|r| r.ends_with("/oauth2/v2.0/token"))
        })
        .filter(|s| s.label("route") != Some("/auth/token"))
        .map(|s| s.value)
        .sum::<f64>();
    assert_eq!(tenant_token, 1.0, "the tenant token route, by its pattern");
    assert_eq!(
        moved(
            "localidp_http_requests_total",
            &[("route", "unmatched"), ("method", "GET"), ("status", "404")]
        ),
        1.0
    );
    // No label carries an id written in a path, nor a token.
    let access = tokens["access_token"].as_str().unwrap();
    for sample in after.samples() {
        for (name, value) in &sample.labels {
            for secret in [CONTOSO_ID, ALICE_OID, ALICE, access] {
                assert!(
                    !value.contains(secret),
                    "{} has {name}={value:?}",
                    sample.name
                );
            }
        }
    }
    // The password check went through the hashing queue.
    assert!(moved("localidp_password_hash_queue_wait_seconds_count", &[]) >= 2.0);
    assert_eq!(
        after.value("localidp_password_hash_queue_depth", &[]),
        Some(0.0)
    );
    // Read at scrape time: pool, caches, keys, build.
    assert!(after.value("localidp_db_pool_connections", &[]).unwrap() >= 1.0);
    assert_eq!(
        after.value("localidp_db_pool_max_connections", &[]),
        Some(f64::from(app.settings.db_pool_size))
    );
    assert!(moved("localidp_db_pool_checkout_wait_seconds_count", &[]) >= 4.0);
    let client_lookups = moved("localidp_cache_hits_total", &[("cache", "clients")])
        + moved("localidp_cache_misses_total", &[("cache", "clients")]);
    assert!(
        client_lookups > 0.0,
        "client cache look-ups: {client_lookups}"
    );
    assert!(
        after
            .value("localidp_cache_entries", &[("cache", "clients")])
            .unwrap()
            >= 1.0
    );
    assert!(after.value("localidp_signing_keys_published", &[]).unwrap() >= 1.0);
    assert!(
        after
            .value("localidp_signing_key_age_seconds", &[])
            .unwrap()
            >= 0.0
    );
    assert_eq!(
        after.value(
            "localidp_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        Some(1.0)
    );
    assert!(
        after
            .value("localidp_process_start_time_seconds", &[])
            .unwrap()
            > 1.7e9
    );
}

on_every_backend!(lockouts_refresh_reuse_and_the_key_age_are_counted);
async fn lockouts_refresh_reuse_and_the_key_age_are_counted(backend: Backend) {
    let app = spawn_metered(&backend, Some(2)).await;
    let before = scrape(&app).await;
    let wrong = [
        ("grant_type", "password"),
        ("client_id", WEB_APP),
        ("client_secret", WEB_APP_SECRET),
        ("username", ALICE),
        ("password", "wrong"),
        ("scope", "openid"),
    ];
    for _ in 0..3 {
        assert_eq!(app.token(&wrong).await.status(), 400);
    }
    let after = scrape(&app).await;
    let moved = |a: &Exposition, b: &Exposition, name: &str, labels: &[(&str, &str)]| {
        a.value(name, labels).unwrap_or(0.0) - b.value(name, labels).unwrap_or(0.0)
    };
    assert_eq!(
        moved(&after, &before, "localidp_account_lockouts_total", &[]),
        1.0
    );
    let failures = "localidp_sign_in_failures_total";
    assert_eq!(
        moved(&after, &before, failures, &[("reason", "invalid_password")]),
        2.0
    );
    assert_eq!(
        moved(&after, &before, failures, &[("reason", "locked")]),
        1.0
    );
    assert_eq!(
        moved(
            &after,
            &before,
            "localidp_token_requests_refused_total",
            &[
                ("grant", "password"),
                ("flavour", "plain"),
                ("reason", "locked")
            ]
        ),
        2.0,
        "the locking attempt and the one after it answer 'locked'"
    );

    // The lock ends on the clock; then a refresh token is spent and presented again.
    app.advance(Duration::from_secs(61));
    let first = app.alice_tokens("offline_access").await;
    let rt = first["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(app.refresh(&rt, &[]).await.status(), 200);
    app.advance(Duration::from_secs(app.settings.refresh_retry_grace as u64));
    assert_eq!(app.refresh(&rt, &[]).await.status(), 400);
    let last = scrape(&app).await;
    assert_eq!(
        moved(
            &last,
            &after,
            "localidp_refresh_token_families_revoked_total",
            &[("reason", "reuse")]
        ),
        1.0
    );
    assert_eq!(
        moved(
            &last,
            &after,
            "localidp_tokens_issued_total",
            &[("grant", "refresh_token"), ("flavour", "plain")]
        ),
        1.0
    );
    // The key age follows the injected clock.
    let aged = last.value("localidp_signing_key_age_seconds", &[]).unwrap()
        - after
            .value("localidp_signing_key_age_seconds", &[])
            .unwrap();
    assert!(aged >= 61.0, "key age moved {aged} s");
}

on_every_backend!(openmetrics_is_served_when_asked_for);
async fn openmetrics_is_served_when_asked_for(backend: Backend) {
    let app = spawn_metered(&backend, None).await;
    client_credentials_at(&app, "/auth/token").await;
    let base = app.metrics_base.clone().unwrap();
    let res = app
        .http
        .get(format!("{base}/metrics"))
        .header(
            "accept",
            "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-type"],
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    let text = res.text().await.unwrap();
    assert!(text.ends_with("# EOF\n"), "{text}");
    // OpenMetrics names the counter family without `_total`; its sample keeps it.
    assert!(
        text.contains("# TYPE localidp_tokens_issued counter\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "localidp_tokens_issued_total{grant=\"client_credentials\",flavour=\"plain\"} 1\n"
        ),
        "{text}"
    );
    let plain = scrape(&app).await;
    assert_eq!(
        plain.value(
            "localidp_tokens_issued_total",
            &[("grant", "client_credentials"), ("flavour", "plain")]
        ),
        Some(1.0)
    );
}

/// A port free just now (the process binds it a moment later).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn status_of(url: String) -> u16 {
    crate::helpers::http_client()
        .get(url)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

on_every_backend!(the_setting_comes_from_the_environment_or_the_config_file);
async fn the_setting_comes_from_the_environment_or_the_config_file(backend: Backend) {
    use crate::helpers::process::{serve_fixture, start, storage_args};
    let (settings, _fixture) = test_fixture(&backend);

    // LOCALIDP_METRICS_LISTEN; the process stops on SIGTERM with its metrics listener.
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut server = serve_fixture(&settings, &[], &[("LOCALIDP_METRICS_LISTEN", &addr)]);
    assert_eq!(status_of(format!("http://{addr}/metrics")).await, 200);
    assert_eq!(status_of(format!("{}/metrics", server.base())).await, 404);
    server.signal("TERM");
    let (status, _) =
        tokio::task::spawn_blocking(move || server.wait_exit(Duration::from_secs(15)))
            .await
            .unwrap()
            .expect("exits");
    assert!(status.success(), "{status}");

    // metrics_listen in the config file.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("localidp.toml");
    let port = free_port();
    std::fs::write(&config, format!("metrics_listen = \"127.0.0.1:{port}\"\n")).unwrap();
    let server = serve_fixture(&settings, &["--config", config.to_str().unwrap()], &[]);
    let body = crate::helpers::http_client()
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("localidp_build_info{version="), "{body}");
    drop(server);

    // An address that cannot be bound stops the start, naming it.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let mut args = storage_args(&settings);
    args.extend(["serve", "--port", "0", "--metrics-listen", addr.as_str()].map(Into::into));
    let Err(refused) = start(&args, &[]) else {
        panic!("started with its metrics address taken");
    };
    assert!(!refused.status.success());
    assert!(
        refused.stderr.contains(&format!("cannot listen on {addr}")),
        "{}",
        refused.stderr
    );
}
