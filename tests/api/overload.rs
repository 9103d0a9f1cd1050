use crate::helpers::*;
use serde_json::Value;

on_every_backend!(sign_in_burst_beyond_the_hash_queue_gets_503);
/// With one hashing thread and room for one waiting check, a burst of sign-ins is partly refused with
/// 503 `temporarily_unavailable` and `Retry-After`, never queued without bound, while
/// cheap endpoints keep answering.
async fn sign_in_burst_beyond_the_hash_queue_gets_503(backend: Backend) {
    let (mut settings, fixture) = test_fixture(&backend);
    settings.hash_concurrency = 1;
    settings.hash_queue = 1;
    let app = spawn_with(settings, fixture).await;
    let attempts: Vec<_> = (0..12)
        .map(|_| {
            let http = app.http.clone();
            let url = app.url("/auth/token");
            tokio::spawn(async move {
                http.post(url)
                    .form(&[
                        ("grant_type", "password"),
                        ("client_id", PUBLIC_APP),
                        ("username", ALICE),
                        ("password", ALICE_PASSWORD),
                    ])
                    .send()
                    .await
                    .unwrap()
            })
        })
        .collect();
    assert_eq!(
        app.http
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let (mut ok, mut refused) = (0, 0);
    for a in attempts {
        let res = a.await.unwrap();
        match res.status().as_u16() {
            200 => ok += 1,
            503 => {
                assert_eq!(res.headers()["retry-after"], "1");
                let body: Value = res.json().await.unwrap();
                assert_eq!(body["error"], "temporarily_unavailable");
                refused += 1;
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(ok >= 1, "some sign-ins succeed");
    assert!(refused >= 1, "the burst beyond capacity is refused");
}
