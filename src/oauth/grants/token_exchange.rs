//! Token exchange (RFC 8693): a token from a trusted external issuer becomes a
//! localidp token for the same person, found by `oid` or email, or provisioned when
//! the issuer's configuration allows it. (An API key is exchanged by `api_key`.)

use super::context::{GrantContext, user_scope_or_default};
use crate::db;
use crate::directory::{self, users::NewUser};
use crate::oauth::issue::{Issued, RefreshPlan};
use crate::oauth::scope::RequestedScope;
use crate::oauth::status::TokenIds;
use crate::oauth::token_request::{TokenExchangeParams, required};
use crate::oauth::{OAuthError, Reason, external, sign_in};

const SUBJECT_TOKEN_TYPES: [&str; 3] = [
    "urn:ietf:params:oauth:token-type:access_token",
    "urn:ietf:params:oauth:token-type:id_token",
    "urn:ietf:params:oauth:token-type:jwt",
];

pub(super) async fn grant(
    cx: &GrantContext<'_>,
    params: TokenExchangeParams,
    requested: RequestedScope,
) -> Result<Issued, OAuthError> {
    let (state, authority) = (cx.state, cx.authority);
    let token = required(params.subject_token, "subject_token")?;
    let token_type = required(params.subject_token_type, "subject_token_type")?;
    if !SUBJECT_TOKEN_TYPES.contains(&token_type.as_str()) {
        return Err(OAuthError::invalid_request(
            Reason::MalformedRequest,
            format!(
                "subject_token_type {token_type:?} is not supported; send a JWT, or an API key as {}.",
                super::api_key::API_KEY_TOKEN_TYPE
            ),
        ));
    }
    let now = state.clock.now();
    let skew = state.settings.clock_skew_seconds;
    let (claims, issuer) =
        external::verify_subject(&state.tokens.external_issuers, &token, now, skew).await?;
    // When the trusted issuer is this server (or shares its users' ids), its revoked
    // tokens and the tokens of users disabled or deleted here are refused as anywhere.
    let text = |k: &str| claims[k].as_str().unwrap_or_default();
    state
        .tokens
        .status
        .check_ids(
            &state.pool,
            now,
            TokenIds {
                jti: text("jti"),
                oid: text("oid"),
                // v2 tokens name their client in `azp`, v1 tokens in `appid`.
                azp: claims["azp"]
                    .as_str()
                    .or_else(|| claims["appid"].as_str())
                    .unwrap_or_default(),
                iat: claims["iat"].as_i64().unwrap_or(i64::MIN),
            },
        )
        .await
        .map_err(|refusal| {
            if refusal == crate::oauth::status::Refusal::StatusUnknown {
                return OAuthError::unavailable(refusal.message());
            }
            external::rejected(format!(
                "The subject token is refused: {}",
                refusal.message()
            ))
        })?;
    if let Some(only) = &issuer.config.tenant {
        let t = &authority.tenant;
        if !(only.eq_ignore_ascii_case(&t.id) || only.eq_ignore_ascii_case(&t.name)) {
            return Err(external::rejected(
                "This issuer's tokens are not accepted by this tenant.",
            ));
        }
    }
    let subject = external::subject_of(&claims);
    if subject.oid.is_none() && subject.email.is_none() {
        return Err(external::rejected(
            "The subject token names no user (neither oid nor an email address).",
        ));
    }
    let provision = issuer.config.provision;
    let tenant_id = authority.tenant.id.clone();
    let hasher = state.hasher.clone();
    let profile = state
        .db(move |c| {
            let by_oid = match &subject.oid {
                Some(oid) => db::users::find(c, oid)?.filter(|u| u.tenant_id == tenant_id),
                None => None,
            };
            let user = match (by_oid, &subject.email) {
                (Some(u), _) => Some(u),
                (None, Some(email)) => db::users::find_by_email(c, &tenant_id, email)?,
                (None, None) => None,
            };
            let user = match (user, provision, &subject.email) {
                (Some(u), _, _) => u,
                (None, true, Some(email)) => {
                    let tenant = db::tenants::find(c, &tenant_id)?.ok_or(db::DbError::NotFound)?;
                    // Keep the external oid when it is free, so ids line up across both.
                    let oid = match &subject.oid {
                        Some(oid) if db::users::find(c, oid)?.is_none() => Some(oid.clone()),
                        _ => None,
                    };
                    let new = NewUser {
                        email: Some(email.clone()),
                        display_name: subject.name.clone(),
                        given_name: subject.given_name.clone(),
                        family_name: subject.family_name.clone(),
                        oid,
                        ..Default::default()
                    };
                    directory::users::create_user(c, &hasher, &tenant, &new, now)
                        .map_err(|e| db::DbError::Corrupt(e.to_string()))?
                }
                _ => return Ok(None),
            };
            if user.is_disabled() {
                return Ok(None);
            }
            Ok(Some(sign_in::load_profile(c, user)?))
        })
        .await?
        .ok_or_else(|| external::rejected("No enabled user here matches the subject token."))?;
    let scope = user_scope_or_default(requested)?;
    let audience = cx.audience_for(&scope).await?;
    cx.user_tokens(
        audience,
        &profile,
        scope,
        RefreshPlan::NewFamily,
        Default::default(),
    )
    .await
}
