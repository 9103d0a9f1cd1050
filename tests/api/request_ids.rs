//! Request ids: the client's `x-request-id` / `client-request-id` when valid, else
//! one of ours; echoed in `x-request-id` (and `client-request-id` when asked), and
//! the same ids in Azure-shaped errors, Graph errors, audit events and the access log.

use std::time::Duration;

use serde_json::Value;

use crate::helpers::process::serve_fixture;
use crate::helpers::*;

on_every_backend!(
    every_response_carries_the_request_id_the_client_sent_or_one_of_ours,
    errors_and_audit_events_carry_the_same_ids_as_the_headers,
);

fn header(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
}

async fn every_response_carries_the_request_id_the_client_sent_or_one_of_ours(backend: Backend) {
    let app = spawn_app(&backend).await;
    let healthz = || app.http.get(app.url("/healthz"));
    let res = healthz().send().await.unwrap();
    let ours = header(&res, "x-request-id").expect("x-request-id");
    assert!(uuid::Uuid::parse_str(&ours).is_ok(), "{ours}");
    let again = header(&healthz().send().await.unwrap(), "x-request-id").unwrap();
    assert_ne!(ours, again, "one id per request");

    let res = healthz()
        .header("x-request-id", "lb-7f3a:1")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&res, "x-request-id").as_deref(), Some("lb-7f3a:1"));
    // client-request-id alone is the request id too; it is echoed only when asked.
    let res = healthz()
        .header("client-request-id", "c-42")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&res, "x-request-id").as_deref(), Some("c-42"));
    assert_eq!(header(&res, "client-request-id"), None);
    let res = healthz()
        .header("client-request-id", "c-43")
        .header("return-client-request-id", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&res, "client-request-id").as_deref(), Some("c-43"));
    // Too long, or with characters a log line would have to escape: replaced.
    for bad in [
        "x".repeat(65),
        "two words".into(),
        "quote\"d".into(),
        "<b>".into(),
    ] {
        let res = healthz().header("x-request-id", &bad).send().await.unwrap();
        let id = header(&res, "x-request-id").unwrap();
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{bad:?} gave {id}");
    }
    // 404s and refused bodies carry one as well.
    let res = app.http.get(app.url("/no/such/page")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    assert!(header(&res, "x-request-id").is_some());
}

async fn errors_and_audit_events_carry_the_same_ids_as_the_headers(backend: Backend) {
    let app = spawn_app(&backend).await;
    let refused = app
        .http
        .post(app.url(&format!("/{CONTOSO_ID}/oauth2/v2.0/token")))
        .header("x-request-id", "trace-1")
        .header("client-request-id", "corr-1")
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", DAEMON_ONLY),
            ("client_secret", "not-the-secret"),
            ("scope", &format!("{API_APP}/.default")),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(header(&refused, "x-request-id").as_deref(), Some("trace-1"));
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["trace_id"], "trace-1", "{body}");
    assert_eq!(body["correlation_id"], "corr-1", "{body}");
    let description = body["error_description"].as_str().unwrap();
    assert!(
        description.contains("Trace ID: trace-1\r\n"),
        "{description}"
    );
    assert!(
        description.contains("Correlation ID: corr-1\r\n"),
        "{description}"
    );
    let events = app.audit_events("token.refused").await;
    assert_eq!(events[0].correlation_id.as_deref(), Some("corr-1"));

    // Without ids from the client: the generated one everywhere.
    let res = app
        .http
        .post(app.url(&format!("/{CONTOSO_ID}/oauth2/v2.0/token")))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", DAEMON_ONLY),
        ])
        .send()
        .await
        .unwrap();
    let id = header(&res, "x-request-id").unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["trace_id"], id.as_str(), "{body}");
    assert_eq!(body["correlation_id"], id.as_str(), "{body}");

    // Graph: request-id is the request id, client-request-id the client's.
    let res = app
        .http
        .get(app.url("/v1.0/users"))
        .header("x-request-id", "graph-trace")
        .header("client-request-id", "graph-corr")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(header(&res, "x-request-id").as_deref(), Some("graph-trace"));
    let body: Value = res.json().await.unwrap();
    let inner = &body["error"]["innerError"];
    assert_eq!(inner["request-id"], "graph-trace", "{body}");
    assert_eq!(inner["client-request-id"], "graph-corr", "{body}");
}

