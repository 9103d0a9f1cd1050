//! The authorization request that each page of the browser flow carries to the
//! next: out in links and hidden form fields, back in validated again.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse};

use super::base_url::base_url;
use super::pages;
use super::response_mode::authorize_error;
use super::tenant;
use crate::directory::service::TenantInfo;
use crate::oauth::authorization_code::{self, AuthorizationParams, AuthorizationRequest};
use crate::state::AppState;

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
