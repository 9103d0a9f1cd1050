//! Token status honoured everywhere: a revoked access token, one whose code was
//! replayed, one of a disabled or deleted user and one of a refresh-token family that
//! was revoked are refused by `/auth/verify`, `/introspect`, `/userinfo` and the
//! on-behalf-of grant — by the server that made the change at once, and by a second
//! replica on the same database within its bound. And the clock-skew setting.

use std::time::Duration;

use crate::helpers::graph::client_credentials_token;
use crate::helpers::*;
use localidp::config::Settings;
use serde_json::Value;

/// The bound the replicas of these tests run with: long enough that "not yet" is
/// deterministic, and reached by moving the shared clock.
const BOUND: i64 = 30;

/// Two servers on one database and one clock.
struct Replicas {
    a: TestApp,
    b: TestApp,
}

impl Replicas {
    async fn start(backend: &Backend, bound_a: i64) -> Replicas {
        let (mut settings, fixture) = test_fixture(backend);
        settings.token_status_refresh_seconds = bound_a;
        let a = spawn_with(settings.clone(), fixture.clone()).await;
        let b_settings = Settings {
            token_status_refresh_seconds: BOUND,
            ..settings
        };
        let b = spawn_with_clock(b_settings, fixture, a.state.clock.clone()).await;
        Replicas { a, b }
    }

    /// Moves the shared clock.
    fn advance(&self, secs: i64) {
        self.a.advance(Duration::from_secs(secs as u64));
    }
}

/// The confidential client whose own audience the token is: it may present the token
/// as an on-behalf-of assertion.
fn audience_client(token: &str) -> (&'static str, &'static str) {
    match claims(token)["aud"].as_str() {
        Some(WEB_APP) => (WEB_APP, WEB_APP_SECRET),
        Some(RP_WEB) => (RP_WEB, RP_WEB_SECRET),
        other => panic!("no secret for audience {other:?}"),
    }
}

async fn on_behalf_of(app: &TestApp, token: &str) -> reqwest::Response {
    let (client, secret) = audience_client(token);
    let scope = format!("api://{API_APP}/Tasks.Read");
    app.post_form(
        &format!("/{CONTOSO_ID}/oauth2/v2.0/token"),
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("client_id", client),
            ("client_secret", secret),
            ("assertion", token),
            ("scope", &scope),
            ("requested_token_use", "on_behalf_of"),
        ],
    )
    .await
}

/// Every endpoint accepts the token.
async fn assert_accepted(app: &TestApp, token: &str, what: &str) {
    assert_eq!(
        app.verify(token).await.status(),
        200,
        "{what}: /auth/verify"
    );
    assert_eq!(
        app.introspect(token).await["active"],
        true,
        "{what}: /introspect"
    );
    assert_eq!(app.userinfo(token).await.status(), 200, "{what}: /userinfo");
    assert_eq!(
        on_behalf_of(app, token).await.status(),
        200,
        "{what}: on-behalf-of"
    );
}

/// Every endpoint refuses the token, saying why where the answer has room for it.
async fn assert_refused(app: &TestApp, token: &str, why: &str, what: &str) {
    let res = app.verify(token).await;
    assert_eq!(res.status(), 401, "{what}: /auth/verify");
    let body = res.text().await.unwrap();
    assert!(body.contains(why), "{what}: /auth/verify says {body}");
    assert_eq!(
        app.introspect(token).await,
        serde_json::json!({"active": false}),
        "{what}: /introspect"
    );
    assert_eq!(app.userinfo(token).await.status(), 401, "{what}: /userinfo");
    let d = assert_oauth_error(on_behalf_of(app, token).await, 400, "invalid_grant").await;
    assert!(d.contains(why), "{what}: on-behalf-of says {d}");
}

const REVOKED: &str = "revoked";
const INACTIVE: &str = "disabled or no longer exists";

/// Alice's access token for the web app's own API (an on-behalf-of assertion), with
/// a refresh token.
async fn alice_for_web_app(app: &TestApp) -> Value {
    app.alice_tokens(&format!("api://{WEB_APP}/access_as_user offline_access"))
        .await
}

fn text(v: &Value, k: &str) -> String {
    v[k].as_str()
        .unwrap_or_else(|| panic!("{k} in {v}"))
        .to_owned()
}

