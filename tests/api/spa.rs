//! Single-page apps as MSAL.js and oidc-client-ts drive them: CORS on discovery, keys,
//! userinfo and the token endpoints; SPA redirect URIs and their 24-hour refresh
//! tokens; logout without a hint; `prompt=none` answered in Entra's and B2C's words.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;

use crate::helpers::*;

const ELSEWHERE: &str = "http://evil.test";

/// The MSAL SPA's authorize parameters (fragment response mode, as MSAL.js asks).
fn spa_request<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut p = web_request(&[
        ("client_id", MSAL_SPA),
        ("redirect_uri", MSAL_SPA_REDIRECT),
        ("response_mode", "fragment"),
    ]);
    for (k, v) in extra {
        p.retain(|(key, _)| key != k);
        p.push((k, v));
    }
    p
}

fn on_entra_path(query: String) -> String {
    query.replace(
        "/authorize?",
        &format!("/{CONTOSO_ID}/oauth2/v2.0/authorize?"),
    )
}

/// Parameters of a redirect's fragment (`response_mode=fragment`).
fn fragment_params(res: &reqwest::Response, expected_base: &str) -> HashMap<String, String> {
    let location = res.headers()["location"].to_str().unwrap();
    assert!(location.starts_with(expected_base), "{location}");
    let fragment = location.split_once('#').expect("a fragment").1;
    reqwest::Url::parse(&format!("http://fragment.test/?{fragment}"))
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

fn header<'a>(res: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    res.headers().get(name).map(|v| v.to_str().unwrap())
}

/// Signs alice in to the MSAL SPA (or reuses the browser's session) and returns its code.
async fn spa_code(browser: &Browser) -> String {
    let query = authorize_query(&spa_request(&[]));
    let res = browser.get(&query).await;
    let res = if res.status() == 302 {
        res
    } else {
        browser.sign_in(&query, ALICE, ALICE_PASSWORD).await
    };
    assert!(res.status().is_redirection(), "{}", res.status());
    fragment_params(&res, MSAL_SPA_REDIRECT)["code"].clone()
}

/// The SPA's token request, from its origin (or another).
async fn spa_token(
    app: &TestApp,
    path: &str,
    origin: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    app.http
        .post(app.url(path))
        .header("origin", origin)
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn redeem_spa_code(app: &TestApp, code: &str, origin: &str) -> reqwest::Response {
    spa_token(
        app,
        &format!("/{CONTOSO_ID}/oauth2/v2.0/token"),
        origin,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", MSAL_SPA),
            ("code", code),
            ("redirect_uri", MSAL_SPA_REDIRECT),
            ("code_verifier", VERIFIER),
        ],
    )
    .await
}

