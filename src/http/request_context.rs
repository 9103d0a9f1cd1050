//! Where a request came from, for the audit log: the client's address (behind a
//! trusted proxy, the address the proxy forwarded), its user agent, and its
//! correlation id.

use std::net::IpAddr;

use actix_web::HttpRequest;

use crate::audit::{RequestContext, bounded_text};
use crate::state::AppState;

/// The request's context for the audit events it causes.
pub fn request_context(state: &AppState, req: &HttpRequest) -> RequestContext {
    RequestContext {
        ip: client_ip(state, req).map(|ip| ip.to_string()),
        user_agent: req
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .map(|v| bounded_text(&String::from_utf8_lossy(v.as_bytes())))
            .filter(|v| !v.is_empty()),
        correlation_id: Some(correlation_id(req)),
        cross_origin: cross_origin(state, req),
    }
}

/// The request's `Origin` when it is not this server's own (browsers send `Origin`
/// on same-origin POSTs too).
fn cross_origin(state: &AppState, req: &HttpRequest) -> Option<String> {
    let origin = req.headers().get(actix_web::http::header::ORIGIN)?;
    let origin = bounded_text(&String::from_utf8_lossy(origin.as_bytes()));
    let own = super::base_url::base_url(state, req);
    (!origin.is_empty() && !origin.eq_ignore_ascii_case(own.trim_end_matches('/')))
        .then_some(origin)
}

/// The request's correlation id (see [`super::request_id`]): the same for every caller
/// within one request, so its audit events and its error body carry the same id.
pub fn correlation_id(req: &HttpRequest) -> String {
    super::request_id::request_ids(req).correlation_id
}

/// The TCP peer; when that is a trusted proxy, the nearest address in
/// `X-Forwarded-For` that is not one (read right to left, as each proxy appends).
pub fn client_ip(state: &AppState, req: &HttpRequest) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip().to_canonical();
    let proxies = &state.settings.trusted_proxies;
    let trusted = |ip: IpAddr| proxies.iter().any(|r| r.contains(ip));
    if !trusted(peer) {
        return Some(peer);
    }
    let forwarded: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    for hop in forwarded.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) if trusted(ip.to_canonical()) => continue,
            Ok(ip) => return Some(ip.to_canonical()),
            Err(_) => break,
        }
    }
    Some(peer)
}
