//! The refresh token grant (RFC 6749 §6) with rotation: the presented token is
//! checked, the new scope and audience decided, and only then is it spent — in the
//! same transaction that stores its successor, so a concurrent replay can never leave
//! a live token behind. A second use of a spent token revokes its whole family —
//! except a retry: the same client presenting the token again within
//! `refresh_retry_grace` seconds of its rotation, before any successor was used
//! (the server may have died before its answer arrived; two tabs may refresh at once).
//!
//! A retry gets a fresh successor in the same family, and the earlier successor stays
//! valid: when the answer was lost nobody holds it, and when two tabs refreshed at
//! once each holds one, so revoking it would sign the other tab out. Whichever
//! successor is used first, the other stays usable; a replay of the spent token after
//! the window, or after a successor was used, or by another client, is reuse.

use super::context::GrantContext;
use crate::audit::{self, AuditEvent};
use crate::crypto::secrets;
use crate::db::refresh_tokens::{self, RefreshToken};
use crate::oauth::issue::{self, IdTokenContext, Issued, NewRefreshToken, RefreshPlan};
use crate::oauth::scope::{self, RequestedScope};
use crate::oauth::sign_in::{self, UserProfile};
use crate::oauth::token_request::{RefreshTokenParams, required};
use crate::oauth::{OAuthError, Reason};

const REUSED: &str = "The refresh token was already used; its sessions are revoked.";

enum Check {
    /// A live token of this client, and its user's profile.
    Valid(Box<(RefreshToken, UserProfile)>),
    Rejected(Reason, &'static str),
    /// A spent token came back: its family is revoked.
    Reused(Box<RefreshToken>),
    /// The user no longer exists or is disabled: the family is revoked.
    UserGone(Box<RefreshToken>),
}

const USER_GONE: &str = "The user no longer exists or is disabled.";

enum Outcome {
    Redeemed,
    /// The family was revoked for this reason (an audit reason).
    FamilyRevoked(&'static str, &'static str),
}

/// Finds the presented token (with its user, in one statement) and refuses it unless
/// it is live and this client's and its user is still active; reads the user's profile
/// (their groups and roles) in the same checkout.
fn check(
    c: &mut crate::db::DbConnection,
    hash: &str,
    client_id: &str,
    tenant_id: &str,
    policy: Option<&str>,
    now: i64,
    grace: i64,
) -> crate::db::DbResult<Check> {
    let Some((token, user)) = refresh_tokens::find_with_user(c, hash)? else {
        return Ok(Check::Rejected(
            Reason::InvalidGrant,
            "The refresh token is invalid.",
        ));
    };
    if token.client_id != client_id || token.tenant_id != tenant_id {
        // A spent token in another client's hands leaked: no grace for it.
        if token.used_at.is_some() {
            return reused(c, &token, now);
        }
        return Ok(Check::Rejected(
            Reason::InvalidGrant,
            "The refresh token was issued to another client.",
        ));
    }
    // Rows store the lower-case form; compare without case all the same.
    let same_flow = match (token.policy.as_deref(), policy) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        (a, b) => a == b,
    };
    if !same_flow {
        return Ok(Check::Rejected(
            Reason::InvalidGrant,
            "The refresh token was issued under another user flow.",
        ));
    }
    if token.revoked_at.is_some() {
        return Ok(Check::Rejected(
            Reason::RevokedGrant,
            "The refresh token has been revoked.",
        ));
    }
    if token.expires_at <= now {
        return Ok(Check::Rejected(
            Reason::ExpiredGrant,
            "The refresh token has expired.",
        ));
    }
    // A second use means the token leaked or was replayed: end the family — unless it
    // may be a retry, which the redemption's transaction decides for certain.
    if let Some(used_at) = token.used_at
        && used_at + grace <= now
    {
        return reused(c, &token, now);
    }
    match sign_in::profile_if_active(c, user)? {
        Some(profile) => Ok(Check::Valid(Box::new((token, profile)))),
        None => {
            refresh_tokens::revoke_family(c, &token.family_id, now)?;
            Ok(Check::UserGone(Box::new(token)))
        }
    }
}

fn reused(
    c: &mut crate::db::DbConnection,
    token: &RefreshToken,
    now: i64,
) -> crate::db::DbResult<Check> {
    refresh_tokens::revoke_family(c, &token.family_id, now)?;
    tracing::warn!(family = %token.family_id, "refresh token reused; family revoked");
    Ok(Check::Reused(Box::new(token.clone())))
}

