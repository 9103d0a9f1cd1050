//! The route table's registrar: every route goes through [`Routes`], which adds it to
//! actix and records its method and path, so `/openapi.json` lists exactly what the
//! router serves (no second list to keep in step).

use actix_web::http::Method;
use actix_web::middleware::from_fn;
use actix_web::{Route, guard, web};

use super::rate_limit::{self, Refusal};

/// One method on one path, as actix matches it (`{tenant}` is a path segment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub method: Method,
    pub path: String,
}

/// Every endpoint the router of this server serves, in registration order.
#[derive(Debug, Default)]
pub struct Endpoints(pub Vec<Endpoint>);

/// Registers routes on a [`web::ServiceConfig`] under `prefix` and records them.
pub struct Routes<'a> {
    cfg: &'a mut web::ServiceConfig,
    prefix: String,
    listed: &'a mut Vec<Endpoint>,
}

impl<'a> Routes<'a> {
    pub fn new(cfg: &'a mut web::ServiceConfig, listed: &'a mut Vec<Endpoint>) -> Self {
        Routes {
            cfg,
            prefix: String::new(),
            listed,
        }
    }

    fn record(&mut self, method: Method, path: &str) {
        self.listed.push(Endpoint {
            method,
            path: format!("{}{path}", self.prefix),
        });
    }

    /// `route` (a handler, `web::to(..)`) answers `method` at `path`.
    pub fn at(&mut self, method: Method, path: &str, route: Route) -> &mut Self {
        self.record(method.clone(), path);
        self.cfg.route(path, route.method(method));
        self
    }

    pub fn get(&mut self, path: &str, route: Route) -> &mut Self {
        self.at(Method::GET, path, route)
    }

    pub fn post(&mut self, path: &str, route: Route) -> &mut Self {
        self.at(Method::POST, path, route)
    }

    pub fn patch(&mut self, path: &str, route: Route) -> &mut Self {
        self.at(Method::PATCH, path, route)
    }

    pub fn delete(&mut self, path: &str, route: Route) -> &mut Self {
        self.at(Method::DELETE, path, route)
    }

    /// One handler for GET and POST (OIDC's authorize and logout endpoints take both).
    pub fn get_or_post(&mut self, path: &str, route: Route) -> &mut Self {
        self.record(Method::GET, path);
        self.record(Method::POST, path);
        self.cfg.route(
            path,
            route.guard(guard::Any(guard::Get()).or(guard::Post())),
        );
        self
    }

    /// A POST endpoint that takes credentials: each request counts against its client
    /// address's rate limit, checked before the body is read.
    pub fn limited(&mut self, path: &str, refusal: Refusal, route: Route) -> &mut Self {
        self.limited_at(Method::POST, path, refusal, route)
    }

    /// A GET endpoint that writes for whoever calls it (a brokered sign-in's start):
    /// counted against the same rate limit as the credential endpoints.
    pub fn limited_get(&mut self, path: &str, refusal: Refusal, route: Route) -> &mut Self {
        self.limited_at(Method::GET, path, refusal, route)
    }

    fn limited_at(
        &mut self,
        method: Method,
        path: &str,
        refusal: Refusal,
        route: Route,
    ) -> &mut Self {
        self.record(method.clone(), path);
        self.cfg.service(
            web::resource(path)
                .guard(guard::Method(method))
                .wrap(from_fn(move |req, next| {
                    rate_limit::check(refusal, req, next)
                }))
                .route(route),
        );
        self
    }

    /// A scope at `prefix` whose unmatched paths go to `default`.
    pub fn scope(&mut self, prefix: &str, default: Route, f: impl FnOnce(&mut Routes<'_>)) {
        let full = format!("{}{prefix}", self.prefix);
        let listed = &mut *self.listed;
        self.cfg.service(
            web::scope(prefix)
                .configure(|cfg| {
                    f(&mut Routes {
                        cfg,
                        prefix: full,
                        listed,
                    })
                })
                .default_service(default),
        );
    }
}
