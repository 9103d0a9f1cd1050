//! Brokered sign-in (issue 14): a second localidp plays the upstream Entra tenant;
//! a test browser (one cookie jar per server) drives both login forms. The broker's
//! callback URL is fixed by its public URL, and registered at the upstream in its seed.

use std::sync::{Arc, Mutex};

use actix_web::{App, HttpResponse, HttpServer, web};
use localidp::clock::Clock;
use localidp::config::UpstreamProvider;
use serde_json::{Value, json};

use crate::helpers::clients::{interop_dir, node_modules, run_json};
use crate::helpers::*;

const CALLBACK: &str = "http://localidp.test/federation/callback";
const BROKER_CLIENT: &str = "eeeeeeee-0000-4000-8000-000000000001";
const BROKER_SECRET: &str = "broker-secret-0123456789abcdefghijklmnopq";
const ZED: &str = "zed@upstream.test";
const ZED_OID: &str = "2ed00000-0000-4000-8000-000000000001";
const BUTTON: &str = "Sign in with Upstream Entra";

/// The upstream: a localidp on its own address, with the broker registered as a
/// confidential client whose redirect URI is the broker's callback.
async fn spawn_upstream(backend: &Backend, clock: &Clock) -> TestApp {
    spawn_upstream_for(backend, clock, CALLBACK).await
}

/// The upstream, with `callback` as the broker's registered redirect URI.
async fn spawn_upstream_for(backend: &Backend, clock: &Clock, callback: &str) -> TestApp {
    spawn_upstream_with(backend, clock, callback, false).await
}

/// The upstream; with `tls`, over HTTPS with a development CA written to `tls_ca_out`.
async fn spawn_upstream_with(
    backend: &Backend,
    clock: &Clock,
    callback: &str,
    tls: bool,
) -> TestApp {
    let (mut settings, fixture) = test_fixture(backend);
    settings.public_url = None;
    if tls {
        settings.tls = true;
        settings.tls_ca_out = Some(settings.keys_dir.with_file_name("upstream-ca.pem"));
    }
    let seed = settings.seed.clone().unwrap();
    let mut text = std::fs::read_to_string(&seed).unwrap();
    text.push_str(&format!(
        r#"
[[clients]]
client_id = "{BROKER_CLIENT}"
name = "localidp broker"
secret = "{BROKER_SECRET}"
redirect_uris = ["{callback}"]
"#
    ));
    std::fs::write(&seed, text).unwrap();
    spawn_with_clock(settings, fixture, clock.clone()).await
}

fn discovery_of(upstream: &TestApp) -> String {
    format!(
        "{}/{CONTOSO_ID}/v2.0/.well-known/openid-configuration",
        upstream.state.public_url
    )
}

fn provider(discovery_url: String) -> UpstreamProvider {
    UpstreamProvider {
        name: "entra".into(),
        display_name: Some("Upstream Entra".into()),
        discovery_url,
        client_id: BROKER_CLIENT.into(),
        client_secret: Some(BROKER_SECRET.into()),
        domain_hints: vec!["upstream.test".into()],
        create_users: true,
        link_by_email: true,
        trust_email: true,
        copy_claims: vec!["name".into(), "email".into()],
        ..Default::default()
    }
}

async fn spawn_broker(
    backend: &Backend,
    clock: &Clock,
    providers: Vec<UpstreamProvider>,
) -> TestApp {
    let (mut settings, fixture) = test_fixture(backend);
    settings.upstream_providers = providers;
    spawn_with_clock(settings, fixture, clock.clone()).await
}

fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .unwrap_or_else(|| panic!("no Location on {}", res.status()))
        .to_str()
        .unwrap()
        .to_owned()
}

/// Path and query of an absolute URL.
fn path_of(url: &str) -> String {
    let u = reqwest::Url::parse(url).unwrap();
    format!("{}?{}", u.path(), u.query().unwrap_or_default())
}

