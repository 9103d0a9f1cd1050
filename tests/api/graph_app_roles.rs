//! Microsoft Graph v1.0 app role assignments of users: assigned, listed and removed
//! over `/users/{id}/appRoleAssignments` (and read at `/me/appRoleAssignments`); an
//! assigned role is in the `roles` of the user's next token for its application and in
//! `/auth/verify`, and gone after the assignment is removed.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::graph::{assert_graph_error, get, graph};
use crate::helpers::graph::{graph_app_token, spawn_with_seed};
use crate::helpers::*;

const ASSIGNER: &str = "99999999-0000-4000-8000-000000000031";
const ASSIGNER_SECRET: &str = "assigner-secret-0123456789abcdefghijklmn";
const USER_READER: &str = "99999999-0000-4000-8000-000000000032";
const USER_READER_SECRET: &str = "user-reader-secret-0123456789abcdefghijk";
const GROUP_READER: &str = "99999999-0000-4000-8000-000000000033";
const GROUP_READER_SECRET: &str = "group-reader-secret-0123456789abcdefghij";
const RESOURCE: &str = "99999999-0000-4000-8000-000000000034";
const RESOURCE_SECRET: &str = "resource-secret-0123456789abcdefghijklmn";
const DEFAULT_ACCESS: &str = "00000000-0000-0000-0000-000000000000";
const UNKNOWN_ID: &str = "00000000-0000-4000-8000-00000000dead";
const USER_ADMIN: &str = "uadmin@contoso.com";
const ADMIN_PASSWORD: &str = "admin-password";

