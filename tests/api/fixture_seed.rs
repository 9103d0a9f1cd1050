//! `serve --ephemeral --seed FILE`: the seed's passwords get fast fixture hashes that
//! sign in at once; a persistent server stores argon2id and refuses fixture hashes.

use localidp::db::DatabaseTarget;
use serde_json::Value;

use crate::helpers::*;

/// Users the ephemeral tests add to the standard seed.
const EXTRA_USERS: usize = 200;

fn extra_user(i: usize) -> (String, String) {
    (format!("fixture{i}@contoso.com"), format!("Fixture-pw-{i}"))
}

async fn stored_hash(app: &TestApp, name: &'static str) -> String {
    app.state
        .db(move |c| {
            Ok(
                localidp::db::users::find_by_sign_in_name(c, CONTOSO_ID, name)?
                    .and_then(|u| u.password_hash)
                    .expect("a user with a password"),
            )
        })
        .await
        .unwrap()
}

async fn password_grant(app: &TestApp, user: &str, password: &str) -> reqwest::Response {
    app.token(&[
        ("grant_type", "password"),
        ("client_id", WEB_APP),
        ("client_secret", WEB_APP_SECRET),
        ("username", user),
        ("password", password),
        ("scope", "openid"),
    ])
    .await
}

/// The standard seed plus [`EXTRA_USERS`] users, on an ephemeral server.
async fn spawn_ephemeral_seeded() -> TestApp {
    let (mut settings, fixture) = test_fixture(&Backend::Sqlite);
    settings.ephemeral = true;
    settings.database = DatabaseTarget::SqliteMemory;
    settings.keys_in_database = true;
    let mut seed = seed_toml();
    for i in 0..EXTRA_USERS {
        let (email, password) = extra_user(i);
        seed.push_str(&format!(
            "\n[[users]]\nemail = \"{email}\"\npassword = \"{password}\"\ntenant = \"{CONTOSO_ID}\"\n"
        ));
    }
    std::fs::write(settings.seed.as_ref().unwrap(), seed).unwrap();
    spawn_with(settings, fixture).await
}

#[tokio::test]
async fn an_ephemeral_servers_seeded_users_sign_in_from_the_first_request() {
    let app = spawn_ephemeral_seeded().await;
    // Every seeded user at once, each with their own password.
    let mut attempts = tokio::task::JoinSet::new();
    for i in 0..EXTRA_USERS {
        let (http, url) = (app.http.clone(), app.url("/auth/token"));
        attempts.spawn(async move {
            let (email, password) = extra_user(i);
            let form = [
                ("grant_type", "password"),
                ("client_id", WEB_APP),
                ("client_secret", WEB_APP_SECRET),
                ("username", email.as_str()),
                ("password", password.as_str()),
                ("scope", "openid"),
            ];
            let res = http.post(url).form(&form).send().await.unwrap();
            (
                email,
                res.status().as_u16(),
                res.json::<Value>().await.unwrap(),
            )
        });
    }
    while let Some(done) = attempts.join_next().await {
        let (email, status, body) = done.unwrap();
        assert_eq!(status, 200, "{email}: {body}");
        assert!(body["access_token"].is_string(), "{email}: {body}");
    }
    assert_eq!(
        password_grant(&app, ALICE, ALICE_PASSWORD).await.status(),
        200
    );
    // Stored as fixture hashes, and they stay so after a sign-in.
    let hash = stored_hash(&app, "fixture7@contoso.com").await;
    assert!(hash.starts_with("$localidp-fixture$v=1$"), "{hash}");
    assert!(
        stored_hash(&app, ALICE)
            .await
            .starts_with("$localidp-fixture$")
    );
}

