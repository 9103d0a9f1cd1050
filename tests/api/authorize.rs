//! The interactive flow over HTTP with a cookie jar, as a browser and a relying party
//! would drive it: authorize → login form → code → token → userinfo → logout, and
//! each way it must fail.

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::redirect::Policy;
use serde_json::Value;

use crate::helpers::*;

on_every_backend!(authorization_code_flow_end_to_end);
async fn authorization_code_flow_end_to_end(backend: Backend) {
    let app = &spawn_app(&backend).await;
    let browser = Browser::new(app);
    // 1. The login page, before any session exists.
    let query = authorize_query(&web_request(&[
        ("login_hint", ALICE),
        ("domain_hint", "contoso.com"),
    ]));
    let page = browser.get(&query).await;
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let set_cookie: Vec<_> = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert!(
        set_cookie.iter().any(|c| c.starts_with("localidp_csrf=")
            && c.contains("HttpOnly")
            && c.contains("SameSite=Lax")),
        "{set_cookie:?}"
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("<title>Sign in · Contoso</title>"), "{html}");
    assert!(html.contains("Contoso Web"));
    assert!(html.contains(r#"<label for="email">"#) && html.contains(r#"<label for="password">"#));
    assert!(
        html.contains(&format!(r#"value="{ALICE}""#)),
        "login_hint prefills"
    );
    let form = login_form(&html, ALICE, ALICE_PASSWORD);
    assert!(
        form.iter()
            .any(|(k, v)| k == "redirect_uri" && v == RP_WEB_CALLBACK)
    );

    // 2. Credentials → code at the registered redirect URI, SSO cookie set.
    let res = browser.post("/login", &form).await;
    assert_eq!(res.status(), 303);
    let sso_cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("localidp_sso_"))
        .expect("SSO cookie");
    assert!(sso_cookie.contains("HttpOnly") && sso_cookie.contains("SameSite=Lax"));
    assert!(!sso_cookie.contains("Secure"), "plain HTTP: no Secure flag");
    let params = redirect_params(&res, &format!("{RP_WEB_CALLBACK}?"));
    assert_eq!(params["state"], "st-123");
    assert_eq!(params["iss"], format!("{PUBLIC_URL}/{CONTOSO_ID}/v2.0"));
    let code = params["code"].clone();

    // 3. Code + verifier → tokens.
    let res = app.redeem_code(&code, Some(VERIFIER)).await;
    assert_eq!(res.status(), 200);
    let tokens: Value = res.json().await.unwrap();
    let access = tokens["access_token"].as_str().unwrap();
    let id_token = tokens["id_token"].as_str().unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let id = claims(id_token);
    assert_eq!(id["aud"], RP_WEB);
    assert_eq!(id["sub"], ALICE_OID);
    assert_eq!(id["nonce"], "n-456");
    assert_eq!(id["at_hash"], half_hash(access));
    assert_eq!(id["c_hash"], half_hash(&code));
    assert!(id["sid"].is_string());
    let auth_time = id["auth_time"].as_i64().unwrap();
    assert!(auth_time <= id["iat"].as_i64().unwrap());
    assert_eq!(claims(access)["azpacr"], "1");

    // 4. userinfo with the access token.
    let res = app.userinfo(access).await;
    assert_eq!(res.status(), 200);
    let info: Value = res.json().await.unwrap();
    assert_eq!(info["sub"], ALICE_OID);
    assert_eq!(info["email"], ALICE);
    assert_eq!(info["name"], "Alice Smith");
    let res = app
        .http
        .post(app.url("/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "POST /userinfo works too");

    // 5. A second authorize in the same browser skips the form (SSO).
    let res = browser
        .get(&authorize_query(&web_request(&[("nonce", "second")])))
        .await;
    assert_eq!(res.status(), 302);
    let code2 = redirect_params(&res, RP_WEB_CALLBACK)["code"].clone();
    let tokens2: Value = app
        .redeem_code(&code2, Some(VERIFIER))
        .await
        .json()
        .await
        .unwrap();
    let id2 = claims(tokens2["id_token"].as_str().unwrap());
    assert_eq!(id2["nonce"], "second");
    assert_eq!(
        id2["auth_time"], auth_time,
        "auth_time is the password time"
    );
    assert_eq!(id2["sid"], id["sid"]);

    // prompt=login asks again despite the session.
    let res = browser
        .get(&authorize_query(&web_request(&[("prompt", "login")])))
        .await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("name=\"password\""));

    // 6. Logout: back to the registered URI with the state, session gone.
    let logout = format!(
        "/logout?id_token_hint={id_token}&post_logout_redirect_uri={}&state=bye",
        urlencode(RP_WEB_SIGNED_OUT)
    );
    let res = browser.get(&logout).await;
    assert_eq!(res.status(), 302);
    let params = redirect_params(&res, RP_WEB_SIGNED_OUT);
    assert_eq!(params["state"], "bye");
    assert_eq!(params["from"], "idp");
    assert!(
        !browser.cookies().contains("localidp_sso_"),
        "cookie removed"
    );

    // The refresh tokens issued through the session are revoked with it.
    let res = app.refresh_as(RP_WEB, RP_WEB_SECRET, refresh, &[]).await;
    assert_oauth_error(res, 400, "invalid_grant").await;

    // prompt=none now has no session to use.
    let res = browser
        .get(&authorize_query(&web_request(&[("prompt", "none")])))
        .await;
    assert_eq!(res.status(), 302);
    let params = redirect_params(&res, RP_WEB_CALLBACK);
    assert_eq!(params["error"], "login_required");
    assert_eq!(params["state"], "st-123");
    assert!(!params.contains_key("code"));
}

on_every_backend!(public_client_flow_requires_s256_and_the_right_verifier);
async fn public_client_flow_requires_s256_and_the_right_verifier(backend: Backend) {
    let app = spawn_app(&backend).await;
    let browser = Browser::new(&app);
    let base = [
        ("client_id", RP_SPA),
        ("redirect_uri", RP_SPA_CALLBACK),
        ("response_type", "code"),
        ("scope", "openid offline_access"),
        ("state", "s"),
    ];
    // No PKCE: refused, at the registered redirect URI.
    let res = browser.get(&authorize_query(&base)).await;
    assert_eq!(res.status(), 302);
    let p = redirect_params(&res, RP_SPA_CALLBACK);
    assert_eq!(p["error"], "invalid_request");
    assert!(p["error_description"].contains("PKCE"));
    // plain: refused unless configured.
    let mut plain = base.to_vec();
    plain.push(("code_challenge", VERIFIER));
    plain.push(("code_challenge_method", "plain"));
    let res = browser.get(&authorize_query(&plain)).await;
    assert_eq!(
        redirect_params(&res, RP_SPA_CALLBACK)["error"],
        "invalid_request"
    );

    let mut s256 = base.to_vec();
    s256.push(("code_challenge", CHALLENGE));
    s256.push(("code_challenge_method", "S256"));
    let res = browser
        .sign_in(&authorize_query(&s256), ALICE, ALICE_PASSWORD)
        .await;
    assert_eq!(res.status(), 303);
    let code = redirect_params(&res, RP_SPA_CALLBACK)["code"].clone();
    let redeem = |verifier: &'static str, code: String| {
        let app = &app;
        async move {
            app.token(&[
                ("grant_type", "authorization_code"),
                ("client_id", RP_SPA),
                ("code", &code),
                ("redirect_uri", RP_SPA_CALLBACK),
                ("code_verifier", verifier),
            ])
            .await
        }
    };
    // A wrong verifier fails, and spends the code: the right one cannot follow.
    let wrong = "wrong-verifier-wrong-verifier-wrong-verifier-0";
    let desc = assert_oauth_error(redeem(wrong, code.clone()).await, 400, "invalid_grant").await;
    assert!(desc.contains("code_verifier"), "{desc}");
    assert_oauth_error(redeem(VERIFIER, code).await, 400, "invalid_grant").await;

    // A fresh code with the right verifier works; azpacr says public client.
    let res = browser.get(&authorize_query(&s256)).await;
    let code = redirect_params(&res, RP_SPA_CALLBACK)["code"].clone();
    let res = redeem(VERIFIER, code).await;
    assert_eq!(res.status(), 200);
    let tokens: Value = res.json().await.unwrap();
    assert_eq!(
        claims(tokens["access_token"].as_str().unwrap())["azpacr"],
        "0"
    );
}

on_every_backend!(a_reused_code_is_refused_and_revokes_what_it_issued);
async fn a_reused_code_is_refused_and_revokes_what_it_issued(backend: Backend) {
    let app = spawn_app(&backend).await;
    let browser = Browser::new(&app);
    let code = browser.code_for_alice(&[]).await;
    let first: Value = app
        .redeem_code(&code, Some(VERIFIER))
        .await
        .json()
        .await
        .unwrap();
    let access = first["access_token"].as_str().unwrap();
    let refresh = first["refresh_token"].as_str().unwrap();
    assert_eq!(app.introspect(access).await["active"], true);
    assert_eq!(app.introspect(refresh).await["active"], true);

    let desc = assert_oauth_error(
        app.redeem_code(&code, Some(VERIFIER)).await,
        400,
        "invalid_grant",
    )
    .await;
    assert!(desc.contains("already redeemed"), "{desc}");
    assert_eq!(app.userinfo(access).await.status(), 401);
    assert_eq!(
        app.introspect(access).await,
        serde_json::json!({"active": false})
    );
    assert_eq!(app.introspect(refresh).await["active"], false);
    let res = app.refresh_as(RP_WEB, RP_WEB_SECRET, refresh, &[]).await;
    assert_oauth_error(res, 400, "invalid_grant").await;
}

on_every_backend!(token_request_must_repeat_the_redirect_uri_and_come_from_the_same_client);
async fn token_request_must_repeat_the_redirect_uri_and_come_from_the_same_client(
    backend: Backend,
) {
    let app = spawn_app(&backend).await;
    let browser = Browser::new(&app);
    let code = browser.code_for_alice(&[]).await;
    let res = app
        .token(&[
            ("grant_type", "authorization_code"),
            ("client_id", RP_WEB),
            ("client_secret", RP_WEB_SECRET),
            ("code", &code),
            ("redirect_uri", RP_WEB_SIGNED_OUT),
            ("code_verifier", VERIFIER),
        ])
        .await;
    let desc = assert_oauth_error(res, 400, "invalid_grant").await;
    assert!(desc.contains("redirect_uri"), "{desc}");

    // Signed in already: the code comes without the form.
    let res = browser.get(&authorize_query(&web_request(&[]))).await;
    let code = redirect_params(&res, RP_WEB_CALLBACK)["code"].clone();
    let res = app
        .token(&[
            ("grant_type", "authorization_code"),
            ("client_id", WEB_APP),
            ("client_secret", WEB_APP_SECRET),
            ("code", &code),
            ("redirect_uri", RP_WEB_CALLBACK),
            ("code_verifier", VERIFIER),
        ])
        .await;
    assert_oauth_error(res, 400, "invalid_grant").await;
    // Missing verifier when the request had a challenge.
    let res = browser.get(&authorize_query(&web_request(&[]))).await;
    let code = redirect_params(&res, RP_WEB_CALLBACK)["code"].clone();
    let desc = assert_oauth_error(app.redeem_code(&code, None).await, 400, "invalid_grant").await;
    assert!(desc.contains("code_verifier is required"), "{desc}");
    // A made-up code.
    let res = app.redeem_code("made-up-code", Some(VERIFIER)).await;
    assert_oauth_error(res, 400, "invalid_grant").await;
}

on_every_backend!(unknown_clients_and_unregistered_redirect_uris_get_a_page_never_a_redirect);
async fn unknown_clients_and_unregistered_redirect_uris_get_a_page_never_a_redirect(
    backend: Backend,
) {
    let app = spawn_app(&backend).await;
    let browser = Browser::new(&app);
    for (extra, expected) in [
        (
            vec![("redirect_uri", "http://evil.test/cb")],
            "not registered",
        ),
        (
            vec![("redirect_uri", "http://rp.test/signin-oidc/")],
            "not registered",
        ),
        (vec![("client_id", "no-such-client")], "not registered"),
        (
            vec![("client_id", RP_FABRIKAM)],
            "not registered in this tenant",
        ),
        (vec![("redirect_uri", "")], "no redirect_uri"),
    ] {
        let res = browser.get(&authorize_query(&web_request(&extra))).await;
        assert_eq!(res.status(), 400, "{extra:?}");
        assert!(res.headers().get("location").is_none());
        let html = res.text().await.unwrap();
        assert!(html.contains(expected), "{extra:?}: {html}");
        assert!(html.contains("role=\"alert\""));
    }
    // The Entra path serves the tenant by name; Fabrikam's client works there.
    let res = browser
        .get(
            &authorize_query(&web_request(&[("client_id", RP_FABRIKAM)])).replace(
                "/authorize?",
                "/fabrikam.onmicrosoft.com/oauth2/v2.0/authorize?",
            ),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("Fabrikam Web"));

    // Errors about the request itself go back to the registered URI.
    for (extra, error) in [
        (
            vec![("response_type", "token")],
            "unsupported_response_type",
        ),
        (vec![("scope", "")], "invalid_request"),
        (vec![("prompt", "bogus")], "invalid_request"),
        (vec![("client_id", RP_PASSWORD_ONLY)], "unauthorized_client"),
        (vec![("scope", "openid nope/read")], "invalid_scope"),
    ] {
        let res = browser.get(&authorize_query(&web_request(&extra))).await;
        assert_eq!(res.status(), 302, "{extra:?}");
        let p = redirect_params(&res, RP_WEB_CALLBACK);
        assert_eq!(p["error"], error, "{extra:?}");
        assert_eq!(p["state"], "st-123");
    }
}

on_every_backend!(login_form_needs_its_csrf_token_and_the_right_password);
async fn login_form_needs_its_csrf_token_and_the_right_password(backend: Backend) {
    let app = spawn_app(&backend).await;
    let browser = Browser::new(&app);
    let query = authorize_query(&web_request(&[]));
    let html = browser.get(&query).await.text().await.unwrap();
    let form = login_form(&html, ALICE, ALICE_PASSWORD);

    // Without the token, or with a forged one: 403, form shown again, no session.
    let without: Vec<_> = form
        .iter()
        .filter(|(k, _)| k != "csrf_token")
        .cloned()
        .collect();
    let forged: Vec<_> = form
        .iter()
        .map(|(k, v)| match k.as_str() {
            "csrf_token" => (k.clone(), URL_SAFE_NO_PAD.encode([7u8; 32])),
            _ => (k.clone(), v.clone()),
        })
        .collect();
    for attempt in [without, forged] {
        let res = browser.post("/login", &attempt).await;
        assert_eq!(res.status(), 403);
        assert!(res.headers().get("location").is_none());
        let page = res.text().await.unwrap();
        assert!(page.contains("did not come from this site"), "{page}");
        assert!(!browser.cookies().contains("localidp_sso_"));
    }
    // The right token, but from a browser without the cookie (another site's form).
    let stranger = Browser::new(&app);
    assert_eq!(stranger.post("/login", &form).await.status(), 403);

    // Wrong password: 401, the form again with a clear message and the email kept.
    let wrong: Vec<_> = form
        .iter()
        .map(|(k, v)| match k.as_str() {
            "password" => (k.clone(), "not-the-password".to_owned()),
            _ => (k.clone(), v.clone()),
        })
        .collect();
    let res = browser.post("/login", &wrong).await;
    assert_eq!(res.status(), 401);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("The username or password is incorrect."),
        "{page}"
    );
    assert!(page.contains(&format!(r#"value="{ALICE}""#)));
    assert!(page.contains(r#"aria-invalid="true""#));

    // The original form still works.
    let res = browser.post("/login", &form).await;
    assert_eq!(res.status(), 303);
    assert!(redirect_params(&res, RP_WEB_CALLBACK).contains_key("code"));
}

on_every_backend!(prompt_none_without_a_session_is_login_required);
async fn prompt_none_without_a_session_is_login_required(backend: Backend) {
    let app = spawn_app(&backend).await;
    let browser = Browser::new(&app);
    let res = browser
        .get(&authorize_query(&web_request(&[("prompt", "none")])))
        .await;
    assert_eq!(res.status(), 302);
    let p = redirect_params(&res, RP_WEB_CALLBACK);
    assert_eq!(p["error"], "login_required");
    assert_eq!(p["state"], "st-123");
    // form_post answers with an auto-submitting form instead.
    let res = browser
        .get(&authorize_query(&web_request(&[
            ("prompt", "none"),
            ("response_mode", "form_post"),
        ])))
        .await;
    assert_eq!(res.status(), 200);
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let html = res.text().await.unwrap();
    assert!(
        html.contains(&format!(r#"action="{RP_WEB_CALLBACK}""#)),
        "{html}"
    );
    let fields: HashMap<_, _> = hidden_fields(&html).into_iter().collect();
    assert_eq!(fields["error"], "login_required");
    assert_eq!(fields["state"], "st-123");
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap();
    assert!(html.contains(&format!(r#"<script nonce="{nonce}">"#)));
}

on_every_backend!(form_post_delivers_the_code);
async fn form_post_delivers_the_code(backend: Backend) {
    let app = spawn_app(&backend).await;
    let browser = Browser::new(&app);
    let query = authorize_query(&web_request(&[("response_mode", "form_post")]));
    let res = browser.sign_in(&query, ALICE, ALICE_PASSWORD).await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    let fields: HashMap<_, _> = hidden_fields(&html).into_iter().collect();
    let res = app.redeem_code(&fields["code"], Some(VERIFIER)).await;
    assert_eq!(res.status(), 200);
}

on_every_backend!(logout_checks_the_post_logout_redirect_uri);
async fn logout_checks_the_post_logout_redirect_uri(backend: Backend) {
    let app = spawn_app(&backend).await;
    let browser = Browser::new(&app);
    let code = browser.code_for_alice(&[]).await;
    let tokens: Value = app
        .redeem_code(&code, Some(VERIFIER))
        .await
        .json()
        .await
        .unwrap();
    let id_token = tokens["id_token"].as_str().unwrap();
    // Unregistered target: an error page, and the session survives.
    let res = browser
        .get(&format!(
            "/logout?id_token_hint={id_token}&post_logout_redirect_uri={}",
            urlencode("http://evil.test/")
        ))
        .await;
    assert_eq!(res.status(), 400);
    assert!(res.headers().get("location").is_none());
    assert!(browser.cookies().contains("localidp_sso_"));
    // (No hint and no client_id: tests/api/spa.rs.)
    // A forged hint is refused.
    let res = browser
        .get("/logout?id_token_hint=eyJhbGciOiJSUzI1NiJ9.e30.c2ln")
        .await;
    assert_eq!(res.status(), 400);
    // Entra's path, POST, client_id instead of a hint.
    let res = browser
        .http
        .post(format!("{}/{CONTOSO_ID}/oauth2/v2.0/logout", app.base))
        .form(&[
            ("client_id", RP_WEB),
            ("post_logout_redirect_uri", RP_WEB_SIGNED_OUT),
            ("state", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    assert_eq!(redirect_params(&res, RP_WEB_SIGNED_OUT)["state"], "x");
    assert!(!browser.cookies().contains("localidp_sso_"));
    // Without a target: the signed-out page.
    let res = browser.get("/logout").await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("You have signed out"));
}

on_every_backend!(revocation_and_introspection);
async fn revocation_and_introspection(backend: Backend) {
    let app = spawn_app(&backend).await;
    let browser = Browser::new(&app);
    let code = browser.code_for_alice(&[]).await;
    let tokens: Value = app
        .redeem_code(&code, Some(VERIFIER))
        .await
        .json()
        .await
        .unwrap();
    let access = tokens["access_token"].as_str().unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();

    let info = app.introspect(access).await;
    assert_eq!(info["active"], true);
    assert_eq!(info["client_id"], RP_WEB);
    assert_eq!(info["sub"], ALICE_OID);
    assert_eq!(info["username"], ALICE);
    assert_eq!(
        app.introspect("garbage").await,
        serde_json::json!({"active": false})
    );

    // Public clients may not introspect; a wrong secret is invalid_client.
    let res = app
        .http
        .post(app.url("/introspect"))
        .form(&[("token", access), ("client_id", RP_SPA)])
        .send()
        .await
        .unwrap();
    assert_oauth_error(res, 401, "invalid_client").await;
    let res = app
        .http
        .post(app.url("/introspect"))
        .form(&[
            ("token", access),
            ("client_id", RP_WEB),
            ("client_secret", "wrong"),
        ])
        .send()
        .await
        .unwrap();
    assert_oauth_error(res, 401, "invalid_client").await;

    let revoke = |token: &str, client: &str, secret: &str| {
        let req = app.http.post(app.url("/revoke")).form(&[
            ("token", token),
            ("client_id", client),
            ("client_secret", secret),
        ]);
        async move { req.send().await.unwrap() }
    };
    // Another client's revocation is answered 200 and changes nothing (RFC 7009 §2.2).
    assert_eq!(revoke(refresh, WEB_APP, WEB_APP_SECRET).await.status(), 200);
    assert_eq!(app.introspect(refresh).await["active"], true);
    assert_eq!(revoke(refresh, RP_WEB, RP_WEB_SECRET).await.status(), 200);
    assert_eq!(app.introspect(refresh).await["active"], false);
    assert_eq!(revoke(access, RP_WEB, RP_WEB_SECRET).await.status(), 200);
    assert_eq!(app.introspect(access).await["active"], false);
    let res = app.userinfo(access).await;
    assert_eq!(res.status(), 401);
    assert!(res.headers().contains_key("www-authenticate"));
    assert_eq!(revoke("unknown", RP_WEB, RP_WEB_SECRET).await.status(), 200);
    let res = app
        .http
        .post(app.url("/revoke"))
        .form(&[("client_id", RP_WEB), ("client_secret", RP_WEB_SECRET)])
        .send()
        .await
        .unwrap();
    assert_oauth_error(res, 400, "invalid_request").await;
}

on_every_backend!(discovery_advertises_the_interactive_endpoints);
async fn discovery_advertises_the_interactive_endpoints(backend: Backend) {
    let app = spawn_app(&backend).await;
    let doc: Value = app
        .get_json(&format!(
            "/{CONTOSO_ID}/v2.0/.well-known/openid-configuration"
        ))
        .await;
    let base = format!("{PUBLIC_URL}/{CONTOSO_ID}/oauth2/v2.0");
    assert_eq!(doc["authorization_endpoint"], format!("{base}/authorize"));
    assert_eq!(doc["end_session_endpoint"], format!("{base}/logout"));
    assert_eq!(doc["userinfo_endpoint"], format!("{PUBLIC_URL}/userinfo"));
    assert_eq!(doc["revocation_endpoint"], format!("{PUBLIC_URL}/revoke"));
    assert_eq!(
        doc["introspection_endpoint"],
        format!("{PUBLIC_URL}/introspect")
    );
    assert_eq!(doc["response_types_supported"], serde_json::json!(["code"]));
    assert_eq!(
        doc["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert!(
        doc["grant_types_supported"]
            .as_array()
            .unwrap()
            .contains(&"authorization_code".into())
    );
    let root: Value = app.get_json("/.well-known/openid-configuration").await;
    assert_eq!(
        root["authorization_endpoint"],
        format!("{PUBLIC_URL}/authorize")
    );
    assert_eq!(root["end_session_endpoint"], format!("{PUBLIC_URL}/logout"));
}

on_every_backend!(an_expired_code_is_refused);
async fn an_expired_code_is_refused(backend: Backend) {
    let app = spawn_app(&backend).await;
    let browser = Browser::new(&app);
    let code = browser.code_for_alice(&[]).await;
    let lifetime = app.settings.authorization_code_lifetime as u64;
    app.advance(Duration::from_secs(lifetime + 1));
    let desc = assert_oauth_error(
        app.redeem_code(&code, Some(VERIFIER)).await,
        400,
        "invalid_grant",
    )
    .await;
    assert!(desc.contains("expired"), "{desc}");
}

on_every_backend!(sign_up_is_offered_only_where_the_tenant_allows_it);
async fn sign_up_is_offered_only_where_the_tenant_allows_it(backend: Backend) {
    let app = spawn_app(&backend).await;
    let browser = Browser::new(&app);
    let html = browser
        .get(&authorize_query(&web_request(&[])))
        .await
        .text()
        .await
        .unwrap();
    assert!(!html.contains("Sign up now") && !html.contains("Forgot your password?"));
    let res = browser
        .get(&format!(
            "/signup?tenant={CONTOSO_ID}&{}",
            authorize_query(&web_request(&[])).trim_start_matches("/authorize?")
        ))
        .await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("Sign-up is not enabled"));
}

on_every_backend!(a_new_user_signs_up_and_lands_signed_in);
async fn a_new_user_signs_up_and_lands_signed_in(backend: Backend) {
    let app = spawn_app(&backend).await;
    let browser = Browser::new(&app);
    let html = browser
        .get(&fabrikam_request(&[]))
        .await
        .text()
        .await
        .unwrap();
    let page = browser.get(&link(&html, "Sign up now")).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Create your account") && html.contains("Fabrikam Web"));
    let form = hidden_fields(&html);
    let submit = |email: &str, password: &str, confirm: &str, csrf: bool| {
        let mut f: Vec<(String, String)> = form
            .iter()
            .filter(|(k, _)| csrf || k != "csrf_token")
            .cloned()
            .collect();
        f.push(("email".into(), email.into()));
        f.push(("display_name".into(), "Frank New".into()));
        f.push(("password".into(), password.into()));
        f.push(("password_confirm".into(), confirm.into()));
        let browser = &browser;
        async move { browser.post("/signup", &f).await }
    };
    let strong = "Correct-Horse-9";
    let res = submit("frank@fabrikam.com", strong, strong, false).await;
    assert_eq!(res.status(), 403);
    for (email, password, confirm, message) in [
        (
            "frank@fabrikam.com",
            "short1A",
            "short1A",
            "between 8 and 64",
        ),
        (
            "frank@fabrikam.com",
            "alllowercase1",
            "alllowercase1",
            "at least 3 of",
        ),
        (
            "frank@fabrikam.com",
            strong,
            "Other-Horse-9",
            "do not match",
        ),
        ("not-an-email", strong, strong, "valid email"),
        ("erin@fabrikam.com", strong, strong, "already exists"),
    ] {
        let res = submit(email, password, confirm, true).await;
        assert_eq!(res.status(), 400, "{email} {password}");
        let page = res.text().await.unwrap();
        assert!(page.contains(message), "{message}: {page}");
    }
    let res = submit("frank@fabrikam.com", strong, strong, true).await;
    assert_eq!(res.status(), 303);
    let params = redirect_params(&res, RP_WEB_CALLBACK);
    assert_eq!(params["state"], "st-123");
    let res = app
        .tenant_token(
            FABRIKAM_ID,
            &[
                ("grant_type", "authorization_code"),
                ("client_id", RP_FABRIKAM),
                ("client_secret", RP_FABRIKAM_SECRET),
                ("code", &params["code"]),
                ("redirect_uri", RP_WEB_CALLBACK),
                ("code_verifier", VERIFIER),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let tokens: Value = res.json().await.unwrap();
    let id = claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["email"], "frank@fabrikam.com");
    assert_eq!(id["name"], "Frank New");
    assert_eq!(id["tid"], FABRIKAM_ID);
    // The new password works at the next sign-in.
    let other = Browser::new(&app);
    let res = other
        .sign_in(&fabrikam_request(&[]), "frank@fabrikam.com", strong)
        .await;
    assert_eq!(res.status(), 303);
}

on_every_backend!(forgot_password_and_cancel_answer_with_b2c_error_codes);
async fn forgot_password_and_cancel_answer_with_b2c_error_codes(backend: Backend) {
    let app = spawn_app(&backend).await;
    let browser = Browser::new(&app);
    let html = browser
        .get(&fabrikam_request(&[]))
        .await
        .text()
        .await
        .unwrap();
    let res = browser.get(&link(&html, "Forgot your password?")).await;
    assert_eq!(res.status(), 302);
    let p = redirect_params(&res, RP_WEB_CALLBACK);
    assert_eq!(p["error"], "access_denied");
    assert!(p["error_description"].starts_with("AADB2C90118:"), "{p:?}");
    assert_eq!(p["state"], "st-123");

    let signup = browser
        .get(&link(&html, "Sign up now"))
        .await
        .text()
        .await
        .unwrap();
    let res = browser.get(&link(&signup, "Cancel")).await;
    assert_eq!(res.status(), 302);
    let p = redirect_params(&res, RP_WEB_CALLBACK);
    assert_eq!(p["error"], "access_denied");
    assert!(p["error_description"].starts_with("AADB2C90091:"), "{p:?}");

    // Contoso does not offer it: a page, not a redirect.
    let q = authorize_query(&web_request(&[]));
    let res = browser
        .get(&format!(
            "/forgot-password?tenant={CONTOSO_ID}&{}",
            q.trim_start_matches("/authorize?")
        ))
        .await;
    assert_eq!(res.status(), 400);
    assert!(res.headers().get("location").is_none());
}

on_every_backend!(an_idle_session_ends_and_https_cookies_are_secure);
async fn an_idle_session_ends_and_https_cookies_are_secure(backend: Backend) {
    let app = spawn_app(&backend).await;
    let browser = Browser::new(&app);
    browser.code_for_alice(&[]).await;
    let prompt_none = authorize_query(&web_request(&[("prompt", "none")]));
    let res = browser.get(&prompt_none).await;
    assert!(redirect_params(&res, RP_WEB_CALLBACK).contains_key("code"));
    let idle = app.settings.session_idle_timeout as u64;
    app.advance(Duration::from_secs(idle + 1));
    let res = browser.get(&prompt_none).await;
    assert_eq!(
        redirect_params(&res, RP_WEB_CALLBACK)["error"],
        "login_required",
        "idle for longer than session_idle_timeout"
    );

    let (mut settings, fixture) = test_fixture(&backend);
    settings.public_url = Some("https://localidp.test".into());
    let app = spawn_with(settings, fixture).await;
    let browser = Browser::new(&app);
    let res = browser.get(&authorize_query(&web_request(&[]))).await;
    let csrf = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        csrf.contains("Secure") && csrf.contains("HttpOnly"),
        "{csrf}"
    );
    let html = res.text().await.unwrap();
    // The jar keeps Secure cookies off plain HTTP, so send the form's cookie by hand.
    let cookie = csrf.split(';').next().unwrap().to_owned();
    let form = login_form(&html, ALICE, ALICE_PASSWORD);
    let res = crate::helpers::http_client_builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
        .post(app.url("/login"))
        .header("cookie", cookie)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let sso = res.headers()["set-cookie"].to_str().unwrap();
    assert!(
        sso.starts_with("localidp_sso_") && sso.contains("Secure"),
        "{sso}"
    );
    // Over HTTPS the session reaches a SPA's hidden iframe (silent sign-in), as Entra's.
    assert!(sso.contains("SameSite=None"), "{sso}");
}
