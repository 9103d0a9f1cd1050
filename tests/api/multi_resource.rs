//! Multi-resource refresh tokens: a refresh token from a sign-in with OIDC scopes only
//! redeems for any API of the tenant, as Entra's (and B2C's, within the user flow) do;
//! API tokens carry only their resource's permissions in `scp`.

use crate::helpers::*;
use serde_json::{Value, json};

fn entra_token_path() -> String {
    format!("/{CONTOSO_ID}/oauth2/v2.0/token")
}

const B2C_TOKEN_PATH: &str = "/contoso.onmicrosoft.com/B2C_1_ROPC/oauth2/v2.0/token";

/// A refresh grant as the Contoso web relying party (MSAL adds the OIDC scopes).
async fn refresh_rp(app: &TestApp, path: &str, rt: &str, scope: &str) -> reqwest::Response {
    app.post_form(
        path,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", RP_WEB),
            ("client_secret", RP_WEB_SECRET),
            ("refresh_token", rt),
            ("scope", scope),
        ],
    )
    .await
}

async fn ok_json(res: reqwest::Response) -> Value {
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

fn rt_of(body: &Value) -> String {
    body["refresh_token"].as_str().unwrap().to_owned()
}

/// Alice signs in to the web relying party with OIDC scopes only (code flow, PKCE).
async fn alice_signs_in(app: &TestApp) -> Value {
    let browser = Browser::new(app);
    let code = browser
        .code_for_alice(&[("scope", "openid profile offline_access")])
        .await;
    let res = app.redeem_code(&code, Some(VERIFIER)).await;
    ok_json(res).await
}

on_every_backend!(an_entra_refresh_token_redeems_for_any_api_of_the_tenant);
async fn an_entra_refresh_token_redeems_for_any_api_of_the_tenant(backend: Backend) {
    let app = spawn_app(&backend).await;
    let path = entra_token_path();
    let signed_in = alice_signs_in(&app).await;
    let c = claims(signed_in["access_token"].as_str().unwrap());
    assert_eq!(c["aud"], RP_WEB);
    assert_eq!(c["scp"], "openid profile", "a token for the app itself");

    // `{api}/.default`, as msal-browser's acquireTokenSilent sends it.
    let scope = format!("{API_APP}/.default openid profile offline_access");
    let rt1 = rt_of(&signed_in);
    let first = ok_json(refresh_rp(&app, &path, &rt1, &scope).await).await;
    let c = claims(first["access_token"].as_str().unwrap());
    assert_eq!(c["aud"], API_APP);
    assert_eq!(c["oid"], ALICE_OID);
    assert_eq!(c["azp"], RP_WEB);
    assert!(c.get("scp").is_none(), "no OIDC scope in an API token: {c}");
    assert_eq!(c["roles"], json!(["Admin", "Tasks.Write"]));
    assert!(first["id_token"].is_string());
    assert_eq!(claims(first["id_token"].as_str().unwrap())["aud"], RP_WEB);
    let rt2 = rt_of(&first);
    assert_ne!(rt1, rt2, "rotated");
    assert_eq!(
        app.verify(first["access_token"].as_str().unwrap())
            .await
            .status(),
        200
    );

    // A named scope of the same API, with the rotated token.
    let scope = format!("api://{API_APP}/Tasks.Read openid profile offline_access");
    let second = ok_json(refresh_rp(&app, &path, &rt2, &scope).await).await;
    let c = claims(second["access_token"].as_str().unwrap());
    assert_eq!(c["aud"], API_APP);
    assert_eq!(c["scp"], "Tasks.Read");
    assert_eq!(second["scope"], scope);

    // Another API, then the app itself again: the successor still reaches them all.
    let scope = format!("api://{WEB_APP}/Files.Read offline_access");
    let third = ok_json(refresh_rp(&app, &path, &rt_of(&second), &scope).await).await;
    let c = claims(third["access_token"].as_str().unwrap());
    assert_eq!(c["aud"], WEB_APP);
    assert_eq!(c["scp"], "Files.Read");
    assert!(third.get("id_token").is_none(), "openid was not asked for");
    let fourth =
        ok_json(refresh_rp(&app, &path, &rt_of(&third), "openid profile offline_access").await)
            .await;
    let c = claims(fourth["access_token"].as_str().unwrap());
    assert_eq!(c["aud"], RP_WEB);
    assert_eq!(c["scp"], "openid profile");
    assert!(fourth["id_token"].is_string(), "the grant's openid is kept");

    // Rotation and reuse are as before: replaying a spent token ends the family.
    let res = refresh_rp(
        &app,
        &path,
        &rt2,
        &format!("{API_APP}/.default offline_access"),
    )
    .await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant", "{body}");
    let res = refresh_rp(&app, &path, &rt_of(&fourth), "openid offline_access").await;
    assert_eq!(res.status(), 400, "the family is revoked");
}

on_every_backend!(dot_default_carries_the_permissions_the_sign_in_named_for_that_api);
async fn dot_default_carries_the_permissions_the_sign_in_named_for_that_api(backend: Backend) {
    let app = spawn_app(&backend).await;
    let signed_in = app
        .alice_tokens(&format!(
            "openid offline_access api://{API_APP}/Tasks.Read api://{API_APP}/Tasks.Write"
        ))
        .await;
    let c = claims(signed_in["access_token"].as_str().unwrap());
    assert_eq!(c["scp"], "Tasks.Read Tasks.Write");

    let rt = rt_of(&signed_in);
    let res = app
        .refresh(
            &rt,
            &[("scope", &format!("{API_APP}/.default offline_access"))],
        )
        .await;
    let body = ok_json(res).await;
    let c = claims(body["access_token"].as_str().unwrap());
    assert_eq!(c["aud"], API_APP);
    assert_eq!(c["scp"], "Tasks.Read Tasks.Write");

    // For an API the sign-in named nothing of, `.default` grants no permission.
    let res = app
        .refresh(
            &rt_of(&body),
            &[("scope", &format!("api://{RP_SPA}/.default offline_access"))],
        )
        .await;
    let body = ok_json(res).await;
    let c = claims(body["access_token"].as_str().unwrap());
    assert_eq!(c["aud"], RP_SPA);
    assert!(c.get("scp").is_none(), "{c}");
}

on_every_backend!(a_refresh_for_a_resource_outside_the_tenant_is_refused_and_spends_nothing);
async fn a_refresh_for_a_resource_outside_the_tenant_is_refused_and_spends_nothing(
    backend: Backend,
) {
    let app = spawn_app(&backend).await;
    let path = entra_token_path();
    let rt = rt_of(&alice_signs_in(&app).await);
    for scope in [
        "api://unknown-app/.default openid offline_access".to_owned(),
        format!("api://{FABRIKAM_APP}/Tasks.Read offline_access"),
    ] {
        let res = refresh_rp(&app, &path, &rt, &scope).await;
        assert_eq!(res.status(), 400, "{scope}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], "invalid_resource", "{body}");
        assert_eq!(body["error_codes"], json!([500011]), "{body}");
        let d = body["error_description"].as_str().unwrap();
        assert!(
            d.starts_with("AADSTS500011: The resource principal named"),
            "{d}"
        );
    }
    // An OIDC scope the sign-in did not grant stays refused.
    let res = refresh_rp(&app, &path, &rt, "openid email offline_access").await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid_scope", "{body}");
    assert_eq!(body["error_codes"], json!([70011]), "{body}");
    // On /auth/token the RFC code is written; on B2C paths AADB2C90117 (below).
    let res = refresh_rp(&app, "/auth/token", &rt, "api://unknown-app/x").await;
    assert_oauth_error(res, 400, "invalid_scope").await;
    // None of the refusals spent the token.
    let scope = format!("{API_APP}/.default openid offline_access");
    ok_json(refresh_rp(&app, &path, &rt, &scope).await).await;

    // The other grants refuse an unknown resource the same way.
    let res = app
        .post_form(
            &path,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", WEB_APP),
                ("client_secret", WEB_APP_SECRET),
                ("scope", "api://unknown-app/.default"),
            ],
        )
        .await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error_codes"], json!([500011]), "{body}");
}

on_every_backend!(api_tokens_of_every_user_grant_carry_no_oidc_scopes);
async fn api_tokens_of_every_user_grant_carry_no_oidc_scopes(backend: Backend) {
    let app = spawn_app(&backend).await;
    // Password grant with `.default`.
    let body = app
        .alice_tokens(&format!(
            "openid profile email offline_access api://{API_APP}/.default"
        ))
        .await;
    let c = claims(body["access_token"].as_str().unwrap());
    assert_eq!(c["aud"], API_APP);
    assert!(c.get("scp").is_none(), "{c}");
    let who: Value = app
        .verify(body["access_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(who["scp"], Value::Null);
    assert_eq!(who["idtyp"], "user");

    // Authorization code with a named permission.
    let browser = Browser::new(&app);
    let scope = format!("openid profile offline_access api://{API_APP}/Tasks.Read");
    let code = browser.code_for_alice(&[("scope", &scope)]).await;
    let body = ok_json(app.redeem_code(&code, Some(VERIFIER)).await).await;
    let c = claims(body["access_token"].as_str().unwrap());
    assert_eq!(c["aud"], API_APP);
    assert_eq!(c["scp"], "Tasks.Read");
    assert!(body["id_token"].is_string());

    // On-behalf-of: the middle tier (the web app) asks for the API with OIDC scopes.
    let incoming = app
        .alice_tokens(&format!("api://{WEB_APP}/access_as_user"))
        .await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let scope = format!("api://{API_APP}/Tasks.Read openid profile offline_access");
    let res = app
        .post_form(
            &entra_token_path(),
            &[
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("client_id", WEB_APP),
                ("client_secret", WEB_APP_SECRET),
                ("assertion", &incoming),
                ("scope", &scope),
                ("requested_token_use", "on_behalf_of"),
            ],
        )
        .await;
    let body = ok_json(res).await;
    let c = claims(body["access_token"].as_str().unwrap());
    assert_eq!(c["aud"], API_APP);
    assert_eq!(c["scp"], "Tasks.Read");
}

/// B2C ROPC as the public app (MSAL's B2C scopes: `openid offline_access`).
async fn b2c_sign_in(app: &TestApp) -> Value {
    let res = app
        .post_form(
            B2C_TOKEN_PATH,
            &[
                ("grant_type", "password"),
                ("client_id", PUBLIC_APP),
                ("username", ALICE),
                ("password", ALICE_PASSWORD),
                ("scope", "openid offline_access"),
            ],
        )
        .await;
    ok_json(res).await
}

async fn b2c_refresh(app: &TestApp, path: &str, rt: &str, scope: &str) -> reqwest::Response {
    app.post_form(
        path,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", PUBLIC_APP),
            ("refresh_token", rt),
            ("scope", scope),
        ],
    )
    .await
}

on_every_backend!(a_b2c_refresh_token_redeems_for_the_tenants_apis_within_its_user_flow);
async fn a_b2c_refresh_token_redeems_for_the_tenants_apis_within_its_user_flow(backend: Backend) {
    let app = spawn_app(&backend).await;
    let rt = rt_of(&b2c_sign_in(&app).await);

    // Another user flow cannot redeem it (B2C binds the token to its policy).
    let res = b2c_refresh(
        &app,
        "/contoso.onmicrosoft.com/B2C_1_signupsignin/oauth2/v2.0/token",
        &rt,
        &format!("api://{API_APP}/Tasks.Read openid offline_access"),
    )
    .await;
    let d = assert_oauth_error(res, 400, "invalid_grant").await;
    assert!(d.starts_with("AADB2C90080: "), "{d}");

    // An API's scope, as MSAL asks for it with B2C.
    let scope = format!("api://{API_APP}/Tasks.Read openid offline_access");
    let body = ok_json(b2c_refresh(&app, B2C_TOKEN_PATH, &rt, &scope).await).await;
    assert_eq!(body["expires_in"], "3600");
    let c = claims(body["access_token"].as_str().unwrap());
    assert_eq!(c["aud"], API_APP);
    assert_eq!(c["scp"], "Tasks.Read");
    assert_eq!(c["tfp"], "B2C_1_ROPC");
    assert_eq!(c["ver"], "1.0");
    assert!(body["id_token"].is_string());

    // Unknown resource and an OIDC scope never granted: AADB2C90117; nothing spent.
    let rt = rt_of(&body);
    for scope in [
        "api://unknown-app/read openid offline_access",
        "openid profile offline_access",
    ] {
        let res = b2c_refresh(&app, B2C_TOKEN_PATH, &rt, scope).await;
        let d = assert_oauth_error(res, 400, "invalid_scope").await;
        assert!(d.starts_with("AADB2C90117: "), "{scope}: {d}");
    }
    let scope = format!("{API_APP}/.default openid offline_access");
    let body = ok_json(b2c_refresh(&app, B2C_TOKEN_PATH, &rt, &scope).await).await;
    let c = claims(body["access_token"].as_str().unwrap());
    assert_eq!(c["aud"], API_APP);
    assert!(c.get("scp").is_none(), "{c}");
}

on_every_backend!(a_token_exchange_for_an_api_carries_no_oidc_scopes);
async fn a_token_exchange_for_an_api_carries_no_oidc_scopes(backend: Backend) {
    // A second localidp plays the external issuer, as in tests/api/exchange.rs.
    let external_url = "http://external-idp.test";
    let (mut ext_settings, ext_fixture) = test_fixture(&backend);
    ext_settings.public_url = Some(external_url.into());
    let external = spawn_with(ext_settings, ext_fixture).await;
    let jwks = external
        .http
        .get(external.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (mut settings, fixture) = test_fixture(&backend);
    let jwks_file = settings.keys_dir.with_file_name("external-jwks.json");
    std::fs::write(&jwks_file, jwks).unwrap();
    settings.trusted_issuers = vec![localidp::config::TrustedIssuer {
        issuer: format!("{external_url}/{CONTOSO_ID}/v2.0"),
        jwks_file: Some(jwks_file),
        audience: Some(WEB_APP.into()),
        provision: false,
        tenant: None,
        ..Default::default()
    }];
    let app = spawn_with(settings, fixture).await;
    let subject = external.alice_tokens("openid").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let scope = format!("openid profile offline_access {API_APP}/.default");
    let res = app
        .token(&[
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:token-exchange",
            ),
            ("client_id", WEB_APP),
            ("client_secret", WEB_APP_SECRET),
            ("subject_token", &subject),
            (
                "subject_token_type",
                "urn:ietf:params:oauth:token-type:access_token",
            ),
            ("scope", &scope),
        ])
        .await;
    let body = ok_json(res).await;
    let c = claims(body["access_token"].as_str().unwrap());
    assert_eq!(c["aud"], API_APP);
    assert_eq!(c["oid"], ALICE_OID);
    assert!(c.get("scp").is_none(), "{c}");
    // Its refresh token, too, reaches another API.
    let res = app
        .refresh(
            &rt_of(&body),
            &[(
                "scope",
                &format!("api://{RP_SPA}/Notes.Read offline_access"),
            )],
        )
        .await;
    let c = claims(ok_json(res).await["access_token"].as_str().unwrap());
    assert_eq!(c["aud"], RP_SPA);
    assert_eq!(c["scp"], "Notes.Read");
}
