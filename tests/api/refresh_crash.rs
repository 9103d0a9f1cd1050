//! A rotation that was answered survives SIGKILL: the real binary serves chains of
//! refresh-token redemptions, is killed in the middle of them, and is started again on
//! the same database; the last refresh token each chain received still redeems.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::helpers::process::{ServerProcess, serve_fixture};
use crate::helpers::*;

const CHAINS: usize = 8;

/// `localidp serve` on the fixture's database and keys.
fn serve(settings: &localidp::config::Settings) -> ServerProcess {
    serve_fixture(settings, &[], &[("LOCALIDP_RATE_LIMIT_PER_MINUTE", "0")])
}

async fn token_request(http: &reqwest::Client, base: &str, form: &[(&str, &str)]) -> Option<Value> {
    let res = http
        .post(format!("{base}/auth/token"))
        .form(form)
        .send()
        .await
        .ok()?;
    if res.status() != 200 {
        return None;
    }
    res.json().await.ok()
}

async fn redeem(http: &reqwest::Client, base: &str, token: &str) -> Result<String, String> {
    let res = http
        .post(format!("{base}/auth/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", WEB_APP),
            ("client_secret", WEB_APP_SECRET),
            ("refresh_token", token),
        ])
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = res.status();
    let body: Value = res.json().await.map_err(|e| e.to_string())?;
    match body["refresh_token"].as_str() {
        Some(next) if status == 200 => Ok(next.to_owned()),
        _ => Err(format!("{status}: {body}")),
    }
}

on_every_backend!(answered_rotations_survive_sigkill);
async fn answered_rotations_survive_sigkill(backend: Backend) {
    let (settings, _fixture) = test_fixture(&backend);
    let http = crate::helpers::http_client();
    let mut server = serve(&settings);
    let mut chains = Vec::new();
    for _ in 0..CHAINS {
        let tokens = token_request(
            &http,
            &server.base(),
            &[
                ("grant_type", "password"),
                ("client_id", WEB_APP),
                ("client_secret", WEB_APP_SECRET),
                ("username", ALICE),
                ("password", ALICE_PASSWORD),
                ("scope", "openid offline_access"),
            ],
        )
        .await
        .expect("password grant");
        chains.push(tokens["refresh_token"].as_str().unwrap().to_owned());
    }

    // Each chain redeems its latest token until the server dies; what it keeps is
    // the last token an answer carried.
    let latest: Vec<Arc<std::sync::Mutex<(String, usize)>>> = chains
        .into_iter()
        .map(|t| Arc::new(std::sync::Mutex::new((t, 0))))
        .collect();
    // Woken at each answered rotation: the kill comes after enough of them, not after a
    // guessed time.
    let rotated = Arc::new(tokio::sync::Notify::new());
    let mut tasks = Vec::new();
    for chain in &latest {
        let (chain, http, base) = (chain.clone(), http.clone(), server.base());
        let rotated = rotated.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let current = chain.lock().unwrap().0.clone();
                match redeem(&http, &base, &current).await {
                    Ok(next) => {
                        let mut c = chain.lock().unwrap();
                        *c = (next, c.1 + 1);
                        rotated.notify_one();
                    }
                    // The server is gone (or refused: the check below tells).
                    Err(_) => break,
                }
            }
        }));
    }
    // Let the chains rotate a while, then kill the server in the middle of them.
    let enough = async {
        while latest.iter().map(|c| c.lock().unwrap().1).sum::<usize>() < CHAINS * 20 {
            rotated.notified().await;
        }
    };
    // If the chains stall, the assertion below says how far they got.
    let _ = tokio::time::timeout(Duration::from_secs(30), enough).await;
    server.child.kill().expect("SIGKILL");
    server.child.wait().unwrap();
    for task in tasks {
        task.await.unwrap();
    }
    let rotated: usize = latest.iter().map(|c| c.lock().unwrap().1).sum();
    assert!(rotated >= CHAINS * 20, "only {rotated} rotations answered");

    // Started again: every chain's last answered token redeems (a rotation answered
    // was stored; one cut off after its write is a retry within the grace).
    let server = serve(&settings);
    for (i, chain) in latest.iter().enumerate() {
        let (token, n) = chain.lock().unwrap().clone();
        let result = redeem(&http, &server.base(), &token).await;
        assert!(
            result.is_ok(),
            "chain {i}: its last answered token (after {n} rotations) was lost: {result:?}"
        );
    }
}
