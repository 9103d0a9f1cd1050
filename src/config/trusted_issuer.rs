//! `[[trusted_issuers]]`: other issuers whose tokens are accepted here.

use std::path::PathBuf;

use serde::Deserialize;

/// An external issuer (a real Entra or B2C tenant, any OIDC provider) whose tokens
/// the token-exchange grant (RFC 8693) turns into tokens of ours for the same person,
/// and, with `verify`, `/auth/verify`, `/introspect` and `/userinfo` accept as they are.
/// Its keys come from exactly one of `jwks_file`, `jwks_uri` and `discovery_url`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedIssuer {
    /// The `iss` its tokens carry, exactly.
    pub issuer: String,
    /// Its signing keys, as a JWKS document saved to a file.
    pub jwks_file: Option<PathBuf>,
    /// Its signing keys, fetched (and refetched) from this URL.
    pub jwks_uri: Option<String>,
    /// Its OpenID discovery document, whose `issuer` must be `issuer` and whose
    /// `jwks_uri` gives the keys.
    pub discovery_url: Option<String>,
    /// Extra CA certificates (PEM) to trust for its HTTPS, besides the public roots.
    pub ca_file: Option<PathBuf>,
    /// The `aud` its tokens must carry; unchecked when absent (required with `verify`).
    pub audience: Option<String>,
    /// Create a user (without a password) when no one matches by oid or email.
    #[serde(default)]
    pub provision: bool,
    /// Only this tenant (GUID or name) accepts its tokens; any tenant when absent.
    pub tenant: Option<String>,
    /// `/auth/verify`, `/introspect` and `/userinfo` accept its tokens (pass-through).
    #[serde(default)]
    pub verify: bool,
}
