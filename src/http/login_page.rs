//! The sign-in form that `/authorize` shows, and `POST /login`, its answer.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::SecretString;
use serde::Deserialize;

use super::csrf;
use super::flow::{continued, flow_link};
use super::pages::{self, LoginPage};
use super::params;
use super::request_context::request_context;
use super::sign_in::complete_sign_in;
use super::signup::{FORGOT_PASSWORD_PATH, SIGN_UP_PATH};
use crate::directory::service::TenantInfo;
use crate::oauth::authorization_code::{AuthorizationParams, AuthorizationRequest};
use crate::oauth::{ErrorCode, Reason, sign_in, user_flows};
use crate::state::AppState;

/// The sign-in form posts here.
pub const LOGIN_PATH: &str = "/login";

/// Renders the sign-in form, with a CSRF cookie (reused if the browser has one).
pub async fn show(
    state: &AppState,
    req: &HttpRequest,
    tenant: &TenantInfo,
    request: &AuthorizationRequest,
    status: StatusCode,
    email: String,
    error: Option<String>,
) -> HttpResponse {
    let mut res = HttpResponse::build(status);
    let csrf_token = match csrf::form_token(state, req, &mut res).await {
        Ok(t) => t,
        Err(e) => return pages::error_page(&tenant.display_name, &e),
    };
    let flows = match user_flows::flows(state, &tenant.id).await {
        Ok(f) => f,
        Err(e) => return pages::error_page(&tenant.display_name, &e),
    };
    let providers = state
        .providers
        .of_tenant(&tenant.id)
        .iter()
        .map(|p| {
            (
                p.config.label().to_owned(),
                super::broker::start_link(p, tenant, request),
            )
        })
        .collect::<Vec<_>>();
    let local_form = providers.is_empty() || !state.providers.hides_local_sign_in(&tenant.id);
    let page = LoginPage {
        providers,
        local_form,
        tenant_name: tenant.display_name.clone(),
        tenant_id: tenant.id.clone(),
        client_name: request.client.name.clone(),
        action: LOGIN_PATH.into(),
        csrf_token,
        hidden: request.params.pairs(),
        email,
        error,
        sign_up: flows
            .sign_up
            .then(|| flow_link(SIGN_UP_PATH, tenant, request)),
        forgot_password: flows
            .forgot_password
            .then(|| flow_link(FORGOT_PASSWORD_PATH, tenant, request)),
    };
    pages::html_with(res, &page, "")
}

#[derive(Deserialize)]
pub struct LoginForm {
    tenant: Option<String>,
    email: Option<String>,
    password: Option<String>,
    csrf_token: Option<String>,
    #[serde(flatten)]
    params: AuthorizationParams,
}

/// `POST /login`: the sign-in form's answer.
pub async fn login(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let form: LoginForm = match params::parse(&body) {
        Ok(f) => f,
        Err(e) => return pages::error_page("localidp", &e),
    };
    let (tenant, request) = match continued(&state, &req, form.tenant.as_deref(), form.params).await
    {
        Ok(c) => c,
        Err(page) => return page,
    };
    let email = form.email.unwrap_or_default().trim().to_owned();
    let again = |status, message: &str| {
        show(
            &state,
            &req,
            &tenant,
            &request,
            status,
            email.clone(),
            Some(message.to_owned()),
        )
    };
    if state.providers.hides_local_sign_in(&tenant.id) {
        let e = crate::oauth::OAuthError::invalid_request(
            Reason::MalformedRequest,
            "This tenant signs in only through its identity providers.",
        );
        return pages::error_page(&tenant.display_name, &e);
    }
    match csrf::checked(&state, &req, form.csrf_token.as_deref()).await {
        Ok(true) => {}
        Ok(false) => return again(StatusCode::FORBIDDEN, csrf::FAILED).await,
        Err(e) => return pages::error_page(&tenant.display_name, &e),
    }
    let password = form.password.unwrap_or_default();
    if email.is_empty() || password.is_empty() {
        return again(
            StatusCode::BAD_REQUEST,
            "Enter your email address and your password.",
        )
        .await;
    }
    let context = request_context(&state, &req);
    let source = sign_in::SignInSource {
        via: "login_form",
        client_id: Some(&request.client.client_id),
        request: &context,
    };
    let password = SecretString::from(password);
    let profile =
        match sign_in::authenticate_user(&state, &tenant.id, &email, password, &source).await {
            Ok(p) => p,
            // A temporary password, and the right one: choose a new one.
            Err(e) if e.reason == Reason::PasswordExpired => {
                return super::password_change::show(
                    &state,
                    &req,
                    &tenant,
                    &request,
                    StatusCode::OK,
                    email,
                    None,
                )
                .await;
            }
            Err(e) if e.code == ErrorCode::InvalidGrant => {
                return again(StatusCode::UNAUTHORIZED, &e.description).await;
            }
            Err(e) => {
                return again(StatusCode::SERVICE_UNAVAILABLE, &e.description).await;
            }
        };
    complete_sign_in(&state, &req, &tenant, &request, &profile).await
}
