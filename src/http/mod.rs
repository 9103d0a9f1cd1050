//! HTTP surface: the route table, and the mapping of errors to protocol shapes.
//! Handlers parse the request, call one domain function, and map its result.

mod auth;
mod authority;
mod discovery;
mod error;
mod health;
mod token;

use actix_web::web;

pub use error::{form_config, json_config, not_found};

/// Bodies larger than this are refused with 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Every endpoint, by URL. `{tenant}` is a GUID or name (or `common`,
/// `organizations`, `consumers`), `{policy}` a B2C user flow; both any case.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        // The short, default-tenant endpoints.
        .route("/auth/token", web::post().to(token::default_tenant_token))
        .route("/auth/login", web::post().to(auth::login))
        .route("/auth/verify", web::get().to(auth::verify))
        .route(
            "/.well-known/openid-configuration",
            web::get().to(discovery::default_tenant_configuration),
        )
        .route("/.well-known/jwks.json", web::get().to(discovery::jwks))
        .route(
            "/common/userrealm/{user}",
            web::get().to(discovery::user_realm),
        )
        // Entra ID v2 (and B2C with `?p={policy}`).
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            web::get().to(discovery::tenant_configuration),
        )
        .route(
            "/{tenant}/oauth2/v2.0/token",
            web::post().to(token::tenant_token),
        )
        .route(
            "/{tenant}/discovery/v2.0/keys",
            web::get().to(discovery::jwks),
        )
        // Azure AD B2C, policy in the path.
        .route(
            "/{tenant}/{policy}/v2.0/.well-known/openid-configuration",
            web::get().to(discovery::policy_configuration),
        )
        .route(
            "/{tenant}/{policy}/oauth2/v2.0/token",
            web::post().to(token::policy_token),
        )
        .route(
            "/{tenant}/{policy}/discovery/v2.0/keys",
            web::get().to(discovery::jwks),
        )
        // Azure AD B2C, MSAL's legacy `/tfp/{tenant}/{policy}` authority.
        .route(
            "/tfp/{tenant}/{policy}/v2.0/.well-known/openid-configuration",
            web::get().to(discovery::tfp_configuration),
        )
        .route(
            "/tfp/{tenant}/{policy}/oauth2/v2.0/token",
            web::post().to(token::policy_token),
        )
        .route(
            "/tfp/{tenant}/{policy}/discovery/v2.0/keys",
            web::get().to(discovery::jwks),
        );
}
