use crate::helpers::*;
use serde_json::Value;

on_every_backend!(password_grant_issues_entra_shaped_tokens);
async fn password_grant_issues_entra_shaped_tokens(backend: Backend) {
    let app = spawn_app(&backend).await;
    let body = app.alice_tokens("openid profile offline_access").await;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["ext_expires_in"], 3600);
    assert_eq!(body["scope"], "openid profile offline_access");
    assert!(body["refresh_token"].as_str().unwrap().len() >= 43);

    let at = body["access_token"].as_str().unwrap();
    let h = header(at);
    assert_eq!(h["alg"], "RS256");
    assert_eq!(h["typ"], "JWT");
    assert!(h["kid"].as_str().unwrap().len() == 43);
    let c = claims(at);
    assert_eq!(c["iss"], format!("{PUBLIC_URL}/{CONTOSO_ID}/v2.0"));
    assert_eq!(c["aud"], WEB_APP);
    assert_eq!(c["sub"], ALICE_OID);
    assert_eq!(c["oid"], ALICE_OID);
    assert_eq!(c["tid"], CONTOSO_ID);
    assert_eq!(c["azp"], WEB_APP);
    assert_eq!(c["azpacr"], "1");
    assert_eq!(c["ver"], "2.0");
    assert_eq!(c["email"], ALICE);
    assert_eq!(c["preferred_username"], ALICE);
    assert_eq!(c["name"], "Alice Smith");
    assert_eq!(c["given_name"], "Alice");
    assert_eq!(c["roles"], serde_json::json!(["Admin", "Tasks.Write"]));
    assert_eq!(c["groups"].as_array().unwrap().len(), 2);
    assert_eq!(c["scp"], "openid profile");
    assert_eq!(
        c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(),
        3600
    );
    assert_eq!(c["nbf"], c["iat"]);
    assert!(c["uti"].is_string() && c["jti"].is_string());

    let id = claims(body["id_token"].as_str().unwrap());
    assert_eq!(id["aud"], WEB_APP);
    assert_eq!(id["sub"], ALICE_OID);
    assert_eq!(id["email"], ALICE);
    assert!(id.get("azp").is_none());
}

on_every_backend!(public_client_password_grant_and_resource_scopes);
async fn public_client_password_grant_and_resource_scopes(backend: Backend) {
    let app = spawn_app(&backend).await;
    let res = app
        .token(&[
            ("grant_type", "password"),
            ("client_id", PUBLIC_APP),
            ("username", "ALICE@Contoso.com"),
            ("password", ALICE_PASSWORD),
            (
                "scope",
                &format!("api://{API_APP}/Tasks.Read api://{API_APP}/Tasks.Write"),
            ),
        ])
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert!(
        body.get("refresh_token").is_none(),
        "no offline_access, no refresh token"
    );
    assert!(body.get("id_token").is_none(), "no openid, no id token");
    let c = claims(body["access_token"].as_str().unwrap());
    assert_eq!(c["aud"], API_APP);
    assert_eq!(c["azp"], PUBLIC_APP);
    assert_eq!(c["azpacr"], "0");
    assert_eq!(c["scp"], "Tasks.Read Tasks.Write");
    assert_eq!(c["oid"], ALICE_OID);
}

on_every_backend!(wrong_password_unknown_user_and_disabled_user_are_invalid_grant);
async fn wrong_password_unknown_user_and_disabled_user_are_invalid_grant(backend: Backend) {
    let app = spawn_app(&backend).await;
    for (user, pw) in [
        (ALICE, "not-her-password"),
        ("nobody@contoso.com", "whatever"),
        ("bob@contoso.com", "bob-password"),
        // A user of another tenant does not exist here.
        ("erin@fabrikam.com", "erin-password"),
    ] {
        let res = app
            .token(&[
                ("grant_type", "password"),
                ("client_id", PUBLIC_APP),
                ("username", user),
                ("password", pw),
            ])
            .await;
        assert_oauth_error(res, 400, "invalid_grant").await;
    }
}

on_every_backend!(missing_parameters_are_invalid_request);
async fn missing_parameters_are_invalid_request(backend: Backend) {
    let app = spawn_app(&backend).await;
    let res = app
        .token(&[
            ("grant_type", "password"),
            ("client_id", PUBLIC_APP),
            ("username", ALICE),
        ])
        .await;
    let d = assert_oauth_error(res, 400, "invalid_request").await;
    assert!(d.contains("password"), "{d}");
    let res = app.token(&[("client_id", PUBLIC_APP)]).await;
    let d = assert_oauth_error(res, 400, "invalid_request").await;
    assert!(d.contains("grant_type"), "{d}");
    // Entra's path requires a client (on /auth/token the default client signs in:
    // tests/api/password_forms.rs).
    let res = app
        .tenant_token(
            CONTOSO_ID,
            &[
                ("grant_type", "password"),
                ("username", ALICE),
                ("password", ALICE_PASSWORD),
            ],
        )
        .await;
    let d = assert_oauth_error(res, 400, "invalid_request").await;
    assert!(d.contains("client_id"), "{d}");
}

