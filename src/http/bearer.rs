//! RFC 6750 §2.1: the access token a request carries in `Authorization: Bearer`.

use actix_web::HttpRequest;
use actix_web::http::header;

use super::error::BearerError;

pub fn bearer_token(req: &HttpRequest) -> Result<&str, BearerError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or(BearerError::Missing)?
        .to_str()
        .map_err(|_| BearerError::Invalid("The Authorization header is malformed.".into()))?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim())
        }
        _ => Err(BearerError::Invalid(
            "The Authorization header must be 'Bearer <token>'.".into(),
        )),
    }
}
