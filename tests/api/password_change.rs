//! Temporary passwords (Graph's `passwordProfile.forceChangePasswordNextSignIn`, the
//! seed file's `force_change_password`, `localidp user set-password --force-change`):
//! the password grant answers AADSTS50055 once the password is shown to be right, and
//! the sign-in form asks for a new password, then signs the user in.

use serde_json::{Value, json};

use crate::helpers::graph::{graph, graph_app_token, spawn_with_seed};
use crate::helpers::*;

const ENTRA_TOKEN: &str = "/contoso.onmicrosoft.com/oauth2/v2.0/token";
const B2C_TOKEN: &str = "/contoso.onmicrosoft.com/B2C_1_ROPC/oauth2/v2.0/token";
const TEMP: &str = "temp@contoso.com";
const TEMP_PASSWORD: &str = "Temp-passw0rd";
const NEW_PASSWORD: &str = "Chosen-passw0rd!";
const USERS_ADMIN: &str = "99999999-0000-4000-8000-00000000c0de";
const USERS_ADMIN_SECRET: &str = "users-admin-secret-0123456789abcdefghijk";

/// The standard seed, a user with a temporary password, and a Graph client that
/// writes users.
async fn spawn_app_with_temp_user(backend: &Backend) -> TestApp {
    spawn_with_seed(
        backend,
        &format!(
            r#"
[[users]]
email = "{TEMP}"
password = "{TEMP_PASSWORD}"
tenant = "contoso.onmicrosoft.com"
force_change_password = true

[[clients]]
client_id = "{USERS_ADMIN}"
name = "users admin"
secret = "{USERS_ADMIN_SECRET}"
grant_types = ["client_credentials"]
graph_permissions = ["User.ReadWrite.All"]
"#
        ),
    )
    .await
}

/// Status and JSON body of a password grant (the public client) at `path`.
async fn ropc(app: &TestApp, path: &str, user: &str, password: &str) -> (u16, Value) {
    let res = app
        .post_form(
            path,
            &[
                ("grant_type", "password"),
                ("client_id", PUBLIC_APP),
                ("username", user),
                ("password", password),
                ("scope", "openid"),
            ],
        )
        .await;
    (res.status().as_u16(), res.json().await.unwrap())
}

fn description(body: &Value) -> &str {
    body["error_description"].as_str().unwrap_or_default()
}

/// Asserts the password grant's answer for a temporary password on both flavours.
async fn assert_expired(app: &TestApp, user: &str, password: &str) {
    let (status, body) = ropc(app, ENTRA_TOKEN, user, password).await;
    assert_eq!(
        (status, &body["error"]),
        (400, &json!("invalid_grant")),
        "{body}"
    );
    assert_eq!(body["error_codes"], json!([50055]), "{body}");
    assert!(description(&body).starts_with("AADSTS50055: The password is expired."));
    let (status, body) = ropc(app, B2C_TOKEN, user, password).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        description(&body).starts_with("AADB2C90225: The password is expired."),
        "{body}"
    );
}

