//! `GET/POST /authorize` and `/{tenant}/oauth2/v2.0/authorize` (RFC 6749 §4.1.1,
//! OIDC Core §3.1.2): a code at once for a browser with a live SSO session, else the
//! sign-in form.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::base_url::base_url;
use super::broker;
use super::cookies::sso_cookie;
use super::login_page;
use super::pages;
use super::params;
use super::request_id::{RequestIds, request_ids};
use super::response_mode::{authorize_error, reply_code, reply_error};
use super::tenant::{PolicyQuery, resolve};
use crate::oauth::authority::Authority;
use crate::oauth::authorization_code::{self, AuthorizationParams, Prompt};
use crate::oauth::session;
use crate::state::AppState;

pub async fn default_tenant_authorize(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    match state.directory.default_tenant().await {
        Ok(tenant) => {
            let authority = Authority::short(tenant, base_url(&state, &req));
            authorize(&state, &req, authority, &body).await
        }
        Err(e) => pages::error_page("localidp", &e.into()),
    }
}

/// Entra's `/{tenant}/oauth2/v2.0/authorize`, and B2C's with `?p={policy}`.
pub async fn tenant_authorize(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let policy = match PolicyQuery::of(&req) {
        Ok(p) => p,
        Err(e) => return pages::error_page("localidp", &e),
    };
    match resolve(&state, base_url(&state, &req), &path, policy.as_deref()).await {
        Ok(authority) => authorize(&state, &req, authority, &body).await,
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
    match resolve(&state, base_url(&state, &req), &tenant, Some(&policy)).await {
        Ok(authority) => authorize(&state, &req, authority, &body).await,
        Err(e) => pages::error_page("localidp", &e),
    }
}

async fn authorize(
    state: &AppState,
    req: &HttpRequest,
    authority: Authority,
    body: &[u8],
) -> HttpResponse {
    let b2c = authority.is_b2c();
    let Authority { tenant, base, .. } = authority;
    let params: AuthorizationParams = match params::from_get_or_post(req, body) {
        Ok(p) => p,
        Err(e) => return pages::error_page(&tenant.display_name, &e),
    };
    let request = match authorization_code::validate(state, &tenant, &base, params).await {
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
        // OIDC Core §3.1.2.6: no page may be shown. Entra and B2C say so in their words.
        let (error, description) = silent_sign_in_refused(b2c, request_ids(req));
        return reply_error(&request.reply, error, &description);
    }
    // A hint naming an upstream provider, or a tenant that signs in only through its
    // one provider: straight there, no chooser.
    let hinted = [&request.params.domain_hint, &request.params.idp]
        .into_iter()
        .flatten()
        .find_map(|hint| state.providers.hinted(&tenant.id, hint));
    let only = || {
        let all = state.providers.of_tenant(&tenant.id);
        (all.len() == 1 && state.providers.hides_local_sign_in(&tenant.id)).then(|| all[0].clone())
    };
    if let Some(provider) = hinted.or_else(only) {
        return broker::send_upstream(state, req, &tenant, &request, &provider).await;
    }
    let email = request.login_hint.clone().unwrap_or_default();
    login_page::show(state, req, &tenant, &request, StatusCode::OK, email, None).await
}

/// The answer to `prompt=none` without a session, as Entra (`login_required`,
/// AADSTS50058) and B2C (`interaction_required`, AADB2C90077) give it; MSAL.js turns
/// both into an `InteractionRequiredAuthError`.
fn silent_sign_in_refused(b2c: bool, ids: RequestIds) -> (&'static str, String) {
    let (trace_id, correlation_id) = (ids.request_id, ids.correlation_id);
    let timestamp = chrono::Utc::now().format("%Y-%m-%d %H:%M:%SZ");
    if b2c {
        (
            "interaction_required",
            format!(
                "AADB2C90077: User does not have an existing session and request prompt parameter has a value of 'None'.\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {timestamp}\r\n"
            ),
        )
    } else {
        (
            "login_required",
            format!(
                "AADSTS50058: A silent sign-in request was sent but no user is signed in.\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {timestamp}"
            ),
        )
    }
}
