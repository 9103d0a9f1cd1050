//! Independent verifiers reading only the JWKS URL accept localidp's tokens:
//! PyJWT's PyJWKClient and jose's createRemoteJWKSet, installed by the test itself
//! at the versions pinned in tests/interop/.

use std::path::Path;

use crate::helpers::clients::{node_modules, python, verify_with};
use crate::helpers::*;
use serde_json::Value;

on_every_backend!(pyjwt_and_jose_verify_tokens_from_the_jwks_url_alone);
async fn pyjwt_and_jose_verify_tokens_from_the_jwks_url_alone(backend: Backend) {
    let python = python().to_owned();
    node_modules();
    let app = spawn_app(&backend).await;
    let jwks_url = app.url("/.well-known/jwks.json");
    let issuer = format!("{PUBLIC_URL}/{CONTOSO_ID}/v2.0");
    let user = app.alice_tokens("openid").await;
    let user_at = user["access_token"].as_str().unwrap().to_owned();
    let res = app
        .token(&[
            ("grant_type", "client_credentials"),
            ("client_id", WEB_APP),
            ("client_secret", WEB_APP_SECRET),
            ("scope", &format!("api://{API_APP}/.default")),
        ])
        .await;
    let app_at = res.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();

    for (program, script) in [
        (python.as_path(), "verify_pyjwt.py"),
        (Path::new("node"), "verify_jose.mjs"),
    ] {
        let (ok, c) = verify_with(program, script, &[&jwks_url, &user_at, &issuer, WEB_APP]);
        assert!(ok, "{script} rejected the user token: {c}");
        assert_eq!(c["oid"], ALICE_OID, "{script}");
        assert_eq!(c["email"], ALICE, "{script}");

        let (ok, c) = verify_with(program, script, &[&jwks_url, &app_at, &issuer, API_APP]);
        assert!(ok, "{script} rejected the app token: {c}");
        assert_eq!(
            c["roles"],
            serde_json::json!(["Tasks.Read.All"]),
            "{script}"
        );

        // The same verifiers refuse a tampered token and a wrong audience.
        let mut parts: Vec<String> = user_at.split('.').map(str::to_owned).collect();
        parts[1] = parts[1].chars().rev().collect();
        let (ok, c) = verify_with(
            program,
            script,
            &[&jwks_url, &parts.join("."), &issuer, WEB_APP],
        );
        assert!(!ok, "{script} accepted a tampered token: {c}");
        let (ok, c) = verify_with(program, script, &[&jwks_url, &user_at, &issuer, API_APP]);
        assert!(!ok, "{script} accepted a token for another audience: {c}");
    }
}
