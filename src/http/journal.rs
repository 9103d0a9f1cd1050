//! The request journal of a dev server (`GET /_dev/requests`): the last requests
//! received — method, path, query and form parameters with secrets redacted, status —
//! so a test can assert what its application sent. Headers are never kept (so neither
//! `Authorization` nor `x-api-key` is).

use std::collections::VecDeque;
use std::sync::Mutex;

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes};
use serde::Serialize;
use serde_json::{Map, Value};

use super::request_context::correlation_id;
use crate::state::AppState;

/// Requests kept; the oldest is dropped first.
pub const CAPACITY: usize = 1000;
/// Form bodies larger than this are not read into the journal.
const MAX_FORM_BYTES: u64 = 64 * 1024;
/// What a redacted value reads as.
pub const REDACTED: &str = "***";
/// The path whose own calls are not journaled.
pub const REQUESTS_PATH: &str = "/_dev/requests";

#[derive(Debug, Clone, Serialize)]
pub struct JournalEntry {
    /// Unix seconds, on the server's clock.
    pub time: i64,
    pub method: String,
    pub path: String,
    pub query: Map<String, Value>,
    /// `application/x-www-form-urlencoded` bodies only; else null.
    pub form: Option<Map<String, Value>>,
    pub status: u16,
    pub correlation_id: String,
}

/// The last [`CAPACITY`] requests, shared by the workers.
#[derive(Debug, Default)]
pub struct Journal {
    entries: Mutex<VecDeque<JournalEntry>>,
}

impl Journal {
    fn push(&self, entry: JournalEntry) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() == CAPACITY {
            entries.pop_front();
        }
        entries.push_back(entry);
    }

    /// The newest `limit`, oldest first.
    pub fn last(&self, limit: usize) -> Vec<JournalEntry> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let skip = entries.len().saturating_sub(limit);
        entries.iter().skip(skip).cloned().collect()
    }

    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

/// Parameters whose values are secrets, credentials or grants.
fn is_secret(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    matches!(
        name.as_str(),
        "code" | "assertion" | "client_assertion" | "code_verifier" | "token" | "api_key"
    ) || name.contains("password")
        || name.contains("secret")
        || name.ends_with("_token")
        || name.ends_with("token_hint")
}

/// `a=1&b=2` as a JSON object, secrets as [`REDACTED`]; a repeated name keeps a list.
fn parameters(encoded: &[u8]) -> Map<String, Value> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(encoded).unwrap_or_default();
    let mut map = Map::new();
    for (name, value) in pairs {
        let value = if is_secret(&name) {
            REDACTED.to_owned()
        } else {
            value
        };
        match map.get_mut(&name) {
            Some(Value::Array(list)) => list.push(value.into()),
            Some(first) => *first = Value::Array(vec![first.take(), value.into()]),
            None => {
                map.insert(name, value.into());
            }
        }
    }
    map
}

fn is_small_form(req: &ServiceRequest) -> bool {
    let headers = req.headers();
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';').next().is_some_and(|m| {
                m.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
        });
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    // An encoded body would be decoded here and then again by the endpoint: left out.
    let encoded = headers.contains_key(header::CONTENT_ENCODING);
    form && !encoded && length.is_some_and(|n| n <= MAX_FORM_BYTES)
}

/// The middleware: records each request (but calls of the journal itself) with the
/// status it was answered with.
pub async fn record(
    journal: web::Data<Journal>,
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.path() == REQUESTS_PATH {
        return next.call(req).await;
    }
    let time = req
        .app_data::<web::Data<AppState>>()
        .map_or(0, |s| s.clock.now());
    let form = if is_small_form(&req) {
        let body = req.extract::<Bytes>().await?;
        let form = parameters(&body);
        req.set_payload(Payload::from(body));
        Some(form)
    } else {
        None
    };
    let mut entry = JournalEntry {
        time,
        method: req.method().as_str().to_owned(),
        path: req.path().to_owned(),
        query: parameters(req.query_string().as_bytes()),
        form,
        status: 0,
        correlation_id: correlation_id(req.request()),
    };
    let res = next.call(req).await;
    entry.status = match &res {
        Ok(r) => r.status().as_u16(),
        Err(e) => e.as_response_error().status_code().as_u16(),
    };
    journal.push(entry);
    res
}

#[cfg(test)]
mod tests {
    use super::parameters;

    #[test]
    fn secrets_are_redacted_and_repeats_kept() {
        let p = parameters(
            b"grant_type=password&username=a&password=p&client_secret=s&scope=x&scope=y&code=c&refresh_token=r&code_verifier=v&client_assertion=j&assertion=k",
        );
        assert_eq!(p["grant_type"], "password");
        assert_eq!(p["username"], "a");
        assert_eq!(p["scope"], serde_json::json!(["x", "y"]));
        for k in [
            "password",
            "client_secret",
            "code",
            "refresh_token",
            "code_verifier",
            "client_assertion",
            "assertion",
        ] {
            assert_eq!(p[k], "***", "{k}");
        }
    }
}
