//! One place that assembles a token response: the access token, and the ID and
//! refresh tokens the scope asks for, signed with the active key.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::authority::Authority;
use super::claims::mapping::{self, TokenUser};
use super::claims::policy::{ClaimsMapping, OptionalClaims};
use super::claims::{self, AccessGrant, AccessTokenClaims, IdTokenClaims, Issuance};
use super::client_auth::AuthenticatedClient;
use super::scope::RequestedScope;
use super::sign_in::UserProfile;
use super::{ErrorCode, OAuthError, Reason};
use crate::crypto::{jwt, secrets};
use crate::db::clients::Client;
use crate::db::refresh_tokens::{self, RefreshToken};
use crate::state::AppState;

#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub ext_expires_in: i64,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token_expires_in: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// base64url of `{"uid","utid"}`, when the request asked with `client_info=1`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_info: Option<String>,
}

/// A token response together with the claims of its access token.
#[derive(Debug)]
pub struct Issued {
    pub response: TokenResponse,
    pub claims: AccessTokenClaims,
}

/// Where a user's refresh token comes from, if the scope asks for one.
#[derive(Debug)]
pub enum RefreshPlan {
    /// A new family (password, on-behalf-of, token exchange).
    NewFamily,
    /// A family fixed in advance (an authorization code knows its family, so that a
    /// reused code can revoke what it issued).
    Family(String),
    /// The same, for a code redeemed for a SPA redirect URI: the family does not slide
    /// and ends `SPA_REFRESH_LIFETIME` after the redemption (Entra).
    SpaFamily(String),
    /// Already stored with the redemption of its predecessor (refresh grant), with the
    /// access token id it recorded, which the access token must carry, and the stored
    /// token's expiry.
    Stored {
        token: Option<(String, i64)>,
        jti: String,
    },
}

/// What an interactive sign-in adds to an ID token (OIDC Core §2, §3.1.3.6).
#[derive(Debug, Default)]
pub struct IdTokenContext {
    pub nonce: Option<String>,
    pub auth_time: Option<i64>,
    /// The SSO session, as Entra's `sid`.
    pub sid: Option<String>,
    /// The authorization code the tokens were redeemed with, for `c_hash`.
    pub code: Option<String>,
}

impl IdTokenContext {
    /// Adds `at_hash` (always), `c_hash` and `sid` (when a code and session exist).
    fn extend(&self, mut claims: IdTokenClaims, access_token: &str) -> IdTokenClaims {
        claims.at_hash = Some(half_hash(access_token));
        claims.c_hash = self.code.as_deref().map(half_hash);
        claims.sid = self.sid.clone();
        claims
    }
}

/// OIDC Core §3.1.3.6: base64url of the left half of the SHA-256 of the value (RS256).
pub fn half_hash(value: &str) -> String {
    use aws_lc_rs::digest::{SHA256, digest};
    use base64::Engine;
    let d = digest(&SHA256, value.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&d.as_ref()[..16])
}

/// Entra: refresh tokens issued to a single-page app last 24 hours, however often
/// they are redeemed.
pub const SPA_REFRESH_LIFETIME: i64 = 24 * 3600;

/// Everything a user's token response is made from.
#[derive(Debug)]
pub struct UserTokens<'a> {
    pub authority: &'a Authority,
    pub client: &'a AuthenticatedClient,
    /// The access token's `aud`.
    pub audience: String,
    pub profile: &'a UserProfile,
    pub scope: RequestedScope,
    pub refresh: RefreshPlan,
    /// Add MSAL's `client_info` to the response.
    pub client_info: bool,
    pub context: IdTokenContext,
}

fn issuance<'a>(state: &AppState, authority: &'a Authority) -> Issuance<'a> {
    Issuance {
        issuer: authority.issuer(),
        tenant_id: &authority.tenant.id,
        policy: authority.registered_policy(),
        now: state.clock.now(),
        lifetime: state.settings.access_token_lifetime,
    }
}

fn response(access_token: String, lifetime: i64, scope: String) -> TokenResponse {
    TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: lifetime,
        ext_expires_in: lifetime,
        scope,
        refresh_token: None,
        refresh_token_expires_in: None,
        id_token: None,
        client_info: None,
    }
}

