//! The cookies of the browser flow: how they are built, and the tenant's SSO cookie.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite};

use crate::directory::service::TenantInfo;
use crate::oauth::session;
use crate::state::AppState;

/// Cookies set over TLS (or for an https public URL) are marked Secure.
pub fn is_secure(state: &AppState, req: &HttpRequest) -> bool {
    req.connection_info().scheme() == "https" || state.public_url.starts_with("https://")
}

/// An httpOnly, SameSite=Lax cookie for the whole site.
pub fn cookie(name: String, value: String, secure: bool, max_age: Option<i64>) -> Cookie<'static> {
    let mut c = Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .finish();
    if let Some(seconds) = max_age {
        c.set_max_age(actix_web::cookie::time::Duration::seconds(seconds));
    }
    c
}

/// The SSO session cookie. Over HTTPS it is `SameSite=None`, as Entra's session
/// cookies are, so that silent sign-in (`prompt=none` in a single-page app's hidden
/// iframe, another site) finds the session; over plain HTTP browsers refuse `None`
/// without `Secure`, so it stays `Lax`. It authorizes nothing but `/authorize`, which
/// answers only registered redirect URIs.
pub fn sso(name: String, value: String, secure: bool, max_age: Option<i64>) -> Cookie<'static> {
    let mut c = cookie(name, value, secure, max_age);
    if secure {
        c.set_same_site(SameSite::None);
    }
    c
}

pub fn removal(name: String, secure: bool) -> Cookie<'static> {
    let mut c = sso(name, String::new(), secure, None);
    c.make_removal();
    c
}

/// The value of this browser's SSO cookie for the tenant, if it has one.
pub fn sso_cookie(req: &HttpRequest, tenant: &TenantInfo) -> Option<String> {
    req.cookie(&session::cookie_name(&tenant.id))
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty())
}
