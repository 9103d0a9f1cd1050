//! HTML pages of the interactive flow (templates/), their stylesheet, and the
//! headers every page carries.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpResponse, HttpResponseBuilder};
use askama::Template;

use crate::oauth::{ErrorCode, OAuthError};

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub tenant_name: String,
    pub tenant_id: String,
    pub client_name: String,
    pub action: String,
    pub csrf_token: String,
    pub hidden: Vec<(&'static str, String)>,
    pub email: String,
    pub error: Option<String>,
    pub sign_up: Option<String>,
    pub forgot_password: Option<String>,
    /// "Sign in with …" buttons: (display name, link).
    pub providers: Vec<(String, String)>,
    /// The email and password form (off when the tenant signs in only upstream).
    pub local_form: bool,
}

/// "Update your password": a sign-in with a temporary password.
#[derive(Template)]
#[template(path = "change_password.html")]
pub struct ChangePasswordPage {
    pub tenant_name: String,
    pub tenant_id: String,
    pub action: String,
    pub csrf_token: String,
    pub hidden: Vec<(&'static str, String)>,
    pub email: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "signup.html")]
pub struct SignUpPage {
    pub tenant_name: String,
    pub tenant_id: String,
    pub client_name: String,
    pub action: String,
    pub csrf_token: String,
    pub hidden: Vec<(&'static str, String)>,
    pub email: String,
    pub display_name: String,
    pub error: Option<String>,
    pub cancel: String,
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub tenant_name: String,
    pub title: String,
    pub message: String,
    pub code: Option<String>,
}

#[derive(Template)]
#[template(path = "signed_out.html")]
pub struct SignedOutPage {
    pub tenant_name: String,
}

/// OAuth 2.0 Form Post Response Mode: an auto-submitting form to the client.
#[derive(Template)]
#[template(path = "form_post.html")]
pub struct FormPostPage {
    pub action: String,
    pub fields: Vec<(&'static str, String)>,
    pub script_nonce: String,
}

const STYLESHEET: &str = include_str!("../../templates/localidp.css");

pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(STYLESHEET)
}

/// A rendered page with no caching, no framing and no foreign content.
pub fn html(status: StatusCode, page: &impl Template) -> HttpResponse {
    html_with(HttpResponse::build(status), page, "")
}

pub fn html_with(
    mut res: HttpResponseBuilder,
    page: &impl Template,
    script_src: &str,
) -> HttpResponse {
    let body = match page.render() {
        Ok(body) => body,
        Err(e) => {
            tracing::error!(error = %e, "template rendering failed");
            return HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("The page could not be rendered.");
        }
    };
    let csp = format!(
        "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'{script_src}"
    );
    res.content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CONTENT_SECURITY_POLICY, csp))
        .body(body)
}

/// An error shown to the user (never sent to a redirect URI).
pub fn error_page(tenant_name: &str, error: &OAuthError) -> HttpResponse {
    error_page_titled(tenant_name, "Sign-in cannot continue", error)
}

/// An error page of another step than sign-in (sign-out).
pub fn error_page_titled(tenant_name: &str, title: &str, error: &OAuthError) -> HttpResponse {
    let status = match error.code {
        ErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    };
    let title = match error.code {
        ErrorCode::TemporarilyUnavailable => "Try again shortly",
        _ => title,
    };
    let mut res = html(
        status,
        &ErrorPage {
            tenant_name: tenant_name.to_owned(),
            title: title.into(),
            message: error.description.clone(),
            code: Some(error.code.as_str().to_owned()),
        },
    );
    if status == StatusCode::SERVICE_UNAVAILABLE {
        res.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
    }
    res
}
