//! OpenID Connect Discovery 1.0 §3 metadata and the JWKS (RFC 7517).

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde_json::json;

use super::authorize::InteractiveMetadata;
use super::error::OAuthResponse;
use crate::oauth::OAuthError;
use crate::state::{AppState, TenantInfo};

fn configuration(
    tenant: &TenantInfo,
    token_endpoint: String,
    jwks_uri: String,
    interactive: InteractiveMetadata,
) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(interactive.extend(json!({
            "issuer": tenant.issuer,
            "token_endpoint": token_endpoint,
            "jwks_uri": jwks_uri,
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic", "none"],
            "grant_types_supported": ["password", "client_credentials", "refresh_token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "claims_supported": [
                "sub", "iss", "aud", "exp", "iat", "nbf", "auth_time", "oid", "tid", "email",
                "name", "given_name", "family_name", "preferred_username", "roles", "groups",
                "scp", "azp", "azpacr", "ver", "uti"
            ],
            "tenant_id": tenant.id,
            "tenant_name": tenant.name,
        })))
}

/// `/.well-known/openid-configuration`: the default tenant, with the short endpoints.
pub async fn default_tenant_configuration(
    state: web::Data<AppState>,
) -> Result<HttpResponse, OAuthResponse> {
    let tenant = state.default_tenant().await.map_err(OAuthError::from)?;
    Ok(configuration(
        &tenant,
        format!("{}/auth/token", state.public_url),
        format!("{}/.well-known/jwks.json", state.public_url),
        InteractiveMetadata::default_tenant(&state),
    ))
}

/// `/{tenant}/v2.0/.well-known/openid-configuration`, Entra's shape.
pub async fn tenant_configuration(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, OAuthResponse> {
    let Some(tenant) = state.tenant(&path).await.map_err(OAuthError::from)? else {
        return Ok(HttpResponse::NotFound().json(json!({
            "error": "invalid_tenant",
            "error_description": format!("Tenant {:?} not found.", path.as_str()),
        })));
    };
    let base = format!("{}/{}", state.public_url, tenant.id);
    Ok(configuration(
        &tenant,
        format!("{base}/oauth2/v2.0/token"),
        format!("{base}/discovery/v2.0/keys"),
        InteractiveMetadata::tenant(&state, &tenant.id),
    ))
}

/// Every key that may still verify a live token. One key set serves every tenant.
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(state.key_ring().jwks())
}
