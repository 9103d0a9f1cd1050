//! Shared by the benchmark examples: an `http://` URL on a loopback address, split
//! into the Host header value, the socket address and the path.

use std::net::{SocketAddr, ToSocketAddrs};

pub fn parse_url(url: &str) -> Result<(String, SocketAddr, String), String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("{url}: only http:// URLs are supported"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let addr = authority
        .to_socket_addrs()
        .map_err(|e| format!("{authority}: {e}"))?
        .next()
        .ok_or_else(|| format!("{authority}: no address"))?;
    if !addr.ip().is_loopback() {
        return Err(format!("{url}: only loopback addresses are used"));
    }
    Ok((authority.to_owned(), addr, path.to_owned()))
}
