//! `GET/POST /logout` and `/{tenant}/oauth2/v2.0/logout`: end the SSO session
//! (OpenID Connect RP-Initiated Logout 1.0).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use super::base_url::base_url;
use super::cookies::{self, sso_cookie};
use super::pages::{self, SignedOutPage};
use super::params;
use super::tenant::{self, PolicyQuery};
use crate::oauth::authority::Authority;
use crate::oauth::logout::{self, LogoutParams};
use crate::oauth::session;
use crate::state::AppState;

fn error_page(tenant_name: &str, e: &crate::oauth::OAuthError) -> HttpResponse {
    pages::error_page_titled(tenant_name, "Sign-out cannot continue", e)
}

pub async fn default_tenant_logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let params: LogoutParams = match params::from_get_or_post(&req, &body) {
        Ok(p) => p,
        Err(e) => return error_page("localidp", &e),
    };
    // The short path serves every tenant: the hint says which one.
    let hint = logout::hinted_tenant(&params);
    match tenant::named_or_default(&state, hint.as_deref()).await {
        Ok(tenant) => {
            let authority = Authority::short(tenant, base_url(&state, &req));
            logout(&state, &req, authority, params).await
        }
        Err(e) => error_page("localidp", &e),
    }
}

/// Entra's `/{tenant}/oauth2/v2.0/logout`, and B2C's with `?p={policy}`.
pub async fn tenant_logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let params: LogoutParams = match params::from_get_or_post(&req, &body) {
        Ok(p) => p,
        Err(e) => return error_page("localidp", &e),
    };
    let policy = match PolicyQuery::of(&req) {
        Ok(p) => p,
        Err(e) => return error_page("localidp", &e),
    };
    match tenant::resolve(&state, base_url(&state, &req), &path, policy.as_deref()).await {
        Ok(authority) => logout(&state, &req, authority, params).await,
        Err(e) => error_page("localidp", &e),
    }
}

/// B2C's `/{tenant}/{policy}/oauth2/v2.0/logout` (and `/tfp/...`).
pub async fn policy_logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> HttpResponse {
    let params: LogoutParams = match params::from_get_or_post(&req, &body) {
        Ok(p) => p,
        Err(e) => return error_page("localidp", &e),
    };
    let (tenant, policy) = path.into_inner();
    match tenant::resolve(&state, base_url(&state, &req), &tenant, Some(&policy)).await {
        Ok(authority) => logout(&state, &req, authority, params).await,
        Err(e) => error_page("localidp", &e),
    }
}

async fn logout(
    state: &AppState,
    req: &HttpRequest,
    authority: Authority,
    params: LogoutParams,
) -> HttpResponse {
    let Authority { tenant, base, .. } = authority;
    // Validate before ending anything: a bad request changes nothing.
    let target = match logout::validate(state, &base, &tenant, &params).await {
        Ok(t) => t,
        Err(e) => return error_page(&tenant.display_name, &e),
    };
    if let Some(cookie) = sso_cookie(req, &tenant)
        && let Err(e) = session::end(state, &cookie).await
    {
        return error_page(&tenant.display_name, &e);
    }
    let removal = cookies::removal(
        session::cookie_name(&tenant.id),
        cookies::is_secure(state, req),
    );
    match target {
        Some(target) => {
            let mut location = target.redirect_uri;
            if let Some(s) = target.state {
                let sep = if location.contains('?') { '&' } else { '?' };
                let q = serde_urlencoded::to_string([("state", s)]).unwrap_or_default();
                location = format!("{location}{sep}{q}");
            }
            HttpResponse::Found()
                .cookie(removal)
                .insert_header((header::LOCATION, location))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .finish()
        }
        None => {
            let mut res = HttpResponse::Ok();
            res.cookie(removal);
            pages::html_with(
                res,
                &SignedOutPage {
                    tenant_name: tenant.display_name.clone(),
                },
                "",
            )
        }
    }
}
