//! "Update your password": the sign-in form's next step for a user whose password is
//! temporary (Graph's `forceChangePasswordNextSignIn`, `localidp user set-password
//! --force-change`), as Entra's sign-in page asks for it. The form posts the current
//! password again with the new one, so nothing is kept between the two pages.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::SecretString;
use serde::Deserialize;

use super::csrf;
use super::flow::continued;
use super::pages::{self, ChangePasswordPage};
use super::params;
use super::request_context::request_context;
use super::sign_in::complete_sign_in;
use crate::directory::service::TenantInfo;
use crate::oauth::authorization_code::{AuthorizationParams, AuthorizationRequest};
use crate::oauth::{ErrorCode, Reason, sign_in, user_flows};
use crate::state::AppState;

/// The "Update your password" form posts here.
pub const CHANGE_PASSWORD_PATH: &str = "/login/password";

/// Renders the form, with a CSRF cookie (reused if the browser has one).
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
    let page = ChangePasswordPage {
        tenant_name: tenant.display_name.clone(),
        tenant_id: tenant.id.clone(),
        action: CHANGE_PASSWORD_PATH.into(),
        csrf_token,
        hidden: request.params.pairs(),
        email,
        error,
    };
    pages::html_with(res, &page, "")
}

#[derive(Deserialize)]
pub struct ChangePasswordForm {
    tenant: Option<String>,
    email: Option<String>,
    current_password: Option<String>,
    new_password: Option<String>,
    password_confirm: Option<String>,
    csrf_token: Option<String>,
    #[serde(flatten)]
    params: AuthorizationParams,
}

/// `POST /login/password`: checks the current password, stores the new one and
/// signs the user in.
pub async fn submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let form: ChangePasswordForm = match params::parse(&body) {
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
    match csrf::checked(&state, &req, form.csrf_token.as_deref()).await {
        Ok(true) => {}
        Ok(false) => return again(StatusCode::FORBIDDEN, csrf::FAILED).await,
        Err(e) => return pages::error_page(&tenant.display_name, &e),
    }
    let current = form.current_password.unwrap_or_default();
    let new = form.new_password.unwrap_or_default();
    if email.is_empty() || current.is_empty() || new.is_empty() {
        return again(
            StatusCode::BAD_REQUEST,
            "Enter your current password and a new one.",
        )
        .await;
    }
    if form.password_confirm.as_deref() != Some(new.as_str()) {
        return again(StatusCode::BAD_REQUEST, "The new passwords do not match.").await;
    }
    if new == current {
        return again(
            StatusCode::BAD_REQUEST,
            "You can't reuse your current password. Choose a new one.",
        )
        .await;
    }
    if let Err(message) = user_flows::check_password(&new) {
        return again(StatusCode::BAD_REQUEST, message).await;
    }
    let context = request_context(&state, &req);
    let source = sign_in::SignInSource {
        via: "login_form",
        client_id: Some(&request.client.client_id),
        request: &context,
    };
    let (current, new) = (SecretString::from(current), SecretString::from(new));
    match sign_in::change_expired_password(&state, &tenant.id, &email, current, new, &source).await
    {
        Ok(profile) => complete_sign_in(&state, &req, &tenant, &request, &profile).await,
        // A wrong current password (or a lock): this form again, with the answer a
        // failed sign-in gets.
        Err(e) if e.code == ErrorCode::InvalidGrant && e.reason != Reason::PasswordExpired => {
            again(StatusCode::UNAUTHORIZED, &e.description).await
        }
        Err(e) => again(StatusCode::SERVICE_UNAVAILABLE, &e.description).await,
    }
}
