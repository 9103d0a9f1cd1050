//! Federation, first slice: trusted issuers' keys discovered live (discovery document,
//! JWKS, cached, refetched on an unknown `kid`), and their tokens accepted as they are
//! by `/auth/verify`, `/introspect` and `/userinfo`. A second localidp plays the
//! upstream Entra tenant; a small server of the test's own plays a misbehaving one.
//! Both servers share one clock, so moving it moves the upstream's key rotation and
//! the refetch rate limit together.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, web};
use localidp::clock::Clock;
use localidp::config::TrustedIssuer;
use localidp::crypto::key_rotation::RotationStep;
use serde_json::{Value, json};

use crate::helpers::*;

const DAY: u64 = 86_400;

/// The upstream: a localidp on `localhost:{port}` (no fixed public URL), rotating its
/// keys daily with nothing published ahead, so a new key signs before any cache saw it.
async fn spawn_upstream(backend: &Backend, clock: &Clock, tls: bool) -> TestApp {
    let (mut settings, fixture) = test_fixture(backend);
    settings.public_url = None;
    settings.key_rotation_days = 1;
    settings.key_publish_ahead = 0;
    if tls {
        settings.tls = true;
        settings.tls_ca_out = Some(settings.keys_dir.with_file_name("upstream-ca.pem"));
    }
    spawn_with_clock(settings, fixture, clock.clone()).await
}

/// The upstream's Contoso issuer, as its tokens and discovery document name it.
fn issuer_of(upstream: &TestApp) -> String {
    format!("{}/{CONTOSO_ID}/v2.0", upstream.state.public_url)
}

fn trusted(issuer: &str) -> TrustedIssuer {
    TrustedIssuer {
        issuer: issuer.to_owned(),
        audience: Some(WEB_APP.into()),
        verify: true,
        ..Default::default()
    }
}

/// [`trusted`], its keys found through its discovery document.
fn discovered(issuer: &str) -> TrustedIssuer {
    TrustedIssuer {
        discovery_url: Some(format!("{issuer}/.well-known/openid-configuration")),
        ..trusted(issuer)
    }
}

async fn spawn_verifier(backend: &Backend, clock: &Clock, issuers: Vec<TrustedIssuer>) -> TestApp {
    let (mut settings, fixture) = test_fixture(backend);
    settings.trusted_issuers = issuers;
    spawn_with_clock(settings, fixture, clock.clone()).await
}

/// A token the upstream signs with its current key, for `iss` and `aud`, valid for
/// `lifetime` seconds; `n` makes each one distinct (never served from a cache).
fn upstream_token(upstream: &TestApp, iss: &str, aud: &str, lifetime: i64, n: u32) -> String {
    let now = upstream.now();
    upstream.sign(&json!({
        "iss": iss, "aud": aud, "iat": now, "nbf": now, "exp": now + lifetime,
        "sub": "upstream-sub", "oid": ALICE_OID, "tid": CONTOSO_ID, "ver": "2.0",
        "email": ALICE, "name": "Alice Upstream", "roles": ["Tasks.Admin"],
        "azp": WEB_APP, "jti": format!("upstream-{n}"),
    }))
}

