//! Refresh retry grace: the same client presenting a just-rotated refresh token again
//! within `refresh_retry_grace` seconds is retrying (its answer may have been lost),
//! not replaying a stolen token.

use std::time::Duration;

use crate::helpers::*;
use serde_json::Value;

/// The refresh token of a 200 answer.
async fn refresh_token_of(res: reqwest::Response) -> String {
    assert_eq!(res.status(), 200, "refresh succeeds");
    let body: Value = res.json().await.unwrap();
    body["refresh_token"].as_str().unwrap().to_owned()
}

/// Alice's first refresh token, and the successor of its first rotation.
async fn rotated_once(app: &TestApp) -> (String, String) {
    let first = app.alice_tokens("openid offline_access").await;
    let rt1 = first["refresh_token"].as_str().unwrap().to_owned();
    let rt2 = refresh_token_of(app.refresh(&rt1, &[]).await).await;
    (rt1, rt2)
}

async fn assert_refused(app: &TestApp, rt: &str, says: &str) {
    let d = assert_oauth_error(app.refresh(rt, &[]).await, 400, "invalid_grant").await;
    assert!(d.contains(says), "{d}");
}

on_every_backend!(a_retry_within_the_window_gets_a_new_successor_and_keeps_the_family);
async fn a_retry_within_the_window_gets_a_new_successor_and_keeps_the_family(backend: Backend) {
    let app = spawn_app(&backend).await;
    assert_eq!(
        app.settings.refresh_retry_grace, 30,
        "the documented default"
    );
    let (rt1, rt2) = rotated_once(&app).await;

    // The answer carrying rt2 was lost; the client retries with rt1 20 s later.
    app.advance(Duration::from_secs(20));
    let res = app.refresh(&rt1, &[]).await;
    assert_eq!(res.status(), 200);
    let retried: Value = res.json().await.unwrap();
    let rt3 = retried["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(rt3, rt2, "a fresh successor");
    assert_eq!(
        claims(retried["access_token"].as_str().unwrap())["oid"],
        ALICE_OID
    );
    assert!(retried["id_token"].is_string());

    // Both successors stay valid (two tabs may hold one each), and their own
    // successors keep rotating in the same family.
    let rt4 = refresh_token_of(app.refresh(&rt3, &[]).await).await;
    let rt5 = refresh_token_of(app.refresh(&rt2, &[]).await).await;
    assert_eq!(app.introspect(&rt4).await["active"], true);
    assert_eq!(app.introspect(&rt5).await["active"], true);

    // Now (successors used, the window over) rt1 is reuse: the whole family ends.
    app.advance(Duration::from_secs(11));
    assert_refused(&app, &rt1, "already used").await;
    for rt in [&rt4, &rt5] {
        assert_refused(&app, rt, "revoked").await;
    }
}

on_every_backend!(a_replay_after_the_window_is_reuse_and_revokes_the_family);
async fn a_replay_after_the_window_is_reuse_and_revokes_the_family(backend: Backend) {
    let app = spawn_app(&backend).await;
    let (rt1, rt2) = rotated_once(&app).await;
    app.advance(Duration::from_secs(30));
    assert_refused(&app, &rt1, "already used").await;
    assert_refused(&app, &rt2, "revoked").await;
    assert_eq!(app.introspect(&rt2).await["active"], false);
}

on_every_backend!(a_replay_after_the_successor_was_used_is_reuse);
async fn a_replay_after_the_successor_was_used_is_reuse(backend: Backend) {
    let app = spawn_app(&backend).await;
    let (rt1, rt2) = rotated_once(&app).await;
    // The client received rt2 and used it: rt1 cannot be a retry any more.
    let rt3 = refresh_token_of(app.refresh(&rt2, &[]).await).await;
    assert_refused(&app, &rt1, "already used").await;
    assert_refused(&app, &rt3, "revoked").await;
}

on_every_backend!(a_spent_token_from_another_client_is_reuse_even_within_the_window);
async fn a_spent_token_from_another_client_is_reuse_even_within_the_window(backend: Backend) {
    let app = spawn_app(&backend).await;
    let (rt1, rt2) = rotated_once(&app).await;
    let res = app.refresh_as(API_APP, API_APP_SECRET, &rt1, &[]).await;
    let d = assert_oauth_error(res, 400, "invalid_grant").await;
    assert!(d.contains("already used"), "{d}");
    assert_refused(&app, &rt2, "revoked").await;
    // The owner's own retry of rt1 is refused too: the family is gone.
    assert_refused(&app, &rt1, "revoked").await;
}

on_every_backend!(with_the_grace_off_a_retry_is_reuse);
async fn with_the_grace_off_a_retry_is_reuse(backend: Backend) {
    let (mut settings, fixture) = test_fixture(&backend);
    settings.refresh_retry_grace = 0;
    let app = spawn_with(settings, fixture).await;
    let (rt1, rt2) = rotated_once(&app).await;
    assert_refused(&app, &rt1, "already used").await;
    assert_refused(&app, &rt2, "revoked").await;
}

on_every_backend!(concurrent_refreshes_within_the_window_all_succeed_in_one_family);
async fn concurrent_refreshes_within_the_window_all_succeed_in_one_family(backend: Backend) {
    let app = spawn_app(&backend).await;
    let tokens = app.alice_tokens("offline_access").await;
    let rt = tokens["refresh_token"].as_str().unwrap().to_owned();
    // Four tabs refresh with the same token at once: one rotation, three retries.
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
    let mut successors = Vec::new();
    for a in attempts {
        successors.push(refresh_token_of(a.await.unwrap()).await);
    }
    successors.sort();
    successors.dedup();
    assert_eq!(successors.len(), 4, "four distinct successors");
    for s in &successors {
        refresh_token_of(app.refresh(s, &[]).await).await;
    }
}
