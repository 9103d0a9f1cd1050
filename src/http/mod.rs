//! HTTP surface: the route table, and the mapping of errors to protocol shapes.
//! Handlers parse the request, call one domain function, and map its result.

mod access_log;
mod authorize;
mod base_url;
mod bearer;
mod broker;
mod client_ip;
mod cookies;
mod cors;
mod csrf;
pub mod dev;
mod discovery;
mod error;
mod flow;
mod graph;
mod health;
pub mod journal;
mod login_api;
mod login_page;
mod logout;
mod openapi;
mod pages;
mod params;
mod password_change;
mod rate_limit;
mod request_context;
mod request_id;
mod response_mode;
mod revocation;
mod route_table;
mod sign_in;
mod signup;
mod tenant;
mod token;
mod userinfo;
mod verify;

use actix_web::http::Method;
use actix_web::web;

use error::ErrorFlavour;
use rate_limit::Refusal;
use route_table::Routes;

pub use access_log::access_log;
pub use cors::public_documents as cors_public_documents;
pub use error::{form_config, json_config, not_found};

/// Bodies larger than this are refused with 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Every endpoint, by URL. `{tenant}` is a GUID or name (or `common`,
/// `organizations`, `consumers`), `{policy}` a B2C user flow; both any case.
pub fn routes(r: &mut Routes<'_>) {
    r.get("/healthz", web::to(health::healthz))
        .get("/readyz", web::to(health::readyz))
        .get(openapi::PATH, web::to(openapi::document))
        // The short, default-tenant endpoints.
        .limited(
            "/auth/token",
            Refusal::OAuth(ErrorFlavour::Plain),
            web::to(token::default_tenant_token),
        )
        .limited(
            "/auth/login",
            Refusal::OAuth(ErrorFlavour::Plain),
            web::to(login_api::login),
        )
        .get("/auth/verify", web::to(verify::verify))
        .get(
            "/.well-known/openid-configuration",
            web::to(discovery::default_tenant_configuration),
        )
        .get("/.well-known/jwks.json", web::to(discovery::jwks))
        .get("/common/userrealm/{user}", web::to(discovery::user_realm))
        // Entra ID v2 (and B2C with `?p={policy}`).
        .get(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            web::to(discovery::tenant_configuration),
        )
        .limited(
            "/{tenant}/oauth2/v2.0/token",
            Refusal::OAuthByPolicyQuery,
            web::to(token::tenant_token),
        )
        .get("/{tenant}/discovery/v2.0/keys", web::to(discovery::jwks))
        // Azure AD B2C, policy in the path.
        .get(
            "/{tenant}/{policy}/v2.0/.well-known/openid-configuration",
            web::to(discovery::policy_configuration),
        )
        .limited(
            "/{tenant}/{policy}/oauth2/v2.0/token",
            Refusal::OAuth(ErrorFlavour::B2c),
            web::to(token::policy_token),
        )
        .get(
            "/{tenant}/{policy}/discovery/v2.0/keys",
            web::to(discovery::jwks),
        )
        // Azure AD B2C, MSAL's legacy `/tfp/{tenant}/{policy}` authority.
        .get(
            "/tfp/{tenant}/{policy}/v2.0/.well-known/openid-configuration",
            web::to(discovery::tfp_configuration),
        )
        .limited(
            "/tfp/{tenant}/{policy}/oauth2/v2.0/token",
            Refusal::OAuth(ErrorFlavour::B2c),
            web::to(token::policy_token),
        )
        .get(
            "/tfp/{tenant}/{policy}/discovery/v2.0/keys",
            web::to(discovery::jwks),
        );
    // CORS preflights of the token endpoints (single-page apps).
    for path in [
        "/auth/token",
        "/{tenant}/oauth2/v2.0/token",
        "/{tenant}/{policy}/oauth2/v2.0/token",
        "/tfp/{tenant}/{policy}/oauth2/v2.0/token",
    ] {
        r.at(Method::OPTIONS, path, web::to(cors::token_preflight));
    }
    interactive_routes(r);
    graph::routes(r);
}

/// Browser sign-in and what follows it: authorize, login form, SSO logout,
/// userinfo, revocation, introspection.
fn interactive_routes(r: &mut Routes<'_>) {
    r.get_or_post("/authorize", web::to(authorize::default_tenant_authorize))
        .limited(
            login_page::LOGIN_PATH,
            Refusal::Page,
            web::to(login_page::login),
        )
        .limited(
            password_change::CHANGE_PASSWORD_PATH,
            Refusal::Page,
            web::to(password_change::submit),
        )
        .get_or_post("/logout", web::to(logout::default_tenant_logout))
        .get_or_post("/userinfo", web::to(userinfo::userinfo))
        .limited(
            "/revoke",
            Refusal::OAuth(ErrorFlavour::Plain),
            web::to(revocation::revoke),
        )
        .limited(
            "/introspect",
            Refusal::OAuth(ErrorFlavour::Plain),
            web::to(revocation::introspect),
        )
        .get(signup::SIGN_UP_PATH, web::to(signup::sign_up_page))
        .limited(
            signup::SIGN_UP_PATH,
            Refusal::Page,
            web::to(signup::sign_up),
        )
        .get(
            signup::FORGOT_PASSWORD_PATH,
            web::to(signup::forgot_password),
        )
        .get(signup::CANCEL_PATH, web::to(signup::cancel))
        .limited_get(broker::START_PATH, Refusal::Page, web::to(broker::start))
        .get(broker::CALLBACK_PATH, web::to(broker::callback))
        .get("/assets/localidp.css", web::to(pages::stylesheet))
        .get_or_post(
            "/{tenant}/oauth2/v2.0/authorize",
            web::to(authorize::tenant_authorize),
        )
        .get_or_post(
            "/{tenant}/oauth2/v2.0/logout",
            web::to(logout::tenant_logout),
        )
        // Azure AD B2C user flows.
        .get_or_post(
            "/{tenant}/{policy}/oauth2/v2.0/authorize",
            web::to(authorize::policy_authorize),
        )
        .get_or_post(
            "/tfp/{tenant}/{policy}/oauth2/v2.0/authorize",
            web::to(authorize::policy_authorize),
        )
        .get_or_post(
            "/{tenant}/{policy}/oauth2/v2.0/logout",
            web::to(logout::policy_logout),
        )
        .get_or_post(
            "/tfp/{tenant}/{policy}/oauth2/v2.0/logout",
            web::to(logout::policy_logout),
        );
}
