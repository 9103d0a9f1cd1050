//! Microsoft Graph as a resource of every tenant: its names, and the permissions
//! localidp's Graph answers to. A leaf module: the token endpoint and the Graph
//! handlers both read it.

/// Graph's application id, the same in every tenant.
pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
/// Graph's identifier URI (`https://graph.microsoft.com/.default`).
pub const GRAPH_URI: &str = "https://graph.microsoft.com";

/// The application permissions a client may be granted (app-only tokens' `roles`).
pub const APPLICATION_PERMISSIONS: [&str; 12] = [
    "User.Read.All",
    "User.ReadWrite.All",
    "Group.Read.All",
    "Group.ReadWrite.All",
    "GroupMember.Read.All",
    "GroupMember.ReadWrite.All",
    "Directory.Read.All",
    "Application.Read.All",
    "Application.ReadWrite.All",
    "RoleManagement.Read.Directory",
    "AppRoleAssignment.ReadWrite.All",
    "AuditLog.Read.All",
];

/// Delegated permissions that, named without a resource (`scope=User.Read`), are
/// Graph's, as Entra reads a scope without a resource.
pub const DELEGATED_PERMISSIONS: [&str; 13] = [
    "User.Read",
    "User.ReadWrite",
    "User.ReadBasic.All",
    "User.Read.All",
    "User.ReadWrite.All",
    "Group.Read.All",
    "Group.ReadWrite.All",
    "GroupMember.Read.All",
    "Directory.Read.All",
    "Directory.AccessAsUser.All",
    "RoleManagement.Read.Directory",
    "AppRoleAssignment.ReadWrite.All",
    "AuditLog.Read.All",
];

/// Whether a resource (a scope's prefix or a token's `aud`) names Graph.
pub fn is_graph(resource: &str) -> bool {
    let r = resource.trim_end_matches('/');
    r.eq_ignore_ascii_case(GRAPH_URI) || r.eq_ignore_ascii_case(GRAPH_APP_ID)
}

/// Whether a permission named without a resource is one of Graph's delegated ones.
pub fn is_delegated(permission: &str) -> bool {
    DELEGATED_PERMISSIONS
        .iter()
        .any(|p| p.eq_ignore_ascii_case(permission))
}

/// The application permission by its canonical name, if it is one.
pub fn application_permission(name: &str) -> Option<&'static str> {
    APPLICATION_PERMISSIONS
        .iter()
        .find(|p| p.eq_ignore_ascii_case(name))
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_is_named_by_uri_or_app_id() {
        assert!(is_graph("https://graph.microsoft.com"));
        assert!(is_graph("https://graph.microsoft.com/"));
        assert!(is_graph(GRAPH_APP_ID));
        assert!(!is_graph("api://graph.microsoft.com"));
        assert_eq!(
            application_permission("user.readwrite.all"),
            Some("User.ReadWrite.All")
        );
        assert!(application_permission("Mail.Read").is_none());
    }
}
