//! The token endpoint's grants (RFC 6749 §4): resource owner password,
//! client credentials and refresh token, with client authentication (§2.3).

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::claims::{AccessTokenClaims, IdTokenClaims};
use super::scope::{self, RequestedScope};
use super::{ErrorCode, OAuthError};
use crate::crypto::password::PasswordCheck;
use crate::crypto::{jwt, secrets};
use crate::db::clients::Client;
use crate::db::refresh_tokens::{self, RefreshToken};
use crate::db::users::User;
use crate::db::{self, DbResult};
use crate::directory::{
    GRANT_AUTHORIZATION_CODE, GRANT_CLIENT_CREDENTIALS, GRANT_PASSWORD, GRANT_REFRESH_TOKEN,
};
use crate::oauth::authorization_code::{self, IdTokenContext};
use crate::state::{AppState, TenantInfo};

/// The form parameters of a token request. Unknown parameters (MSAL telemetry,
/// `client_info`) are ignored.
#[derive(Debug, Default, Deserialize)]
pub struct TokenRequest {
    pub grant_type: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub scope: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub refresh_token: Option<String>,
    // authorization_code grant (RFC 6749 §4.1.3, RFC 7636 §4.5)
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
}

/// Credentials from an `Authorization: Basic` header, already form-decoded.
#[derive(Debug)]
pub struct BasicCredentials {
    pub client_id: String,
    pub client_secret: String,
}

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
}

/// A token response together with the claims of its access token.
#[derive(Debug)]
pub struct Issued {
    pub response: TokenResponse,
    pub claims: AccessTokenClaims,
}

pub(crate) fn required(value: Option<String>, name: &str) -> Result<String, OAuthError> {
    match value {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(OAuthError::invalid_request(format!(
            "The request is missing the '{name}' parameter."
        ))),
    }
}

/// How the client proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClientAuthMethod {
    None,
    Secret,
}

pub(crate) struct AuthenticatedClient {
    pub(crate) client: Client,
    pub(crate) method: ClientAuthMethod,
}

pub async fn token(
    state: &AppState,
    tenant: &TenantInfo,
    req: TokenRequest,
    basic: Option<BasicCredentials>,
) -> Result<Issued, OAuthError> {
    let grant_type = required(req.grant_type.clone(), "grant_type")?;
    if !matches!(
        grant_type.as_str(),
        GRANT_PASSWORD | GRANT_CLIENT_CREDENTIALS | GRANT_REFRESH_TOKEN | GRANT_AUTHORIZATION_CODE
    ) {
        return Err(OAuthError::new(
            ErrorCode::UnsupportedGrantType,
            format!("The grant type {grant_type:?} is not supported by this endpoint."),
        ));
    }
    let requested = scope::parse(req.scope.as_deref().unwrap_or(""))?;
    let client = authenticate_client(state, tenant, &req, basic).await?;
    let allowed = client.client.grant_type_list()?;
    if !allowed.iter().any(|g| g == &grant_type) {
        return Err(OAuthError::unauthorized_client(format!(
            "The client is not allowed to use the {grant_type} grant."
        )));
    }
    match grant_type.as_str() {
        GRANT_PASSWORD => password_grant(state, tenant, client, req, requested).await,
        GRANT_CLIENT_CREDENTIALS => {
            client_credentials_grant(state, tenant, client, requested).await
        }
        GRANT_AUTHORIZATION_CODE => authorization_code::grant(state, tenant, client, req).await,
        _ => refresh_token_grant(state, tenant, client, req, requested).await,
    }
}

pub(crate) async fn authenticate_client(
    state: &AppState,
    tenant: &TenantInfo,
    req: &TokenRequest,
    basic: Option<BasicCredentials>,
) -> Result<AuthenticatedClient, OAuthError> {
    // RFC 6749 §2.3: one authentication method per request.
    let (client_id, secret) = match (basic, &req.client_secret) {
        (Some(_), Some(_)) => {
            return Err(OAuthError::invalid_request(
                "Use client_secret_basic or client_secret_post, not both.",
            ));
        }
        (Some(b), None) => {
            if req.client_id.as_ref().is_some_and(|id| id != &b.client_id) {
                return Err(OAuthError::invalid_request(
                    "The client_id parameter differs from the one in the Authorization header.",
                ));
            }
            (b.client_id, Some(b.client_secret))
        }
        (None, secret) => (
            required(req.client_id.clone(), "client_id")?,
            secret.clone(),
        ),
    };
    let lookup = client_id.clone();
    let client = state
        .db(move |c| crate::db::clients::find(c, &lookup))
        .await?
        .filter(|c| c.tenant_id == tenant.id)
        .ok_or_else(|| {
            OAuthError::invalid_client(format!(
                "The client {client_id:?} is not registered in this tenant."
            ))
        })?;
    let method = match (&client.secret_hash, secret) {
        (None, None) => ClientAuthMethod::None,
        (None, Some(_)) => {
            return Err(OAuthError::invalid_client(
                "The client is public and has no secret; do not send one.",
            ));
        }
        (Some(_), None) => {
            return Err(OAuthError::invalid_client(
                "The client is confidential: client_secret is required.",
            ));
        }
        (Some(hash), Some(secret)) => {
            if !secrets::matches_hash(&secret, hash) {
                return Err(OAuthError::invalid_client("The client secret is invalid."));
            }
            ClientAuthMethod::Secret
        }
    };
    Ok(AuthenticatedClient { client, method })
}