/// An application's claims configuration; a client that is not registered (or not
/// found) has none.
fn claims_config(client: Option<&Client>) -> Result<(OptionalClaims, ClaimsMapping), OAuthError> {
    match client {
        Some(c) => Ok((c.optional_claims()?, c.claims_mapping()?)),
        None => Ok(Default::default()),
    }
}

/// The claims as signed after `shape` edits them, and the typed claims read back from
/// them (so that what the server reports equals what the token says).
fn shaped<C: Serialize + DeserializeOwned>(
    claims: &C,
    shape: impl FnOnce(&mut Map<String, Value>),
) -> Result<(C, Map<String, Value>), OAuthError> {
    let internal = |e: serde_json::Error| {
        tracing::error!(error = %e, "claims do not round-trip");
        OAuthError::new(
            ErrorCode::ServerError,
            Reason::Internal,
            "The token claims could not be built.",
        )
    };
    let mut map = match serde_json::to_value(claims).map_err(internal)? {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    shape(&mut map);
    let typed = serde_json::from_value(Value::Object(map.clone())).map_err(internal)?;
    Ok((typed, map))
}

/// Signs the claims as built, or as `shape` edits them when the application has a
/// configuration (`configured`); returns the claims the token carries and the token.
fn sign_shaped<C: Serialize + DeserializeOwned>(
    state: &AppState,
    claims: C,
    configured: bool,
    shape: impl FnOnce(&mut Map<String, Value>),
) -> Result<(C, String), OAuthError> {
    if !configured {
        let token = sign(state, &claims)?;
        return Ok((claims, token));
    }
    let (typed, map) = shaped(&claims, shape)?;
    Ok((typed, sign(state, &map)?))
}

/// The configuration of the application a token with this audience is for: the
/// client's own when it is the audience, else the registered resource's.
async fn audience_config(
    state: &AppState,
    client: &Client,
    audience: &str,
) -> Result<(OptionalClaims, ClaimsMapping), OAuthError> {
    let resource_id = super::scope::resource_client_id(audience);
    if resource_id == client.client_id {
        return claims_config(Some(client));
    }
    let resource = state.directory.client(resource_id).await?;
    claims_config(resource.as_deref())
}

/// The profile with the app roles assigned to the user (Graph's appRoleAssignments)
/// of the application a token with this audience is for added to its `roles`, each
/// once; None when that adds none (Graph's audience, or B2C, which has no `roles`).
fn assigned_roles(profile: &UserProfile, audience: &str, b2c: bool) -> Option<UserProfile> {
    if b2c || crate::graph::permissions::is_graph(audience) {
        return None;
    }
    let resource = super::scope::resource_client_id(audience);
    let added: Vec<&String> = profile
        .assigned_roles
        .iter()
        .filter(|(client, role)| client == resource && !profile.roles.contains(role))
        .map(|(_, role)| role)
        .collect();
    if added.is_empty() {
        return None;
    }
    let mut extended = profile.clone();
    extended.roles.extend(added.into_iter().cloned());
    Some(extended)
}

/// The access token (and ID and refresh tokens as the scope asks) for a user.
pub async fn user_tokens(state: &AppState, t: UserTokens<'_>) -> Result<Issued, OAuthError> {
    let at = issuance(state, t.authority);
    let b2c = t.authority.is_b2c();
    let client_id = t.client.client.client_id.as_str();
    // Access tokens follow the resource application's configuration, ID tokens the
    // client's (Entra's rule).
    let (access_optional, access_mapping) =
        audience_config(state, &t.client.client, &t.audience).await?;
    let (id_optional, id_mapping) = claims_config(Some(&t.client.client))?;
    let wants_names = OptionalClaims::groups_as_names(access_optional.access_token.as_deref())
        || OptionalClaims::groups_as_names(id_optional.id_token.as_deref())
        || access_mapping.wants_group_names()
        || id_mapping.wants_group_names();
    let group_names = if wants_names {
        let uid = t.profile.user.id.clone();
        let groups = state
            .db(move |c| crate::db::groups::of_member(c, &uid))
            .await?;
        Some(groups.into_iter().map(|g| g.name).collect::<Vec<_>>())
    } else {
        None
    };
    let auth_time = t.context.auth_time.unwrap_or(at.now);
    let with_assigned = assigned_roles(t.profile, &t.audience, b2c);
    let profile = with_assigned.as_ref().unwrap_or(t.profile);
    let user = TokenUser {
        profile,
        tenant_id: at.tenant_id,
        group_names: group_names.as_deref(),
        auth_time,
    };
    let grant = AccessGrant {
        audience: t.audience,
        client_id,
        azpacr: t.client.method.azpacr(),
        scp: t.scope.access_token_scp(),
    };
    let mut claims = if b2c {
        claims::b2c::user_access_token(&at, grant, profile)
    } else {
        claims::entra::user_access_token(&at, grant, profile)
    };
    if let RefreshPlan::Stored { jti, .. } = &t.refresh {
        claims.jti = jti.clone();
    }
    let unmapped = ClaimsMapping::default();
    let configured = (!b2c && access_optional.access_token.is_some()) || access_mapping != unmapped;
    let (claims, access_token) = sign_shaped(state, claims, configured, |map| {
        if !b2c {
            mapping::apply_optional(map, access_optional.access_token.as_deref(), &user, true);
        }
        mapping::apply_mapping(map, &access_mapping, &user);
    })?;
    let mut response = response(access_token, at.lifetime, t.scope.as_string());
    if t.scope.openid {
        let nonce = t.context.nonce.clone();
        let id = if b2c {
            claims::b2c::id_token(&at, client_id, t.profile, auth_time, nonce)
        } else {
            claims::entra::id_token(&at, client_id, t.profile, auth_time, nonce)
        };
        let id = t.context.extend(id, &response.access_token);
        let configured = (!b2c && id_optional.id_token.is_some()) || id_mapping != unmapped;
        let (_, id) = sign_shaped(state, id, configured, |map| {
            if !b2c {
                mapping::apply_optional(map, id_optional.id_token.as_deref(), &user, false);
            }
            mapping::apply_mapping(map, &id_mapping, &user);
        })?;
        response.id_token = Some(id);
    }
    let mut refresh_expires_at = None;
    response.refresh_token = match t.refresh {
        RefreshPlan::Stored { token, .. } => {
            // Rotated by the refresh grant, which stored the successor and knows its
            // expiry (a SPA family keeps its first one).
            token.map(|(plain, expires_at)| {
                refresh_expires_at = Some(expires_at);
                plain
            })
        }
        _ if !t.scope.offline_access => None,
        plan @ (RefreshPlan::NewFamily | RefreshPlan::Family(_) | RefreshPlan::SpaFamily(_)) => {
            let (family_id, fixed) = match plan {
                RefreshPlan::Family(f) => (f, None),
                RefreshPlan::SpaFamily(f) => (f, Some(at.now + SPA_REFRESH_LIFETIME)),
                _ => (crate::crypto::secrets::uuid_v4().to_string(), None),
            };
            let (plain, mut row) = new_refresh_token(
                state,
                t.authority,
                NewRefreshToken {
                    client_id,
                    user_id: &t.profile.user.id,
                    scope: &t.scope,
                    family_id,
                    auth_time,
                    parent_id: None,
                },
            );
            if let Some(fixed) = fixed {
                row.expires_at = row.expires_at.min(fixed);
                row.family_expires_at = Some(fixed);
            }
            refresh_expires_at = Some(row.expires_at);
            // Revoking the family revokes this access token too.
            row.access_token_jti = Some(claims.jti.clone());
            row.access_token_expires_at = Some(claims.exp);
            state.db(move |c| refresh_tokens::insert(c, &row)).await?;
            Some(plain)
        }
    };
    response.refresh_token_expires_in = response
        .refresh_token
        .as_ref()
        .map(|_| refresh_expires_at.map_or(state.settings.refresh_token_lifetime, |e| e - at.now));
    response.client_info = t
        .client_info
        .then(|| client_info(t.authority, &t.profile.user.id));
    Ok(Issued { response, claims })
}

/// An app-only access token for a client authenticated with its secret.
pub async fn app_token(
    state: &AppState,
    authority: &Authority,
    client: &AuthenticatedClient,
    audience: String,
    scope: &RequestedScope,
) -> Result<Issued, OAuthError> {
    // Graph's roles are the Graph permissions granted to the client, not its app roles.
    let roles = if crate::graph::permissions::is_graph(&audience) {
        let id = client.client.client_id.clone();
        state
            .db(move |c| crate::db::graph_permissions::list(c, &id))
            .await?
    } else {
        crate::graph::app_role_defs::application_values(&client.client)
    };
    app_token_with_roles(state, authority, client, audience, scope, roles).await
}

/// An app-only access token carrying `roles` (all the client's, or an API key's).
pub async fn app_token_with_roles(
    state: &AppState,
    authority: &Authority,
    client: &AuthenticatedClient,
    audience: String,
    scope: &RequestedScope,
    roles: Vec<String>,
) -> Result<Issued, OAuthError> {
    let at = issuance(state, authority);
    let client_id = &client.client.client_id;
    let (_, resource_mapping) = audience_config(state, &client.client, &audience).await?;
    let claims = if authority.is_b2c() {
        claims::b2c::app_access_token(&at, audience, client_id, roles.clone())
    } else {
        claims::entra::app_access_token(&at, audience, client_id, roles.clone())
    };
    let configured = resource_mapping != ClaimsMapping::default();
    let (claims, access_token) = sign_shaped(state, claims, configured, |map| {
        mapping::apply_app_mapping(map, &resource_mapping, &roles);
    })?;
    Ok(Issued {
        response: response(access_token, at.lifetime, scope.as_string()),
        claims,
    })
}

/// The refresh token to mint: for whom, with what scope, in which family.
#[derive(Debug)]
pub struct NewRefreshToken<'a> {
    pub client_id: &'a str,
    pub user_id: &'a str,
    pub scope: &'a RequestedScope,
    pub family_id: String,
    pub auth_time: i64,
    /// The token it is rotated from (refresh grant).
    pub parent_id: Option<&'a str>,
}