on_every_backend!(a_temporary_password_is_replaced_on_the_sign_in_form);
async fn a_temporary_password_is_replaced_on_the_sign_in_form(backend: Backend) {
    let app = spawn_app_with_temp_user(&backend).await;
    // The right temporary password: expired. A wrong one: the usual answer, so the
    // demand shows only to whoever knows the password.
    assert_expired(&app, TEMP, TEMP_PASSWORD).await;
    let (_, body) = ropc(&app, ENTRA_TOKEN, TEMP, "wrong").await;
    assert_eq!(body["error_codes"], json!([50126]), "{body}");
    let res = app
        .http
        .post(app.url("/auth/login"))
        .json(&json!({"email": TEMP, "password": TEMP_PASSWORD}))
        .send()
        .await
        .unwrap();
    let d = assert_oauth_error(res, 401, "invalid_grant").await;
    assert!(d.contains("expired"), "{d}");

    // The form: the right temporary password leads to "Update your password".
    let browser = Browser::new(&app);
    let query = authorize_query(&web_request(&[]));
    let res = browser.sign_in(&query, TEMP, TEMP_PASSWORD).await;
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(page.contains("Update your password"), "{page}");
    assert!(page.contains(r#"action="/login/password""#), "{page}");
    let form = |current: &str, new: &str, confirm: &str| {
        let mut f = hidden_fields(&page);
        f.push(("current_password".into(), current.into()));
        f.push(("new_password".into(), new.into()));
        f.push(("password_confirm".into(), confirm.into()));
        f
    };
    for (fields, status, says) in [
        (
            form(TEMP_PASSWORD, NEW_PASSWORD, "other"),
            400,
            "do not match",
        ),
        (
            form(TEMP_PASSWORD, TEMP_PASSWORD, TEMP_PASSWORD),
            400,
            "reuse",
        ),
        (form(TEMP_PASSWORD, "short", "short"), 400, "8 to 64"),
        (form("wrong", NEW_PASSWORD, NEW_PASSWORD), 401, "incorrect"),
    ] {
        let res = browser.post("/login/password", &fields).await;
        assert_eq!(res.status(), status, "{says}");
        let html = res.text().await.unwrap();
        assert!(html.contains(says), "{says}: {html}");
    }
    // Nothing changed yet.
    assert_expired(&app, TEMP, TEMP_PASSWORD).await;

    let res = browser
        .post(
            "/login/password",
            &form(TEMP_PASSWORD, NEW_PASSWORD, NEW_PASSWORD),
        )
        .await;
    assert_eq!(res.status(), 303);
    let params = redirect_params(&res, RP_WEB_CALLBACK);
    assert_eq!(params["state"], "st-123");
    assert!(!params["code"].is_empty());
    // The new password signs in everywhere; the temporary one no longer does.
    let (status, body) = ropc(&app, ENTRA_TOKEN, TEMP, NEW_PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = ropc(&app, ENTRA_TOKEN, TEMP, TEMP_PASSWORD).await;
    assert_eq!(body["error_codes"], json!([50126]), "{body}");
    let changed = app.audit_events("user.password_set").await;
    assert!(
        changed
            .iter()
            .any(|e| e.detail.contains("expired_password_change")),
        "{changed:?}"
    );
}

on_every_backend!(graph_sets_and_ends_the_demand_for_a_new_password);
async fn graph_sets_and_ends_the_demand_for_a_new_password(backend: Backend) {
    let app = spawn_app_with_temp_user(&backend).await;
    let token = graph_app_token(&app, USERS_ADMIN, USERS_ADMIN_SECRET).await;
    let upn = "newhire@contoso.com";
    let (status, user) = graph(
        &app,
        reqwest::Method::POST,
        "/v1.0/users",
        Some(&token),
        Some(json!({
            "accountEnabled": true,
            "displayName": "New Hire",
            "mailNickname": "newhire",
            "userPrincipalName": upn,
            "passwordProfile": {"forceChangePasswordNextSignIn": true, "password": TEMP_PASSWORD},
        })),
    )
    .await;
    assert_eq!(status, 201, "{user}");
    assert_expired(&app, upn, TEMP_PASSWORD).await;

    // An administrator's new password without the demand: signs in.
    let path = format!("/v1.0/users/{}", user["id"].as_str().unwrap());
    let patch = |body: Value| {
        graph(
            &app,
            reqwest::Method::PATCH,
            &path,
            Some(&token),
            Some(body),
        )
    };
    let (status, body) = patch(json!({"passwordProfile": {"password": NEW_PASSWORD, "forceChangePasswordNextSignIn": false}})).await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = ropc(&app, ENTRA_TOKEN, upn, NEW_PASSWORD).await;
    assert_eq!(status, 200, "{body}");

    // The demand alone, without a new password; then lifted again.
    let (status, body) =
        patch(json!({"passwordProfile": {"forceChangePasswordNextSignIn": true}})).await;
    assert_eq!(status, 204, "{body}");
    assert_expired(&app, upn, NEW_PASSWORD).await;
    let (status, _) =
        patch(json!({"passwordProfile": {"forceChangePasswordNextSignIn": false}})).await;
    assert_eq!(status, 204);
    let (status, body) = ropc(&app, ENTRA_TOKEN, upn, NEW_PASSWORD).await;
    assert_eq!(status, 200, "{body}");

    // A user created without it signs in at once, as before.
    let (status, body) = graph(
        &app,
        reqwest::Method::POST,
        "/v1.0/users",
        Some(&token),
        Some(json!({
            "accountEnabled": true,
            "displayName": "Plain",
            "mailNickname": "plain",
            "userPrincipalName": "plain@contoso.com",
            "passwordProfile": {"password": TEMP_PASSWORD},
        })),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = ropc(&app, ENTRA_TOKEN, "plain@contoso.com", TEMP_PASSWORD).await;
    assert_eq!(status, 200, "{body}");
}

on_every_backend!(a_signed_in_user_changes_their_password_over_graph);
async fn a_signed_in_user_changes_their_password_over_graph(backend: Backend) {
    let app = spawn_app_with_temp_user(&backend).await;
    let token_with = |scope: &'static str| {
        let app = &app;
        async move {
            app.alice_tokens(scope).await["access_token"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let acting = token_with("Directory.AccessAsUser.All").await;
    let reading = token_with("User.Read").await;
    let change = |token: String, body: Value| {
        let app = &app;
        async move {
            graph(
                app,
                reqwest::Method::POST,
                "/v1.0/me/changePassword",
                Some(&token),
                Some(body),
            )
            .await
        }
    };
    let good = json!({"currentPassword": ALICE_PASSWORD, "newPassword": NEW_PASSWORD});
    // Graph's permission for it is Directory.AccessAsUser.All; an app has no "me".
    let (status, body) = change(reading, good.clone()).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "Authorization_RequestDenied");
    let (status, _) = change(
        graph_app_token(&app, USERS_ADMIN, USERS_ADMIN_SECRET).await,
        good.clone(),
    )
    .await;
    assert_eq!(status, 400);
    for bad in [
        json!({"currentPassword": "wrong", "newPassword": NEW_PASSWORD}),
        json!({"currentPassword": ALICE_PASSWORD, "newPassword": "short"}),
        json!({"currentPassword": ALICE_PASSWORD}),
    ] {
        let (status, body) = change(acting.clone(), bad.clone()).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["error"]["code"], "Request_BadRequest", "{body}");
    }
    let (_, body) = ropc(&app, ENTRA_TOKEN, ALICE, ALICE_PASSWORD).await;
    assert!(body["access_token"].is_string(), "unchanged so far: {body}");

    let (status, body) = change(acting, good).await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = ropc(&app, ENTRA_TOKEN, ALICE, NEW_PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = ropc(&app, ENTRA_TOKEN, ALICE, ALICE_PASSWORD).await;
    assert_eq!(body["error_codes"], json!([50126]), "{body}");
}
