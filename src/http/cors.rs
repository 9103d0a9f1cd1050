//! Cross-origin access as Entra ID and B2C allow it (Fetch standard, CORS protocol).
//! Discovery documents, key sets and `/userinfo` are readable from any origin
//! (`Access-Control-Allow-Origin: *`, errors included). A token endpoint answers an
//! origin only when it is the origin of a SPA redirect URI registered on the client
//! named in the request, so a single-page app redeems its codes and refresh tokens
//! itself. Nothing is credentialed: no `Access-Control-Allow-Credentials`, and the
//! browser sends no cookies with these requests.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, web};

use super::base_url::base_url;
use super::tenant::{self, PolicyQuery};
use crate::state::AppState;

/// Request headers a preflight may ask for: what MSAL.js (telemetry, `client-request-id`)
/// and oidc-client-ts send, and `authorization` for `/userinfo`.
pub const ALLOWED_HEADERS: &str = "authorization, accept, content-type, client-request-id, \
return-client-request-id, x-client-sku, x-client-ver, x-client-os, x-client-cpu, \
x-client-current-telemetry, x-client-last-telemetry, x-ms-lib-capability, x-app-name, \
x-app-ver, x-anchormailbox, x-ms-request-id, x-request-id, dpop";

/// Response headers a script may read.
const EXPOSED_HEADERS: &str =
    "client-request-id, x-ms-request-id, x-request-id, x-ms-clitelem, www-authenticate";

/// How long a browser may reuse a preflight answer (seconds).
const MAX_AGE: &str = "86400";

/// Documents any origin may read: discovery, JWKS, `/userinfo`, `/openapi.json`.
fn is_public(path: &str) -> bool {
    path.ends_with("/.well-known/openid-configuration")
        || path == "/openapi.json"
        || path.ends_with("/discovery/v2.0/keys")
        || path == "/.well-known/jwks.json"
        || path == "/userinfo"
}

/// Middleware: `Access-Control-Allow-Origin: *` on every answer of a public document
/// (404s and 400s too, so a script can read why), and their preflights.
pub async fn public_documents(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if !is_public(req.path()) {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    if req.method() == Method::OPTIONS {
        let mut res = preflight("GET, POST, OPTIONS");
        allow_any(&mut res);
        return Ok(req.into_response(res).map_into_right_body());
    }
    let mut res = next.call(req).await?;
    let headers = res.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSED_HEADERS),
    );
    Ok(res.map_into_left_body())
}

fn allow_any(res: &mut HttpResponse) {
    res.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
}

/// A preflight answer (204) without an origin: the caller adds one when it allows it;
/// a browser refuses a preflight whose answer names none.
fn preflight(methods: &'static str) -> HttpResponse {
    HttpResponse::NoContent()
        .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, methods))
        .insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, ALLOWED_HEADERS))
        .insert_header((header::ACCESS_CONTROL_MAX_AGE, MAX_AGE))
        .insert_header((header::VARY, "Origin"))
        .finish()
}

/// The request's `Origin`, when it has a usable one.
fn origin(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .filter(|o| !o.is_empty() && *o != "null")
}

fn echo_origin(res: &mut HttpResponse, origin: &str) {
    if let Ok(value) = HeaderValue::from_str(origin) {
        let headers = res.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSED_HEADERS),
        );
    }
}

fn vary_origin(res: &mut HttpResponse) {
    res.headers_mut()
        .append(header::VARY, HeaderValue::from_static("Origin"));
}

/// A token endpoint's answer (success or error): the requesting origin may read it when
/// it is the origin of a SPA redirect URI of the client the form names (`client_id`).
pub async fn token_response(
    state: &AppState,
    req: &HttpRequest,
    tenant_id: Option<&str>,
    client_id: Option<&str>,
    mut res: HttpResponse,
) -> HttpResponse {
    vary_origin(&mut res);
    let (Some(origin), Some(client_id)) = (origin(req), client_id) else {
        return res;
    };
    let allowed = match state.directory.client(client_id).await {
        Ok(Some(client)) => {
            tenant_id.is_none_or(|t| client.tenant_id == t) && client.is_spa_origin(origin)
        }
        _ => false,
    };
    if allowed {
        echo_origin(&mut res, origin);
    }
    res
}

/// `OPTIONS` on a token endpoint (every URL form). A preflight carries no body, so no
/// client: the origin is allowed when it is a SPA redirect URI's origin of some client
/// of the tenant. The POST that follows is checked against its own client.
pub async fn token_preflight(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let mut res = preflight("POST, OPTIONS");
    let Some(origin) = origin(&req) else {
        return res;
    };
    let tenant_id = match req.match_info().get("tenant") {
        None => Some(state.directory.default_tenant_id().to_owned()),
        Some(name) => {
            let policy = match req.match_info().get("policy") {
                Some(p) => Some(p.to_owned()),
                None => PolicyQuery::of(&req).ok().flatten(),
            };
            tenant::resolve(&state, base_url(&state, &req), name, policy.as_deref())
                .await
                .ok()
                .map(|a| a.tenant.id.clone())
        }
    };
    let Some(tenant_id) = tenant_id else {
        return res;
    };
    let allowed = state
        .directory
        .spa_origins(&tenant_id)
        .await
        .is_ok_and(|o| o.contains(&origin.to_ascii_lowercase()));
    if allowed {
        echo_origin(&mut res, origin);
    }
    res
}
