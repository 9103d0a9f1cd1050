//! The metrics listener: a server of its own (one worker) that answers `GET /metrics`
//! and nothing else, on the address of `metrics_listen` (as Keycloak's management port
//! and Hydra's admin port do), so the public listener never shows it.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

use super::scrape::{Format, render};
use crate::state::AppState;

/// Starts serving `/metrics` on `listener`; stops with the main server
/// (`Application::run_until_stopped`).
pub fn serve(listener: TcpListener, state: AppState) -> std::io::Result<Server> {
    let data = web::Data::new(state);
    Ok(HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .service(
                web::resource("/metrics")
                    .route(web::get().to(scrape))
                    .default_service(web::to(method_not_allowed)),
            )
            .default_service(web::to(not_found))
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(1)
    .listen(listener)?
    .run())
}

async fn scrape(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok());
    let format = Format::from_accept(accept);
    match render(&state, format) {
        Ok(body) => HttpResponse::Ok()
            .content_type(format.content_type())
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(body),
        Err(e) => {
            tracing::error!(error = %e, "cannot encode the metrics");
            HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("the metrics could not be encoded\n")
        }
    }
}

async fn not_found() -> HttpResponse {
    HttpResponse::NotFound()
        .content_type("text/plain; charset=utf-8")
        .body("only GET /metrics is served here\n")
}

async fn method_not_allowed() -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header((header::ALLOW, "GET"))
        .content_type("text/plain; charset=utf-8")
        .body("only GET /metrics is served here\n")
}