on_every_backend!(json_logs_are_one_object_per_line_with_an_access_line_per_request);

async fn json_logs_are_one_object_per_line_with_an_access_line_per_request(backend: Backend) {
    let (settings, _fixture) = test_fixture(&backend);
    let server = serve_fixture(
        &settings,
        &[
            "--log-format",
            "json",
            "--default-tenant",
            "contoso.onmicrosoft.com",
        ],
        &[("LOCALIDP_LOG", "info")],
    );
    let http = crate::helpers::http_client();
    let res = http
        .post(format!("{}/{CONTOSO_ID}/oauth2/v2.0/token", server.base()))
        .header("x-request-id", "json-log-1")
        .form(&[
            ("grant_type", "password"),
            ("client_id", WEB_APP),
            ("client_secret", WEB_APP_SECRET),
            ("username", ALICE),
            ("password", ALICE_PASSWORD),
            ("scope", "openid"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let tokens: Value = res.json().await.unwrap();
    let access_token = tokens["access_token"].as_str().unwrap().to_owned();
    // The authorize page: its query string carries state and a code challenge.
    let res = http
        .get(format!(
            "{}/{CONTOSO_ID}/oauth2/v2.0/authorize?client_id={PUBLIC_APP}&response_type=code&state=secret-state-value&code_challenge=secret-challenge-value&code_challenge_method=S256&redirect_uri=http%3A%2F%2Flocalhost%3A3000&scope=openid",
            server.base()
        ))
        .header("x-request-id", "json-log-2")
        .send()
        .await
        .unwrap();
    let authorize_status = res.status().as_u16();

    let watch = server.log_watch();
    let line_of = |id: &str| -> Value {
        watch
            .wait_for(Duration::from_secs(10), |l| {
                serde_json::from_str::<Value>(l)
                    .ok()
                    .filter(|v| v["target"] == "localidp::request" && v["request_id"] == id)
            })
            .unwrap_or_else(|| panic!("no request line for {id}: {:#?}", server.log()))
    };
    let token = line_of("json-log-1");
    assert_eq!(token["level"], "INFO");
    assert_eq!(token["method"], "POST");
    assert_eq!(token["path"], format!("/{CONTOSO_ID}/oauth2/v2.0/token"));
    assert_eq!(token["route"], "/{tenant}/oauth2/v2.0/token");
    assert_eq!(token["status"], 200);
    assert_eq!(token["client_id"], WEB_APP);
    assert_eq!(token["tenant"], CONTOSO_ID);
    assert_eq!(token["client_ip"], "127.0.0.1");
    assert!(
        token["latency_ms"].as_f64().is_some_and(|ms| ms > 0.0),
        "{token}"
    );
    let authorize = line_of("json-log-2");
    assert_eq!(authorize["status"], authorize_status);
    assert_eq!(authorize["route"], "/{tenant}/oauth2/v2.0/authorize");
    assert_eq!(authorize["client_id"], PUBLIC_APP);
    assert_eq!(
        authorize["path"],
        format!("/{CONTOSO_ID}/oauth2/v2.0/authorize")
    );

    let log = server.log();
    for line in &log {
        let v: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not one JSON object ({e}): {line}"));
        assert!(
            v["timestamp"].is_string() && v["level"].is_string(),
            "{line}"
        );
        for secret in [
            ALICE_PASSWORD,
            WEB_APP_SECRET,
            "secret-state-value",
            "secret-challenge-value",
            access_token.as_str(),
        ] {
            assert!(!line.contains(secret), "{secret} logged: {line}");
        }
    }
}
