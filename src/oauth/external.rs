//! Trusted external issuers (a real Entra or B2C tenant, any OIDC provider): their
//! keys, read at start, and the verification of their tokens.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use super::token_time::{self, TimeError};
use super::{OAuthError, Reason};
use crate::config::TrustedIssuer;
use crate::directory;

/// A trusted issuer with its keys, read once at start.
#[derive(Debug)]
pub struct ExternalIssuer {
    pub config: TrustedIssuer,
    pub keys: JwkSet,
}

pub fn load(configs: &[TrustedIssuer]) -> Result<Vec<ExternalIssuer>, String> {
    configs
        .iter()
        .map(|config| {
            let text = std::fs::read_to_string(&config.jwks_file)
                .map_err(|e| format!("{}: {e}", config.jwks_file.display()))?;
            let keys: JwkSet = serde_json::from_str(&text)
                .map_err(|e| format!("{}: not a JWKS: {e}", config.jwks_file.display()))?;
            if keys.keys.is_empty() {
                return Err(format!(
                    "{}: the JWKS has no keys",
                    config.jwks_file.display()
                ));
            }
            Ok(ExternalIssuer {
                config: config.clone(),
                keys,
            })
        })
        .collect()
}

pub(crate) fn rejected(msg: impl Into<String>) -> OAuthError {
    OAuthError::invalid_grant(Reason::InvalidAssertion, msg)
}

/// Verifies a subject token against the trusted issuer it names, at `now`, with
/// `skew` seconds of clock skew.
pub fn verify_subject<'a>(
    issuers: &'a [ExternalIssuer],
    token: &str,
    now: i64,
    skew: i64,
) -> Result<(Value, &'a ExternalIssuer), OAuthError> {
    let header = jsonwebtoken::decode_header(token)
        .map_err(|_| rejected("The subject token is not a well-formed JWT."))?;
    // Which issuer to check against: read `iss` first, trust nothing until verified.
    let unverified = jsonwebtoken::dangerous::insecure_decode::<Value>(token)
        .map_err(|_| rejected("The subject token is not a well-formed JWT."))?;
    let iss = unverified.claims["iss"].as_str().unwrap_or_default();
    let issuer = issuers
        .iter()
        .find(|i| i.config.issuer == iss)
        .ok_or_else(|| rejected("The subject token's issuer is not trusted here."))?;
    if !matches!(
        header.alg,
        Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::ES256
            | Algorithm::ES384
    ) {
        return Err(rejected("The subject token's algorithm is not accepted."));
    }
    let jwk = match &header.kid {
        Some(kid) => issuer.keys.find(kid),
        None if issuer.keys.keys.len() == 1 => issuer.keys.keys.first(),
        None => None,
    }
    .ok_or_else(|| rejected("The subject token was signed by an unknown key."))?;
    let key = DecodingKey::from_jwk(jwk)
        .map_err(|_| rejected("The issuer's key cannot verify this token."))?;
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
    let data = jsonwebtoken::decode::<Value>(token, &key, &validation).map_err(|e| {
        use jsonwebtoken::errors::ErrorKind;
        rejected(match e.kind() {
            ErrorKind::InvalidSignature => "The subject token's signature is invalid.",
            ErrorKind::InvalidAudience => "The subject token is for another audience.",
            _ => "The subject token is invalid.",
        })
    })?;
    let exp = data.claims["exp"]
        .as_i64()
        .ok_or_else(|| rejected("The subject token's exp is not a number."))?;
    let nbf = data.claims["nbf"].as_i64();
    token_time::check_times(exp, nbf, now, skew).map_err(|e| {
        rejected(match e {
            TimeError::Expired => "The subject token has expired.",
            TimeError::NotYetValid => "The subject token is not valid yet.",
        })
    })?;
    Ok((data.claims, issuer))
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
