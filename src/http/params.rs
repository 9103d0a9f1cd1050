//! Parameters of the browser endpoints: a query string or a form body, decoded the
//! same way (bodies are capped at `MAX_BODY_BYTES` like every other).

use actix_web::HttpRequest;
use actix_web::http::Method;
use serde::de::DeserializeOwned;

use crate::oauth::{OAuthError, Reason};

/// Query string or form body, parsed the same way; bad encoding shows a page.
pub fn parse<T: DeserializeOwned>(raw: &[u8]) -> Result<T, OAuthError> {
    let text = std::str::from_utf8(raw).map_err(|_| {
        OAuthError::invalid_request(Reason::MalformedRequest, "The request is not valid UTF-8.")
    })?;
    serde_urlencoded::from_str(text).map_err(|e| {
        OAuthError::invalid_request(
            Reason::MalformedRequest,
            format!("The request parameters cannot be read: {e}."),
        )
    })
}

/// GET carries the parameters in the query, POST in a form body (OIDC Core §3.1.2.1).
pub fn from_get_or_post<T: DeserializeOwned>(
    req: &HttpRequest,
    body: &[u8],
) -> Result<T, OAuthError> {
    if req.method() == Method::POST {
        parse(body)
    } else {
        parse(req.query_string().as_bytes())
    }
}
