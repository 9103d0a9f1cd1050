//! The address a request came from: the TCP peer, or, when the peer is one of the
//! configured trusted proxies, the address the proxies recorded in X-Forwarded-For.

use std::net::IpAddr;

use actix_web::HttpRequest;

use crate::config::Settings;

/// Whether the configured trusted proxies include `ip`.
pub fn is_trusted_proxy(settings: &Settings, ip: IpAddr) -> bool {
    settings.trusted_proxies.iter().any(|r| r.contains(ip))
}

/// The client's address. From an untrusted peer, the peer itself (its X-Forwarded-For
/// is whatever it chose to write). From a trusted proxy, X-Forwarded-For read from the
/// right — each proxy appends the address it saw — past every trusted proxy: the
/// first address no trusted proxy has, else the leftmost. An entry that is not an
/// address ends the walk at the proxy that wrote it.
pub fn client_ip(settings: &Settings, req: &HttpRequest) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    if !is_trusted_proxy(settings, peer) {
        return Some(peer);
    }
    let entries: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    let mut client = peer;
    for entry in entries.iter().rev() {
        if !is_trusted_proxy(settings, client) {
            break;
        }
        match parse_entry(entry) {
            Some(ip) => client = ip,
            None => break,
        }
    }
    Some(client)
}

/// One X-Forwarded-For entry: an address, perhaps with a port (`192.0.2.1:8080`,
/// `[2001:db8::1]:8080`).
fn parse_entry(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    if let Ok(ip) = entry.parse() {
        return Some(ip);
    }
    if let Some(rest) = entry.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    entry.rsplit_once(':')?.0.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ConfigArgs, Settings};
    use actix_web::test::TestRequest;

    fn settings(proxies: &[&str]) -> Settings {
        Settings::from_args(ConfigArgs {
            ephemeral: true,
            trusted_proxies: proxies.iter().map(|p| (*p).to_owned()).collect(),
            ..Default::default()
        })
        .unwrap()
    }

    fn from(peer: &str, forwarded: &[&str]) -> TestRequest {
        let mut req = TestRequest::default().peer_addr(peer.parse().unwrap());
        for f in forwarded {
            req = req.insert_header(("x-forwarded-for", *f));
        }
        req
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn an_untrusted_peers_forwarded_for_is_ignored() {
        let s = settings(&["10.0.0.0/8"]);
        let req = from("192.0.2.9:5000", &["203.0.113.1"]).to_http_request();
        assert_eq!(client_ip(&s, &req), ip("192.0.2.9"));
        let none = settings(&[]);
        let req = from("10.0.0.1:5000", &["203.0.113.1"]).to_http_request();
        assert_eq!(client_ip(&none, &req), ip("10.0.0.1"));
    }

    #[test]
    fn behind_trusted_proxies_the_first_untrusted_address_from_the_right() {
        let s = settings(&["10.0.0.0/8"]);
        // The client forged the leftmost entry; the proxies appended the real one.
        let req =
            from("10.0.0.2:5000", &["198.51.100.66, 203.0.113.1, 10.0.0.1"]).to_http_request();
        assert_eq!(client_ip(&s, &req), ip("203.0.113.1"));
        // Several headers read as one list; ports and brackets are allowed.
        let req =
            from("10.0.0.2:5000", &["203.0.113.5:4444", "[2001:db8::7]:80"]).to_http_request();
        assert_eq!(client_ip(&s, &req), ip("2001:db8::7"));
        // No header: the proxy itself.
        let req = from("10.0.0.2:5000", &[]).to_http_request();
        assert_eq!(client_ip(&s, &req), ip("10.0.0.2"));
        // Garbage stops the walk at the proxy that passed it on.
        let req = from("10.0.0.2:5000", &["203.0.113.1, nonsense"]).to_http_request();
        assert_eq!(client_ip(&s, &req), ip("10.0.0.2"));
        // Only proxies: the leftmost.
        let req = from("10.0.0.2:5000", &["10.0.0.3, 10.0.0.1"]).to_http_request();
        assert_eq!(client_ip(&s, &req), ip("10.0.0.3"));
    }
}
