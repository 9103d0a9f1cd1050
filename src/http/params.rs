//! Parameters of the browser endpoints: a query string or a form body, decoded the
//! same way (bodies are capped at `MAX_BODY_BYTES` like every other), and the
//! authorization request each page of the flow carries to the next: out in links
//! and hidden fields, back in validated again.

use std::sync::Arc;

use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse};
use serde::de::DeserializeOwned;

use super::base_url::base_url;
use super::pages;
use super::response_mode::authorize_error;
use super::tenant;
use crate::directory::service::TenantInfo;
use crate::oauth::authorization_code::{self, AuthorizationParams, AuthorizationRequest};
use crate::oauth::{OAuthError, Reason};
use crate::state::AppState;

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

/// A link to another page of the flow, carrying the authorization request along.
pub fn flow_link(path: &str, tenant: &TenantInfo, request: &AuthorizationRequest) -> String {
    let mut pairs = vec![("tenant", tenant.id.clone())];
    pairs.extend(request.params.pairs());
    format!(
        "{path}?{}",
        serde_urlencoded::to_string(&pairs).unwrap_or_default()
    )
}

/// The tenant and the validated authorization request that a page of the flow (the
/// sign-in form, sign-up, cancel) continues; on failure, the page or redirect to answer.
pub async fn continued(
    state: &AppState,
    req: &HttpRequest,
    tenant: Option<&str>,
    params: AuthorizationParams,
) -> Result<(Arc<TenantInfo>, AuthorizationRequest), HttpResponse> {
    let tenant = tenant::named_or_default(state, tenant)
        .await
        .map_err(|e| pages::error_page("localidp", &e))?;
    let request = authorization_code::validate(state, &tenant, &base_url(state, req), params)
        .await
        .map_err(|e| authorize_error(&tenant, e))?;
    Ok((tenant, request))
}
