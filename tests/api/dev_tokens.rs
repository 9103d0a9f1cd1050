//! `POST /_dev/token` and `localidp token mint`: tokens for tests, as the password grant
//! issues them or wrong in one way; and no /_dev endpoints without `--dev`.

use std::process::Command;

use serde_json::{Value, json};

use crate::helpers::{
    ALICE, ALICE_OID, ALICE_PASSWORD, API_APP, Backend, CONTOSO_ID, PUBLIC_URL, TestApp, WEB_APP,
    assert_oauth_error, claims, header, on_every_backend, spawn_app, spawn_dev_app,
};

const VARIANTS: [&str; 6] = localidp::oauth::mint::Variant::HOSTILE;

/// The claims that differ between two issues of the same token.
fn stable(mut c: Value) -> Value {
    for k in ["jti", "uti", "aio", "rh", "at_hash"] {
        c.as_object_mut().unwrap().remove(k);
    }
    c
}

async fn verify_status(app: &TestApp, token: &str) -> u16 {
    app.verify(token).await.status().as_u16()
}

on_every_backend!(
    every_hostile_variant_is_refused_while_the_valid_token_passes,
    a_minted_token_is_what_the_password_grant_gives,
    overrides_and_extra_claims_are_applied,
    unknown_user_tenant_client_or_variant_is_a_400,
    the_cli_mints_tokens_the_server_accepts_or_refuses,
);

async fn every_hostile_variant_is_refused_while_the_valid_token_passes(backend: Backend) {
    let app = spawn_dev_app(&backend).await;
    for flavour in [
        json!({"flavour": "entra"}),
        json!({"flavour": "b2c", "policy": "B2C_1_ROPC"}),
    ] {
        let mut body = json!({"user": ALICE});
        body.as_object_mut()
            .unwrap()
            .extend(flavour.as_object().unwrap().clone());
        let valid = app.minted(body.clone()).await;
        let token = valid["access_token"].as_str().unwrap();
        assert_eq!(verify_status(&app, token).await, 200, "valid {flavour}");
        for variant in VARIANTS {
            body["variant"] = json!(variant);
            let minted = app.minted(body.clone()).await;
            let token = minted["access_token"].as_str().unwrap();
            assert_eq!(
                verify_status(&app, token).await,
                401,
                "{variant} {flavour} must be refused"
            );
        }
    }
    // The hostile variants are wrong in the way named.
    let minted = |variant: &'static str| {
        let app = &app;
        async move {
            let m = app.minted(json!({"user": ALICE, "variant": variant})).await;
            m["access_token"].as_str().unwrap().to_owned()
        }
    };
    let now = app.now();
    assert!(claims(&minted("expired").await)["exp"].as_i64().unwrap() < now - 60);
    assert!(
        claims(&minted("not_yet_valid").await)["nbf"]
            .as_i64()
            .unwrap()
            > now + 60
    );
    assert_ne!(claims(&minted("wrong_audience").await)["aud"], WEB_APP);
    assert!(
        !claims(&minted("wrong_issuer").await)["iss"]
            .as_str()
            .unwrap()
            .starts_with(PUBLIC_URL)
    );
    let foreign = minted("foreign_key").await;
    let jwks = app.get_json("/.well-known/jwks.json").await;
    let kids: Vec<&Value> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| &k["kid"])
        .collect();
    assert!(!kids.contains(&&header(&foreign)["kid"]));
    let none = minted("alg_none").await;
    assert_eq!(header(&none)["alg"], "none");
    assert!(none.ends_with('.'));
}