fn query_of(url: &str) -> std::collections::HashMap<String, String> {
    reqwest::Url::parse(url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

/// The app's authorize request at the broker, up to the redirect to the upstream:
/// through the chooser's button.
async fn to_upstream(broker: &Browser, extra: &[(&str, &str)]) -> String {
    let page = broker.get(&authorize_query(&web_request(extra))).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains(r#"action="/login""#),
        "the local form too: {html}"
    );
    let res = broker.get(&link(&html, BUTTON)).await;
    assert_eq!(res.status(), 302, "{}", res.text().await.unwrap());
    location(&res)
}

/// Signs in at the upstream's form (or rides its SSO session); returns the callback
/// URL it sends the browser to.
async fn upstream_sign_in(
    up: &Browser,
    authorize_url: &str,
    email: &str,
    password: &str,
) -> String {
    let page = up.get(&path_of(authorize_url)).await;
    let res = if page.status() == 302 {
        page
    } else {
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        up.post("/login", &login_form(&html, email, password)).await
    };
    assert!(
        [302, 303].contains(&res.status().as_u16()),
        "{}",
        res.status()
    );
    let to = location(&res);
    assert!(to.contains("/federation/callback?"), "{to}");
    to
}

/// The whole brokered flow for one new browser pair; returns the broker's answer to
/// the callback.
async fn brokered(
    broker_app: &TestApp,
    upstream: &TestApp,
    email: &str,
    password: &str,
) -> reqwest::Response {
    brokered_through(
        broker_app,
        upstream,
        &Browser::new(upstream),
        email,
        password,
    )
    .await
}

/// [`brokered`] with the browser that visits the upstream.
async fn brokered_through(
    broker_app: &TestApp,
    upstream: &TestApp,
    up: &Browser,
    email: &str,
    password: &str,
) -> reqwest::Response {
    let broker = Browser::new(broker_app);
    let authorize = to_upstream(&broker, &[]).await;
    assert!(
        authorize.starts_with(&upstream.state.public_url),
        "{authorize}"
    );
    let q = query_of(&authorize);
    assert_eq!(q["client_id"], BROKER_CLIENT);
    assert_eq!(q["redirect_uri"], CALLBACK);
    assert_eq!(q["code_challenge_method"], "S256");
    assert!(q["scope"].contains("openid"), "{q:?}");
    assert!(!q["nonce"].is_empty() && !q["state"].is_empty());
    let callback = upstream_sign_in(up, &authorize, email, password).await;
    broker.get(&path_of(&callback)).await
}

/// The app's code redeemed (PKCE and all): the ID token's claims.
async fn app_id_token(app: &TestApp, res: &reqwest::Response) -> Value {
    assert_eq!(res.status(), 303);
    let params = redirect_params(res, RP_WEB_CALLBACK);
    assert_eq!(params["state"], "st-123");
    let tokens = app.redeem_code(&params["code"], Some(VERIFIER)).await;
    assert_eq!(tokens.status(), 200);
    let tokens: Value = tokens.json().await.unwrap();
    claims(tokens["id_token"].as_str().unwrap())
}

on_every_backend!(a_brokered_user_is_created_at_the_first_sign_in_and_linked_at_the_next);
async fn a_brokered_user_is_created_at_the_first_sign_in_and_linked_at_the_next(backend: Backend) {
    let clock = Clock::adjustable();
    let upstream = spawn_upstream(&backend, &clock).await;
    upstream.add_user(ZED, ZED_OID).await;
    let app = spawn_broker(&backend, &clock, vec![provider(discovery_of(&upstream))]).await;

    let res = brokered(&app, &upstream, ZED, OWN_PASSWORD).await;
    let first = app_id_token(&app, &res).await;
    assert_eq!(first["email"], ZED, "{first}");
    assert_eq!(first["name"], format!("User {ZED}"));
    assert_eq!(first["nonce"], "n-456");
    let oid = first["oid"].as_str().unwrap().to_owned();
    assert_ne!(oid, ZED_OID, "a local user of its own");

    let res = brokered(&app, &upstream, ZED, OWN_PASSWORD).await;
    let second = app_id_token(&app, &res).await;
    assert_eq!(second["oid"], oid.as_str(), "linked: the same local user");

    let events = app.audit_events("sign_in.federated").await;
    assert_eq!(events.len(), 2);
    let text = format!("{events:?}");
    assert!(text.contains("created") && text.contains("link"), "{text}");
}

on_every_backend!(a_local_user_is_linked_by_verified_email_and_unknown_ones_refused);
async fn a_local_user_is_linked_by_verified_email_and_unknown_ones_refused(backend: Backend) {
    let clock = Clock::adjustable();
    let upstream = spawn_upstream(&backend, &clock).await;
    upstream.add_user(ZED, ZED_OID).await;
    let strict = UpstreamProvider {
        create_users: false,
        ..provider(discovery_of(&upstream))
    };
    let app = spawn_broker(&backend, &clock, vec![strict]).await;

    // Alice exists here with the same (trusted) email: linked to her.
    let res = brokered(&app, &upstream, ALICE, ALICE_PASSWORD).await;
    let alice = app_id_token(&app, &res).await;
    assert_eq!(alice["oid"], ALICE_OID);

    // Zed does not, and create_users is off: access_denied to the app.
    let res = brokered(&app, &upstream, ZED, OWN_PASSWORD).await;
    assert_eq!(res.status(), 302);
    let params = redirect_params(&res, RP_WEB_CALLBACK);
    assert_eq!(params["error"], "access_denied", "{params:?}");
    assert_eq!(params["state"], "st-123");
    assert!(
        params["error_description"].contains("No account"),
        "{params:?}"
    );

    // With self-service sign-up on, a local address proves nothing (anyone could have
    // registered it first): Carol (at the upstream, and here with the same email) is
    // not linked.
    app.state
        .db(|c| {
            localidp::db::user_flows::set(
                c,
                &localidp::db::user_flows::TenantUserFlows {
                    tenant_id: CONTOSO_ID.into(),
                    sign_up: 1,
                    ..Default::default()
                },
            )
        })
        .await
        .unwrap();
    let res = brokered(&app, &upstream, "carol@contoso.com", CAROL_PASSWORD).await;
    let params = redirect_params(&res, RP_WEB_CALLBACK);
    assert_eq!(params["error"], "access_denied", "{params:?}");
    assert!(
        params["error_description"].contains("anyone can sign up here"),
        "{params:?}"
    );
    // Alice's link, made before, still signs her in.
    let res = brokered(&app, &upstream, ALICE, ALICE_PASSWORD).await;
    assert_eq!(app_id_token(&app, &res).await["oid"], ALICE_OID);

    // Without trust_email (localidp sends no email_verified) nobody is linked by email.
    let untrusted = UpstreamProvider {
        create_users: false,
        trust_email: false,
        ..provider(discovery_of(&upstream))
    };
    let app = spawn_broker(&backend, &clock, vec![untrusted]).await;
    let res = brokered(&app, &upstream, ALICE, ALICE_PASSWORD).await;
    let params = redirect_params(&res, RP_WEB_CALLBACK);
    assert_eq!(params["error"], "access_denied", "{params:?}");
}

on_every_backend!(hints_and_an_only_provider_skip_the_chooser);
async fn hints_and_an_only_provider_skip_the_chooser(backend: Backend) {
    let clock = Clock::adjustable();
    let upstream = spawn_upstream(&backend, &clock).await;
    let app = spawn_broker(&backend, &clock, vec![provider(discovery_of(&upstream))]).await;
    for hint in [("domain_hint", "UPSTREAM.test"), ("idp", "entra")] {
        let broker = Browser::new(&app);
        let res = broker.get(&authorize_query(&web_request(&[hint]))).await;
        assert_eq!(res.status(), 302, "{hint:?}");
        let to = location(&res);
        assert!(to.starts_with(&upstream.state.public_url), "{to}");
        // ...and the flow goes on as through the button.
        let up = Browser::new(&upstream);
        let callback = upstream_sign_in(&up, &to, ALICE, ALICE_PASSWORD).await;
        let res = broker.get(&path_of(&callback)).await;
        assert_eq!(app_id_token(&app, &res).await["oid"], ALICE_OID);
    }
    // An unknown hint: the chooser.
    let broker = Browser::new(&app);
    let res = broker
        .get(&authorize_query(&web_request(&[(
            "domain_hint",
            "elsewhere.test",
        )])))
        .await;
    assert_eq!(res.status(), 200);

    // A tenant with only this provider and no local form: straight there.
    let only = UpstreamProvider {
        hide_local_sign_in: true,
        ..provider(discovery_of(&upstream))
    };
    let app = spawn_broker(&backend, &clock, vec![only]).await;
    let broker = Browser::new(&app);
    let res = broker.get(&authorize_query(&web_request(&[]))).await;
    assert_eq!(res.status(), 302);
    assert!(location(&res).starts_with(&upstream.state.public_url));
    let res = broker
        .post(
            "/login",
            &[
                ("client_id".to_owned(), RP_WEB.to_owned()),
                ("email".to_owned(), ALICE.to_owned()),
                ("password".to_owned(), ALICE_PASSWORD.to_owned()),
            ],
        )
        .await;
    assert_eq!(res.status(), 400, "no password sign-in in this tenant");
}

on_every_backend!(upstream_errors_and_bad_states_never_end_in_a_500);
async fn upstream_errors_and_bad_states_never_end_in_a_500(backend: Backend) {
    let clock = Clock::adjustable();
    let upstream = spawn_upstream(&backend, &clock).await;
    let app = spawn_broker(&backend, &clock, vec![provider(discovery_of(&upstream))]).await;
    let broker = Browser::new(&app);
    let authorize = to_upstream(&broker, &[]).await;
    let state = query_of(&authorize)["state"].clone();

    // The upstream answers an error: it goes to the app, with the app's state.
    let res = broker
        .get(&format!(
            "/federation/callback?error=access_denied&error_description=The+user+cancelled&state={}",
            urlencode(&state)
        ))
        .await;
    assert_eq!(res.status(), 302);
    let params = redirect_params(&res, RP_WEB_CALLBACK);
    assert_eq!(params["error"], "access_denied");
    assert_eq!(params["state"], "st-123");
    assert!(
        params["error_description"].contains("cancelled"),
        "{params:?}"
    );

    // The same state again (single use), an unknown one, none: a 400 page.
    for query in [
        format!("?code=x&state={}", urlencode(&state)),
        "?code=x&state=forged".to_owned(),
        "?code=x".to_owned(),
    ] {
        let res = broker.get(&format!("/federation/callback{query}")).await;
        assert_eq!(res.status(), 400, "{query}");
        let html = res.text().await.unwrap();
        assert!(html.contains("sign in again"), "{html}");
    }

    // Another browser cannot finish this browser's sign-in.
    let authorize = to_upstream(&broker, &[]).await;
    let up = Browser::new(&upstream);
    let callback = upstream_sign_in(&up, &authorize, ALICE, ALICE_PASSWORD).await;
    let stranger = Browser::new(&app);
    let res = stranger.get(&path_of(&callback)).await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("another browser"));
    // ...which the browser that started it still can.
    let res = broker.get(&path_of(&callback)).await;
    assert_eq!(app_id_token(&app, &res).await["oid"], ALICE_OID);

    // Ten minutes on, a pending sign-in has expired.
    let authorize = to_upstream(&broker, &[("prompt", "login")]).await;
    let callback = upstream_sign_in(&up, &authorize, ALICE, ALICE_PASSWORD).await;
    clock.advance(std::time::Duration::from_secs(601));
    let res = broker.get(&path_of(&callback)).await;
    assert_eq!(res.status(), 400);

    // An unknown provider name.
    let res = broker
        .get(
            &authorize_query(&web_request(&[]))
                .replace("/authorize?", "/federation/start?provider=nope&"),
        )
        .await;
    assert_eq!(res.status(), 400);
}

/// A stand-in upstream whose token endpoint answers what the test sets: its
/// discovery document names the real upstream's issuer and keys.
struct TokenMock {
    base: String,
    answer: Arc<Mutex<Value>>,
}

async fn spawn_token_mock(upstream: &TestApp) -> TokenMock {
    let issuer = format!("{}/{CONTOSO_ID}/v2.0", upstream.state.public_url);
    let jwks = format!(
        "{}/{CONTOSO_ID}/discovery/v2.0/keys",
        upstream.state.public_url
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let answer = Arc::new(Mutex::new(json!({})));
    let doc = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "jwks_uri": jwks,
    });
    let shared = answer.clone();
    let server = HttpServer::new(move || {
        let (doc, shared) = (doc.clone(), shared.clone());
        App::new()
            .route(
                "/.well-known/openid-configuration",
                web::get().to(move || {
                    let doc = doc.clone();
                    async move { HttpResponse::Ok().json(doc) }
                }),
            )
            .route(
                "/token",
                web::post().to(move || {
                    let body = shared.lock().unwrap().clone();
                    async move { HttpResponse::Ok().json(body) }
                }),
            )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    TokenMock { base, answer }
}

on_every_backend!(a_tampered_or_replayed_id_token_is_refused);
async fn a_tampered_or_replayed_id_token_is_refused(backend: Backend) {
    let clock = Clock::adjustable();
    let upstream = spawn_upstream(&backend, &clock).await;
    let mock = spawn_token_mock(&upstream).await;
    let app = spawn_broker(
        &backend,
        &clock,
        vec![UpstreamProvider {
            copy_claims: ["name", "email", "roles", "groups"]
                .map(String::from)
                .to_vec(),
            ..provider(format!("{}/.well-known/openid-configuration", mock.base))
        }],
    )
    .await;
    let issuer = format!("{}/{CONTOSO_ID}/v2.0", upstream.state.public_url);
    let id_token = |nonce: &str, aud: &str| {
        let now = upstream.now();
        upstream.sign(&json!({
            "iss": issuer, "aud": aud, "iat": now, "nbf": now, "exp": now + 600,
            "sub": "upstream-sub", "oid": ALICE_OID, "email": ALICE, "name": "Alice",
            "nonce": nonce,
        }))
    };
    let broker = Browser::new(&app);
    let wrong_nonce = attempt(&broker, &mock, |_| {
        id_token("another-sign-in", BROKER_CLIENT)
    })
    .await;
    let params = redirect_params(&wrong_nonce, RP_WEB_CALLBACK);
    assert_eq!(params["error"], "access_denied");
    assert!(params["error_description"].contains("nonce"), "{params:?}");

    let tampered = attempt(&broker, &mock, |nonce| {
        let good = id_token(nonce, BROKER_CLIENT);
        let mut body = claims(&good);
        body["oid"] = json!(ZED_OID);
        let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
        parts[1] = encode_b64_json(&body);
        parts.join(".")
    })
    .await;
    let params = redirect_params(&tampered, RP_WEB_CALLBACK);
    assert_eq!(params["error"], "access_denied");
    assert!(
        params["error_description"].contains("signature"),
        "{params:?}"
    );

    let other_aud = attempt(&broker, &mock, |nonce| id_token(nonce, WEB_APP)).await;
    let params = redirect_params(&other_aud, RP_WEB_CALLBACK);
    assert_eq!(params["error"], "access_denied");
    assert!(
        params["error_description"].contains("audience"),
        "{params:?}"
    );

    // The right nonce, audience and signature: signed in (the mock path itself works).
    let good = attempt(&broker, &mock, |nonce| id_token(nonce, BROKER_CLIENT)).await;
    assert_eq!(app_id_token(&app, &good).await["oid"], ALICE_OID);

    // A new person with roles and groups: copied (existing local groups only).
    let nina = attempt(&Browser::new(&app), &mock, |nonce| {
        let now = upstream.now();
        upstream.sign(&json!({
            "iss": issuer, "aud": BROKER_CLIENT, "iat": now, "exp": now + 600,
            "sub": "nina-sub", "email": "nina@upstream.test", "name": "Nina Upstream",
            "roles": ["Tasks.Write"], "groups": ["everyone", "no-such-group"], "nonce": nonce,
        }))
    })
    .await;
    let oid = app_id_token(&app, &nina).await["oid"]
        .as_str()
        .unwrap()
        .to_owned();
    let (user, groups) = app
        .state
        .db(move |c| {
            let user = localidp::db::users::find(c, &oid)?.unwrap();
            let groups = localidp::db::groups::of_member(c, &oid)?;
            Ok((user, groups))
        })
        .await
        .unwrap();
    assert_eq!(user.display_name, "Nina Upstream");
    assert_eq!(user.role_list().unwrap(), ["Tasks.Write"]);
    let names: Vec<_> = groups.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names, ["everyone"]);
}

/// One brokered sign-in whose upstream token endpoint answers the ID token `make`
/// builds from the nonce the broker sent.
async fn attempt(
    broker: &Browser,
    mock: &TokenMock,
    make: impl Fn(&str) -> String,
) -> reqwest::Response {
    let authorize = to_upstream(broker, &[]).await;
    let q = query_of(&authorize);
    *mock.answer.lock().unwrap() = json!({ "id_token": make(&q["nonce"]), "token_type": "Bearer" });
    broker
        .get(&format!(
            "/federation/callback?code=c&state={}",
            urlencode(&q["state"])
        ))
        .await
}

on_every_backend!(a_stopped_upstream_fails_a_brokered_sign_in_clearly);
async fn a_stopped_upstream_fails_a_brokered_sign_in_clearly(backend: Backend) {
    let clock = Clock::adjustable();
    let upstream = spawn_upstream(&backend, &clock).await;
    let discovery = discovery_of(&upstream);
    let app = spawn_broker(&backend, &clock, vec![provider(discovery.clone())]).await;
    let broker = Browser::new(&app);
    let authorize = to_upstream(&broker, &[]).await;
    let up = Browser::new(&upstream);
    let callback = upstream_sign_in(&up, &authorize, ALICE, ALICE_PASSWORD).await;
    upstream.stop().await;

    // The code cannot be redeemed: the app hears so, with its state.
    let res = broker.get(&path_of(&callback)).await;
    assert_eq!(res.status(), 302);
    let params = redirect_params(&res, RP_WEB_CALLBACK);
    assert_eq!(params["error"], "temporarily_unavailable", "{params:?}");
    assert_eq!(params["state"], "st-123");
    assert!(
        params["error_description"].contains("Upstream Entra"),
        "{params:?}"
    );

    // A broker that never reached it: the sign-in fails at once, clearly.
    let fresh = spawn_broker(&backend, &clock, vec![provider(discovery)]).await;
    let broker = Browser::new(&fresh);
    let page = broker.get(&authorize_query(&web_request(&[]))).await;
    let html = page.text().await.unwrap();
    let res = broker.get(&link(&html, BUTTON)).await;
    assert_eq!(res.status(), 302);
    let params = redirect_params(&res, RP_WEB_CALLBACK);
    assert_eq!(params["error"], "temporarily_unavailable", "{params:?}");

    // Local sign-in still works.
    let code = broker.code_for_alice(&[]).await;
    assert_eq!(fresh.redeem_code(&code, Some(VERIFIER)).await.status(), 200);
}

on_every_backend!(a_malformed_provider_stops_the_start);
async fn a_malformed_provider_stops_the_start(backend: Backend) {
    let (mut settings, _fixture) = test_fixture(&backend);
    for (bad, says) in [
        (
            UpstreamProvider {
                name: "Bad Name".into(),
                ..provider(
                    "https://login.example.test/x/v2.0/.well-known/openid-configuration".into(),
                )
            },
            "name must be",
        ),
        (
            provider("http://login.example.test/x/v2.0/.well-known/openid-configuration".into()),
            "loopback",
        ),
        (
            UpstreamProvider {
                tenant: Some("nowhere.onmicrosoft.com".into()),
                ..provider(
                    "https://login.example.test/x/v2.0/.well-known/openid-configuration".into(),
                )
            },
            "does not exist",
        ),
    ] {
        settings.upstream_providers = vec![bad];
        let err =
            localidp::startup::Application::build_with_clock(settings.clone(), Clock::adjustable())
                .await
                .err()
                .expect("the start fails");
        let text = err.to_string();
        assert!(
            text.contains("upstream_providers") && text.contains(says),
            "{text}"
        );
    }
}

/// Runs tests/interop/broker_client.mjs with this configuration.
async fn broker_client(cfg: Value) -> Value {
    let mut cmd = std::process::Command::new("node");
    cmd.arg(interop_dir().join("broker_client.mjs"))
        .arg(cfg.to_string())
        .current_dir(interop_dir());
    run_json(cmd, "broker_client.mjs").await
}

on_every_backend!(openid_client_signs_in_through_the_broker);
async fn openid_client_signs_in_through_the_broker(backend: Backend) {
    node_modules();
    let clock = Clock::adjustable();
    // The broker's address is chosen first: the upstream registers its callback.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let upstream =
        spawn_upstream_for(&backend, &clock, &format!("{base}/federation/callback")).await;
    upstream.add_user(ZED, ZED_OID).await;
    let (mut settings, fixture) = test_fixture(&backend);
    settings.port = port;
    settings.public_url = Some(base.clone());
    settings.upstream_providers = vec![provider(discovery_of(&upstream))];
    let app = spawn_with_clock(settings, fixture, clock.clone()).await;

    let issuer = format!("{base}/{CONTOSO_ID}/v2.0");
    let cfg = json!({
        "issuer": issuer, "client_id": RP_WEB, "client_secret": RP_WEB_SECRET,
        "redirect_uri": RP_WEB_CALLBACK,
    });
    let mut start_cfg = cfg.clone();
    start_cfg["mode"] = json!("start");
    let started = broker_client(start_cfg).await;
    let url = started["url"].as_str().unwrap();
    assert!(url.starts_with(&base), "{url}");

    let broker = Browser::new(&app);
    let page = broker.get(&path_of(url)).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let res = broker.get(&link(&html, BUTTON)).await;
    assert_eq!(res.status(), 302);
    let up = Browser::new(&upstream);
    let callback = upstream_sign_in(&up, &location(&res), ZED, OWN_PASSWORD).await;
    let res = broker.get(&path_of(&callback)).await;
    assert_eq!(res.status(), 303);
    let back = location(&res);
    assert!(back.starts_with(RP_WEB_CALLBACK), "{back}");

    let mut finish = cfg;
    finish["mode"] = json!("finish");
    finish["callback"] = json!(back);
    for k in ["verifier", "state", "nonce"] {
        finish[k] = started[k].clone();
    }
    let done = broker_client(finish).await;
    assert_eq!(done["ok"], true, "{done}");
    assert_eq!(done["issuer"], issuer.as_str());
    assert_eq!(done["email"], ZED, "{done}");
    assert_ne!(done["oid"], ZED_OID, "a local user of the broker: {done}");
}

on_every_backend!(a_b2c_user_flow_upstream_signs_in_with_its_emails_claim);
async fn a_b2c_user_flow_upstream_signs_in_with_its_emails_claim(backend: Backend) {
    let clock = Clock::adjustable();
    let upstream = spawn_upstream(&backend, &clock).await;
    upstream.add_user(ZED, ZED_OID).await;
    // B2C's discovery URL: tenant name and user flow in the path.
    let b2c = format!(
        "{}/contoso.onmicrosoft.com/B2C_1_signupsignin/v2.0/.well-known/openid-configuration",
        upstream.state.public_url
    );
    let app = spawn_broker(&backend, &clock, vec![provider(b2c)]).await;
    let broker = Browser::new(&app);
    let authorize = to_upstream(&broker, &[("prompt", "login"), ("max_age", "300")]).await;
    assert!(
        authorize.to_lowercase().contains("/b2c_1_signupsignin/"),
        "{authorize}"
    );
    assert_eq!(query_of(&authorize)["prompt"], "login");
    assert_eq!(query_of(&authorize)["max_age"], "300");
    let up = Browser::new(&upstream);
    let callback = upstream_sign_in(&up, &authorize, ZED, OWN_PASSWORD).await;
    let res = broker.get(&path_of(&callback)).await;
    let claims = app_id_token(&app, &res).await;
    assert_eq!(claims["email"], ZED, "{claims}");
    assert_ne!(claims["oid"], ZED_OID);
}

on_every_backend!(an_https_upstream_is_reached_through_its_ca_file);
async fn an_https_upstream_is_reached_through_its_ca_file(backend: Backend) {
    let clock = Clock::adjustable();
    let upstream = spawn_upstream_with(&backend, &clock, CALLBACK, true).await;
    assert!(
        upstream.state.public_url.starts_with("https://"),
        "{}",
        upstream.state.public_url
    );
    let ca_file = upstream.settings.tls_ca_out.clone().unwrap();
    let up = Browser::trusting(&upstream, &ca_file);
    // Without the CA the provider cannot be reached: an OAuth error to the app.
    let app = spawn_broker(&backend, &clock, vec![provider(discovery_of(&upstream))]).await;
    let broker = Browser::new(&app);
    let page = broker.get(&authorize_query(&web_request(&[]))).await;
    let res = broker.get(&link(&page.text().await.unwrap(), BUTTON)).await;
    let to = location(&res);
    assert!(to.starts_with(RP_WEB_CALLBACK), "{to}");
    assert_eq!(query_of(&to)["error"], "temporarily_unavailable", "{to}");
    // With it, the whole flow over HTTPS: discovery, keys, code redemption.
    let trusted = UpstreamProvider {
        ca_file: Some(ca_file.clone()),
        ..provider(discovery_of(&upstream))
    };
    let app = spawn_broker(&backend, &clock, vec![trusted]).await;
    let res = brokered_through(&app, &upstream, &up, ALICE, ALICE_PASSWORD).await;
    assert_eq!(app_id_token(&app, &res).await["oid"], ALICE_OID);
}

on_every_backend!(starting_brokered_sign_ins_counts_against_the_rate_limit);
async fn starting_brokered_sign_ins_counts_against_the_rate_limit(backend: Backend) {
    let clock = Clock::adjustable();
    let upstream = spawn_upstream(&backend, &clock).await;
    let (mut settings, fixture) = test_fixture(&backend);
    settings.upstream_providers = vec![provider(discovery_of(&upstream))];
    // Two at once, then one every 10 s per address: each start writes a pending row.
    settings.rate_limit = localidp::config::RateLimit {
        per_minute: 6,
        burst: 2,
    };
    let app = spawn_with_clock(settings, fixture, clock.clone()).await;
    let broker = Browser::new(&app);
    let page = broker.get(&authorize_query(&web_request(&[]))).await;
    let start = link(&page.text().await.unwrap(), BUTTON);
    for _ in 0..2 {
        assert_eq!(broker.get(&start).await.status(), 302);
    }
    let refused = broker.get(&start).await;
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().contains_key("retry-after"));
    clock.advance(std::time::Duration::from_secs(10));
    assert_eq!(broker.get(&start).await.status(), 302);
}
