use crate::helpers::*;
use serde_json::{Value, json};

on_every_backend!(login_returns_token_and_claims_and_verify_accepts_it);
async fn login_returns_token_and_claims_and_verify_accepts_it(backend: Backend) {
    let app = spawn_app(&backend).await;
    let res = app
        .http
        .post(app.url("/auth/login"))
        .json(&json!({"email": "Alice@Contoso.com", "password": ALICE_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["claims"]["oid"], ALICE_OID);
    assert_eq!(body["claims"]["email"], ALICE);
    assert_eq!(body["claims"]["name"], "Alice Smith");
    let token = body["access_token"].as_str().unwrap();
    // The tenant's default client (the seed's default_client) is the audience.
    assert_eq!(claims(token)["aud"], WEB_APP);

    let res = app.verify(token).await;
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["user_id"], ALICE_OID);
    assert_eq!(v["email"], ALICE);
    assert_eq!(v["name"], "Alice Smith");
    assert_eq!(v["roles"], json!(["Admin", "Tasks.Write"]));
    assert_eq!(v["groups"].as_array().unwrap().len(), 2);
    assert_eq!(v["tid"], CONTOSO_ID);
}

on_every_backend!(login_failures);
async fn login_failures(backend: Backend) {
    let app = spawn_app(&backend).await;
    let post = |body: Value| app.http.post(app.url("/auth/login")).json(&body).send();
    let res = post(json!({"email": ALICE, "password": "wrong"}))
        .await
        .unwrap();
    assert_oauth_error(res, 401, "invalid_grant").await;
    let res = post(json!({"email": "ghost@contoso.com", "password": "x"}))
        .await
        .unwrap();
    assert_oauth_error(res, 401, "invalid_grant").await;
    let res = post(json!({"email": "bob@contoso.com", "password": "bob-password"}))
        .await
        .unwrap();
    assert_oauth_error(res, 401, "invalid_grant").await;
    let res = post(json!({"email": ALICE})).await.unwrap();
    assert_oauth_error(res, 422, "invalid_request").await;
    let res = post(json!({"email": "", "password": ""})).await.unwrap();
    assert_oauth_error(res, 400, "invalid_request").await;
    let res = post(json!({"email": ALICE, "password": ALICE_PASSWORD, "client_id": "unknown"}))
        .await
        .unwrap();
    assert_oauth_error(res, 400, "invalid_request").await;
}

async fn assert_rejected(app: &TestApp, token: &str, why: &str) {
    let res = app.verify(token).await;
    assert_eq!(res.status(), 401, "{why}");
    let challenge = res.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    assert!(
        challenge.contains(r#"error="invalid_token""#),
        "{why}: {challenge}"
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid_token", "{why}");
}

on_every_backend!(verify_rejects_bad_tokens);
async fn verify_rejects_bad_tokens(backend: Backend) {
    let app = spawn_app(&backend).await;
    let good = app.alice_tokens("openid").await;
    let at = good["access_token"].as_str().unwrap();
    let base = claims(at);
    let now = app.now();
    let with = |k: &str, v: Value| {
        let mut c = base.clone();
        c[k] = v;
        c
    };

    assert_eq!(app.verify(at).await.status(), 200);
    assert_eq!(
        app.verify(&app.sign(&base)).await.status(),
        200,
        "forge helper works"
    );

    assert_rejected(&app, &app.sign(&with("exp", json!(now - 120))), "expired").await;
    assert_rejected(
        &app,
        &app.sign(&with("nbf", json!(now + 600))),
        "not yet valid",
    )
    .await;
    assert_rejected(
        &app,
        &app.sign(&with(
            "iss",
            json!("https://login.microsoftonline.com/x/v2.0"),
        )),
        "foreign issuer",
    )
    .await;
    assert_rejected(
        &app,
        &app.sign(&with(
            "iss",
            json!(format!("{PUBLIC_URL}/{FABRIKAM_ID}/v2.0")),
        )),
        "issuer of another tenant",
    )
    .await;
    assert_rejected(
        &app,
        &app.sign(&with("tid", json!(FABRIKAM_ID))),
        "tid of another tenant",
    )
    .await;
    assert_rejected(
        &app,
        &app.sign(&with("aud", json!(FABRIKAM_APP))),
        "audience of another tenant",
    )
    .await;
    assert_rejected(
        &app,
        &app.sign(&with("aud", json!("https://graph.microsoft.com"))),
        "unknown audience",
    )
    .await;
    let mut no_sub = base.clone();
    no_sub.as_object_mut().unwrap().remove("sub");
    assert_rejected(&app, &app.sign(&no_sub), "no sub").await;

    // The ID token is not an access token.
    assert_rejected(&app, good["id_token"].as_str().unwrap(), "id token").await;

    // Tampered payload, stripped signature, alg=none, HS256 with the public key.
    let parts: Vec<&str> = at.split('.').collect();
    let forged_payload = encode_b64_json(&with("roles", json!(["Owner"])));
    assert_rejected(
        &app,
        &format!("{}.{}.{}", parts[0], forged_payload, parts[2]),
        "tampered",
    )
    .await;
    assert_rejected(&app, &format!("{}.{}.", parts[0], parts[1]), "no signature").await;
    let kid = header(at)["kid"].clone();
    assert_rejected(
        &app,
        &format!(
            "{}.{}.",
            encode_b64_json(&json!({"alg": "none", "kid": kid})),
            parts[1]
        ),
        "alg none",
    )
    .await;
    assert_rejected(
        &app,
        &format!(
            "{}.{}.{}",
            encode_b64_json(&json!({"alg": "HS256", "kid": kid})),
            parts[1],
            parts[2]
        ),
        "HS256",
    )
    .await;
    assert_rejected(
        &app,
        &format!(
            "{}.{}.{}",
            encode_b64_json(&json!({"alg": "RS256", "kid": "unknown"})),
            parts[1],
            parts[2]
        ),
        "unknown kid",
    )
    .await;
    assert_rejected(
        &app,
        &format!(
            "{}.{}.{}",
            encode_b64_json(&json!({"alg": "RS256"})),
            parts[1],
            parts[2]
        ),
        "no kid",
    )
    .await;
    assert_rejected(&app, "not-a-jwt", "garbage").await;
}

on_every_backend!(verify_rejects_tokens_of_another_localidp);
async fn verify_rejects_tokens_of_another_localidp(backend: Backend) {
    let app = spawn_app(&backend).await;
    let other = spawn_app(&backend).await;
    let foreign = other.alice_tokens("openid").await;
    assert_rejected(
        &app,
        foreign["access_token"].as_str().unwrap(),
        "other instance's key",
    )
    .await;
}

on_every_backend!(verify_without_or_with_malformed_authorization);
async fn verify_without_or_with_malformed_authorization(backend: Backend) {
    let app = spawn_app(&backend).await;
    let res = app.http.get(app.url("/auth/verify")).send().await.unwrap();
    assert_eq!(res.status(), 401);
    let challenge = res.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(challenge, r#"Bearer realm="localidp""#);
    let res = app
        .http
        .get(app.url("/auth/verify"))
        .header("authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}
