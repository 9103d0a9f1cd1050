//! RFC 6749 §5.2 error codes, each with the reason behind it so the HTTP layer can
//! also write it as Entra (`AADSTSnnnnn`) or B2C (`AADB2Cnnnnn`) would.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    /// RFC 6749 §4.1.2.1: overloaded or a dependency (database) is down.
    TemporarilyUnavailable,
    ServerError,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
            ErrorCode::ServerError => "server_error",
        }
    }
}

/// Why a request failed, finer than the RFC code: decides the Azure error numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    MissingParameter,
    MissingClientId,
    MalformedRequest,
    UnknownClient,
    MissingClientSecret,
    InvalidClientSecret,
    PublicClientWithSecret,
    InvalidCredentials,
    UserDisabled,
    /// Smart lockout: too many wrong passwords in a row.
    AccountLocked,
    /// The right password, but a temporary one: a new one must be chosen first.
    PasswordExpired,
    UnsupportedGrant,
    GrantNotAllowed,
    InvalidScope,
    /// The scope names a resource that is no application of the tenant.
    ResourceNotFound,
    InvalidGrant,
    ExpiredGrant,
    RevokedGrant,
    InvalidAssertion,
    AssertionAudience,
    TenantNotFound,
    PolicyNotFound,
    Unavailable,
    /// Too many requests from one client address (HTTP 429).
    Throttled,
    /// A cross-origin token request for what was not issued to a single-page app.
    CrossOriginNotSpa,
    /// A single-page app's code or refresh token redeemed by a server (no `Origin`).
    SpaNotCrossOrigin,
    Internal,
}

