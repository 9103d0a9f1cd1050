//! `/auth/verify` answers for what it serves: the default tenant's tokens (others' only
//! as `verify_tenants` lists them), for the audience the caller expects.

use crate::helpers::*;
use localidp::config::VerifyTenants;
use serde_json::Value;

const FABRIKAM: &str = "fabrikam.onmicrosoft.com";

/// Erin's access tokens from Fabrikam: an Entra one and a B2C one (tfp issuer).
async fn fabrikam_tokens(app: &TestApp) -> Vec<String> {
    let mut tokens = Vec::new();
    for path in [
        format!("/{FABRIKAM}/oauth2/v2.0/token"),
        format!("/{FABRIKAM}/B2C_1_signin/oauth2/v2.0/token"),
    ] {
        let res = app
            .post_form(
                &path,
                &[
                    ("grant_type", "password"),
                    ("client_id", FABRIKAM_APP),
                    ("client_secret", FABRIKAM_SECRET),
                    ("username", "erin@fabrikam.com"),
                    ("password", "erin-password"),
                ],
            )
            .await;
        assert_eq!(res.status(), 200, "{path}");
        let body: Value = res.json().await.unwrap();
        tokens.push(body["access_token"].as_str().unwrap().to_owned());
    }
    tokens
}

async fn verify_with(app: &TestApp, query: &str, token: &str) -> reqwest::Response {
    app.http
        .get(app.url(&format!("/auth/verify{query}")))
        .bearer_auth(token)
        .send()
        .await
        .expect("verify request")
}

/// A 401 with an RFC 6750 challenge whose description contains `why`.
async fn assert_refused(res: reqwest::Response, why: &str) {
    assert_eq!(res.status(), 401, "{why}");
    let challenge = res.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        challenge.starts_with("Bearer ") && challenge.contains(r#"error="invalid_token""#),
        "{challenge}"
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid_token");
    let d = body["error_description"].as_str().unwrap();
    assert!(d.contains(why), "{d}");
}

on_every_backend!(verify_refuses_another_tenants_token_unless_configured);
async fn verify_refuses_another_tenants_token_unless_configured(backend: Backend) {
    let app = spawn_app(&backend).await;
    let alice = app.alice_tokens("openid").await;
    assert_eq!(
        app.verify(alice["access_token"].as_str().unwrap())
            .await
            .status(),
        200
    );
    let erin = fabrikam_tokens(&app).await;
    for token in &erin {
        assert_refused(app.verify(token).await, "verify_tenants").await;
    }
    let (settings, fixture) = app.stop().await;

    for listed in [
        VerifyTenants::DefaultAnd(vec![FABRIKAM.into()]),
        VerifyTenants::DefaultAnd(vec![FABRIKAM_ID.to_uppercase()]),
        VerifyTenants::Any,
    ] {
        let mut settings = settings.clone();
        settings.verify_tenants = listed.clone();
        let app = spawn_with(settings, fixture.clone()).await;
        for token in &erin {
            let res = app.verify(token).await;
            assert_eq!(res.status(), 200, "{listed:?}");
            let who: Value = res.json().await.unwrap();
            assert_eq!(who["tid"], FABRIKAM_ID);
            assert_eq!(who["email"], "erin@fabrikam.com");
        }
        // The default tenant's tokens still verify.
        let alice = app.alice_tokens("openid").await;
        assert_eq!(
            app.verify(alice["access_token"].as_str().unwrap())
                .await
                .status(),
            200
        );
        app.stop().await;
    }

    // A tenant that does not exist stops the start.
    let mut settings = settings.clone();
    settings.verify_tenants = VerifyTenants::DefaultAnd(vec!["nowhere.onmicrosoft.com".into()]);
    let err = localidp::startup::Application::build(settings)
        .await
        .err()
        .expect("an unknown tenant in verify_tenants is refused")
        .to_string();
    assert!(
        err.contains("verify_tenants") && err.contains("nowhere.onmicrosoft.com"),
        "{err}"
    );
}

on_every_backend!(verify_refuses_a_token_for_another_audience_than_asked);
async fn verify_refuses_a_token_for_another_audience_than_asked(backend: Backend) {
    let app = spawn_app(&backend).await;
    let web = app.alice_tokens("openid").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let api = app
        .alice_tokens(&format!("api://{API_APP}/Tasks.Read"))
        .await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(claims(&web)["aud"], WEB_APP);
    assert_eq!(claims(&api)["aud"], API_APP);

    for (token, audience) in [
        (&web, WEB_APP.to_owned()),
        (&web, format!("api://{WEB_APP}")),
        (&api, API_APP.to_owned()),
        (&api, format!("api://{API_APP}/")),
    ] {
        let res = verify_with(&app, &format!("?audience={audience}"), token).await;
        assert_eq!(res.status(), 200, "{audience}");
        let who: Value = res.json().await.unwrap();
        assert_eq!(who["user_id"], ALICE_OID);
    }
    for (token, audience) in [
        (&web, API_APP.to_owned()),
        (&api, WEB_APP.to_owned()),
        (&api, format!("api://{WEB_APP}")),
        (&web, "https://graph.microsoft.com".to_owned()),
    ] {
        let res = verify_with(&app, &format!("?audience={audience}"), token).await;
        assert_refused(res, "audience").await;
    }

    // A query it cannot use is the caller's mistake: 400, not a verdict on the token.
    for query in [
        "?audience=",
        "?audience=%20",
        &format!("?audience={WEB_APP}&audience={API_APP}"),
    ] {
        let res = verify_with(&app, query, &web).await;
        assert_eq!(res.status(), 400, "{query}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], "invalid_request", "{query}");
    }
}
