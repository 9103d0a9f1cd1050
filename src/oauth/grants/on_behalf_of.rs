//! Entra's on-behalf-of flow (RFC 7523 jwt-bearer with `requested_token_use`): a
//! middle-tier API trades the user's token it received (its own audience) for a token
//! to a downstream API, for the same user.

use super::context::{GrantContext, require_secret};
use crate::oauth::issue::{Issued, RefreshPlan};
use crate::oauth::scope::{self, RequestedScope};
use crate::oauth::sign_in;
use crate::oauth::token_request::{OnBehalfOfParams, required};
use crate::oauth::verify::{self, VerifyError};
use crate::oauth::{OAuthError, Reason};

fn invalid_assertion(msg: impl Into<String>) -> OAuthError {
    OAuthError::invalid_grant(Reason::InvalidAssertion, msg)
}

pub(super) async fn grant(
    cx: &GrantContext<'_>,
    params: OnBehalfOfParams,
    requested: RequestedScope,
) -> Result<Issued, OAuthError> {
    let (state, authority) = (cx.state, cx.authority);
    require_secret(cx, "the on-behalf-of flow")?;
    match params.requested_token_use.as_deref() {
        Some("on_behalf_of") => {}
        None | Some("") => return Err(OAuthError::missing("requested_token_use")),
        Some(other) => {
            return Err(OAuthError::invalid_request(
                Reason::MalformedRequest,
                format!("requested_token_use {other:?} is not supported; use on_behalf_of."),
            ));
        }
    }
    let assertion = required(params.assertion, "assertion")?;
    let verified = verify::verify_access_token(state, &authority.base, &assertion)
        .await
        .map_err(|e| match e {
            VerifyError::Invalid(msg) => {
                invalid_assertion(format!("The assertion is not valid: {msg}"))
            }
            VerifyError::Unavailable(msg) => {
                tracing::error!(error = %msg, "assertion check unavailable");
                OAuthError::unavailable("The assertion cannot be checked right now; try again.")
            }
        })?;
    if verified.upstream.is_some() {
        return Err(invalid_assertion(
            "The assertion was issued by a trusted upstream issuer, not by this server; exchange it first (token exchange).",
        ));
    }
    let incoming = verified.claims.clone();
    if verified.tenant.id != authority.tenant.id {
        return Err(invalid_assertion(
            "The assertion was issued for another tenant.",
        ));
    }
    if scope::resource_client_id(&incoming.aud) != cx.client.client.client_id {
        return Err(OAuthError::invalid_grant(
            Reason::AssertionAudience,
            "Assertion audience does not match the Client app presenting the assertion.",
        ));
    }
    if incoming.idtyp.as_deref() == Some("app") {
        return Err(invalid_assertion(
            "The assertion is an app-only token; on-behalf-of needs a user's token.",
        ));
    }
    if requested.tokens.is_empty() {
        return Err(OAuthError::missing("scope"));
    }
    let oid = incoming.oid;
    let profile = state
        .db(move |c| sign_in::active_profile(c, &oid))
        .await?
        .ok_or_else(|| {
            invalid_assertion("The user of the assertion no longer exists or is disabled.")
        })?;
    let audience = cx.audience_for(&requested).await?;
    cx.user_tokens(
        audience,
        &profile,
        requested,
        RefreshPlan::NewFamily,
        Default::default(),
    )
    .await
}
