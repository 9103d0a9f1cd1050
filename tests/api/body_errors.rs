use crate::helpers::*;
use serde_json::Value;

/// POSTs a body exactly as given, with the given content type.
async fn post_raw(
    app: &TestApp,
    path: &str,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    app.http
        .post(app.url(path))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

on_every_backend!(malformed_bodies_get_protocol_errors_never_500);
async fn malformed_bodies_get_protocol_errors_never_500(backend: Backend) {
    let app = spawn_app(&backend).await;
    // Wrong content type on the token endpoint.
    let res = post_raw(
        &app,
        "/auth/token",
        "application/json",
        r#"{"grant_type":"password"}"#,
    )
    .await;
    assert_oauth_error(res, 415, "invalid_request").await;
    // A parameter given twice (RFC 6749 §3.2).
    let res = post_raw(
        &app,
        "/auth/token",
        "application/x-www-form-urlencoded",
        "grant_type=password&grant_type=client_credentials",
    )
    .await;
    assert_oauth_error(res, 400, "invalid_request").await;
    // Invalid UTF-8 and broken percent-encoding.
    for body in [
        &b"grant_type=%ff%fe"[..],
        &b"grant_type=%zz"[..],
        &b"\xff\xfe=\x00"[..],
    ] {
        let res = post_raw(
            &app,
            "/auth/token",
            "application/x-www-form-urlencoded",
            body.to_vec(),
        )
        .await;
        assert!(res.status().is_client_error(), "{}", res.status());
    }
    // Too large.
    let big = format!("grant_type=password&username={}", "a".repeat(100 * 1024));
    let res = post_raw(
        &app,
        "/auth/token",
        "application/x-www-form-urlencoded",
        big,
    )
    .await;
    assert_oauth_error(res, 413, "invalid_request").await;
    // Login: wrong content type, broken JSON, wrong shape, too large.
    let res = post_raw(&app, "/auth/login", "text/plain", "{}").await;
    assert_oauth_error(res, 415, "invalid_request").await;
    let res = post_raw(&app, "/auth/login", "application/json", "{not json").await;
    assert_oauth_error(res, 400, "invalid_request").await;
    let res = app
        .http
        .post(app.url("/auth/login"))
        .json(&serde_json::json!({"email": 5, "password": []}))
        .send()
        .await
        .unwrap();
    assert_oauth_error(res, 422, "invalid_request").await;
    let res = app
        .http
        .post(app.url("/auth/login"))
        .header("content-type", "application/json")
        .body(format!(
            r#"{{"email":"{}","password":"x"}}"#,
            "a".repeat(100 * 1024)
        ))
        .send()
        .await
        .unwrap();
    assert_oauth_error(res, 413, "invalid_request").await;
    // Wrong method.
    let res = app.http.get(app.url("/auth/token")).send().await.unwrap();
    assert!(res.status().is_client_error());
    // Long and odd values reach the grant logic without a 500.
    let odd = "\u{0}\u{202e}💥".repeat(1000);
    for grant in ["password", "refresh_token", "client_credentials"] {
        let res = app
            .token(&[
                ("grant_type", grant),
                ("client_id", &odd),
                ("client_secret", &odd),
                ("username", &odd),
                ("password", &odd),
                ("refresh_token", &odd),
                ("scope", &odd),
            ])
            .await;
        assert!(res.status().is_client_error(), "{grant}: {}", res.status());
        let _: Value = res.json().await.unwrap();
    }
}
