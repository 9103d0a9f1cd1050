//! `/_dev/*`: endpoints for tests, served only with `--dev` or `--ephemeral`
//! (`Settings::dev`); a server without them answers 404 here, and runs no journal.

use actix_web::middleware::from_fn;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::base_url::base_url;
use super::error::OAuthResponse;
use super::journal::{self, Journal};
use super::route_table::{Endpoints, Routes};
use crate::oauth::mint::{self, MintRequest};
use crate::state::AppState;

/// Every route ([`super::routes`]); with a journal (dev), inside a scope that records
/// each request, with the `/_dev` routes. Without one the routes are not wrapped, so a
/// server without `--dev` pays nothing for it. The list of what was registered is
/// app data ([`Endpoints`]), which `/openapi.json` is written from.
pub fn app_routes(journal: Option<web::Data<Journal>>) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        let mut listed = Vec::new();
        match journal {
            None => super::routes(&mut Routes::new(cfg, &mut listed)),
            Some(journal) => {
                let recording = journal.clone();
                cfg.service(
                    web::scope("")
                        .app_data(journal)
                        .wrap(from_fn(move |req, next| {
                            journal::record(recording.clone(), req, next)
                        }))
                        .configure(|cfg| {
                            let mut r = Routes::new(cfg, &mut listed);
                            r.post("/_dev/token", web::to(token))
                                .get(journal::REQUESTS_PATH, web::to(requests))
                                .delete(journal::REQUESTS_PATH, web::to(clear_requests));
                            super::routes(&mut r);
                        }),
                );
            }
        }
        cfg.app_data(web::Data::new(Endpoints(listed)));
    }
}

#[derive(Deserialize)]
struct RequestsQuery {
    limit: Option<usize>,
}

/// `GET /_dev/requests[?limit=N]`: the last N requests (all kept by default), oldest
/// first.
async fn requests(journal: web::Data<Journal>, query: web::Query<RequestsQuery>) -> HttpResponse {
    let limit = query.limit.unwrap_or(journal::CAPACITY);
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(serde_json::json!({ "requests": journal.last(limit) }))
}

/// `DELETE /_dev/requests`: forgets every request journaled.
async fn clear_requests(journal: web::Data<Journal>) -> HttpResponse {
    journal.clear();
    HttpResponse::NoContent().finish()
}

/// `POST /_dev/token`: a minted token set (see [`crate::oauth::mint`]).
async fn token(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<MintRequest>,
) -> Result<HttpResponse, OAuthResponse> {
    let base = base_url(&state, &req);
    let request = body.into_inner();
    // The flavour as `mint` reads it (entra by default); unknown names are refused there.
    let flavour = match request.flavour.as_deref() {
        Some("b2c") => "b2c",
        Some("short") => "plain",
        _ => "entra",
    };
    let minted = mint::mint(&state, base, request).await?;
    state.metrics.token_issued("dev_mint", flavour);
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(minted))
}
