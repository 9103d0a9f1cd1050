//! The grant types of the token endpoint (RFC 6749 §4, RFC 7523, RFC 8693), parsed
//! once from their wire names. Clients are registered with a list of them.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GrantType {
    Password,
    ClientCredentials,
    RefreshToken,
    AuthorizationCode,
    /// `urn:ietf:params:oauth:grant-type:jwt-bearer`: Entra's on-behalf-of flow.
    JwtBearer,
    /// `urn:ietf:params:oauth:grant-type:token-exchange` (RFC 8693).
    TokenExchange,
}

impl GrantType {
    pub const ALL: [GrantType; 6] = [
        GrantType::Password,
        GrantType::ClientCredentials,
        GrantType::RefreshToken,
        GrantType::AuthorizationCode,
        GrantType::JwtBearer,
        GrantType::TokenExchange,
    ];

    /// What a public client may use when its registration names no grants.
    pub const PUBLIC_DEFAULT: [GrantType; 3] = [
        GrantType::Password,
        GrantType::RefreshToken,
        GrantType::AuthorizationCode,
    ];

    /// The wire name, as in `grant_type=` and client registrations.
    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::Password => "password",
            GrantType::ClientCredentials => "client_credentials",
            GrantType::RefreshToken => "refresh_token",
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::JwtBearer => "urn:ietf:params:oauth:grant-type:jwt-bearer",
            GrantType::TokenExchange => "urn:ietf:params:oauth:grant-type:token-exchange",
        }
    }

    /// The grant type with this wire name, if it is one localidp knows.
    pub fn parse(name: &str) -> Option<GrantType> {
        GrantType::ALL.into_iter().find(|g| g.as_str() == name)
    }

    /// Every known wire name, comma separated: for error messages.
    pub fn known_names() -> String {
        GrantType::ALL.map(GrantType::as_str).join(", ")
    }

    /// Whether an Azure AD B2C user flow offers this grant (B2C has no on-behalf-of
    /// flow and no token exchange).
    pub fn offered_by_b2c(self) -> bool {
        !matches!(self, GrantType::JwtBearer | GrantType::TokenExchange)
    }
}

impl fmt::Display for GrantType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::GrantType;

    #[test]
    fn wire_names_round_trip() {
        for g in GrantType::ALL {
            assert_eq!(GrantType::parse(g.as_str()), Some(g));
        }
        assert_eq!(GrantType::parse("implicit"), None);
        assert_eq!(GrantType::parse("Password"), None);
    }
}
