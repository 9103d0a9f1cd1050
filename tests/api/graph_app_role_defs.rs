//! Applications' app roles kept whole (`id`, `value`, `displayName`, `description`,
//! `allowedMemberTypes`, `isEnabled`): roles from the seed file get the defaults, an
//! enabled role must be disabled before it is removed, a disabled role leaves tokens
//! and is not assigned anew, an Application-only role is not assigned to a user.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::graph::{add_people, assert_graph_error, get, graph};
use crate::helpers::graph::{graph_app_token, spawn_with_seed};
use crate::helpers::*;
use localidp::graph::application::app_role_id;

const WRITER: &str = "99999999-0000-4000-8000-000000000041";
const WRITER_SECRET: &str = "role-writer-secret-0123456789abcdefghijk";
const RESOURCE: &str = "99999999-0000-4000-8000-000000000042";
const RESOURCE_SECRET: &str = "resource-secret-0123456789abcdefghijklmn";
const GIVEN_ID: &str = "5b0c8bd7-5b36-4d0c-9c53-9f1a6d6f0a99";

/// The standard seed plus a client holding `AppRoleAssignment.ReadWrite.All` and
/// `Application.ReadWrite.All`, and a resource API with two plain app roles.
async fn spawn_app(backend: &Backend) -> TestApp {
    spawn_with_seed(
        backend,
        &format!(
            r#"
[[clients]]
client_id = "{WRITER}"
name = "role writer"
secret = "{WRITER_SECRET}"
grant_types = ["client_credentials"]
graph_permissions = ["AppRoleAssignment.ReadWrite.All", "Application.ReadWrite.All"]

[[clients]]
client_id = "{RESOURCE}"
name = "Orders API"
secret = "{RESOURCE_SECRET}"
app_roles = ["Orders.Admin", "Orders.Read"]
"#
        ),
    )
    .await
}

fn resource_path() -> String {
    format!("/v1.0/applications(appId='{RESOURCE}')")
}

async fn roles_of(app: &TestApp, token: &str) -> Vec<Value> {
    let (status, body) = get(app, &resource_path(), token).await;
    assert_eq!(status, 200, "{body}");
    body["appRoles"].as_array().unwrap().clone()
}

async fn patch_roles(app: &TestApp, token: &str, roles: Value) -> (u16, Value) {
    let body = json!({ "appRoles": roles });
    graph(
        app,
        Method::PATCH,
        &resource_path(),
        Some(token),
        Some(body),
    )
    .await
}

/// Assigns the role (by id) of the resource to the user.
async fn assign(app: &TestApp, token: &str, user: &str, role_id: &str) -> (u16, Value) {
    let path = format!("/v1.0/servicePrincipals(appId='{RESOURCE}')");
    let (status, sp) = get(app, &path, token).await;
    assert_eq!(status, 200, "{sp}");
    let body = json!({"principalId": user, "resourceId": sp["id"], "appRoleId": role_id});
    let path = format!("/v1.0/users/{user}/appRoleAssignments");
    graph(app, Method::POST, &path, Some(token), Some(body)).await
}

