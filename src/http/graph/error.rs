//! Graph's error body: `{"error":{"code","message","innerError":{"date","request-id",
//! "client-request-id"}}}`, with Graph's codes.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::json;

use crate::http::request_id::request_ids;
use crate::state::AppState;

/// A refusal as Graph words it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl GraphError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        GraphError {
            status,
            code,
            message: message.into(),
        }
    }

    /// 401: no token, or one Graph does not accept.
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            message,
        )
    }

    /// 403: the token lacks the permission.
    pub fn denied() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        )
    }

    pub fn not_found(id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            format!(
                "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
            ),
        )
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Request_BadRequest", message)
    }

    /// An enabled app role removed or changed: Graph wants it disabled first.
    pub fn enabled_entitlement(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "CannotDeleteOrUpdateEnabledEntitlement",
            message,
        )
    }

    /// What Graph answers a `$filter`, `$select` or `$top` it cannot use.
    pub fn bad_query(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    /// An advanced query asked for without what Graph needs for it.
    pub fn unsupported_query(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Request_UnsupportedQuery", message)
    }

    /// A write that would give a second object the same user principal name.
    pub fn duplicate(property: &str) -> Self {
        Self::bad_request(format!(
            "Another object with the same value for property {property} already exists."
        ))
    }

    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "serviceNotAvailable",
            "The service is temporarily unavailable; try again.",
        )
    }

    /// The response, with the request's ids and the time in `innerError`.
    pub fn respond(&self, state: &AppState, req: &HttpRequest) -> HttpResponse {
        let ids = request_ids(req);
        let (request_id, client_request_id) = (ids.request_id, ids.correlation_id);
        let date = chrono::DateTime::from_timestamp(state.clock.now(), 0)
            .unwrap_or_default()
            .format("%Y-%m-%dT%H:%M:%S")
            .to_string();
        let body = json!({
            "error": {
                "code": self.code,
                "message": self.message,
                "innerError": {
                    "date": date,
                    "request-id": request_id,
                    "client-request-id": client_request_id,
                }
            }
        });
        let mut res = HttpResponse::build(self.status);
        res.insert_header(("request-id", request_id.as_str()))
            .insert_header(("client-request-id", client_request_id.as_str()));
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            res.insert_header((actix_web::http::header::RETRY_AFTER, "1"));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            res.insert_header((
                "www-authenticate",
                "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\"",
            ));
        }
        res.json(body)
    }
}

impl From<crate::db::DbError> for GraphError {
    fn from(e: crate::db::DbError) -> Self {
        tracing::error!(error = %e, "graph request failed");
        GraphError::unavailable()
    }
}
