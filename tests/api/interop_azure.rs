//! The real client libraries an Entra or B2C app uses, against localidp over HTTPS
//! with its development CA: MSAL Python, msal-node, openid-client, jose, PyJWT and
//! @mastra/auth, installed by the test at the versions pinned in tests/interop/.
//! MSAL Python's password flow first calls https://localhost/common/userrealm on
//! port 443, so the server also listens there (root, as CI runs, may bind it).

use std::process::Command;

use crate::helpers::clients::{interop_dir, node_modules, python, run_json};
use crate::helpers::*;
use serde_json::json;

/// Held while a server listens on port 443, which the two backends' runs share.
static PORT_443: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

on_every_backend!(msal_openid_client_jose_mastra_over_https);
async fn msal_openid_client_jose_mastra_over_https(backend: Backend) {
    let python = python().to_owned();
    node_modules();
    let _port_443 = PORT_443.lock().await;
    let (mut settings, fixture) = test_fixture(&backend);
    settings.public_url = None;
    settings.tls = true;
    settings.also_listen = Some("127.0.0.1:443".into());
    let app = spawn_with(settings, fixture).await;
    let base = app.state.public_url.clone();
    assert!(base.starts_with("https://localhost:"), "{base}");
    let ca = app.settings.keys_dir.join("tls/ca.pem");
    let admin_oid = crate::user_names::add_admin(&app).await;
    let cfg = json!({
        "base": base,
        "ca": ca,
        "tenant_id": CONTOSO_ID,
        "tenant_name": "contoso.onmicrosoft.com",
        "policy": "B2C_1_ROPC",
        "public_app": PUBLIC_APP,
        "web_app": WEB_APP,
        "web_secret": WEB_APP_SECRET,
        "api_app": API_APP,
        "username": ALICE,
        "password": ALICE_PASSWORD,
        "plain_username": "admin",
        "plain_password": crate::user_names::ADMIN_PASSWORD,
        "foreign_tenant_id": FABRIKAM_ID,
        "foreign_app": FABRIKAM_APP,
        "foreign_secret": FABRIKAM_SECRET,
        "foreign_username": "erin@fabrikam.com",
        "foreign_password": "erin-password",
    })
    .to_string();

    let mut cmd = Command::new(&python);
    cmd.arg(interop_dir().join("msal_python.py"))
        .arg(&cfg)
        .env("REQUESTS_CA_BUNDLE", &ca)
        .env("SSL_CERT_FILE", &ca);
    let py = run_json(cmd, "msal_python.py").await;

    let r = &py["entra_password_user_name"];
    assert_eq!(r["ok"], true, "MSAL Python password flow by user name: {r}");
    assert_eq!(r["claims"]["oid"], admin_oid);
    assert_eq!(r["claims"]["preferred_username"], "admin");

    let r = &py["entra_password"];
    assert_eq!(r["ok"], true, "MSAL Python Entra password flow: {r}");
    assert_eq!(r["claims"]["oid"], ALICE_OID);
    assert_eq!(r["claims"]["aud"], API_APP);
    assert_eq!(r["claims"]["scp"], "Tasks.Read");
    assert_eq!(r["id_token_claims"]["oid"], ALICE_OID);
    assert_eq!(py["entra_accounts"], 1);
    assert_eq!(
        py["entra_refresh"]["ok"], true,
        "acquire_token_silent(force_refresh): {py}"
    );
    assert_eq!(py["entra_refresh_new_token"], true);
    // A refresh token from a sign-in with OIDC scopes alone reaches an API.
    let r = &py["entra_second_resource_default"];
    assert_eq!(
        r["ok"], true,
        "acquire_token_silent for {{api}}/.default: {r}"
    );
    assert_eq!(r["claims"]["aud"], API_APP);
    assert!(r["claims"].get("scp").is_none(), "{r}");
    let r = &py["entra_second_resource_named"];
    assert_eq!(r["ok"], true, "acquire_token_silent for a named scope: {r}");
    assert_eq!(r["claims"]["aud"], API_APP);
    assert_eq!(r["claims"]["scp"], "Tasks.Write");
    assert_eq!(py["entra_wrong_password"]["error"], "invalid_grant");
    assert_eq!(py["entra_wrong_password"]["error_codes"], json!([50126]));

    let r = &py["b2c_password"];
    assert_eq!(r["ok"], true, "MSAL Python B2C password flow: {r}");
    assert_eq!(r["claims"]["tfp"], "B2C_1_ROPC");
    assert_eq!(r["claims"]["ver"], "1.0");
    assert_eq!(r["claims"]["emails"], json!([ALICE]));
    let r = &py["b2c_second_resource"];
    assert_eq!(r["ok"], true, "MSAL Python B2C silent, second API: {r}");
    assert_eq!(r["claims"]["aud"], WEB_APP);
    assert_eq!(r["claims"]["scp"], "Files.Read");
    assert_eq!(r["claims"]["tfp"], "B2C_1_ROPC");
    let d = py["b2c_wrong_password"]["error_description"]
        .as_str()
        .unwrap_or_default();
    assert!(d.starts_with("AADB2C90225"), "{py}");

    let r = &py["client_credentials"];
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["claims"]["roles"], json!(["Tasks.Read.All"]));
    assert_eq!(py["wrong_secret"]["error"], "invalid_client");
    assert_eq!(py["wrong_secret"]["error_codes"], json!([7000215]));
    let r = &py["obo"];
    assert_eq!(r["ok"], true, "MSAL Python on-behalf-of: {r}");
    assert_eq!(r["claims"]["aud"], API_APP);
    assert_eq!(r["claims"]["oid"], ALICE_OID);
    assert_eq!(r["claims"]["azp"], WEB_APP);
    assert_eq!(py["foreign_password"]["ok"], true, "{py}");
    assert_eq!(py["obo_foreign_tenant"]["error"], "invalid_grant");
    assert_eq!(py["obo_foreign_tenant"]["error_codes"], json!([50013]));
    assert_eq!(py["pyjwt_verified_oid"], WEB_APP);

    let mut cmd = Command::new("node");
    cmd.arg(interop_dir().join("node_clients.mjs"))
        .arg(&cfg)
        .current_dir(interop_dir())
        .env("NODE_EXTRA_CA_CERTS", &ca);
    let js = run_json(cmd, "node_clients.mjs").await;

    let r = &js["msal_client_credentials"];
    assert_eq!(r["ok"], true, "msal-node client credentials: {r}");
    assert_eq!(r["claims"]["aud"], API_APP);
    let r = &js["msal_password"];
    assert_eq!(r["ok"], true, "msal-node password: {r}");
    assert_eq!(r["claims"]["oid"], ALICE_OID);
    for (name, scp) in [
        ("msal_silent_second_resource_default", None),
        ("msal_silent_second_resource_named", Some("Tasks.Write")),
    ] {
        let r = &js[name];
        assert_eq!(r["ok"], true, "msal-node acquireTokenSilent: {r}");
        assert_eq!(r["from_cache"], false, "{r}");
        assert_eq!(r["claims"]["aud"], API_APP, "{r}");
        assert_eq!(r["claims"].get("scp").and_then(|s| s.as_str()), scp, "{r}");
    }
    let r = &js["msal_obo"];
    assert_eq!(r["ok"], true, "msal-node on-behalf-of: {r}");
    assert_eq!(r["claims"]["aud"], API_APP);
    assert_eq!(r["claims"]["oid"], ALICE_OID);
    let r = &js["msal_wrong_password"];
    assert_eq!(r["ok"], false);
    assert!(
        r["message"]
            .as_str()
            .unwrap_or_default()
            .contains("AADSTS50126"),
        "{r}"
    );
    let r = &js["msal_wrong_secret"];
    assert_eq!(r["ok"], false);
    assert!(
        r["message"]
            .as_str()
            .unwrap_or_default()
            .contains("AADSTS7000215"),
        "{r}"
    );

    let r = &js["openid_client"];
    assert_eq!(r["ok"], true, "openid-client: {r}");
    assert_eq!(r["issuer"], format!("{base}/{CONTOSO_ID}/v2.0"));
    assert_eq!(r["cc_claims"]["aud"], API_APP);
    assert_eq!(r["id_token_sub"], ALICE_OID);
    assert_eq!(r["refreshed_sub"], ALICE_OID);
    assert_eq!(r["refresh_rotated"], true);

    assert_eq!(js["jose"]["ok"], true, "jose: {}", js["jose"]);
    assert_eq!(js["jose"]["oid"], WEB_APP);
    assert_eq!(js["mastra"]["ok"], true, "@mastra/auth: {}", js["mastra"]);
    assert_eq!(js["mastra"]["oid"], WEB_APP);
    app.stop().await;
}
