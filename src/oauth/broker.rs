//! Brokered sign-in (issue 14): a user of a local tenant signs in at an upstream
//! identity provider (Entra ID, B2C, any OpenID provider) with the authorization code
//! flow, PKCE S256, `state` and `nonce`; its ID token is verified with the same key
//! cache as trusted issuers' tokens, and the upstream identity is linked to a local
//! user ([`super::broker_link`]).
//!
//! The pending request is a database row found by the SHA-256 of its random `state`
//! (replicas share nothing in memory), bound to the browser by the SHA-256 of a
//! cookie, valid for [`PENDING_LIFETIME`] and taken once. The PKCE verifier and the
//! nonce are derived from `state` under the server key, so neither is stored.

use std::sync::Arc;

use serde_json::Value;

use super::OAuthError;
use super::authorization_code::AuthorizationParams;
use super::external::{self, ExternalIssuer};
use super::session;
use crate::config::UpstreamProvider;
use crate::crypto::secrets;
use crate::db::federation::{self, PendingRequest, Taken};
use crate::db::{self, DbPool};
use crate::federation::provider::{Provider, Providers};
use crate::state::AppState;

/// How long a sign-in sent upstream may take to come back.
pub const PENDING_LIFETIME: i64 = 600;

/// Checks the providers' configuration, builds their HTTP clients, and finds the
/// local tenant each serves; a start fails on any of it.
pub async fn load(
    configs: &[UpstreamProvider],
    pool: &DbPool,
    default_tenant_id: &str,
) -> Result<Providers, String> {
    crate::federation::fetch::install_crypto_provider();
    UpstreamProvider::check_all(configs)?;
    let mut all = Vec::new();
    for config in configs {
        let provider = Provider::from_config(config)?;
        let tenant_id = match &config.tenant {
            None => default_tenant_id.to_owned(),
            Some(name) => {
                let key = name.clone();
                db::run(pool, move |c| db::tenants::find(c, &key))
                    .await
                    .map_err(|e| format!("{}: {e}", config.name))?
                    .ok_or_else(|| format!("{}: the tenant {name:?} does not exist", config.name))?
                    .id
            }
        };
        all.push((tenant_id, Arc::new(provider)));
    }
    Ok(Providers::new(all))
}

/// A failure that goes back to the application as an OAuth error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppError {
    pub error: &'static str,
    pub description: String,
}

fn app_error(error: &'static str, description: String) -> AppError {
    AppError { error, description }
}

fn unreachable(provider: &Provider, reason: &str) -> AppError {
    tracing::warn!(provider = %provider.config.name, "brokered sign-in: {reason}");
    app_error(
        "temporarily_unavailable",
        format!(
            "{} cannot be reached just now; try again later, or sign in another way.",
            provider.config.label()
        ),
    )
}

/// Sends the browser to the provider: the URL of its authorization endpoint with
/// this sign-in's `state`, `nonce` and PKCE challenge, after storing the request.
pub async fn begin(
    state: &AppState,
    provider: &Provider,
    tenant_id: &str,
    params: &AuthorizationParams,
    callback: &str,
    browser: &str,
) -> Result<String, AppError> {
    let now = state.clock.now();
    let metadata = provider
        .metadata(now)
        .await
        .map_err(|reason| unreachable(provider, &reason))?;
    let server = |e: OAuthError| app_error("server_error", e.description);
    let upstream_state = secrets::generate();
    let verifier = session::derived(state, "broker-pkce", &upstream_state)
        .await
        .map_err(server)?;
    let nonce = session::derived(state, "broker-nonce", &upstream_state)
        .await
        .map_err(server)?;
    let row = PendingRequest {
        state_hash: secrets::sha256_hex(&upstream_state),
        provider: provider.config.name.clone(),
        tenant_id: tenant_id.to_owned(),
        browser_hash: secrets::sha256_hex(browser),
        params: serde_json::to_string(params).unwrap_or_default(),
        created_at: now,
        expires_at: now + PENDING_LIFETIME,
        used_at: None,
    };
    state
        .db(move |c| federation::insert_request(c, &row))
        .await
        .map_err(|e| server(e.into()))?;
    let mut url = metadata.authorization_endpoint;
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("client_id", &provider.config.client_id)
            .append_pair("response_type", "code")
            .append_pair("redirect_uri", callback)
            .append_pair("response_mode", "query")
            .append_pair("scope", &provider.config.scope())
            .append_pair("state", &upstream_state)
            .append_pair("nonce", &nonce)
            .append_pair("code_challenge", &super::pkce::s256(&verifier))
            .append_pair("code_challenge_method", "S256");
        if let Some(hint) = params.login_hint.as_deref().filter(|h| !h.is_empty()) {
            q.append_pair("login_hint", hint);
        }
        // The app asked for a fresh sign-in: so does the upstream. A `max_age` goes
        // along too: the local session starts now, so the upstream must not answer
        // from a sign-in older than the app allows.
        if params.prompt.as_deref() == Some("login") {
            q.append_pair("prompt", "login");
        }
        if let Some(max_age) = params
            .max_age
            .as_deref()
            .filter(|m| m.parse::<u64>().is_ok())
        {
            q.append_pair("max_age", max_age);
        }
    }
    tracing::debug!(provider = %provider.config.name, "brokered sign-in sent upstream");
    Ok(url.to_string())
}

