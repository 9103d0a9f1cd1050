//! `GET /_dev/requests`, `DELETE /_dev/requests`: what a dev server received, secrets
//! redacted, so a test can assert what its application sent.

use serde_json::{Value, json};

use crate::helpers::{
    ALICE, ALICE_PASSWORD, Backend, TestApp, WEB_APP, WEB_APP_SECRET, on_every_backend,
    spawn_dev_app,
};

async fn journal(app: &TestApp, query: &str) -> Vec<Value> {
    let body = app.get_json(&format!("/_dev/requests{query}")).await;
    body["requests"].as_array().expect("requests").clone()
}

async fn clear(app: &TestApp) {
    let res = app
        .http
        .delete(app.url("/_dev/requests"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
}

on_every_backend!(
    the_journal_lists_requests_with_secrets_redacted,
    the_journal_keeps_no_headers_and_can_be_cleared,
);

async fn the_journal_lists_requests_with_secrets_redacted(backend: Backend) {
    let app = spawn_dev_app(&backend).await;
    clear(&app).await;
    let tokens = app.alice_tokens("openid offline_access").await;
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let res = app
        .post_form(
            "/auth/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh),
                ("client_id", WEB_APP),
                ("client_secret", WEB_APP_SECRET),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = app
        .post_form(
            "/auth/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", "a-code-value"),
                ("code_verifier", "a-verifier-value"),
                ("client_id", WEB_APP),
                ("client_assertion", "an.assertion.value"),
                ("assertion", "another.assertion"),
            ],
        )
        .await;
    let bad_status = res.status().as_u16();
    let _ = app
        .get_page(
            "/authorize",
            &[("client_id", WEB_APP), ("password", "in-a-query")],
        )
        .await;
    let entries = journal(&app, "").await;
    assert_eq!(entries.len(), 4, "{entries:#?}");
    let password = &entries[0];
    assert_eq!(password["method"], "POST");
    assert_eq!(password["path"], "/auth/token");
    assert_eq!(password["status"], 200);
    assert!(password["time"].as_i64().unwrap() >= app.now() - 1);
    assert!(password["correlation_id"].is_string());
    let form = &password["form"];
    assert_eq!(form["grant_type"], "password");
    assert_eq!(form["username"], ALICE);
    assert_eq!(form["scope"], "openid offline_access");
    assert_eq!(form["password"], "***");
    assert_eq!(form["client_secret"], "***");
    assert_eq!(entries[1]["form"]["refresh_token"], "***");
    assert_eq!(entries[1]["form"]["client_secret"], "***");
    let code = &entries[2]["form"];
    for k in ["code", "code_verifier", "client_assertion", "assertion"] {
        assert_eq!(code[k], "***", "{k}");
    }
    assert_eq!(entries[2]["status"], bad_status);
    assert_eq!(entries[3]["method"], "GET");
    assert_eq!(entries[3]["query"]["client_id"], WEB_APP);
    assert_eq!(entries[3]["query"]["password"], "***");
    assert!(entries[3]["form"].is_null());
    // No secret anywhere in the journal.
    let text = serde_json::to_string(&entries).unwrap();
    for secret in [
        ALICE_PASSWORD,
        WEB_APP_SECRET,
        refresh,
        "a-code-value",
        "a-verifier-value",
        "an.assertion.value",
        "another.assertion",
        "in-a-query",
    ] {
        assert!(!text.contains(secret), "{secret} in the journal");
    }
    // ?limit= gives the newest; the journal's own calls are not journaled.
    let last = journal(&app, "?limit=1").await;
    assert_eq!(last.len(), 1);
    assert_eq!(last[0]["path"], "/authorize");
    assert_eq!(journal(&app, "").await.len(), 4);
}

async fn the_journal_keeps_no_headers_and_can_be_cleared(backend: Backend) {
    let app = spawn_dev_app(&backend).await;
    clear(&app).await;
    let token = app.alice_tokens("openid").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(app.verify(&token).await.status(), 200);
    let res = app
        .http
        .get(app.url("/auth/verify"))
        .header("x-api-key", "lidp_0123456789abcdef_secretsecret")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let minted = app.mint(&json!({"user": ALICE})).await;
    assert_eq!(minted.status(), 200);
    let _ = app.get_page("/no/such/path", &[]).await;
    let entries = journal(&app, "").await;
    let paths: Vec<&str> = entries
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "/auth/token",
            "/auth/verify",
            "/auth/verify",
            "/_dev/token",
            "/no/such/path"
        ]
    );
    assert_eq!(entries[1]["status"], 200);
    assert_eq!(entries[2]["status"], 401);
    assert_eq!(entries[4]["status"], 404);
    let text = serde_json::to_string(&entries).unwrap();
    assert!(!text.contains(&token), "the bearer token in the journal");
    assert!(!text.contains("secretsecret"), "the API key in the journal");
    assert!(!text.to_ascii_lowercase().contains("authorization"));
    clear(&app).await;
    assert!(journal(&app, "").await.is_empty());
}

/// `data` as gzip with one stored (uncompressed) deflate block (RFC 1952, RFC 1951 §3.2.4).
fn gzip_stored(data: &[u8]) -> Vec<u8> {
    let crc = data.iter().fold(!0u32, |mut crc, &b| {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
        crc
    }) ^ !0u32;
    let len = data.len() as u16;
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 1];
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&(!len).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

#[tokio::test]
async fn a_content_encoded_form_reaches_its_endpoint_unread() {
    let app = spawn_dev_app(&Backend::Sqlite).await;
    clear(&app).await;
    let form = format!(
        "grant_type=password&client_id={WEB_APP}&client_secret={WEB_APP_SECRET}&username={ALICE}&password={ALICE_PASSWORD}&scope=openid"
    );
    let res = app
        .http
        .post(app.url("/auth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("content-encoding", "gzip")
        .body(gzip_stored(form.as_bytes()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let entries = journal(&app, "").await;
    assert_eq!(entries.len(), 1);
    assert!(entries[0]["form"].is_null());
}
