//! What the token layer keeps in memory between requests: recently verified access
//! tokens, the token status (revocations, inactive users), the CSRF key, and the
//! trusted external issuers.
//!
//! Staleness bound: a verified token is reused for at most `VERIFIED_TTL` (and never
//! past its expiry), and its status is checked again on every use (see
//! [`super::status`] for that state's own bound).

use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::hmac;
use tokio::sync::OnceCell;

use super::claims::AccessTokenClaims;
use super::external::ExternalIssuer;
use super::status::TokenStatus;
use crate::cache::TtlCache;
use crate::directory::service::TenantInfo;

/// How long a verified access token is served from memory.
pub const VERIFIED_TTL: Duration = Duration::from_secs(5);

/// A token that passed every check, with the tenant (and B2C user flow) it belongs to.
#[derive(Debug, Clone)]
pub struct Verified {
    pub claims: AccessTokenClaims,
    pub tenant: Arc<TenantInfo>,
    pub policy: Option<String>,
    /// The trusted issuer of an upstream token accepted as it is (`verify = true`);
    /// `None` for our own tokens.
    pub upstream: Option<String>,
}

/// Why a token was not verified.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The token is not acceptable; the message is safe to show the caller.
    #[error("{0}")]
    Invalid(String),
    #[error("verification is unavailable: {0}")]
    Unavailable(String),
}

/// Per-process cache of the CSRF MAC key; the key itself lives in the database so
/// replicas agree on it.
#[derive(Default)]
pub struct SessionKeys {
    pub csrf: OnceCell<hmac::Key>,
}

pub struct TokenServices {
    /// Access tokens verified recently, by SHA-256 of base URL and token.
    pub verified: TtlCache<Arc<Verified>, [u8; 32]>,
    pub session_keys: SessionKeys,
    /// Revoked access tokens and inactive users, kept current from the database.
    pub status: TokenStatus,
    /// Issuers whose tokens the token-exchange grant accepts (and, with `verify`,
    /// `/auth/verify`, `/introspect` and `/userinfo`).
    pub external_issuers: Vec<ExternalIssuer>,
}

impl TokenServices {
    pub fn new(external_issuers: Vec<ExternalIssuer>, status: TokenStatus) -> Self {
        TokenServices {
            verified: TtlCache::new(VERIFIED_TTL),
            session_keys: SessionKeys::default(),
            status,
            external_issuers,
        }
    }
}