/// The audience a user token is for: the requested resource, else the client itself.
pub(crate) async fn resolve_audience(
    state: &AppState,
    tenant: &TenantInfo,
    client: &Client,
    requested: &RequestedScope,
) -> Result<String, OAuthError> {
    let Some(resource) = &requested.resource else {
        return Ok(client.client_id.clone());
    };
    if resource == &client.client_id {
        return Ok(resource.clone());
    }
    let audiences = state.audiences(&tenant.id).await?;
    if audiences.contains(resource) {
        Ok(resource.clone())
    } else {
        Err(OAuthError::invalid_scope(format!(
            "The resource {resource:?} is not an application registered in this tenant."
        )))
    }
}

/// A user with what tokens say about them.
pub struct UserProfile {
    pub user: User,
    pub groups: Vec<String>,
    pub roles: Vec<String>,
}

pub(crate) fn load_profile(conn: &mut db::DbConnection, user: User) -> DbResult<UserProfile> {
    let groups = db::users::group_ids(conn, &user.id)?;
    let roles = user.role_list()?;
    Ok(UserProfile {
        user,
        groups,
        roles,
    })
}

const BAD_CREDENTIALS: &str = "The username or password is incorrect.";

/// Checks an email and password in the tenant: the shared core of the password grant
/// and `/auth/login`. An unknown email costs the same time as a wrong password.
pub async fn authenticate_user(
    state: &AppState,
    tenant: &TenantInfo,
    email: &str,
    password: SecretString,
) -> Result<UserProfile, OAuthError> {
    let tid = tenant.id.clone();
    let lookup = email.to_owned();
    let user = state
        .db(move |c| db::users::find_by_email(c, &tid, &lookup))
        .await?;
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    let check = state.hasher.verify(password, stored.clone()).await?;
    let (user, upgrade) = match (user, check) {
        (Some(user), PasswordCheck::Valid { upgrade }) => (user, upgrade),
        _ => return Err(OAuthError::invalid_grant(BAD_CREDENTIALS)),
    };
    if user.is_disabled() {
        return Err(OAuthError::invalid_grant("The user account is disabled."));
    }
    state
        .db(move |c| {
            if let (Some(new_hash), Some(old_hash)) = (upgrade, stored) {
                db::users::upgrade_password_hash(c, &user.id, &old_hash, &new_hash)?;
            }
            load_profile(c, user)
        })
        .await
        .map_err(OAuthError::from)
}

async fn password_grant(
    state: &AppState,
    tenant: &TenantInfo,
    client: AuthenticatedClient,
    req: TokenRequest,
    requested: RequestedScope,
) -> Result<Issued, OAuthError> {
    let username = required(req.username, "username")?;
    let password = required(req.password, "password")?;
    let requested = if requested.tokens.is_empty() {
        scope::parse("openid profile")?
    } else {
        requested
    };
    let audience = resolve_audience(state, tenant, &client.client, &requested).await?;
    let profile = authenticate_user(state, tenant, &username, SecretString::from(password)).await?;
    issue_user_tokens(state, tenant, &client, audience, &profile, requested, None).await
}

async fn client_credentials_grant(
    state: &AppState,
    tenant: &TenantInfo,
    client: AuthenticatedClient,
    requested: RequestedScope,
) -> Result<Issued, OAuthError> {
    if client.method != ClientAuthMethod::Secret {
        return Err(OAuthError::unauthorized_client(
            "Only confidential clients may use client_credentials.",
        ));
    }
    // Entra: an app token is requested as `{resource}/.default`, nothing else.
    if requested.openid || requested.offline_access || !requested.permissions.is_empty() {
        return Err(OAuthError::invalid_scope(
            "client_credentials takes one scope of the form {resource}/.default.",
        ));
    }
    let audience = resolve_audience(state, tenant, &client.client, &requested).await?;
    let now = db::now();
    let lifetime = state.settings.access_token_lifetime;
    let uti = secrets::generate()[..22].to_owned();
    let claims = AccessTokenClaims {
        aud: audience,
        iss: tenant.issuer.clone(),
        iat: now,
        nbf: now,
        exp: now + lifetime,
        sub: client.client.client_id.clone(),
        oid: client.client.client_id.clone(),
        tid: tenant.id.clone(),
        azp: client.client.client_id.clone(),
        azpacr: "1".into(),
        ver: "2.0".into(),
        jti: uti.clone(),
        uti,
        idtyp: Some("app".into()),
        email: None,
        name: None,
        preferred_username: None,
        given_name: None,
        family_name: None,
        scp: None,
        roles: client.client.app_role_list()?,
        groups: Vec::new(),
    };
    let access_token = sign(state, &claims)?;
    Ok(Issued {
        response: TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: lifetime,
            ext_expires_in: lifetime,
            scope: requested.as_string(),
            refresh_token: None,
            refresh_token_expires_in: None,
            id_token: None,
        },
        claims,
    })
}

