use crate::helpers::*;
use base64::Engine;
use serde_json::Value;

on_every_backend!(client_secret_post_issues_an_app_token);
async fn client_secret_post_issues_an_app_token(backend: Backend) {
    let app = spawn_app(&backend).await;
    let scope = format!("api://{API_APP}/.default");
    let res = app
        .token(&[
            ("grant_type", "client_credentials"),
            ("client_id", WEB_APP),
            ("client_secret", WEB_APP_SECRET),
            ("scope", &scope),
            // MSAL telemetry and unknown parameters are ignored.
            ("x-client-SKU", "MSAL.Python"),
            ("client_info", "1"),
        ])
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await.unwrap();
    assert!(body.get("refresh_token").is_none());
    assert_eq!(body["scope"], scope);
    let c = claims(body["access_token"].as_str().unwrap());
    assert_eq!(c["aud"], API_APP);
    assert_eq!(c["sub"], WEB_APP);
    assert_eq!(c["oid"], WEB_APP);
    assert_eq!(c["azp"], WEB_APP);
    assert_eq!(c["azpacr"], "1");
    assert_eq!(c["idtyp"], "app");
    assert_eq!(c["roles"], serde_json::json!(["Tasks.Read.All"]));
    assert!(c.get("scp").is_none());
    assert!(c.get("email").is_none());

    let res = app.verify(body["access_token"].as_str().unwrap()).await;
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["user_id"], WEB_APP);
    assert_eq!(v["idtyp"], "app");
    assert_eq!(v["roles"], serde_json::json!(["Tasks.Read.All"]));
}

on_every_backend!(client_secret_basic_with_form_encoded_credentials);
async fn client_secret_basic_with_form_encoded_credentials(backend: Backend) {
    let app = spawn_app(&backend).await;
    let res = app
        .http
        .post(app.url("/auth/token"))
        .basic_auth(DAEMON_ONLY, Some(DAEMON_SECRET))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let c = claims(body["access_token"].as_str().unwrap());
    assert_eq!(
        c["aud"], DAEMON_ONLY,
        "no scope: the token is for the client itself"
    );

    // RFC 6749 §2.3.1: the id and secret are form-encoded before base64.
    let raw = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        DAEMON_ONLY.replace('-', "%2D"),
        DAEMON_SECRET
    ));
    let res = app
        .http
        .post(app.url("/auth/token"))
        .header("authorization", format!("Basic {raw}"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

on_every_backend!(client_authentication_failures);
async fn client_authentication_failures(backend: Backend) {
    let app = spawn_app(&backend).await;
    // Wrong secret, post and basic.
    let res = app
        .token(&[
            ("grant_type", "client_credentials"),
            ("client_id", WEB_APP),
            ("client_secret", "wrong"),
        ])
        .await;
    assert!(res.headers().contains_key("www-authenticate"));
    assert_oauth_error(res, 401, "invalid_client").await;
    let res = app
        .http
        .post(app.url("/auth/token"))
        .basic_auth(WEB_APP, Some("wrong"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_oauth_error(res, 401, "invalid_client").await;
    // Missing secret for a confidential client.
    let res = app
        .token(&[("grant_type", "client_credentials"), ("client_id", WEB_APP)])
        .await;
    assert_oauth_error(res, 401, "invalid_client").await;
    // Unknown client.
    let res = app
        .token(&[
            ("grant_type", "client_credentials"),
            ("client_id", "nope"),
            ("client_secret", "x"),
        ])
        .await;
    assert_oauth_error(res, 401, "invalid_client").await;
    // Two authentication methods at once.
    let res = app
        .http
        .post(app.url("/auth/token"))
        .basic_auth(WEB_APP, Some(WEB_APP_SECRET))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_secret", WEB_APP_SECRET),
        ])
        .send()
        .await
        .unwrap();
    assert_oauth_error(res, 400, "invalid_request").await;
    // Garbage in the Authorization header.
    let res = app
        .http
        .post(app.url("/auth/token"))
        .header("authorization", "Basic !!!not-base64")
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_oauth_error(res, 401, "invalid_client").await;
    // A public client cannot use client_credentials.
    let res = app
        .token(&[
            ("grant_type", "client_credentials"),
            ("client_id", PUBLIC_APP),
        ])
        .await;
    assert_oauth_error(res, 400, "unauthorized_client").await;
    // A public client must not send a secret.
    let res = app
        .token(&[
            ("grant_type", "client_credentials"),
            ("client_id", PUBLIC_APP),
            ("client_secret", "x"),
        ])
        .await;
    assert_oauth_error(res, 401, "invalid_client").await;
}

on_every_backend!(client_credentials_scope_must_be_dot_default);
async fn client_credentials_scope_must_be_dot_default(backend: Backend) {
    let app = spawn_app(&backend).await;
    for scope in [
        format!("api://{API_APP}/Tasks.Read"),
        "openid".to_owned(),
        "api://unknown-app/.default".to_owned(),
    ] {
        let res = app
            .token(&[
                ("grant_type", "client_credentials"),
                ("client_id", WEB_APP),
                ("client_secret", WEB_APP_SECRET),
                ("scope", &scope),
            ])
            .await;
        assert_oauth_error(res, 400, "invalid_scope").await;
    }
}