pub(super) async fn grant(
    cx: &GrantContext<'_>,
    params: RefreshTokenParams,
    requested: RequestedScope,
) -> Result<Issued, OAuthError> {
    let (state, authority) = (cx.state, cx.authority);
    let presented = required(params.refresh_token, "refresh_token")?;
    let hash = secrets::sha256_hex(&presented);
    let client_id = cx.client.client.client_id.clone();
    let tenant_id = authority.tenant.id.clone();
    let policy = authority.policy().map(str::to_owned);
    let now = state.clock.now();
    let grace = state.settings.refresh_retry_grace;
    let checked = state
        .db(move |c| {
            check(
                c,
                &hash,
                &client_id,
                &tenant_id,
                policy.as_deref(),
                now,
                grace,
            )
        })
        .await?;
    let (token, profile) = match checked {
        Check::Valid(valid) => *valid,
        Check::Rejected(reason, why) => return Err(OAuthError::invalid_grant(reason, why)),
        Check::Reused(token) => {
            return Err(family_revoked(cx, &token, audit::reason::REUSE, REUSED).await);
        }
        Check::UserGone(token) => {
            return Err(family_revoked(cx, &token, audit::reason::USER_GONE, USER_GONE).await);
        }
    };
    // Everything that can refuse the request is decided before the token is spent.
    // A single-page app's refresh token (a family with a fixed end) is redeemed by
    // the app itself, cross-origin; any other never is.
    OAuthError::check_spa_redemption(
        token.family_expires_at.is_some(),
        cx.request.cross_origin.as_deref(),
    )?;
    // Entra's refresh tokens are multi-resource: the request may name any resource
    // the client may reach, which `audience_for` checks as the other grants do.
    let granted = scope::parse(&token.scope)?;
    let scope = if requested.tokens.is_empty() {
        granted.clone()
    } else {
        requested.redeemable_under(&granted)?
    };
    let audience = cx.audience_for(&scope).await?;
    let auth_time = token.auth_time.unwrap_or(token.created_at);
    // The successor is stored before the access token is signed: it records the
    // access token's id (and expiry, give or take the second it takes to sign), so
    // that revoking the family revokes that access token too.
    let jti = crate::oauth::claims::opaque_id();
    let successor = scope.offline_access.then(|| {
        let (plain, mut row) = issue::new_refresh_token(
            state,
            authority,
            NewRefreshToken {
                client_id: &token.client_id,
                user_id: &token.user_id,
                // The successor keeps the grant, not this request's resource, so
                // that it too redeems for any resource.
                scope: &granted,
                family_id: token.family_id.clone(),
                auth_time,
                parent_id: Some(&token.id),
            },
        );
        row.access_token_jti = Some(jti.clone());
        row.access_token_expires_at = Some(now + state.settings.access_token_lifetime);
        // A family that does not slide keeps its end (known from the parent).
        if let Some(fixed) = token.family_expires_at {
            row.expires_at = row.expires_at.min(fixed);
            row.family_expires_at = Some(fixed);
        }
        (plain, row)
    });
    let (plain, successor_row) = successor.unzip();
    let plain = plain.zip(successor_row.as_ref().map(|row| row.expires_at));
    let spent = token.clone();
    let outcome = state
        .db(move |c| {
            // PostgreSQL: the spend and the successor in one statement (one round trip,
            // no BEGIN/COMMIT); it stores nothing unless this request spent the token.
            if let Some(row) = &successor_row
                && refresh_tokens::spend_and_store(c, &token.id, now, row)? == Some(true)
            {
                return Ok(Outcome::Redeemed);
            }
            crate::db::write_tx(c, |c| {
                // The spend is the transaction's first statement: a write, so SQLite
                // takes its lock up front and concurrent redemptions queue.
                let spent = refresh_tokens::claim(c, &token.id, now)?
                    || (grace > 0 && refresh_tokens::claim_retry(c, &token, now - grace)?);
                if !spent {
                    refresh_tokens::revoke_family(c, &token.family_id, now)?;
                    return Ok(Outcome::FamilyRevoked(audit::reason::REUSE, REUSED));
                }
                if let Some(row) = &successor_row {
                    refresh_tokens::insert_successor(c, row)?;
                }
                Ok(Outcome::Redeemed)
            })
        })
        .await?;
    if let Outcome::FamilyRevoked(reason, why) = outcome {
        return Err(family_revoked(cx, &spent, reason, why).await);
    }
    let context = IdTokenContext {
        auth_time: Some(auth_time),
        ..Default::default()
    };
    cx.user_tokens(
        audience,
        &profile,
        scope,
        RefreshPlan::Stored { token: plain, jti },
        context,
    )
    .await
}

/// The `refresh_family.revoked` audit event: a family revoked, and why; the actor is
/// the client that presented the token.
/// The refusal after the token's family was revoked just now: this process refuses the
/// family's access tokens at once, and the revocation is audited.
async fn family_revoked(
    cx: &GrantContext<'_>,
    token: &RefreshToken,
    reason: &'static str,
    why: &'static str,
) -> OAuthError {
    cx.state.tokens.status.mark_stale();
    cx.state.metrics.refresh_family_revoked(reason);
    let event = AuditEvent::revocation(audit::kind::REFRESH_FAMILY_REVOKED)
        .failure(reason)
        .actor(&token.client_id)
        .request(cx.request)
        .tenant(&token.tenant_id)
        .client(&token.client_id)
        .user(&token.user_id)
        .detail("family_id", token.family_id.as_str());
    cx.state.audit.record(event).await;
    OAuthError::invalid_grant(Reason::RevokedGrant, why)
}
