//! `[[upstream_providers]]`: identity providers (Entra ID, B2C, any OpenID provider)
//! that users of a local tenant sign in through (brokered sign-in).

use std::path::PathBuf;

use serde::Deserialize;

/// The upstream claims that may be copied to the local user.
pub const COPYABLE_CLAIMS: &[&str] = &["name", "email", "roles", "groups"];

/// An OpenID provider of a local tenant, found by its discovery document.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamProvider {
    /// A short name (`[a-z0-9-]`, 1 to 32 characters), used in URLs and as the `idp` hint.
    pub name: String,
    /// The button's text: "Sign in with {display_name}" (default: the name).
    pub display_name: Option<String>,
    /// The provider's OpenID discovery document; its `issuer` is the `iss` its ID
    /// tokens must carry.
    pub discovery_url: String,
    /// The client id localidp is registered under at the provider.
    pub client_id: String,
    /// Its secret (sent as `client_secret_post`); none: a public client, PKCE only.
    pub client_secret: Option<String>,
    /// Scopes asked for (default `openid profile email`; `openid` is always added).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Extra CA certificates (PEM) to trust for its HTTPS, besides the public roots.
    pub ca_file: Option<PathBuf>,
    /// The local tenant (GUID or name) it serves; the default tenant when absent.
    pub tenant: Option<String>,
    /// `domain_hint` values (e.g. `contoso.com`) that go straight to this provider.
    #[serde(default)]
    pub domain_hints: Vec<String>,
    /// Create a local user (without a password) on a first sign-in that matches none.
    #[serde(default)]
    pub create_users: bool,
    /// Link to a local user with the same email when the provider vouches for it.
    #[serde(default = "yes")]
    pub link_by_email: bool,
    /// The provider's `email` counts as verified without `email_verified: true`
    /// (Entra ID work accounts, whose tenant owns the domain).
    #[serde(default)]
    pub trust_email: bool,
    /// Upstream claims copied to the local user at each sign-in: `name`, `email`
    /// (at creation only), `roles`, `groups` (default: `name` and `email`).
    #[serde(default = "default_claims")]
    pub copy_claims: Vec<String>,
    /// The tenant's login page shows no password form (its users sign in only
    /// through upstream providers) when one of its providers says so.
    #[serde(default)]
    pub hide_local_sign_in: bool,
}

fn yes() -> bool {
    true
}

fn default_claims() -> Vec<String> {
    vec!["name".into(), "email".into()]
}

impl std::fmt::Debug for UpstreamProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamProvider")
            .field("name", &self.name)
            .field("discovery_url", &self.discovery_url)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

impl UpstreamProvider {
    /// The scopes asked for, `openid` first.
    pub fn scope(&self) -> String {
        let mut scopes = vec!["openid".to_owned()];
        let given: Vec<String> = if self.scopes.is_empty() {
            vec!["profile".into(), "email".into()]
        } else {
            self.scopes.clone()
        };
        scopes.extend(given.into_iter().filter(|s| s != "openid"));
        scopes.join(" ")
    }

    pub fn label(&self) -> &str {
        self.display_name.as_deref().unwrap_or(&self.name)
    }

    pub fn copies(&self, claim: &str) -> bool {
        self.copy_claims.iter().any(|c| c == claim)
    }

    /// Checks the fields that need no network nor database.
    pub fn check(&self) -> Result<(), String> {
        let name = &self.name;
        let valid_name = (1..=32).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !valid_name {
            return Err(format!(
                "{name:?}: name must be 1 to 32 characters of a-z, 0-9 and -"
            ));
        }
        if self.client_id.trim().is_empty() {
            return Err(format!("{name}: client_id is empty"));
        }
        if self.client_secret.as_deref().is_some_and(str::is_empty) {
            return Err(format!(
                "{name}: client_secret is empty (leave it out for a public client)"
            ));
        }
        if let Some(claim) = self
            .copy_claims
            .iter()
            .find(|c| !COPYABLE_CLAIMS.contains(&c.as_str()))
        {
            return Err(format!(
                "{name}: copy_claims: {claim:?} is not one of {COPYABLE_CLAIMS:?}"
            ));
        }
        if let Some(hint) = self.domain_hints.iter().find(|h| h.trim().is_empty()) {
            return Err(format!("{name}: domain_hints has an empty value {hint:?}"));
        }
        Ok(())
    }
}

impl UpstreamProvider {
    /// Checks every provider, and that names and domain hints are not used twice.
    pub fn check_all(providers: &[UpstreamProvider]) -> Result<(), String> {
        let mut names = std::collections::HashSet::new();
        let mut hints = std::collections::HashSet::new();
        for p in providers {
            p.check()?;
            if !names.insert(p.name.clone()) {
                return Err(format!("{}: two providers have this name", p.name));
            }
            for hint in &p.domain_hints {
                let key = (p.tenant.clone(), hint.to_lowercase());
                if !hints.insert(key) {
                    return Err(format!(
                        "{}: the domain hint {hint:?} is also another provider's of the tenant",
                        p.name
                    ));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<UpstreamProvider, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_and_checks() {
        let p = parse(
            r#"
name = "entra"
discovery_url = "https://login.microsoftonline.com/t/v2.0/.well-known/openid-configuration"
client_id = "abc"
"#,
        )
        .unwrap();
        assert!(p.link_by_email && !p.create_users && !p.trust_email && !p.hide_local_sign_in);
        assert_eq!(p.copy_claims, ["name", "email"]);
        assert_eq!(p.scope(), "openid profile email");
        assert_eq!(p.label(), "entra");
        assert!(p.check().is_ok());
        assert!(!format!("{p:?}").contains("secret\": Some"));

        let scoped = UpstreamProvider {
            scopes: vec!["offline_access".into(), "openid".into()],
            client_secret: Some("s3cret".into()),
            ..p.clone()
        };
        assert_eq!(scoped.scope(), "openid offline_access");
        assert!(!format!("{scoped:?}").contains("s3cret"));

        assert!(parse("name = \"x\"\nunknown = 1").is_err());
        let bad = |f: fn(&mut UpstreamProvider)| {
            let mut q = p.clone();
            f(&mut q);
            q.check().unwrap_err()
        };
        assert!(bad(|q| q.name = "Has Space".into()).contains("name must be"));
        assert!(bad(|q| q.client_id = " ".into()).contains("client_id"));
        assert!(bad(|q| q.client_secret = Some(String::new())).contains("client_secret"));
        assert!(bad(|q| q.copy_claims = vec!["phone".into()]).contains("copy_claims"));
        let twice = UpstreamProvider::check_all(&[p.clone(), p.clone()]).unwrap_err();
        assert!(twice.contains("two providers"), "{twice}");
    }
}
