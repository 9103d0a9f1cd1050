//! Smart lockout: wrong passwords in a row lock an account, on every sign-in path; while
//! locked, the right password gets the same answer as a wrong one; locks end on the
//! clock and grow when they follow each other; a success resets the count; the CLI
//! unlocks; replicas on one database count together.

use std::time::Duration;

use crate::helpers::*;
use localidp::config::LockoutPolicy;
use serde_json::Value;

const ENTRA_TOKEN: &str = "/contoso.onmicrosoft.com/oauth2/v2.0/token";
const B2C_TOKEN: &str = "/contoso.onmicrosoft.com/B2C_1_ROPC/oauth2/v2.0/token";

/// A server whose accounts lock after `threshold` wrong passwords, first for 60 s.
async fn spawn_locking(backend: &Backend, threshold: u32) -> TestApp {
    let (mut settings, fixture) = test_fixture(backend);
    settings.lockout = LockoutPolicy::new(Some(threshold), Some(60), Some(3600)).unwrap();
    spawn_with(settings, fixture).await
}

fn ropc<'a>(user: &'a str, password: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "password"),
        ("client_id", PUBLIC_APP),
        ("username", user),
        ("password", password),
        ("scope", "openid"),
    ]
}

/// Status and JSON body of a password grant at `path`.
async fn sign_in_at(app: &TestApp, path: &str, user: &str, password: &str) -> (u16, Value) {
    let res = app.post_form(path, &ropc(user, password)).await;
    (res.status().as_u16(), res.json().await.unwrap())
}

/// The AADSTS code of an Entra error body (0 for a success).
fn entra_code(body: &Value) -> u64 {
    body["error_codes"][0].as_u64().unwrap_or(0)
}

/// An error body without what differs between any two answers: trace and correlation
/// ids and timestamps (as fields, and as the description's lines after the first).
fn without_ids(mut body: Value) -> Value {
    let map = body.as_object_mut().expect("JSON object");
    for field in ["trace_id", "correlation_id", "timestamp"] {
        map.remove(field);
    }
    if let Some(Value::String(d)) = map.get_mut("error_description") {
        *d = d.split("\r\n").next().unwrap_or_default().to_owned();
    }
    body
}

