//! The public base URL a request reached us at: what issuers, metadata and links are
//! built from.

use actix_web::HttpRequest;

use super::client_ip::is_trusted_proxy;
use crate::state::AppState;

/// The public base URL of this request: the configured public URL; else, from a
/// trusted proxy, `X-Forwarded-Proto://X-Forwarded-Host`; else the default.
pub fn base_url(state: &AppState, req: &HttpRequest) -> String {
    if state.settings.public_url.is_some() || state.settings.trusted_proxies.is_empty() {
        return state.public_url.clone();
    }
    let trusted = req
        .peer_addr()
        .is_some_and(|peer| is_trusted_proxy(&state.settings, peer.ip()));
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    match (trusted, header("x-forwarded-host")) {
        (true, Some(host)) if valid_host(host) => {
            let proto = match header("x-forwarded-proto") {
                Some(p) if p.eq_ignore_ascii_case("https") => "https",
                Some(p) if p.eq_ignore_ascii_case("http") => "http",
                _ => "http",
            };
            format!("{proto}://{}", host.to_ascii_lowercase())
        }
        _ => state.public_url.clone(),
    }
}

/// A host[:port] with nothing that could break out of a URL.
fn valid_host(host: &str) -> bool {
    host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}