on_every_backend!(discovery_keys_and_userinfo_are_readable_from_any_origin);
async fn discovery_keys_and_userinfo_are_readable_from_any_origin(backend: Backend) {
    let app = spawn_app(&backend).await;
    let get = |path: String| {
        let app = &app;
        async move {
            app.http
                .get(app.url(&path))
                .header("origin", ELSEWHERE)
                .send()
                .await
                .unwrap()
        }
    };
    for path in [
        "/.well-known/openid-configuration".to_owned(),
        format!("/{CONTOSO_ID}/v2.0/.well-known/openid-configuration"),
        "/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration?p=B2C_1_signupsignin"
            .into(),
        "/contoso.onmicrosoft.com/B2C_1_signupsignin/v2.0/.well-known/openid-configuration".into(),
        "/tfp/contoso.onmicrosoft.com/B2C_1_signupsignin/v2.0/.well-known/openid-configuration"
            .into(),
        "/.well-known/jwks.json".into(),
        format!("/{CONTOSO_ID}/discovery/v2.0/keys"),
        "/contoso.onmicrosoft.com/B2C_1_signupsignin/discovery/v2.0/keys".into(),
        "/tfp/contoso.onmicrosoft.com/B2C_1_signupsignin/discovery/v2.0/keys".into(),
    ] {
        let res = get(path.clone()).await;
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(
            header(&res, "access-control-allow-origin"),
            Some("*"),
            "{path}"
        );
        assert_eq!(
            header(&res, "access-control-allow-credentials"),
            None,
            "{path}"
        );
    }
    // Errors from them are readable too: a script can tell why.
    for path in [
        "/nowhere.example/v2.0/.well-known/openid-configuration",
        "/contoso.onmicrosoft.com/B2C_1_nope/v2.0/.well-known/openid-configuration",
    ] {
        let res = get(path.into()).await;
        assert_eq!(res.status(), 404, "{path}");
        assert_eq!(
            header(&res, "access-control-allow-origin"),
            Some("*"),
            "{path}"
        );
    }
    // /userinfo is called with a bearer token from the SPA (Graph-like).
    let res = get("/userinfo".into()).await;
    assert_eq!(res.status(), 401);
    assert_eq!(header(&res, "access-control-allow-origin"), Some("*"));
    // The script may read the request id (and why it was refused).
    let exposed = header(&res, "access-control-expose-headers").unwrap_or_default();
    for name in ["x-request-id", "client-request-id", "www-authenticate"] {
        assert!(exposed.contains(name), "{name}: {exposed}");
    }
    // Preflights: any origin, MSAL's headers and Authorization, no credentials.
    for path in [
        format!("/{CONTOSO_ID}/v2.0/.well-known/openid-configuration"),
        "/userinfo".into(),
    ] {
        let res = app
            .http
            .request(reqwest::Method::OPTIONS, app.url(&path))
            .header("origin", ELSEWHERE)
            .header("access-control-request-method", "GET")
            .header(
                "access-control-request-headers",
                "authorization,client-request-id,x-request-id",
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 204, "{path}");
        assert_eq!(header(&res, "access-control-allow-origin"), Some("*"));
        let allowed = header(&res, "access-control-allow-headers").unwrap();
        assert!(allowed.contains("authorization") && allowed.contains("client-request-id"));
        assert!(allowed.contains("x-request-id"), "{allowed}");
        assert_eq!(header(&res, "access-control-allow-credentials"), None);
    }
    // The sign-in pages are not for scripts.
    let res = get(authorize_query(&spa_request(&[]))).await;
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "access-control-allow-origin"), None);
}

on_every_backend!(the_token_endpoint_answers_only_the_spa_origins_of_the_client_in_the_request);
async fn the_token_endpoint_answers_only_the_spa_origins_of_the_client_in_the_request(
    backend: Backend,
) {
    let app = spawn_app(&backend).await;
    let browser = Browser::new(&app);
    // From the SPA's origin: the code redemption is readable, and nothing credentialed.
    let code = spa_code(&browser).await;
    let res = redeem_spa_code(&app, &code, MSAL_SPA_ORIGIN).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        header(&res, "access-control-allow-origin"),
        Some(MSAL_SPA_ORIGIN)
    );
    assert_eq!(header(&res, "access-control-allow-credentials"), None);
    assert!(header(&res, "vary").unwrap().contains("Origin"));
    assert_eq!(header(&res, "set-cookie"), None);
    // From another origin the server answers, but without the header the browser
    // keeps the answer from the script.
    let code = spa_code(&browser).await;
    let res = redeem_spa_code(&app, &code, ELSEWHERE).await;
    assert_eq!(header(&res, "access-control-allow-origin"), None);
    // Errors are readable by the SPA, on every URL form of the token endpoint.
    let refresh = [
        ("grant_type", "refresh_token"),
        ("client_id", MSAL_SPA),
        ("refresh_token", "not-a-token"),
    ];
    for path in [
        "/auth/token".to_owned(),
        format!("/{CONTOSO_ID}/oauth2/v2.0/token"),
        "/contoso.onmicrosoft.com/oauth2/v2.0/token?p=B2C_1_signupsignin".into(),
        "/contoso.onmicrosoft.com/B2C_1_signupsignin/oauth2/v2.0/token".into(),
        "/tfp/contoso.onmicrosoft.com/B2C_1_signupsignin/oauth2/v2.0/token".into(),
    ] {
        let res = spa_token(&app, &path, MSAL_SPA_ORIGIN, &refresh).await;
        assert_eq!(res.status(), 400, "{path}");
        assert_eq!(
            header(&res, "access-control-allow-origin"),
            Some(MSAL_SPA_ORIGIN),
            "{path}"
        );
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], "invalid_grant");
    }
    // Never for a client without that SPA origin, nor for the SPA in another tenant,
    // nor for a request that names no client.
    let cases: [(&str, &[(&str, &str)]); 4] = [
        (
            "/auth/token",
            &[
                ("grant_type", "refresh_token"),
                ("client_id", RP_SPA),
                ("refresh_token", "x"),
            ],
        ),
        (
            "/auth/token",
            &[
                ("grant_type", "refresh_token"),
                ("client_id", FABRIKAM_SPA),
                ("refresh_token", "x"),
            ],
        ),
        (
            "/fabrikam.onmicrosoft.com/oauth2/v2.0/token",
            &[
                ("grant_type", "refresh_token"),
                ("client_id", MSAL_SPA),
                ("refresh_token", "x"),
            ],
        ),
        (
            "/auth/token",
            &[("grant_type", "refresh_token"), ("refresh_token", "x")],
        ),
    ];
    for (path, form) in cases {
        for origin in [MSAL_SPA_ORIGIN, FABRIKAM_SPA_ORIGIN, "http://spa.test"] {
            let res = spa_token(&app, path, origin, form).await;
            assert_eq!(res.status().as_u16() / 100, 4);
            assert_eq!(
                header(&res, "access-control-allow-origin"),
                None,
                "{path} {form:?} {origin}"
            );
        }
    }
}

