//! The end of a sign-in, by password or by sign-up: a fresh SSO session, its cookie,
//! and a code for the client.

use actix_web::{HttpRequest, HttpResponse};

use super::cookies;
use super::pages;
use super::response_mode::reply_code;
use crate::directory::service::TenantInfo;
use crate::oauth::authorization_code::{self, AuthorizationRequest};
use crate::oauth::{session, sign_in};
use crate::state::AppState;

/// After the password (or a sign-up): a new SSO session, and a code for the client.
pub async fn complete_sign_in(
    state: &AppState,
    req: &HttpRequest,
    tenant: &TenantInfo,
    request: &AuthorizationRequest,
    profile: &sign_in::UserProfile,
) -> HttpResponse {
    // A new sign-in replaces whatever session this browser had in the tenant.
    if let Some(old) = cookies::sso_cookie(req, tenant)
        && let Err(e) = session::end(state, &old).await
    {
        return pages::error_page(&tenant.display_name, &e);
    }
    let (sso, secret) = match session::start(state, &tenant.id, profile).await {
        Ok(s) => s,
        Err(e) => return pages::error_page(&tenant.display_name, &e),
    };
    let code = match authorization_code::issue_code(state, request, &sso).await {
        Ok(c) => c,
        Err(e) => return pages::error_page(&tenant.display_name, &e),
    };
    let secure = cookies::is_secure(state, req);
    let mut res = HttpResponse::SeeOther();
    res.cookie(cookies::sso(
        session::cookie_name(&tenant.id),
        secret,
        secure,
        Some(state.settings.session_lifetime),
    ));
    reply_code(&request.reply, &code, res)
}