async fn verify_status(app: &TestApp, token: &str) -> (u16, Value) {
    let res = app.verify(token).await;
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn rotate(upstream: &TestApp) -> String {
    for _ in 0..3 {
        if let RotationStep::Promoted { kid, .. } =
            upstream.state.rotate_keys_if_due().await.unwrap()
        {
            return kid;
        }
    }
    panic!("the upstream's key did not rotate");
}

fn kid(token: &str) -> String {
    header(token)["kid"].as_str().unwrap().to_owned()
}

on_every_backend!(an_upstreams_tokens_are_verified_with_its_live_keys);
async fn an_upstreams_tokens_are_verified_with_its_live_keys(backend: Backend) {
    let clock = Clock::adjustable();
    let upstream = spawn_upstream(&backend, &clock, false).await;
    let issuer = issuer_of(&upstream);
    let app = spawn_verifier(&backend, &clock, vec![discovered(&issuer)]).await;

    // A real token of the upstream (password grant): the same answer as for our own.
    let token = upstream
        .password_tokens(ALICE, ALICE_PASSWORD, "openid")
        .await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = verify_status(&app, &token).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user_id"], ALICE_OID);
    assert_eq!(body["email"], ALICE);
    assert_eq!(body["tid"], CONTOSO_ID);
    assert_eq!(body["aud"], WEB_APP);
    assert_eq!(body["auth_method"], "bearer");
    assert_eq!(body["issuer"], issuer.as_str());
    let own = app.alice_tokens("openid").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = verify_status(&app, &own).await;
    assert_eq!(status, 200, "our own tokens still verify");
    assert!(body.get("issuer").is_none(), "{body}");

    let introspected = app.introspect(&token).await;
    assert_eq!(introspected["active"], true, "{introspected}");
    assert_eq!(introspected["oid"], ALICE_OID);
    assert_eq!(introspected["issuer"], issuer.as_str());
    let res = app.userinfo(&token).await;
    assert_eq!(res.status(), 200);
    let info: Value = res.json().await.unwrap();
    assert_eq!(info["oid"], ALICE_OID);
    assert_eq!(info["tid"], CONTOSO_ID);

    // Token exchange uses the same keys.
    let res = app
        .token(&[
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:token-exchange",
            ),
            ("client_id", WEB_APP),
            ("client_secret", WEB_APP_SECRET),
            ("subject_token", &token),
            (
                "subject_token_type",
                "urn:ietf:params:oauth:token-type:access_token",
            ),
            ("scope", &format!("api://{API_APP}/Tasks.Read")),
        ])
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());

    // Refused: an issuer not trusted, another audience, a tampered signature.
    let untrusted = upstream_token(&upstream, "https://elsewhere.test/x/v2.0", WEB_APP, 600, 1);
    assert_eq!(verify_status(&app, &untrusted).await.0, 401);
    let other_aud = upstream_token(&upstream, &issuer, API_APP, 600, 2);
    let (status, body) = verify_status(&app, &other_aud).await;
    assert_eq!(status, 401);
    assert!(
        body.to_string().contains("audience"),
        "names the audience: {body}"
    );
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[2] = parts[2].chars().rev().collect();
    assert_eq!(verify_status(&app, &parts.join(".")).await.0, 401);

    // A long-lived token of the first key, for after that key has left.
    let first_kid = kid(&token);
    let of_first_key = upstream_token(&upstream, &issuer, WEB_APP, 4 * DAY as i64, 3);

    // A day on: the cached copy is stale and is fetched again (the first key only).
    clock.advance(Duration::from_secs(DAY + 1));
    let fresh = upstream_token(&upstream, &issuer, WEB_APP, 600, 4);
    assert_eq!(verify_status(&app, &fresh).await.0, 200);

    // The upstream rotates: its new key is unknown here, and the refetch waits for
    // the rate limit (30 s since the last fetch, on the shared clock).
    let second_kid = rotate(&upstream).await;
    assert_ne!(second_kid, first_kid);
    let of_second_key = upstream_token(&upstream, &issuer, WEB_APP, 4 * DAY as i64, 5);
    assert_eq!(kid(&of_second_key), second_kid);
    let (status, body) = verify_status(&app, &of_second_key).await;
    assert_eq!(status, 401, "{body}");
    assert!(body.to_string().contains("unknown key"), "{body}");
    clock.advance(Duration::from_secs(30));
    let again = upstream_token(&upstream, &issuer, WEB_APP, 600, 6);
    let (status, body) = verify_status(&app, &again).await;
    assert_eq!(status, 200, "picked up without a restart: {body}");

    // Past its retention the first key leaves the upstream's JWKS, and here.
    clock.advance(Duration::from_secs(3600 + 300 + 1));
    assert_eq!(
        upstream.state.rotate_keys_if_due().await.unwrap(),
        RotationStep::Nothing
    );
    let jwks = upstream.get_json("/.well-known/jwks.json").await;
    assert!(!jwks.to_string().contains(&first_kid), "{jwks}");
    let (status, body) = verify_status(&app, &of_first_key).await;
    assert_eq!(status, 401, "a key rotated out: {body}");
    assert!(body.to_string().contains("unknown key"), "{body}");

    // The upstream stops: the keys fetched last still verify, also once stale.
    let later = upstream_token(&upstream, &issuer, WEB_APP, 3 * DAY as i64, 7);
    let much_later = upstream_token(&upstream, &issuer, WEB_APP, 3 * DAY as i64, 8);
    upstream.stop().await;
    let (status, body) = verify_status(&app, &later).await;
    assert_eq!(status, 200, "{body}");
    clock.advance(Duration::from_secs(2 * 3600));
    let (status, body) = verify_status(&app, &much_later).await;
    assert_eq!(status, 200, "the last good copy: {body}");
}