on_every_backend!(token_endpoint_preflights_allow_the_tenants_spa_origins_and_msal_headers);
async fn token_endpoint_preflights_allow_the_tenants_spa_origins_and_msal_headers(
    backend: Backend,
) {
    let app = spawn_app(&backend).await;
    let preflight = |path: String, origin: &'static str| {
        let app = &app;
        async move {
            app.http
                .request(reqwest::Method::OPTIONS, app.url(&path))
                .header("origin", origin)
                .header("access-control-request-method", "POST")
                .header(
                    "access-control-request-headers",
                    "content-type,client-request-id,x-client-sku,x-client-ver,x-client-os,x-client-cpu,x-ms-lib-capability,x-app-name,x-app-ver,return-client-request-id",
                )
                .send()
                .await
                .unwrap()
        }
    };
    for path in [
        "/auth/token".to_owned(),
        format!("/{CONTOSO_ID}/oauth2/v2.0/token"),
        "/Contoso.onmicrosoft.com/oauth2/v2.0/token?p=B2C_1_signupsignin".into(),
        "/contoso.onmicrosoft.com/b2c_1_signupsignin/oauth2/v2.0/token".into(),
        "/tfp/contoso.onmicrosoft.com/B2C_1_signupsignin/oauth2/v2.0/token".into(),
    ] {
        let res = preflight(path.clone(), MSAL_SPA_ORIGIN).await;
        assert_eq!(res.status(), 204, "{path}");
        assert_eq!(
            header(&res, "access-control-allow-origin"),
            Some(MSAL_SPA_ORIGIN),
            "{path}"
        );
        assert!(
            header(&res, "access-control-allow-methods")
                .unwrap()
                .contains("POST")
        );
        let allowed = header(&res, "access-control-allow-headers").unwrap();
        for h in [
            "content-type",
            "client-request-id",
            "x-client-sku",
            "x-client-ver",
            "x-client-os",
            "x-client-cpu",
            "x-ms-lib-capability",
            "x-app-name",
            "x-app-ver",
            "return-client-request-id",
        ] {
            assert!(allowed.split(", ").any(|a| a == h), "{h} in {allowed}");
        }
        assert_eq!(header(&res, "access-control-allow-credentials"), None);
        // An origin that no SPA of the tenant registered gets no permission.
        for origin in [ELSEWHERE, FABRIKAM_SPA_ORIGIN] {
            let res = preflight(path.clone(), origin).await;
            assert_eq!(
                header(&res, "access-control-allow-origin"),
                None,
                "{path} {origin}"
            );
        }
    }
    // Fabrikam's SPA origin is Fabrikam's.
    let res = preflight(
        "/fabrikam.onmicrosoft.com/oauth2/v2.0/token".into(),
        FABRIKAM_SPA_ORIGIN,
    )
    .await;
    assert_eq!(
        header(&res, "access-control-allow-origin"),
        Some(FABRIKAM_SPA_ORIGIN)
    );
}

