use crate::helpers::*;
use serde_json::Value;

async fn refresh(app: &TestApp, token: &str, extra: &[(&str, &str)]) -> reqwest::Response {
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("client_id", WEB_APP),
        ("client_secret", WEB_APP_SECRET),
        ("refresh_token", token),
    ];
    form.extend_from_slice(extra);
    app.token(&form).await
}

#[tokio::test]
async fn refresh_tokens_rotate_and_keep_the_user() {
    let app = spawn_app().await;
    let first = app.alice_tokens("openid offline_access").await;
    let rt1 = first["refresh_token"].as_str().unwrap();

    let res = refresh(&app, rt1, &[]).await;
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
    let res = refresh(&app, rt2, &[("scope", "offline_access")]).await;
    assert_eq!(res.status(), 200);
    let third: Value = res.json().await.unwrap();
    assert!(third.get("id_token").is_none());
    let rt3 = third["refresh_token"].as_str().unwrap();
    let res = refresh(&app, rt3, &[("scope", "offline_access email")]).await;
    assert_oauth_error(res, 400, "invalid_scope").await;
}

#[tokio::test]
async fn reusing_a_refresh_token_revokes_its_family() {
    let app = spawn_app().await;
    let first = app.alice_tokens("offline_access").await;
    let rt1 = first["refresh_token"].as_str().unwrap().to_owned();
    let res = refresh(&app, &rt1, &[]).await;
    assert_eq!(res.status(), 200);
    let rt2 = res.json::<Value>().await.unwrap()["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();

    // An attacker replays rt1: refused, and the legitimate rt2 dies with it.
    let d = assert_oauth_error(refresh(&app, &rt1, &[]).await, 400, "invalid_grant").await;
    assert!(d.contains("already used"), "{d}");
    let d = assert_oauth_error(refresh(&app, &rt2, &[]).await, 400, "invalid_grant").await;
    assert!(d.contains("revoked"), "{d}");

    // Another sign-in starts an unrelated family that still works.
    let other = app.alice_tokens("offline_access").await;
    let res = refresh(&app, other["refresh_token"].as_str().unwrap(), &[]).await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn refresh_token_errors() {
    let app = spawn_app().await;
    let tokens = app.alice_tokens("offline_access").await;
    let rt = tokens["refresh_token"].as_str().unwrap();

    // Made-up token.
    assert_oauth_error(refresh(&app, "made-up", &[]).await, 400, "invalid_grant").await;
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
    assert_eq!(refresh(&app, rt, &[]).await.status(), 200);
}

#[tokio::test]
async fn disabled_user_cannot_refresh() {
    let app = spawn_app().await;
    let tokens = app.alice_tokens("offline_access").await;
    let rt = tokens["refresh_token"].as_str().unwrap();
    app.state
        .db(|c| localidp::db::users::set_disabled(c, ALICE_OID, true))
        .await
        .unwrap();
    let d = assert_oauth_error(refresh(&app, rt, &[]).await, 400, "invalid_grant").await;
    assert!(d.contains("disabled"), "{d}");
}

#[tokio::test]
async fn expired_refresh_token_is_invalid_grant() {
    use diesel::prelude::*;
    use localidp::db::schema::refresh_tokens;
    let app = spawn_app().await;
    let tokens = app.alice_tokens("offline_access").await;
    app.state
        .db(|c| {
            diesel::update(refresh_tokens::table)
                .set(refresh_tokens::expires_at.eq(localidp::db::now() - 1))
                .execute(c)?;
            Ok(())
        })
        .await
        .unwrap();
    let d = assert_oauth_error(
        refresh(&app, tokens["refresh_token"].as_str().unwrap(), &[]).await,
        400,
        "invalid_grant",
    )
    .await;
    assert!(d.contains("expired"), "{d}");
}
