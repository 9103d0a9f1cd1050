//! CSRF defence of the sign-in forms: a signed double-submit cookie (the form carries
//! an HMAC of the cookie's random value; `oauth::session` holds the key), and a
//! refusal of anything a browser marks `Sec-Fetch-Site: cross-site`.

use actix_web::{HttpRequest, HttpResponseBuilder};

use super::cookies;
use crate::crypto::secrets;
use crate::oauth::{OAuthError, session};
use crate::state::AppState;

/// The cookie holding this browser's random CSRF value.
const COOKIE: &str = "localidp_csrf";

/// What a form says when its CSRF check fails.
pub const FAILED: &str =
    "This form has expired or did not come from this site. Please sign in again.";

/// The CSRF form field for this browser, setting the cookie on `res` if it has none.
pub async fn form_token(
    state: &AppState,
    req: &HttpRequest,
    res: &mut HttpResponseBuilder,
) -> Result<String, OAuthError> {
    let existing = req
        .cookie(COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| v.len() >= 32);
    let csrf_cookie = existing.clone().unwrap_or_else(secrets::generate);
    let token = session::csrf_token(state, &csrf_cookie).await?;
    if existing.is_none() {
        let secure = cookies::is_secure(state, req);
        res.cookie(cookies::cookie(COOKIE.into(), csrf_cookie, secure, None));
    }
    Ok(token)
}

/// True when a form POST carries this browser's CSRF token, and no browser says it
/// came from another site (`Sec-Fetch-Site`).
pub async fn checked(
    state: &AppState,
    req: &HttpRequest,
    field: Option<&str>,
) -> Result<bool, OAuthError> {
    let cross_site = req
        .headers()
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes() == b"cross-site");
    let cookie = req.cookie(COOKIE).map(|c| c.value().to_owned());
    Ok(!cross_site && session::csrf_valid(state, cookie.as_deref(), field).await?)
}
