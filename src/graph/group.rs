//! A directory group in Graph's `microsoft.graph.group` shape, and the bodies of
//! Graph's group writes.

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::odata::{Clause, unsupported_clause};
use crate::db::groups::{Group, GroupChanges, NameCondition};

/// What Graph v1.0 returns for a group when no `$select` is given (the properties
/// localidp has; the others Graph would show as `null` or `[]`).
pub const DEFAULT_PROPERTIES: [&str; 13] = [
    "id",
    "deletedDateTime",
    "classification",
    "createdDateTime",
    "description",
    "displayName",
    "groupTypes",
    "mail",
    "mailEnabled",
    "mailNickname",
    "proxyAddresses",
    "securityEnabled",
    "visibility",
];

fn time(t: i64) -> Value {
    json!(
        chrono::DateTime::from_timestamp(t, 0)
            .unwrap_or_default()
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    )
}

fn property(g: &Group, name: &str) -> Value {
    match name {
        "id" => json!(g.id),
        "createdDateTime" => time(g.created_at),
        "description" => json!(g.description),
        "displayName" => json!(g.name),
        "groupTypes" | "proxyAddresses" => json!([]),
        "mailEnabled" => json!(g.mail_enabled),
        "mailNickname" => json!(g.mail_nickname),
        "securityEnabled" => json!(g.security_enabled),
        _ => Value::Null,
    }
}

/// The canonical names of the selected properties; an unknown one is an error.
pub fn check_select(select: &[String]) -> Result<Vec<&'static str>, String> {
    let mut out = Vec::new();
    for name in select {
        let known = DEFAULT_PROPERTIES
            .iter()
            .find(|p| p.eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                format!("Could not find a property named '{name}' on type 'microsoft.graph.group'.")
            })?;
        if !out.contains(known) {
            out.push(*known);
        }
    }
    Ok(out)
}

/// The group with the properties asked for (the default set without `$select`).
pub fn to_json(g: &Group, select: Option<&[&'static str]>) -> Map<String, Value> {
    let mut map = Map::new();
    for p in select.unwrap_or(&DEFAULT_PROPERTIES) {
        map.insert((*p).to_owned(), property(g, p));
    }
    map
}

/// `@odata.context` of a groups answer: the collection, or one entity.
pub fn context(base: &str, select: Option<&[&'static str]>, entity: bool) -> String {
    super::odata::context(base, "groups", select, entity)
}

/// A `$filter` on groups: `eq` and `startswith` on `displayName` only.
pub fn name_conditions(clauses: &[Clause]) -> Result<Vec<NameCondition>, String> {
    let is_name = |p: &str| p.trim().eq_ignore_ascii_case("displayName");
    clauses
        .iter()
        .map(|c| match c {
            Clause::Equals(p, v) if is_name(p) => Ok(NameCondition::Equals(v.clone())),
            Clause::StartsWith(p, v) if is_name(p) => Ok(NameCondition::StartsWith(v.clone())),
            Clause::Equals(p, _) | Clause::StartsWith(p, _) | Clause::Compare(p, _, _) => {
                Err(unsupported_clause(p, "Group"))
            }
            Clause::Identity(_) => Err(unsupported_clause("identities", "Group")),
        })
        .collect()
}

/// The body of `POST /groups` and `PATCH /groups/{id}`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupBody {
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub mail_nickname: Option<String>,
    pub mail_enabled: Option<bool>,
    pub security_enabled: Option<bool>,
    /// Accepted; localidp's groups are security groups (no Microsoft 365 groups).
    pub group_types: Option<Vec<String>>,
}

fn trimmed(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

impl GroupBody {
    /// The changes of a `PATCH`; a `displayName` of blanks is refused.
    pub fn changes(&self) -> Result<GroupChanges, String> {
        let name = trimmed(&self.display_name);
        if self.display_name.is_some() && name.is_none() {
            return Err(
                "Invalid value specified for property 'displayName' of resource 'Group'.".into(),
            );
        }
        Ok(GroupChanges {
            name,
            description: self.description.clone(),
            mail_nickname: trimmed(&self.mail_nickname),
            mail_enabled: self.mail_enabled,
            security_enabled: self.security_enabled,
        })
    }

    /// The new group of a `POST`: Graph requires `displayName`, `mailNickname`,
    /// `mailEnabled` and `securityEnabled`.
    pub fn new_group(&self, id: String, tenant_id: &str, now: i64) -> Result<Group, String> {
        let required = |p: &str| format!("Property '{p}' is required to create a group.");
        let name = trimmed(&self.display_name).ok_or_else(|| required("displayName"))?;
        let nickname = trimmed(&self.mail_nickname).ok_or_else(|| required("mailNickname"))?;
        let mail_enabled = self.mail_enabled.ok_or_else(|| required("mailEnabled"))?;
        let security_enabled = self
            .security_enabled
            .ok_or_else(|| required("securityEnabled"))?;
        Ok(Group {
            id,
            tenant_id: tenant_id.to_owned(),
            name,
            created_at: now,
            description: self.description.clone(),
            mail_nickname: Some(nickname),
            mail_enabled,
            security_enabled,
        })
    }
}

/// The user id named by a `$ref` body's `@odata.id`:
/// `https://graph.microsoft.com/v1.0/directoryObjects/{id}` (or `/users/{id}`, or this
/// server's base URL in place of Graph's, `/beta` in place of `/v1.0`).
pub fn referenced_id(odata_id: &str) -> Option<&str> {
    let (head, id) = odata_id.trim().trim_end_matches('/').rsplit_once('/')?;
    let (_, collection) = head.rsplit_once('/')?;
    let collection_ok = collection.eq_ignore_ascii_case("directoryObjects")
        || collection.eq_ignore_ascii_case("users");
    let versioned = head.contains("/v1.0/") || head.contains("/beta/");
    let is_url = head.starts_with("https://") || head.starts_with("http://");
    (collection_ok && versioned && is_url && !id.is_empty() && id.len() <= 64).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_name_directory_objects_or_users() {
        let id = "a11ce000-0000-4000-8000-000000000001";
        for url in [
            format!("https://graph.microsoft.com/v1.0/directoryObjects/{id}"),
            format!("https://graph.microsoft.com/v1.0/users/{id}"),
            format!("http://localhost:8080/beta/directoryObjects/{id}"),
        ] {
            assert_eq!(referenced_id(&url), Some(id), "{url}");
        }
        assert_eq!(referenced_id(id), None);
        assert_eq!(
            referenced_id("https://graph.microsoft.com/v1.0/groups/x"),
            None
        );
        assert_eq!(
            referenced_id("https://graph.microsoft.com/v1.0/directoryObjects/"),
            None
        );
    }
}
