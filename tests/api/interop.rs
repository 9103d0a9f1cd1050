//! Independent verifiers reading only the JWKS URL accept localidp's tokens:
//! PyJWT's PyJWKClient and jose's createRemoteJWKSet, and a FastAPI app that signs
//! users in with a password form to localidp, installed by the test itself at the
//! versions pinned in tests/interop/.

use std::path::Path;

use crate::helpers::clients::{interop_dir, node_modules, python, run_json, verify_with};
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

on_every_backend!(a_fastapi_app_signs_users_in_with_a_password_form_to_localidp);
/// A FastAPI app whose tokenUrl is localidp's /auth/token: the OAuth2PasswordRequestForm
/// fields (no client_id; with and without grant_type) get a token there, and the app
/// validates it from the JWKS with PyJWT and reads `sub` and `exp` on a protected route.
async fn a_fastapi_app_signs_users_in_with_a_password_form_to_localidp(backend: Backend) {
    let python = python().to_owned();
    let app = spawn_app(&backend).await;
    let issuer = format!("{PUBLIC_URL}/{CONTOSO_ID}/v2.0");
    let mut cmd = std::process::Command::new(python);
    cmd.arg(interop_dir().join("fastapi_password_form.py"))
        .args([app.base.as_str(), ALICE, ALICE_PASSWORD, &issuer, WEB_APP])
        .current_dir(interop_dir());
    let out = run_json(cmd, "fastapi_password_form.py").await;
    assert_eq!(out["token_url"], app.url("/auth/token"));
    for form in ["with_grant_type", "without_grant_type"] {
        let token = out[form]["access_token"].as_str().unwrap();
        let c = claims(token);
        // The token is for Contoso's default client, which the app expects as audience.
        assert_eq!(c["aud"], WEB_APP, "{form}");
        let me = &out[form]["me"];
        assert_eq!(me["sub"], ALICE_OID, "{form}");
        assert_eq!(me["sub"], c["sub"], "{form}");
        assert_eq!(me["exp"], c["exp"], "{form}");
    }
    assert_eq!(out["no_token_status"], 401);
    assert_eq!(out["tampered_status"], 401);
    assert_eq!(out["wrong_password"]["status"], 400);
    assert_eq!(out["wrong_password"]["body"]["error"], "invalid_grant");
}
