//! Access-token verification for `/auth/verify`: RS256 only, a `kid` we published,
//! signature, `exp`/`nbf` with the configured clock skew, `iss`/`aud` bound to one of
//! our tenants, and the token status (not revoked, its user neither disabled nor
//! deleted), checked in memory on every call.

use jsonwebtoken::Algorithm;

use std::sync::Arc;

use super::authority::IssuerForm;
use super::claims::AccessTokenClaims;
use super::status::Refusal;
use crate::state::AppState;

use super::token_time::{TimeError, check_times};
use crate::crypto::jwt::VerifyFailure;

fn invalid(msg: impl Into<String>) -> VerifyError {
    VerifyError::Invalid(msg.into())
}

/// Claims every access token of ours carries; a token without one is named by it.
const REQUIRED_CLAIMS: [&str; 5] = ["exp", "nbf", "iss", "aud", "sub"];

/// The verified payload as our access-token claims. Times are checked against the
/// injected clock by `check_times`, the audience against the tenant named in `tid`.
fn access_token_claims(payload: &[u8]) -> Result<AccessTokenClaims, VerifyError> {
    serde_json::from_slice(payload).map_err(|_| {
        // The slow path only: which required claim is missing, if one is.
        let object = serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(payload);
        match object {
            Err(_) => invalid("The token is not an access token of this issuer."),
            Ok(o) => match REQUIRED_CLAIMS.iter().find(|c| !o.contains_key(**c)) {
                Some(c) => invalid(format!("The token has no {c} claim.")),
                None => invalid("The token is not an access token of this issuer."),
            },
        }
    })
}

pub use super::services::{Verified, VerifyError};

/// `base` is the public base URL the request came in at: tokens carry it in `iss`.
pub async fn verify_access_token(
    state: &AppState,
    base: &str,
    token: &str,
) -> Result<Arc<Verified>, VerifyError> {
    // APIs present the same token many times: a token verified in the last few
    // seconds (same bytes, same base URL) is not checked again until it expires.
    let key = {
        // SHA-256 of "{base} {token}", kept as bytes (no string built per request).
        let mut digest = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        digest.update(base.as_bytes());
        digest.update(b" ");
        digest.update(token.as_bytes());
        let mut key = [0u8; 32];
        key.copy_from_slice(digest.finish().as_ref());
        key
    };
    let now = state.clock.now();
    let skew = state.settings.clock_skew_seconds;
    let verified = match state.tokens.verified.get(&key) {
        Some(hit) if hit.claims.exp + skew >= now => hit,
        _ => {
            let verified = Arc::new(verify_uncached(state, base, token, now).await?);
            state.tokens.verified.put(key, verified.clone());
            verified
        }
    };
    // After a cache hit too: a token revoked since it was cached is refused.
    state
        .tokens
        .status
        .check(&state.pool, now, &verified.claims)
        .await
        .map_err(|refusal| match refusal {
            Refusal::StatusUnknown => VerifyError::Unavailable(refusal.message().to_owned()),
            _ => invalid(refusal.message()),
        })?;
    Ok(verified)
}

