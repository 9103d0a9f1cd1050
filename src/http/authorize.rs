//! `GET/POST /authorize` and `/{tenant}/oauth2/v2.0/authorize` (RFC 6749 §4.1.1,
//! OIDC Core §3.1.2): a code at once for a browser with a live SSO session, else the
//! sign-in form.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::base_url::base_url;
use super::cookies::sso_cookie;
use super::login_page;
use super::pages;
use super::params;
use super::response_mode::{authorize_error, reply_code, reply_error};
use super::tenant::{find_policy_tenant, find_tenant};
use crate::directory::service::TenantInfo;
use crate::oauth::authorization_code::{self, AuthorizationParams, Prompt};
use crate::oauth::session;
use crate::state::AppState;

pub async fn default_tenant_authorize(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    match state.directory.default_tenant().await {
        Ok(tenant) => authorize(&state, &req, tenant, &body).await,
        Err(e) => pages::error_page("localidp", &e.into()),
    }
}

pub async fn tenant_authorize(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    match find_tenant(&state, &path).await {
        Ok(tenant) => authorize(&state, &req, tenant, &body).await,
        Err(e) => pages::error_page("localidp", &e),
    }
}

/// B2C's `/{tenant}/{policy}/oauth2/v2.0/authorize` (and `/tfp/...`): the policy
/// must be one of the tenant's user flows.
pub async fn policy_authorize(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> HttpResponse {
    let (tenant, policy) = path.into_inner();
    match find_policy_tenant(&state, &tenant, &policy).await {
        Ok(tenant) => authorize(&state, &req, tenant, &body).await,
        Err(e) => pages::error_page("localidp", &e),
    }
}

async fn authorize(
    state: &AppState,
    req: &HttpRequest,
    tenant: Arc<TenantInfo>,
    body: &[u8],
) -> HttpResponse {
    let params: AuthorizationParams = match params::from_get_or_post(req, body) {
        Ok(p) => p,
        Err(e) => return pages::error_page(&tenant.display_name, &e),
    };
    let request =
        match authorization_code::validate(state, &tenant, &base_url(state, req), params).await {
            Ok(r) => r,
            Err(e) => return authorize_error(&tenant, e),
        };
    let session = match sso_cookie(req, &tenant) {
        Some(cookie) => session::current(state, &tenant.id, &cookie).await,
        None => Ok(None),
    };
    let session = match session {
        Ok(s) => s,
        Err(e) => return pages::error_page(&tenant.display_name, &e),
    };
    let now = state.clock.now();
    if let Some(session) = session.filter(|s| request.accepts_session(s, now)) {
        return match authorization_code::issue_code(state, &request, &session).await {
            Ok(code) => reply_code(&request.reply, &code, HttpResponse::Found()),
            Err(e) => pages::error_page(&tenant.display_name, &e),
        };
    }
    if request.prompt == Prompt::None {
        // OIDC Core §3.1.2.6: no page may be shown.
        return reply_error(
            &request.reply,
            "login_required",
            "The user is not signed in and prompt=none forbids asking.",
        );
    }
    let email = request.login_hint.clone().unwrap_or_default();
    login_page::show(state, req, &tenant, &request, StatusCode::OK, email, None).await
}
