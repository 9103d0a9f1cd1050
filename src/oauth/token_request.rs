//! A token request (RFC 6749 §3.2) as it arrives: form parameters, client
//! credentials from the form or an `Authorization: Basic` header, and the parameters
//! of its one grant, typed per grant.

use secrecy::SecretString;
use serde::Deserialize;

use super::grant_type::GrantType;
use super::{ErrorCode, OAuthError, Reason};

/// The form parameters of a token request. Unknown parameters (MSAL telemetry) are
/// ignored.
#[derive(Debug, Default, Deserialize)]
pub struct TokenForm {
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

/// What a caller presents to say which client it is (RFC 6749 §2.3): form
/// parameters, a Basic header, or both (then they must agree).
#[derive(Debug, Default)]
pub struct ClientCredentials {
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub basic: Option<BasicCredentials>,
}

/// `grant_type=password` (RFC 6749 §4.3.2).
#[derive(Debug)]
pub struct PasswordParams {
    pub username: Option<String>,
    pub password: Option<SecretString>,
}

/// `grant_type=refresh_token` (RFC 6749 §6).
#[derive(Debug)]
pub struct RefreshTokenParams {
    pub refresh_token: Option<String>,
}

/// `grant_type=authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.5).
#[derive(Debug)]
pub struct AuthorizationCodeParams {
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
}

/// Entra's on-behalf-of request (jwt-bearer with `requested_token_use`).
#[derive(Debug)]
pub struct OnBehalfOfParams {
    pub assertion: Option<String>,
    pub requested_token_use: Option<String>,
}

/// RFC 8693 §2.1.
#[derive(Debug)]
pub struct TokenExchangeParams {
    pub subject_token: Option<String>,
    pub subject_token_type: Option<String>,
}

/// The parameters of the request's grant; each grant checks its own.
#[derive(Debug)]
pub enum GrantParams {
    Password(PasswordParams),
    ClientCredentials,
    RefreshToken(RefreshTokenParams),
    AuthorizationCode(AuthorizationCodeParams),
    OnBehalfOf(OnBehalfOfParams),
    TokenExchange(TokenExchangeParams),
}

impl GrantParams {
    pub fn grant_type(&self) -> GrantType {
        match self {
            GrantParams::Password(_) => GrantType::Password,
            GrantParams::ClientCredentials => GrantType::ClientCredentials,
            GrantParams::RefreshToken(_) => GrantType::RefreshToken,
            GrantParams::AuthorizationCode(_) => GrantType::AuthorizationCode,
            GrantParams::OnBehalfOf(_) => GrantType::JwtBearer,
            GrantParams::TokenExchange(_) => GrantType::TokenExchange,
        }
    }
}

/// A token request, parsed once.
#[derive(Debug)]
pub struct TokenRequest {
    pub grant: GrantParams,
    pub credentials: ClientCredentials,
    /// The `scope` parameter as sent; parsed by the dispatcher.
    pub scope: String,
    /// The caller asked for MSAL's `client_info` (`client_info=1`).
    pub client_info: bool,
}

impl TokenRequest {
    /// Reads the form: `grant_type` must be present and one this server knows.
    pub fn parse(form: TokenForm, basic: Option<BasicCredentials>) -> Result<Self, OAuthError> {
        let name = required(form.grant_type, "grant_type")?;
        let grant_type = GrantType::parse(&name).ok_or_else(|| unsupported(&name))?;
        let grant = match grant_type {
            GrantType::Password => GrantParams::Password(PasswordParams {
                username: form.username,
                password: form.password.map(SecretString::from),
            }),
            GrantType::ClientCredentials => GrantParams::ClientCredentials,
            GrantType::RefreshToken => GrantParams::RefreshToken(RefreshTokenParams {
                refresh_token: form.refresh_token,
            }),
            GrantType::AuthorizationCode => {
                GrantParams::AuthorizationCode(AuthorizationCodeParams {
                    code: form.code,
                    redirect_uri: form.redirect_uri,
                    code_verifier: form.code_verifier,
                })
            }
            GrantType::JwtBearer => GrantParams::OnBehalfOf(OnBehalfOfParams {
                assertion: form.assertion,
                requested_token_use: form.requested_token_use,
            }),
            GrantType::TokenExchange => GrantParams::TokenExchange(TokenExchangeParams {
                subject_token: form.subject_token,
                subject_token_type: form.subject_token_type,
            }),
        };
        Ok(TokenRequest {
            grant,
            credentials: ClientCredentials {
                client_id: form.client_id,
                client_secret: form.client_secret,
                basic,
            },
            scope: form.scope.unwrap_or_default(),
            client_info: form.client_info.as_deref() == Some("1"),
        })
    }
}

/// The error for a grant type this endpoint does not serve (Azure's text).
pub fn unsupported(grant_type: &str) -> OAuthError {
    OAuthError::new(
        ErrorCode::UnsupportedGrantType,
        Reason::UnsupportedGrant,
        format!("The grant type {grant_type:?} is not supported by this endpoint."),
    )
}

/// A parameter the request must carry, non-empty.
pub fn required<T: AsRef<str>>(value: Option<T>, name: &str) -> Result<T, OAuthError> {
    match value {
        Some(v) if !v.as_ref().is_empty() => Ok(v),
        _ => Err(OAuthError::missing(name)),
    }
}
