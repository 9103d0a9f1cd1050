//! Microsoft Graph v1.0 (and `/beta`, the same handlers): the directory's users for
//! applications that call Graph. Every request carries a Graph access token from this
//! server (`scope=https://graph.microsoft.com/.default`, or `User.Read`), checked as
//! `/auth/verify` checks tokens (signature, times, issuer, token status).

mod auth;
mod error;
mod users;

use actix_web::web;

/// The Graph routes under `/v1.0` and `/beta`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    for version in ["/v1.0", "/beta"] {
        cfg.service(
            web::scope(version)
                .route("/me", web::get().to(users::me))
                .route("/users", web::get().to(users::list))
                .route("/users", web::post().to(users::create))
                .route("/users/{id}", web::get().to(users::get))
                .route("/users/{id}", web::patch().to(users::update))
                .route("/users/{id}", web::delete().to(users::delete))
                .route(
                    "/users/{id}/revokeSignInSessions",
                    web::post().to(users::revoke_sign_in_sessions),
                )
                .default_service(web::to(users::unknown)),
        );
    }
}
