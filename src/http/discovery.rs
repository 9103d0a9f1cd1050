//! OpenID Connect Discovery 1.0 §3 metadata in each authority form, and the JWKS
//! (RFC 7517). A metadata document's `issuer` is exactly the `iss` of the tokens its
//! endpoints issue.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::authority::{PolicyQuery, resolve};
use super::error::{ErrorFlavour, OAuthResponse};
use crate::oauth::OAuthError;
use crate::oauth::authority::Authority;
use crate::state::AppState;

const CLAIMS_SUPPORTED: [&str; 21] = [
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "nbf",
    "auth_time",
    "oid",
    "tid",
    "email",
    "name",
    "given_name",
    "family_name",
    "preferred_username",
    "roles",
    "groups",
    "scp",
    "azp",
    "azpacr",
    "ver",
    "uti",
];

fn metadata(body: Value) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(body)
}

fn entra_document(
    issuer: &str,
    token_endpoint: String,
    jwks_uri: String,
    tenant_region: &str,
) -> Value {
    json!({
        "issuer": issuer,
        "token_endpoint": token_endpoint,
        "jwks_uri": jwks_uri,
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic", "none"],
        "grant_types_supported": [
            "password", "client_credentials", "refresh_token",
            "urn:ietf:params:oauth:grant-type:jwt-bearer"
        ],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": CLAIMS_SUPPORTED,
        "tenant_region_scope": tenant_region,
    })
}

/// `/.well-known/openid-configuration`: the default tenant, with the short endpoints.
pub async fn default_tenant_configuration(
    state: web::Data<AppState>,
) -> Result<HttpResponse, OAuthResponse> {
    let tenant = state.default_tenant().await.map_err(OAuthError::from)?;
    let mut doc = entra_document(
        &tenant.issuer,
        format!("{}/auth/token", state.public_url),
        format!("{}/.well-known/jwks.json", state.public_url),
        "local",
    );
    doc["tenant_id"] = json!(tenant.id);
    Ok(metadata(doc))
}

fn not_found(e: OAuthError, flavour: ErrorFlavour, req: &HttpRequest) -> HttpResponse {
    use actix_web::ResponseError;
    let mut res = OAuthResponse::flavoured(e, flavour, req).error_response();
    *res.status_mut() = actix_web::http::StatusCode::NOT_FOUND;
    res
}

/// `/{tenant}/v2.0/.well-known/openid-configuration`: Entra's document, or B2C's with
/// `?p={policy}` (and then every endpoint carries `?p=` too).
pub async fn tenant_configuration(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<PolicyQuery>,
) -> HttpResponse {
    let policy = query.into_inner().p;
    let authority = match resolve(&state, &path, policy.as_deref()).await {
        Ok(a) => a,
        Err(e) => return not_found(e, ErrorFlavour::from_policy(policy.as_deref()), &req),
    };
    let segment = path.to_ascii_lowercase();
    if let Some(policy) = authority.policy() {
        let base = format!("{}/{segment}", state.public_url);
        let q = format!("?p={policy}");
        return metadata(b2c_document(&state, &authority, &base, &q));
    }
    let tid = &authority.tenant.id;
    let (issuer, base) = match authority.alias {
        // Microsoft publishes a placeholder issuer for multi-tenant aliases.
        Some(alias) => (
            format!("{}/{{tenantid}}/v2.0", state.public_url),
            format!("{}/{alias}", state.public_url),
        ),
        None => (
            authority.tenant.issuer.clone(),
            format!("{}/{tid}", state.public_url),
        ),
    };
    metadata(entra_document(
        &issuer,
        format!("{base}/oauth2/v2.0/token"),
        format!("{base}/discovery/v2.0/keys"),
        "local",
    ))
}

/// `/{tenant}/{policy}/v2.0/.well-known/openid-configuration`.
pub async fn policy_configuration(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (tenant, policy) = path.into_inner();
    match resolve(&state, &tenant, Some(&policy)).await {
        Ok(authority) => {
            let base = format!(
                "{}/{}/{}",
                state.public_url,
                tenant.to_ascii_lowercase(),
                policy.to_ascii_lowercase()
            );
            metadata(b2c_document(&state, &authority, &base, ""))
        }
        Err(e) => not_found(e, ErrorFlavour::B2c, &req),
    }
}

/// `/tfp/{tenant}/{policy}/v2.0/.well-known/openid-configuration` (MSAL's legacy form).
pub async fn tfp_configuration(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (tenant, policy) = path.into_inner();
    match resolve(&state, &tenant, Some(&policy)).await {
        Ok(authority) => {
            let base = format!(
                "{}/tfp/{}/{}",
                state.public_url,
                tenant.to_ascii_lowercase(),
                policy.to_ascii_lowercase()
            );
            metadata(b2c_document(&state, &authority, &base, ""))
        }
        Err(e) => not_found(e, ErrorFlavour::B2c, &req),
    }
}

fn b2c_document(state: &AppState, authority: &Authority, base: &str, query: &str) -> Value {
    json!({
        "issuer": authority.issuer(&state.public_url),
        "token_endpoint": format!("{base}/oauth2/v2.0/token{query}"),
        "jwks_uri": format!("{base}/discovery/v2.0/keys{query}"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "response_types_supported": ["code"],
        "scopes_supported": ["openid"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "grant_types_supported": ["password", "client_credentials", "refresh_token"],
        "claims_supported": [
            "oid", "sub", "name", "given_name", "family_name", "emails", "tfp", "idp",
            "iss", "iat", "exp", "aud", "acr", "nonce", "auth_time", "at_hash", "scp", "azp"
        ],
    })
}

/// Every key that may still verify a live token. One key set serves every tenant
/// and policy.
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    metadata(state.key_ring().jwks())
}
