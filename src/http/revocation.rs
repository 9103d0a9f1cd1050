//! `POST /revoke` (RFC 7009) and `POST /introspect` (RFC 7662), both
//! client-authenticated like the token endpoint (RFC 6749 §2.3).

use super::base_url::base_url;
use crate::oauth::Reason;
use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::error::OAuthResponse;
use super::request_context::request_context;
use super::token::basic_credentials;
use crate::directory::service::TenantInfo;
use crate::oauth::client_auth::{self, AuthenticatedClient};
use crate::oauth::token_request::ClientCredentials;
use crate::oauth::{OAuthError, revocation};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct TokenStatusRequest {
    token: Option<String>,
    /// RFC 7009 §2.1: only an optimisation; every kind is looked up regardless.
    #[allow(dead_code)]
    token_type_hint: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// Authenticates the caller in the tenant its client id belongs to.
async fn client_of(
    state: &AppState,
    req: &HttpRequest,
    form: &TokenStatusRequest,
) -> Result<(Arc<TenantInfo>, AuthenticatedClient), OAuthError> {
    let basic = basic_credentials(req)?;
    let client_id = basic
        .as_ref()
        .map(|b| b.client_id.clone())
        .or_else(|| form.client_id.clone())
        .filter(|c| !c.is_empty())
        .ok_or_else(|| {
            OAuthError::invalid_client(Reason::UnknownClient, "Client authentication is required.")
        })?;
    let tenant_id = state
        .directory
        .client(&client_id)
        .await?
        .map(|c| c.tenant_id.clone())
        .ok_or_else(|| {
            OAuthError::invalid_client(
                Reason::UnknownClient,
                format!("The client {client_id:?} is not registered."),
            )
        })?;
    let tenant = state.directory.tenant(&tenant_id).await?.ok_or_else(|| {
        OAuthError::invalid_client(
            Reason::UnknownClient,
            "The client's tenant no longer exists.",
        )
    })?;
    let credentials = ClientCredentials {
        client_id: form.client_id.clone(),
        client_secret: form.client_secret.clone(),
        basic,
    };
    let client = client_auth::authenticate(state, &tenant, credentials).await?;
    Ok((tenant, client))
}

fn token_of(form: &TokenStatusRequest) -> Result<&str, OAuthError> {
    form.token
        .as_deref()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            OAuthError::invalid_request(
                Reason::MalformedRequest,
                "The request is missing the 'token' parameter.",
            )
        })
}

pub async fn revoke(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<TokenStatusRequest>,
) -> Result<HttpResponse, OAuthResponse> {
    let (_, client) = client_of(&state, &req, &form).await?;
    let base = base_url(&state, &req);
    let context = request_context(&state, &req);
    revocation::revoke(&state, &base, &client, token_of(&form)?, &context).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish())
}

pub async fn introspect(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<TokenStatusRequest>,
) -> Result<HttpResponse, OAuthResponse> {
    let (tenant, client) = client_of(&state, &req, &form).await?;
    let base = base_url(&state, &req);
    let body = revocation::introspect(&state, &base, &tenant, &client, token_of(&form)?).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body))
}