async fn login(app: &TestApp, email: &str, password: &str) -> (u16, Value) {
    let res = app
        .http
        .post(app.url("/auth/login"))
        .json(&serde_json::json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

on_every_backend!(ten_wrong_passwords_lock_an_account_on_the_entra_token_endpoint);
async fn ten_wrong_passwords_lock_an_account_on_the_entra_token_endpoint(backend: Backend) {
    // The default policy: Entra's ten.
    let app = spawn_app(&backend).await;
    for n in 1..10 {
        let (status, body) = sign_in_at(&app, ENTRA_TOKEN, ALICE, "wrong").await;
        assert_eq!(
            (status, entra_code(&body)),
            (400, 50126),
            "wrong password {n}"
        );
    }
    let (status, tenth) = sign_in_at(&app, ENTRA_TOKEN, ALICE, "wrong").await;
    assert_eq!((status, entra_code(&tenth)), (400, 50053), "{tenth}");
    assert_eq!(tenth["error"], "invalid_grant");
    let d = tenth["error_description"].as_str().unwrap();
    assert!(d.starts_with("AADSTS50053: The account is locked"), "{d}");

    // Locked: the right password gets exactly the answer a wrong one gets.
    let (right_status, right) = sign_in_at(&app, ENTRA_TOKEN, ALICE, ALICE_PASSWORD).await;
    let (wrong_status, wrong) = sign_in_at(&app, ENTRA_TOKEN, ALICE, "wrong").await;
    assert_eq!(right_status, wrong_status);
    assert_eq!(without_ids(right), without_ids(wrong));
    // The short endpoint agrees, and other accounts are untouched.
    let res = app
        .token(&[
            ("grant_type", "password"),
            ("client_id", PUBLIC_APP),
            ("username", ALICE),
            ("password", ALICE_PASSWORD),
        ])
        .await;
    let d = assert_oauth_error(res, 400, "invalid_grant").await;
    assert!(d.starts_with("The account is locked"), "{d}");
    let (status, _) = sign_in_at(&app, ENTRA_TOKEN, "carol@contoso.com", CAROL_PASSWORD).await;
    assert_eq!(status, 200);
}

on_every_backend!(b2c_answers_a_locked_account_with_aadb2c90114);
async fn b2c_answers_a_locked_account_with_aadb2c90114(backend: Backend) {
    let app = spawn_locking(&backend, 3).await;
    for _ in 0..2 {
        let (status, body) = sign_in_at(&app, B2C_TOKEN, ALICE, "wrong").await;
        assert_eq!(status, 400);
        let d = body["error_description"].as_str().unwrap();
        assert!(d.starts_with("AADB2C90225: "), "{d}");
    }
    let (_, third) = sign_in_at(&app, B2C_TOKEN, ALICE, "wrong").await;
    let d = third["error_description"].as_str().unwrap();
    assert!(d.starts_with("AADB2C90114: "), "{d}");
    assert!(d.contains("\r\nCorrelation ID: "), "{d}");

    let (right_status, right) = sign_in_at(&app, B2C_TOKEN, ALICE, ALICE_PASSWORD).await;
    let (wrong_status, wrong) = sign_in_at(&app, B2C_TOKEN, ALICE, "wrong").await;
    assert_eq!((right_status, wrong_status), (400, 400));
    assert_eq!(right["error"], "invalid_grant");
    assert_eq!(without_ids(right), without_ids(wrong));
}

on_every_backend!(auth_login_answers_a_locked_account_alike_for_any_password);
async fn auth_login_answers_a_locked_account_alike_for_any_password(backend: Backend) {
    let app = spawn_locking(&backend, 3).await;
    for _ in 0..2 {
        let (status, body) = login(&app, ALICE, "wrong").await;
        assert_eq!(status, 401);
        assert_eq!(
            body["error_description"],
            "The username or password is incorrect."
        );
    }
    let (status, third) = login(&app, ALICE, "wrong").await;
    assert_eq!(status, 401);
    assert_eq!(third["error"], "invalid_grant");
    assert!(
        third["error_description"]
            .as_str()
            .unwrap()
            .starts_with("The account is locked"),
        "{third}"
    );
    // Plain errors carry no ids: the answers are byte for byte the same.
    assert_eq!(
        login(&app, ALICE, ALICE_PASSWORD).await,
        (401, third.clone())
    );
    assert_eq!(login(&app, ALICE, "wrong").await, (401, third));
    // Unknown names have no lockout state, however many tries.
    for _ in 0..4 {
        let (status, body) = login(&app, "nobody@contoso.com", "wrong").await;
        assert_eq!(status, 401);
        assert_eq!(
            body["error_description"],
            "The username or password is incorrect."
        );
    }
}

on_every_backend!(the_login_form_says_the_account_is_locked);
async fn the_login_form_says_the_account_is_locked(backend: Backend) {
    let app = spawn_locking(&backend, 2).await;
    let browser = Browser::new(&app);
    let query = authorize_query(&web_request(&[]));
    let res = browser.sign_in(&query, ALICE, "wrong").await;
    assert_eq!(res.status(), 401);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("The username or password is incorrect.")
    );
    for password in ["wrong", ALICE_PASSWORD] {
        let res = browser.sign_in(&query, ALICE, password).await;
        assert_eq!(res.status(), 401, "password {password:?}");
        let html = res.text().await.unwrap();
        assert!(html.contains("The account is locked"), "{html}");
    }
}

on_every_backend!(a_lock_ends_on_time_and_the_next_one_lasts_twice_as_long);
async fn a_lock_ends_on_time_and_the_next_one_lasts_twice_as_long(backend: Backend) {
    let app = spawn_locking(&backend, 3).await;
    let code = |app: &TestApp, pw: &'static str| {
        let app_url = app.url(ENTRA_TOKEN);
        let http = app.http.clone();
        async move {
            let res = http
                .post(app_url)
                .form(&ropc(ALICE, pw))
                .send()
                .await
                .unwrap();
            let body: Value = res.json().await.unwrap();
            entra_code(&body)
        }
    };
    for _ in 0..3 {
        code(&app, "wrong").await;
    }
    app.advance(Duration::from_secs(30));
    // The right password during the lock neither unlocks nor resets anything.
    assert_eq!(code(&app, ALICE_PASSWORD).await, 50053);
    app.advance(Duration::from_secs(27));
    assert_eq!(
        code(&app, ALICE_PASSWORD).await,
        50053,
        "57 s into a 60 s lock"
    );
    app.advance(Duration::from_secs(4));
    assert_eq!(
        code(&app, ALICE_PASSWORD).await,
        0,
        "the first lock is over"
    );

    // The success reset the count: two wrong passwords do not lock again...
    for _ in 0..2 {
        assert_eq!(code(&app, "wrong").await, 50126);
    }
    assert_eq!(code(&app, ALICE_PASSWORD).await, 0);
    for _ in 0..2 {
        assert_eq!(code(&app, "wrong").await, 50126);
    }
    // ...a third does, and this second lock in a row lasts 120 s.
    assert_eq!(code(&app, "wrong").await, 50053);
    app.advance(Duration::from_secs(61));
    assert_eq!(
        code(&app, ALICE_PASSWORD).await,
        50053,
        "61 s into the second lock"
    );
    app.advance(Duration::from_secs(60));
    assert_eq!(
        code(&app, ALICE_PASSWORD).await,
        0,
        "the second lock is over"
    );
}

