//! The ids of a request: the request id (the client's `x-request-id` or
//! `client-request-id` when it sent a valid one, else a fresh GUID), written on the
//! access log line and in every response's `x-request-id`; and the correlation id (the
//! client's `client-request-id`, else the request id), which Azure-shaped errors, Graph
//! errors and audit events carry. Assigned once, by the access log middleware, and
//! kept in the request's extensions.

use actix_web::http::header::HeaderMap;
use actix_web::{HttpMessage, HttpRequest};

/// Characters of a client's id kept at most; longer ids are replaced by our own.
pub const MAX_ID: usize = 64;

/// The ids one request is known by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestIds {
    /// `trace_id` of Entra errors, `request-id` of Graph errors, `x-request-id`.
    pub request_id: String,
    /// `correlation_id` of Entra errors and audit events, Graph's `client-request-id`.
    pub correlation_id: String,
    /// The client asked for its `client-request-id` back (`return-client-request-id: true`).
    pub echo_client_request_id: bool,
}

/// The request's ids: those assigned on its way in, else made now and kept for the
/// rest of the request (a request built without the middleware, e.g. in unit tests).
pub fn request_ids(req: &HttpRequest) -> RequestIds {
    if let Some(ids) = req.extensions().get::<RequestIds>() {
        return ids.clone();
    }
    let ids = RequestIds::of(req.headers(), req.query_string());
    req.extensions_mut().insert(ids.clone());
    ids
}

impl RequestIds {
    /// The ids of a request with these headers and query string.
    pub fn of(headers: &HeaderMap, query: &str) -> RequestIds {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        // MSAL sends it as a header, and on browser redirects as a query parameter.
        let client_request_id = header("client-request-id")
            .or_else(|| {
                query
                    .split('&')
                    .find_map(|kv| kv.strip_prefix("client-request-id="))
            })
            .filter(|id| valid(id));
        let request_id = header("x-request-id")
            .filter(|id| valid(id))
            .or(client_request_id)
            .map_or_else(
                || crate::crypto::secrets::uuid_v4().to_string(),
                str::to_owned,
            );
        let echo = header("return-client-request-id")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
        RequestIds {
            correlation_id: client_request_id.map_or_else(|| request_id.clone(), str::to_owned),
            request_id,
            echo_client_request_id: echo,
        }
    }
}

/// A client's id is used when it is 1 to [`MAX_ID`] characters of letters, digits and
/// `-_.:+/=@`: enough for GUIDs, W3C trace ids and load balancers' ids, and nothing a
/// log line or a header would need to escape.
fn valid(id: &str) -> bool {
    (1..=MAX_ID).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:+/=@".contains(&b))
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;

    fn ids(headers: &[(&'static str, &str)], query: &str) -> RequestIds {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(
                HeaderName::from_static(k),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        RequestIds::of(&map, query)
    }

    #[test]
    fn a_clients_ids_are_kept_when_valid_and_replaced_when_not() {
        let given = ids(&[("x-request-id", "lb-1234")], "");
        assert_eq!(given.request_id, "lb-1234");
        assert_eq!(given.correlation_id, "lb-1234");
        let msal = ids(&[("client-request-id", "c0ffee")], "");
        assert_eq!(
            (msal.request_id.as_str(), msal.correlation_id.as_str()),
            ("c0ffee", "c0ffee")
        );
        let both = ids(&[("x-request-id", "r1"), ("client-request-id", "c1")], "");
        assert_eq!(
            (both.request_id.as_str(), both.correlation_id.as_str()),
            ("r1", "c1")
        );
        let query = ids(&[], "a=b&client-request-id=q-1");
        assert_eq!(query.correlation_id, "q-1");
        for bad in [
            "",
            "has space",
            "quote\"",
            &"x".repeat(65),
            "a\\b",
            "<script>",
        ] {
            let made = ids(&[("x-request-id", bad)], "");
            assert_ne!(made.request_id, bad);
            assert!(uuid::Uuid::parse_str(&made.request_id).is_ok(), "{bad:?}");
            assert_eq!(made.request_id, made.correlation_id);
        }
        assert!(!given.echo_client_request_id);
        assert!(ids(&[("return-client-request-id", "True")], "").echo_client_request_id);
    }
}
