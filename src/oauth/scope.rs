//! The `scope` parameter (RFC 6749 §3.3) in Entra's form: OIDC scopes plus
//! permissions of one resource, written `{resource}/{permission}` where the resource
//! is an application's client id or `api://{client id}`.

use super::OAuthError;
use crate::graph::permissions as graph;

pub const OIDC_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestedScope {
    /// Every scope token as requested, de-duplicated, in order.
    pub tokens: Vec<String>,
    pub openid: bool,
    pub offline_access: bool,
    /// The client id of the resource the permissions belong to.
    pub resource: Option<String>,
    /// Permission names without `.default`.
    pub permissions: Vec<String>,
    pub default_requested: bool,
}

impl RequestedScope {
    pub fn as_string(&self) -> String {
        self.tokens.join(" ")
    }

    /// The OIDC scopes requested, but `offline_access` (which is no permission).
    pub fn oidc_tokens(&self) -> Vec<&str> {
        self.tokens
            .iter()
            .map(String::as_str)
            .filter(|t| OIDC_SCOPES.contains(t) && *t != "offline_access")
            .collect()
    }

    /// The access token's `scp`. A token for a resource (an API) carries that
    /// resource's permissions only, never the OIDC scopes, as Entra's do; a token for
    /// the client itself, asked for with OIDC scopes alone, carries those.
    pub fn access_token_scp(&self) -> Option<String> {
        let scp = if self.resource.is_some() || !self.permissions.is_empty() {
            self.permissions.join(" ")
        } else {
            self.oidc_tokens().join(" ")
        };
        (!scp.is_empty()).then_some(scp)
    }

    /// What a refresh token granted `granted` may be redeemed for (Entra's
    /// multi-resource refresh tokens): any resource the client may reach (the caller
    /// checks the resource), but no OIDC scope the sign-in did not grant, since the ID
    /// token and the refresh token itself come from them. `{resource}/.default` adds
    /// the permissions the grant named for that resource.
    pub fn redeemable_under(mut self, granted: &RequestedScope) -> Result<Self, OAuthError> {
        if let Some(t) = self
            .tokens
            .iter()
            .find(|t| OIDC_SCOPES.contains(&t.as_str()) && !granted.tokens.contains(t))
        {
            return Err(OAuthError::invalid_scope(format!(
                "The requested scope exceeds the scope originally granted: {t} was not granted."
            )));
        }
        if self.default_requested && self.resource.is_some() && self.resource == granted.resource {
            for p in &granted.permissions {
                if !self.permissions.contains(p) {
                    self.permissions.push(p.clone());
                }
            }
        }
        Ok(self)
    }
}

fn valid_token(t: &str) -> bool {
    t.bytes()
        .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}

/// Strips `api://` so a resource names a client id.
pub fn resource_client_id(resource: &str) -> &str {
    resource
        .strip_prefix("api://")
        .unwrap_or(resource)
        .trim_end_matches('/')
}