async fn verify_uncached(
    state: &AppState,
    base: &str,
    token: &str,
    now: i64,
) -> Result<Verified, VerifyError> {
    if let Some(issuer) = super::passthrough::issuer_for(state, token) {
        return super::passthrough::verify(state, issuer, token, now).await;
    }
    let header = jsonwebtoken::decode_header(token)
        .map_err(|_| invalid("The token is not a well-formed JWT."))?;
    if header.alg != Algorithm::RS256 {
        return Err(invalid("Only RS256 tokens are accepted."));
    }
    let kid = header
        .kid
        .ok_or_else(|| invalid("The token header has no kid."))?;
    let key = state
        .keys
        .find(&kid)
        .await
        .map_err(|e| VerifyError::Unavailable(e.to_string()))?
        .ok_or_else(|| invalid("The token was signed by an unknown key."))?;
    let payload = crate::crypto::jwt::verify_rs256(&key, token).map_err(|e| {
        invalid(match e {
            VerifyFailure::BadSignature => "The token signature is invalid.",
            VerifyFailure::Malformed => "The token is invalid.",
        })
    })?;
    let claims = access_token_claims(&payload)?;
    check_times(
        claims.exp,
        Some(claims.nbf),
        now,
        state.settings.clock_skew_seconds,
    )
    .map_err(|e| {
        invalid(match e {
            TimeError::Expired => "The token has expired.",
            TimeError::NotYetValid => "The token is not valid yet (nbf).",
        })
    })?;
    let foreign = || invalid("The token was issued by another issuer.");
    let form = IssuerForm::parse(base, &claims.iss).ok_or_else(foreign)?;
    let tenant = state
        .directory
        .tenant(form.tenant_id())
        .await
        .map_err(|e| VerifyError::Unavailable(e.to_string()))?
        .filter(|t| t.id == form.tenant_id())
        .ok_or_else(|| invalid("The token belongs to an unknown tenant."))?;
    if claims.tid.as_deref().is_some_and(|tid| tid != tenant.id) {
        return Err(foreign());
    }
    let policy = match &form {
        IssuerForm::Entra { .. } => {
            if claims.ver != "2.0" || claims.tid.is_none() {
                return Err(foreign());
            }
            None
        }
        IssuerForm::B2cDefault { .. } | IssuerForm::B2cTfp { .. } => {
            let policy = claims.tfp.clone().ok_or_else(foreign)?;
            let tfp_form = matches!(form, IssuerForm::B2cTfp { .. });
            let path_policy_matches = match &form {
                IssuerForm::B2cTfp { policy: p, .. } => p.eq_ignore_ascii_case(&policy),
                _ => true,
            };
            if claims.ver != "1.0"
                || tfp_form != tenant.b2c_tfp_issuer
                || !path_policy_matches
                || !tenant.has_policy(&policy)
            {
                return Err(foreign());
            }
            Some(policy)
        }
    };
    let audiences = state
        .directory
        .audiences(&tenant.id)
        .await
        .map_err(|e| VerifyError::Unavailable(e.to_string()))?;
    // Graph is a resource of every tenant; `/auth/verify` refuses its tokens in
    // `check_served`, as an API must not accept a token meant for Graph.
    if !audiences.contains(super::scope::resource_client_id(&claims.aud))
        && !crate::graph::permissions::is_graph(&claims.aud)
    {
        return Err(invalid(
            "The token is for an audience this tenant does not know.",
        ));
    }
    Ok(Verified {
        claims,
        tenant,
        policy,
        upstream: None,
    })
}

/// Whether `/auth/verify` answers for this tenant's tokens and keys: the default
/// tenant's, and others' only when `verify_tenants` lists them.
pub fn serves(state: &AppState, tenant: &crate::directory::service::TenantInfo) -> bool {
    tenant.id == state.directory.default_tenant_id()
        || state
            .settings
            .verify_tenants
            .lists(&tenant.id, &tenant.name)
}

/// `/auth/verify`'s own rules on top of a verified token: it serves the default
/// tenant's tokens, and other tenants' only when `verify_tenants` lists them; with an
/// expected audience (`?audience=`), `aud` must be that application (a client id and
/// `api://{client id}` name the same one).
pub fn check_served(
    state: &AppState,
    verified: &Verified,
    audience: Option<&str>,
) -> Result<(), VerifyError> {
    if !serves(state, &verified.tenant) {
        return Err(invalid(
            "The token belongs to a tenant this endpoint does not serve (see verify_tenants).",
        ));
    }
    if crate::graph::permissions::is_graph(&verified.claims.aud) {
        return Err(invalid(
            "The token is for Microsoft Graph, not for an application of this tenant.",
        ));
    }
    let same = |a: &str, b: &str| {
        super::scope::resource_client_id(a) == super::scope::resource_client_id(b)
    };
    if let Some(expected) = audience
        && !same(expected, &verified.claims.aud)
    {
        return Err(invalid(
            "The token is for another audience than the expected one.",
        ));
    }
    Ok(())
}
