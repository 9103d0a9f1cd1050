//! `GET/POST /signup` (behind the tenant's switch), and `GET /forgot-password` and
//! `GET /cancel`, which answer the application with B2C's error codes.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::SecretString;
use serde::Deserialize;

use super::csrf;
use super::flow::{continued, flow_link};
use super::pages::{self, SignUpPage};
use super::params::parse;
use super::request_context::request_context;
use super::response_mode::reply_error;
use super::sign_in::complete_sign_in;
use crate::directory::service::TenantInfo;
use crate::oauth::Reason;
use crate::oauth::authorization_code::{AuthorizationParams, AuthorizationRequest};
use crate::oauth::sign_in::SignInSource;
use crate::oauth::user_flows::{self, SignUp, SignUpError};
use crate::state::AppState;

pub const SIGN_UP_PATH: &str = "/signup";
pub const FORGOT_PASSWORD_PATH: &str = "/forgot-password";
pub const CANCEL_PATH: &str = "/cancel";

#[derive(Deserialize)]
pub struct FlowQuery {
    tenant: Option<String>,
    #[serde(flatten)]
    params: AuthorizationParams,
}

async fn flow_query(
    state: &AppState,
    req: &HttpRequest,
) -> Result<(std::sync::Arc<TenantInfo>, AuthorizationRequest), HttpResponse> {
    let query: FlowQuery =
        parse(req.query_string().as_bytes()).map_err(|e| pages::error_page("localidp", &e))?;
    continued(state, req, query.tenant.as_deref(), query.params).await
}

pub async fn sign_up_page(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let (tenant, request) = match flow_query(&state, &req).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    render(
        &state,
        &req,
        &tenant,
        &request,
        StatusCode::OK,
        Default::default(),
    )
    .await
}

#[derive(Default)]
struct Entered {
    email: String,
    display_name: String,
    error: Option<String>,
}

async fn render(
    state: &AppState,
    req: &HttpRequest,
    tenant: &TenantInfo,
    request: &AuthorizationRequest,
    status: StatusCode,
    entered: Entered,
) -> HttpResponse {
    match user_flows::flows(state, &tenant.id).await {
        Ok(f) if f.sign_up => {}
        Ok(_) => {
            let e = crate::oauth::OAuthError::invalid_request(
                Reason::MalformedRequest,
                "Sign-up is not enabled for this tenant.",
            );
            return pages::error_page(&tenant.display_name, &e);
        }
        Err(e) => return pages::error_page(&tenant.display_name, &e),
    }
    let mut res = HttpResponse::build(status);
    let csrf_token = match csrf::form_token(state, req, &mut res).await {
        Ok(t) => t,
        Err(e) => return pages::error_page(&tenant.display_name, &e),
    };
    let page = SignUpPage {
        tenant_name: tenant.display_name.clone(),
        tenant_id: tenant.id.clone(),
        client_name: request.client.name.clone(),
        action: SIGN_UP_PATH.into(),
        csrf_token,
        hidden: request.params.pairs(),
        email: entered.email,
        display_name: entered.display_name,
        error: entered.error,
        cancel: flow_link(CANCEL_PATH, tenant, request),
    };
    pages::html_with(res, &page, "")
}

#[derive(Deserialize)]
pub struct SignUpForm {
    tenant: Option<String>,
    email: Option<String>,
    display_name: Option<String>,
    password: Option<String>,
    password_confirm: Option<String>,
    csrf_token: Option<String>,
    #[serde(flatten)]
    params: AuthorizationParams,
}

pub async fn sign_up(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let form: SignUpForm = match parse(&body) {
        Ok(f) => f,
        Err(e) => return pages::error_page("localidp", &e),
    };
    let (tenant, request) = match continued(&state, &req, form.tenant.as_deref(), form.params).await
    {
        Ok(c) => c,
        Err(page) => return page,
    };
    let email = form.email.unwrap_or_default().trim().to_owned();
    let display_name = form.display_name.unwrap_or_default();
    let again = |status, message: String| {
        let entered = Entered {
            email: email.clone(),
            display_name: display_name.clone(),
            error: Some(message),
        };
        render(&state, &req, &tenant, &request, status, entered)
    };
    match csrf::checked(&state, &req, form.csrf_token.as_deref()).await {
        Ok(true) => {}
        Ok(false) => return again(StatusCode::FORBIDDEN, csrf::FAILED.into()).await,
        Err(e) => return pages::error_page(&tenant.display_name, &e),
    }
    let password = form.password.unwrap_or_default();
    if form.password_confirm.as_deref() != Some(password.as_str()) {
        return again(
            StatusCode::BAD_REQUEST,
            "The passwords do not match.".into(),
        )
        .await;
    }
    let sign_up = SignUp {
        email: email.clone(),
        display_name: Some(display_name.clone()),
        password: SecretString::from(password),
    };
    let context = request_context(&state, &req);
    let source = SignInSource {
        via: "sign_up_form",
        client_id: Some(&request.client.client_id),
        request: &context,
    };
    match user_flows::sign_up(&state, &tenant, sign_up, &source).await {
        Ok(profile) => complete_sign_in(&state, &req, &tenant, &request, &profile).await,
        Err(SignUpError::Rejected(message)) => again(StatusCode::BAD_REQUEST, message).await,
        Err(SignUpError::Failed(e)) => pages::error_page(&tenant.display_name, &e),
    }
}

/// B2C's legacy sign-up-or-sign-in flow hands "forgot password" back to the app.
pub async fn forgot_password(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let (tenant, request) = match flow_query(&state, &req).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    match user_flows::flows(&state, &tenant.id).await {
        Ok(f) if f.forgot_password => {
            reply_error(&request.reply, "access_denied", user_flows::FORGOT_PASSWORD)
        }
        Ok(_) => pages::error_page(
            &tenant.display_name,
            &crate::oauth::OAuthError::invalid_request(
                Reason::MalformedRequest,
                "Password reset is not offered for this tenant.",
            ),
        ),
        Err(e) => pages::error_page(&tenant.display_name, &e),
    }
}

/// "Cancel" on the sign-up page: B2C answers the app with AADB2C90091.
pub async fn cancel(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    match flow_query(&state, &req).await {
        Ok((_, request)) => reply_error(&request.reply, "access_denied", user_flows::CANCELLED),
        Err(page) => page,
    }
}
