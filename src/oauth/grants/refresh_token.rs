//! The refresh token grant (RFC 6749 §6) with rotation: the presented token is
//! checked, the new scope and audience decided, and only then is it spent — in the
//! same transaction that stores its successor, so a concurrent replay can never leave
//! a live token behind. A second use of a spent token revokes its whole family.

use super::context::GrantContext;
use crate::crypto::secrets;
use crate::db::refresh_tokens::{self, RefreshToken};
use crate::oauth::issue::{self, IdTokenContext, Issued, NewRefreshToken, RefreshPlan};
use crate::oauth::scope::{self, RequestedScope};
use crate::oauth::sign_in::{self, UserProfile};
use crate::oauth::token_request::{RefreshTokenParams, required};
use crate::oauth::{OAuthError, Reason};

const REUSED: &str = "The refresh token was already used; its sessions are revoked.";

enum Check {
    Valid(Box<RefreshToken>),
    Rejected(Reason, &'static str),
}

enum Outcome {
    Redeemed(Box<UserProfile>),
    Rejected(Reason, &'static str),
}

/// Finds the presented token and refuses it unless it is live and this client's.
fn check(
    c: &mut crate::db::DbConnection,
    hash: &str,
    client_id: &str,
    tenant_id: &str,
    policy: Option<&str>,
    now: i64,
) -> crate::db::DbResult<Check> {
    let Some(token) = refresh_tokens::find_by_hash(c, hash)? else {
        return Ok(Check::Rejected(
            Reason::InvalidGrant,
            "The refresh token is invalid.",
        ));
    };
    if token.client_id != client_id || token.tenant_id != tenant_id {
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
    // A second use means the token leaked or was replayed: end the family.
    if token.used_at.is_some() {
        refresh_tokens::revoke_family(c, &token.family_id, now)?;
        tracing::warn!(family = %token.family_id, "refresh token reused; family revoked");
        return Ok(Check::Rejected(Reason::RevokedGrant, REUSED));
    }
    Ok(Check::Valid(Box::new(token)))
}

/// The refusal; a revoked grant may have revoked a family just now, whose access
/// tokens this process then refuses at once.
fn rejected(cx: &GrantContext<'_>, reason: Reason, why: &'static str) -> OAuthError {
    if reason == Reason::RevokedGrant {
        cx.state.tokens.status.mark_stale();
    }
    OAuthError::invalid_grant(reason, why)
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
    let checked = state
        .db(move |c| check(c, &hash, &client_id, &tenant_id, policy.as_deref(), now))
        .await?;
    let token = match checked {
        Check::Valid(token) => *token,
        Check::Rejected(reason, why) => return Err(rejected(cx, reason, why)),
    };
    // Everything that can refuse the request is decided before the token is spent.
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
            },
        );
        row.access_token_jti = Some(jti.clone());
        row.access_token_expires_at = Some(now + state.settings.access_token_lifetime);
        (plain, row)
    });
    let (plain, successor_row) = successor.unzip();
    let outcome = state
        .db(move |c| {
            use diesel::Connection;
            c.transaction(|c| {
                // The spend is the transaction's first statement: a write, so SQLite
                // takes its lock up front and concurrent redemptions queue.
                if !refresh_tokens::claim(c, &token.id, now)? {
                    refresh_tokens::revoke_family(c, &token.family_id, now)?;
                    return Ok(Outcome::Rejected(Reason::RevokedGrant, REUSED));
                }
                let Some(profile) = sign_in::active_profile(c, &token.user_id)? else {
                    refresh_tokens::revoke_family(c, &token.family_id, now)?;
                    return Ok(Outcome::Rejected(
                        Reason::RevokedGrant,
                        "The user no longer exists or is disabled.",
                    ));
                };
                if let Some(row) = &successor_row {
                    refresh_tokens::insert(c, row)?;
                }
                Ok(Outcome::Redeemed(Box::new(profile)))
            })
        })
        .await?;
    let profile = match outcome {
        Outcome::Redeemed(profile) => *profile,
        Outcome::Rejected(reason, why) => return Err(rejected(cx, reason, why)),
    };
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