/// The roles of alice's next access token for the resource.
async fn alice_roles(app: &TestApp) -> Vec<String> {
    let tokens = app
        .alice_tokens(&format!("api://{RESOURCE}/.default"))
        .await;
    let c = claims(tokens["access_token"].as_str().unwrap());
    c["roles"]
        .as_array()
        .map(|a| a.iter().map(|r| r.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

fn id(v: &str) -> String {
    app_role_id(RESOURCE, v)
}

on_every_backend!(app_roles_are_kept_whole_with_stable_ids);
async fn app_roles_are_kept_whole_with_stable_ids(backend: Backend) {
    let app = spawn_app(&backend).await;
    let token = graph_app_token(&app, WRITER, WRITER_SECRET).await;
    // Plain roles (seed file, CLI) have the defaults and their stable ids.
    let roles = roles_of(&app, &token).await;
    assert_eq!(
        roles[0],
        json!({"allowedMemberTypes": ["User", "Application"], "description": "Orders.Admin",
               "displayName": "Orders.Admin", "id": id("Orders.Admin"), "isEnabled": true,
               "origin": "Application", "value": "Orders.Admin"})
    );
    assert_eq!(roles[1]["id"], id("Orders.Read"));

    // Whole roles over Graph, kept as given.
    let (status, created) = graph(
        &app,
        Method::POST,
        "/v1.0/applications",
        Some(&token),
        Some(json!({"displayName": "Inventory", "appRoles": [
            {"value": "Inventory.Read", "displayName": "Read inventory", "description": "Reads all items",
             "allowedMemberTypes": ["User"]},
            {"id": GIVEN_ID, "value": "Inventory.Sync", "allowedMemberTypes": ["application"], "isEnabled": false},
        ]})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let app_id = created["appId"].as_str().unwrap();
    let want = json!([
        {"allowedMemberTypes": ["User"], "description": "Reads all items", "displayName": "Read inventory",
         "id": app_role_id(app_id, "Inventory.Read"), "isEnabled": true, "origin": "Application",
         "value": "Inventory.Read"},
        {"allowedMemberTypes": ["Application"], "description": "Inventory.Sync", "displayName": "Inventory.Sync",
         "id": GIVEN_ID, "isEnabled": false, "origin": "Application", "value": "Inventory.Sync"},
    ]);
    assert_eq!(created["appRoles"], want);
    let (status, read) = get(
        &app,
        &format!("/v1.0/applications(appId='{app_id}')"),
        &token,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(read["appRoles"], want);

    for bad in [
        json!([{"value": "A", "allowedMemberTypes": ["Robot"]}]),
        json!([{"value": "A", "allowedMemberTypes": []}]),
        json!([{"value": "A", "id": "not-a-guid"}]),
        json!([{"value": "A", "id": GIVEN_ID}, {"value": "B", "id": GIVEN_ID}]),
    ] {
        let body = json!({"displayName": "x", "appRoles": bad});
        let (status, err) = graph(
            &app,
            Method::POST,
            "/v1.0/applications",
            Some(&token),
            Some(body),
        )
        .await;
        assert_graph_error(status, &err, 400, "Request_BadRequest");
    }
}

on_every_backend!(an_enabled_role_is_disabled_before_it_is_removed);
async fn an_enabled_role_is_disabled_before_it_is_removed(backend: Backend) {
    let app = spawn_app(&backend).await;
    let token = graph_app_token(&app, WRITER, WRITER_SECRET).await;
    let before = roles_of(&app, &token).await;

    let (status, err) = patch_roles(&app, &token, json!([{"value": "Orders.Admin"}])).await;
    assert_graph_error(status, &err, 400, "CannotDeleteOrUpdateEnabledEntitlement");
    let renamed =
        json!([{"value": "Orders.Admin"}, {"id": id("Orders.Read"), "value": "Orders.ReadAll"}]);
    let (status, err) = patch_roles(&app, &token, renamed).await;
    assert_graph_error(status, &err, 400, "CannotDeleteOrUpdateEnabledEntitlement");
    assert_eq!(roles_of(&app, &token).await, before, "nothing changed");

    // Disabled in one PATCH (its names may change), removed in the next.
    let disabled = json!([{"value": "Orders.Admin"},
        {"id": id("Orders.Read"), "value": "Orders.Read", "displayName": "Read orders", "isEnabled": false}]);
    let (status, body) = patch_roles(&app, &token, disabled).await;
    assert_eq!(status, 204, "{body}");
    let roles = roles_of(&app, &token).await;
    assert_eq!(roles[0], before[0]);
    assert_eq!(roles[1]["id"], id("Orders.Read"));
    assert_eq!(roles[1]["isEnabled"], false);
    assert_eq!(roles[1]["displayName"], "Read orders");
    let (status, body) = patch_roles(&app, &token, json!([{"value": "Orders.Admin"}])).await;
    assert_eq!(status, 204, "{body}");
    let roles = roles_of(&app, &token).await;
    assert_eq!(roles, vec![before[0].clone()]);
}

on_every_backend!(disabled_roles_leave_tokens_and_are_not_assigned_anew);
async fn disabled_roles_leave_tokens_and_are_not_assigned_anew(backend: Backend) {
    let app = spawn_app(&backend).await;
    let token = graph_app_token(&app, WRITER, WRITER_SECRET).await;
    let (status, body) = assign(&app, &token, ALICE_OID, &id("Orders.Read")).await;
    assert_eq!(status, 201, "{body}");
    assert!(alice_roles(&app).await.contains(&"Orders.Read".to_owned()));

    let off = json!([{"value": "Orders.Admin"}, {"value": "Orders.Read", "isEnabled": false}]);
    let (status, body) = patch_roles(&app, &token, off).await;
    assert_eq!(status, 204, "{body}");
    assert!(
        !alice_roles(&app).await.contains(&"Orders.Read".to_owned()),
        "a disabled role is in no token"
    );
    let someone = add_people(&app, "someone", 1).await.remove(0);
    let (status, err) = assign(&app, &token, &someone, &id("Orders.Read")).await;
    assert_graph_error(status, &err, 400, "Request_BadRequest");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("disabled"),
        "{err}"
    );

    // Enabled again: the assignment, kept, counts again.
    let on = json!([{"value": "Orders.Admin"}, {"value": "Orders.Read", "isEnabled": true}]);
    let (status, body) = patch_roles(&app, &token, on).await;
    assert_eq!(status, 204, "{body}");
    assert!(alice_roles(&app).await.contains(&"Orders.Read".to_owned()));
}

on_every_backend!(application_only_roles_are_not_assigned_to_users);
async fn application_only_roles_are_not_assigned_to_users(backend: Backend) {
    let app = spawn_app(&backend).await;
    let token = graph_app_token(&app, WRITER, WRITER_SECRET).await;
    let roles = json!([{"value": "Orders.Admin"}, {"value": "Orders.Read"},
        {"value": "Orders.Sync", "allowedMemberTypes": ["Application"]},
        {"value": "Orders.Approve", "allowedMemberTypes": ["User"]}]);
    let (status, body) = patch_roles(&app, &token, roles).await;
    assert_eq!(status, 204, "{body}");
    let (status, err) = assign(&app, &token, ALICE_OID, &id("Orders.Sync")).await;
    assert_graph_error(status, &err, 400, "Request_BadRequest");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("applications"),
        "{err}"
    );
    let (status, body) = assign(&app, &token, ALICE_OID, &id("Orders.Approve")).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["appRoleId"], id("Orders.Approve"));
    assert!(
        alice_roles(&app)
            .await
            .contains(&"Orders.Approve".to_owned())
    );
}

/// The roles of the resource client's own client-credentials token.
async fn own_app_roles(app: &TestApp) -> Value {
    let res = app
        .token(&[
            ("grant_type", "client_credentials"),
            ("client_id", RESOURCE),
            ("client_secret", RESOURCE_SECRET),
            ("scope", &format!("api://{API_APP}/.default")),
        ])
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    claims(body["access_token"].as_str().unwrap())["roles"].clone()
}

on_every_backend!(the_client_s_own_tokens_and_keys_carry_its_enabled_application_roles);
async fn the_client_s_own_tokens_and_keys_carry_its_enabled_application_roles(backend: Backend) {
    let app = spawn_app(&backend).await;
    let token = graph_app_token(&app, WRITER, WRITER_SECRET).await;
    assert_eq!(
        own_app_roles(&app).await,
        json!(["Orders.Admin", "Orders.Read"])
    );
    let roles = json!([{"value": "Orders.Admin", "allowedMemberTypes": ["User"]},
        {"value": "Orders.Read", "isEnabled": false},
        {"value": "Orders.Sync", "allowedMemberTypes": ["Application"]}]);
    let (status, body) = patch_roles(&app, &token, roles).await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(own_app_roles(&app).await, json!(["Orders.Sync"]));
    // Nor may its API keys carry a disabled or a User-only role.
    let keys = format!("{}/apiKeys", resource_path());
    for role in ["Orders.Admin", "Orders.Read"] {
        let body = json!({"displayName": "k", "roles": [role]});
        let (status, err) = graph(&app, Method::POST, &keys, Some(&token), Some(body)).await;
        assert_graph_error(status, &err, 400, "Request_BadRequest");
    }
    let body = json!({"displayName": "k", "roles": ["Orders.Sync"]});
    let (status, created) = graph(&app, Method::POST, &keys, Some(&token), Some(body)).await;
    assert_eq!(status, 201, "{created}");
}
