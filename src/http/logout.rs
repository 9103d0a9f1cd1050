//! `GET/POST /logout` and `/{tenant}/oauth2/v2.0/logout`: end the SSO session
//! (OpenID Connect RP-Initiated Logout 1.0).

use super::authority::base_url;
use crate::oauth::Reason;
use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use super::authorize::find_tenant;
use super::pages::{self, SignedOutPage};
use crate::directory::service::TenantInfo;
use crate::oauth::logout::{self, LogoutParams};
use crate::oauth::{OAuthError, session};
use crate::state::AppState;

fn params(req: &HttpRequest, body: &[u8]) -> Result<LogoutParams, OAuthError> {
    let raw = if req.method() == actix_web::http::Method::POST {
        body
    } else {
        req.query_string().as_bytes()
    };
    let text = std::str::from_utf8(raw).map_err(|_| {
        OAuthError::invalid_request(Reason::MalformedRequest, "The request is not valid UTF-8.")
    })?;
    serde_urlencoded::from_str(text).map_err(|e| {
        OAuthError::invalid_request(
            Reason::MalformedRequest,
            format!("The logout parameters cannot be read: {e}."),
        )
    })
}

pub async fn default_tenant_logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let params = match params(&req, &body) {
        Ok(p) => p,
        Err(e) => return pages::error_page("localidp", &e),
    };
    // The short path serves every tenant: the hint says which one.
    let tenant = match logout::hinted_tenant(&params) {
        Some(tid) => find_tenant(&state, &tid).await,
        None => state
            .directory
            .default_tenant()
            .await
            .map_err(OAuthError::from),
    };
    match tenant {
        Ok(tenant) => logout(&state, &req, tenant, params).await,
        Err(e) => pages::error_page("localidp", &e),
    }
}

pub async fn tenant_logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let params = match params(&req, &body) {
        Ok(p) => p,
        Err(e) => return pages::error_page("localidp", &e),
    };
    match find_tenant(&state, &path).await {
        Ok(tenant) => logout(&state, &req, tenant, params).await,
        Err(e) => pages::error_page("localidp", &e),
    }
}

/// B2C's `/{tenant}/{policy}/oauth2/v2.0/logout` (and `/tfp/...`).
pub async fn policy_logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> HttpResponse {
    let params = match params(&req, &body) {
        Ok(p) => p,
        Err(e) => return pages::error_page("localidp", &e),
    };
    let (tenant, policy) = path.into_inner();
    match super::authorize::find_policy_tenant(&state, &tenant, &policy).await {
        Ok(tenant) => logout(&state, &req, tenant, params).await,
        Err(e) => pages::error_page("localidp", &e),
    }
}

async fn logout(
    state: &AppState,
    req: &HttpRequest,
    tenant: Arc<TenantInfo>,
    params: LogoutParams,
) -> HttpResponse {
    // Validate before ending anything: a bad request changes nothing.
    let target = match logout::validate(state, &base_url(state, req), &tenant, &params).await {
        Ok(t) => t,
        Err(e) => return pages::error_page(&tenant.display_name, &e),
    };
    let name = session::cookie_name(&tenant.id);
    if let Some(cookie) = req.cookie(&name).filter(|c| !c.value().is_empty())
        && let Err(e) = session::end(state, cookie.value()).await
    {
        return pages::error_page(&tenant.display_name, &e);
    }
    let removal = pages::removal(name, pages::is_secure(state, req));
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
