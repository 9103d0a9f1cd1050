//! Applies an application's claims configuration (`policy`) to a token's claims:
//! access tokens follow the resource application's (the audience), ID tokens the
//! client application's, as in Entra.

use serde_json::{Map, Value};

use super::policy::{ClaimsMapping, OptionalClaim, OptionalClaims, UserAttribute};
use crate::oauth::sign_in::UserProfile;

/// Whose token it is, with what a mapping may read.
#[derive(Debug, Clone, Copy)]
pub struct TokenUser<'a> {
    pub profile: &'a UserProfile,
    pub tenant_id: &'a str,
    /// The user's group names, when a configuration asks for them.
    pub group_names: Option<&'a [String]>,
    pub auth_time: i64,
}

/// The optional claims localidp issues by default and removes when an application
/// lists its optional claims without them.
const DEFAULT_OPTIONAL: &[&str] = &["email", "given_name", "family_name", "groups"];

impl TokenUser<'_> {
    fn attribute(&self, attr: UserAttribute) -> Option<Value> {
        let user = &self.profile.user;
        let text = |s: Option<&String>| s.map(|s| Value::String(s.clone()));
        let list = |l: &[String]| Value::from(l.to_vec());
        match attr {
            UserAttribute::Oid => Some(Value::String(user.id.clone())),
            UserAttribute::Username | UserAttribute::Upn => {
                text(user.username.as_ref().or(user.email.as_ref()))
            }
            UserAttribute::Email => text(user.email.as_ref().or(user.username.as_ref())),
            UserAttribute::Name => Some(Value::String(user.display_name.clone())),
            UserAttribute::GivenName => text(user.given_name.as_ref()),
            UserAttribute::FamilyName => text(user.family_name.as_ref()),
            UserAttribute::Roles => Some(list(&self.profile.roles)),
            UserAttribute::Groups => Some(list(&self.profile.groups)),
            UserAttribute::GroupNames => Some(list(self.group_names.unwrap_or_default())),
            UserAttribute::TenantId => Some(Value::String(self.tenant_id.to_owned())),
        }
    }
}

/// The token kind's configured optional claims (Entra tokens only; `None`: defaults).
pub fn apply_optional(
    claims: &mut Map<String, Value>,
    list: Option<&[OptionalClaim]>,
    user: &TokenUser<'_>,
    access_token: bool,
) {
    let Some(list) = list else { return };
    let listed = |name: &str| list.iter().any(|c| c.name == name);
    for name in DEFAULT_OPTIONAL {
        if !listed(name) {
            claims.remove(*name);
        }
    }
    let user_row = &user.profile.user;
    if listed("email")
        && let Some(email) = &user_row.email
    {
        claims.insert("email".into(), email.clone().into());
    }
    if listed("groups") {
        let groups = if OptionalClaims::groups_as_names(Some(list)) {
            user.group_names.unwrap_or_default()
        } else {
            &user.profile.groups
        };
        if groups.is_empty() {
            claims.remove("groups");
        } else {
            claims.insert("groups".into(), Value::from(groups.to_vec()));
        }
    }
    if listed("upn") {
        claims.insert("upn".into(), user_row.sign_in_name().into());
    }
    if listed("idtyp") && access_token {
        claims.insert("idtyp".into(), "user".into());
    }
    if listed("acct") {
        // 0: a member of the tenant (1 would be a guest).
        claims.insert("acct".into(), 0.into());
    }
    if listed("auth_time") {
        claims.insert("auth_time".into(), user.auth_time.into());
    }
    if listed("verified_primary_email")
        && let Some(email) = &user_row.email
    {
        claims.insert(
            "verified_primary_email".into(),
            Value::from(vec![email.clone()]),
        );
    }
}

/// `sub`, added claims and `permissions` from the application's claims mapping.
pub fn apply_mapping(
    claims: &mut Map<String, Value>,
    mapping: &ClaimsMapping,
    user: &TokenUser<'_>,
) {
    if let Some(Value::String(sub)) = user.attribute(mapping.sub.attribute()) {
        claims.insert("sub".into(), sub.into());
    }
    for rule in &mapping.claims {
        let value = match (&rule.value, rule.source) {
            (Some(v), _) => Some(v.clone()),
            (None, Some(source)) => user.attribute(source),
            (None, None) => None,
        };
        match value {
            Some(v) => claims.insert(rule.name.clone(), v),
            // The user lacks the attribute: the claim is left out, not emptied.
            None => claims.remove(&rule.name),
        };
    }
    if mapping.permissions.is_some() {
        claims.insert(
            "permissions".into(),
            Value::from(permissions(mapping, &user.profile.roles)),
        );
    }
}

/// An app-only token's share of the mapping: constants, and permissions from the
/// client's app roles.
pub fn apply_app_mapping(
    claims: &mut Map<String, Value>,
    mapping: &ClaimsMapping,
    roles: &[String],
) {
    for rule in &mapping.claims {
        if let Some(v) = &rule.value {
            claims.insert(rule.name.clone(), v.clone());
        }
    }
    if mapping.permissions.is_some() {
        claims.insert(
            "permissions".into(),
            Value::from(permissions(mapping, roles)),
        );
    }
}

/// The permissions of these roles, each once, in table order.
fn permissions(mapping: &ClaimsMapping, roles: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let table = mapping.permissions.iter().flatten();
    for (role, granted) in table {
        if roles.iter().any(|r| r == role) {
            for p in granted {
                if !out.contains(p) {
                    out.push(p.clone());
                }
            }
        }
    }
    out
}