/// What the misbehaving upstream serves: the upstream's JWKS at `/jwks`, the same
/// after a same-host redirect at `/moved`, a redirect to another host (`localhost`
/// for `127.0.0.1`) at `/away`, and the JWKS padded past 1 MiB at `/huge`.
struct Mock {
    base: String,
    handle: actix_web::dev::ServerHandle,
    elsewhere_hits: Arc<AtomicUsize>,
}

async fn spawn_mock(jwks: Value) -> Mock {
    let mut huge = jwks.clone();
    huge["padding"] = json!("x".repeat(1024 * 1024 + 1));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let server = HttpServer::new(move || {
        let (jwks, huge, counter) = (jwks.clone(), huge.clone(), counter.clone());
        App::new()
            .route(
                "/jwks",
                web::get().to(move || {
                    let jwks = jwks.clone();
                    async move { HttpResponse::Ok().json(jwks) }
                }),
            )
            .route(
                "/moved",
                web::get().to(|| async {
                    HttpResponse::Found()
                        .insert_header(("location", "/jwks"))
                        .finish()
                }),
            )
            .route(
                "/away",
                web::get().to(move || async move {
                    HttpResponse::Found()
                        .insert_header(("location", format!("http://localhost:{port}/elsewhere")))
                        .finish()
                }),
            )
            .route(
                "/elsewhere",
                web::get().to(move || {
                    counter.fetch_add(1, Ordering::SeqCst);
                    async { HttpResponse::Ok().json(json!({"keys": []})) }
                }),
            )
            .route(
                "/huge",
                web::get().to(move || {
                    let huge = huge.clone();
                    async move { HttpResponse::Ok().json(huge) }
                }),
            )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    let handle = server.handle();
    tokio::spawn(server);
    Mock {
        base: format!("http://127.0.0.1:{port}"),
        handle,
        elsewhere_hits: hits,
    }
}

on_every_backend!(outbound_fetches_follow_no_redirect_to_another_host_and_refuse_huge_documents);
async fn outbound_fetches_follow_no_redirect_to_another_host_and_refuse_huge_documents(
    backend: Backend,
) {
    let clock = Clock::adjustable();
    let upstream = spawn_upstream(&backend, &clock, false).await;
    let mock = spawn_mock(upstream.get_json("/.well-known/jwks.json").await).await;
    // A port nobody listens on: the start does not fail, the tokens are refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let with_jwks = |name: &str, path: &str| TrustedIssuer {
        jwks_uri: Some(format!("{}{path}", mock.base)),
        ..trusted(name)
    };
    let app = spawn_verifier(
        &backend,
        &clock,
        vec![
            with_jwks("urn:test:moved", "/moved"),
            with_jwks("urn:test:away", "/away"),
            with_jwks("urn:test:huge", "/huge"),
            TrustedIssuer {
                discovery_url: Some(format!(
                    "http://127.0.0.1:{closed}/x/v2.0/.well-known/openid-configuration"
                )),
                ..trusted("urn:test:down")
            },
        ],
    )
    .await;
    let token = |iss: &str, n: u32| upstream_token(&upstream, iss, WEB_APP, 600, n);

    let (status, body) = verify_status(&app, &token("urn:test:moved", 1)).await;
    assert_eq!(
        status, 200,
        "a redirect on the same host is followed: {body}"
    );
    let (status, body) = verify_status(&app, &token("urn:test:away", 2)).await;
    assert_eq!(status, 401, "{body}");
    assert!(body.to_string().contains("could not be fetched"), "{body}");
    assert_eq!(
        mock.elsewhere_hits.load(Ordering::SeqCst),
        0,
        "the redirect to another host was not followed"
    );
    let (status, body) = verify_status(&app, &token("urn:test:huge", 3)).await;
    assert_eq!(status, 401, "a document over 1 MiB is refused: {body}");
    let (status, body) = verify_status(&app, &token("urn:test:down", 4)).await;
    assert_eq!(status, 401, "{body}");
    assert!(body.to_string().contains("could not be fetched"), "{body}");
    mock.handle.stop(true).await;
}

on_every_backend!(an_https_upstream_is_trusted_through_its_ca_file_only);
async fn an_https_upstream_is_trusted_through_its_ca_file_only(backend: Backend) {
    let clock = Clock::adjustable();
    let upstream = spawn_upstream(&backend, &clock, true).await;
    let issuer = issuer_of(&upstream);
    assert!(issuer.starts_with("https://localhost:"), "{issuer}");
    let ca_file = upstream.settings.tls_ca_out.clone().unwrap();
    let app = spawn_verifier(
        &backend,
        &clock,
        vec![
            TrustedIssuer {
                ca_file: Some(ca_file),
                ..discovered(&issuer)
            },
            TrustedIssuer {
                jwks_uri: Some(format!(
                    "{}/.well-known/jwks.json",
                    upstream.state.public_url
                )),
                ..trusted("urn:test:no-ca")
            },
        ],
    )
    .await;
    let token = upstream_token(&upstream, &issuer, WEB_APP, 600, 1);
    let (status, body) = verify_status(&app, &token).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["issuer"], issuer.as_str());
    let without_ca = upstream_token(&upstream, "urn:test:no-ca", WEB_APP, 600, 2);
    let (status, body) = verify_status(&app, &without_ca).await;
    assert_eq!(status, 401, "an unknown CA is not trusted: {body}");
}

