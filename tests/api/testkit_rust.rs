//! `localidp::testing::TestIdp` used as an actix-web API's test would use it: the API
//! validates bearer tokens against the fixture's JWKS and issuer, and the test gets its
//! tokens (valid and hostile) from the fixture without a sign-in.

use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, test as actix_test, web};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, jwk::JwkSet};
use localidp::testing::{
    HOSTILE_VARIANTS, MintRequest, TestClient, TestIdp, TestIdpError, TestTenant, TestUser,
};
use serde_json::Value;

/// The API under test: its audience, the issuer it trusts and the keys it fetched.
struct TasksApi {
    audience: String,
    issuer: String,
    keys: JwkSet,
}

impl TasksApi {
    async fn new(idp: &TestIdp, audience: &str) -> TasksApi {
        let keys = crate::helpers::http_client()
            .get(idp.jwks_uri())
            .send()
            .await
            .unwrap()
            .json::<JwkSet>()
            .await
            .unwrap();
        TasksApi {
            audience: audience.to_owned(),
            issuer: idp.issuer(),
            keys,
        }
    }

    fn claims(&self, req: &HttpRequest) -> Option<Value> {
        let token = req
            .headers()
            .get("authorization")?
            .to_str()
            .ok()?
            .strip_prefix("Bearer ")?;
        let header = jsonwebtoken::decode_header(token).ok()?;
        let jwk = self.keys.find(header.kid.as_deref()?)?;
        let key = DecodingKey::from_jwk(jwk).ok()?;
        let mut validation = Validation::new(Algorithm::RS256);
        // jsonwebtoken leaves `nbf` unchecked unless asked: the not_yet_valid variant
        // is there to catch that.
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        jsonwebtoken::decode::<Value>(token, &key, &validation)
            .ok()
            .map(|t| t.claims)
    }
}

async fn list_tasks(api: web::Data<TasksApi>, req: HttpRequest) -> HttpResponse {
    match api.claims(&req) {
        None => HttpResponse::Unauthorized().finish(),
        Some(c)
            if !c["roles"]
                .as_array()
                .is_some_and(|r| r.contains(&"Tasks.Read".into())) =>
        {
            HttpResponse::Forbidden().finish()
        }
        Some(c) => HttpResponse::Ok().json(serde_json::json!({ "owner": c["preferred_username"] })),
    }
}

fn fixture() -> TestIdp {
    TestIdp::builder()
        .tenant(
            TestTenant::new("contoso.onmicrosoft.com").id("11111111-1111-4111-8111-111111111111"),
        )
        .client(TestClient::confidential("tasks-api", "tasks-api-secret"))
        .user(
            TestUser::new("alice@contoso.com")
                .password("Alice-pw-1")
                .roles(["Tasks.Read"]),
        )
        .user(TestUser::new("bob@contoso.com").password("Bob-pw-1"))
        .start()
        .expect("the fixture starts")
}

#[actix_web::test]
async fn an_actix_api_accepts_the_fixtures_tokens_and_refuses_every_hostile_variant() {
    let idp = fixture();
    assert_eq!(idp.tenant_id(), "11111111-1111-4111-8111-111111111111");
    assert_eq!(
        idp.issuer(),
        format!(
            "{}/11111111-1111-4111-8111-111111111111/v2.0",
            idp.base_url()
        )
    );
    let api = web::Data::new(TasksApi::new(&idp, "tasks-api").await);
    let app = actix_test::init_service(
        App::new()
            .app_data(api)
            .route("/tasks", web::get().to(list_tasks)),
    )
    .await;
    let call = |token: String| {
        actix_test::TestRequest::get()
            .uri("/tasks")
            .insert_header(("authorization", format!("Bearer {token}")))
            .to_request()
    };

    // A user's token from the tenant's default client (the first client): accepted, with
    // the user's roles and name; a user without the role is forbidden.
    let token = idp.token_for("alice@contoso.com").unwrap();
    let res = actix_test::call_service(&app, call(token)).await;
    assert_eq!(res.status(), 200);
    let body: Value = actix_test::read_body_json(res).await;
    assert_eq!(body["owner"], "alice@contoso.com");
    let res = actix_test::call_service(&app, call(idp.token_for("bob@contoso.com").unwrap())).await;
    assert_eq!(res.status(), 403);

    // Claims set by the test reach the token.
    let minted = idp
        .mint(MintRequest {
            user: Some("bob@contoso.com".into()),
            claims: serde_json::json!({ "roles": ["Tasks.Read"] })
                .as_object()
                .unwrap()
                .clone(),
            ..Default::default()
        })
        .unwrap();
    let res = actix_test::call_service(&app, call(minted.access_token.unwrap())).await;
    assert_eq!(res.status(), 200);

    for variant in HOSTILE_VARIANTS {
        let minted = idp
            .mint(MintRequest {
                user: Some("alice@contoso.com".into()),
                variant: Some(variant.into()),
                ..Default::default()
            })
            .unwrap();
        let res = actix_test::call_service(&app, call(minted.access_token.unwrap())).await;
        assert_eq!(res.status(), 401, "the {variant} token was not refused");
    }

    // What the fixture refuses is an error with the server's reason.
    match idp.token_for("nobody@contoso.com") {
        Err(TestIdpError::Refused { error, description }) => {
            assert_eq!(error, "invalid_request");
            assert!(description.contains("nobody@contoso.com"), "{description}");
        }
        other => panic!("a token for an unknown user: {other:?}"),
    }
}

