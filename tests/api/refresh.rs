use std::time::Duration;

use crate::helpers::*;
use serde_json::Value;

on_every_backend!(refresh_tokens_rotate_and_keep_the_user);
async fn refresh_tokens_rotate_and_keep_the_user(backend: Backend) {
    let app = spawn_app(&backend).await;
    let first = app.alice_tokens("openid offline_access").await;
    let rt1 = first["refresh_token"].as_str().unwrap();

    let res = app.refresh(rt1, &[]).await;
    assert_eq!(res.status(), 200);
    let second: Value = res.json().await.unwrap();
    let rt2 = second["refresh_token"].as_str().unwrap();
    assert_ne!(rt1, rt2, "a new refresh token each time");
    assert_eq!(second["scope"], "openid offline_access");
    let c = claims(second["access_token"].as_str().unwrap());
    assert_eq!(c["oid"], ALICE_OID);
    assert_eq!(c["roles"], serde_json::json!(["Admin", "Tasks.Write"]));
    assert!(second["id_token"].is_string());

    // Narrowing the scope is allowed, widening is not.
    let res = app.refresh(rt2, &[("scope", "offline_access")]).await;
    assert_eq!(res.status(), 200);
    let third: Value = res.json().await.unwrap();
    assert!(third.get("id_token").is_none());
    let rt3 = third["refresh_token"].as_str().unwrap();
    let res = app.refresh(rt3, &[("scope", "offline_access email")]).await;
    assert_oauth_error(res, 400, "invalid_scope").await;
}

