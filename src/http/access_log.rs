//! The access log: one info event per request under the target `localidp::request`,
//! and the request's ids assigned on its way in ([`super::request_id`]) and written
//! on its way out (`x-request-id`, and `client-request-id` when asked for).
//!
//! Text: `CLIENT "METHOD PATH" STATUS BYTES MSms route=.. request_id=.. [client_id=..]
//! [tenant=..]`. JSON (`log_format = "json"`): the same as fields, and every event of
//! the request in a `request` span carrying its id.

use std::time::Instant;

use actix_web::body::{BodySize, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpRequest, web};
use tracing::Instrument;

use super::client_ip::client_ip;
use super::request_id::{RequestIds, request_ids};
use crate::config::LogFormat;
use crate::state::AppState;

/// Characters of the path written at most.
const MAX_PATH: usize = 200;
/// Characters of the method written at most (extension methods are client text).
const MAX_METHOD: usize = 16;
/// Characters of a client id or tenant (as the client wrote it) written at most.
const MAX_NAME: usize = 64;

/// What a handler learned that the access line should carry: the client and tenant.
#[derive(Clone, Default)]
struct LogContext {
    client_id: Option<String>,
    tenant: Option<String>,
}

/// Names the request's client and tenant on its access line (both public ids).
pub fn note_client(req: &HttpRequest, tenant: Option<&str>, client_id: Option<&str>) {
    let mut ext = req.extensions_mut();
    let ctx = ext.get_or_insert_with(LogContext::default);
    if let Some(t) = tenant {
        ctx.tenant = Some(bounded(t, MAX_NAME));
    }
    if let Some(c) = client_id {
        ctx.client_id = Some(bounded(c, MAX_NAME));
    }
}

