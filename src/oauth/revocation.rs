//! Token status after issue: the access-token deny list, UserInfo (OIDC Core §5.3),
//! revocation (RFC 7009) and introspection (RFC 7662) of tokens and API keys.

use crate::oauth::Reason;
use serde::Serialize;
use serde_json::{Value, json};

use super::OAuthError;
use super::api_key;
use super::client_auth::{AuthenticatedClient, ClientAuthMethod};
use super::verify::{self, VerifyError};
use crate::audit::{AuditEvent, RequestContext, kind, reason};
use crate::crypto::secrets;
use crate::db::{self, auth_codes, refresh_tokens};
use crate::directory::service::TenantInfo;
use crate::state::AppState;

/// A verified access token that is not revoked and whose user is active (the token
/// status is part of verification).
pub async fn active_access_token(
    state: &AppState,
    base: &str,
    token: &str,
) -> Result<verify::Verified, VerifyError> {
    verify::verify_access_token(state, base, token)
        .await
        .map(std::sync::Arc::unwrap_or_clone)
}

#[derive(Debug, Serialize)]
pub struct UserInfo {
    pub sub: String,
    pub oid: String,
    pub tid: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub preferred_username: String,
}

/// The signed-in user behind an access token, as stored now.
pub async fn userinfo(state: &AppState, base: &str, token: &str) -> Result<UserInfo, VerifyError> {
    let verified = active_access_token(state, base, token).await?;
    if verified.upstream.is_some() {
        return Ok(upstream_userinfo(verified));
    }
    let tid = verified.tenant.id.clone();
    let claims = verified.claims;
    if claims.idtyp.as_deref() == Some("app") {
        return Err(VerifyError::Invalid(
            "An application token has no user; use a token issued to a user.".into(),
        ));
    }
    let oid = claims.oid.clone();
    let user = state
        .db(move |c| db::users::find(c, &oid))
        .await
        .map_err(|e| VerifyError::Unavailable(e.to_string()))?
        .filter(|u| !u.is_disabled() && u.tenant_id == tid)
        .ok_or_else(|| VerifyError::Invalid("The user no longer exists or is disabled.".into()))?;
    Ok(UserInfo {
        preferred_username: user.sign_in_name().to_owned(),
        // OIDC Core §5.3.2: the same `sub` as the tokens (a claims mapping may change it).
        sub: claims.sub,
        oid: user.id,
        tid,
        name: user.display_name,
        given_name: user.given_name,
        family_name: user.family_name,
        email: user.email,
    })
}

/// An upstream token's user, from its claims (the upstream holds the user).
fn upstream_userinfo(verified: verify::Verified) -> UserInfo {
    let c = verified.claims;
    UserInfo {
        preferred_username: c
            .preferred_username
            .clone()
            .or_else(|| c.email.clone())
            .unwrap_or_else(|| c.sub.clone()),
        tid: c.tid.unwrap_or(verified.tenant.id.clone()),
        name: c.name.unwrap_or_default(),
        given_name: c.given_name,
        family_name: c.family_name,
        email: c.email,
        sub: c.sub,
        oid: c.oid,
    }
}

fn looks_like_jwt(token: &str) -> bool {
    token.split('.').count() == 3
}

/// RFC 7009 §2.1: a client revokes its own tokens; unknown or foreign tokens are
/// answered as success so that nothing leaks. A refresh token takes its whole family.
/// Writes a `token.revoked` audit event (a failure, `unknown_token`, when nothing of
/// the client's was found).
pub(crate) async fn revoke(
    state: &AppState,
    base: &str,
    client: &AuthenticatedClient,
    token: &str,
    context: &RequestContext,
) -> Result<(), OAuthError> {
    let event = AuditEvent::revocation(kind::TOKEN_REVOKED)
        .request(context)
        .tenant(&client.client.tenant_id)
        .client(&client.client.client_id)
        .actor(&client.client.client_id);
    let event = match revoke_token(state, base, client, token).await? {
        Some(revoked) => {
            let mut event = event.detail("token_type", revoked.token_type);
            if let Some(user) = &revoked.user_id {
                event = event.user(user);
            }
            event.detail(revoked.id_name, revoked.id)
        }
        None => event.failure(reason::UNKNOWN_TOKEN),
    };
    state.audit.record(event).await;
    Ok(())
}

/// What `/revoke` revoked: an access token (by `jti`) or a refresh token family.
struct Revoked {
    token_type: &'static str,
    id_name: &'static str,
    id: String,
    user_id: Option<String>,
}

