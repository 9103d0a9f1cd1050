//! Brokered sign-in's pages: `GET /federation/start` (the login page's "Sign in with
//! …" buttons, and `/authorize` with a hint) sends the browser to the upstream
//! provider; `GET /federation/callback`, the one redirect URI registered there,
//! finishes the sign-in and answers the application as a local sign-in would.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::base_url::base_url;
use super::cookies;
use super::flow::{continued, flow_link};
use super::pages;
use super::params::parse;
use super::request_context::request_context;
use super::response_mode::reply_error;
use super::sign_in::complete_sign_in;
use crate::audit::{AuditEvent, kind};
use crate::directory::service::TenantInfo;
use crate::federation::provider::Provider;
use crate::oauth::authorization_code::{AuthorizationParams, AuthorizationRequest};
use crate::oauth::broker::{self, Callback, PENDING_LIFETIME};
use crate::oauth::{OAuthError, Reason, broker_link};
use crate::state::AppState;

pub const START_PATH: &str = "/federation/start";
pub const CALLBACK_PATH: &str = "/federation/callback";
/// The random value that binds a pending upstream sign-in to this browser.
const BROWSER_COOKIE: &str = "localidp_broker";

/// The callback URL to register at the upstream provider.
pub fn callback_url(state: &AppState, req: &HttpRequest) -> String {
    format!("{}{CALLBACK_PATH}", base_url(state, req))
}

/// The "Sign in with …" link of a provider, carrying the authorization request.
pub fn start_link(
    provider: &Provider,
    tenant: &TenantInfo,
    request: &AuthorizationRequest,
) -> String {
    let link = flow_link(START_PATH, tenant, request);
    let name =
        serde_urlencoded::to_string([("provider", &provider.config.name)]).unwrap_or_default();
    format!("{link}&{name}")
}

fn bad_request(tenant_name: &str, message: &str) -> HttpResponse {
    pages::error_page(
        tenant_name,
        &OAuthError::invalid_request(Reason::MalformedRequest, message),
    )
}

#[derive(Deserialize)]
pub struct StartQuery {
    provider: Option<String>,
    tenant: Option<String>,
    #[serde(flatten)]
    params: AuthorizationParams,
}

/// `GET /federation/start?provider=…&tenant=…&{authorization request}`.
pub async fn start(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let query: StartQuery = match parse(req.query_string().as_bytes()) {
        Ok(q) => q,
        Err(e) => return pages::error_page("localidp", &e),
    };
    let (tenant, request) =
        match continued(&state, &req, query.tenant.as_deref(), query.params).await {
            Ok(c) => c,
            Err(page) => return page,
        };
    let name = query.provider.unwrap_or_default();
    match state.providers.named(&tenant.id, &name) {
        Some(provider) => send_upstream(&state, &req, &tenant, &request, &provider).await,
        None => bad_request(
            &tenant.display_name,
            &format!("The identity provider {name:?} is not offered for this tenant."),
        ),
    }
}

/// Sends the browser to the provider's authorization endpoint (an OAuth error to the
/// application when the provider cannot be reached).
pub async fn send_upstream(
    state: &AppState,
    req: &HttpRequest,
    tenant: &TenantInfo,
    request: &AuthorizationRequest,
    provider: &Provider,
) -> HttpResponse {
    let browser = req
        .cookie(BROWSER_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| v.len() >= 32)
        .unwrap_or_else(crate::crypto::secrets::generate);
    let callback = callback_url(state, req);
    match broker::begin(
        state,
        provider,
        &tenant.id,
        &request.params,
        &callback,
        &browser,
    )
    .await
    {
        Ok(location) => {
            // Set again on every start: the cookie must outlive this request's row.
            let mut res = HttpResponse::Found();
            let secure = cookies::is_secure(state, req);
            res.cookie(cookies::cookie(
                BROWSER_COOKIE.into(),
                browser,
                secure,
                Some(PENDING_LIFETIME),
            ));
            res.insert_header((header::LOCATION, location))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .finish()
        }
        Err(e) => reply_error(&request.reply, e.error, &e.description),
    }
}

/// `GET /federation/callback?code=…&state=…` (or `error=…`), from the provider.
pub async fn callback(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let answer: Callback = match parse(req.query_string().as_bytes()) {
        Ok(c) => c,
        Err(e) => return pages::error_page("localidp", &e),
    };
    let browser = req.cookie(BROWSER_COOKIE).map(|c| c.value().to_owned());
    let pending = match broker::take(&state, answer.state.as_deref(), browser.as_deref()).await {
        Ok(p) => p,
        Err(message) => return bad_request("localidp", message),
    };
    let Ok(params) = serde_json::from_str::<AuthorizationParams>(&pending.params) else {
        return bad_request("localidp", broker::STALE);
    };
    let (tenant, request) = match continued(&state, &req, Some(&pending.tenant_id), params).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let Some(provider) = state.providers.named(&tenant.id, &pending.provider) else {
        return bad_request(&tenant.display_name, broker::STALE);
    };
    let upstream_state = answer.state.clone().unwrap_or_default();
    let callback = callback_url(&state, &req);
    let result = match broker::redeem(&state, &provider, &answer, &upstream_state, &callback).await
    {
        Ok(claims) => broker_link::local_user(&state, &provider, &tenant.id, &claims).await,
        Err(e) => Err(e),
    };
    let context = request_context(&state, &req);
    let event = AuditEvent::sign_in(kind::SIGN_IN_FEDERATED)
        .request(&context)
        .tenant(&tenant.id)
        .client(&request.client.client_id)
        .detail("provider", provider.config.name.as_str());
    match result {
        Ok((profile, matched)) => {
            let event = event
                .user(&profile.user.id)
                .detail("matched", matched.as_str());
            state.audit.record(event).await;
            complete_sign_in(&state, &req, &tenant, &request, &profile).await
        }
        Err(e) => {
            state.audit.record(event.failure(e.error)).await;
            reply_error(&request.reply, e.error, &e.description)
        }
    }
}
