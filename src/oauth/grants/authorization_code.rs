//! `grant_type=authorization_code` (RFC 6749 §4.1.3): a code issued by the
//! authorization endpoint is redeemed once, by its client, with its redirect URI and
//! PKCE verifier. A second redemption revokes every token the first one issued.

use super::context::GrantContext;
use crate::audit::{self, AuditEvent};
use crate::crypto::secrets;
use crate::db::auth_codes::{self, AuthorizationCode};
use crate::db::refresh_tokens;
use crate::oauth::issue::{IdTokenContext, Issued, RefreshPlan};
use crate::oauth::scope;
use crate::oauth::sign_in::{self, UserProfile};
use crate::oauth::token_request::{AuthorizationCodeParams, required};
use crate::oauth::{OAuthError, Reason, pkce};

enum Redemption {
    Redeemed(Box<(AuthorizationCode, UserProfile)>),
    Rejected(&'static str),
    /// Redeemed before: what it issued is revoked.
    Replayed(Box<AuthorizationCode>),
}

/// `grant_type=authorization_code` at the token endpoint (RFC 6749 §4.1.3).
pub(super) async fn grant(
    cx: &GrantContext<'_>,
    params: AuthorizationCodeParams,
) -> Result<Issued, OAuthError> {
    let (state, client) = (cx.state, cx.client);
    let code = required(params.code, "code")?;
    let redirect_uri = required(params.redirect_uri, "redirect_uri")?;
    let hash = secrets::sha256_hex(&code);
    let client_id = client.client.client_id.clone();
    // The deny-list entry must outlive the access token issued at redemption.
    let access_lifetime = state.settings.access_token_lifetime + state.settings.clock_skew_seconds;
    let now = state.clock.now();
    let outcome = state
        .db(move |c| {
            let Some(row) = auth_codes::find_by_hash(c, &hash)? else {
                return Ok(Redemption::Rejected("The authorization code is invalid."));
            };
            if row.client_id != client_id {
                return Ok(Redemption::Rejected(
                    "The authorization code was issued to another client.",
                ));
            }
            // §4.1.2: a second use revokes every token issued from the code.
            if row.used_at.is_some() || !auth_codes::claim(c, &row.id, now)? {
                refresh_tokens::revoke_family(c, &row.refresh_family_id, now)?;
                if let (Some(jti), Some(used)) = (&row.access_token_jti, row.used_at) {
                    auth_codes::revoke_access_token(c, jti, used + access_lifetime, now)?;
                }
                tracing::warn!(client = %row.client_id, "authorization code reused; its tokens are revoked");
                return Ok(Redemption::Replayed(Box::new(row)));
            }
            if row.expires_at <= now {
                return Ok(Redemption::Rejected("The authorization code has expired."));
            }
            if row.redirect_uri != redirect_uri {
                return Ok(Redemption::Rejected(
                    "redirect_uri differs from the one in the authorization request.",
                ));
            }
            let Some(profile) = sign_in::active_profile(c, &row.user_id)? else {
                return Ok(Redemption::Rejected(
                    "The user no longer exists or is disabled.",
                ));
            };
            Ok(Redemption::Redeemed(Box::new((row, profile))))
        })
        .await?;
    let (row, profile) = match outcome {
        Redemption::Redeemed(redeemed) => *redeemed,
        Redemption::Rejected(why) => {
            return Err(OAuthError::invalid_grant(Reason::InvalidGrant, why));
        }
        Redemption::Replayed(row) => {
            state.tokens.status.mark_stale();
            let mut event = AuditEvent::revocation(audit::kind::CODE_REUSED)
                .failure(audit::reason::REUSE)
                .actor(&row.client_id)
                .request(cx.request)
                .tenant(&cx.authority.tenant.id)
                .client(&row.client_id)
                .user(&row.user_id)
                .detail("family_id", row.refresh_family_id.as_str());
            if let Some(jti) = &row.access_token_jti {
                event = event.detail("jti", jti.as_str());
            }
            state.audit.record(event).await;
            return Err(OAuthError::invalid_grant(
                Reason::InvalidGrant,
                "The authorization code was already redeemed; tokens issued from it are revoked.",
            ));
        }
    };
    // The code is spent whether or not the verifier matches: no second guess.
    match (
        &row.code_challenge,
        &row.code_challenge_method,
        params.code_verifier,
    ) {
        (None, _, None) => {}
        (None, _, Some(_)) => {
            return Err(OAuthError::invalid_grant(
                Reason::InvalidGrant,
                "code_verifier was sent but the authorization request had no code_challenge.",
            ));
        }
        (Some(_), _, None) => {
            return Err(OAuthError::invalid_grant(
                Reason::InvalidGrant,
                "The authorization request used PKCE: code_verifier is required.",
            ));
        }
        (Some(challenge), method, Some(verifier)) => {
            let method = method.as_deref().unwrap_or("plain");
            if !pkce::valid_value(&verifier) || !pkce::matches(method, challenge, &verifier) {
                return Err(OAuthError::invalid_grant(
                    Reason::InvalidGrant,
                    "The code_verifier does not match the code_challenge.",
                ));
            }
        }
    }
    let scope = scope::parse(&row.scope)?;
    let audience = cx.audience_for(&scope).await?;
    let context = IdTokenContext {
        nonce: row.nonce.clone(),
        auth_time: Some(row.auth_time),
        sid: row.session_id.clone(),
        code: Some(code),
    };
    // Entra: a code issued for a SPA redirect URI is redeemed by the SPA itself
    // (cross-origin), and gets a 24-hour refresh token; any other code never is.
    let spa = client
        .client
        .spa_redirect_uri_list()?
        .contains(&row.redirect_uri);
    OAuthError::check_spa_redemption(spa, cx.request.cross_origin.as_deref())?;
    let family = row.refresh_family_id.clone();
    let plan = if spa {
        RefreshPlan::SpaFamily(family)
    } else {
        RefreshPlan::Family(family)
    };
    let issued = cx
        .user_tokens(audience, &profile, scope, plan, context)
        .await?;
    let (id, jti) = (row.id, issued.claims.jti.clone());
    state
        .db(move |c| auth_codes::record_access_token(c, &id, &jti))
        .await?;
    Ok(issued)
}
