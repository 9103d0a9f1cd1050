//! One place that turns domain errors into HTTP: RFC 6749 §5.2 bodies for OAuth
//! endpoints, RFC 6750 §3 challenges for bearer-protected ones.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use serde_json::json;

use super::request_id::{RequestIds, request_ids};
use crate::oauth::authority::{Authority, Flavour};
use crate::oauth::verify::VerifyError;
use crate::oauth::{ErrorCode, OAuthError, Reason};

/// How an OAuth error is written: plain RFC 6749, or as Entra / B2C write theirs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorFlavour {
    Plain,
    Entra,
    B2c,
}

impl ErrorFlavour {
    pub fn of(authority: &Authority) -> Self {
        match authority.flavour {
            Flavour::Short => ErrorFlavour::Plain,
            Flavour::Entra => ErrorFlavour::Entra,
            Flavour::B2c { .. } => ErrorFlavour::B2c,
        }
    }

    pub fn from_policy(policy: Option<&str>) -> Self {
        match policy {
            Some(p) if !p.is_empty() => ErrorFlavour::B2c,
            _ => ErrorFlavour::Entra,
        }
    }
}

/// An OAuth error as the token endpoint (and `/auth/login`) answers it.
#[derive(Debug)]
pub struct OAuthResponse {
    pub error: OAuthError,
    pub flavour: ErrorFlavour,
    /// The request's ids: Entra's `trace_id` is the request id, its `correlation_id`
    /// MSAL's `client-request-id` (else the request id), as in the audit events.
    pub ids: Option<RequestIds>,
    /// `/auth/login` answers bad credentials with 401 rather than 400.
    pub credentials_are_401: bool,
}

impl OAuthResponse {
    pub fn plain(error: OAuthError) -> Self {
        OAuthResponse {
            error,
            flavour: ErrorFlavour::Plain,
            ids: None,
            credentials_are_401: false,
        }
    }

    pub fn flavoured(error: OAuthError, flavour: ErrorFlavour, req: &HttpRequest) -> Self {
        OAuthResponse {
            error,
            flavour,
            ids: Some(request_ids(req)),
            credentials_are_401: false,
        }
    }
}

impl From<OAuthError> for OAuthResponse {
    fn from(error: OAuthError) -> Self {
        OAuthResponse::plain(error)
    }
}

