//! `POST /auth/login`: JSON email/password in, an access token and its claims out.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::base_url::base_url;
use super::error::OAuthResponse;
use super::request_context::request_context;
use crate::oauth::authority::Authority;
use crate::oauth::grants::login;
use crate::oauth::{OAuthError, Reason};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct LoginRequest {
    /// The sign-in name: an email address or a user name (`username` is accepted too).
    #[serde(alias = "username")]
    email: String,
    password: String,
    /// The application the token is for; default: the tenant's default client.
    client_id: Option<String>,
    /// Required when `client_id` names a confidential client.
    client_secret: Option<String>,
}

#[derive(Serialize)]
struct LoginClaims {
    oid: String,
    tid: String,
    email: Option<String>,
    name: Option<String>,
    roles: Vec<String>,
    groups: Vec<String>,
}

#[derive(Serialize)]
struct LoginResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: i64,
    claims: LoginClaims,
}

pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, OAuthResponse> {
    let LoginRequest {
        email,
        password,
        client_id,
        client_secret,
    } = body.into_inner();
    let as_401 = |error: OAuthError| OAuthResponse {
        credentials_are_401: true,
        ..OAuthResponse::plain(error)
    };
    if email.trim().is_empty() || password.is_empty() {
        return Err(OAuthError::invalid_request(
            Reason::MissingParameter,
            "email and password are required.",
        )
        .into());
    }
    let tenant = state
        .directory
        .default_tenant()
        .await
        .map_err(OAuthError::from)?;
    let authority = Authority::short(tenant, base_url(&state, &req));
    super::access_log::note_client(&req, Some(&authority.tenant.id), client_id.as_deref());
    let request = login::LoginRequest {
        email,
        password: SecretString::from(password),
        client_id,
        client_secret,
    };
    let context = request_context(&state, &req);
    let issued = login::login(&state, &authority, request, &context)
        .await
        .map_err(as_401)?;
    let c = issued.claims;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(LoginResponse {
            access_token: issued.response.access_token,
            token_type: "bearer",
            expires_in: issued.response.expires_in,
            claims: LoginClaims {
                oid: c.oid,
                tid: authority.tenant.id.clone(),
                email: c.email,
                name: c.name,
                roles: c.roles,
                groups: c.groups,
            },
        }))
}
