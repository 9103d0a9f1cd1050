use crate::helpers::*;
use serde_json::Value;

on_every_backend!(discovery_documents_and_jwks);
async fn discovery_documents_and_jwks(backend: Backend) {
    let app = spawn_app(&backend).await;
    let root: Value = app.get_json("/.well-known/openid-configuration").await;
    assert_eq!(root["issuer"], format!("{PUBLIC_URL}/{CONTOSO_ID}/v2.0"));
    assert_eq!(root["token_endpoint"], format!("{PUBLIC_URL}/auth/token"));
    assert_eq!(
        root["jwks_uri"],
        format!("{PUBLIC_URL}/.well-known/jwks.json")
    );
    assert_eq!(
        root["id_token_signing_alg_values_supported"],
        serde_json::json!(["RS256"])
    );

    // Entra's path, by name (any case) or GUID, has the issuer as its own base.
    for t in [
        "contoso.onmicrosoft.com",
        "Contoso.OnMicrosoft.com",
        CONTOSO_ID,
    ] {
        let res = app
            .http
            .get(app.url(&format!("/{t}/v2.0/.well-known/openid-configuration")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let doc: Value = res.json().await.unwrap();
        assert_eq!(doc["issuer"], format!("{PUBLIC_URL}/{CONTOSO_ID}/v2.0"));
        assert_eq!(
            doc["token_endpoint"],
            format!("{PUBLIC_URL}/{CONTOSO_ID}/oauth2/v2.0/token")
        );
        assert_eq!(
            doc["jwks_uri"],
            format!("{PUBLIC_URL}/{CONTOSO_ID}/discovery/v2.0/keys")
        );
    }
    let res = app
        .http
        .get(app.url("/nobody.onmicrosoft.com/v2.0/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);

    let jwks: Value = app.get_json("/.well-known/jwks.json").await;
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    let k = &keys[0];
    assert_eq!(k["kty"], "RSA");
    assert_eq!(k["use"], "sig");
    assert_eq!(k["alg"], "RS256");
    assert_eq!(k["e"], "AQAB");
    assert!(
        k.get("d").is_none() && k.get("p").is_none(),
        "no private parts"
    );
    // kid is the RFC 7638 thumbprint of (e, kty, n).
    let n = k["n"].as_str().unwrap();
    assert_eq!(k["kid"], localidp::crypto::keys::thumbprint(n, "AQAB"));
    let token = app.alice_tokens("openid").await;
    assert_eq!(
        header(token["access_token"].as_str().unwrap())["kid"],
        k["kid"]
    );

    let tenant_keys: Value = app
        .get_json(&format!("/{CONTOSO_ID}/discovery/v2.0/keys"))
        .await;
    assert_eq!(tenant_keys, jwks);
}

on_every_backend!(health_and_readiness);
async fn health_and_readiness(backend: Backend) {
    let app = spawn_app(&backend).await;
    let res = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let res = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let res = app.http.get(app.url("/no/such/path")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "not_found");
}
