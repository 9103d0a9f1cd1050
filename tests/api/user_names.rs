//! Users who sign in with a user name instead of (or besides) an email address.

use crate::helpers::*;
use localidp::directory::{self, users::NewUser};
use serde_json::{Value, json};

const ADMIN_OID: &str = "ad000000-0000-4000-8000-000000000001";
pub(crate) const ADMIN_PASSWORD: &str = "admin-password";
const ERIN_OID: &str = "e0000000-0000-4000-8000-000000000001";
const ERIN_UPN: &str = "erin@contoso.onmicrosoft.com";
const ERIN_EMAIL: &str = "erin.jones@example.com";
const ERIN_PASSWORD: &str = "erin-password";

/// Adds `admin` (a user name, no email address); returns its object id.
pub(crate) async fn add_admin(app: &TestApp) -> &'static str {
    let hasher = app.state.hasher.clone();
    let now = app.now();
    app.state
        .db(move |c| {
            let tenant = directory::tenant(c, CONTOSO_ID).unwrap();
            let new = admin_user();
            directory::users::create_user(c, &hasher, &tenant, &new, now).unwrap();
            Ok(())
        })
        .await
        .unwrap();
    ADMIN_OID
}

fn admin_user() -> NewUser {
    NewUser {
        username: Some("admin".into()),
        password: Some(ADMIN_PASSWORD.to_owned().into()),
        oid: Some(ADMIN_OID.into()),
        roles: vec!["Admin".into()],
        ..Default::default()
    }
}

/// `admin` has only a user name; erin has a UPN-style user name and an email.
async fn add_named_users(app: &TestApp) {
    let hasher = app.state.hasher.clone();
    let now = app.now();
    app.state
        .db(move |c| {
            let tenant = directory::tenant(c, CONTOSO_ID).unwrap();
            for new in [
                admin_user(),
                NewUser {
                    username: Some(ERIN_UPN.into()),
                    email: Some(ERIN_EMAIL.into()),
                    password: Some(ERIN_PASSWORD.to_owned().into()),
                    oid: Some(ERIN_OID.into()),
                    given_name: Some("Erin".into()),
                    family_name: Some("Jones".into()),
                    ..Default::default()
                },
            ] {
                directory::users::create_user(c, &hasher, &tenant, &new, now).unwrap();
            }
            Ok(())
        })
        .await
        .unwrap();
}

on_every_backend!(a_user_name_signs_in_at_the_token_endpoint_and_names_the_token);
async fn a_user_name_signs_in_at_the_token_endpoint_and_names_the_token(backend: Backend) {
    let app = spawn_app(&backend).await;
    add_named_users(&app).await;
    let body = app
        .password_tokens("Admin", ADMIN_PASSWORD, "openid profile")
        .await;
    let c = claims(body["access_token"].as_str().unwrap());
    assert_eq!(c["oid"], ADMIN_OID);
    assert_eq!(c["preferred_username"], "admin");
    assert!(c.get("email").is_none(), "no email, no email claim: {c}");
    assert_eq!(c["name"], "admin");
    assert_eq!(c["roles"], json!(["Admin"]));
    let id = claims(body["id_token"].as_str().unwrap());
    assert_eq!(id["preferred_username"], "admin");

    // The userinfo and verify answers name the user the same way.
    let at = body["access_token"].as_str().unwrap();
    let info: Value = app.userinfo(at).await.json().await.unwrap();
    assert_eq!(info["preferred_username"], "admin");
    assert!(info.get("email").is_none());
    let who: Value = app.verify(at).await.json().await.unwrap();
    assert_eq!(who["user_id"], ADMIN_OID);

    // A wrong password for a user name is refused like one for an email.
    let res = app
        .token(&[
            ("grant_type", "password"),
            ("client_id", WEB_APP),
            ("client_secret", WEB_APP_SECRET),
            ("username", "admin"),
            ("password", "not-it"),
        ])
        .await;
    assert_oauth_error(res, 400, "invalid_grant").await;
}

