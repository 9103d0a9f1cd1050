//! The token endpoint's grants (RFC 6749 §4): resource owner password, client
//! credentials, refresh token, and on-behalf-of (RFC 7523 jwt-bearer as Entra uses
//! it), with client authentication (§2.3).

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::authority::{Authority, Flavour};
use super::claims::{AccessTokenClaims, IdTokenClaims};
use super::scope::{self, RequestedScope};
use super::{ErrorCode, OAuthError, Reason, verify};
use crate::crypto::password::PasswordCheck;
use crate::crypto::{jwt, secrets};
use crate::db::clients::Client;
use crate::db::refresh_tokens::{self, RefreshToken};
use crate::db::users::User;
use crate::db::{self, DbResult};
use crate::directory::{
    GRANT_AUTHORIZATION_CODE, GRANT_CLIENT_CREDENTIALS, GRANT_JWT_BEARER, GRANT_PASSWORD,
    GRANT_REFRESH_TOKEN, GRANT_TOKEN_EXCHANGE,
};
use crate::oauth::authorization_code::{self, IdTokenContext};
use crate::state::{AppState, TenantInfo};

/// The form parameters of a token request. Unknown parameters (MSAL telemetry) are
/// ignored.
#[derive(Debug, Default, Deserialize)]
pub struct TokenRequest {
    pub grant_type: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub scope: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub refresh_token: Option<String>,
    /// On-behalf-of: the incoming access token, and `on_behalf_of`.
    pub assertion: Option<String>,
    pub requested_token_use: Option<String>,
    /// MSAL sends `1` to receive `client_info`.
    pub client_info: Option<String>,
    /// Authorization code grant (RFC 6749 §4.1.3, RFC 7636 §4.5).
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    /// Token exchange (RFC 8693 §2.1).
    pub subject_token: Option<String>,
    pub subject_token_type: Option<String>,
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

pub(crate) fn required(value: Option<String>, name: &str) -> Result<String, OAuthError> {
    match value {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(OAuthError::missing(name)),
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
    authority: &Authority,
    req: TokenRequest,
    basic: Option<BasicCredentials>,
) -> Result<Issued, OAuthError> {
    let grant_type = required(req.grant_type.clone(), "grant_type")?;
    let supported = match authority.flavour {
        // B2C has no on-behalf-of flow.
        Flavour::B2c { .. } => {
            matches!(
                grant_type.as_str(),
                GRANT_PASSWORD
                    | GRANT_CLIENT_CREDENTIALS
                    | GRANT_REFRESH_TOKEN
                    | GRANT_AUTHORIZATION_CODE
            )
        }
        _ => matches!(
            grant_type.as_str(),
            GRANT_PASSWORD
                | GRANT_CLIENT_CREDENTIALS
                | GRANT_REFRESH_TOKEN
                | GRANT_JWT_BEARER
                | GRANT_AUTHORIZATION_CODE
                | GRANT_TOKEN_EXCHANGE
        ),
    };
    if !supported {
        return Err(OAuthError::new(
            ErrorCode::UnsupportedGrantType,
            Reason::UnsupportedGrant,
            format!("The grant type {grant_type:?} is not supported by this endpoint."),
        ));
    }
    let requested = scope::parse(req.scope.as_deref().unwrap_or(""))?;
    let client = authenticate_client(state, &authority.tenant, &req, basic).await?;
    let allowed = client.client.grant_type_list()?;
    if !allowed.iter().any(|g| g == &grant_type) {
        return Err(OAuthError::unauthorized_client(format!(
            "The client is not allowed to use the {grant_type} grant."
        )));
    }
    let mut issued = match grant_type.as_str() {
        GRANT_PASSWORD => password_grant(state, authority, &client, req, requested).await?,
        GRANT_CLIENT_CREDENTIALS => {
            client_credentials_grant(state, authority, &client, requested).await?
        }
        GRANT_REFRESH_TOKEN => {
            let wants_client_info = req.client_info.as_deref() == Some("1");
            let mut issued = refresh_token_grant(state, authority, &client, req, requested).await?;
            if !wants_client_info {
                issued.response.client_info = None;
            }
            return Ok(issued);
        }
        GRANT_AUTHORIZATION_CODE => {
            authorization_code::grant(state, authority, &client, req).await?
        }
        GRANT_TOKEN_EXCHANGE => {
            super::exchange::grant(state, authority, &client, req, requested).await?
        }
        _ => on_behalf_of_grant(state, authority, &client, req, requested).await?,
    };
    if issued.claims.idtyp.as_deref() == Some("app") {
        issued.response.client_info = None;
    }
    Ok(issued)
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
                Reason::MalformedRequest,
                "Use client_secret_basic or client_secret_post, not both.",
            ));
        }
        (Some(b), None) => {
            if req.client_id.as_ref().is_some_and(|id| id != &b.client_id) {
                return Err(OAuthError::invalid_request(
                    Reason::MalformedRequest,
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
    let client = state
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
        (Some(hash), Some(secret)) => {
            if !secrets::matches_hash(&secret, hash) {
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

/// The audience a user token is for: the requested resource, else the client itself.
pub(crate) async fn resolve_audience(
    state: &AppState,
    tenant_id: &str,
    client: &Client,
    requested: &RequestedScope,
) -> Result<String, OAuthError> {
    let Some(resource) = &requested.resource else {
        return Ok(client.client_id.clone());
    };
    if resource == &client.client_id {
        return Ok(resource.clone());
    }
    let audiences = state.audiences(tenant_id).await?;
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
    tenant_id: &str,
    email: &str,
    password: SecretString,
) -> Result<UserProfile, OAuthError> {
    let tid = tenant_id.to_owned();
    let lookup = email.to_owned();
    let user = state
        .db(move |c| db::users::find_by_email(c, &tid, &lookup))
        .await?;
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    let check = state.hasher.verify(password, stored.clone()).await?;
    let (user, upgrade) = match (user, check) {
        (Some(user), PasswordCheck::Valid { upgrade }) => (user, upgrade),
        _ => {
            return Err(OAuthError::invalid_grant(
                Reason::InvalidCredentials,
                BAD_CREDENTIALS,
            ));
        }
    };
    if user.is_disabled() {
        return Err(OAuthError::invalid_grant(
            Reason::UserDisabled,
            "The user account is disabled.",
        ));
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
    authority: &Authority,
    client: &AuthenticatedClient,
    req: TokenRequest,
    requested: RequestedScope,
) -> Result<Issued, OAuthError> {
    if matches!(authority.alias, Some("common" | "consumers")) {
        return Err(OAuthError::invalid_request(
            Reason::TenantNotFound,
            "The password grant needs a tenant-specific authority, not /common or /consumers.",
        ));
    }
    let username = required(req.username, "username")?;
    let password = required(req.password, "password")?;
    let requested = if requested.tokens.is_empty() {
        scope::parse("openid profile")?
    } else {
        requested
    };
    let audience =
        resolve_audience(state, &authority.tenant.id, &client.client, &requested).await?;
    let profile = authenticate_user(
        state,
        &authority.tenant.id,
        &username,
        SecretString::from(password),
    )
    .await?;
    let client_info = req.client_info.as_deref() == Some("1");
    issue_user_tokens(
        state,
        authority,
        client,
        audience,
        &profile,
        requested,
        client_info,
    )
    .await
}

async fn client_credentials_grant(
    state: &AppState,
    authority: &Authority,
    client: &AuthenticatedClient,
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
    let audience =
        resolve_audience(state, &authority.tenant.id, &client.client, &requested).await?;
    let now = state.clock.now();
    let lifetime = state.settings.access_token_lifetime;
    let b2c = authority.is_b2c();
    let client_id = &client.client.client_id;
    let claims = AccessTokenClaims {
        aud: audience,
        iss: authority.issuer(),
        iat: now,
        nbf: now,
        exp: now + lifetime,
        sub: client_id.clone(),
        oid: client_id.clone(),
        azp: client_id.clone(),
        ver: if b2c { "1.0" } else { "2.0" }.into(),
        jti: opaque_id(),
        tid: Some(authority.tenant.id.clone()),
        azpacr: (!b2c).then(|| "1".into()),
        uti: (!b2c).then(opaque_id),
        aio: (!b2c).then(opaque_id),
        rh: (!b2c).then(opaque_id),
        idtyp: Some("app".into()),
        tfp: authority.policy().map(str::to_owned),
        roles: client.client.app_role_list()?,
        ..Default::default()
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
            client_info: None,
        },
        claims,
    })
}

/// Where a user's refresh token comes from, if the scope asks for one.
pub(crate) enum RefreshPlan {
    /// A new family (password, on-behalf-of).
    NewFamily,
    /// A family fixed in advance (an authorization code knows its family, so that a
    /// reused code can revoke what it issued).
    Family(String),
    /// Already stored with the redemption of its predecessor (refresh grant).
    Stored(Option<String>),
}

enum RefreshCheck {
    Valid(Box<RefreshToken>),
    Rejected(Reason, &'static str),
}

enum RefreshOutcome {
    Redeemed(Box<UserProfile>),
    Rejected(Reason, &'static str),
}

/// A fresh refresh token: the value to hand out, and the row that remembers its hash.
fn new_refresh_token(
    state: &AppState,
    authority: &Authority,
    client_id: &str,
    user_id: &str,
    scope: &RequestedScope,
    family_id: String,
    auth_time: i64,
) -> (String, RefreshToken) {
    let now = state.clock.now();
    let plain = secrets::generate();
    let row = RefreshToken {
        id: uuid::Uuid::new_v4().to_string(),
        token_hash: secrets::sha256_hex(&plain),
        family_id,
        tenant_id: authority.tenant.id.clone(),
        user_id: user_id.to_owned(),
        client_id: client_id.to_owned(),
        scope: scope.as_string(),
        created_at: now,
        expires_at: now + state.settings.refresh_token_lifetime,
        used_at: None,
        revoked_at: None,
        policy: authority.policy().map(str::to_owned),
        auth_time: Some(auth_time),
    };
    (plain, row)
}

/// RFC 6749 §6 with rotation: the presented token is checked, the new scope and
/// audience decided, and only then is it spent — in the same transaction that stores
/// its successor, so a concurrent replay can never leave a live token behind.
async fn refresh_token_grant(
    state: &AppState,
    authority: &Authority,
    client: &AuthenticatedClient,
    req: TokenRequest,
    requested: RequestedScope,
) -> Result<Issued, OAuthError> {
    let presented = required(req.refresh_token, "refresh_token")?;
    let hash = secrets::sha256_hex(&presented);
    let client_id = client.client.client_id.clone();
    let tenant_id = authority.tenant.id.clone();
    let policy = authority.policy().map(str::to_owned);
    let now = state.clock.now();
    let check = state
        .db(move |c| {
            let Some(token) = refresh_tokens::find_by_hash(c, &hash)? else {
                return Ok(RefreshCheck::Rejected(
                    Reason::InvalidGrant,
                    "The refresh token is invalid.",
                ));
            };
            if token.client_id != client_id || token.tenant_id != tenant_id {
                return Ok(RefreshCheck::Rejected(
                    Reason::InvalidGrant,
                    "The refresh token was issued to another client.",
                ));
            }
            if token.policy != policy {
                return Ok(RefreshCheck::Rejected(
                    Reason::InvalidGrant,
                    "The refresh token was issued under another user flow.",
                ));
            }
            if token.revoked_at.is_some() {
                return Ok(RefreshCheck::Rejected(
                    Reason::RevokedGrant,
                    "The refresh token has been revoked.",
                ));
            }
            if token.expires_at <= now {
                return Ok(RefreshCheck::Rejected(
                    Reason::ExpiredGrant,
                    "The refresh token has expired.",
                ));
            }
            // A second use means the token leaked or was replayed: end the family.
            if token.used_at.is_some() {
                refresh_tokens::revoke_family(c, &token.family_id, now)?;
                tracing::warn!(family = %token.family_id, "refresh token reused; family revoked");
                return Ok(RefreshCheck::Rejected(
                    Reason::RevokedGrant,
                    "The refresh token was already used; its sessions are revoked.",
                ));
            }
            Ok(RefreshCheck::Valid(Box::new(token)))
        })
        .await?;
    let token = match check {
        RefreshCheck::Valid(token) => *token,
        RefreshCheck::Rejected(reason, why) => return Err(OAuthError::invalid_grant(reason, why)),
    };
    // Everything that can refuse the request is decided before the token is spent.
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
    let audience = resolve_audience(state, &authority.tenant.id, &client.client, &scope).await?;
    let auth_time = token.auth_time.unwrap_or(token.created_at);
    let successor = scope.offline_access.then(|| {
        new_refresh_token(
            state,
            authority,
            &token.client_id,
            &token.user_id,
            &scope,
            token.family_id.clone(),
            auth_time,
        )
    });
    let (plain, successor_row) = match successor {
        Some((plain, row)) => (Some(plain), Some(row)),
        None => (None, None),
    };
    let now = state.clock.now();
    let outcome = state
        .db(move |c| {
            use diesel::Connection;
            c.transaction(|c| {
                // The spend is the transaction's first statement: a write, so SQLite
                // takes its lock up front and concurrent redemptions queue.
                if !refresh_tokens::claim(c, &token.id, now)? {
                    refresh_tokens::revoke_family(c, &token.family_id, now)?;
                    return Ok(RefreshOutcome::Rejected(
                        Reason::RevokedGrant,
                        "The refresh token was already used; its sessions are revoked.",
                    ));
                }
                let user = match db::users::find(c, &token.user_id)? {
                    Some(u) if !u.is_disabled() => u,
                    _ => {
                        refresh_tokens::revoke_family(c, &token.family_id, now)?;
                        return Ok(RefreshOutcome::Rejected(
                            Reason::RevokedGrant,
                            "The user no longer exists or is disabled.",
                        ));
                    }
                };
                if let Some(row) = &successor_row {
                    refresh_tokens::insert(c, row)?;
                }
                Ok(RefreshOutcome::Redeemed(Box::new(load_profile(c, user)?)))
            })
        })
        .await?;
    let profile = match outcome {
        RefreshOutcome::Redeemed(profile) => *profile,
        RefreshOutcome::Rejected(reason, why) => {
            return Err(OAuthError::invalid_grant(reason, why));
        }
    };
    let context = IdTokenContext {
        auth_time: Some(auth_time),
        ..Default::default()
    };
    issue_user_tokens_with(
        state,
        authority,
        client,
        audience,
        &profile,
        scope,
        RefreshPlan::Stored(plain),
        true,
        &context,
    )
    .await
}

/// Entra's on-behalf-of flow: a middle-tier API trades the user's token it received
/// (its own audience) for a token to a downstream API, for the same user.
async fn on_behalf_of_grant(
    state: &AppState,
    authority: &Authority,
    client: &AuthenticatedClient,
    req: TokenRequest,
    requested: RequestedScope,
) -> Result<Issued, OAuthError> {
    if client.method != ClientAuthMethod::Secret {
        return Err(OAuthError::unauthorized_client(
            "Only confidential clients may use the on-behalf-of flow.",
        ));
    }
    match req.requested_token_use.as_deref() {
        Some("on_behalf_of") => {}
        None | Some("") => return Err(OAuthError::missing("requested_token_use")),
        Some(other) => {
            return Err(OAuthError::invalid_request(
                Reason::MalformedRequest,
                format!("requested_token_use {other:?} is not supported; use on_behalf_of."),
            ));
        }
    }
    let assertion = required(req.assertion, "assertion")?;
    let verified = verify::verify_access_token(state, &authority.base, &assertion)
        .await
        .map_err(|e| match e {
            verify::VerifyError::Invalid(msg) => OAuthError::invalid_grant(
                Reason::InvalidAssertion,
                format!("The assertion is not valid: {msg}"),
            ),
            verify::VerifyError::Unavailable(msg) => {
                tracing::error!(error = %msg, "assertion check unavailable");
                OAuthError::unavailable("The assertion cannot be checked right now; try again.")
            }
        })?;
    let incoming = verified.claims;
    if verified.tenant.id != authority.tenant.id {
        return Err(OAuthError::invalid_grant(
            Reason::InvalidAssertion,
            "The assertion was issued for another tenant.",
        ));
    }
    if scope::resource_client_id(&incoming.aud) != client.client.client_id {
        return Err(OAuthError::invalid_grant(
            Reason::AssertionAudience,
            "Assertion audience does not match the Client app presenting the assertion.",
        ));
    }
    if incoming.idtyp.as_deref() == Some("app") {
        return Err(OAuthError::invalid_grant(
            Reason::InvalidAssertion,
            "The assertion is an app-only token; on-behalf-of needs a user's token.",
        ));
    }
    if requested.tokens.is_empty() {
        return Err(OAuthError::missing("scope"));
    }
    let oid = incoming.oid.clone();
    let profile = state
        .db(move |c| match db::users::find(c, &oid)? {
            Some(u) if !u.is_disabled() => Ok(Some(load_profile(c, u)?)),
            _ => Ok(None),
        })
        .await?
        .ok_or_else(|| {
            OAuthError::invalid_grant(
                Reason::InvalidAssertion,
                "The user of the assertion no longer exists or is disabled.",
            )
        })?;
    let audience =
        resolve_audience(state, &authority.tenant.id, &client.client, &requested).await?;
    let client_info = req.client_info.as_deref() == Some("1");
    issue_user_tokens(
        state,
        authority,
        client,
        audience,
        &profile,
        requested,
        client_info,
    )
    .await
}

pub(crate) fn sign<C: Serialize>(state: &AppState, claims: &C) -> Result<String, OAuthError> {
    let ring = state.key_ring();
    jwt::sign(ring.active(), claims).map_err(|e| {
        tracing::error!(error = %e, "signing failed");
        OAuthError::new(
            ErrorCode::ServerError,
            Reason::Internal,
            "The token could not be signed.",
        )
    })
}

/// 16 random bytes, base64url: `uti`, `jti`, `aio`, `rh`.
fn opaque_id() -> String {
    secrets::generate()[..22].to_owned()
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

/// Builds the access token (and ID and refresh tokens as the scope asks) for a user.
#[allow(clippy::too_many_arguments)]
async fn issue_user_tokens(
    state: &AppState,
    authority: &Authority,
    client: &AuthenticatedClient,
    audience: String,
    profile: &UserProfile,
    scope: RequestedScope,
    with_client_info: bool,
) -> Result<Issued, OAuthError> {
    issue_user_tokens_with(
        state,
        authority,
        client,
        audience,
        profile,
        scope,
        RefreshPlan::NewFamily,
        with_client_info,
        &IdTokenContext::default(),
    )
    .await
}

/// `issue_user_tokens` with what an interactive sign-in adds to the ID token.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn issue_user_tokens_with(
    state: &AppState,
    authority: &Authority,
    client: &AuthenticatedClient,
    audience: String,
    profile: &UserProfile,
    scope: RequestedScope,
    refresh: RefreshPlan,
    with_client_info: bool,
    context: &IdTokenContext,
) -> Result<Issued, OAuthError> {
    let user = &profile.user;
    let now = state.clock.now();
    let lifetime = state.settings.access_token_lifetime;
    let b2c = authority.is_b2c();
    let issuer = authority.issuer();
    let scp = if scope.permissions.is_empty() {
        scope.oidc_tokens().join(" ")
    } else {
        scope.permissions.join(" ")
    };
    let tfp = authority.policy().map(str::to_owned);
    let claims = if b2c {
        AccessTokenClaims {
            aud: audience,
            iss: issuer.clone(),
            iat: now,
            nbf: now,
            exp: now + lifetime,
            sub: user.id.clone(),
            oid: user.id.clone(),
            azp: client.client.client_id.clone(),
            ver: "1.0".into(),
            jti: opaque_id(),
            auth_time: Some(now),
            tfp: tfp.clone(),
            emails: vec![user.email.clone()],
            name: Some(user.display_name.clone()),
            given_name: user.given_name.clone(),
            family_name: user.family_name.clone(),
            scp: (!scp.is_empty()).then_some(scp),
            ..Default::default()
        }
    } else {
        AccessTokenClaims {
            aud: audience,
            iss: issuer.clone(),
            iat: now,
            nbf: now,
            exp: now + lifetime,
            sub: user.id.clone(),
            oid: user.id.clone(),
            azp: client.client.client_id.clone(),
            ver: "2.0".into(),
            jti: opaque_id(),
            tid: Some(authority.tenant.id.clone()),
            azpacr: Some(
                match client.method {
                    ClientAuthMethod::None => "0",
                    ClientAuthMethod::Secret => "1",
                }
                .into(),
            ),
            uti: Some(opaque_id()),
            aio: Some(opaque_id()),
            rh: Some(opaque_id()),
            email: Some(user.email.clone()),
            name: Some(user.display_name.clone()),
            preferred_username: Some(user.email.clone()),
            given_name: user.given_name.clone(),
            family_name: user.family_name.clone(),
            scp: (!scp.is_empty()).then_some(scp),
            roles: profile.roles.clone(),
            groups: profile.groups.clone(),
            ..Default::default()
        }
    };
    let access_token = sign(state, &claims)?;
    let id_token = if scope.openid {
        let mut id = IdTokenClaims {
            aud: client.client.client_id.clone(),
            iss: issuer,
            iat: now,
            nbf: now,
            exp: now + lifetime,
            auth_time: context.auth_time.unwrap_or(now),
            sub: user.id.clone(),
            oid: user.id.clone(),
            name: user.display_name.clone(),
            given_name: user.given_name.clone(),
            family_name: user.family_name.clone(),
            nonce: context.nonce.clone(),
            ..Default::default()
        };
        if b2c {
            id.ver = "1.0".into();
            id.tfp = tfp;
            id.emails = vec![user.email.clone()];
        } else {
            id.ver = "2.0".into();
            id.tid = Some(authority.tenant.id.clone());
            id.uti = Some(opaque_id());
            id.email = Some(user.email.clone());
            id.preferred_username = Some(user.email.clone());
            id.roles = profile.roles.clone();
            id.groups = profile.groups.clone();
        }
        Some(sign(state, &context.extend(id, &access_token))?)
    } else {
        None
    };
    let refresh_lifetime = state.settings.refresh_token_lifetime;
    let auth_time = context.auth_time.unwrap_or(now);
    let refresh_token = match refresh {
        RefreshPlan::Stored(plain) => plain,
        _ if !scope.offline_access => None,
        RefreshPlan::NewFamily | RefreshPlan::Family(_) => {
            let family = match refresh {
                RefreshPlan::Family(f) => f,
                _ => uuid::Uuid::new_v4().to_string(),
            };
            let (plain, row) = new_refresh_token(
                state,
                authority,
                &client.client.client_id,
                &user.id,
                &scope,
                family,
                auth_time,
            );
            state.db(move |c| refresh_tokens::insert(c, &row)).await?;
            Some(plain)
        }
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
            client_info: with_client_info.then(|| client_info(authority, &user.id)),
        },
        claims,
    })
}

/// `/auth/login`: email and password for a token to the tenant's default client (or
/// the one named).
pub async fn login(
    state: &AppState,
    authority: &Authority,
    email: &str,
    password: SecretString,
    client_id: Option<String>,
    client_secret: Option<String>,
) -> Result<Issued, OAuthError> {
    let tenant = &authority.tenant;
    // The tenant's default client is the first-party audience of /auth/login; any
    // other confidential client must prove itself as it would at /auth/token.
    let named = client_id.is_some();
    let client_id = client_id
        .or_else(|| tenant.default_client_id.clone())
        .ok_or_else(|| {
            OAuthError::invalid_request(
                Reason::MissingClientId,
                "The tenant has no default client; pass client_id in the request.",
            )
        })?;
    let client = state
        .tenant_client(&tenant.id, &client_id)
        .await?
        .ok_or_else(|| {
            OAuthError::invalid_request(
                Reason::UnknownClient,
                format!("The client {client_id:?} is not registered in this tenant."),
            )
        })?;
    if !client
        .grant_type_list()?
        .iter()
        .any(|g| g == GRANT_PASSWORD)
    {
        return Err(OAuthError::unauthorized_client(
            "The client is not allowed to sign users in with a password.",
        ));
    }
    let method = match (&client.secret_hash, client_secret) {
        (Some(hash), Some(secret)) if secrets::matches_hash(&secret, hash) => {
            ClientAuthMethod::Secret
        }
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
    let profile = authenticate_user(state, &tenant.id, email, password).await?;
    let client = AuthenticatedClient { client, method };
    let audience = client.client.client_id.clone();
    issue_user_tokens(
        state,
        authority,
        &client,
        audience,
        &profile,
        scope::parse("profile")?,
        false,
    )
    .await
}