pub fn parse(raw: &str) -> Result<RequestedScope, OAuthError> {
    let mut scope = RequestedScope::default();
    for token in raw.split_ascii_whitespace() {
        if !valid_token(token) {
            return Err(OAuthError::invalid_scope(format!(
                "The scope {token:?} contains characters RFC 6749 §3.3 does not allow."
            )));
        }
        if scope.tokens.iter().any(|t| t == token) {
            continue;
        }
        scope.tokens.push(token.to_owned());
        match token {
            "openid" => scope.openid = true,
            "offline_access" => scope.offline_access = true,
            "profile" | "email" => {}
            _ => {
                let (resource, permission) = match token.rsplit_once('/') {
                    Some((r, p)) if !r.is_empty() && !p.is_empty() => {
                        (Some(resource_client_id(r)), p)
                    }
                    Some(_) => {
                        return Err(OAuthError::invalid_scope(format!(
                            "The scope {token:?} is not of the form {{resource}}/{{permission}}."
                        )));
                    }
                    None => (None, token),
                };
                if let Some(resource) = resource {
                    match &scope.resource {
                        Some(existing) if existing != resource => {
                            return Err(OAuthError::invalid_scope(
                                "Scopes of more than one resource were requested; a token is for one resource.",
                            ));
                        }
                        _ => scope.resource = Some(resource.to_owned()),
                    }
                }
                if permission == ".default" {
                    scope.default_requested = true;
                } else {
                    scope.permissions.push(permission.to_owned());
                }
            }
        }
    }
    // Entra reads permissions named without a resource as Graph's.
    if scope.resource.is_none()
        && !scope.permissions.is_empty()
        && scope.permissions.iter().all(|p| graph::is_delegated(p))
    {
        scope.resource = Some(graph::GRAPH_APP_ID.to_owned());
    }
    Ok(scope)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_oidc_and_resource_permissions() {
        let s = parse("openid profile offline_access api://abc/Tasks.Read api://abc/Tasks.Write")
            .unwrap();
        assert!(s.openid && s.offline_access);
        assert_eq!(s.resource.as_deref(), Some("abc"));
        assert_eq!(s.permissions, vec!["Tasks.Read", "Tasks.Write"]);
        assert_eq!(s.oidc_tokens(), vec!["openid", "profile"]);
    }

    #[test]
    fn default_scope_and_bare_guid_resource() {
        let s = parse("11111111-2222-3333-4444-555555555555/.default").unwrap();
        assert!(s.default_requested);
        assert!(s.permissions.is_empty());
        assert_eq!(
            s.resource.as_deref(),
            Some("11111111-2222-3333-4444-555555555555")
        );
    }

    #[test]
    fn two_resources_or_bad_characters_are_refused() {
        assert!(parse("api://a/x api://b/y").is_err());
        assert!(parse("bad\"quote").is_err());
        assert!(parse("api://a/").is_err());
    }

    #[test]
    fn api_tokens_carry_no_oidc_scopes() {
        let s = parse("openid profile offline_access api://abc/.default").unwrap();
        assert_eq!(s.access_token_scp(), None);
        let s = parse("openid profile api://abc/Tasks.Read").unwrap();
        assert_eq!(s.access_token_scp().as_deref(), Some("Tasks.Read"));
        let s = parse("openid profile offline_access").unwrap();
        assert_eq!(s.access_token_scp().as_deref(), Some("openid profile"));
        assert_eq!(parse("offline_access").unwrap().access_token_scp(), None);
    }

    #[test]
    fn a_refresh_reaches_other_resources_but_no_new_oidc_scope() {
        let granted = parse("openid profile offline_access api://abc/Tasks.Read").unwrap();
        let other = parse("openid offline_access api://def/.default").unwrap();
        let s = other.redeemable_under(&granted).unwrap();
        assert_eq!(s.resource.as_deref(), Some("def"));
        assert!(s.permissions.is_empty());
        let s = parse("abc/.default offline_access")
            .unwrap()
            .redeemable_under(&granted)
            .unwrap();
        assert_eq!(s.permissions, vec!["Tasks.Read"]);
        let s = parse("api://def/Tasks.Write").unwrap();
        assert!(s.redeemable_under(&granted).is_ok());
        assert!(
            parse("openid email")
                .unwrap()
                .redeemable_under(&granted)
                .is_err()
        );
    }

    #[test]
    fn graph_permissions_without_a_resource_are_graphs() {
        let s = parse("openid User.Read").unwrap();
        assert_eq!(s.resource.as_deref(), Some(graph::GRAPH_APP_ID));
        assert_eq!(s.access_token_scp().as_deref(), Some("User.Read"));
        let s = parse("https://graph.microsoft.com/.default").unwrap();
        assert_eq!(s.resource.as_deref(), Some(graph::GRAPH_URI));
        assert_eq!(parse("Tasks.Read").unwrap().resource, None);
    }

    #[test]
    fn duplicates_collapse() {
        let all = parse("openid openid api://a/x").unwrap();
        assert_eq!(all.tokens.len(), 2);
    }
}