#[tokio::test]
async fn a_malformed_trusted_issuer_stops_the_start() {
    let cases = [
        (
            TrustedIssuer {
                jwks_uri: Some("http://login.example.com/keys".into()),
                ..trusted("https://login.example.com/x/v2.0")
            },
            "loopback",
        ),
        (
            TrustedIssuer {
                jwks_uri: Some("https://login.example.com/keys".into()),
                discovery_url: Some("https://login.example.com/x".into()),
                ..trusted("https://login.example.com/x/v2.0")
            },
            "exactly one",
        ),
        (
            TrustedIssuer {
                jwks_uri: Some("https://login.example.com/keys".into()),
                audience: None,
                ..trusted("https://login.example.com/x/v2.0")
            },
            "audience",
        ),
    ];
    for (issuer, expected) in cases {
        let (mut settings, _fixture) = test_fixture(&Backend::Sqlite);
        settings.trusted_issuers = vec![issuer];
        let err = match localidp::startup::Application::build(settings).await {
            Ok(_) => panic!("started with a malformed trusted issuer ({expected})"),
            Err(e) => e.to_string(),
        };
        assert!(err.contains(expected), "{err}");
    }
}

on_every_backend!(an_upstream_token_never_manages_the_directory);
async fn an_upstream_token_never_manages_the_directory(backend: Backend) {
    let clock = Clock::adjustable();
    let upstream = spawn_upstream(&backend, &clock, false).await;
    let issuer = issuer_of(&upstream);
    // Even an entry naming Graph's audience: the upstream's Graph token is another
    // tenant's, with that tenant's scopes and roles.
    const GRAPH: &str = "00000003-0000-0000-c000-000000000000";
    let app = spawn_verifier(
        &backend,
        &clock,
        vec![TrustedIssuer {
            audience: Some(GRAPH.into()),
            ..discovered(&issuer)
        }],
    )
    .await;
    let now = upstream.now();
    let token = upstream.sign(&json!({
        "iss": issuer, "aud": GRAPH, "iat": now, "nbf": now, "exp": now + 600,
        "sub": "upstream-sub", "oid": ALICE_OID, "tid": CONTOSO_ID, "ver": "2.0",
        "scp": "User.Read User.ReadWrite.All", "roles": ["User.ReadWrite.All"],
        "jti": "upstream-graph-1",
    }));
    // (/auth/verify refuses a Graph token of any issuer: it is not for an app here.)
    for path in ["/v1.0/me", "/v1.0/users"] {
        let (status, body) = crate::helpers::graph::get(&app, path, &token).await;
        assert_eq!(status, 401, "{path}: {body}");
        assert!(
            body.to_string().contains("trusted external issuer"),
            "{path}: {body}"
        );
    }
}

on_every_backend!(revoking_an_upstream_token_here_changes_nothing);
async fn revoking_an_upstream_token_here_changes_nothing(backend: Backend) {
    let clock = Clock::adjustable();
    let upstream = spawn_upstream(&backend, &clock, false).await;
    let issuer = issuer_of(&upstream);
    let app = spawn_verifier(&backend, &clock, vec![discovered(&issuer)]).await;
    // The token names the revoking client as its azp; it is the upstream's all the same.
    let token = upstream_token(&upstream, &issuer, WEB_APP, 600, 7);
    assert_eq!(verify_status(&app, &token).await.0, 200);
    let res = app
        .http
        .post(app.url("/revoke"))
        .basic_auth(WEB_APP, Some(WEB_APP_SECRET))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        200,
        "RFC 7009: unknown tokens are answered 200"
    );
    // Past the cache of verified tokens: still accepted, nothing was deny-listed.
    clock.advance(Duration::from_secs(10));
    let (status, body) = verify_status(&app, &token).await;
    assert_eq!(status, 200, "{body}");
    let events = app.audit_events("token.revoked").await;
    assert_eq!(events[0].outcome, "failure", "{:?}", events[0]);
}
