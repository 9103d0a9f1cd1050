//! Token exchange (RFC 8693): another issuer's token becomes ours for the same person.
//! A second localidp, on another public URL, plays the external Entra tenant.

use crate::helpers::*;
use localidp::config::TrustedIssuer;
use serde_json::Value;

const EXTERNAL: &str = "http://external-idp.test";
const EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";

/// The access token of a password grant via the web app.
async fn access_token(app: &TestApp, user: &str, password: &str, scope: &str) -> String {
    app.password_tokens(user, password, scope).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn exchange(app: &TestApp, subject: &str, token_type: &str) -> reqwest::Response {
    app.token(&[
        ("grant_type", EXCHANGE),
        ("client_id", WEB_APP),
        ("client_secret", WEB_APP_SECRET),
        ("subject_token", subject),
        ("subject_token_type", token_type),
        ("scope", &format!("api://{API_APP}/Tasks.Read")),
    ])
    .await
}

on_every_backend!(external_tokens_become_ours_matched_by_oid_email_or_provisioned);
async fn external_tokens_become_ours_matched_by_oid_email_or_provisioned(backend: Backend) {
    let (mut ext_settings, ext_fixture) = test_fixture(&backend);
    ext_settings.public_url = Some(EXTERNAL.into());
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
    settings.trusted_issuers = vec![TrustedIssuer {
        issuer: format!("{EXTERNAL}/{CONTOSO_ID}/v2.0"),
        jwks_file: Some(jwks_file),
        audience: Some(WEB_APP.into()),
        provision: true,
        tenant: None,
        ..Default::default()
    }];
    let app = spawn_with(settings, fixture).await;

    // Matched by oid: the same person in both.
    let alice = access_token(&external, ALICE, ALICE_PASSWORD, "openid").await;
    let res = exchange(&app, &alice, ACCESS_TOKEN).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let c = claims(body["access_token"].as_str().unwrap());
    assert_eq!(c["iss"], format!("{PUBLIC_URL}/{CONTOSO_ID}/v2.0"));
    assert_eq!(c["oid"], ALICE_OID);
    assert_eq!(c["aud"], API_APP);
    assert_eq!(
        app.verify(body["access_token"].as_str().unwrap())
            .await
            .status(),
        200
    );

    // Matched by email: different object ids on each side.
    external
        .add_user("dan@contoso.com", "d0000000-0000-4000-8000-00000000000e")
        .await;
    app.add_user("dan@contoso.com", "d0000000-0000-4000-8000-00000000000a")
        .await;
    let dan = access_token(&external, "dan@contoso.com", OWN_PASSWORD, "openid").await;
    let res = exchange(&app, &dan, ACCESS_TOKEN).await;
    assert_eq!(res.status(), 200);
    let c = claims(
        res.json::<Value>().await.unwrap()["access_token"]
            .as_str()
            .unwrap(),
    );
    assert_eq!(c["oid"], "d0000000-0000-4000-8000-00000000000a");

    // Unknown here: provisioned, keeping the external oid.
    external
        .add_user("zoe@contoso.com", "20e00000-0000-4000-8000-000000000001")
        .await;
    let zoe = access_token(&external, "zoe@contoso.com", OWN_PASSWORD, "openid").await;
    let res = exchange(&app, &zoe, ACCESS_TOKEN).await;
    assert_eq!(res.status(), 200);
    let c = claims(
        res.json::<Value>().await.unwrap()["access_token"]
            .as_str()
            .unwrap(),
    );
    assert_eq!(c["oid"], "20e00000-0000-4000-8000-000000000001");
    assert_eq!(c["email"], "zoe@contoso.com");
    let res = exchange(&app, &zoe, ACCESS_TOKEN).await;
    assert_eq!(
        res.status(),
        200,
        "a second exchange finds the provisioned user"
    );

    // Refused: our own token (issuer not trusted), the external issuer's token for
    // another audience, a tampered token, a wrong token type, no token.
    let own = access_token(&app, ALICE, ALICE_PASSWORD, "openid").await;
    assert_oauth_error(
        exchange(&app, &own, ACCESS_TOKEN).await,
        400,
        "invalid_grant",
    )
    .await;
    let other_aud = access_token(
        &external,
        ALICE,
        ALICE_PASSWORD,
        &format!("api://{API_APP}/x"),
    )
    .await;
    assert_oauth_error(
        exchange(&app, &other_aud, ACCESS_TOKEN).await,
        400,
        "invalid_grant",
    )
    .await;
    let mut parts: Vec<String> = alice.split('.').map(str::to_owned).collect();
    parts[1] = parts[1].chars().rev().collect();
    assert_oauth_error(
        exchange(&app, &parts.join("."), ACCESS_TOKEN).await,
        400,
        "invalid_grant",
    )
    .await;
    assert_oauth_error(
        exchange(&app, &alice, "urn:ietf:params:oauth:token-type:saml2").await,
        400,
        "invalid_request",
    )
    .await;
    let res = app
        .token(&[
            ("grant_type", EXCHANGE),
            ("client_id", WEB_APP),
            ("client_secret", WEB_APP_SECRET),
            ("subject_token_type", ACCESS_TOKEN),
        ])
        .await;
    assert_oauth_error(res, 400, "invalid_request").await;
}