#[actix_web::test]
async fn the_fixtures_users_sign_in_its_clock_moves_and_it_stops_when_dropped() {
    let idp = fixture();
    let http = crate::helpers::http_client();
    let res = http
        .post(idp.url("/auth/token"))
        .form(&[
            ("grant_type", "password"),
            ("client_id", "tasks-api"),
            ("client_secret", "tasks-api-secret"),
            ("username", "alice@contoso.com"),
            ("password", "Alice-pw-1"),
            ("scope", "openid"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let token = body["access_token"].as_str().unwrap().to_owned();

    let verify = |token: String| http.get(idp.url("/auth/verify")).bearer_auth(token).send();
    assert_eq!(verify(token.clone()).await.unwrap().status(), 200);
    // The server's clock is the fixture's: moved past the lifetime, the token has expired.
    idp.clock().advance(Duration::from_secs(2 * 3600));
    let res = verify(token).await.unwrap();
    assert_eq!(res.status(), 401);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error_description"], "The token has expired.");

    let url = idp.url("/healthz");
    assert_eq!(http.get(&url).send().await.unwrap().status(), 200);
    drop(idp);
    let fresh = crate::helpers::http_client();
    assert!(
        fresh.get(&url).send().await.is_err(),
        "the server still answers"
    );
}

#[test]
fn a_fixture_without_tenants_or_clients_gets_defaults_and_a_bad_one_says_why() {
    let idp = TestIdp::builder()
        .user(TestUser::new("carol").password("Carol-pw-1"))
        .start()
        .unwrap();
    let minted = idp
        .mint(MintRequest {
            user: Some("carol".into()),
            kind: Some("access".into()),
            ..Default::default()
        })
        .unwrap();
    let claims = jsonwebtoken::dangerous::insecure_decode::<Value>(minted.access_token.unwrap())
        .map(|t| t.claims);
    let claims = claims.unwrap();
    assert_eq!(claims["azp"], localidp::testing::DEFAULT_CLIENT_ID);
    assert_eq!(claims["tid"], idp.tenant_id());
    drop(idp);

    let err = TestIdp::builder()
        .user(TestUser::new("dave@example.com").tenant("no-such-tenant.onmicrosoft.com"))
        .start()
        .err()
        .expect("refused");
    assert!(matches!(err, TestIdpError::Start(_)), "{err:?}");
    assert!(err.to_string().contains("no-such-tenant"), "{err}");
}

#[tokio::test]
async fn users_and_clients_added_while_the_fixture_runs_sign_in_at_once() {
    let idp = fixture();
    idp.add_user(
        TestUser::new("erin@contoso.com")
            .password("Erin-pw-1")
            .groups(["reviewers"]),
    )
    .unwrap();
    idp.add_client(TestClient::confidential("daemon", "daemon-secret").app_roles(["Tasks.Sync"]))
        .unwrap();
    let http = crate::helpers::http_client();
    let token = |form: Vec<(&'static str, &'static str)>| {
        let http = http.clone();
        let url = idp.url("/auth/token");
        async move { http.post(url).form(&form).send().await.unwrap() }
    };
    let res = token(vec![
        ("grant_type", "password"),
        ("client_id", "tasks-api"),
        ("client_secret", "tasks-api-secret"),
        ("username", "erin@contoso.com"),
        ("password", "Erin-pw-1"),
        ("scope", "openid"),
    ])
    .await;
    assert_eq!(res.status(), 200);
    let minted = idp.token_for("erin@contoso.com").unwrap();
    let claims = jsonwebtoken::dangerous::insecure_decode::<Value>(minted)
        .unwrap()
        .claims;
    assert_eq!(claims["groups"].as_array().map(Vec::len), Some(1));

    let res = token(vec![
        ("grant_type", "client_credentials"),
        ("client_id", "daemon"),
        ("client_secret", "daemon-secret"),
        ("scope", "api://tasks-api/.default"),
    ])
    .await;
    assert_eq!(res.status(), 200);

    // What exists is not added again, and says so.
    let again = idp.add_user(TestUser::new("erin@contoso.com").password("other"));
    assert!(
        matches!(again, Err(TestIdpError::Refused { .. })),
        "{again:?}"
    );
    let again = idp.add_client(TestClient::public("daemon"));
    assert!(
        matches!(again, Err(TestIdpError::Refused { .. })),
        "{again:?}"
    );
    let bad = idp.add_user(TestUser::new("frank@contoso.com").set("pasword", "x".into()));
    assert!(matches!(bad, Err(TestIdpError::Refused { .. })), "{bad:?}");
}
