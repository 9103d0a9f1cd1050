//! Credential endpoints answer a burst from one client address with 429 and
//! `Retry-After`, in each endpoint's own shape, while other addresses carry on.

use std::time::Duration;

use localidp::config::{IpRange, RateLimit};
use serde_json::{Value, json};

use crate::helpers::*;

const FIRST: &str = "198.51.100.1";
const SECOND: &str = "198.51.100.2";

/// A server allowing `burst` credential requests at once and 6 a minute (one every
/// 10 s) per address; with `behind_proxy`, 127.0.0.1 (the test) is a trusted proxy
/// and X-Forwarded-For names the client.
async fn limited_app(backend: &Backend, burst: u32, behind_proxy: bool) -> TestApp {
    let (mut settings, fixture) = test_fixture(backend);
    settings.rate_limit = RateLimit {
        per_minute: 6,
        burst,
    };
    if behind_proxy {
        settings.trusted_proxies = vec![IpRange::parse("127.0.0.1").unwrap()];
    }
    spawn_with(settings, fixture).await
}

fn daemon_form() -> [(&'static str, &'static str); 3] {
    [
        ("grant_type", "client_credentials"),
        ("client_id", DAEMON_ONLY),
        ("client_secret", DAEMON_SECRET),
    ]
}

/// POSTs a form as if from `client` (through the trusted proxy).
async fn post_from(
    app: &TestApp,
    client: &str,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    app.http
        .post(app.url(path))
        .header("x-forwarded-for", client)
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn login_from(app: &TestApp, client: &str) -> reqwest::Response {
    app.http
        .post(app.url("/auth/login"))
        .header("x-forwarded-for", client)
        .json(&json!({"email": ALICE, "password": ALICE_PASSWORD}))
        .send()
        .await
        .unwrap()
}

/// A 429 with `Retry-After` (seconds, within the 10 s a request costs here) and the
/// JSON error body; returns both.
async fn refused_json(res: reqwest::Response) -> (u64, Value) {
    assert_eq!(res.status(), 429);
    let wait: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=10).contains(&wait), "Retry-After {wait}");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable", "{body}");
    (wait, body)
}

on_every_backend!(a_burst_from_one_address_is_refused_while_another_address_signs_in);
async fn a_burst_from_one_address_is_refused_while_another_address_signs_in(backend: Backend) {
    let app = limited_app(&backend, 3, true).await;
    for _ in 0..3 {
        let res = post_from(&app, FIRST, "/auth/token", &daemon_form()).await;
        assert_eq!(res.status(), 200);
    }
    // The fourth request at once is refused before its credentials are looked at.
    let (wait, body) =
        refused_json(post_from(&app, FIRST, "/auth/token", &daemon_form()).await).await;
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("Too many requests"),
        "{body}"
    );
    // One budget covers every credential endpoint, each answering in its own shape.
    refused_json(login_from(&app, FIRST).await).await;
    let (_, entra) = refused_json(
        post_from(
            &app,
            FIRST,
            &format!("/{CONTOSO_ID}/oauth2/v2.0/token"),
            &daemon_form(),
        )
        .await,
    )
    .await;
    assert_eq!(entra["error_codes"], json!([90055]), "{entra}");
    for b2c_path in [
        "/contoso.onmicrosoft.com/B2C_1_ROPC/oauth2/v2.0/token",
        "/tfp/contoso.onmicrosoft.com/B2C_1_ROPC/oauth2/v2.0/token",
        "/contoso.onmicrosoft.com/oauth2/v2.0/token?p=B2C_1_ROPC",
    ] {
        let (_, b2c) = refused_json(post_from(&app, FIRST, b2c_path, &daemon_form()).await).await;
        let description = b2c["error_description"].as_str().unwrap();
        assert!(
            description.starts_with("AADB2C90229: "),
            "{b2c_path}: {b2c}"
        );
    }
    for path in ["/revoke", "/introspect"] {
        let form = [
            ("token", "x"),
            ("client_id", RP_WEB),
            ("client_secret", RP_WEB_SECRET),
        ];
        refused_json(post_from(&app, FIRST, path, &form).await).await;
    }
    // The browser forms answer with a page.
    for path in ["/login", "/signup"] {
        let res = post_from(&app, FIRST, path, &[("email", ALICE), ("password", "x")]).await;
        assert_eq!(res.status(), 429, "{path}");
        assert!(res.headers().contains_key("retry-after"), "{path}");
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{path}"
        );
        let page = res.text().await.unwrap();
        assert!(page.contains("Too many attempts"), "{page}");
    }

    // Meanwhile another address signs in, and what it got is checked as usual.
    let res = login_from(&app, SECOND).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let token = body["access_token"].as_str().unwrap();
    let res = app
        .http
        .get(app.url("/auth/verify"))
        .header("x-forwarded-for", FIRST)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        200,
        "verification is not a credential request"
    );

    // Once the wait is over, the first address is served again (one request's worth).
    app.advance(Duration::from_secs(wait));
    let res = post_from(&app, FIRST, "/auth/token", &daemon_form()).await;
    assert_eq!(res.status(), 200);
    refused_json(post_from(&app, FIRST, "/auth/token", &daemon_form()).await).await;
    // Idle for a minute, it has its whole burst back.
    app.advance(Duration::from_secs(60));
    for _ in 0..3 {
        assert_eq!(login_from(&app, FIRST).await.status(), 200);
    }
}

on_every_backend!(a_forwarded_for_header_from_an_untrusted_peer_cannot_dodge_the_limit);
async fn a_forwarded_for_header_from_an_untrusted_peer_cannot_dodge_the_limit(backend: Backend) {
    let app = limited_app(&backend, 2, false).await;
    let statuses: Vec<u16> = {
        let mut out = Vec::new();
        for i in 0..4 {
            let forged = format!("203.0.113.{i}");
            let res = post_from(&app, &forged, "/auth/token", &daemon_form()).await;
            out.push(res.status().as_u16());
        }
        out
    };
    assert_eq!(statuses, [200, 200, 429, 429]);
}

on_every_backend!(the_default_limits_are_on_and_out_of_a_test_suites_reach);
async fn the_default_limits_are_on_and_out_of_a_test_suites_reach(backend: Backend) {
    let app = spawn_app(&backend).await;
    assert!(app.state.rate_limiter.is_on());
    assert_eq!(
        app.settings.rate_limit,
        RateLimit {
            per_minute: 600,
            burst: 300
        }
    );
    // Far more credential requests from one address than any test here makes.
    for i in 0..120 {
        let res = if i % 10 == 0 {
            login_from(&app, FIRST).await
        } else {
            app.token(&daemon_form()).await
        };
        assert_eq!(res.status(), 200, "request {i}");
    }
}
