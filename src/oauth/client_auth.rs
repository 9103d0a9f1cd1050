//! Client authentication (RFC 6749 §2.3): which registered client a request comes
//! from and how it proved it — a secret, or nothing for a public client.

use super::grant_type::GrantType;
use super::token_request::{ClientCredentials, required};
use super::{OAuthError, Reason};
use crate::crypto::secrets;
use crate::db::clients::Client;
use crate::directory::service::TenantInfo;
use crate::state::AppState;

/// How the client proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuthMethod {
    None,
    Secret,
}

impl ClientAuthMethod {
    /// Entra's `azpacr`: "0" public client, "1" client secret.
    pub fn azpacr(self) -> &'static str {
        match self {
            ClientAuthMethod::None => "0",
            ClientAuthMethod::Secret => "1",
        }
    }
}

#[derive(Debug)]
pub struct AuthenticatedClient {
    pub client: Client,
    pub method: ClientAuthMethod,
}

/// The client a token, revocation or introspection request comes from, in `tenant`.
pub async fn authenticate(
    state: &AppState,
    tenant: &TenantInfo,
    credentials: ClientCredentials,
) -> Result<AuthenticatedClient, OAuthError> {
    let ClientCredentials {
        client_id,
        client_secret,
        basic,
    } = credentials;
    // RFC 6749 §2.3: one authentication method per request.
    let (client_id, secret) = match (basic, client_secret) {
        (Some(_), Some(_)) => {
            return Err(OAuthError::invalid_request(
                Reason::MalformedRequest,
                "Use client_secret_basic or client_secret_post, not both.",
            ));
        }
        (Some(b), None) => {
            if client_id.as_ref().is_some_and(|id| id != &b.client_id) {
                return Err(OAuthError::invalid_request(
                    Reason::MalformedRequest,
                    "The client_id parameter differs from the one in the Authorization header.",
                ));
            }
            (b.client_id, Some(b.client_secret))
        }
        (None, secret) => (required(client_id, "client_id")?, secret),
    };
    let client = state
        .directory
        .tenant_client(&tenant.id, &client_id)
        .await?
        .ok_or_else(|| {
            OAuthError::invalid_client(
                Reason::UnknownClient,
                format!(
                    "Application with identifier '{client_id}' was not found in the directory '{}'.",
                    tenant.name
                ),
            )
        })?;
    let method = match (&client.secret_hash, secret) {
        (None, None) => ClientAuthMethod::None,
        (None, Some(_)) => {
            return Err(OAuthError::invalid_client(
                Reason::PublicClientWithSecret,
                "The client is public: neither client_assertion nor client_secret should be presented.",
            ));
        }
        (Some(_), None) => {
            return Err(OAuthError::invalid_client(
                Reason::MissingClientSecret,
                "The request body must contain the following parameter: 'client_secret'.",
            ));
        }
        (Some(_), Some(secret)) => {
            if !secret_matches(state, &client, &secret).await? {
                return Err(OAuthError::invalid_client(
                    Reason::InvalidClientSecret,
                    format!(
                        "Invalid client secret provided for app '{}'.",
                        client.client_id
                    ),
                ));
            }
            ClientAuthMethod::Secret
        }
    };
    Ok(AuthenticatedClient { client, method })
}

/// Whether `secret` is one of the client's: its first secret, or one added over
/// Graph (`addPassword`) that is valid now. The latter are read from the database,
/// so one added or removed counts at once.
async fn secret_matches(
    state: &AppState,
    client: &Client,
    secret: &str,
) -> Result<bool, OAuthError> {
    let first = client.secret_hash.as_deref().unwrap_or_default();
    if secrets::matches_hash(secret, first) {
        return Ok(true);
    }
    let (id, now) = (client.client_id.clone(), state.clock.now());
    let hashes = state
        .db(move |c| crate::db::client_secrets::valid_hashes(c, &id, now))
        .await?;
    // Every hash is compared, so the time does not tell which one matched.
    Ok(hashes
        .iter()
        .fold(false, |found, h| secrets::matches_hash(secret, h) | found))
}

/// The client of a password form that names none (`/auth/login`, and `/auth/token`
/// without `client_id`): the tenant's default client, which needs no secret there, as
/// the tenant's own first-party application. A confidential client named with
/// `client_id` must prove itself as it would at the token endpoint; a secret sent with
/// the default client must be its secret.
pub async fn login_client(
    state: &AppState,
    tenant: &TenantInfo,
    client_id: Option<String>,
    client_secret: Option<String>,
) -> Result<AuthenticatedClient, OAuthError> {
    let named = client_id.is_some();
    let client = match client_id {
        Some(client_id) => state
            .directory
            .tenant_client(&tenant.id, &client_id)
            .await?
            .ok_or_else(|| {
                OAuthError::invalid_request(
                    Reason::UnknownClient,
                    format!("The client {client_id:?} is not registered in this tenant."),
                )
            })?,
        None => default_client(state, tenant).await?,
    };
    if !client.allows(GrantType::Password) {
        return Err(OAuthError::unauthorized_client(
            "The client is not allowed to sign users in with a password.",
        ));
    }
    let matched = match (&client.secret_hash, &client_secret) {
        (Some(_), Some(secret)) => secret_matches(state, &client, secret).await?,
        _ => false,
    };
    let method = match (&client.secret_hash, client_secret) {
        (Some(_), Some(_)) if matched => ClientAuthMethod::Secret,
        (Some(_), Some(_)) => {
            return Err(OAuthError::invalid_client(
                Reason::InvalidClientSecret,
                "The client secret is invalid.",
            ));
        }
        (Some(_), None) if named => {
            return Err(OAuthError::invalid_client(
                Reason::MissingClientSecret,
                "The client is confidential: client_secret is required.",
            ));
        }
        _ => ClientAuthMethod::None,
    };
    Ok(AuthenticatedClient { client, method })
}

/// The tenant's default client, usable for password sign-in; otherwise an error that
/// says how to name one.
async fn default_client(state: &AppState, tenant: &TenantInfo) -> Result<Client, OAuthError> {
    let how = format!(
        "Send client_id, or set the tenant's default client: `localidp client set-default CLIENT_ID --tenant {}`, or default_client in the seed file's [[tenants]] entry.",
        tenant.name
    );
    let Some(client_id) = &tenant.default_client_id else {
        return Err(OAuthError::invalid_request(
            Reason::MissingClientId,
            format!(
                "The request has no client_id and the tenant '{}' has no default client. {how}",
                tenant.name
            ),
        ));
    };
    let client = state.directory.tenant_client(&tenant.id, client_id).await?;
    match client {
        Some(client) if client.allows(GrantType::Password) => Ok(client),
        Some(_) => Err(OAuthError::unauthorized_client(format!(
            "The request has no client_id and the tenant's default client '{client_id}' is not allowed the password grant. {how}"
        ))),
        None => Err(OAuthError::invalid_request(
            Reason::MissingClientId,
            format!(
                "The request has no client_id and the tenant's default client '{client_id}' no longer exists. {how}"
            ),
        )),
    }
}
