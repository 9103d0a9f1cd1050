//! API keys presented by callers — `x-api-key` on `/auth/verify`, `/introspect`, and
//! the token exchange — checked against the database on every use: found by the id the
//! key carries, compared in constant time, and refused when revoked, expired, or when
//! its owner is deleted or disabled. No cache, so a revocation made with the CLI or on
//! another replica applies to the next request; the cost is one short read
//! transaction per use, through the bounded pool (`state.db`), off the bearer path.

use serde_json::{Value, json};

use super::sign_in::{self, UserProfile};
use super::verify::VerifyError;
use crate::audit::{AuditEvent, kind};
use crate::crypto::secrets;
use crate::db::api_keys::{self, ApiKey, LAST_USED_RESOLUTION, OWNER_USER};
use crate::db::clients::{self, Client};
use crate::directory::api_keys::key_id;
use crate::state::AppState;

/// Who a valid key speaks for.
#[derive(Debug)]
pub enum KeyOwner {
    User(Box<UserProfile>),
    Client(Box<Client>),
}

/// A key that passed every check, with what it grants now.
#[derive(Debug)]
pub struct ApiKeyPrincipal {
    pub key: ApiKey,
    pub owner: KeyOwner,
    /// The key's roles that its owner still holds.
    pub roles: Vec<String>,
    /// The delegated permissions of a user's key.
    pub scopes: Vec<String>,
}

impl ApiKeyPrincipal {
    /// The user's object id, or the client id (as an app token's `oid`).
    pub fn subject(&self) -> &str {
        &self.key.owner_id
    }

    /// The scopes as one space-separated string, as `scp` and RFC 7662 `scope` are.
    pub fn scope_string(&self) -> Option<String> {
        (!self.scopes.is_empty()).then(|| self.scopes.join(" "))
    }
}

/// Whether a token is shaped like one of our API keys (introspection tells them from
/// refresh tokens by this).
pub fn looks_like_key(token: &str) -> bool {
    key_id(token).is_some()
}

const NOT_VALID: &str = "The API key is not valid.";

fn invalid<T>(msg: &str) -> Result<T, VerifyError> {
    Err(VerifyError::Invalid(msg.to_owned()))
}

/// The principal behind a presented key; records the use (at most once a minute per
/// key: `last_used_at`, and an `api_key.used` audit event).
pub async fn authenticate(
    state: &AppState,
    presented: &str,
) -> Result<ApiKeyPrincipal, VerifyError> {
    let Some(id) = key_id(presented).map(str::to_owned) else {
        return invalid("The API key is malformed: localidp keys read lidp_{id}_{secret}.");
    };
    let presented = presented.to_owned();
    let now = state.clock.now();
    let principal = state
        .db(move |c| {
            let Some(key) = api_keys::find(c, &id)? else {
                return Ok(invalid(NOT_VALID));
            };
            if !secrets::matches_hash(&presented, &key.key_hash) {
                return Ok(invalid(NOT_VALID));
            }
            if key.revoked_at.is_some() {
                return Ok(invalid("The API key has been revoked."));
            }
            if key.is_expired(now) {
                return Ok(invalid("The API key has expired."));
            }
            let (owner, held) = if key.owner_kind == OWNER_USER {
                match sign_in::active_profile(c, &key.owner_id)? {
                    Some(p) if p.user.tenant_id == key.tenant_id => {
                        let held = p.roles.clone();
                        (KeyOwner::User(Box::new(p)), held)
                    }
                    _ => {
                        return Ok(invalid(
                            "The API key's user no longer exists or is disabled.",
                        ));
                    }
                }
            } else {
                match clients::find(c, &key.owner_id)? {
                    Some(client) if client.tenant_id == key.tenant_id => {
                        let held = crate::graph::app_role_defs::application_values(&client);
                        (KeyOwner::Client(Box::new(client)), held)
                    }
                    _ => return Ok(invalid("The API key's application no longer exists.")),
                }
            };
            let roles = key
                .role_list()?
                .into_iter()
                .filter(|r| held.contains(r))
                .collect();
            let scopes = key.scope_list()?;
            // One write a minute at most per key, not one per request.
            let touched = key
                .last_used_at
                .is_none_or(|t| t <= now - LAST_USED_RESOLUTION);
            if touched {
                api_keys::touch(c, &key.id, now)?;
            }
            Ok(Ok((
                ApiKeyPrincipal {
                    key,
                    owner,
                    roles,
                    scopes,
                },
                touched,
            )))
        })
        .await
        .map_err(|e| VerifyError::Unavailable(e.to_string()))??;
    let (principal, touched) = principal;
    if touched {
        let key = &principal.key;
        let event = AuditEvent::api_key(kind::API_KEY_USED)
            .tenant(&key.tenant_id)
            .detail("key_id", key.id.as_str());
        let event = match &principal.owner {
            KeyOwner::User(p) => event.user(&p.user.id),
            KeyOwner::Client(c) => event.client(&c.client_id).actor(&c.client_id),
        };
        state.audit.record(event).await;
    }
    Ok(principal)
}

/// RFC 7662 §2.2 for a valid key of the introspecting client's tenant; `issuer` is
/// the tenant's Entra issuer.
pub fn introspection(p: &ApiKeyPrincipal, issuer: String) -> Value {
    let (username, client_id, idtyp) = match &p.owner {
        KeyOwner::User(profile) => (Some(profile.user.sign_in_name().to_owned()), None, "user"),
        KeyOwner::Client(client) => (None, Some(client.client_id.clone()), "app"),
    };
    let mut body = json!({
        "active": true,
        "token_type": "api_key",
        "sub": p.subject(),
        "oid": p.subject(),
        "tid": p.key.tenant_id,
        "iss": issuer,
        "iat": p.key.created_at,
        "roles": p.roles,
        "idtyp": idtyp,
        "api_key_id": p.key.id,
        "api_key_name": p.key.name,
    });
    let optional = [
        ("scope", p.scope_string().map(Value::from)),
        ("exp", p.key.expires_at.map(Value::from)),
        ("username", username.map(Value::from)),
        ("client_id", client_id.map(Value::from)),
    ];
    for (name, value) in optional {
        if let Some(v) = value {
            body[name] = v;
        }
    }
    body
}
