//! Keys, users and tokens survive a restart; key rotation keeps old tokens valid.
//! Ephemeral mode is SQLite in memory by definition, so its test runs once.

use crate::helpers::*;
use serde_json::Value;

on_every_backend!(restart_keeps_keys_users_and_tokens);
async fn restart_keeps_keys_users_and_tokens(backend: Backend) {
    let app = spawn_app(&backend).await;
    let before = app.alice_tokens("openid offline_access").await;
    let jwks_before: Value = app.get_json("/.well-known/jwks.json").await;
    let (settings, dir) = app.stop().await;

    let app = spawn_with(settings, dir).await;
    let jwks_after: Value = app.get_json("/.well-known/jwks.json").await;
    assert_eq!(
        jwks_before, jwks_after,
        "{backend:?}: same keys after restart"
    );
    assert_eq!(
        app.verify(before["access_token"].as_str().unwrap())
            .await
            .status(),
        200,
        "{backend:?}: a token from before the restart verifies"
    );
    let res = app
        .token(&[
            ("grant_type", "refresh_token"),
            ("client_id", WEB_APP),
            ("client_secret", WEB_APP_SECRET),
            ("refresh_token", before["refresh_token"].as_str().unwrap()),
        ])
        .await;
    assert_eq!(res.status(), 200, "{backend:?}: refresh token survives");
    // The seed ran again and changed nothing; the user signs in as before.
    let again = app.alice_tokens("openid").await;
    assert_eq!(
        claims(again["access_token"].as_str().unwrap())["oid"],
        ALICE_OID
    );
    let count = app.state.db(localidp::db::users::count).await.unwrap();
    assert_eq!(count, 5, "{backend:?}: no duplicate users after re-seeding");
}

on_every_backend!(key_rotation_keeps_old_tokens_valid);
async fn key_rotation_keeps_old_tokens_valid(backend: Backend) {
    let app = spawn_app(&backend).await;
    let old = app.alice_tokens("openid").await;
    let old_at = old["access_token"].as_str().unwrap().to_owned();
    let old_kid = header(&old_at)["kid"].clone();
    let (settings, dir) = app.stop().await;

    // What `localidp keys rotate` does, against the same storage.
    let pool = localidp::db::connect(&settings.database, 1).unwrap();
    let mut conn = pool.get().unwrap();
    let new_kid = settings
        .key_store()
        .create_active(&mut conn, localidp::clock::Clock::system().now(), 0)
        .unwrap();
    drop(conn);
    assert_ne!(Value::from(new_kid.clone()), old_kid);

    let app = spawn_with(settings, dir).await;
    let jwks: Value = app.get_json("/.well-known/jwks.json").await;
    let kids: Vec<&Value> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| &k["kid"])
        .collect();
    assert_eq!(
        kids,
        vec![&Value::from(new_kid.clone()), &old_kid],
        "{backend:?}: new key first, old still published"
    );
    assert_eq!(
        app.verify(&old_at).await.status(),
        200,
        "{backend:?}: old token verifies"
    );
    let new = app.alice_tokens("openid").await;
    let new_at = new["access_token"].as_str().unwrap();
    assert_eq!(
        header(new_at)["kid"],
        Value::from(new_kid),
        "{backend:?}: new tokens use the new key"
    );
    assert_eq!(app.verify(new_at).await.status(), 200);
}

on_every_backend!(running_server_picks_up_a_rotation_on_unknown_kid);
async fn running_server_picks_up_a_rotation_on_unknown_kid(backend: Backend) {
    let app = spawn_app(&backend).await;
    let old = app.alice_tokens("openid").await;
    // Rotate behind the running server's back (another replica, or the CLI).
    let store = app.settings.key_store();
    let now = app.now();
    let new_kid = app
        .state
        .db(move |c| {
            store
                .create_active(c, now, 0)
                .map_err(|e| localidp::db::DbError::Unavailable(e.to_string()))
        })
        .await
        .unwrap();
    // Simulate a token signed elsewhere with the new key.
    app.state.keys.reload(false).await.unwrap();
    let new = app.alice_tokens("openid").await;
    assert_eq!(
        header(new["access_token"].as_str().unwrap())["kid"],
        Value::from(new_kid)
    );
    assert_eq!(
        app.verify(old["access_token"].as_str().unwrap())
            .await
            .status(),
        200
    );
    assert_eq!(
        app.verify(new["access_token"].as_str().unwrap())
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn ephemeral_server_writes_nothing_to_disk() {
    let dir = tempfile::tempdir().unwrap();
    let keys_dir = dir.path().join("keys");
    let settings = localidp::Settings::from_args(localidp::ConfigArgs {
        host: Some("127.0.0.1".into()),
        port: Some(0),
        ephemeral: true,
        keys_dir: Some(keys_dir.clone()),
        database_url: Some(format!(
            "sqlite://{}",
            dir.path().join("db.sqlite").display()
        )),
        ..Default::default()
    })
    .unwrap();
    let (_, fixture) = test_fixture(&Backend::Sqlite);
    let app = spawn_with(settings, fixture).await;
    let res = app
        .http
        .post(app.url("/auth/login"))
        .json(&serde_json::json!({
            "email": localidp::directory::bootstrap::DEMO_EMAIL,
            "password": localidp::directory::bootstrap::DEMO_PASSWORD,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the demo user exists");
    let token = res.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(app.verify(&token).await.status(), 200);
    assert!(!keys_dir.exists(), "no key files");
    assert!(!dir.path().join("db.sqlite").exists(), "no database file");
}

on_every_backend!(a_seeds_first_tenant_is_the_default);
async fn a_seeds_first_tenant_is_the_default(backend: Backend) {
    let (mut settings, fixture) = test_fixture(&backend);
    let seed = settings.seed.clone().unwrap();
    std::fs::write(
        &seed,
        r#"
[[tenants]]
name = "zeta.onmicrosoft.com"
id = "ffffffff-0000-4000-8000-000000000000"
[[tenants]]
name = "alpha.onmicrosoft.com"
id = "00000000-1111-4000-8000-000000000000"
[[clients]]
client_id = "zeta-app"
public = true
"#,
    )
    .unwrap();
    settings.default_tenant = None;
    let app = spawn_with(settings, fixture).await;
    let doc: Value = app.get_json("/.well-known/openid-configuration").await;
    assert_eq!(doc["tenant_id"], "ffffffff-0000-4000-8000-000000000000");
    // Names that cannot be tenants are not looked up (nor cached).
    let junk = "x".repeat(300);
    assert!(app.state.directory.tenant(&junk).await.unwrap().is_none());
    let res = app
        .http
        .get(app.url(&format!("/{junk}/v2.0/.well-known/openid-configuration")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}
