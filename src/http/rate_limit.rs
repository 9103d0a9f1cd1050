//! The credential endpoints' rate limit per client address: a middleware on their
//! resources, run before the body is read, that answers 429 with `Retry-After` in
//! the endpoint's own shape. One budget per address covers all of them.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpRequest, HttpResponse, ResponseError, web};

use super::client_ip::client_ip;
use super::error::{ErrorFlavour, OAuthResponse};
use super::pages::{self, ErrorPage};
use super::tenant::PolicyQuery;
use crate::oauth::{ErrorCode, OAuthError, Reason};
use crate::rate_limit::RetryAfter;
use crate::state::AppState;

/// How a refused request is answered.
#[derive(Debug, Clone, Copy)]
pub enum Refusal {
    /// RFC 6749 §5.2 JSON as this flavour writes it (Entra: AADSTS90055, B2C:
    /// AADB2C90229, plain: `temporarily_unavailable` alone).
    OAuth(ErrorFlavour),
    /// `/{tenant}/oauth2/v2.0/token`: as B2C with `?p=`, else as Entra.
    OAuthByPolicyQuery,
    /// An HTML page: the sign-in and sign-up forms.
    Page,
}

/// Counts the request against its client address; past the limit, answers 429.
pub async fn check(
    refusal: Refusal,
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let refused = req.app_data::<web::Data<AppState>>().and_then(|state| {
        if !state.rate_limiter.is_on() {
            return None;
        }
        let ip = client_ip(&state.settings, req.request())?;
        state.rate_limiter.check(ip.into(), state.clock.now()).err()
    });
    match refused {
        None => Ok(next.call(req).await?.map_into_left_body()),
        Some(wait) => {
            let res = refused_response(refusal, req.request(), wait);
            Ok(req.into_response(res).map_into_right_body())
        }
    }
}

fn refused_response(
    refusal: Refusal,
    req: &HttpRequest,
    RetryAfter(secs): RetryAfter,
) -> HttpResponse {
    let mut res = match refusal {
        Refusal::Page => pages::html(
            StatusCode::TOO_MANY_REQUESTS,
            &ErrorPage {
                tenant_name: "localidp".into(),
                title: "Too many attempts".into(),
                message: format!(
                    "Too many sign-in attempts came from your network. Wait {secs} seconds, then try again."
                ),
                code: None,
            },
        ),
        Refusal::OAuth(flavour) => oauth(flavour, req, secs),
        Refusal::OAuthByPolicyQuery => {
            let policy = PolicyQuery::of(req).ok().flatten();
            oauth(ErrorFlavour::from_policy(policy.as_deref()), req, secs)
        }
    };
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    res
}

fn oauth(flavour: ErrorFlavour, req: &HttpRequest, secs: u64) -> HttpResponse {
    let error = OAuthError::new(
        ErrorCode::TemporarilyUnavailable,
        Reason::Throttled,
        format!("Too many requests from this client address; retry after {secs} seconds."),
    );
    OAuthResponse::flavoured(error, flavour, req).error_response()
}
