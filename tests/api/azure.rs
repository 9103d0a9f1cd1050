//! Entra ID v2 and Azure AD B2C shapes: authorities, metadata, claims, errors,
//! client_info, on-behalf-of.

use crate::helpers::*;
use serde_json::{Value, json};

/// A request form, the status and RFC code it fails with, its AADSTS and AADB2C codes.
type ErrorCase<'a> = (Vec<(&'a str, &'a str)>, u16, &'a str, u32, u32);

fn ropc<'a>(user: &'a str, pw: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "password"),
        ("client_id", PUBLIC_APP),
        ("username", user),
        ("password", pw),
        ("scope", "openid offline_access"),
        ("client_info", "1"),
    ]
}

on_every_backend!(b2c_password_flow_has_b2c_claims_and_response_shape);
async fn b2c_password_flow_has_b2c_claims_and_response_shape(backend: Backend) {
    let app = spawn_app(&backend).await;
    // msal-node lower-cases the authority; B2C matches tenant and policy in any case.
    for path in [
        "/contoso.onmicrosoft.com/B2C_1_ROPC/oauth2/v2.0/token",
        "/contoso.onmicrosoft.com/b2c_1_ropc/oauth2/v2.0/token",
        "/tfp/Contoso.onmicrosoft.com/B2C_1_ROPC/oauth2/v2.0/token",
        "/contoso.onmicrosoft.com/oauth2/v2.0/token?p=B2C_1_ROPC",
    ] {
        let res = app.post_form(path, &ropc(ALICE, ALICE_PASSWORD)).await;
        assert_eq!(res.status(), 200, "{path}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(
            body["expires_in"], "3600",
            "B2C writes expires_in as a string"
        );
        assert!(body["not_before"].is_i64() && body["expires_on"].is_i64());
        assert!(body["refresh_token"].is_string());
        let info = decode_b64_json(body["client_info"].as_str().unwrap());
        assert_eq!(
            info,
            json!({"uid": format!("{ALICE_OID}-b2c_1_ropc"), "utid": CONTOSO_ID})
        );
        let c = claims(body["access_token"].as_str().unwrap());
        assert_eq!(
            c["iss"],
            format!("{PUBLIC_URL}/{CONTOSO_ID}/v2.0/"),
            "{path}"
        );
        assert_eq!(c["ver"], "1.0");
        // The user flow as the tenant registered it, whatever the URL's case.
        assert_eq!(c["tfp"], "B2C_1_ROPC", "{path}");
        assert_eq!(c["sub"], ALICE_OID);
        assert_eq!(c["oid"], ALICE_OID);
        assert_eq!(c["emails"], json!([ALICE]));
        assert_eq!(c["given_name"], "Alice");
        assert_eq!(c["azp"], PUBLIC_APP);
        assert!(c.get("tid").is_none());
        let id = claims(body["id_token"].as_str().unwrap());
        assert_eq!(id["tfp"], "B2C_1_ROPC", "{path}");
        assert_eq!(id["iss"], c["iss"]);
        assert_eq!(id["ver"], "1.0");

        let res = app.verify(body["access_token"].as_str().unwrap()).await;
        assert_eq!(res.status(), 200, "{path}");
        let who: Value = res.json().await.unwrap();
        assert_eq!(who["user_id"], ALICE_OID);
        assert_eq!(who["email"], ALICE);
        assert_eq!(who["tid"], CONTOSO_ID);
        assert_eq!(who["policy"], "B2C_1_ROPC");
    }
}

