//! Pass-through verification: a trusted issuer with `verify = true` has its tokens
//! accepted by `/auth/verify`, `/introspect` and `/userinfo` as they are (signature
//! with its live keys, `iss`, `aud`, times), answered in the shape of our own, so an
//! app's URLs stay the same with local tokens and with the real tenant's.

use serde_json::Value;

use super::claims::AccessTokenClaims;
use super::external::{self, ExternalIssuer};
use super::services::{Verified, VerifyError};
use crate::state::AppState;

/// The trusted issuer (with `verify`) a token names, if it names one.
pub fn issuer_for<'a>(state: &'a AppState, token: &str) -> Option<&'a ExternalIssuer> {
    let issuers = &state.tokens.external_issuers;
    if !issuers.iter().any(|i| i.config.verify) {
        return None;
    }
    external::issuer_of(issuers, token, |i| i.config.verify).ok()
}

/// Verifies an upstream token of `issuer` at `now`.
pub async fn verify(
    state: &AppState,
    issuer: &ExternalIssuer,
    token: &str,
    now: i64,
) -> Result<Verified, VerifyError> {
    let skew = state.settings.clock_skew_seconds;
    let claims = external::verify_token(issuer, token, now, skew)
        .await
        .map_err(|r| VerifyError::Invalid(r.message("The token")))?;
    let audience = issuer.config.audience.as_deref().unwrap_or_default();
    let claims = access_token_claims(&claims, audience);
    if claims.oid.is_empty() {
        return Err(VerifyError::Invalid(
            "The token names no subject (neither oid nor sub).".into(),
        ));
    }
    // The local tenant that answers for this issuer's tokens.
    let tenant_name = issuer
        .config
        .tenant
        .as_deref()
        .unwrap_or(state.directory.default_tenant_id());
    let tenant = state
        .directory
        .tenant(tenant_name)
        .await
        .map_err(|e| VerifyError::Unavailable(e.to_string()))?
        .ok_or_else(|| {
            VerifyError::Unavailable(format!(
                "the tenant {tenant_name:?} of the trusted issuer {} does not exist",
                issuer.config.issuer
            ))
        })?;
    let policy = claims.tfp.clone();
    Ok(Verified {
        claims,
        tenant,
        policy,
        upstream: Some(issuer.config.issuer.clone()),
    })
}

/// An upstream token's claims in our access-token shape: `oid` (else `sub`) names the
/// user, the email comes from `email`, `emails[0]` (B2C) or `preferred_username`, the
/// client from `azp` (v2) or `appid` (v1), the B2C user flow from `tfp` or `acr`.
/// `aud` is the configured audience the token was checked against (an upstream may
/// send a list).
fn access_token_claims(v: &Value, audience: &str) -> AccessTokenClaims {
    let text = |k: &str| v[k].as_str().map(str::to_owned);
    let list = |k: &str| match &v[k] {
        Value::Array(items) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_owned))
            .collect(),
        Value::String(one) => vec![one.clone()],
        _ => Vec::new(),
    };
    let emails: Vec<String> = list("emails");
    let iat = v["iat"].as_i64().unwrap_or(0);
    AccessTokenClaims {
        aud: audience.to_owned(),
        iss: text("iss").unwrap_or_default(),
        iat,
        nbf: v["nbf"].as_i64().unwrap_or(iat),
        exp: v["exp"].as_i64().unwrap_or(0),
        sub: text("sub").unwrap_or_default(),
        oid: text("oid").or_else(|| text("sub")).unwrap_or_default(),
        azp: text("azp").or_else(|| text("appid")).unwrap_or_default(),
        ver: text("ver").unwrap_or_default(),
        jti: text("jti").or_else(|| text("uti")).unwrap_or_default(),
        tid: text("tid"),
        idtyp: text("idtyp"),
        tfp: text("tfp").or_else(|| text("acr")),
        email: text("email")
            .or_else(|| emails.first().cloned())
            .or_else(|| text("preferred_username")),
        emails,
        name: text("name"),
        preferred_username: text("preferred_username"),
        given_name: text("given_name"),
        family_name: text("family_name"),
        scp: text("scp"),
        roles: list("roles"),
        groups: list("groups"),
        ..Default::default()
    }
}
