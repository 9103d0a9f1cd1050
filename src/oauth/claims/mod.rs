//! Token claims: Entra ID v2 (`ver` "2.0") or Azure AD B2C (`ver` "1.0") shapes.
//! Fields that only one flavour carries are optional and left out when absent; `entra`
//! and `b2c` build each flavour's tokens.

pub mod b2c;
pub mod entra;
pub mod mapping;
pub mod policy;

use serde::{Deserialize, Serialize};

use crate::db::users::User;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    pub aud: String,
    pub iss: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub sub: String,
    pub oid: String,
    /// The client the token was issued to; only access tokens carry it.
    pub azp: String,
    pub ver: String,
    pub jti: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tid: Option<String>,
    /// "0" public client, "1" client secret (Entra).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azpacr: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uti: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aio: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rh: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idtyp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    /// The B2C user flow, lower-case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tfp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// B2C writes email addresses as an array.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scp: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// Entra's directory roles of the user (role template ids); only users with roles.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wids: Vec<String>,
}

impl AccessTokenClaims {
    /// The user's email in either flavour.
    pub fn email_address(&self) -> Option<&str> {
        self.email
            .as_deref()
            .or_else(|| self.emails.first().map(String::as_str))
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IdTokenClaims {
    pub aud: String,
    pub iss: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub auth_time: i64,
    pub sub: String,
    pub oid: String,
    pub ver: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uti: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tfp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub c_hash: Option<String>,
    /// The SSO session (Entra's `sid`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<String>,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// Entra's directory roles of the user (role template ids); only users with roles.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wids: Vec<String>,
}

/// What every token of one response shares.
#[derive(Debug, Clone)]
pub struct Issuance<'a> {
    pub issuer: String,
    pub tenant_id: &'a str,
    /// The B2C user flow as registered, for B2C tokens' `tfp`.
    pub policy: Option<&'a str>,
    pub now: i64,
    pub lifetime: i64,
}

/// Who a user's access token goes to, and with which delegated permissions.
#[derive(Debug, Clone)]
pub struct AccessGrant<'a> {
    pub audience: String,
    pub client_id: &'a str,
    /// Entra's `azpacr`: "0" public client, "1" client secret.
    pub azpacr: &'static str,
    pub scp: Option<String>,
}

impl AccessTokenClaims {
    /// What every access token carries: times, issuer, audience, and the subject
    /// (a user, or the client itself for an app token) as `sub` and `oid`.
    pub fn base(at: &Issuance<'_>, aud: String, subject: &str, azp: &str, ver: &str) -> Self {
        AccessTokenClaims {
            aud,
            iss: at.issuer.clone(),
            iat: at.now,
            nbf: at.now,
            exp: at.now + at.lifetime,
            sub: subject.to_owned(),
            oid: subject.to_owned(),
            azp: azp.to_owned(),
            ver: ver.to_owned(),
            jti: opaque_id(),
            ..Default::default()
        }
    }
}

impl IdTokenClaims {
    /// What every ID token carries: times, issuer, the client as audience, and the
    /// user's id and names.
    pub fn base(
        at: &Issuance<'_>,
        client_id: &str,
        user: &User,
        auth_time: i64,
        ver: &str,
    ) -> Self {
        IdTokenClaims {
            aud: client_id.to_owned(),
            iss: at.issuer.clone(),
            iat: at.now,
            nbf: at.now,
            exp: at.now + at.lifetime,
            auth_time,
            sub: user.id.clone(),
            oid: user.id.clone(),
            ver: ver.to_owned(),
            name: user.display_name.clone(),
            given_name: user.given_name.clone(),
            family_name: user.family_name.clone(),
            ..Default::default()
        }
    }
}

/// 16 random bytes, base64url: `uti`, `jti`, `aio`, `rh`.
pub fn opaque_id() -> String {
    crate::crypto::secrets::generate()[..22].to_owned()
}