/// Client address (the peer, or behind a trusted proxy the forwarded address),
/// method, path, status, body bytes, milliseconds, the route's pattern, the request
/// id and, when known, client id and tenant. Never the query string (it can carry
/// codes, tokens or passwords), bodies or headers other than the request id; what the
/// client chose (method, path) is cut to a bounded length and escaped, so a request
/// cannot write more than one short line. While the server drains (shutdown), every
/// response closes its connection.
pub async fn access_log(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, Error> {
    let started = Instant::now();
    let method = crate::metrics::method_label(req.method().as_str());
    let ids = request_ids(req.request());
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let json = state
        .as_ref()
        .is_some_and(|s| s.settings.log_format == LogFormat::Json);
    let line = Line {
        client: client(&req, state.as_ref().map(|s| s.get_ref())),
        method: bounded(req.method().as_str(), MAX_METHOD),
        path: bounded(req.path(), MAX_PATH),
        // `client_id` in a query string (authorize, logout) is a public id.
        query_client: query_client_id(req.query_string()),
    };
    let result = if json {
        let span = tracing::info_span!("request", request_id = %ids.request_id);
        next.call(req).instrument(span).await
    } else {
        next.call(req).await
    };
    let seconds = started.elapsed().as_secs_f64();
    let millis = seconds * 1000.0;
    let metrics = state.as_ref().map(|s| &s.metrics);
    match result {
        Ok(mut res) => {
            let draining = state.as_ref().is_some_and(|s| s.is_draining());
            write_ids(&mut res, &ids);
            if draining {
                res.response_mut()
                    .head_mut()
                    .set_connection_type(actix_web::http::ConnectionType::Close);
            }
            let bytes = match res.response().body().size() {
                BodySize::Sized(n) => n.to_string(),
                BodySize::None => "0".to_owned(),
                BodySize::Stream => "-".to_owned(),
            };
            let request = res.request();
            let ctx = request
                .extensions()
                .get::<LogContext>()
                .cloned()
                .unwrap_or_default();
            let route = request.match_pattern();
            let status = res.status().as_u16();
            if let Some(m) = metrics {
                m.request(route.as_deref(), method, status, seconds);
            }
            let tenant = ctx.tenant.or_else(|| {
                request
                    .match_info()
                    .get("tenant")
                    .map(|t| bounded(t, MAX_NAME))
            });
            let client_id = ctx.client_id.or(line.query_client.clone());
            let outcome = Outcome {
                status,
                bytes,
                millis,
                route,
                client_id,
                tenant,
            };
            line.write(json, &ids, outcome);
            Ok(res)
        }
        Err(e) => {
            let status = e.as_response_error().status_code().as_u16();
            if let Some(m) = metrics {
                m.request(None, method, status, seconds);
            }
            let outcome = Outcome {
                status,
                bytes: "-".to_owned(),
                millis,
                route: None,
                client_id: line.query_client.clone(),
                tenant: None,
            };
            line.write(json, &ids, outcome);
            Err(e)
        }
    }
}

/// What the access line says about the request itself, read before it is handled.
struct Line {
    client: String,
    method: String,
    path: String,
    query_client: Option<String>,
}

/// What became of it.
struct Outcome {
    status: u16,
    bytes: String,
    millis: f64,
    route: Option<String>,
    client_id: Option<String>,
    tenant: Option<String>,
}

impl Line {
    fn write(&self, json: bool, ids: &RequestIds, outcome: Outcome) {
        let Line {
            client,
            method,
            path,
            ..
        } = self;
        let Outcome {
            status,
            bytes,
            millis,
            route,
            client_id,
            tenant,
        } = outcome;
        let route = route.unwrap_or_else(|| "-".to_owned());
        let request_id = ids.request_id.as_str();
        let latency_ms = (millis * 1000.0).round() / 1000.0;
        if json {
            tracing::info!(
                target: "localidp::request",
                client_ip = %client, method = %method, path = %path, route = %route,
                status, bytes = %bytes, latency_ms, request_id = %request_id,
                client_id = client_id.as_deref().map(display),
                tenant = tenant.as_deref().map(display),
                "request"
            );
        } else {
            tracing::info!(
                target: "localidp::request",
                route = %route, request_id = %request_id,
                client_id = client_id.as_deref().map(display),
                tenant = tenant.as_deref().map(display),
                "{client} \"{method} {path}\" {status} {bytes} {millis:.3}ms"
            );
        }
    }
}

/// `x-request-id` on every response; MSAL's `client-request-id` back when it asked.
fn write_ids<B>(res: &mut ServiceResponse<B>, ids: &RequestIds) {
    let headers = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&ids.request_id) {
        headers.insert(HeaderName::from_static("x-request-id"), v);
    }
    if ids.echo_client_request_id
        && let Ok(v) = HeaderValue::from_str(&ids.correlation_id)
    {
        headers.insert(HeaderName::from_static("client-request-id"), v);
    }
}

fn query_client_id(query: &str) -> Option<String> {
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix("client_id="))
        .filter(|v| !v.is_empty())
        .map(|v| bounded(v, MAX_NAME))
}

fn client(req: &ServiceRequest, state: Option<&AppState>) -> String {
    let ip = match state {
        Some(state) => client_ip(&state.settings, req.request()),
        None => req.peer_addr().map(|a| a.ip()),
    };
    ip.map_or_else(|| "-".to_owned(), |ip| ip.to_string())
}

/// At most `max` characters of `text`, printable ASCII kept, `"` `\` and anything else
/// escaped as `\xNN` (bytes of UTF-8), `...` marking a cut.
pub fn bounded(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max) + 3);
    let mut written = 0;
    for byte in text.bytes() {
        let escaped = !(0x20..0x7f).contains(&byte) || byte == b'"' || byte == b'\\';
        let width = if escaped { 4 } else { 1 };
        if written + width > max {
            out.push_str("...");
            return out;
        }
        if escaped {
            out.push_str(&format!("\\x{byte:02x}"));
        } else {
            out.push(byte as char);
        }
        written += width;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::bounded;

    #[test]
    fn client_text_is_cut_and_escaped() {
        assert_eq!(bounded("/auth/token", 200), "/auth/token");
        assert_eq!(bounded(&"a".repeat(5000), 10), "aaaaaaaaaa...");
        assert_eq!(bounded("/\u{e9}\"\n", 200), "/\\xc3\\xa9\\x22\\x0a");
        assert_eq!(bounded("\u{1b}[31m", 200), "\\x1b[31m");
        assert!(bounded(&"\u{7f}".repeat(1000), 200).len() <= 203);
    }
}
