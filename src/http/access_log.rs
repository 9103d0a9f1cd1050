//! The access log: one info line per request under the target `localidp::request`.

use actix_web::dev::ServiceRequest;
use actix_web::middleware::Logger;
use actix_web::web;

use super::client_ip::client_ip;
use crate::state::AppState;

/// Characters of the path written at most.
const MAX_PATH: usize = 200;
/// Characters of the method written at most (extension methods are client text).
const MAX_METHOD: usize = 16;

/// Client address (the peer, or behind a trusted proxy the forwarded address),
/// method, path, status, body bytes, milliseconds. Never the query string (it can
/// carry codes, tokens or passwords), bodies or headers; what the client chose
/// (method, path) is cut to a bounded length and escaped, so a request cannot write
/// more than one short line.
pub fn access_log() -> Logger {
    Logger::new(r#"%{client}xi "%{method}xi %{path}xi" %s %b %Dms"#)
        .custom_request_replace("client", client)
        .custom_request_replace("method", |req| bounded(req.method().as_str(), MAX_METHOD))
        .custom_request_replace("path", |req| bounded(req.path(), MAX_PATH))
        .log_target("localidp::request")
}

fn client(req: &ServiceRequest) -> String {
    let ip = match req.app_data::<web::Data<AppState>>() {
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
