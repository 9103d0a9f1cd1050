//! `POST /auth/login` (JSON email/password) and `GET /auth/verify` (Bearer).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::authority::base_url;
use super::error::{BearerError, OAuthResponse};
use crate::oauth::authority::Authority;
use crate::oauth::grants::login;
use crate::oauth::verify;
use crate::oauth::verify::Verified;
use crate::oauth::{OAuthError, Reason};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct LoginRequest {
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
    let request = login::LoginRequest {
        email,
        password: SecretString::from(password),
        client_id,
        client_secret,
    };
    let issued = login::login(&state, &authority, request)
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

#[derive(Serialize)]
struct VerifyResponse {
    user_id: String,
    email: Option<String>,
    name: Option<String>,
    tid: String,
    /// The B2C user flow, for B2C tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    policy: Option<String>,
    aud: String,
    azp: String,
    scp: Option<String>,
    roles: Vec<String>,
    groups: Vec<String>,
    /// "app" for client-credentials tokens, "user" otherwise.
    idtyp: String,
    exp: i64,
}

impl From<Verified> for VerifyResponse {
    fn from(v: Verified) -> Self {
        let c = v.claims;
        VerifyResponse {
            email: c.email_address().map(str::to_owned),
            user_id: c.oid,
            name: c.name,
            tid: v.tenant.id.clone(),
            policy: v.policy,
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
    let verified = verify::verify_access_token(&state, &base_url(&state, &req), token).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(VerifyResponse::from(verified)))
}