impl std::fmt::Display for OAuthResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl ResponseError for OAuthResponse {
    fn status_code(&self) -> StatusCode {
        match self.error.code {
            ErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
            ErrorCode::InvalidGrant if self.credentials_are_401 => StatusCode::UNAUTHORIZED,
            ErrorCode::TemporarilyUnavailable if self.error.reason == Reason::Throttled => {
                StatusCode::TOO_MANY_REQUESTS
            }
            ErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status_code());
        // RFC 6749 §5.1: token responses are never cached.
        res.insert_header((header::CACHE_CONTROL, "no-store"));
        match self.error.code {
            ErrorCode::InvalidClient => {
                res.insert_header((header::WWW_AUTHENTICATE, r#"Basic realm="localidp""#));
            }
            ErrorCode::TemporarilyUnavailable => {
                res.insert_header((header::RETRY_AFTER, "1"));
            }
            // RFC 9110 §15.5.2: every 401 names a scheme.
            ErrorCode::InvalidGrant if self.credentials_are_401 => {
                res.insert_header((header::WWW_AUTHENTICATE, r#"Bearer realm="localidp""#));
            }
            _ => {}
        }
        let error = self.error.code.as_str();
        let ids = self.ids.clone().unwrap_or_else(|| {
            let id = crate::crypto::secrets::uuid_v4().to_string();
            RequestIds {
                request_id: id.clone(),
                correlation_id: id,
                echo_client_request_id: false,
            }
        });
        let (trace_id, correlation_id) = (ids.request_id, ids.correlation_id);
        let timestamp = chrono::Utc::now().format("%Y-%m-%d %H:%M:%SZ").to_string();
        let body = match self.flavour {
            ErrorFlavour::Plain => json!({
                "error": error,
                "error_description": self.error.description,
            }),
            ErrorFlavour::Entra => {
                let code = self.error.reason.entra_code();
                let error = self.error.reason.entra_error().unwrap_or(error);
                json!({
                    "error": error,
                    "error_description": format!(
                        "AADSTS{code}: {}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {timestamp}",
                        self.error.description
                    ),
                    "error_codes": [code],
                    "timestamp": timestamp,
                    "trace_id": trace_id,
                    "correlation_id": correlation_id,
                })
            }
            ErrorFlavour::B2c => {
                let code = self.error.reason.b2c_code();
                json!({
                    "error": error,
                    "error_description": format!(
                        "AADB2C{code}: {}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {timestamp}\r\n",
                        self.error.description
                    ),
                })
            }
        };
        res.json(body)
    }
}

/// A refused bearer token (RFC 6750 §3.1).
#[derive(Debug)]
pub enum BearerError {
    Missing,
    Invalid(String),
    /// §3.1 `invalid_request`: the request's own parameters are wrong (400).
    BadRequest(String),
    Unavailable,
}

impl From<VerifyError> for BearerError {
    fn from(e: VerifyError) -> Self {
        match e {
            VerifyError::Invalid(msg) => BearerError::Invalid(msg),
            VerifyError::Unavailable(msg) => {
                tracing::error!(error = %msg, "token verification unavailable");
                BearerError::Unavailable
            }
        }
    }
}

impl std::fmt::Display for BearerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BearerError::Missing => f.write_str("no bearer token"),
            BearerError::Invalid(m) | BearerError::BadRequest(m) => f.write_str(m),
            BearerError::Unavailable => f.write_str("verification unavailable"),
        }
    }
}

fn quoted(s: &str) -> String {
    s.replace(['"', '\\'], "'")
}

impl ResponseError for BearerError {
    fn status_code(&self) -> StatusCode {
        match self {
            BearerError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            BearerError::BadRequest(_) => StatusCode::BAD_REQUEST,
            _ => StatusCode::UNAUTHORIZED,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let (challenge, code, description) = match self {
            // §3.1: no error code when the request carried no credentials.
            BearerError::Missing => (
                r#"Bearer realm="localidp""#.to_owned(),
                "invalid_token",
                "No bearer token was sent (Authorization: Bearer <token>).".to_owned(),
            ),
            BearerError::Invalid(msg) => (
                format!(
                    r#"Bearer realm="localidp", error="invalid_token", error_description="{}""#,
                    quoted(msg)
                ),
                "invalid_token",
                msg.clone(),
            ),
            BearerError::BadRequest(msg) => {
                return HttpResponse::BadRequest()
                    .insert_header((
                        header::WWW_AUTHENTICATE,
                        r#"Bearer realm="localidp", error="invalid_request""#,
                    ))
                    .json(json!({ "error": "invalid_request", "error_description": msg }));
            }
            BearerError::Unavailable => {
                return HttpResponse::ServiceUnavailable()
                    .insert_header((header::RETRY_AFTER, "1"))
                    .json(json!({
                        "error": "temporarily_unavailable",
                        "error_description": "The token cannot be checked right now; try again.",
                    }));
            }
        };
        let mut res = HttpResponse::Unauthorized();
        if let Ok(v) = HeaderValue::from_str(&challenge) {
            res.insert_header((header::WWW_AUTHENTICATE, v));
        }
        res.json(json!({ "error": code, "error_description": description }))
    }
}

fn body_error(status: StatusCode, description: String) -> actix_web::Error {
    let body = json!({ "error": "invalid_request", "error_description": description });
    actix_web::error::InternalError::from_response(
        description,
        HttpResponse::build(status)
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(body),
    )
    .into()
}

/// Form bodies (the token endpoint): 415 for another content type, 413 when too
/// large, 400 otherwise.
pub fn form_config(limit: usize) -> web::FormConfig {
    use actix_web::error::UrlencodedError as E;
    web::FormConfig::default()
        .limit(limit)
        .error_handler(|err, _req: &HttpRequest| match err {
            E::ContentType => body_error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "The body must be application/x-www-form-urlencoded.".into(),
            ),
            E::Overflow { .. } => body_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "The request body is too large.".into(),
            ),
            E::Parse(_) | E::Encoding => body_error(
                StatusCode::BAD_REQUEST,
                "The form body could not be parsed.".into(),
            ),
            other => body_error(
                StatusCode::BAD_REQUEST,
                format!("Malformed form body: {other}"),
            ),
        })
}

/// JSON bodies: 415 for another content type, 413 when too large, 400 for broken
/// JSON, 422 for JSON of the wrong shape.
pub fn json_config(limit: usize) -> web::JsonConfig {
    use actix_web::error::JsonPayloadError as E;
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(|err, _req: &HttpRequest| match err {
            E::ContentType => body_error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "The body must be application/json.".into(),
            ),
            E::Overflow { .. } | E::OverflowKnownLength { .. } => body_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "The request body is too large.".into(),
            ),
            E::Deserialize(e) if e.is_data() => body_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("Invalid request: {e}"),
            ),
            E::Deserialize(e) => {
                body_error(StatusCode::BAD_REQUEST, format!("Malformed JSON: {e}"))
            }
            other => body_error(StatusCode::BAD_REQUEST, format!("Malformed body: {other}")),
        })
}

pub async fn not_found() -> HttpResponse {
    HttpResponse::NotFound().json(json!({
        "error": "not_found",
        "error_description": "No endpoint at this path.",
    }))
}