async fn revoke_token(
    state: &AppState,
    base: &str,
    client: &AuthenticatedClient,
    token: &str,
) -> Result<Option<Revoked>, OAuthError> {
    let client_id = client.client.client_id.clone();
    if looks_like_jwt(token) {
        let claims = match verify::verify_access_token(state, base, token).await {
            // A trusted external issuer's token (pass-through) is that issuer's to
            // revoke, not ours: answered as unknown (its `jti` may even be empty).
            Ok(v) if v.upstream.is_some() => return Ok(None),
            Ok(v) => v.claims.clone(),
            Err(VerifyError::Invalid(_)) => return Ok(None),
            Err(VerifyError::Unavailable(msg)) => return Err(OAuthError::unavailable(msg)),
        };
        if claims.azp != client_id {
            return Ok(None);
        }
        let now = state.clock.now();
        let revoked = Revoked {
            token_type: "access_token",
            id_name: "jti",
            id: claims.jti.clone(),
            user_id: (claims.idtyp.as_deref() != Some("app")).then(|| claims.oid.clone()),
        };
        state
            .db(move |c| auth_codes::revoke_access_token(c, &claims.jti, claims.exp, now))
            .await?;
        state.tokens.status.mark_stale();
        return Ok(Some(revoked));
    }
    let hash = secrets::sha256_hex(token);
    let now = state.clock.now();
    let revoked = state
        .db(move |c| {
            if let Some(t) = refresh_tokens::find_by_hash(c, &hash)?
                && t.client_id == client_id
            {
                refresh_tokens::revoke_family(c, &t.family_id, now)?;
                return Ok(Some(Revoked {
                    token_type: "refresh_token",
                    id_name: "family_id",
                    id: t.family_id,
                    user_id: Some(t.user_id),
                }));
            }
            Ok(None)
        })
        .await?;
    // The family's access tokens went on the deny list.
    state.tokens.status.mark_stale();
    Ok(revoked)
}

/// RFC 7662 §2.2: `{"active": false}` for anything not live in the caller's tenant.
pub(crate) async fn introspect(
    state: &AppState,
    base: &str,
    tenant: &TenantInfo,
    client: &AuthenticatedClient,
    token: &str,
) -> Result<Value, OAuthError> {
    if client.method != ClientAuthMethod::Secret {
        return Err(OAuthError::invalid_client(
            Reason::UnknownClient,
            "Introspection is for confidential clients: authenticate with a client secret.",
        ));
    }
    let inactive = json!({ "active": false });
    if looks_like_jwt(token) {
        let verified = match active_access_token(state, base, token).await {
            Ok(v) => v,
            Err(VerifyError::Invalid(_)) => return Ok(inactive),
            Err(VerifyError::Unavailable(msg)) => return Err(OAuthError::unavailable(msg)),
        };
        if verified.tenant.id != tenant.id {
            return Ok(inactive);
        }
        let upstream = verified.upstream;
        let claims = verified.claims;
        let tid = match (&upstream, &claims.tid) {
            (Some(_), Some(tid)) => tid.clone(),
            _ => tenant.id.clone(),
        };
        let mut body = json!({
            "active": true,
            "token_type": "Bearer",
            "scope": claims.scp,
            "client_id": claims.azp,
            "username": claims.preferred_username,
            "sub": claims.sub,
            "aud": claims.aud,
            "iss": claims.iss,
            "exp": claims.exp,
            "iat": claims.iat,
            "nbf": claims.nbf,
            "jti": claims.jti,
            "oid": claims.oid,
            "tid": tid,
            "roles": claims.roles,
        });
        if let Some(issuer) = upstream {
            body["issuer"] = json!(issuer);
        }
        return Ok(body);
    }
    if api_key::looks_like_key(token) {
        return match api_key::authenticate(state, token).await {
            Ok(key) if key.key.tenant_id == tenant.id => Ok(api_key::introspection(
                &key,
                crate::oauth::authority::entra_issuer(base, &tenant.id),
            )),
            Ok(_) | Err(VerifyError::Invalid(_)) => Ok(inactive),
            Err(VerifyError::Unavailable(msg)) => Err(OAuthError::unavailable(msg)),
        };
    }
    let hash = secrets::sha256_hex(token);
    let found = state
        .db(move |c| {
            let Some(t) = refresh_tokens::find_by_hash(c, &hash)? else {
                return Ok(None);
            };
            let user = db::users::find(c, &t.user_id)?;
            Ok(Some((t, user)))
        })
        .await?;
    let now = state.clock.now();
    match found {
        Some((t, Some(user)))
            if t.tenant_id == tenant.id
                && t.used_at.is_none()
                && t.revoked_at.is_none()
                && t.expires_at > now
                && !user.is_disabled() =>
        {
            Ok(json!({
                "active": true,
                "token_type": "refresh_token",
                "scope": t.scope,
                "client_id": t.client_id,
                "username": user.sign_in_name(),
                "sub": user.id,
                "iss": crate::oauth::authority::entra_issuer(base, &tenant.id),
                "exp": t.expires_at,
                "iat": t.created_at,
            }))
        }
        _ => Ok(inactive),
    }
}