on_every_backend!(a_revoked_access_token_is_refused_everywhere);
async fn a_revoked_access_token_is_refused_everywhere(backend: Backend) {
    let r = Replicas::start(&backend, BOUND).await;
    let tokens = alice_for_web_app(&r.a).await;
    let access = text(&tokens, "access_token");
    assert_accepted(&r.a, &access, "before revocation (a)").await;
    assert_accepted(&r.b, &access, "before revocation (b)").await;

    let res =
        r.a.post_form(
            "/revoke",
            &[
                ("token", &access),
                ("client_id", WEB_APP),
                ("client_secret", WEB_APP_SECRET),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    // The server that revoked it refuses it at once; the other within its bound.
    assert_refused(&r.a, &access, REVOKED, "revoked (a)").await;
    assert_eq!(
        r.b.verify(&access).await.status(),
        200,
        "b, before its bound"
    );
    r.advance(BOUND);
    assert_refused(&r.b, &access, REVOKED, "revoked (b, after its bound)").await;
    // Another token of the same user is untouched.
    let other = text(&alice_for_web_app(&r.a).await, "access_token");
    assert_accepted(&r.b, &other, "another token").await;
}

on_every_backend!(a_token_from_a_replayed_code_is_refused_everywhere);
async fn a_token_from_a_replayed_code_is_refused_everywhere(backend: Backend) {
    let r = Replicas::start(&backend, BOUND).await;
    let browser = Browser::new(&r.a);
    let code = browser.code_for_alice(&[]).await;
    let res = r.a.redeem_code(&code, Some(VERIFIER)).await;
    assert_eq!(res.status(), 200);
    let access = text(&res.json().await.unwrap(), "access_token");
    assert_accepted(&r.a, &access, "before the replay (a)").await;
    assert_accepted(&r.b, &access, "before the replay (b)").await;

    let res = r.a.redeem_code(&code, Some(VERIFIER)).await;
    assert_oauth_error(res, 400, "invalid_grant").await;
    assert_refused(&r.a, &access, REVOKED, "replayed (a)").await;
    assert_eq!(
        r.b.verify(&access).await.status(),
        200,
        "b, before its bound"
    );
    r.advance(BOUND);
    assert_refused(&r.b, &access, REVOKED, "replayed (b, after its bound)").await;
}

on_every_backend!(tokens_of_a_disabled_user_are_refused_and_stay_refused_after_enabling);
async fn tokens_of_a_disabled_user_are_refused_and_stay_refused_after_enabling(backend: Backend) {
    let r = Replicas::start(&backend, BOUND).await;
    let access = text(&alice_for_web_app(&r.a).await, "access_token");
    assert_accepted(&r.a, &access, "before disabling").await;
    assert_accepted(&r.b, &access, "before disabling (b)").await;

    // As `localidp user disable` does it: straight to the database, from outside
    // both servers, so each learns of it from the status log.
    let set_disabled = |disabled: bool| {
        let now = r.a.now();
        r.a.state
            .db(move |c| localidp::db::users::set_disabled(c, ALICE_OID, disabled, now))
    };
    set_disabled(true).await.unwrap();
    assert_eq!(
        r.b.verify(&access).await.status(),
        200,
        "b, before its bound"
    );
    r.advance(BOUND);
    assert_refused(&r.a, &access, INACTIVE, "disabled (a)").await;
    assert_refused(&r.b, &access, INACTIVE, "disabled (b)").await;

    // Enabled again: tokens issued before the disabling stay refused (as Entra does);
    // tokens issued after it are accepted.
    r.advance(1);
    set_disabled(false).await.unwrap();
    r.advance(BOUND);
    assert_refused(&r.b, &access, INACTIVE, "issued before disabling (b)").await;
    let fresh = text(&alice_for_web_app(&r.a).await, "access_token");
    assert_accepted(&r.a, &fresh, "issued after enabling (a)").await;
    assert_accepted(&r.b, &fresh, "issued after enabling (b)").await;
}

on_every_backend!(tokens_of_a_deleted_user_are_refused_within_the_default_bound);
async fn tokens_of_a_deleted_user_are_refused_within_the_default_bound(backend: Backend) {
    // The first server runs with the default bound (1 s), the second with 30 s.
    let r = Replicas::start(&backend, 1).await;
    let oid = "de1e7ed0-0000-4000-8000-000000000001";
    r.a.add_user("gone@contoso.com", oid).await;
    let tokens =
        r.a.password_tokens(
            "gone@contoso.com",
            OWN_PASSWORD,
            &format!("api://{WEB_APP}/access_as_user"),
        )
        .await;
    let access = text(&tokens, "access_token");
    assert_accepted(&r.a, &access, "before deletion").await;
    assert_accepted(&r.b, &access, "before deletion (b)").await;

    let now = r.a.now();
    r.a.state
        .db(move |c| localidp::db::users::delete(c, oid, now))
        .await
        .unwrap();
    r.advance(1);
    assert_refused(&r.a, &access, INACTIVE, "deleted (a, 1 s bound)").await;
    assert_eq!(
        r.b.verify(&access).await.status(),
        200,
        "b, before its bound"
    );
    r.advance(BOUND);
    assert_refused(&r.b, &access, INACTIVE, "deleted (b)").await;
}

on_every_backend!(access_tokens_of_a_refresh_family_revoked_for_reuse_are_refused);
async fn access_tokens_of_a_refresh_family_revoked_for_reuse_are_refused(backend: Backend) {
    let r = Replicas::start(&backend, BOUND).await;
    let first = alice_for_web_app(&r.a).await;
    let (at1, rt1) = (text(&first, "access_token"), text(&first, "refresh_token"));
    let res = r.a.refresh(&rt1, &[]).await;
    assert_eq!(res.status(), 200);
    let second: Value = res.json().await.unwrap();
    let at2 = text(&second, "access_token");
    // One issued with the family's first refresh token, one with its successor.
    for (token, what) in [(&at1, "first"), (&at2, "rotated")] {
        assert_accepted(&r.a, token, what).await;
        assert_accepted(&r.b, token, what).await;
    }
    // An unrelated family of the same user.
    let other = text(&alice_for_web_app(&r.a).await, "access_token");

    // rt1 presented again after the refresh retry grace (30 s): reuse, the family is
    // revoked. Each replica checks a token first, so both read the status just now.
    r.advance(31);
    assert_accepted(&r.a, &at2, "rotated, after the grace").await;
    assert_accepted(&r.b, &at2, "rotated, after the grace").await;
    let d = assert_oauth_error(r.a.refresh(&rt1, &[]).await, 400, "invalid_grant").await;
    assert!(d.contains("already used"), "{d}");
    assert_refused(&r.a, &at1, REVOKED, "first (a)").await;
    assert_refused(&r.a, &at2, REVOKED, "rotated (a)").await;
    assert_eq!(r.b.verify(&at2).await.status(), 200, "b, before its bound");
    r.advance(BOUND);
    assert_refused(&r.b, &at1, REVOKED, "first (b)").await;
    assert_refused(&r.b, &at2, REVOKED, "rotated (b)").await;
    assert_accepted(&r.b, &other, "another family").await;
}

on_every_backend!(the_clock_skew_setting_decides_how_long_past_exp_a_token_passes);
async fn the_clock_skew_setting_decides_how_long_past_exp_a_token_passes(backend: Backend) {
    let (settings, fixture) = test_fixture(&backend);
    let lifetime = settings.access_token_lifetime as u64;
    assert_eq!(settings.clock_skew_seconds, 60, "the default");
    let lenient = spawn_with(settings.clone(), fixture.clone()).await;
    let strict = spawn_with(
        Settings {
            clock_skew_seconds: 10,
            ..settings
        },
        fixture,
    )
    .await;
    let for_lenient = text(&lenient.alice_tokens("openid").await, "access_token");
    let for_strict = text(&strict.alice_tokens("openid").await, "access_token");
    // 5 s past exp: within both allowances.
    lenient.advance(Duration::from_secs(lifetime + 5));
    strict.advance(Duration::from_secs(lifetime + 5));
    assert_eq!(lenient.verify(&for_lenient).await.status(), 200);
    assert_eq!(strict.verify(&for_strict).await.status(), 200);
    // 30 s past exp: within 60 s, not within 10 s.
    lenient.advance(Duration::from_secs(25));
    strict.advance(Duration::from_secs(25));
    assert_eq!(lenient.verify(&for_lenient).await.status(), 200, "skew 60");
    let res = strict.verify(&for_strict).await;
    assert_eq!(res.status(), 401, "skew 10");
    assert!(res.text().await.unwrap().contains("expired"));
    // 61 s past exp: past the default too.
    lenient.advance(Duration::from_secs(31));
    assert_eq!(lenient.verify(&for_lenient).await.status(), 401);
}

on_every_backend!(token_exchange_refuses_a_revoked_token_of_ours_as_subject);
async fn token_exchange_refuses_a_revoked_token_of_ours_as_subject(backend: Backend) {
    use localidp::config::TrustedIssuer;
    // This server trusts its own issuer for token exchange: its JWKS, saved after a
    // first start (the keys stay in the keys directory).
    let (settings, fixture) = test_fixture(&backend);
    let first = spawn_with(settings, fixture).await;
    let jwks = first.get_json("/.well-known/jwks.json").await;
    let (mut settings, fixture) = first.stop().await;
    let jwks_file = settings.keys_dir.with_file_name("own-jwks.json");
    std::fs::write(&jwks_file, jwks.to_string()).unwrap();
    settings.trusted_issuers = vec![TrustedIssuer {
        issuer: format!("{PUBLIC_URL}/{CONTOSO_ID}/v2.0"),
        jwks_file: Some(jwks_file),
        audience: None,
        provision: false,
        tenant: None,
        ..Default::default()
    }];
    let app = spawn_with(settings, fixture).await;
    let subject = text(&alice_for_web_app(&app).await, "access_token");
    let form = [
        (
            "grant_type",
            "urn:ietf:params:oauth:grant-type:token-exchange",
        ),
        ("client_id", WEB_APP),
        ("client_secret", WEB_APP_SECRET),
        ("subject_token", &subject),
        (
            "subject_token_type",
            "urn:ietf:params:oauth:token-type:access_token",
        ),
        ("scope", "openid"),
    ];
    assert_eq!(app.token(&form).await.status(), 200, "before revocation");
    let res = app
        .post_form(
            "/revoke",
            &[
                ("token", &subject),
                ("client_id", WEB_APP),
                ("client_secret", WEB_APP_SECRET),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let d = assert_oauth_error(app.token(&form).await, 400, "invalid_grant").await;
    assert!(d.contains(REVOKED), "{d}");
}

/// The API's `.default` scope.
fn api_default() -> String {
    format!("api://{API_APP}/.default")
}

/// `/auth/verify` refuses the token saying why, and `/introspect` calls it inactive.
async fn assert_refused_by_checks(app: &TestApp, token: &str, why: &str, what: &str) {
    let res = app.verify(token).await;
    assert_eq!(res.status(), 401, "{what}: /auth/verify");
    let body = res.text().await.unwrap();
    assert!(body.contains(why), "{what}: /auth/verify says {body}");
    assert_eq!(
        app.introspect(token).await,
        serde_json::json!({"active": false}),
        "{what}: /introspect"
    );
}

on_every_backend!(tokens_issued_to_a_deleted_client_are_refused_until_it_is_created_again);
async fn tokens_issued_to_a_deleted_client_are_refused_until_it_is_created_again(backend: Backend) {
    const GONE: &str = "no longer exists";
    let r = Replicas::start(&backend, 1).await;
    // A user's token issued to the web app (its `azp`), and the web app's own token.
    let user_token = text(&alice_for_web_app(&r.a).await, "access_token");
    let app_token = client_credentials_token(&r.a, WEB_APP, WEB_APP_SECRET, &api_default()).await;
    let daemon = client_credentials_token(&r.a, DAEMON_ONLY, DAEMON_SECRET, &api_default()).await;
    for (token, what) in [(&user_token, "user"), (&app_token, "app")] {
        assert_eq!(r.a.verify(token).await.status(), 200, "{what} before (a)");
        assert_eq!(r.b.verify(token).await.status(), 200, "{what} before (b)");
    }

    // As `localidp client delete` does it: from outside both servers.
    let now = r.a.now();
    r.a.state
        .db(move |c| {
            localidp::directory::delete_client(c, WEB_APP, now)
                .map_err(|e| localidp::db::DbError::Corrupt(e.to_string()))
        })
        .await
        .unwrap();
    r.advance(1);
    for (token, what) in [(&user_token, "user"), (&app_token, "app")] {
        assert_refused_by_checks(&r.a, token, GONE, &format!("{what} (a, 1 s bound)")).await;
        assert_eq!(
            r.b.verify(token).await.status(),
            200,
            "{what}: b before its bound"
        );
    }
    // Another client's token is untouched.
    assert_eq!(r.a.verify(&daemon).await.status(), 200);
    r.advance(BOUND);
    for (token, what) in [(&user_token, "user"), (&app_token, "app")] {
        assert_refused_by_checks(&r.b, token, GONE, &format!("{what} (b)")).await;
    }

    // The seed creates the client again at the next start: its new tokens pass, the
    // old ones stay refused.
    let Replicas { a, b } = r;
    drop(b);
    a.advance(Duration::from_secs(1));
    let clock = a.state.clock.clone();
    let (settings, fixture) = a.stop().await;
    let a = spawn_with_clock(settings, fixture, clock).await;
    let fresh = client_credentials_token(&a, WEB_APP, WEB_APP_SECRET, &api_default()).await;
    assert_eq!(
        a.verify(&fresh).await.status(),
        200,
        "the re-created client's token"
    );
    assert_refused_by_checks(&a, &app_token, GONE, "the deleted client's token").await;
}