async fn a_minted_token_is_what_the_password_grant_gives(backend: Backend) {
    let app = spawn_dev_app(&backend).await;
    for scope in [
        "openid profile",
        &format!("openid api://{API_APP}/.default"),
    ] {
        let granted = app.alice_tokens(scope).await;
        let minted = app
            .minted(json!({"user": ALICE, "client_id": WEB_APP, "scope": scope}))
            .await;
        for kind in ["access_token", "id_token"] {
            let g = stable(claims(granted[kind].as_str().unwrap()));
            let m = stable(claims(minted[kind].as_str().unwrap()));
            assert_eq!(g, m, "{kind} for {scope}");
        }
        assert_eq!(minted["token_type"], "Bearer");
        assert_eq!(minted["expires_in"], granted["expires_in"]);
    }
    // By oid, through B2C: the B2C shape (tfp, no roles).
    let b2c = app
        .minted(json!({"oid": ALICE_OID, "flavour": "b2c", "policy": "B2C_1_ROPC", "kind": "id"}))
        .await;
    assert!(b2c.get("access_token").is_none());
    let id = claims(b2c["id_token"].as_str().unwrap());
    assert_eq!(id["tfp"], "B2C_1_ROPC");
    assert_eq!(id["sub"], ALICE_OID);
    let b2c_grant = app
        .tenant_token(
            "contoso.onmicrosoft.com/B2C_1_ROPC",
            &[
                ("grant_type", "password"),
                ("client_id", WEB_APP),
                ("client_secret", crate::helpers::WEB_APP_SECRET),
                ("username", ALICE),
                ("password", ALICE_PASSWORD),
                ("scope", "openid"),
            ],
        )
        .await;
    assert_eq!(b2c_grant.status(), 200);
    let b2c_grant: Value = b2c_grant.json().await.unwrap();
    let granted_id = claims(b2c_grant["id_token"].as_str().unwrap());
    assert_eq!(id["iss"], granted_id["iss"]);
    // Without a user: the client's app-only token.
    let app_only = app.minted(json!({"client_id": WEB_APP})).await;
    let c = claims(app_only["access_token"].as_str().unwrap());
    assert_eq!(c["idtyp"], "app");
    assert_eq!(c["sub"], c["oid"]);
    assert!(app_only.get("id_token").is_none());
    assert_eq!(
        verify_status(&app, app_only["access_token"].as_str().unwrap()).await,
        200
    );
}

async fn overrides_and_extra_claims_are_applied(backend: Backend) {
    let app = spawn_dev_app(&backend).await;
    let now = app.now();
    let minted = app
        .minted(json!({
            "user": ALICE,
            "lifetime": 120,
            "nbf_offset": -30,
            "audience": API_APP,
            "issuer": "https://elsewhere.example/v2.0",
            "claims": {"roles": ["Custom"], "extra": {"a": 1}},
        }))
        .await;
    assert_eq!(minted["expires_in"], 120);
    let c = claims(minted["access_token"].as_str().unwrap());
    assert_eq!(c["exp"], now + 120);
    assert_eq!(c["nbf"], now - 30);
    assert_eq!(c["aud"], API_APP);
    assert_eq!(c["iss"], "https://elsewhere.example/v2.0");
    assert_eq!(c["roles"], json!(["Custom"]));
    assert_eq!(c["extra"], json!({"a": 1}));
    let id = claims(minted["id_token"].as_str().unwrap());
    assert_eq!(id["aud"], WEB_APP, "audience is the access token's");
    assert_eq!(id["extra"], json!({"a": 1}));
    assert_eq!(
        id["at_hash"],
        localidp::oauth::issue::half_hash(minted["access_token"].as_str().unwrap())
    );
    // Extra claims on a valid token verify, and /auth/verify shows the roles given.
    let minted = app
        .minted(json!({"user": ALICE, "claims": {"roles": ["Tasks.Read"]}}))
        .await;
    let res = app.verify(minted["access_token"].as_str().unwrap()).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["roles"], json!(["Tasks.Read"]));
    // A lifetime runs on the server's clock.
    let short = app.minted(json!({"user": ALICE, "lifetime": 300})).await;
    let token = short["access_token"].as_str().unwrap();
    assert_eq!(verify_status(&app, token).await, 200);
    app.advance(std::time::Duration::from_secs(300 + 3600));
    assert_eq!(verify_status(&app, token).await, 401);
}

async fn unknown_user_tenant_client_or_variant_is_a_400(backend: Backend) {
    let app = spawn_dev_app(&backend).await;
    for body in [
        json!({"user": "nobody@contoso.com"}),
        json!({"oid": "00000000-0000-4000-8000-00000000beef"}),
        json!({"user": ALICE, "tenant": "nowhere.onmicrosoft.com"}),
        json!({"user": ALICE, "client_id": "00000000-0000-4000-8000-00000000beef"}),
        json!({"user": ALICE, "variant": "sneaky"}),
        json!({"user": ALICE, "kind": "refresh"}),
        json!({"user": ALICE, "flavour": "saml"}),
        json!({"user": ALICE, "flavour": "b2c", "policy": "B2C_1_nope"}),
        json!({"kind": "id"}),
    ] {
        let res = app.mint(&body).await;
        assert_eq!(res.status(), 400, "{body}");
        let err: Value = res.json().await.unwrap();
        assert!(err["error"].is_string(), "{body}: {err}");
        assert!(err["error_description"].is_string(), "{body}: {err}");
    }
    // A field of another name is a body of the wrong shape, as for every JSON body.
    let res = app.mint(&json!({"user": ALICE, "unknown_field": 1})).await;
    assert_eq!(res.status(), 422);
    // A user of another tenant is unknown in this one.
    let res = app
        .mint(&json!({"user": "erin@fabrikam.com", "tenant": CONTOSO_ID}))
        .await;
    assert_oauth_error(res, 400, "invalid_request").await;
}

