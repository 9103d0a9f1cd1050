//! `GET/POST /userinfo` (OIDC Core §5.3): the user behind a Bearer access token.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use super::base_url::base_url;
use super::bearer::bearer_token;
use super::error::BearerError;
use crate::oauth::revocation;
use crate::state::AppState;

pub async fn userinfo(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, BearerError> {
    let token = bearer_token(&req)?;
    let info = revocation::userinfo(&state, &base_url(&state, &req), token).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(info))
}
