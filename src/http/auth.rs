//! `POST /auth/login` (JSON email/password) and `GET /auth/verify` (Bearer).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::error::{BearerError, OAuthResponse};
use crate::oauth::OAuthError;
use crate::oauth::claims::AccessTokenClaims;
use crate::oauth::{grants, verify};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct LoginRequest {
    email: String,
    password: String,
    /// The application the token is for; default: the tenant's default client.
    client_id: Option<String>,
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
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, OAuthResponse> {
    let LoginRequest {
        email,
        password,
        client_id,
    } = body.into_inner();
    let as_401 = |error: OAuthError| OAuthResponse {
        error,
        credentials_are_401: true,
    };
    if email.trim().is_empty() || password.is_empty() {
        return Err(OAuthError::invalid_request("email and password are required.").into());
    }
    let tenant = state.default_tenant().await.map_err(OAuthError::from)?;
    let issued = grants::login(
        &state,
        &tenant,
        &email,
        SecretString::from(password),
        client_id,
    )
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
                tid: c.tid,
                email: c.email,
                name: c.name,
                roles: c.roles,
                groups: c.groups,
            },
        }))
}

#[derive(Serialize)]
struct VerifyResponse {
    user_id: String,
    email: Option<String>,
    name: Option<String>,
    tid: String,
    aud: String,
    azp: String,
    scp: Option<String>,
    roles: Vec<String>,
    groups: Vec<String>,
    /// "app" for client-credentials tokens, "user" otherwise.
    idtyp: String,
    exp: i64,
}

impl From<AccessTokenClaims> for VerifyResponse {
    fn from(c: AccessTokenClaims) -> Self {
        VerifyResponse {
            user_id: c.oid,
            email: c.email,
            name: c.name,
            tid: c.tid,
            aud: c.aud,
            azp: c.azp,
            scp: c.scp,
            roles: c.roles,
            groups: c.groups,
            idtyp: c.idtyp.unwrap_or_else(|| "user".into()),
            exp: c.exp,
        }
    }
}

pub(super) fn bearer_token(req: &HttpRequest) -> Result<&str, BearerError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or(BearerError::Missing)?
        .to_str()
        .map_err(|_| BearerError::Invalid("The Authorization header is malformed.".into()))?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim())
        }
        _ => Err(BearerError::Invalid(
            "The Authorization header must be 'Bearer <token>'.".into(),
        )),
    }
}

pub async fn verify(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, BearerError> {
    let token = bearer_token(&req)?;
    let claims = verify::verify_access_token(&state, token).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(VerifyResponse::from(claims)))
}