on_every_backend!(spa_refresh_tokens_last_24_hours_without_sliding);
async fn spa_refresh_tokens_last_24_hours_without_sliding(backend: Backend) {
    let app = spawn_app(&backend).await;
    let browser = Browser::new(&app);
    let code = spa_code(&browser).await;
    let tokens: Value = redeem_spa_code(&app, &code, MSAL_SPA_ORIGIN)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(tokens["refresh_token_expires_in"], 86_400, "{tokens}");
    let refresh = |token: String| {
        let app = &app;
        async move {
            spa_token(
                app,
                &format!("/{CONTOSO_ID}/oauth2/v2.0/token"),
                MSAL_SPA_ORIGIN,
                &[
                    ("grant_type", "refresh_token"),
                    ("client_id", MSAL_SPA),
                    ("refresh_token", &token),
                ],
            )
            .await
        }
    };
    // 23 hours later the token still works; its successor keeps the first expiry.
    app.advance(Duration::from_secs(23 * 3600));
    let res = refresh(tokens["refresh_token"].as_str().unwrap().to_owned()).await;
    assert_eq!(res.status(), 200);
    let rotated: Value = res.json().await.unwrap();
    // (The test clock also runs with real time: a second may pass between requests.)
    let left = rotated["refresh_token_expires_in"].as_i64().unwrap();
    assert!((3590..=3600).contains(&left), "{rotated}");
    // 24 hours after the redemption the family has ended, however recently rotated.
    app.advance(Duration::from_secs(3600));
    let res = refresh(rotated["refresh_token"].as_str().unwrap().to_owned()).await;
    let description = assert_oauth_error(res, 400, "invalid_grant").await;
    assert!(description.contains("expired"), "{description}");
    // A web redirect URI keeps the configured, sliding lifetime.
    let code = browser.code_for_alice(&[]).await;
    let web: Value = app
        .redeem_code(&code, Some(VERIFIER))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        web["refresh_token_expires_in"],
        app.settings.refresh_token_lifetime
    );
}