on_every_backend!(reusing_a_refresh_token_revokes_its_family);
async fn reusing_a_refresh_token_revokes_its_family(backend: Backend) {
    let app = spawn_app(&backend).await;
    let first = app.alice_tokens("offline_access").await;
    let rt1 = first["refresh_token"].as_str().unwrap().to_owned();
    let res = app.refresh(&rt1, &[]).await;
    assert_eq!(res.status(), 200);
    let rt2 = res.json::<Value>().await.unwrap()["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();

    // An attacker replays rt1 after the retry grace: refused, and the legitimate rt2
    // dies with it.
    app.advance(Duration::from_secs(app.settings.refresh_retry_grace as u64));
    let d = assert_oauth_error(app.refresh(&rt1, &[]).await, 400, "invalid_grant").await;
    assert!(d.contains("already used"), "{d}");
    let d = assert_oauth_error(app.refresh(&rt2, &[]).await, 400, "invalid_grant").await;
    assert!(d.contains("revoked"), "{d}");

    // Another sign-in starts an unrelated family that still works.
    let other = app.alice_tokens("offline_access").await;
    let res = app
        .refresh(other["refresh_token"].as_str().unwrap(), &[])
        .await;
    assert_eq!(res.status(), 200);
}

on_every_backend!(refresh_token_errors);
async fn refresh_token_errors(backend: Backend) {
    let app = spawn_app(&backend).await;
    let tokens = app.alice_tokens("offline_access").await;
    let rt = tokens["refresh_token"].as_str().unwrap();

    // Made-up token.
    assert_oauth_error(app.refresh("made-up", &[]).await, 400, "invalid_grant").await;
    // Missing token.
    let res = app
        .token(&[
            ("grant_type", "refresh_token"),
            ("client_id", WEB_APP),
            ("client_secret", WEB_APP_SECRET),
        ])
        .await;
    assert_oauth_error(res, 400, "invalid_request").await;
    // Another client cannot redeem it (and doing so does not burn it).
    let res = app
        .token(&[
            ("grant_type", "refresh_token"),
            ("client_id", API_APP),
            ("client_secret", API_APP_SECRET),
            ("refresh_token", rt),
        ])
        .await;
    assert_oauth_error(res, 400, "invalid_grant").await;
    assert_eq!(app.refresh(rt, &[]).await.status(), 200);
}

on_every_backend!(disabled_user_cannot_refresh);
async fn disabled_user_cannot_refresh(backend: Backend) {
    let app = spawn_app(&backend).await;
    let tokens = app.alice_tokens("offline_access").await;
    let rt = tokens["refresh_token"].as_str().unwrap();
    let now = app.now();
    app.state
        .db(move |c| localidp::db::users::set_disabled(c, ALICE_OID, true, now))
        .await
        .unwrap();
    let d = assert_oauth_error(app.refresh(rt, &[]).await, 400, "invalid_grant").await;
    assert!(d.contains("disabled"), "{d}");
}

on_every_backend!(expired_refresh_token_is_invalid_grant);
async fn expired_refresh_token_is_invalid_grant(backend: Backend) {
    let app = spawn_app(&backend).await;
    let tokens = app.alice_tokens("offline_access").await;
    let lifetime = app.settings.refresh_token_lifetime as u64;
    app.advance(Duration::from_secs(lifetime + 1));
    let d = assert_oauth_error(
        app.refresh(tokens["refresh_token"].as_str().unwrap(), &[])
            .await,
        400,
        "invalid_grant",
    )
    .await;
    assert!(d.contains("expired"), "{d}");
}

on_every_backend!(a_refused_refresh_does_not_spend_the_token);
async fn a_refused_refresh_does_not_spend_the_token(backend: Backend) {
    let app = spawn_app(&backend).await;
    let tokens = app.alice_tokens("openid offline_access").await;
    let rt = tokens["refresh_token"].as_str().unwrap();
    // RFC 6749 §6: an error leaves the refresh token as it was.
    let res = app
        .refresh(rt, &[("scope", "openid offline_access email")])
        .await;
    assert_oauth_error(res, 400, "invalid_scope").await;
    let res = app.refresh(rt, &[("scope", "api://unknown-app/x")]).await;
    assert_oauth_error(res, 400, "invalid_scope").await;
    assert_eq!(app.refresh(rt, &[]).await.status(), 200);
}

on_every_backend!(concurrent_replays_redeem_once_and_leave_no_live_token_behind);
async fn concurrent_replays_redeem_once_and_leave_no_live_token_behind(backend: Backend) {
    // With the retry grace off, every presentation after the first is reuse (with it,
    // concurrent presentations are retries: see refresh_grace.rs).
    let (mut settings, fixture) = test_fixture(&backend);
    settings.refresh_retry_grace = 0;
    let app = spawn_with(settings, fixture).await;
    // Five rounds, each with a fresh token replayed four times at once.
    for _ in 0..5 {
        let tokens = app.alice_tokens("offline_access").await;
        let rt = tokens["refresh_token"].as_str().unwrap().to_owned();
        let attempts: Vec<_> = (0..4)
            .map(|_| {
                let http = app.http.clone();
                let url = app.url("/auth/token");
                let rt = rt.clone();
                tokio::spawn(async move {
                    http.post(url)
                        .form(&[
                            ("grant_type", "refresh_token"),
                            ("client_id", WEB_APP),
                            ("client_secret", WEB_APP_SECRET),
                            ("refresh_token", rt.as_str()),
                        ])
                        .send()
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut winners = Vec::new();
        for a in attempts {
            let res = a.await.unwrap();
            if res.status() == 200 {
                let body: Value = res.json().await.unwrap();
                winners.push(body["refresh_token"].as_str().unwrap().to_owned());
            } else {
                assert_oauth_error(res, 400, "invalid_grant").await;
            }
        }
        assert_eq!(winners.len(), 1, "exactly one replay redeems the token");
        // The other replays revoked the family, including what the winner received.
        assert_oauth_error(app.refresh(&winners[0], &[]).await, 400, "invalid_grant").await;
    }
}

on_every_backend!(refresh_keeps_auth_time_and_its_user_flow);
async fn refresh_keeps_auth_time_and_its_user_flow(backend: Backend) {
    let app = spawn_app(&backend).await;
    let first = app.alice_tokens("openid offline_access").await;
    let auth_time = claims(first["id_token"].as_str().unwrap())["auth_time"].clone();
    app.advance(Duration::from_secs(60));
    let res = app
        .refresh(first["refresh_token"].as_str().unwrap(), &[])
        .await;
    assert_eq!(res.status(), 200);
    let second: Value = res.json().await.unwrap();
    let id = claims(second["id_token"].as_str().unwrap());
    assert_eq!(
        id["auth_time"], auth_time,
        "OIDC Core §12.2: the original sign-in time"
    );
    assert!(id["iat"].as_i64().unwrap() > auth_time.as_i64().unwrap());

    // A B2C user flow's refresh token is redeemed under the same flow only.
    let res = app
        .http
        .post(app.url("/contoso.onmicrosoft.com/B2C_1_ROPC/oauth2/v2.0/token"))
        .form(&[
            ("grant_type", "password"),
            ("client_id", PUBLIC_APP),
            ("username", ALICE),
            ("password", ALICE_PASSWORD),
            ("scope", "openid offline_access"),
        ])
        .send()
        .await
        .unwrap();
    let b2c: Value = res.json().await.unwrap();
    let b2c_rt = b2c["refresh_token"].as_str().unwrap();
    let form = [
        ("grant_type", "refresh_token"),
        ("client_id", PUBLIC_APP),
        ("refresh_token", b2c_rt),
    ];
    for path in [
        "/auth/token",
        "/contoso.onmicrosoft.com/oauth2/v2.0/token",
        "/contoso.onmicrosoft.com/B2C_1_signupsignin/oauth2/v2.0/token",
    ] {
        let res = app
            .http
            .post(app.url(path))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{path}");
    }
    let res = app
        .http
        .post(app.url("/contoso.onmicrosoft.com/b2c_1_ropc/oauth2/v2.0/token"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let c = claims(
        res.json::<Value>().await.unwrap()["access_token"]
            .as_str()
            .unwrap(),
    );
    assert_eq!(c["tfp"], "B2C_1_ROPC");
}
