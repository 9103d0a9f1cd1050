//! `/_dev/*`: endpoints for tests, served only with `--dev` or `--ephemeral`
//! (`Settings::dev`); a server without them answers 404 here.

use actix_web::{HttpRequest, HttpResponse, web};

use super::base_url::base_url;
use super::error::OAuthResponse;
use crate::oauth::mint::{self, MintRequest};
use crate::state::AppState;

/// The dev routes, when `dev` is on; nothing otherwise.
pub fn routes(dev: bool) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        if dev {
            cfg.route("/_dev/token", web::post().to(token));
        }
    }
}

/// `POST /_dev/token`: a minted token set (see [`crate::oauth::mint`]).
async fn token(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<MintRequest>,
) -> Result<HttpResponse, OAuthResponse> {
    let base = base_url(&state, &req);
    let minted = mint::mint(&state, base, body.into_inner()).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(minted))
}
