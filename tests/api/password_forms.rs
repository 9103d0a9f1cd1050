//! Password forms that name no client, as FastAPI's `OAuth2PasswordRequestForm`,
//! Swagger UI's "Authorize" dialog and scripts post them: on `/auth/token` they sign in
//! with the tenant's default client; the Entra and B2C paths still require a client.

use crate::helpers::*;
use serde_json::{Value, json};

on_every_backend!(a_password_form_without_client_id_or_grant_type_signs_in_with_the_default_client);
async fn a_password_form_without_client_id_or_grant_type_signs_in_with_the_default_client(
    backend: Backend,
) {
    let app = spawn_app(&backend).await;
    for form in [
        vec![("username", ALICE), ("password", ALICE_PASSWORD)],
        vec![
            ("grant_type", "password"),
            ("username", ALICE),
            ("password", ALICE_PASSWORD),
            ("scope", ""),
        ],
    ] {
        let res = app.token(&form).await;
        assert_eq!(res.status(), 200, "{form:?}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["token_type"], "Bearer");
        let c = claims(body["access_token"].as_str().unwrap());
        // The seed makes the web app Contoso's default client.
        assert_eq!(c["aud"], WEB_APP, "{form:?}");
        assert_eq!(c["azp"], WEB_APP);
        assert_eq!(c["azpacr"], "0", "no secret was presented");
        assert_eq!(c["sub"], ALICE_OID);
        assert_eq!(c["tid"], CONTOSO_ID);
        let who: Value = app
            .verify(body["access_token"].as_str().unwrap())
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(who["user_id"], ALICE_OID);
    }

    // The rest of a password grant works the same: scopes, an ID token, a refresh token.
    let res = app
        .token(&[
            ("username", ALICE),
            ("password", ALICE_PASSWORD),
            ("scope", "openid offline_access"),
        ])
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(claims(body["id_token"].as_str().unwrap())["aud"], WEB_APP);
    assert!(body["refresh_token"].is_string());

    // The default client's own secret is accepted, another is not.
    let res = app
        .token(&[
            ("username", ALICE),
            ("password", ALICE_PASSWORD),
            ("client_secret", WEB_APP_SECRET),
        ])
        .await;
    assert_eq!(res.status(), 200);
    let at = res.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(claims(&at)["azpacr"], "1");
    let res = app
        .token(&[
            ("username", ALICE),
            ("password", ALICE_PASSWORD),
            ("client_secret", "not-the-secret"),
        ])
        .await;
    assert_oauth_error(res, 401, "invalid_client").await;

    // A wrong password is the password grant's error; a form with only a user name is
    // not a password grant.
    let res = app
        .token(&[("username", ALICE), ("password", "wrong")])
        .await;
    assert_oauth_error(res, 400, "invalid_grant").await;
    let res = app.token(&[("username", ALICE)]).await;
    let d = assert_oauth_error(res, 400, "invalid_request").await;
    assert!(d.contains("'grant_type'"), "{d}");

    // A client named in the form or a Basic header is authenticated as before.
    let res = app
        .token(&[
            ("client_id", WEB_APP),
            ("username", ALICE),
            ("password", ALICE_PASSWORD),
        ])
        .await;
    assert_oauth_error(res, 401, "invalid_client").await;
    let res = app
        .http
        .post(app.url("/auth/token"))
        .basic_auth(PUBLIC_APP, Some("a secret"))
        .form(&[("username", ALICE), ("password", ALICE_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_oauth_error(res, 401, "invalid_client").await;
    let res = app
        .token(&[
            ("client_id", PUBLIC_APP),
            ("username", ALICE),
            ("password", ALICE_PASSWORD),
        ])
        .await;
    assert_eq!(res.status(), 200);
    let at = res.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(claims(&at)["aud"], PUBLIC_APP);
}

on_every_backend!(the_azure_paths_still_require_client_id_and_grant_type);
async fn the_azure_paths_still_require_client_id_and_grant_type(backend: Backend) {
    let app = spawn_app(&backend).await;
    for path in [
        format!("/{CONTOSO_ID}/oauth2/v2.0/token"),
        "/contoso.onmicrosoft.com/oauth2/v2.0/token".to_owned(),
    ] {
        let res = app
            .post_form(
                &path,
                &[
                    ("grant_type", "password"),
                    ("username", ALICE),
                    ("password", ALICE_PASSWORD),
                ],
            )
            .await;
        assert_eq!(res.status(), 400, "{path}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], "invalid_request");
        assert_eq!(body["error_codes"], json!([900144]), "{path}: {body}");
        let d = body["error_description"].as_str().unwrap();
        assert!(d.contains("'client_id'"), "{d}");

        let res = app
            .post_form(
                &path,
                &[
                    ("client_id", PUBLIC_APP),
                    ("username", ALICE),
                    ("password", ALICE_PASSWORD),
                ],
            )
            .await;
        assert_eq!(res.status(), 400, "{path}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error_codes"], json!([900144]), "{path}: {body}");
        let d = body["error_description"].as_str().unwrap();
        assert!(d.contains("'grant_type'"), "{d}");
    }
    for path in [
        "/contoso.onmicrosoft.com/B2C_1_ROPC/oauth2/v2.0/token",
        "/contoso.onmicrosoft.com/oauth2/v2.0/token?p=B2C_1_ROPC",
    ] {
        let res = app
            .post_form(
                path,
                &[
                    ("grant_type", "password"),
                    ("username", ALICE),
                    ("password", ALICE_PASSWORD),
                ],
            )
            .await;
        let d = assert_oauth_error(res, 400, "invalid_request").await;
        assert!(d.starts_with("AADB2C90008: "), "{path}: {d}");
        let res = app
            .post_form(path, &[("username", ALICE), ("password", ALICE_PASSWORD)])
            .await;
        let d = assert_oauth_error(res, 400, "invalid_request").await;
        assert!(d.contains("'grant_type'"), "{path}: {d}");
    }
}

on_every_backend!(a_tenant_without_a_default_client_says_how_to_set_one);
async fn a_tenant_without_a_default_client_says_how_to_set_one(backend: Backend) {
    // The standard seed without Contoso's default_client.
    let (settings, fixture) = test_fixture(&backend);
    let seed = settings.seed.clone().unwrap();
    let standard = std::fs::read_to_string(&seed).unwrap();
    std::fs::write(&seed, standard.replacen("default_client = ", "# ", 1)).unwrap();
    let app = spawn_with(settings, fixture).await;
    let res = app
        .token(&[("username", ALICE), ("password", ALICE_PASSWORD)])
        .await;
    let d = assert_oauth_error(res, 400, "invalid_request").await;
    assert!(d.contains("no default client"), "{d}");
    assert!(
        d.contains("localidp client set-default CLIENT_ID --tenant contoso.onmicrosoft.com")
            && d.contains("default_client"),
        "says how to set it: {d}"
    );
    let res = app
        .http
        .post(app.url("/auth/login"))
        .json(&json!({"email": ALICE, "password": ALICE_PASSWORD}))
        .send()
        .await
        .unwrap();
    let d = assert_oauth_error(res, 400, "invalid_request").await;
    assert!(d.contains("client set-default"), "{d}");

    // Naming the client still works.
    let res = app
        .token(&[
            ("client_id", PUBLIC_APP),
            ("username", ALICE),
            ("password", ALICE_PASSWORD),
        ])
        .await;
    assert_eq!(res.status(), 200);
}

on_every_backend!(the_seed_names_the_default_client_and_a_restart_keeps_it);
async fn the_seed_names_the_default_client_and_a_restart_keeps_it(backend: Backend) {
    let (settings, fixture) = test_fixture(&backend);
    let seed = settings.seed.clone().unwrap();
    let standard = std::fs::read_to_string(&seed).unwrap();
    let with_default = |client: &str| {
        standard.replacen(
            &format!("default_client = \"{WEB_APP}\""),
            &format!("default_client = \"{client}\""),
            1,
        )
    };
    std::fs::write(&seed, with_default(PUBLIC_APP)).unwrap();
    let app = spawn_with(settings, fixture).await;
    assert_eq!(form_audience(&app).await, PUBLIC_APP);
    let (settings, fixture) = app.stop().await;

    // A seed without default_client leaves the stored one alone.
    std::fs::write(&seed, standard.replacen("default_client = ", "# ", 1)).unwrap();
    let app = spawn_with(settings, fixture).await;
    assert_eq!(form_audience(&app).await, PUBLIC_APP);
    let (settings, fixture) = app.stop().await;

    // The seed decides on every start.
    std::fs::write(&seed, &standard).unwrap();
    let app = spawn_with(settings, fixture).await;
    assert_eq!(form_audience(&app).await, WEB_APP);
    let (settings, fixture) = app.stop().await;

    // A default client that is unknown, of another tenant, or not allowed the password
    // grant stops the start with the reason.
    for (client, why) in [
        ("no-such-client", "not found"),
        (FABRIKAM_APP, "not found"),
        (DAEMON_ONLY, "not allowed the password grant"),
    ] {
        std::fs::write(&seed, with_default(client)).unwrap();
        let err = localidp::startup::Application::build(settings.clone())
            .await
            .err()
            .unwrap_or_else(|| panic!("{client} as default client was accepted"))
            .to_string();
        assert!(
            err.contains("default_client") && err.contains(client) && err.contains(why),
            "{client}: {err}"
        );
    }
    drop(fixture);
}

/// The audience of alice's token from a form without client_id.
async fn form_audience(app: &TestApp) -> Value {
    let res = app
        .token(&[("username", ALICE), ("password", ALICE_PASSWORD)])
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    claims(body["access_token"].as_str().unwrap())["aud"].clone()
}
