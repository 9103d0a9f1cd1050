//! The authorization code grant (RFC 6749 §4.1) with PKCE (RFC 7636): validating the
//! authorization request and issuing codes. Codes are redeemed by
//! `grants::authorization_code`.

use serde::{Deserialize, Serialize};

use super::grant_type::GrantType;
use super::grants::context::resolve_audience;
use super::scope::{self, RequestedScope};
use super::{OAuthError, Reason, pkce};
use crate::crypto::secrets;
use crate::db::auth_codes::{self, AuthorizationCode};
use crate::db::clients::Client;
use crate::db::sessions::SsoSession;
use crate::directory::service::TenantInfo;
use crate::state::AppState;

/// The parameters of an authorization request (query or form), as sent. They travel
/// through the login form as hidden fields and are validated again on every step.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct AuthorizationParams {
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub response_type: Option<String>,
    pub response_mode: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Option<String>,
    pub login_hint: Option<String>,
    pub max_age: Option<String>,
    /// Entra's `domain_hint`: a domain of an upstream provider goes straight to it.
    pub domain_hint: Option<String>,
    /// B2C-style `idp` hint: an upstream provider's name goes straight to it.
    pub idp: Option<String>,
}

impl AuthorizationParams {
    /// Non-empty parameters as name/value pairs, for hidden form fields.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let fields = [
            ("client_id", &self.client_id),
            ("redirect_uri", &self.redirect_uri),
            ("response_type", &self.response_type),
            ("response_mode", &self.response_mode),
            ("scope", &self.scope),
            ("state", &self.state),
            ("nonce", &self.nonce),
            ("code_challenge", &self.code_challenge),
            ("code_challenge_method", &self.code_challenge_method),
            ("prompt", &self.prompt),
            ("login_hint", &self.login_hint),
            ("max_age", &self.max_age),
            ("domain_hint", &self.domain_hint),
            ("idp", &self.idp),
        ];
        fields
            .into_iter()
            .filter_map(|(k, v)| v.as_ref().filter(|v| !v.is_empty()).map(|v| (k, v.clone())))
            .collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMode {
    Query,
    Fragment,
    FormPost,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prompt {
    /// Use the SSO session if there is one, else ask.
    Default,
    /// Ask for the password even with a session.
    Login,
    /// Never show a page: a session or an error.
    None,
}

/// Where and how an answer (code or error) goes back to the client.
#[derive(Debug, Clone)]
pub struct ReplyTo {
    pub redirect_uri: String,
    pub response_mode: ResponseMode,
    pub state: Option<String>,
    pub issuer: String,
}

/// A validated authorization request.
#[derive(Debug, Clone)]
pub struct AuthorizationRequest {
    pub client: Client,
    pub reply: ReplyTo,
    pub scope: RequestedScope,
    pub nonce: Option<String>,
    pub code_challenge: Option<(String, String)>,
    pub prompt: Prompt,
    pub login_hint: Option<String>,
    pub max_age: Option<i64>,
    pub params: AuthorizationParams,
}

/// Why an authorization request failed, and so how the user learns of it.
#[derive(Debug)]
pub enum AuthorizeError {
    /// The client or redirect URI cannot be trusted: an error page, never a redirect
    /// (RFC 6749 §4.1.2.1, no open redirector).
    Page(OAuthError),
    /// An error for the client, sent to its registered redirect URI.
    Redirect {
        reply: ReplyTo,
        error: &'static str,
        description: String,
    },
}

impl From<crate::db::DbError> for AuthorizeError {
    fn from(e: crate::db::DbError) -> Self {
        AuthorizeError::Page(e.into())
    }
}

fn present(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// Checks an authorization request against the tenant's registered clients.
pub async fn validate(
    state: &AppState,
    tenant: &TenantInfo,
    base: &str,
    params: AuthorizationParams,
) -> Result<AuthorizationRequest, AuthorizeError> {
    let page = |msg: String| {
        AuthorizeError::Page(OAuthError::invalid_request(Reason::MalformedRequest, msg))
    };
    let Some(client_id) = present(&params.client_id).map(str::to_owned) else {
        return Err(page("The request has no client_id.".into()));
    };
    let client = state
        .directory
        .tenant_client(&tenant.id, &client_id)
        .await?
        .ok_or_else(|| {
            page(format!(
                "The application {client_id:?} is not registered in this tenant."
            ))
        })?;
    let Some(redirect_uri) = present(&params.redirect_uri).map(str::to_owned) else {
        return Err(page("The request has no redirect_uri.".into()));
    };
    // Exact string match, no normalisation (OAuth 2.0 Security BCP §4.1.3).
    if !client.redirect_uri_list()?.contains(&redirect_uri) {
        return Err(page(format!(
            "The redirect URI {redirect_uri:?} is not registered for the application {:?}.",
            client.name
        )));
    }
    let mut reply = ReplyTo {
        redirect_uri,
        response_mode: ResponseMode::Query,
        state: params.state.clone().filter(|s| !s.is_empty()),
        issuer: crate::oauth::authority::entra_issuer(base, &tenant.id),
    };
    let fail = |reply: &ReplyTo, error: &'static str, description: String| {
        Err(AuthorizeError::Redirect {
            reply: reply.clone(),
            error,
            description,
        })
    };
    reply.response_mode = match present(&params.response_mode) {
        None | Some("query") => ResponseMode::Query,
        Some("fragment") => ResponseMode::Fragment,
        Some("form_post") => ResponseMode::FormPost,
        Some(other) => {
            return fail(
                &reply,
                "invalid_request",
                format!("The response_mode {other:?} is not supported."),
            );
        }
    };
    match present(&params.response_type) {
        Some("code") => {}
        None => {
            return fail(
                &reply,
                "invalid_request",
                "response_type is required.".into(),
            );
        }
        Some(other) => {
            return fail(
                &reply,
                "unsupported_response_type",
                format!("The response_type {other:?} is not supported; use \"code\"."),
            );
        }
    }
    if !client.allows(GrantType::AuthorizationCode) {
        return fail(
            &reply,
            "unauthorized_client",
            "The application may not use the authorization code flow.".into(),
        );
    }
    let Some(raw_scope) = present(&params.scope) else {
        return fail(&reply, "invalid_request", "scope is required.".into());
    };
    let scope = match scope::parse(raw_scope) {
        Ok(s) => s,
        Err(e) => return fail(&reply, "invalid_scope", e.description),
    };
    if let Err(e) = resolve_audience(state, &tenant.id, &client, &scope).await {
        return fail(&reply, "invalid_scope", e.description);
    }
    let code_challenge = match (
        present(&params.code_challenge),
        present(&params.code_challenge_method),
    ) {
        (None, Some(_)) => {
            return fail(
                &reply,
                "invalid_request",
                "code_challenge_method was sent without code_challenge.".into(),
            );
        }
        (None, None) if client.is_public() => {
            return fail(
                &reply,
                "invalid_request",
                "Public clients must use PKCE (code_challenge with code_challenge_method=S256)."
                    .into(),
            );
        }
        (None, None) => None,
        (Some(challenge), method) => {
            // RFC 7636 §4.3: no method means "plain".
            let method = method.unwrap_or("plain");
            let plain_ok = state.settings.pkce_allow_plain && !client.is_public();
            match method {
                "S256" => {}
                "plain" if plain_ok => {}
                "plain" => {
                    return fail(
                        &reply,
                        "invalid_request",
                        "code_challenge_method=plain is not allowed; use S256.".into(),
                    );
                }
                other => {
                    return fail(
                        &reply,
                        "invalid_request",
                        format!("The code_challenge_method {other:?} is not supported."),
                    );
                }
            }
            if !pkce::valid_value(challenge) {
                return fail(
                    &reply,
                    "invalid_request",
                    "code_challenge must be 43 to 128 characters of [A-Za-z0-9-._~].".into(),
                );
            }
            Some((challenge.to_owned(), method.to_owned()))
        }
    };
    let prompt = match present(&params.prompt) {
        None | Some("consent") | Some("select_account") => Prompt::Default,
        Some("login") => Prompt::Login,
        Some("none") => Prompt::None,
        Some(other) => {
            return fail(
                &reply,
                "invalid_request",
                format!("The prompt {other:?} is not supported."),
            );
        }
    };
    let max_age = match present(&params.max_age) {
        None => None,
        Some(v) => match v.parse::<i64>() {
            Ok(n) if n >= 0 => Some(n),
            _ => {
                return fail(
                    &reply,
                    "invalid_request",
                    "max_age must be a number of seconds.".into(),
                );
            }
        },
    };
    Ok(AuthorizationRequest {
        client,
        reply,
        scope,
        nonce: params.nonce.clone().filter(|n| !n.is_empty()),
        code_challenge,
        prompt,
        login_hint: params.login_hint.clone().filter(|h| !h.is_empty()),
        max_age,
        params,
    })
}

impl AuthorizationRequest {
    /// Whether an existing session may answer this request without a password.
    pub fn accepts_session(&self, session: &SsoSession, now: i64) -> bool {
        self.prompt != Prompt::Login && self.max_age.is_none_or(|m| now - session.auth_time <= m)
    }
}

/// Issues a code for a signed-in user; returns the code to send to the client.
pub async fn issue_code(
    state: &AppState,
    request: &AuthorizationRequest,
    session: &SsoSession,
) -> Result<String, OAuthError> {
    let plain = secrets::generate();
    let now = state.clock.now();
    let (code_challenge, code_challenge_method) = request.code_challenge.clone().unzip();
    let row = AuthorizationCode {
        id: crate::crypto::secrets::uuid_v4().to_string(),
        code_hash: secrets::sha256_hex(&plain),
        client_id: request.client.client_id.clone(),
        user_id: session.user_id.clone(),
        session_id: Some(session.id.clone()),
        redirect_uri: request.reply.redirect_uri.clone(),
        scope: request.scope.as_string(),
        nonce: request.nonce.clone(),
        code_challenge,
        code_challenge_method,
        auth_time: session.auth_time,
        created_at: now,
        expires_at: now + state.settings.authorization_code_lifetime,
        used_at: None,
        refresh_family_id: crate::crypto::secrets::uuid_v4().to_string(),
        access_token_jti: None,
    };
    state.db(move |c| auth_codes::insert(c, &row)).await?;
    Ok(plain)
}