enum RefreshOutcome {
    Redeemed(Box<(RefreshToken, UserProfile)>),
    Rejected(&'static str),
}

async fn refresh_token_grant(
    state: &AppState,
    tenant: &TenantInfo,
    client: AuthenticatedClient,
    req: TokenRequest,
    requested: RequestedScope,
) -> Result<Issued, OAuthError> {
    let presented = required(req.refresh_token, "refresh_token")?;
    let hash = secrets::sha256_hex(&presented);
    let client_id = client.client.client_id.clone();
    let tenant_id = tenant.id.clone();
    let outcome = state
        .db(move |c| {
            let now = db::now();
            let Some(token) = refresh_tokens::find_by_hash(c, &hash)? else {
                return Ok(RefreshOutcome::Rejected("The refresh token is invalid."));
            };
            if token.client_id != client_id || token.tenant_id != tenant_id {
                return Ok(RefreshOutcome::Rejected(
                    "The refresh token was issued to another client.",
                ));
            }
            if token.revoked_at.is_some() {
                return Ok(RefreshOutcome::Rejected(
                    "The refresh token has been revoked.",
                ));
            }
            if token.expires_at <= now {
                return Ok(RefreshOutcome::Rejected("The refresh token has expired."));
            }
            // A second use means the token leaked or was replayed: end the family.
            if token.used_at.is_some() || !refresh_tokens::claim(c, &token.id, now)? {
                refresh_tokens::revoke_family(c, &token.family_id, now)?;
                tracing::warn!(family = %token.family_id, "refresh token reused; family revoked");
                return Ok(RefreshOutcome::Rejected(
                    "The refresh token was already used; its sessions are revoked.",
                ));
            }
            let user = match db::users::find(c, &token.user_id)? {
                Some(u) if !u.is_disabled() => u,
                _ => {
                    refresh_tokens::revoke_family(c, &token.family_id, now)?;
                    return Ok(RefreshOutcome::Rejected(
                        "The user no longer exists or is disabled.",
                    ));
                }
            };
            let profile = load_profile(c, user)?;
            Ok(RefreshOutcome::Redeemed(Box::new((token, profile))))
        })
        .await?;
    let (token, profile) = match outcome {
        RefreshOutcome::Redeemed(redeemed) => *redeemed,
        RefreshOutcome::Rejected(why) => return Err(OAuthError::invalid_grant(why)),
    };
    let granted = scope::parse(&token.scope)?;
    let scope = if requested.tokens.is_empty() {
        granted
    } else if requested.is_subset_of(&granted) {
        requested
    } else {
        return Err(OAuthError::invalid_scope(
            "The requested scope exceeds the scope originally granted.",
        ));
    };
    let audience = resolve_audience(state, tenant, &client.client, &scope).await?;
    issue_user_tokens(
        state,
        tenant,
        &client,
        audience,
        &profile,
        scope,
        Some(token.family_id),
    )
    .await
}

pub(crate) fn sign<C: Serialize>(state: &AppState, claims: &C) -> Result<String, OAuthError> {
    let ring = state.key_ring();
    jwt::sign(ring.active(), claims).map_err(|e| {
        tracing::error!(error = %e, "signing failed");
        OAuthError::new(ErrorCode::ServerError, "The token could not be signed.")
    })
}

/// Builds the access token (and ID and refresh tokens as the scope asks) for a user.
async fn issue_user_tokens(
    state: &AppState,
    tenant: &TenantInfo,
    client: &AuthenticatedClient,
    audience: String,
    profile: &UserProfile,
    scope: RequestedScope,
    refresh_family: Option<String>,
) -> Result<Issued, OAuthError> {
    let context = IdTokenContext::default();
    issue_user_tokens_with(
        state,
        tenant,
        client,
        audience,
        profile,
        scope,
        refresh_family,
        &context,
    )
    .await
}

/// `issue_user_tokens` with what an interactive sign-in adds to the ID token.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn issue_user_tokens_with(
    state: &AppState,
    tenant: &TenantInfo,
    client: &AuthenticatedClient,
    audience: String,
    profile: &UserProfile,
    scope: RequestedScope,
    refresh_family: Option<String>,
    context: &IdTokenContext,
) -> Result<Issued, OAuthError> {
    let user = &profile.user;
    let now = db::now();
    let lifetime = state.settings.access_token_lifetime;
    let scp = if scope.permissions.is_empty() {
        scope.oidc_tokens().join(" ")
    } else {
        scope.permissions.join(" ")
    };
    let uti = secrets::generate()[..22].to_owned();
    let claims = AccessTokenClaims {
        aud: audience,
        iss: tenant.issuer.clone(),
        iat: now,
        nbf: now,
        exp: now + lifetime,
        sub: user.id.clone(),
        oid: user.id.clone(),
        tid: tenant.id.clone(),
        azp: client.client.client_id.clone(),
        azpacr: match client.method {
            ClientAuthMethod::None => "0".into(),
            ClientAuthMethod::Secret => "1".into(),
        },
        ver: "2.0".into(),
        jti: uti.clone(),
        uti,
        idtyp: None,
        email: Some(user.email.clone()),
        name: Some(user.display_name.clone()),
        preferred_username: Some(user.email.clone()),
        given_name: user.given_name.clone(),
        family_name: user.family_name.clone(),
        scp: (!scp.is_empty()).then_some(scp),
        roles: profile.roles.clone(),
        groups: profile.groups.clone(),
    };
    let access_token = sign(state, &claims)?;
    let id_token = if scope.openid {
        let id_claims = IdTokenClaims {
            aud: client.client.client_id.clone(),
            iss: tenant.issuer.clone(),
            iat: now,
            nbf: now,
            exp: now + lifetime,
            auth_time: context.auth_time.unwrap_or(now),
            sub: user.id.clone(),
            oid: user.id.clone(),
            tid: tenant.id.clone(),
            ver: "2.0".into(),
            uti: secrets::generate()[..22].to_owned(),
            nonce: context.nonce.clone(),
            email: user.email.clone(),
            name: user.display_name.clone(),
            preferred_username: user.email.clone(),
            given_name: user.given_name.clone(),
            family_name: user.family_name.clone(),
            roles: profile.roles.clone(),
            groups: profile.groups.clone(),
        };
        Some(sign(state, &context.extend(id_claims, &access_token))?)
    } else {
        None
    };
    let refresh_lifetime = state.settings.refresh_token_lifetime;
    let refresh_token = if scope.offline_access {
        let plain = secrets::generate();
        let row = RefreshToken {
            id: uuid::Uuid::new_v4().to_string(),
            token_hash: secrets::sha256_hex(&plain),
            family_id: refresh_family.unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            tenant_id: tenant.id.clone(),
            user_id: user.id.clone(),
            client_id: client.client.client_id.clone(),
            scope: scope.as_string(),
            created_at: now,
            expires_at: now + refresh_lifetime,
            used_at: None,
            revoked_at: None,
        };
        state.db(move |c| refresh_tokens::insert(c, &row)).await?;
        Some(plain)
    } else {
        None
    };
    Ok(Issued {
        response: TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: lifetime,
            ext_expires_in: lifetime,
            scope: scope.as_string(),
            refresh_token_expires_in: refresh_token.as_ref().map(|_| refresh_lifetime),
            refresh_token,
            id_token,
        },
        claims,
    })
}

/// `/auth/login`: email and password for a token to the tenant's default client (or
/// the one named).
pub async fn login(
    state: &AppState,
    tenant: &TenantInfo,
    email: &str,
    password: SecretString,
    client_id: Option<String>,
) -> Result<Issued, OAuthError> {
    let client_id = client_id
        .or_else(|| tenant.default_client_id.clone())
        .ok_or_else(|| {
            OAuthError::invalid_request(
                "The tenant has no default client; pass client_id in the request.",
            )
        })?;
    let lookup = client_id.clone();
    let client = state
        .db(move |c| db::clients::find(c, &lookup))
        .await?
        .filter(|c| c.tenant_id == tenant.id)
        .ok_or_else(|| {
            OAuthError::invalid_request(format!(
                "The client {client_id:?} is not registered in this tenant."
            ))
        })?;
    let profile = authenticate_user(state, tenant, email, password).await?;
    let client = AuthenticatedClient {
        client,
        method: ClientAuthMethod::None,
    };
    let audience = client.client.client_id.clone();
    issue_user_tokens(
        state,
        tenant,
        &client,
        audience,
        &profile,
        scope::parse("profile")?,
        None,
    )
    .await
}
