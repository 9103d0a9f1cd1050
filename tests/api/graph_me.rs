//! Microsoft Graph v1.0 for signed-in users: `PATCH /me` (what Graph lets a user
//! change about themselves), directory roles (`Global Administrator`, `User
//! Administrator`) behind delegated writes, their `wids` claim and `memberOf`, and
//! paging of `members` and `memberOf`.

use serde_json::{Value, json};

use crate::helpers::*;

async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let url = if path.starts_with("http") {
        path.replace(PUBLIC_URL, &app.base)
    } else {
        app.url(path)
    };
    let mut req = app.http.request(method, url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn get(app: &TestApp, path: &str, token: &str) -> (u16, Value) {
    call(app, reqwest::Method::GET, path, Some(token), None).await
}

async fn patch_me(app: &TestApp, token: Option<&str>, body: Value) -> (u16, Value) {
    call(app, reqwest::Method::PATCH, "/v1.0/me", token, Some(body)).await
}

fn assert_error(status: u16, body: &Value, want: u16, code: &str) {
    assert_eq!(status, want, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["innerError"]["request-id"].is_string(),
        "{body}"
    );
}

/// Alice's access token for Graph with these delegated permissions.
async fn alice(app: &TestApp, scope: &str) -> String {
    app.alice_tokens(scope).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

on_every_backend!(a_user_changes_their_own_names_with_user_readwrite);
async fn a_user_changes_their_own_names_with_user_readwrite(backend: Backend) {
    let app = spawn_app(&backend).await;
    let token = alice(&app, "User.ReadWrite").await;
    let (status, body) = patch_me(
        &app,
        Some(&token),
        json!({"displayName": "Alice Jones", "surname": "Jones", "aboutMe": "kept nowhere"}),
    )
    .await;
    assert_eq!(status, 204, "{body}");
    let (status, me) = get(&app, "/v1.0/me", &token).await;
    assert_eq!(status, 200);
    assert_eq!(me["displayName"], "Alice Jones");
    assert_eq!(me["surname"], "Jones");
    assert_eq!(me["givenName"], "Alice");
    // The next token carries the new names.
    let tokens = app.alice_tokens("openid User.Read").await;
    let c = claims(tokens["access_token"].as_str().unwrap());
    assert_eq!(c["name"], "Alice Jones");
    assert_eq!(c["family_name"], "Jones");
    assert_eq!(
        claims(tokens["id_token"].as_str().unwrap())["name"],
        "Alice Jones"
    );
    let events = app.audit_events("user.updated").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].actor.as_deref(), Some(ALICE_OID));
}

on_every_backend!(patch_me_refuses_what_a_user_may_not_change_and_bad_bodies);
async fn patch_me_refuses_what_a_user_may_not_change_and_bad_bodies(backend: Backend) {
    let app = spawn_app(&backend).await;
    let token = alice(&app, "User.ReadWrite").await;
    // Properties only an administrator changes: 403, and nothing changes.
    for body in [
        json!({"displayName": "X", "accountEnabled": false}),
        json!({"userPrincipalName": "x@contoso.com"}),
        json!({"passwordProfile": {"password": "Str0ng-Passw0rd!"}}),
        json!({"jobTitle": "CEO"}),
    ] {
        let (status, res) = patch_me(&app, Some(&token), body.clone()).await;
        assert_error(status, &res, 403, "Authorization_RequestDenied");
    }
    let (_, me) = get(&app, "/v1.0/me", &token).await;
    assert_ne!(me["displayName"], "X");
    // Bad input: 400 in Graph's shape.
    for body in [
        json!({"favouriteColour": "blue"}),
        json!({"displayName": "   "}),
        json!({"displayName": 42}),
        json!(["displayName"]),
    ] {
        let (status, res) = patch_me(&app, Some(&token), body.clone()).await;
        assert_error(status, &res, 400, "Request_BadRequest");
    }
    let res = app
        .http
        .patch(app.url("/v1.0/me"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    // User.Read reads /me but does not change it.
    let reader = alice(&app, "User.Read").await;
    let (status, res) = patch_me(&app, Some(&reader), json!({"displayName": "Y"})).await;
    assert_error(status, &res, 403, "Authorization_RequestDenied");
    // No token, or a bad one: 401.
    let (status, res) = patch_me(&app, None, json!({"displayName": "Y"})).await;
    assert_error(status, &res, 401, "InvalidAuthenticationToken");
    let (status, res) = patch_me(&app, Some("not-a-jwt"), json!({"displayName": "Y"})).await;
    assert_error(status, &res, 401, "InvalidAuthenticationToken");
    // An app-only token has no /me.
    let res = app
        .token(&[
            ("grant_type", "client_credentials"),
            ("client_id", DAEMON_ONLY),
            ("client_secret", DAEMON_SECRET),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .await;
    let daemon: Value = res.json().await.unwrap();
    let daemon = daemon["access_token"].as_str().unwrap();
    let (status, res) = patch_me(&app, Some(daemon), json!({"displayName": "Y"})).await;
    assert_error(status, &res, 400, "Request_BadRequest");
    // Nothing refused was written.
    assert!(app.audit_events("user.updated").await.is_empty());
}
