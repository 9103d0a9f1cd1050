//! A `localidp` process seen as a replica: its HTTP requests, and waiting for an
//! answer with a deadline.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::process::ServerProcess;
use super::{ALICE, ALICE_PASSWORD, WEB_APP, WEB_APP_SECRET};

pub struct Replica {
    pub process: ServerProcess,
    pub http: reqwest::Client,
}

impl Replica {
    pub fn new(process: ServerProcess) -> Self {
        Replica {
            process,
            http: crate::helpers::http_client(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.process.base())
    }

    pub async fn token(&self, form: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(self.url("/auth/token"))
            .form(form)
            .send()
            .await
            .expect("token request")
    }

    /// Alice's password grant through the web app, with a refresh token.
    pub async fn password_grant(&self) -> reqwest::Response {
        self.token(&[
            ("grant_type", "password"),
            ("client_id", WEB_APP),
            ("client_secret", WEB_APP_SECRET),
            ("username", ALICE),
            ("password", ALICE_PASSWORD),
            ("scope", "openid offline_access"),
        ])
        .await
    }

    /// Redeems a refresh token as the web app.
    pub async fn refresh(&self, token: &str) -> reqwest::Response {
        self.token(&[
            ("grant_type", "refresh_token"),
            ("client_id", WEB_APP),
            ("client_secret", WEB_APP_SECRET),
            ("refresh_token", token),
        ])
        .await
    }

    /// A client-credentials access token, which must be issued.
    pub async fn client_token(&self, client: &str, secret: &str, scope: &str) -> String {
        let res = self
            .token(&[
                ("grant_type", "client_credentials"),
                ("client_id", client),
                ("client_secret", secret),
                ("scope", scope),
            ])
            .await;
        assert_eq!(res.status(), 200, "client credentials for {client}");
        res.json::<Value>().await.unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub async fn verify(&self, token: &str) -> reqwest::Response {
        self.http
            .get(self.url("/auth/verify"))
            .bearer_auth(token)
            .send()
            .await
            .expect("verify request")
    }

    /// A request with an optional bearer token and JSON body: its status, its
    /// Retry-After, and its JSON body (`null` when there is none).
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Option<String>, Value) {
        let mut req = self.http.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request");
        let retry = res
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned());
        let status = res.status().as_u16();
        (status, retry, res.json().await.unwrap_or(Value::Null))
    }

    /// `GET path`: status, Retry-After and JSON body.
    pub async fn status(&self, path: &str, token: Option<&str>) -> (u16, Option<String>, Value) {
        self.send(reqwest::Method::GET, path, token, None).await
    }
}

/// Polls `check` (whether the awaited answer came) until it does, and returns how long
/// that took; panics with `what` after `within`. The answers are the event waited on;
/// the interval only spaces the polls.
pub async fn eventually<F, Fut>(within: Duration, what: &str, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    let mut pace = tokio::time::interval(Duration::from_millis(100));
    loop {
        pace.tick().await;
        if check().await {
            return start.elapsed();
        }
        assert!(start.elapsed() < within, "{what}: not within {within:?}");
    }
}
