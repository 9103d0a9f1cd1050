//! `GET /auth/verify`: the claims behind a Bearer access token, in a flat shape.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use super::base_url::base_url;
use super::bearer::bearer_token;
use super::error::BearerError;
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
