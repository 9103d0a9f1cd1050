//! HTTP surface: the route table, and the mapping of errors to protocol shapes.
//! Handlers parse the request, call one domain function, and map its result.

mod access_log;
mod authorize;
mod base_url;
mod bearer;
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
mod pages;
mod params;
mod password_change;
mod rate_limit;
mod request_context;
mod request_id;
mod response_mode;
mod revocation;
mod sign_in;
mod signup;
mod tenant;
mod token;
mod userinfo;
mod verify;

use actix_web::dev::HttpServiceFactory;
use actix_web::http::Method;
use actix_web::middleware::from_fn;
use actix_web::{guard, web};

use error::ErrorFlavour;
use rate_limit::Refusal;

pub use access_log::access_log;
pub use cors::public_documents as cors_public_documents;
pub use error::{form_config, json_config, not_found};

/// Bodies larger than this are refused with 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Every endpoint, by URL. `{tenant}` is a GUID or name (or `common`,
/// `organizations`, `consumers`), `{policy}` a B2C user flow; both any case.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        // The short, default-tenant endpoints.
        .service(limited(
            "/auth/token",
            Refusal::OAuth(ErrorFlavour::Plain),
            web::post().to(token::default_tenant_token),
        ))
        .service(limited(
            "/auth/login",
            Refusal::OAuth(ErrorFlavour::Plain),
            web::post().to(login_api::login),
        ))
        .route("/auth/verify", web::get().to(verify::verify))
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
        .service(limited(
            "/{tenant}/oauth2/v2.0/token",
            Refusal::OAuthByPolicyQuery,
            web::post().to(token::tenant_token),
        ))
        .route(
            "/{tenant}/discovery/v2.0/keys",
            web::get().to(discovery::jwks),
        )
        // Azure AD B2C, policy in the path.
        .route(
            "/{tenant}/{policy}/v2.0/.well-known/openid-configuration",
            web::get().to(discovery::policy_configuration),
        )
        .service(limited(
            "/{tenant}/{policy}/oauth2/v2.0/token",
            Refusal::OAuth(ErrorFlavour::B2c),
            web::post().to(token::policy_token),
        ))
        .route(
            "/{tenant}/{policy}/discovery/v2.0/keys",
            web::get().to(discovery::jwks),
        )
        // Azure AD B2C, MSAL's legacy `/tfp/{tenant}/{policy}` authority.
        .route(
            "/tfp/{tenant}/{policy}/v2.0/.well-known/openid-configuration",
            web::get().to(discovery::tfp_configuration),
        )
        .service(limited(
            "/tfp/{tenant}/{policy}/oauth2/v2.0/token",
            Refusal::OAuth(ErrorFlavour::B2c),
            web::post().to(token::policy_token),
        ))
        .route(
            "/tfp/{tenant}/{policy}/discovery/v2.0/keys",
            web::get().to(discovery::jwks),
        );
    // CORS preflights of the token endpoints (single-page apps).
    for path in [
        "/auth/token",
        "/{tenant}/oauth2/v2.0/token",
        "/{tenant}/{policy}/oauth2/v2.0/token",
        "/tfp/{tenant}/{policy}/oauth2/v2.0/token",
    ] {
        cfg.route(path, web::method(Method::OPTIONS).to(cors::token_preflight));
    }
    interactive_routes(cfg);
    graph::routes(cfg);
}

/// Browser sign-in and what follows it: authorize, login form, SSO logout,
/// userinfo, revocation, introspection.
fn interactive_routes(cfg: &mut web::ServiceConfig) {
    let authorize = || web::route().to(authorize::default_tenant_authorize);
    let tenant_authorize = || web::route().to(authorize::tenant_authorize);
    let logout = || web::route().to(logout::default_tenant_logout);
    let tenant_logout = || web::route().to(logout::tenant_logout);
    cfg.route("/authorize", get_or_post(authorize()))
        .service(limited(
            login_page::LOGIN_PATH,
            Refusal::Page,
            web::post().to(login_page::login),
        ))
        .service(limited(
            password_change::CHANGE_PASSWORD_PATH,
            Refusal::Page,
            web::post().to(password_change::submit),
        ))
        .route("/logout", get_or_post(logout()))
        .route(
            "/userinfo",
            get_or_post(web::route().to(userinfo::userinfo)),
        )
        .service(limited(
            "/revoke",
            Refusal::OAuth(ErrorFlavour::Plain),
            web::post().to(revocation::revoke),
        ))
        .service(limited(
            "/introspect",
            Refusal::OAuth(ErrorFlavour::Plain),
            web::post().to(revocation::introspect),
        ))
        .route(signup::SIGN_UP_PATH, web::get().to(signup::sign_up_page))
        .service(limited(
            signup::SIGN_UP_PATH,
            Refusal::Page,
            web::post().to(signup::sign_up),
        ))
        .route(
            signup::FORGOT_PASSWORD_PATH,
            web::get().to(signup::forgot_password),
        )
        .route(signup::CANCEL_PATH, web::get().to(signup::cancel))
        .route("/assets/localidp.css", web::get().to(pages::stylesheet))
        .route(
            "/{tenant}/oauth2/v2.0/authorize",
            get_or_post(tenant_authorize()),
        )
        .route("/{tenant}/oauth2/v2.0/logout", get_or_post(tenant_logout()))
        // Azure AD B2C user flows.
        .route(
            "/{tenant}/{policy}/oauth2/v2.0/authorize",
            get_or_post(web::route().to(authorize::policy_authorize)),
        )
        .route(
            "/tfp/{tenant}/{policy}/oauth2/v2.0/authorize",
            get_or_post(web::route().to(authorize::policy_authorize)),
        )
        .route(
            "/{tenant}/{policy}/oauth2/v2.0/logout",
            get_or_post(web::route().to(logout::policy_logout)),
        )
        .route(
            "/tfp/{tenant}/{policy}/oauth2/v2.0/logout",
            get_or_post(web::route().to(logout::policy_logout)),
        );
}

fn get_or_post(route: actix_web::Route) -> actix_web::Route {
    route.guard(guard::Any(guard::Get()).or(guard::Post()))
}

/// A POST endpoint that takes credentials: each request counts against its client
/// address's rate limit, checked before the body is read.
fn limited(path: &str, refusal: Refusal, post: actix_web::Route) -> impl HttpServiceFactory {
    web::resource(path)
        .guard(guard::Post())
        .wrap(from_fn(move |req, next| {
            rate_limit::check(refusal, req, next)
        }))
        .route(post)
}
