//! Trusted external issuers (a real Entra or B2C tenant, any OIDC provider): their
//! keys, read at start, and the verification of their tokens.

use std::sync::Arc;

use jsonwebtoken::{Algorithm, Validation};
use serde_json::Value;

use super::token_time::{self, TimeError};
use super::{OAuthError, Reason};
use crate::clock::Clock;
use crate::config::TrustedIssuer;
use crate::directory;
use crate::federation::UpstreamKeys;

/// A trusted issuer with its keys (read from a file at start, or fetched).
#[derive(Debug)]
pub struct ExternalIssuer {
    pub config: TrustedIssuer,
    pub keys: Arc<UpstreamKeys>,
}

/// Checks the trusted issuers' configuration and reads their JWKS files; the keys of
/// the others are fetched in the background (a start does not wait for, nor fail
/// on, an unreachable upstream).
pub fn load(configs: &[TrustedIssuer], clock: &Clock) -> Result<Vec<ExternalIssuer>, String> {
    crate::federation::fetch::install_crypto_provider();
    let issuers = configs
        .iter()
        .map(|config| {
            Ok(ExternalIssuer {
                config: config.clone(),
                keys: Arc::new(UpstreamKeys::from_config(config)?),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    for issuer in &issuers {
        issuer.keys.prefetch(clock.clone());
    }
    Ok(issuers)
}

pub(crate) fn rejected(msg: impl Into<String>) -> OAuthError {
    OAuthError::invalid_grant(Reason::InvalidAssertion, msg)
}

/// Why an external token is refused; [`Refusal::message`] names the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Malformed,
    UntrustedIssuer,
    Algorithm,
    UnknownKey,
    KeysUnavailable,
    BadSignature,
    OtherAudience,
    Invalid,
    ExpNotNumber,
    Expired,
    NotYetValid,
}

impl Refusal {
    /// The message for a token called `what` ("The subject token", "The token").
    pub fn message(self, what: &str) -> String {
        match self {
            Refusal::Malformed => format!("{what} is not a well-formed JWT."),
            Refusal::UntrustedIssuer => format!("{what}'s issuer is not trusted here."),
            Refusal::Algorithm => format!("{what}'s algorithm is not accepted."),
            Refusal::UnknownKey => format!("{what} was signed by an unknown key."),
            Refusal::KeysUnavailable => format!(
                "{what}'s issuer has no keys here yet: they could not be fetched (see the server log)."
            ),
            Refusal::BadSignature => format!("{what}'s signature is invalid."),
            Refusal::OtherAudience => format!("{what} is for another audience."),
            Refusal::Invalid => format!("{what} is invalid."),
            Refusal::ExpNotNumber => format!("{what}'s exp is not a number."),
            Refusal::Expired => format!("{what} has expired."),
            Refusal::NotYetValid => format!("{what} is not valid yet."),
        }
    }
}

/// The trusted issuer a token names in `iss` (unverified: only to pick the keys),
/// among those `accepts` admits.
pub fn issuer_of<'a>(
    issuers: &'a [ExternalIssuer],
    token: &str,
    accepts: impl Fn(&ExternalIssuer) -> bool,
) -> Result<&'a ExternalIssuer, Refusal> {
    let unverified =
        jsonwebtoken::dangerous::insecure_decode::<Value>(token).map_err(|_| Refusal::Malformed)?;
    let iss = unverified.claims["iss"].as_str().unwrap_or_default();
    issuers
        .iter()
        .find(|i| i.config.issuer == iss && accepts(i))
        .ok_or(Refusal::UntrustedIssuer)
}

/// Verifies a token of `issuer` at `now` with `skew` seconds of clock skew: an
/// asymmetric algorithm, a key of the issuer (fetched again on an unknown `kid`),
/// the signature, `iss`, `aud` (when configured), `exp` and `nbf`.
pub async fn verify_token(
    issuer: &ExternalIssuer,
    token: &str,
    now: i64,
    skew: i64,
) -> Result<Value, Refusal> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| Refusal::Malformed)?;
    if !matches!(
        header.alg,
        Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::ES256
            | Algorithm::ES384
    ) {
        return Err(Refusal::Algorithm);
    }
    let keys = issuer
        .keys
        .keys_for(header.kid.as_deref(), now)
        .await
        .ok_or(Refusal::KeysUnavailable)?;
    let key = keys
        .find(header.kid.as_deref())
        .ok_or(Refusal::UnknownKey)?;
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[issuer.config.issuer.as_str()]);
    validation.set_required_spec_claims(&["exp", "iss"]);
    // Times are checked against the injected clock below.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    match &issuer.config.audience {
        Some(aud) => validation.set_audience(&[aud.as_str()]),
        None => validation.validate_aud = false,
    }
    let data = jsonwebtoken::decode::<Value>(token, key, &validation).map_err(|e| {
        use jsonwebtoken::errors::ErrorKind;
        match e.kind() {
            ErrorKind::InvalidSignature => Refusal::BadSignature,
            ErrorKind::InvalidAudience => Refusal::OtherAudience,
            _ => Refusal::Invalid,
        }
    })?;
    let exp = data.claims["exp"].as_i64().ok_or(Refusal::ExpNotNumber)?;
    let nbf = data.claims["nbf"].as_i64();
    token_time::check_times(exp, nbf, now, skew).map_err(|e| match e {
        TimeError::Expired => Refusal::Expired,
        TimeError::NotYetValid => Refusal::NotYetValid,
    })?;
    Ok(data.claims)
}

/// Verifies a subject token (token exchange) against the trusted issuer it names.
pub async fn verify_subject<'a>(
    issuers: &'a [ExternalIssuer],
    token: &str,
    now: i64,
    skew: i64,
) -> Result<(Value, &'a ExternalIssuer), OAuthError> {
    let refused = |r: Refusal| rejected(r.message("The subject token"));
    jsonwebtoken::decode_header(token).map_err(|_| refused(Refusal::Malformed))?;
    let issuer = issuer_of(issuers, token, |_| true).map_err(refused)?;
    let claims = verify_token(issuer, token, now, skew)
        .await
        .map_err(refused)?;
    Ok((claims, issuer))
}

/// The person a verified external token names.
pub struct Subject {
    pub oid: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
}

pub fn subject_of(claims: &Value) -> Subject {
    let text = |k: &str| claims[k].as_str().map(str::to_owned);
    let email = text("email")
        .or_else(|| claims["emails"][0].as_str().map(str::to_owned))
        .or_else(|| text("preferred_username"))
        .or_else(|| text("upn"))
        .filter(|e| directory::validate_email(e).is_ok());
    Subject {
        oid: text("oid").filter(|o| uuid::Uuid::parse_str(o).is_ok()),
        email,
        name: text("name"),
        given_name: text("given_name"),
        family_name: text("family_name"),
    }
}