/// Why the callback has no request to continue: shown on a 400 page.
pub const STALE: &str = "This sign-in through another identity provider has expired or was already completed. Go back to the application and sign in again.";
pub const OTHER_BROWSER: &str = "This sign-in through another identity provider was started in another browser. Go back to the application and sign in again.";

/// The pending request a callback's `state` names, taken once, if this browser
/// started it; else the message of the page to show.
pub async fn take(
    state: &AppState,
    upstream_state: Option<&str>,
    browser: Option<&str>,
) -> Result<PendingRequest, &'static str> {
    let Some(upstream_state) = upstream_state.filter(|s| !s.is_empty()) else {
        return Err(STALE);
    };
    let hash = secrets::sha256_hex(upstream_state);
    let now = state.clock.now();
    let browser = browser.unwrap_or_default().to_owned();
    let taken = state
        .db(move |c| {
            federation::take_request(c, &hash, now, |row| {
                !browser.is_empty() && secrets::matches_hash(&browser, &row.browser_hash)
            })
        })
        .await
        .map_err(|_| "The sign-in cannot continue just now; try again.")?;
    taken.map_err(|t: Taken| {
        tracing::info!(reason = ?t, "brokered sign-in callback without a live request");
        match t {
            Taken::OtherBrowser => OTHER_BROWSER,
            _ => STALE,
        }
    })
}

/// What the provider sent back to the callback.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// Errors of RFC 6749 §4.1.2.1 and OIDC Core §3.1.2.6 an upstream may answer, passed
/// on as they are; anything else becomes `server_error`.
const PASSED_ON: [&str; 9] = [
    "access_denied",
    "invalid_request",
    "unauthorized_client",
    "invalid_scope",
    "server_error",
    "temporarily_unavailable",
    "login_required",
    "interaction_required",
    "consent_required",
];

/// The provider's answer turned into the verified claims of its ID token: its error
/// passed on, else the code redeemed (with the PKCE verifier, and the secret as
/// `client_secret_post`) and the ID token checked (signature, `iss`, `aud`, `exp`,
/// `nbf`, `iat`, `nonce`).
pub async fn redeem(
    state: &AppState,
    provider: &Provider,
    callback: &Callback,
    upstream_state: &str,
    callback_url: &str,
) -> Result<Value, AppError> {
    let label = provider.config.label();
    if let Some(error) = callback.error.as_deref() {
        let code = PASSED_ON
            .iter()
            .find(|e| **e == error)
            .copied()
            .unwrap_or("server_error");
        let said = callback.error_description.as_deref().unwrap_or_default();
        let said: String = said.chars().take(500).collect();
        return Err(app_error(code, format!("{label} answered {error}: {said}")));
    }
    let Some(code) = callback.code.as_deref().filter(|c| !c.is_empty()) else {
        return Err(app_error(
            "server_error",
            format!("{label} answered without a code."),
        ));
    };
    let now = state.clock.now();
    let metadata = provider
        .metadata(now)
        .await
        .map_err(|reason| unreachable(provider, &reason))?;
    let server = |e: OAuthError| app_error("server_error", e.description);
    let verifier = session::derived(state, "broker-pkce", upstream_state)
        .await
        .map_err(server)?;
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", callback_url),
        ("client_id", provider.config.client_id.as_str()),
        ("code_verifier", verifier.as_str()),
    ];
    if let Some(secret) = provider.config.client_secret.as_deref() {
        form.push(("client_secret", secret));
    }
    let (status, body) =
        crate::federation::fetch::post_form(provider.client(), &metadata.token_endpoint, &form)
            .await
            .map_err(|e| unreachable(provider, &e.to_string()))?;
    if !status.is_success() {
        let error = body["error"].as_str().unwrap_or("?");
        tracing::warn!(provider = %provider.config.name, %status, error, "the upstream refused the code");
        return Err(app_error(
            "server_error",
            format!("{label} refused to redeem the sign-in's code ({error})."),
        ));
    }
    let Some(id_token) = body["id_token"].as_str() else {
        return Err(app_error(
            "server_error",
            format!("{label} answered without an ID token."),
        ));
    };
    let nonce = session::derived(state, "broker-nonce", upstream_state)
        .await
        .map_err(server)?;
    verify_id_token(state, provider, id_token, &nonce, now).await
}

async fn verify_id_token(
    state: &AppState,
    provider: &Provider,
    id_token: &str,
    nonce: &str,
    now: i64,
) -> Result<Value, AppError> {
    let label = provider.config.label();
    let refused = |why: String| {
        tracing::warn!(provider = %provider.config.name, "an upstream ID token was refused: {why}");
        app_error(
            "access_denied",
            format!("{label}'s answer was refused: {why}"),
        )
    };
    let Some((config, keys)) = provider.keys() else {
        return Err(refused("its keys are unknown.".into()));
    };
    let issuer = ExternalIssuer { config, keys };
    let skew = state.settings.clock_skew_seconds;
    let claims = external::verify_token(&issuer, id_token, now, skew)
        .await
        .map_err(|r| refused(r.message("The ID token")))?;
    if claims["nonce"].as_str() != Some(nonce) {
        return Err(refused(
            "The ID token's nonce is not this sign-in's.".into(),
        ));
    }
    match claims["iat"].as_i64() {
        Some(iat) if iat <= now + skew => {}
        Some(_) => return Err(refused("The ID token is issued in the future.".into())),
        None => return Err(refused("The ID token has no iat.".into())),
    }
    if claims["sub"].as_str().is_none_or(str::is_empty) {
        return Err(refused("The ID token has no sub.".into()));
    }
    Ok(claims)
}
