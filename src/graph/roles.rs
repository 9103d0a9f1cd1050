//! Entra's built-in directory roles localidp knows, as Graph's `directoryRole`
//! objects, and what they let a signed-in user's delegated token write.

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

/// A built-in directory role: its template id is the same in every tenant (and is
/// what tokens' `wids` claim lists).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirectoryRole {
    pub template_id: &'static str,
    pub display_name: &'static str,
    pub description: &'static str,
}

pub const GLOBAL_ADMINISTRATOR: DirectoryRole = DirectoryRole {
    template_id: "62e90394-69f5-4237-9190-012177145e10",
    display_name: "Global Administrator",
    description: "Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities.",
};

pub const USER_ADMINISTRATOR: DirectoryRole = DirectoryRole {
    template_id: "fe930be7-5e62-47db-91af-98c3a49a38b1",
    display_name: "User Administrator",
    description: "Can manage all aspects of users and groups, including resetting passwords for limited admins.",
};

pub const ROLES: [DirectoryRole; 2] = [GLOBAL_ADMINISTRATOR, USER_ADMINISTRATOR];

/// The role by display name or template id (any case).
pub fn find(name_or_id: &str) -> Option<DirectoryRole> {
    let n = name_or_id.trim();
    ROLES
        .into_iter()
        .find(|r| r.display_name.eq_ignore_ascii_case(n) || r.template_id.eq_ignore_ascii_case(n))
}

/// The roles by name or template id; an unknown one is an error naming those known.
pub fn parse_all(names: &[String]) -> Result<Vec<DirectoryRole>, String> {
    if names.is_empty() {
        return Err("name at least one directory role".into());
    }
    names
        .iter()
        .map(|n| {
            find(n).ok_or_else(|| {
                let known: Vec<&str> = ROLES.iter().map(|r| r.display_name).collect();
                format!(
                    "{n:?} is not a directory role localidp knows (one of {})",
                    known.join(", ")
                )
            })
        })
        .collect()
}

/// The tenant's role with this object id, or `roleTemplateId={id}` (Graph's
/// alternate key).
pub fn by_object_id(tenant_id: &str, key: &str) -> Option<DirectoryRole> {
    if let Some(template) = key.strip_prefix("roleTemplateId=") {
        let template = template.trim_matches(|c| c == '\'' || c == '"');
        return ROLES
            .into_iter()
            .find(|r| r.template_id.eq_ignore_ascii_case(template));
    }
    ROLES
        .into_iter()
        .find(|r| r.object_id(tenant_id).eq_ignore_ascii_case(key))
}

impl DirectoryRole {
    /// The role's object id in a tenant (Entra gives each tenant's activated role its
    /// own id; localidp derives it from the tenant and the template).
    pub fn object_id(&self, tenant_id: &str) -> String {
        let digest = Sha256::digest(format!("{tenant_id}:{}", self.template_id));
        let h: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        format!(
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }

    /// Graph's `microsoft.graph.directoryRole`, with the properties asked for that it
    /// has (all without `$select`).
    pub fn to_json(&self, tenant_id: &str, select: Option<&[&str]>) -> Map<String, Value> {
        let all = [
            ("id", json!(self.object_id(tenant_id))),
            ("deletedDateTime", Value::Null),
            ("description", json!(self.description)),
            ("displayName", json!(self.display_name)),
            ("roleTemplateId", json!(self.template_id)),
        ];
        let mut map = Map::new();
        map.insert(
            "@odata.type".into(),
            json!("#microsoft.graph.directoryRole"),
        );
        for (name, value) in all {
            if select.is_none_or(|s| s.contains(&name)) {
                map.insert(name.into(), value);
            }
        }
        map
    }
}

/// Whether a user holding these roles (template ids) may write users and groups with
/// a delegated token: Global Administrator and User Administrator may (Entra's
/// built-in definitions: User Administrator manages "all aspects of users and groups").
pub fn writes_directory(held: &[String]) -> bool {
    held.iter()
        .any(|id| ROLES.iter().any(|r| r.template_id == id))
}

/// Whether a user holding these roles may read the audit logs with a delegated token:
/// of the roles localidp knows, Global Administrator (Entra lets Reports Reader,
/// Security Reader, Global Reader and the like too; User Administrator not).
pub fn reads_audit_logs(held: &[String]) -> bool {
    held.iter().any(|id| id == GLOBAL_ADMINISTRATOR.template_id)
}

/// Whether a caller holding `held` may change a user holding `target`: only a Global
/// Administrator changes a Global Administrator (Entra's sensitive actions).
pub fn may_manage(held: &[String], target: &[String]) -> bool {
    let global = |roles: &[String]| roles.iter().any(|r| r == GLOBAL_ADMINISTRATOR.template_id);
    global(held) || !global(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_named_by_display_name_or_template_id() {
        assert_eq!(find("user administrator"), Some(USER_ADMINISTRATOR));
        assert_eq!(
            find("62E90394-69F5-4237-9190-012177145E10"),
            Some(GLOBAL_ADMINISTRATOR)
        );
        assert!(parse_all(&["Helpdesk Administrator".into()]).is_err());
        let a = GLOBAL_ADMINISTRATOR.object_id("t1");
        assert_eq!(a.len(), 36);
        assert_ne!(a, GLOBAL_ADMINISTRATOR.object_id("t2"));
        assert_ne!(a, USER_ADMINISTRATOR.object_id("t1"));
    }

    #[test]
    fn only_a_global_administrator_manages_a_global_administrator() {
        let ga = vec![GLOBAL_ADMINISTRATOR.template_id.to_owned()];
        let ua = vec![USER_ADMINISTRATOR.template_id.to_owned()];
        assert!(may_manage(&ga, &ga));
        assert!(may_manage(&ua, &ua));
        assert!(!may_manage(&ua, &ga));
        assert!(writes_directory(&ua));
        assert!(!writes_directory(&[]));
        assert!(reads_audit_logs(&ga));
        assert!(!reads_audit_logs(&ua));
    }
}