on_every_backend!(logout_without_a_hint_ends_the_session_and_returns_to_a_registered_uri);
async fn logout_without_a_hint_ends_the_session_and_returns_to_a_registered_uri(backend: Backend) {
    let app = spawn_app(&backend).await;
    // MSAL.js 5's logoutRedirect: post_logout_redirect_uri, state, client-request-id.
    for logout in [
        "/logout".to_owned(),
        format!("/{CONTOSO_ID}/oauth2/v2.0/logout"),
        "/contoso.onmicrosoft.com/B2C_1_signupsignin/oauth2/v2.0/logout".into(),
        "/contoso.onmicrosoft.com/oauth2/v2.0/logout?p=B2C_1_signupsignin".into(),
    ] {
        let browser = Browser::new(&app);
        spa_code(&browser).await;
        assert!(browser.cookies().contains("localidp_sso_"));
        let sep = if logout.contains('?') { '&' } else { '?' };
        let res = browser
            .get(&format!(
                "{logout}{sep}post_logout_redirect_uri={}&state=bye&client-request-id=c1",
                urlencode(MSAL_SPA_SIGNED_OUT)
            ))
            .await;
        assert_eq!(res.status(), 302, "{logout}");
        assert_eq!(redirect_params(&res, MSAL_SPA_SIGNED_OUT)["state"], "bye");
        assert!(!browser.cookies().contains("localidp_sso_"), "{logout}");
        // The session is over: a silent sign-in needs the user again.
        let res = browser
            .get(&authorize_query(&spa_request(&[("prompt", "none")])))
            .await;
        assert_eq!(
            fragment_params(&res, MSAL_SPA_REDIRECT)["error"],
            "login_required"
        );
    }
    // A URI no application of the tenant registered: signed out, and no redirect.
    let browser = Browser::new(&app);
    spa_code(&browser).await;
    let res = browser
        .get(&format!(
            "/logout?post_logout_redirect_uri={}",
            urlencode("http://evil.test/")
        ))
        .await;
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("location").is_none());
    let html = res.text().await.unwrap();
    assert!(html.contains("You have signed out"), "{html}");
    assert!(!html.contains("Sign-in"), "{html}");
    assert!(!browser.cookies().contains("localidp_sso_"));
    // Fabrikam requires the ID token (B2C's switch): refused, the session survives.
    let browser = Browser::new(&app);
    let query = fabrikam_request(&[]);
    let res = browser
        .sign_in(&query, "erin@fabrikam.com", "erin-password")
        .await;
    let code = redirect_params(&res, RP_WEB_CALLBACK)["code"].clone();
    let logout = "/fabrikam.onmicrosoft.com/oauth2/v2.0/logout";
    let res = browser
        .get(&format!(
            "{logout}?post_logout_redirect_uri={}",
            urlencode(RP_WEB_CALLBACK)
        ))
        .await;
    assert_eq!(res.status(), 400);
    let html = res.text().await.unwrap();
    assert!(html.contains("Sign-out cannot continue"), "{html}");
    assert!(html.contains("id_token_hint"), "{html}");
    assert!(browser.cookies().contains("localidp_sso_"));
    let tokens: Value = app
        .post_form(
            "/fabrikam.onmicrosoft.com/oauth2/v2.0/token",
            &[
                ("grant_type", "authorization_code"),
                ("client_id", RP_FABRIKAM),
                ("client_secret", RP_FABRIKAM_SECRET),
                ("code", &code),
                ("redirect_uri", RP_WEB_CALLBACK),
                ("code_verifier", VERIFIER),
            ],
        )
        .await
        .json()
        .await
        .unwrap();
    let res = browser
        .get(&format!(
            "{logout}?id_token_hint={}&post_logout_redirect_uri={}",
            tokens["id_token"].as_str().unwrap(),
            urlencode(RP_WEB_CALLBACK)
        ))
        .await;
    assert_eq!(res.status(), 302);
    assert!(!browser.cookies().contains("localidp_sso_"));
}