#[tokio::test]
async fn an_ephemeral_server_refuses_a_wrong_password_of_a_seeded_user() {
    let app = spawn_ephemeral_seeded().await;
    let (email, password) = extra_user(3);
    let (other, _) = extra_user(4);
    for (user, pw) in [
        (email.as_str(), "Fixture-pw-4"),
        (other.as_str(), password.as_str()),
        (ALICE, "alice-passwort"),
    ] {
        let res = password_grant(&app, user, pw).await;
        assert_oauth_error(res, 400, "invalid_grant").await;
    }
    // Imported hashes in the seed stay as they were, and still sign in.
    assert!(
        stored_hash(&app, "carol@contoso.com")
            .await
            .starts_with("$2")
    );
    assert_eq!(
        password_grant(&app, "carol@contoso.com", CAROL_PASSWORD)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn a_password_set_on_an_ephemeral_server_after_the_seed_is_argon2id() {
    let app = spawn_ephemeral_seeded().await;
    app.add_user("later@contoso.com", "1a7e0000-0000-4000-8000-000000000001")
        .await;
    assert!(
        stored_hash(&app, "later@contoso.com")
            .await
            .starts_with("$argon2id$")
    );
    assert_eq!(
        password_grant(&app, "later@contoso.com", OWN_PASSWORD)
            .await
            .status(),
        200
    );
}

on_every_backend!(a_persistent_server_stores_argon2id_and_refuses_a_planted_fixture_hash);
async fn a_persistent_server_stores_argon2id_and_refuses_a_planted_fixture_hash(backend: Backend) {
    let app = spawn_app(&backend).await;
    let seeded = stored_hash(&app, ALICE).await;
    assert!(seeded.starts_with("$argon2id$"), "{seeded}");
    // A fixture hash put into the database by hand never signs anyone in here.
    let planted = localidp::crypto::fixture_hash::hash(b"planted-password").unwrap();
    let now = app.now();
    app.state
        .db(move |c| {
            let user = localidp::db::users::find_by_sign_in_name(c, CONTOSO_ID, ALICE)?.unwrap();
            localidp::db::users::set_password_hash(c, &user.id, &planted, false, now)?;
            Ok(())
        })
        .await
        .unwrap();
    for pw in ["planted-password", ALICE_PASSWORD] {
        let res = password_grant(&app, ALICE, pw).await;
        assert_oauth_error(res, 400, "invalid_grant").await;
    }
}

#[tokio::test]
async fn a_seed_file_in_json_gives_the_same_directory_as_toml() {
    let (mut settings, fixture) = test_fixture(&Backend::Sqlite);
    settings.ephemeral = true;
    settings.database = DatabaseTarget::SqliteMemory;
    let seed = serde_json::json!({
        "tenants": [{"name": "contoso.onmicrosoft.com", "id": CONTOSO_ID}],
        "clients": [{"client_id": "json-app", "public": true}],
        "users": [{"email": "jo@contoso.com", "password": "Jo-password-1", "roles": ["Reader"]}]
    });
    let path = settings.seed.as_ref().unwrap().with_extension("json");
    std::fs::write(&path, seed.to_string()).unwrap();
    settings.seed = Some(path.clone());
    let app = spawn_with(settings, fixture).await;
    let res = app
        .token(&[
            ("grant_type", "password"),
            ("client_id", "json-app"),
            ("username", "jo@contoso.com"),
            ("password", "Jo-password-1"),
            ("scope", "openid"),
        ])
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let claims = claims(body["access_token"].as_str().unwrap());
    assert_eq!(claims["tid"], CONTOSO_ID);
    assert_eq!(claims["roles"], serde_json::json!(["Reader"]));

    // A JSON seed with an unknown field is refused by name, as a TOML one is.
    let (mut settings, fixture) = test_fixture(&Backend::Sqlite);
    settings.ephemeral = true;
    settings.database = DatabaseTarget::SqliteMemory;
    std::fs::write(&path, r#"{"users":[{"email":"x@y.z","pasword":"p"}]}"#).unwrap();
    settings.seed = Some(path);
    let err = localidp::Application::build(settings)
        .await
        .err()
        .expect("refused");
    drop(fixture);
    assert!(err.to_string().contains("pasword"), "{err}");
}