on_every_backend!(b2c_metadata_in_every_form_names_its_own_issuer_and_endpoints);
async fn b2c_metadata_in_every_form_names_its_own_issuer_and_endpoints(backend: Backend) {
    let app = spawn_app(&backend).await;
    let issuer = format!("{PUBLIC_URL}/{CONTOSO_ID}/v2.0/");
    let (s, doc) = app
        .get_status_and_json(
            "/contoso.onmicrosoft.com/B2C_1_ROPC/v2.0/.well-known/openid-configuration",
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(doc["issuer"], issuer);
    assert_eq!(
        doc["token_endpoint"],
        format!("{PUBLIC_URL}/contoso.onmicrosoft.com/b2c_1_ropc/oauth2/v2.0/token")
    );
    assert_eq!(
        doc["jwks_uri"],
        format!("{PUBLIC_URL}/contoso.onmicrosoft.com/b2c_1_ropc/discovery/v2.0/keys")
    );
    assert_eq!(doc["subject_types_supported"], json!(["pairwise"]));
    assert_eq!(doc["scopes_supported"], json!(["openid"]));

    let (s, doc) = app
        .get_status_and_json(
            "/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration?p=B2C_1_ROPC",
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(doc["issuer"], issuer);
    assert_eq!(
        doc["token_endpoint"],
        format!("{PUBLIC_URL}/contoso.onmicrosoft.com/oauth2/v2.0/token?p=b2c_1_ropc")
    );
    assert_eq!(
        doc["jwks_uri"],
        format!("{PUBLIC_URL}/contoso.onmicrosoft.com/discovery/v2.0/keys?p=b2c_1_ropc")
    );

    let (s, doc) = app
        .get_status_and_json(
            "/tfp/contoso.onmicrosoft.com/B2C_1_ROPC/v2.0/.well-known/openid-configuration",
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(doc["issuer"], issuer);
    assert_eq!(
        doc["token_endpoint"],
        format!("{PUBLIC_URL}/tfp/contoso.onmicrosoft.com/b2c_1_ropc/oauth2/v2.0/token")
    );

    for path in [
        "/contoso.onmicrosoft.com/B2C_1_ROPC/discovery/v2.0/keys",
        "/contoso.onmicrosoft.com/discovery/v2.0/keys?p=b2c_1_ropc",
        "/tfp/contoso.onmicrosoft.com/B2C_1_ROPC/discovery/v2.0/keys",
    ] {
        let (s, jwks) = app.get_status_and_json(path).await;
        assert_eq!(s, 200, "{path}");
        assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
    }

    let (s, body) = app
        .get_status_and_json(
            "/contoso.onmicrosoft.com/B2C_1_nope/v2.0/.well-known/openid-configuration",
        )
        .await;
    assert_eq!(s, 404);
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADB2C"),
        "{body}"
    );
}

on_every_backend!(tenant_with_tfp_issuer_format);
async fn tenant_with_tfp_issuer_format(backend: Backend) {
    let (mut settings, fixture) = test_fixture(&backend);
    // /auth/verify serves Fabrikam's tokens (not the default tenant's) only when told to.
    settings.verify_tenants =
        localidp::config::VerifyTenants::DefaultAnd(vec!["fabrikam.onmicrosoft.com".into()]);
    let app = spawn_with(settings, fixture).await;
    let res = app
        .post_form(
            "/fabrikam.onmicrosoft.com/B2C_1_signin/oauth2/v2.0/token",
            &[
                ("grant_type", "password"),
                ("client_id", FABRIKAM_APP),
                ("client_secret", FABRIKAM_SECRET),
                ("username", "erin@fabrikam.com"),
                ("password", "erin-password"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let c = claims(body["access_token"].as_str().unwrap());
    assert_eq!(
        c["iss"],
        format!("{PUBLIC_URL}/tfp/{FABRIKAM_ID}/b2c_1_signin/v2.0/")
    );
    let (_, doc) = app
        .get_status_and_json(
            "/fabrikam.onmicrosoft.com/b2c_1_signin/v2.0/.well-known/openid-configuration",
        )
        .await;
    assert_eq!(doc["issuer"], c["iss"]);
    assert_eq!(
        app.verify(body["access_token"].as_str().unwrap())
            .await
            .status(),
        200
    );
}

on_every_backend!(b2c_and_entra_errors_carry_their_codes);
async fn b2c_and_entra_errors_carry_their_codes(backend: Backend) {
    let app = spawn_app(&backend).await;
    let correlation = "0b7f4c1a-1d8e-4b6f-9f1e-5a3c2d1e0f9a";

    let res = app
        .http
        .post(app.url("/contoso.onmicrosoft.com/B2C_1_ROPC/oauth2/v2.0/token"))
        .header("client-request-id", correlation)
        .form(&ropc(ALICE, "wrong"))
        .send()
        .await
        .unwrap();
    let d = assert_oauth_error(res, 400, "invalid_grant").await;
    assert!(d.starts_with("AADB2C90225: "), "{d}");
    assert!(
        d.contains(&format!("\r\nCorrelation ID: {correlation}\r\nTimestamp: ")),
        "{d}"
    );

    let res = app
        .http
        .post(app.url(&format!("/{CONTOSO_ID}/oauth2/v2.0/token")))
        .header("client-request-id", correlation)
        .form(&ropc(ALICE, "wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(body["error_codes"], json!([50126]));
    assert_eq!(body["correlation_id"], correlation);
    assert!(body["trace_id"].is_string() && body["timestamp"].is_string());
    let d = body["error_description"].as_str().unwrap();
    assert!(d.starts_with("AADSTS50126: "), "{d}");
    assert!(
        d.contains("\r\nTrace ID: ") && d.contains("\r\nTimestamp: "),
        "{d}"
    );

    // One failure of each kind, and the code each flavour gives it.
    let cases: Vec<ErrorCase> = vec![
        (
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", "nobody"),
            ],
            401,
            "invalid_client",
            700016,
            90018,
        ),
        (
            vec![("grant_type", "client_credentials"), ("client_id", WEB_APP)],
            401,
            "invalid_client",
            7000218,
            90079,
        ),
        (
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", WEB_APP),
                ("client_secret", "x"),
            ],
            401,
            "invalid_client",
            7000215,
            90081,
        ),
        (
            vec![("grant_type", "magic"), ("client_id", WEB_APP)],
            400,
            "unsupported_grant_type",
            70003,
            90086,
        ),
        (
            vec![
                ("grant_type", "password"),
                ("client_id", PUBLIC_APP),
                ("username", ALICE),
            ],
            400,
            "invalid_request",
            900144,
            90083,
        ),
        (
            vec![("grant_type", "password")],
            400,
            "invalid_request",
            900144,
            90008,
        ),
        (
            vec![
                ("grant_type", "refresh_token"),
                ("client_id", PUBLIC_APP),
                ("refresh_token", "made-up"),
            ],
            400,
            "invalid_grant",
            9002313,
            90080,
        ),
        (
            vec![
                ("grant_type", "password"),
                ("client_id", PUBLIC_APP),
                ("username", ALICE),
                ("password", ALICE_PASSWORD),
                // An unknown resource is AADSTS500011 (tests/api/multi_resource.rs).
                ("scope", "api://a/x api://b/y"),
            ],
            400,
            "invalid_scope",
            70011,
            90117,
        ),
    ];
    for (form, status, error, entra, b2c) in cases {
        let res = app
            .post_form(&format!("/{CONTOSO_ID}/oauth2/v2.0/token"), &form)
            .await;
        assert_eq!(res.status(), status, "{form:?}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], error, "{form:?}");
        assert_eq!(body["error_codes"], json!([entra]), "{form:?}");
        let res = app
            .post_form(
                "/contoso.onmicrosoft.com/b2c_1_ropc/oauth2/v2.0/token",
                &form,
            )
            .await;
        assert_eq!(res.status(), status, "{form:?}");
        let d = assert_oauth_error(res, status, error).await;
        assert!(d.starts_with(&format!("AADB2C{b2c}: ")), "{form:?}: {d}");
    }

    // Unknown tenant and policy.
    let res = app
        .post_form(
            "/nobody.onmicrosoft.com/oauth2/v2.0/token",
            &ropc(ALICE, "x"),
        )
        .await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error_codes"], json!([90002]));
    let res = app
        .post_form(
            "/contoso.onmicrosoft.com/B2C_1_missing/oauth2/v2.0/token",
            &ropc(ALICE, "x"),
        )
        .await;
    let d = assert_oauth_error(res, 400, "invalid_request").await;
    assert!(d.starts_with("AADB2C"), "{d}");
    // B2C has no on-behalf-of.
    let res = app
        .post_form(
            "/contoso.onmicrosoft.com/b2c_1_ropc/oauth2/v2.0/token",
            &[
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("client_id", WEB_APP),
            ],
        )
        .await;
    assert_oauth_error(res, 400, "unsupported_grant_type").await;
}

on_every_backend!(entra_client_info_and_aliases);
async fn entra_client_info_and_aliases(backend: Backend) {
    let app = spawn_app(&backend).await;
    let res = app
        .post_form(
            &format!("/{CONTOSO_ID}/oauth2/v2.0/token"),
            &ropc(ALICE, ALICE_PASSWORD),
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["ext_expires_in"], 3600);
    let info = decode_b64_json(body["client_info"].as_str().unwrap());
    assert_eq!(info, json!({"uid": ALICE_OID, "utid": CONTOSO_ID}));
    let c = claims(body["access_token"].as_str().unwrap());
    for k in ["aio", "rh", "uti", "azpacr"] {
        assert!(c[k].is_string(), "{k}");
    }

    // /common and /consumers refuse the password grant; /organizations serves the
    // default tenant for app tokens.
    for alias in ["common", "consumers"] {
        let res = app
            .post_form(
                &format!("/{alias}/oauth2/v2.0/token"),
                &ropc(ALICE, ALICE_PASSWORD),
            )
            .await;
        assert_oauth_error(res, 400, "invalid_request").await;
    }
    let res = app
        .post_form(
            "/organizations/oauth2/v2.0/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", WEB_APP),
                ("client_secret", WEB_APP_SECRET),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let (_, doc) = app
        .get_status_and_json("/common/v2.0/.well-known/openid-configuration")
        .await;
    assert_eq!(doc["issuer"], format!("{PUBLIC_URL}/{{tenantid}}/v2.0"));
}

/// Alice signs in to the web app; the web app (a middle tier) calls the tasks API
/// on her behalf.
async fn alice_token_for_web_app(app: &TestApp) -> String {
    let res = app
        .token(&[
            ("grant_type", "password"),
            ("client_id", PUBLIC_APP),
            ("username", ALICE),
            ("password", ALICE_PASSWORD),
            ("scope", &format!("api://{WEB_APP}/access_as_user")),
        ])
        .await;
    assert_eq!(res.status(), 200);
    res.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn obo<'a>(assertion: &'a str, scope: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
        ("client_id", WEB_APP),
        ("client_secret", WEB_APP_SECRET),
        ("assertion", assertion),
        ("scope", scope),
        ("requested_token_use", "on_behalf_of"),
    ]
}

on_every_backend!(on_behalf_of_keeps_the_user_and_changes_the_audience);
async fn on_behalf_of_keeps_the_user_and_changes_the_audience(backend: Backend) {
    let app = spawn_app(&backend).await;
    let incoming = alice_token_for_web_app(&app).await;
    assert_eq!(claims(&incoming)["aud"], WEB_APP);
    let scope = format!("api://{API_APP}/Tasks.Read offline_access");
    let res = app
        .post_form(
            &format!("/{CONTOSO_ID}/oauth2/v2.0/token"),
            &obo(&incoming, &scope),
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let c = claims(body["access_token"].as_str().unwrap());
    assert_eq!(c["aud"], API_APP);
    assert_eq!(c["oid"], ALICE_OID);
    assert_eq!(c["sub"], ALICE_OID);
    assert_eq!(c["name"], "Alice Smith");
    assert_eq!(c["azp"], WEB_APP);
    assert_eq!(c["scp"], "Tasks.Read");
    assert!(body["refresh_token"].is_string());
    assert_eq!(
        app.verify(body["access_token"].as_str().unwrap())
            .await
            .status(),
        200
    );
}

on_every_backend!(on_behalf_of_refuses_bad_assertions);
async fn on_behalf_of_refuses_bad_assertions(backend: Backend) {
    let app = spawn_app(&backend).await;
    let scope = format!("api://{API_APP}/Tasks.Read");
    let path = format!("/{CONTOSO_ID}/oauth2/v2.0/token");
    let incoming = alice_token_for_web_app(&app).await;

    // A token for another audience (the API itself) presented by the web app.
    let for_api = claims(&alice_token_for_web_app(&app).await);
    let mut other_aud = for_api.clone();
    other_aud["aud"] = json!(API_APP);
    let other_aud = app.sign(&other_aud);
    let res = app.post_form(&path, &obo(&other_aud, &scope)).await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(body["error_codes"], json!([500131]));

    // Expired.
    let mut expired = for_api.clone();
    expired["exp"] = json!(app.now() - 600);
    let expired = app.sign(&expired);
    let res = app.post_form(&path, &obo(&expired, &scope)).await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error_codes"], json!([50013]), "{body}");

    // Foreign: signed by another localidp.
    let other = spawn_app(&backend).await;
    let foreign = alice_token_for_web_app(&other).await;
    let res = app.post_form(&path, &obo(&foreign, &scope)).await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error_codes"], json!([50013]), "{body}");

    // An app-only token is no user's.
    let res = app
        .token(&[
            ("grant_type", "client_credentials"),
            ("client_id", API_APP),
            ("client_secret", API_APP_SECRET),
            ("scope", &format!("api://{WEB_APP}/.default")),
        ])
        .await;
    let app_token = res.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = app.post_form(&path, &obo(&app_token, &scope)).await;
    assert_oauth_error(res, 400, "invalid_grant").await;

    // Missing requested_token_use, missing assertion, public client.
    let mut form = obo(&incoming, &scope);
    form.retain(|(k, _)| *k != "requested_token_use");
    assert_oauth_error(app.post_form(&path, &form).await, 400, "invalid_request").await;
    let mut form = obo(&incoming, &scope);
    form.retain(|(k, _)| *k != "assertion");
    assert_oauth_error(app.post_form(&path, &form).await, 400, "invalid_request").await;
    let form = vec![
        ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
        ("client_id", PUBLIC_APP),
        ("assertion", incoming.as_str()),
        ("scope", scope.as_str()),
        ("requested_token_use", "on_behalf_of"),
    ];
    assert_oauth_error(
        app.post_form(&path, &form).await,
        400,
        "unauthorized_client",
    )
    .await;

    // The genuine assertion still works after all that.
    assert_eq!(
        app.post_form(&path, &obo(&incoming, &scope)).await.status(),
        200
    );
}

on_every_backend!(authorize_and_logout_resolve_tenant_and_policy_like_the_token_endpoint);
async fn authorize_and_logout_resolve_tenant_and_policy_like_the_token_endpoint(backend: Backend) {
    let app = spawn_app(&backend).await;
    let request = |p: Option<&'static str>| {
        let mut q = vec![
            ("client_id", RP_WEB),
            ("redirect_uri", RP_WEB_CALLBACK),
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "st-1"),
        ];
        q.extend(p.map(|p| ("p", p)));
        q
    };
    let (authorize, logout) = ("oauth2/v2.0/authorize", "oauth2/v2.0/logout");
    // The sign-in form: by alias, by `?p=`, by policy in the path, in any case.
    for (path, p) in [
        (format!("/common/{authorize}"), None),
        (format!("/Organizations/{authorize}"), None),
        (
            format!("/{CONTOSO_ID}/{authorize}"),
            Some("B2C_1_signupsignin"),
        ),
        (
            format!("/contoso.onmicrosoft.com/b2c_1_ropc/{authorize}"),
            None,
        ),
        (format!("/tfp/{CONTOSO_ID}/B2C_1_ROPC/{authorize}"), None),
    ] {
        let (status, html) = app.get_page(&path, &request(p)).await;
        assert_eq!(status, 200, "{path} {p:?}: {html}");
        assert!(html.contains("Contoso Web"), "{path} {p:?}");
    }
    // An unknown tenant or policy is a page, never a redirect.
    for (path, p, expected) in [
        (format!("/nowhere.example/{authorize}"), None, "not found"),
        (
            format!("/common/{authorize}"),
            Some("B2C_1_signupsignin"),
            "not found",
        ),
        (
            format!("/{CONTOSO_ID}/{authorize}"),
            Some("B2C_1_nope"),
            "does not exist",
        ),
        (
            format!("/{CONTOSO_ID}/B2C_1_nope/{authorize}"),
            None,
            "does not exist",
        ),
        (
            format!("/{CONTOSO_ID}/{logout}"),
            Some("B2C_1_nope"),
            "does not exist",
        ),
        (
            format!("/nowhere.example/B2C_1_x/{logout}"),
            None,
            "not found",
        ),
    ] {
        let (status, html) = app.get_page(&path, &request(p)).await;
        assert_eq!(status, 400, "{path} {p:?}");
        assert!(html.contains(expected), "{path} {p:?}: {html}");
    }
    let (status, html) = app.get_page(&format!("/common/{logout}"), &[]).await;
    assert_eq!(status, 200);
    assert!(html.contains("Contoso"), "{html}");
}