/// A fresh refresh token: the value to hand out, and the row that remembers its hash.
pub fn new_refresh_token(
    state: &AppState,
    authority: &Authority,
    new: NewRefreshToken<'_>,
) -> (String, RefreshToken) {
    let now = state.clock.now();
    let plain = secrets::generate();
    let row = RefreshToken {
        id: crate::crypto::secrets::uuid_v4().to_string(),
        token_hash: secrets::sha256_hex(&plain),
        family_id: new.family_id,
        tenant_id: authority.tenant.id.clone(),
        user_id: new.user_id.to_owned(),
        client_id: new.client_id.to_owned(),
        scope: new.scope.as_string(),
        created_at: now,
        expires_at: now + state.settings.refresh_token_lifetime,
        used_at: None,
        revoked_at: None,
        policy: authority.policy().map(str::to_owned),
        auth_time: Some(new.auth_time),
        access_token_jti: None,
        access_token_expires_at: None,
        parent_id: new.parent_id.map(str::to_owned),
        family_expires_at: None,
    };
    (plain, row)
}

/// Signs claims with the active key.
pub fn sign<C: Serialize>(state: &AppState, claims: &C) -> Result<String, OAuthError> {
    let ring = state.keys.ring();
    jwt::sign(ring.active(), claims).map_err(|e| {
        tracing::error!(error = %e, "signing failed");
        OAuthError::new(
            ErrorCode::ServerError,
            Reason::Internal,
            "The token could not be signed.",
        )
    })
}

/// MSAL's `client_info`: who the account is in the shape the flavour uses.
fn client_info(authority: &Authority, oid: &str) -> String {
    use base64::Engine;
    let uid = match authority.policy() {
        Some(policy) => format!("{oid}-{policy}"),
        None => oid.to_owned(),
    };
    let json = serde_json::json!({"uid": uid, "utid": authority.tenant.id});
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json.to_string())
}

#[cfg(test)]
mod tests {
    use super::half_hash;

    #[test]
    fn half_hash_is_left_half_of_sha256() {
        // OIDC Core's at_hash example token hashes to this value.
        assert_eq!(
            half_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }
}
