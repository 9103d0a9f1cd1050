//! The operations of Microsoft Graph (`/v1.0/…` and `/beta/…`, the same handlers).

use actix_web::http::Method;

use super::op::{Op, op};

const JSON: &str = "application/json";

/// Every Graph call: a Graph access token, refused as Graph refuses.
fn graph(summary: &str) -> Op {
    op("graph", summary)
        .security(&["bearer"])
        .graph_errors(&[400, 401, 403, 503])
}

fn list(summary: &str) -> Op {
    graph(summary)
        .query("$select", "Properties to return")
        .query(
            "$filter",
            "OData filter (the subset Graph's advanced queries allow)",
        )
        .query("$top", "Page size")
        .query("$skiptoken", "The next page, from `@odata.nextLink`")
        .query("$count", "`true`: add `@odata.count`")
        .query("$orderby", "Sort order")
        .query("$search", "Search (with `ConsistencyLevel: eventual`)")
        .json(200, "A page of the collection", "GraphCollection")
}

fn get(summary: &str, schema: &str) -> Op {
    graph(summary)
        .query("$select", "Properties to return")
        .json(200, "Found", schema)
        .graph_errors(&[404])
}

fn create(summary: &str, body: &str, created: &str) -> Op {
    graph(summary)
        .body(JSON, body, true)
        .json(201, "Created", created)
        .graph_errors(&[404])
}

fn no_content(summary: &str) -> Op {
    graph(summary).empty(204, "Done").graph_errors(&[404])
}

fn update(summary: &str, body: &str) -> Op {
    no_content(summary).body(JSON, body, true)
}

pub fn describe(method: &Method, path: &str) -> Option<Op> {
    let rest = path
        .strip_prefix("/v1.0")
        .or_else(|| path.strip_prefix("/beta"))?;
    // `/applications/{id}` and `/applications(appId='{app_id}')` name one application.
    let (rest, by) = match rest.split_once("(appId='{app_id}')") {
        Some((head, tail)) => (format!("{head}/{{id}}{tail}"), " (by appId)"),
        None => (rest.to_owned(), ""),
    };
    let s = |summary: &str| format!("{summary}{by}");
    let found = match (method.as_str(), rest.as_str()) {
        ("GET", "/applications") => list("List applications"),
        ("POST", "/applications") => {
            create("Create an application", "ApplicationBody", "Application")
        }
        ("GET", "/applications/{id}") => get(&s("Get an application"), "Application"),
        ("PATCH", "/applications/{id}") => update(&s("Update an application"), "ApplicationBody"),
        ("DELETE", "/applications/{id}") => no_content(&s("Delete an application")),
        ("POST", "/applications/{id}/addPassword") => {
            graph(&s("Add a client secret (returned once)"))
                .body(JSON, "GraphObject", false)
                .json(200, "The new password credential", "GraphObject")
                .graph_errors(&[404])
        }
        ("POST", "/applications/{id}/removePassword") => {
            no_content(&s("Remove a client secret")).body(JSON, "GraphObject", true)
        }
        ("GET", "/servicePrincipals") => list("List service principals"),
        ("GET", "/servicePrincipals/{id}") => get(&s("Get a service principal"), "GraphObject"),
        ("GET", "/servicePrincipals/{id}/appRoleAssignedTo") => {
            list(&s("Who holds the application's roles")).graph_errors(&[404])
        }
        ("GET", "/me") => get("The signed-in user", "User"),
        ("PATCH", "/me") => update("Update the signed-in user's profile", "UserBody"),
        ("POST", "/me/changePassword") => {
            no_content("Change the signed-in user's password").body(JSON, "GraphObject", true)
        }
        ("GET", "/me/memberOf") => list("The signed-in user's groups and roles"),
        ("GET", "/me/appRoleAssignments") => list("The signed-in user's app role assignments"),
        ("GET", "/users") => list("List users"),
        ("POST", "/users") => create("Create a user", "UserBody", "User"),
        ("GET", "/users/{id}") => get("Get a user (by id or userPrincipalName)", "User"),
        ("PATCH", "/users/{id}") => update("Update a user", "UserBody"),
        ("DELETE", "/users/{id}") => no_content("Delete a user"),
        ("POST", "/users/{id}/revokeSignInSessions") => {
            graph("Revoke the user's refresh tokens and SSO sessions")
                .json(200, "Revoked", "GraphObject")
                .graph_errors(&[404])
        }
        ("GET", "/users/{id}/memberOf") => list("A user's groups and roles").graph_errors(&[404]),
        ("GET", "/users/{id}/appRoleAssignments") => {
            list("A user's app role assignments").graph_errors(&[404])
        }
        ("POST", "/users/{id}/appRoleAssignments") => {
            create("Assign an app role to a user", "GraphObject", "GraphObject")
        }
        ("DELETE", "/users/{id}/appRoleAssignments/{assignment}") => {
            no_content("Remove an app role assignment")
        }
        ("GET", "/me/apiKeys" | "/users/{id}/apiKeys" | "/applications/{id}/apiKeys") => {
            list(&s("List API keys (never the key itself)")).graph_errors(&[404])
        }
        ("POST", "/me/apiKeys" | "/users/{id}/apiKeys" | "/applications/{id}/apiKeys") => create(
            &s("Create an API key (returned once)"),
            "ApiKeyBody",
            "GraphObject",
        ),
        (
            "DELETE",
            "/me/apiKeys/{key_id}"
            | "/users/{id}/apiKeys/{key_id}"
            | "/applications/{id}/apiKeys/{key_id}",
        ) => no_content(&s("Delete an API key")),
        ("GET", "/groups") => list("List groups"),
        ("POST", "/groups") => create("Create a group", "GroupBody", "Group"),
        ("GET", "/groups/{id}") => get("Get a group", "Group"),
        ("PATCH", "/groups/{id}") => update("Update a group", "GroupBody"),
        ("DELETE", "/groups/{id}") => no_content("Delete a group"),
        ("GET", "/groups/{id}/members") => list("A group's members").graph_errors(&[404]),
        ("POST", "/groups/{id}/members/$ref") => {
            update("Add a member (`@odata.id`)", "GraphObject")
        }
        ("DELETE", "/groups/{id}/members/{member}/$ref") => no_content("Remove a member"),
        ("GET", "/directoryRoles") => list("Directory roles"),
        ("GET", "/directoryRoles/{id}") => get("A directory role", "GraphObject"),
        ("GET", "/directoryRoles/{id}/members") => {
            list("A directory role's members").graph_errors(&[404])
        }
        ("GET", "/auditLogs/signIns") => list("Sign-in logs"),
        ("GET", "/auditLogs/signIns/{id}") => get("A sign-in log entry", "GraphObject"),
        ("GET", "/auditLogs/directoryAudits") => list("Directory audit logs"),
        ("GET", "/auditLogs/directoryAudits/{id}") => get("A directory audit entry", "GraphObject"),
        _ => return None,
    };
    Some(found)
}