on_every_backend!(unsupported_grant_and_bad_scopes);
async fn unsupported_grant_and_bad_scopes(backend: Backend) {
    let app = spawn_app(&backend).await;
    let res = app
        .token(&[
            ("grant_type", "urn:example:magic"),
            ("client_id", PUBLIC_APP),
        ])
        .await;
    assert_oauth_error(res, 400, "unsupported_grant_type").await;

    for scope in [
        "api://not-registered/read",
        &format!("api://{API_APP}/read api://{WEB_APP}/read"),
        "bad\\scope",
        // A resource of another tenant is unknown here.
        &format!("api://{FABRIKAM_APP}/read"),
    ] {
        let res = app
            .token(&[
                ("grant_type", "password"),
                ("client_id", PUBLIC_APP),
                ("username", ALICE),
                ("password", ALICE_PASSWORD),
                ("scope", scope),
            ])
            .await;
        assert_oauth_error(res, 400, "invalid_scope").await;
    }
}

on_every_backend!(client_not_allowed_the_grant_is_unauthorized_client);
async fn client_not_allowed_the_grant_is_unauthorized_client(backend: Backend) {
    let app = spawn_app(&backend).await;
    let res = app
        .token(&[
            ("grant_type", "password"),
            ("client_id", DAEMON_ONLY),
            ("client_secret", DAEMON_SECRET),
            ("username", ALICE),
            ("password", ALICE_PASSWORD),
        ])
        .await;
    assert_oauth_error(res, 400, "unauthorized_client").await;
}

on_every_backend!(bcrypt_hashes_verify_and_are_rehashed_to_argon2id);
async fn bcrypt_hashes_verify_and_are_rehashed_to_argon2id(backend: Backend) {
    use diesel::prelude::*;
    use localidp::db::schema::users;
    let app = spawn_app(&backend).await;
    let stored = |email: &'static str| {
        let state = app.state.clone();
        async move {
            state
                .db(move |c| {
                    Ok(users::table
                        .filter(users::email.eq(email))
                        .select(users::password_hash)
                        .first::<Option<String>>(c)?)
                })
                .await
                .unwrap()
                .unwrap()
        }
    };
    assert!(stored("carol@contoso.com").await.starts_with("$2b$"));
    assert!(stored("dave@contoso.com").await.starts_with("$2y$"));

    for (email, pw) in [
        ("carol@contoso.com", CAROL_PASSWORD),
        ("dave@contoso.com", DAVE_PASSWORD),
    ] {
        // A wrong password does not touch the stored hash.
        let res = app
            .token(&[
                ("grant_type", "password"),
                ("client_id", PUBLIC_APP),
                ("username", email),
                ("password", "nope"),
            ])
            .await;
        assert_oauth_error(res, 400, "invalid_grant").await;
        assert!(stored(email).await.starts_with("$2"));

        let res = app
            .token(&[
                ("grant_type", "password"),
                ("client_id", PUBLIC_APP),
                ("username", email),
                ("password", pw),
            ])
            .await;
        assert_eq!(res.status(), 200);
        let upgraded = stored(email).await;
        assert!(
            upgraded.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{upgraded}"
        );

        // The new hash still signs the user in; the old password keeps working.
        let res = app
            .token(&[
                ("grant_type", "password"),
                ("client_id", PUBLIC_APP),
                ("username", email),
                ("password", pw),
            ])
            .await;
        assert_eq!(res.status(), 200);
        assert_eq!(stored(email).await, upgraded, "no second re-hash");
    }
}

on_every_backend!(tenant_path_token_endpoint_is_bound_to_its_tenant);
async fn tenant_path_token_endpoint_is_bound_to_its_tenant(backend: Backend) {
    let app = spawn_app(&backend).await;
    let res = app
        .tenant_token(
            "FABRIKAM.onmicrosoft.com",
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
    assert_eq!(c["tid"], FABRIKAM_ID);
    assert_eq!(c["iss"], format!("{PUBLIC_URL}/{FABRIKAM_ID}/v2.0"));

    // A contoso client cannot get tokens from the fabrikam endpoint.
    let res = app
        .tenant_token(
            FABRIKAM_ID,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", WEB_APP),
                ("client_secret", WEB_APP_SECRET),
            ],
        )
        .await;
    assert_oauth_error(res, 401, "invalid_client").await;

    let res = app
        .tenant_token("no-such-tenant", &[("grant_type", "client_credentials")])
        .await;
    assert_oauth_error(res, 400, "invalid_request").await;
}