#[tokio::test]
async fn dev_endpoints_answer_404_without_the_flag() {
    let app = spawn_app(&Backend::Sqlite).await;
    assert!(!app.settings.dev);
    assert_eq!(app.mint(&json!({"user": ALICE})).await.status(), 404);
    for method in [reqwest::Method::GET, reqwest::Method::DELETE] {
        let res = app
            .http
            .request(method.clone(), app.url("/_dev/requests"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{method} /_dev/requests");
    }
}

#[test]
fn ephemeral_implies_the_dev_endpoints_and_the_flag_turns_them_on() {
    use localidp::config::{ConfigArgs, Settings};
    let plain = Settings::from_args(ConfigArgs::default()).unwrap();
    assert!(!plain.dev);
    let ephemeral = Settings::from_args(ConfigArgs {
        ephemeral: true,
        ..Default::default()
    })
    .unwrap();
    assert!(ephemeral.dev);
    let dev = Settings::from_args(ConfigArgs::default().over(ConfigArgs {
        dev: Some(true),
        ..Default::default()
    }))
    .unwrap();
    assert!(dev.dev);
    let flag = Settings::from_args(
        ConfigArgs {
            dev_flag: true,
            ..Default::default()
        }
        .over(ConfigArgs::default()),
    )
    .unwrap();
    assert!(flag.dev);
}

/// `localidp token mint ARGS` on the test server's database and keys.
fn cli_mint(app: &TestApp, args: &[&str]) -> (bool, String, String) {
    let database_url = match &app.settings.database {
        localidp::db::DatabaseTarget::Postgres(url) => url.clone(),
        localidp::db::DatabaseTarget::SqliteFile(path) => format!("sqlite://{path}"),
        localidp::db::DatabaseTarget::SqliteMemory => unreachable!(),
    };
    let out = Command::new(env!("CARGO_BIN_EXE_localidp"))
        .args(["--database-url", &database_url])
        .args(["--keys-dir", &app.settings.keys_dir.display().to_string()])
        .args(["token", "mint", "--public-url", PUBLIC_URL])
        .args(args)
        .env("LOCALIDP_LOG", "warn")
        .env("LOCALIDP_DEFAULT_TENANT", "contoso.onmicrosoft.com")
        .output()
        .expect("run localidp");
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap().trim().to_owned(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

async fn the_cli_mints_tokens_the_server_accepts_or_refuses(backend: Backend) {
    let app = spawn_dev_app(&backend).await;
    app.catch_up_with_system_clock();
    let (ok, token, err) = cli_mint(
        &app,
        &[
            "--user",
            ALICE,
            "--claim",
            "roles=[\"X\"]",
            "--claim",
            "note=hi",
        ],
    );
    assert!(ok, "{err}");
    let c = claims(&token);
    assert_eq!(c["oid"], ALICE_OID);
    assert_eq!(c["roles"], json!(["X"]));
    assert_eq!(c["note"], "hi");
    assert_eq!(verify_status(&app, &token).await, 200);
    let granted = app.alice_tokens("openid profile").await;
    let g = stable(claims(granted["access_token"].as_str().unwrap()));
    let (ok, token, err) = cli_mint(&app, &["--user", ALICE, "--client", WEB_APP]);
    assert!(ok, "{err}");
    let mut m = stable(claims(&token));
    let mut g = g;
    for k in ["iat", "nbf", "exp"] {
        m.as_object_mut().unwrap().remove(k);
        g.as_object_mut().unwrap().remove(k);
    }
    assert_eq!(m, g, "the CLI mints what the password grant gives");
    for variant in VARIANTS {
        let (ok, token, err) = cli_mint(&app, &["--user", ALICE, "--variant", variant]);
        assert!(ok, "{variant}: {err}");
        assert_eq!(verify_status(&app, &token).await, 401, "{variant}");
    }
    let (ok, out, err) = cli_mint(&app, &["--oid", ALICE_OID, "--json", "--id-token"]);
    assert!(ok, "{err}");
    let answer: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(answer["token_type"], "Bearer");
    assert_eq!(
        claims(answer["id_token"].as_str().unwrap())["oid"],
        ALICE_OID
    );
    let (ok, id, _) = cli_mint(&app, &["--user", ALICE, "--id-token"]);
    assert!(ok);
    assert_eq!(claims(&id)["aud"], WEB_APP);
    let (ok, _, err) = cli_mint(&app, &["--user", "nobody@contoso.com"]);
    assert!(!ok);
    assert!(err.contains("nobody@contoso.com"), "{err}");
    let (ok, _, err) = cli_mint(&app, &["--user", ALICE, "--claim", "novalue"]);
    assert!(!ok);
    assert!(err.contains("NAME=VALUE"), "{err}");
}
