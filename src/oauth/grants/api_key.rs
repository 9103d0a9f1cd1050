//! An API key exchanged for an access token (RFC 8693 with a localidp token type), so
//! that services behind it see ordinary JWTs:
//!
//! `grant_type=urn:ietf:params:oauth:grant-type:token-exchange`,
//! `subject_token={key}`, `subject_token_type=urn:localidp:params:oauth:token-type:api-key`,
//! `scope={resource}/.default` (or some of the key's permissions).
//!
//! The key is the credential and the grant at once (RFC 8693 §2.1 leaves client
//! authentication optional): an administrator issued it with its roles and scopes,
//! so the client need not be registered for token exchange. A client's key yields
//! an app token for that client, as client credentials do; `client_id`, if sent, must
//! name the same client and authenticate as usual. A user's key yields a token for the
//! user (their `oid`) issued to the client named by `client_id` (authenticated as
//! usual), else to the tenant's default client. Either token carries only the key's
//! roles that its owner still holds and, for a user, only the key's permissions. No
//! ID or refresh token: a refresh token would outlive the key's revocation.

use super::context::resolve_audience;
use crate::oauth::api_key::{self, KeyOwner};
use crate::oauth::authority::Authority;
use crate::oauth::client_auth::{self, AuthenticatedClient, ClientAuthMethod};
use crate::oauth::issue::{self, IdTokenContext, Issued, RefreshPlan, UserTokens};
use crate::oauth::scope::{OIDC_SCOPES, RequestedScope};
use crate::oauth::token_request::{ClientCredentials, TokenExchangeParams, required};
use crate::oauth::verify::VerifyError;
use crate::oauth::{OAuthError, Reason};
use crate::state::AppState;

/// The `subject_token_type` of an API key.
pub const API_KEY_TOKEN_TYPE: &str = "urn:localidp:params:oauth:token-type:api-key";

pub(super) fn is_api_key_exchange(params: &TokenExchangeParams) -> bool {
    params.subject_token_type.as_deref() == Some(API_KEY_TOKEN_TYPE)
}

pub(super) async fn grant(
    state: &AppState,
    authority: &Authority,
    params: TokenExchangeParams,
    credentials: ClientCredentials,
    requested: RequestedScope,
) -> Result<Issued, OAuthError> {
    let key = required(params.subject_token, "subject_token")?;
    let principal = api_key::authenticate(state, &key)
        .await
        .map_err(|e| match e {
            VerifyError::Invalid(msg) => OAuthError::invalid_grant(Reason::InvalidGrant, msg),
            VerifyError::Unavailable(msg) => {
                tracing::error!(error = %msg, "API key check unavailable");
                OAuthError::unavailable("The API key cannot be checked right now; try again.")
            }
        })?;
    if principal.key.tenant_id != authority.tenant.id {
        return Err(OAuthError::invalid_grant(
            Reason::InvalidGrant,
            "The API key belongs to another tenant.",
        ));
    }
    if let Some(t) = requested
        .tokens
        .iter()
        .find(|t| OIDC_SCOPES.contains(&t.as_str()))
    {
        return Err(OAuthError::invalid_scope(format!(
            "An API key is exchanged for an access token only; {t:?} cannot be granted. Ask for {{resource}}/.default."
        )));
    }
    tracing::Span::current().record("client_id", principal.key.owner_id.as_str());
    match principal.owner {
        KeyOwner::Client(owner) => {
            let client = if credentials.names_client() {
                let named =
                    client_auth::authenticate(state, &authority.tenant, credentials).await?;
                if named.client.client_id != owner.client_id {
                    return Err(OAuthError::invalid_grant(
                        Reason::InvalidGrant,
                        "The API key belongs to another application.",
                    ));
                }
                named
            } else {
                AuthenticatedClient {
                    client: *owner,
                    method: ClientAuthMethod::Secret,
                }
            };
            if !requested.permissions.is_empty() {
                return Err(OAuthError::invalid_scope(
                    "An application's API key takes one scope of the form {resource}/.default.",
                ));
            }
            let audience =
                resolve_audience(state, &authority.tenant.id, &client.client, &requested).await?;
            // A key's roles are app roles of its application, not Graph permissions: a
            // token for Graph from a key carries none, so a key never reaches further
            // into the directory than `client grant-graph` allowed.
            let roles = if crate::graph::permissions::is_graph(&audience) {
                Vec::new()
            } else {
                principal.roles
            };
            issue::app_token_with_roles(state, authority, &client, audience, &requested, roles)
                .await
        }
        KeyOwner::User(mut profile) => {
            if let Some(p) = requested
                .permissions
                .iter()
                .find(|p| !principal.scopes.contains(p))
            {
                return Err(OAuthError::invalid_scope(format!(
                    "The API key does not allow the permission {p:?}."
                )));
            }
            let client = user_key_client(state, authority, credentials).await?;
            let scope = key_scope(&requested, &principal.scopes);
            let audience =
                resolve_audience(state, &authority.tenant.id, &client.client, &scope).await?;
            profile.roles = principal.roles;
            issue::user_tokens(
                state,
                UserTokens {
                    authority,
                    client: &client,
                    audience,
                    profile: &profile,
                    scope,
                    refresh: RefreshPlan::NewFamily,
                    client_info: false,
                    context: IdTokenContext::default(),
                },
            )
            .await
        }
    }
}

/// The scope a user's key is granted: the permissions asked for, or all the key's
/// for `.default` (or no scope), on the resource asked for.
fn key_scope(requested: &RequestedScope, key_scopes: &[String]) -> RequestedScope {
    let permissions = if requested.permissions.is_empty() {
        key_scopes.to_vec()
    } else {
        requested.permissions.clone()
    };
    let tokens = match &requested.resource {
        Some(r) if permissions.is_empty() => vec![format!("{r}/.default")],
        Some(r) => permissions.iter().map(|p| format!("{r}/{p}")).collect(),
        None => permissions.clone(),
    };
    RequestedScope {
        tokens,
        resource: requested.resource.clone(),
        permissions,
        default_requested: requested.default_requested,
        ..Default::default()
    }
}

/// The client a user's key is exchanged through: the one named (authenticated as at
/// any grant), else the tenant's default client.
async fn user_key_client(
    state: &AppState,
    authority: &Authority,
    credentials: ClientCredentials,
) -> Result<AuthenticatedClient, OAuthError> {
    if credentials.names_client() {
        return client_auth::authenticate(state, &authority.tenant, credentials).await;
    }
    let tenant = &authority.tenant;
    let missing = || {
        OAuthError::invalid_request(
            Reason::MissingClientId,
            format!(
                "Send client_id: the tenant '{}' has no default client to issue a user's API-key token to.",
                tenant.name
            ),
        )
    };
    let id = tenant.default_client_id.as_deref().ok_or_else(missing)?;
    let client = state
        .directory
        .tenant_client(&tenant.id, id)
        .await?
        .ok_or_else(missing)?;
    Ok(AuthenticatedClient {
        client,
        method: ClientAuthMethod::None,
    })
}