/// The standard seed plus an application holding `AppRoleAssignment.ReadWrite.All`
/// (and `Application.ReadWrite.All`, to find and delete the resource), one with
/// `User.Read.All`, one with `Group.Read.All`, a resource API with two app roles, and a
/// User Administrator.
async fn spawn_app(backend: &Backend) -> TestApp {
    let mut clients = String::new();
    for (id, secret, permissions) in [
        (
            ASSIGNER,
            ASSIGNER_SECRET,
            r#""AppRoleAssignment.ReadWrite.All", "Application.ReadWrite.All""#,
        ),
        (USER_READER, USER_READER_SECRET, r#""User.Read.All""#),
        (GROUP_READER, GROUP_READER_SECRET, r#""Group.Read.All""#),
    ] {
        clients.push_str(&format!(
            r#"
[[clients]]
client_id = "{id}"
name = "graph caller {id}"
secret = "{secret}"
grant_types = ["client_credentials"]
graph_permissions = [{permissions}]
"#
        ));
    }
    clients.push_str(&format!(
        r#"
[[clients]]
client_id = "{RESOURCE}"
name = "Orders API"
secret = "{RESOURCE_SECRET}"
app_roles = ["Orders.Admin", "Tasks.Write"]

[[users]]
email = "{USER_ADMIN}"
password = "{ADMIN_PASSWORD}"
name = "User Admin"
directory_roles = ["User Administrator"]
"#
    ));
    spawn_with_seed(backend, &clients).await
}

/// The resource's service principal id and its app role ids by value.
async fn resource(app: &TestApp, token: &str) -> (String, Value) {
    let path = format!("/v1.0/servicePrincipals(appId='{RESOURCE}')");
    let (status, sp) = get(app, &path, token).await;
    assert_eq!(status, 200, "{sp}");
    let mut roles = serde_json::Map::new();
    for r in sp["appRoles"].as_array().unwrap() {
        roles.insert(r["value"].as_str().unwrap().to_owned(), r["id"].clone());
    }
    (sp["id"].as_str().unwrap().to_owned(), Value::Object(roles))
}

fn assignments_path(user: &str) -> String {
    format!("/v1.0/users/{user}/appRoleAssignments")
}

async fn assign(app: &TestApp, token: Option<&str>, user: &str, body: Value) -> (u16, Value) {
    graph(
        app,
        Method::POST,
        &assignments_path(user),
        token,
        Some(body),
    )
    .await
}

fn body(principal: &str, resource: &str, role: &Value) -> Value {
    json!({"principalId": principal, "resourceId": resource, "appRoleId": role})
}

/// The roles of alice's next access token for the resource, and of `/auth/verify`.
async fn resource_roles(app: &TestApp, client: &str) -> (Vec<String>, Vec<String>) {
    let tokens = app.alice_tokens(&format!("api://{client}/.default")).await;
    let at = tokens["access_token"].as_str().unwrap();
    let names = |v: &Value| -> Vec<String> {
        let mut n: Vec<String> = v
            .as_array()
            .map(|a| a.iter().map(|r| r.as_str().unwrap().to_owned()).collect())
            .unwrap_or_default();
        n.sort();
        n
    };
    let verified: Value = app.verify(at).await.json().await.unwrap();
    (names(&claims(at)["roles"]), names(&verified["roles"]))
}

on_every_backend!(app_roles_are_assigned_listed_and_removed);
async fn app_roles_are_assigned_listed_and_removed(backend: Backend) {
    let app = spawn_app(&backend).await;
    let token = graph_app_token(&app, ASSIGNER, ASSIGNER_SECRET).await;
    let (sp, roles) = resource(&app, &token).await;
    let admin_role = roles["Orders.Admin"].clone();

    // 401: no token.
    let (status, err) = get(&app, &assignments_path(ALICE_OID), "").await;
    assert_graph_error(status, &err, 401, "InvalidAuthenticationToken");
    let (status, err) = assign(&app, None, ALICE_OID, body(ALICE_OID, &sp, &admin_role)).await;
    assert_graph_error(status, &err, 401, "InvalidAuthenticationToken");

    // Success: 201 with the assignment as Graph shows it.
    let (status, created) = assign(
        &app,
        Some(&token),
        ALICE_OID,
        body(ALICE_OID, &sp, &admin_role),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["appRoleId"], admin_role);
    assert_eq!(created["principalId"], ALICE_OID);
    assert_eq!(created["principalType"], "User");
    assert_eq!(created["principalDisplayName"], "Alice Smith");
    assert_eq!(created["resourceId"], json!(sp));
    assert_eq!(created["resourceDisplayName"], "Orders API");
    assert!(created["createdDateTime"].as_str().unwrap().ends_with('Z'));
    assert!(
        created["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with(&format!("users('{ALICE_OID}')/appRoleAssignments/$entity")),
        "{created}"
    );
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(id.len() >= 40, "{id}");

    // Default access (appRoleId all zeros), by userPrincipalName in the path.
    let zero = json!(DEFAULT_ACCESS);
    let (status, default) = assign(&app, Some(&token), ALICE, body(ALICE_OID, &sp, &zero)).await;
    assert_eq!(status, 201, "{default}");
    assert_eq!(default["appRoleId"], DEFAULT_ACCESS);

    // Duplicate: Graph's 400.
    let (status, err) = assign(
        &app,
        Some(&token),
        ALICE_OID,
        body(ALICE_OID, &sp, &admin_role),
    )
    .await;
    assert_graph_error(status, &err, 400, "Request_BadRequest");
    assert_eq!(
        err["error"]["message"],
        "Permission being assigned already exists on the object."
    );

    // Listed, read also with User.Read.All; not with Group.Read.All.
    let reader = graph_app_token(&app, USER_READER, USER_READER_SECRET).await;
    let (status, list) = get(&app, &assignments_path(ALICE_OID), &reader).await;
    assert_eq!(status, 200, "{list}");
    let ids: Vec<&str> = list["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2, "{list}");
    assert!(ids.contains(&id.as_str()));
    assert!(
        list["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("/appRoleAssignments")
    );

    // 403: reading with Group.Read.All, writing with User.Read.All.
    let groups_only = graph_app_token(&app, GROUP_READER, GROUP_READER_SECRET).await;
    let (status, err) = get(&app, &assignments_path(ALICE_OID), &groups_only).await;
    assert_graph_error(status, &err, 403, "Authorization_RequestDenied");
    let tasks = roles["Tasks.Write"].clone();
    let (status, err) = assign(&app, Some(&reader), ALICE_OID, body(ALICE_OID, &sp, &tasks)).await;
    assert_graph_error(status, &err, 403, "Authorization_RequestDenied");
    let one = format!("{}/{id}", assignments_path(ALICE_OID));
    let (status, err) = graph(&app, Method::DELETE, &one, Some(&reader), None).await;
    assert_graph_error(status, &err, 403, "Authorization_RequestDenied");

    // Validation: Graph's 400s, nothing assigned.
    let carol = "carol@contoso.com";
    for (bad, words) in [
        (body(UNKNOWN_ID, &sp, &tasks), "principalId"),
        (body(ALICE_OID, UNKNOWN_ID, &tasks), UNKNOWN_ID),
        (body(ALICE_OID, &sp, &json!(UNKNOWN_ID)), "not found"),
        (
            json!({"principalId": ALICE_OID, "resourceId": sp}),
            "appRoleId",
        ),
        (body(ALICE_OID, &sp, &json!("Tasks.Write")), "appRoleId"),
        (json!([1]), "JSON"),
    ] {
        let (status, err) = assign(&app, Some(&token), ALICE_OID, bad.clone()).await;
        assert_graph_error(status, &err, 400, "Request_BadRequest");
        let message = err["error"]["message"].as_str().unwrap();
        assert!(message.contains(words), "{bad}: {message}");
    }
    // Carol's path with alice as principal.
    let (status, err) = assign(&app, Some(&token), carol, body(ALICE_OID, &sp, &tasks)).await;
    assert_graph_error(status, &err, 400, "Request_BadRequest");
    let (_, list) = get(&app, &assignments_path(ALICE_OID), &token).await;
    assert_eq!(list["value"].as_array().unwrap().len(), 2, "{list}");

    // 404: unknown user, unknown assignment.
    let (status, err) = get(&app, &assignments_path(UNKNOWN_ID), &token).await;
    assert_graph_error(status, &err, 404, "Request_ResourceNotFound");
    let (status, err) = assign(
        &app,
        Some(&token),
        UNKNOWN_ID,
        body(UNKNOWN_ID, &sp, &tasks),
    )
    .await;
    assert_graph_error(status, &err, 404, "Request_ResourceNotFound");
    let missing = format!("{}/no-such-assignment", assignments_path(ALICE_OID));
    let (status, err) = graph(&app, Method::DELETE, &missing, Some(&token), None).await;
    assert_graph_error(status, &err, 404, "Request_ResourceNotFound");
    // Another user's assignment is not found under carol.
    let elsewhere = format!("{}/{id}", assignments_path(carol));
    let (status, err) = graph(&app, Method::DELETE, &elsewhere, Some(&token), None).await;
    assert_graph_error(status, &err, 404, "Request_ResourceNotFound");

    // Removed: 204, then 404; audited.
    let (status, _) = graph(&app, Method::DELETE, &one, Some(&token), None).await;
    assert_eq!(status, 204);
    let (status, err) = graph(&app, Method::DELETE, &one, Some(&token), None).await;
    assert_graph_error(status, &err, 404, "Request_ResourceNotFound");
    let assigned = app.audit_events("user.app_role_assigned").await;
    assert_eq!(assigned.len(), 2);
    let removed = app.audit_events("user.app_role_removed").await;
    assert_eq!(removed.len(), 1);
    let detail: Value = serde_json::from_str(&removed[0].detail).unwrap();
    assert_eq!(detail["via"], "graph");
    assert_eq!(detail["assignment_id"], json!(id));
    assert_eq!(detail["app_role"], "Orders.Admin");
    assert_eq!(detail["resource"], RESOURCE);
    assert_eq!(removed[0].user_id.as_deref(), Some(ALICE_OID));
    assert_eq!(removed[0].actor.as_deref(), Some(ASSIGNER));

    // Deleting the resource application removes its assignments.
    let path = format!("/v1.0/applications(appId='{RESOURCE}')");
    let (status, _) = graph(&app, Method::DELETE, &path, Some(&token), None).await;
    assert_eq!(status, 204);
    let (_, list) = get(&app, &assignments_path(ALICE_OID), &token).await;
    assert_eq!(list["value"], json!([]), "{list}");
}

on_every_backend!(an_assigned_app_role_is_in_the_next_token_for_its_application);
async fn an_assigned_app_role_is_in_the_next_token_for_its_application(backend: Backend) {
    let app = spawn_app(&backend).await;
    let token = graph_app_token(&app, ASSIGNER, ASSIGNER_SECRET).await;
    let (sp, roles) = resource(&app, &token).await;
    let tenant_wide = vec!["Admin".to_owned(), "Tasks.Write".to_owned()];
    assert_eq!(resource_roles(&app, RESOURCE).await.0, tenant_wide);

    // Orders.Admin assigned, and Tasks.Write, which alice holds tenant-wide: each once.
    let mut ids = Vec::new();
    for value in ["Orders.Admin", "Tasks.Write"] {
        let b = body(ALICE_OID, &sp, &roles[value]);
        let (status, created) = assign(&app, Some(&token), ALICE_OID, b).await;
        assert_eq!(status, 201, "{created}");
        ids.push(created["id"].as_str().unwrap().to_owned());
    }
    let want = vec![
        "Admin".to_owned(),
        "Orders.Admin".to_owned(),
        "Tasks.Write".to_owned(),
    ];
    let (in_token, in_verify) = resource_roles(&app, RESOURCE).await;
    assert_eq!(in_token, want);
    assert_eq!(in_verify, want);
    // Only in tokens for that application.
    assert_eq!(resource_roles(&app, API_APP).await.0, tenant_wide);

    // The signed-in user reads their own; an application may not use /me.
    let me = app.alice_tokens("User.Read").await;
    let me = me["access_token"].as_str().unwrap();
    let (status, mine) = get(&app, "/v1.0/me/appRoleAssignments", me).await;
    assert_eq!(status, 200, "{mine}");
    assert_eq!(mine["value"].as_array().unwrap().len(), 2, "{mine}");
    let (status, err) = get(&app, "/v1.0/me/appRoleAssignments", &token).await;
    assert_graph_error(status, &err, 400, "Request_BadRequest");
    // A signed-in user without a directory role may not assign (delegated write).
    let (status, err) = assign(
        &app,
        Some(me),
        ALICE_OID,
        body(ALICE_OID, &sp, &json!(DEFAULT_ACCESS)),
    )
    .await;
    assert_graph_error(status, &err, 403, "Authorization_RequestDenied");

    // A signed-in User Administrator assigns with delegated AppRoleAssignment.ReadWrite.All.
    let admin = app
        .password_tokens(
            USER_ADMIN,
            ADMIN_PASSWORD,
            "AppRoleAssignment.ReadWrite.All",
        )
        .await;
    let admin = admin["access_token"].as_str().unwrap();
    let b = body(ALICE_OID, &sp, &json!(DEFAULT_ACCESS));
    let (status, created) = assign(&app, Some(admin), ALICE_OID, b).await;
    assert_eq!(status, 201, "{created}");
    let path = format!(
        "{}/{}",
        assignments_path(ALICE_OID),
        created["id"].as_str().unwrap()
    );
    let (status, _) = graph(&app, Method::DELETE, &path, Some(admin), None).await;
    assert_eq!(status, 204);

    // The resource's appRoleAssignedTo lists them (also by appId).
    for path in [
        format!("/v1.0/servicePrincipals/{sp}/appRoleAssignedTo"),
        format!("/v1.0/servicePrincipals(appId='{RESOURCE}')/appRoleAssignedTo"),
    ] {
        let (status, list) = get(&app, &path, &token).await;
        assert_eq!(status, 200, "{list}");
        let got: Vec<&Value> = list["value"].as_array().unwrap().iter().collect();
        assert_eq!(got.len(), 2, "{list}");
        assert!(
            got.iter()
                .all(|a| a["principalId"] == ALICE_OID && a["resourceId"] == json!(sp))
        );
        assert!(
            list["@odata.context"]
                .as_str()
                .unwrap()
                .ends_with(&format!("servicePrincipals('{sp}')/appRoleAssignedTo"))
        );
    }
    let path = format!("/v1.0/servicePrincipals/{UNKNOWN_ID}/appRoleAssignedTo");
    let (status, err) = get(&app, &path, &token).await;
    assert_graph_error(status, &err, 404, "Request_ResourceNotFound");
    let path = format!("/v1.0/servicePrincipals/{sp}/appRoleAssignedTo");
    let (status, err) = get(&app, &path, "").await;
    assert_graph_error(status, &err, 401, "InvalidAuthenticationToken");
    let users_only = graph_app_token(&app, USER_READER, USER_READER_SECRET).await;
    let (status, err) = get(&app, &path, &users_only).await;
    assert_graph_error(status, &err, 403, "Authorization_RequestDenied");

    // Removed: gone from the next token.
    let one = format!("{}/{}", assignments_path(ALICE_OID), ids[0]);
    let (status, _) = graph(&app, Method::DELETE, &one, Some(&token), None).await;
    assert_eq!(status, 204);
    let (in_token, in_verify) = resource_roles(&app, RESOURCE).await;
    assert_eq!(in_token, tenant_wide);
    assert_eq!(in_verify, tenant_wide);
}