impl Reason {
    /// The reason as the audit log writes it.
    pub fn audit_name(self) -> &'static str {
        match self {
            Reason::MissingParameter => "missing_parameter",
            Reason::MissingClientId => "missing_client_id",
            Reason::MalformedRequest => "malformed_request",
            Reason::UnknownClient => "unknown_client",
            Reason::MissingClientSecret => "missing_client_secret",
            Reason::InvalidClientSecret => "invalid_client_secret",
            Reason::PublicClientWithSecret => "public_client_with_secret",
            Reason::InvalidCredentials => "invalid_credentials",
            Reason::UserDisabled => "disabled",
            Reason::AccountLocked => "locked",
            Reason::PasswordExpired => "password_expired",
            Reason::UnsupportedGrant => "unsupported_grant",
            Reason::GrantNotAllowed => "grant_not_allowed",
            Reason::InvalidScope => "invalid_scope",
            Reason::InvalidGrant => "invalid_grant",
            Reason::ExpiredGrant => "expired_grant",
            Reason::RevokedGrant => "revoked_grant",
            Reason::InvalidAssertion => "invalid_assertion",
            Reason::AssertionAudience => "assertion_audience",
            Reason::TenantNotFound => "tenant_not_found",
            Reason::PolicyNotFound => "policy_not_found",
            Reason::Unavailable => "unavailable",
            Reason::Throttled => "throttled",
            Reason::CrossOriginNotSpa => "cross_origin_not_spa",
            Reason::SpaNotCrossOrigin => "spa_not_cross_origin",
            Reason::ResourceNotFound => "resource_not_found",
            Reason::Internal => "internal",
        }
    }

    /// The `error` Entra writes when it differs from the RFC 6749 code.
    pub fn entra_error(self) -> Option<&'static str> {
        match self {
            Reason::ResourceNotFound => Some("invalid_resource"),
            _ => None,
        }
    }

    /// The `AADSTS` number Entra ID answers this with.
    pub fn entra_code(self) -> u32 {
        match self {
            Reason::MissingParameter | Reason::MissingClientId => 900_144,
            Reason::MalformedRequest | Reason::GrantNotAllowed | Reason::InvalidGrant => 9_002_313,
            Reason::UnknownClient => 700_016,
            Reason::MissingClientSecret => 7_000_218,
            Reason::InvalidClientSecret => 7_000_215,
            Reason::PublicClientWithSecret => 700_025,
            Reason::InvalidCredentials => 50_126,
            Reason::UserDisabled => 50_057,
            Reason::AccountLocked => 50_053,
            // InvalidPasswordExpiredPassword: "The password is expired."
            Reason::PasswordExpired => 50_055,
            Reason::UnsupportedGrant => 70_003,
            Reason::InvalidScope => 70_011,
            Reason::ResourceNotFound => 500_011,
            Reason::ExpiredGrant => 70_008,
            Reason::RevokedGrant => 50_173,
            Reason::InvalidAssertion => 50_013,
            Reason::AssertionAudience => 500_131,
            Reason::TenantNotFound | Reason::PolicyNotFound => 90_002,
            Reason::Unavailable | Reason::Internal => 90_033,
            // TenantThrottlingError: "There are too many incoming requests."
            Reason::Throttled => 90_055,
            Reason::CrossOriginNotSpa => 9_002_326,
            Reason::SpaNotCrossOrigin => 9_002_327,
        }
    }

    /// The `AADB2C` number Azure AD B2C answers this with.
    pub fn b2c_code(self) -> u32 {
        match self {
            Reason::MissingParameter | Reason::MalformedRequest => 90_083,
            Reason::MissingClientId => 90_008,
            Reason::UnknownClient => 90_018,
            Reason::MissingClientSecret => 90_079,
            Reason::InvalidClientSecret | Reason::PublicClientWithSecret => 90_081,
            // B2C's password grant has no code of its own for these: its generic
            // credentials code, with the reason in the description.
            Reason::InvalidCredentials | Reason::UserDisabled | Reason::PasswordExpired => 90_225,
            // "Your account is temporarily locked to prevent unauthorized use."
            Reason::AccountLocked => 90_114,
            Reason::UnsupportedGrant | Reason::GrantNotAllowed => 90_086,
            Reason::InvalidScope | Reason::ResourceNotFound => 90_117,
            Reason::InvalidGrant
            | Reason::ExpiredGrant
            | Reason::RevokedGrant
            | Reason::InvalidAssertion
            | Reason::AssertionAudience => 90_080,
            Reason::TenantNotFound | Reason::PolicyNotFound => 90_083,
            Reason::Unavailable | Reason::Internal => 90_075,
            // "throttled traffic: too many requests from the same source".
            Reason::Throttled => 90_229,
            // B2C passes these on from Entra's token service; its own code for a
            // request it cannot serve is "the request is malformed".
            Reason::CrossOriginNotSpa | Reason::SpaNotCrossOrigin => 90_083,
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{}: {description}", code.as_str())]
pub struct OAuthError {
    pub code: ErrorCode,
    pub reason: Reason,
    pub description: String,
}

impl OAuthError {
    pub fn new(code: ErrorCode, reason: Reason, description: impl Into<String>) -> Self {
        OAuthError {
            code,
            reason,
            description: description.into(),
        }
    }
    pub fn invalid_request(reason: Reason, d: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, reason, d)
    }
    pub fn invalid_client(reason: Reason, d: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidClient, reason, d)
    }
    pub fn invalid_grant(reason: Reason, d: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidGrant, reason, d)
    }
    pub fn invalid_scope(d: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidScope, Reason::InvalidScope, d)
    }
    /// Entra answers an unknown resource with `invalid_resource` (AADSTS500011); the
    /// RFC code, and B2C's, is `invalid_scope`.
    pub fn resource_not_found(d: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidScope, Reason::ResourceNotFound, d)
    }
    /// AADSTS9002326: a browser script on another origin asked for a token that is not
    /// a single-page app's.
    pub fn cross_origin_not_spa(origin: &str) -> Self {
        Self::invalid_request(
            Reason::CrossOriginNotSpa,
            format!(
                "Cross-origin token redemption is permitted only for the 'Single-Page Application' client-type. Request origin: '{origin}'."
            ),
        )
    }
    /// AADSTS9002327: a single-page app's code or refresh token presented by a server.
    pub fn spa_not_cross_origin() -> Self {
        Self::invalid_request(
            Reason::SpaNotCrossOrigin,
            "Tokens issued for the 'Single-Page Application' client-type may only be redeemed via cross-origin requests.",
        )
    }
    /// The rule of both: `spa` says whether the code or refresh token was issued to a
    /// single-page app, `origin` is the request's cross origin.
    pub fn check_spa_redemption(spa: bool, origin: Option<&str>) -> Result<(), Self> {
        match (spa, origin) {
            (true, None) => Err(Self::spa_not_cross_origin()),
            (false, Some(origin)) => Err(Self::cross_origin_not_spa(origin)),
            _ => Ok(()),
        }
    }
    pub fn unauthorized_client(d: impl Into<String>) -> Self {
        Self::new(ErrorCode::UnauthorizedClient, Reason::GrantNotAllowed, d)
    }
    pub fn unavailable(d: impl Into<String>) -> Self {
        Self::new(ErrorCode::TemporarilyUnavailable, Reason::Unavailable, d)
    }
    pub fn missing(name: &str) -> Self {
        let reason = if name == "client_id" {
            Reason::MissingClientId
        } else {
            Reason::MissingParameter
        };
        Self::invalid_request(
            reason,
            format!("The request body must contain the following parameter: '{name}'."),
        )
    }
}

impl From<crate::db::DbError> for OAuthError {
    fn from(e: crate::db::DbError) -> Self {
        tracing::error!(error = %e, "database error");
        match e {
            crate::db::DbError::Unavailable(_) | crate::db::DbError::Query(_) => {
                OAuthError::unavailable("The database is not available; try again.")
            }
            _ => OAuthError::new(
                ErrorCode::ServerError,
                Reason::Internal,
                "Stored data could not be read.",
            ),
        }
    }
}

impl From<crate::crypto::password::HashError> for OAuthError {
    fn from(e: crate::crypto::password::HashError) -> Self {
        match e {
            crate::crypto::password::HashError::Busy => {
                OAuthError::unavailable("Too many sign-ins in progress; try again shortly.")
            }
            crate::crypto::password::HashError::Internal(msg) => {
                tracing::error!(error = %msg, "password hashing failed");
                OAuthError::new(
                    ErrorCode::ServerError,
                    Reason::Internal,
                    "Password check failed.",
                )
            }
        }
    }
}
