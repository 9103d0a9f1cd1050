//! `GET /auth/verify`: the claims behind a Bearer access token, in a flat shape.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::base_url::base_url;
use super::bearer::bearer_token;
use super::error::BearerError;
use super::params;
use crate::oauth::verify::{self, Verified};
use crate::state::AppState;

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

/// `?audience=`: the application the caller expects the token to be for.
#[derive(Deserialize)]
struct VerifyQuery {
    audience: Option<String>,
}

pub async fn verify(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, BearerError> {
    let query: VerifyQuery = params::parse(req.query_string().as_bytes())
        .map_err(|e| BearerError::BadRequest(e.description))?;
    if query
        .audience
        .as_deref()
        .is_some_and(|a| a.trim().is_empty())
    {
        return Err(BearerError::BadRequest(
            "The audience parameter is empty.".into(),
        ));
    }
    let token = bearer_token(&req)?;
    let verified = verify::verify_access_token(&state, &base_url(&state, &req), token).await?;
    verify::check_served(&state, &verified, query.audience.as_deref().map(str::trim))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(VerifyResponse::from(verified)))
}