on_every_backend!(localidp_user_unlock_ends_a_lock);
async fn localidp_user_unlock_ends_a_lock(backend: Backend) {
    let app = spawn_locking(&backend, 2).await;
    for _ in 0..2 {
        login(&app, ALICE, "wrong").await;
    }
    assert_eq!(login(&app, ALICE, ALICE_PASSWORD).await.0, 401);
    let database_url = match &app.settings.database {
        localidp::db::DatabaseTarget::SqliteFile(path) => format!("sqlite://{path}"),
        localidp::db::DatabaseTarget::Postgres(url) => url.clone(),
        other => panic!("no CLI for {other:?}"),
    };
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_localidp"))
        .args(["--database-url", &database_url, "user", "unlock", ALICE])
        .args(["--tenant", "contoso.onmicrosoft.com"])
        .env("LOCALIDP_LOG", "warn")
        .output()
        .expect("run localidp");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.trim(), format!("{ALICE} unlocked"));
    let (status, body) = login(&app, ALICE, ALICE_PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    // The unlock also forgot the growth and the count: two more lock for 60 s again.
    for _ in 0..2 {
        login(&app, ALICE, "wrong").await;
    }
    app.advance(Duration::from_secs(61));
    assert_eq!(login(&app, ALICE, ALICE_PASSWORD).await.0, 200);
}

on_every_backend!(replicas_on_one_database_count_together);
async fn replicas_on_one_database_count_together(backend: Backend) {
    let one = spawn_locking(&backend, 3).await;
    let two = spawn_with(one.settings.clone(), one.fixture.clone()).await;
    login(&one, ALICE, "wrong").await;
    login(&two, ALICE, "wrong").await;
    let (_, third) = login(&one, ALICE, "wrong").await;
    assert!(
        third["error_description"]
            .as_str()
            .unwrap()
            .starts_with("The account is locked"),
        "{third}"
    );
    let (status, body) = login(&two, ALICE, ALICE_PASSWORD).await;
    assert_eq!((status, body), (401, third));
}

on_every_backend!(one_stored_hash_of_each_kind_is_found_to_time_checks_with);
/// The census the padding of failed sign-ins is calibrated from: the seed's argon2id
/// and bcrypt hashes ($2b$ and $2y$ of one cost are one kind), and an imported argon2
/// hash of older parameters.
async fn one_stored_hash_of_each_kind_is_found_to_time_checks_with(backend: Backend) {
    use localidp::crypto::password::PasswordHasher;
    use localidp::crypto::timing::hash_kind;
    use localidp::directory::{self, users::NewUser};
    let app = spawn_app(&backend).await;
    let old = PasswordHasher::new(4096, 3, 1, 1)
        .unwrap()
        .hash_blocking(&"old-password".to_owned().into())
        .unwrap();
    let hasher = app.state.hasher.clone();
    let now = app.now();
    let examples = app
        .state
        .db(move |c| {
            let tenant = directory::tenant(c, CONTOSO_ID).unwrap();
            let new = NewUser {
                email: Some("old@contoso.com".into()),
                password_hash: Some(old),
                ..Default::default()
            };
            directory::users::create_user(c, &hasher, &tenant, &new, now).unwrap();
            localidp::db::lockout::hash_kind_examples(c)
        })
        .await
        .unwrap();
    let mut kinds: Vec<String> = examples.iter().filter_map(|e| hash_kind(e)).collect();
    kinds.sort();
    kinds.dedup();
    assert_eq!(
        kinds,
        [
            "$argon2id$v=19$m=19456,t=2,p=1",
            "$argon2id$v=19$m=4096,t=3,p=1",
            "bcrypt cost 4"
        ],
        "{examples:?}"
    );
    // And a sign-in with the old hash still works (then upgrades it).
    let (status, _) = login(&app, "old@contoso.com", "old-password").await;
    assert_eq!(status, 200);
}