on_every_backend!(a_user_with_both_signs_in_with_either_and_tokens_carry_the_upn);
async fn a_user_with_both_signs_in_with_either_and_tokens_carry_the_upn(backend: Backend) {
    let app = spawn_app(&backend).await;
    add_named_users(&app).await;
    for name in [ERIN_UPN, ERIN_EMAIL, "ERIN.JONES@example.com"] {
        let body = app.password_tokens(name, ERIN_PASSWORD, "openid").await;
        let c = claims(body["access_token"].as_str().unwrap());
        assert_eq!(c["oid"], ERIN_OID, "{name}");
        assert_eq!(c["preferred_username"], ERIN_UPN, "{name}");
        assert_eq!(c["email"], ERIN_EMAIL, "{name}");
    }
    // B2C tokens carry the address in `emails`.
    let res = app
        .post_form(
            "/contoso.onmicrosoft.com/B2C_1_ROPC/oauth2/v2.0/token",
            &[
                ("grant_type", "password"),
                ("client_id", PUBLIC_APP),
                ("username", ERIN_UPN),
                ("password", ERIN_PASSWORD),
                ("scope", "openid"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let c = claims(body["access_token"].as_str().unwrap());
    assert_eq!(c["emails"], json!([ERIN_EMAIL]));
    assert_eq!(c["name"], "Erin Jones");
}

on_every_backend!(a_user_name_signs_in_at_auth_login_and_on_the_login_page);
async fn a_user_name_signs_in_at_auth_login_and_on_the_login_page(backend: Backend) {
    let app = spawn_app(&backend).await;
    add_named_users(&app).await;
    for field in ["email", "username"] {
        let res = app
            .http
            .post(app.url("/auth/login"))
            .json(&json!({field: "admin", "password": ADMIN_PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{field}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["claims"]["oid"], ADMIN_OID);
    }

    let browser = Browser::new(&app);
    let query = authorize_query(&web_request(&[]));
    let res = browser.sign_in(&query, "admin", ADMIN_PASSWORD).await;
    assert_eq!(res.status(), 303);
    let params = redirect_params(&res, RP_WEB_CALLBACK);
    let res = app.redeem_code(&params["code"], Some(VERIFIER)).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let id = claims(body["id_token"].as_str().unwrap());
    assert_eq!(id["sub"], ADMIN_OID);
    assert_eq!(id["preferred_username"], "admin");
}

on_every_backend!(user_names_are_unique_per_tenant_and_checked);
async fn user_names_are_unique_per_tenant_and_checked(backend: Backend) {
    let app = spawn_app(&backend).await;
    add_named_users(&app).await;
    let hasher = app.state.hasher.clone();
    let now = app.now();
    let outcomes = app
        .state
        .db(move |c| {
            let tenant = directory::tenant(c, CONTOSO_ID).unwrap();
            let try_add = |c: &mut _, new: NewUser| {
                directory::users::create_user(c, &hasher, &tenant, &new, now)
                    .err()
                    .map(|e| e.to_string())
            };
            Ok(vec![
                try_add(
                    c,
                    NewUser {
                        username: Some("ADMIN".into()),
                        ..Default::default()
                    },
                ),
                try_add(
                    c,
                    NewUser {
                        username: Some("has space".into()),
                        ..Default::default()
                    },
                ),
                try_add(c, NewUser::default()),
            ])
        })
        .await
        .unwrap();
    assert!(
        outcomes[0].as_deref().unwrap().contains("already exists"),
        "{outcomes:?}"
    );
    assert!(
        outcomes[1].as_deref().unwrap().contains("not a user name"),
        "{outcomes:?}"
    );
    assert!(
        outcomes[2]
            .as_deref()
            .unwrap()
            .contains("an email address or a user name"),
        "{outcomes:?}"
    );
}