on_every_backend!(prompt_none_without_a_session_answers_as_entra_and_b2c_do);
async fn prompt_none_without_a_session_answers_as_entra_and_b2c_do(backend: Backend) {
    let app = spawn_app(&backend).await;
    let browser = Browser::new(&app);
    // Entra, fragment (MSAL.js's hidden iframe): login_required, AADSTS50058.
    let res = browser
        .get(&on_entra_path(authorize_query(&spa_request(&[(
            "prompt", "none",
        )]))))
        .await;
    assert_eq!(res.status(), 302);
    let p = fragment_params(&res, MSAL_SPA_REDIRECT);
    assert_eq!(p["error"], "login_required");
    assert!(p["error_description"].starts_with("AADSTS50058: "), "{p:?}");
    assert_eq!(p["state"], "st-123");
    // Query mode.
    let res = browser
        .get(&authorize_query(&web_request(&[("prompt", "none")])))
        .await;
    let p = redirect_params(&res, RP_WEB_CALLBACK);
    assert_eq!(p["error"], "login_required");
    assert!(p["error_description"].contains("AADSTS50058"));
    // B2C: interaction_required, AADB2C90077.
    let b2c = authorize_query(&spa_request(&[("prompt", "none")])).replace(
        "/authorize?",
        "/contoso.onmicrosoft.com/B2C_1_signupsignin/oauth2/v2.0/authorize?",
    );
    let res = browser.get(&b2c).await;
    let p = fragment_params(&res, MSAL_SPA_REDIRECT);
    assert_eq!(p["error"], "interaction_required");
    assert!(p["error_description"].starts_with("AADB2C90077: "), "{p:?}");
    // With a session, prompt=none answers a code, and prompt=login shows the form
    // again, prefilled with login_hint.
    spa_code(&browser).await;
    let res = browser
        .get(&authorize_query(&spa_request(&[("prompt", "none")])))
        .await;
    assert!(fragment_params(&res, MSAL_SPA_REDIRECT).contains_key("code"));
    let res = browser
        .get(&authorize_query(&spa_request(&[
            ("prompt", "login"),
            ("login_hint", "someone@contoso.com"),
        ])))
        .await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains(r#"value="someone@contoso.com""#), "{html}");
}

/// The Entra error number of an error body.
fn error_code(body: &Value) -> u64 {
    body["error_codes"][0].as_u64().unwrap_or_default()
}

on_every_backend!(only_single_page_apps_redeem_cross_origin_and_they_only_cross_origin);
async fn only_single_page_apps_redeem_cross_origin_and_they_only_cross_origin(backend: Backend) {
    let app = spawn_app(&backend).await;
    let browser = Browser::new(&app);
    let entra_token = format!("/{CONTOSO_ID}/oauth2/v2.0/token");
    // A SPA's code presented by a server (no Origin, or this server's own): 9002327.
    let own_origin = app
        .settings
        .public_url
        .clone()
        .unwrap_or_else(|| app.url("/").trim_end_matches('/').to_owned());
    for own in [None, Some(own_origin)] {
        let code = spa_code(&browser).await;
        let mut req = app.http.post(app.url(&entra_token)).form(&[
            ("grant_type", "authorization_code"),
            ("client_id", MSAL_SPA),
            ("code", &code),
            ("redirect_uri", MSAL_SPA_REDIRECT),
            ("code_verifier", VERIFIER),
        ]);
        if let Some(origin) = &own {
            req = req.header("origin", origin);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 400, "{own:?}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], "invalid_request", "{body}");
        assert_eq!(error_code(&body), 9_002_327, "{body}");
        assert!(
            body["error_description"]
                .as_str()
                .unwrap()
                .contains("may only be redeemed via cross-origin requests"),
            "{body}"
        );
    }
    // Its refresh token likewise; from the SPA's origin it works.
    let code = spa_code(&browser).await;
    let tokens: Value = redeem_spa_code(&app, &code, MSAL_SPA_ORIGIN)
        .await
        .json()
        .await
        .unwrap();
    let refresh = [
        ("grant_type", "refresh_token"),
        ("client_id", MSAL_SPA),
        ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
    ];
    let res = app
        .http
        .post(app.url(&entra_token))
        .form(&refresh)
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(error_code(&body), 9_002_327, "{body}");
    let res = spa_token(&app, &entra_token, MSAL_SPA_ORIGIN, &refresh).await;
    assert_eq!(res.status(), 200, "not spent by the refusal");

    // Anything else asked for by a browser script on another origin: 9002326, on the
    // Entra and B2C paths; the short /auth/token does not check.
    let scope = format!("{WEB_APP}/.default");
    let app_only = [
        ("grant_type", "client_credentials"),
        ("client_id", WEB_APP),
        ("client_secret", WEB_APP_SECRET),
        ("scope", scope.as_str()),
    ];
    let res = spa_token(&app, &entra_token, ELSEWHERE, &app_only).await;
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        (body["error"].as_str(), error_code(&body)),
        (Some("invalid_request"), 9_002_326),
        "{body}"
    );
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("Request origin: 'http://evil.test'"),
        "{body}"
    );
    let b2c = "/contoso.onmicrosoft.com/B2C_1_ROPC/oauth2/v2.0/token";
    let ropc = [
        ("grant_type", "password"),
        ("client_id", PUBLIC_APP),
        ("username", ALICE),
        ("password", ALICE_PASSWORD),
        ("scope", "openid"),
    ];
    let res = spa_token(&app, b2c, ELSEWHERE, &ropc).await;
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("Cross-origin token redemption is permitted only"),
        "{body}"
    );
    let res = spa_token(&app, "/auth/token", ELSEWHERE, &app_only).await;
    assert_eq!(res.status(), 200);
    // A web app's code redeemed cross-origin: 9002326.
    let query = authorize_query(&web_request(&[]));
    let res = browser.get(&query).await; // signed in already: SSO
    assert_eq!(res.status(), 302);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let code = reqwest::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("a code");
    let res = spa_token(
        &app,
        &entra_token,
        ELSEWHERE,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", RP_WEB),
            ("client_secret", RP_WEB_SECRET),
            ("code", &code),
            ("redirect_uri", RP_WEB_CALLBACK),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(error_code(&body), 9_002_326, "{body}");
}
