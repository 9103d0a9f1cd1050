//! Microsoft Graph v1.0 groups: created, read, listed, changed and deleted; members
//! added and removed by `$ref`; `memberOf`; and a membership added over Graph in the
//! user's next token.

use serde_json::{Value, json};

use crate::helpers::graph::{graph, graph_app_token, spawn_with_seed};
use crate::helpers::*;

const GROUP_ADMIN: &str = "99999999-0000-4000-8000-000000000011";
const GROUP_ADMIN_SECRET: &str = "group-admin-secret-0123456789abcdefghijk";
const USER_READER: &str = "99999999-0000-4000-8000-000000000012";
const USER_READER_SECRET: &str = "user-reader-secret-0123456789abcdefghijk";
const DIRECTORY_OBJECTS: &str = "https://graph.microsoft.com/v1.0/directoryObjects";

/// The standard seed plus a client with `Group.ReadWrite.All` and one with only
/// `User.Read.All`.
async fn spawn_groups_app(backend: &Backend) -> TestApp {
    spawn_with_seed(
        backend,
        &format!(
            r#"
[[clients]]
client_id = "{GROUP_ADMIN}"
name = "group admin"
secret = "{GROUP_ADMIN_SECRET}"
grant_types = ["client_credentials"]
graph_permissions = ["Group.ReadWrite.All"]

[[clients]]
client_id = "{USER_READER}"
name = "user reader"
secret = "{USER_READER_SECRET}"
grant_types = ["client_credentials"]
graph_permissions = ["User.Read.All"]
"#
        ),
    )
    .await
}

/// The standard seed plus these `[[clients]]` entries (TOML).
pub(crate) async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    graph(app, method, path, Some(token), body).await
}

pub(crate) async fn get(app: &TestApp, path: &str, token: &str) -> (u16, Value) {
    call(app, reqwest::Method::GET, path, token, None).await
}

pub(crate) fn assert_error(status: u16, body: &Value, want: u16, code: &str) {
    assert_eq!(status, want, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["innerError"]["request-id"].is_string(),
        "{body}"
    );
}

async fn create_group(app: &TestApp, token: &str, name: &str) -> Value {
    let (status, body) = call(
        app,
        reqwest::Method::POST,
        "/v1.0/groups",
        token,
        Some(json!({
            "displayName": name,
            "mailNickname": name.to_lowercase().replace(' ', "-"),
            "mailEnabled": false,
            "securityEnabled": true,
            "description": format!("{name} team"),
        })),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body
}

async fn add_member(app: &TestApp, token: &str, group: &str, reference: &str) -> (u16, Value) {
    call(
        app,
        reqwest::Method::POST,
        &format!("/v1.0/groups/{group}/members/$ref"),
        token,
        Some(json!({ "@odata.id": reference })),
    )
    .await
}

/// The objects' display names; lists in object id order, compared sorted by name.
fn sorted_names(list: &Value) -> Vec<String> {
    let mut n = names(list);
    n.sort();
    n
}

fn names(list: &Value) -> Vec<String> {
    list["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["displayName"].as_str().unwrap().to_owned())
        .collect()
}

on_every_backend!(groups_are_created_read_listed_changed_and_deleted);
async fn groups_are_created_read_listed_changed_and_deleted(backend: Backend) {
    let app = spawn_groups_app(&backend).await;
    let token = graph_app_token(&app, GROUP_ADMIN, GROUP_ADMIN_SECRET).await;

    let created = create_group(&app, &token, "Engineering").await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok());
    assert_eq!(
        created["@odata.context"],
        format!("{PUBLIC_URL}/v1.0/$metadata#groups/$entity")
    );
    assert_eq!(created["displayName"], "Engineering");
    assert_eq!(created["description"], "Engineering team");
    assert_eq!(created["mailNickname"], "engineering");
    assert_eq!(created["mailEnabled"], false);
    assert_eq!(created["securityEnabled"], true);
    assert_eq!(created["groupTypes"], json!([]));

    // Graph's required properties, and a name another group has.
    for body in [
        json!({"mailNickname": "x", "mailEnabled": false, "securityEnabled": true}),
        json!({"displayName": "X", "mailEnabled": false, "securityEnabled": true}),
        json!({"displayName": "X", "mailNickname": "x", "securityEnabled": true}),
    ] {
        let (status, err) = call(
            &app,
            reqwest::Method::POST,
            "/v1.0/groups",
            &token,
            Some(body),
        )
        .await;
        assert_error(status, &err, 400, "Request_BadRequest");
    }
    let (status, err) = call(
        &app,
        reqwest::Method::POST,
        "/v1.0/groups",
        &token,
        Some(json!({"displayName": "Engineering", "mailNickname": "e", "mailEnabled": false, "securityEnabled": true})),
    )
    .await;
    assert_error(status, &err, 400, "Request_BadRequest");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("displayName")
    );

    let (status, got) = get(
        &app,
        &format!("/v1.0/groups/{id}?$select=id,displayName"),
        &token,
    )
    .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(
        got,
        json!({
            "@odata.context": format!("{PUBLIC_URL}/v1.0/$metadata#groups(id,displayName)/$entity"),
            "id": id,
            "displayName": "Engineering",
        })
    );

    // The seed's groups and the new ones, paged, filtered and selected.
    create_group(&app, &token, "Engineering Leads").await;
    let (status, all) = get(&app, "/v1.0/groups", &token).await;
    assert_eq!(status, 200, "{all}");
    let mut all_names = names(&all);
    all_names.sort();
    assert_eq!(
        all_names,
        ["Engineering", "Engineering Leads", "admins", "everyone"]
    );
    let (_, page) = get(&app, "/v1.0/groups?$top=3", &token).await;
    assert_eq!(page["value"].as_array().unwrap().len(), 3);
    let next = page["@odata.nextLink"].as_str().unwrap().to_owned();
    let (_, rest) = get(&app, &next, &token).await;
    assert_eq!(rest["value"].as_array().unwrap().len(), 1);
    assert!(rest.get("@odata.nextLink").is_none());
    let (_, starts) = get(
        &app,
        "/v1.0/groups?$filter=startswith(displayName,'engin')",
        &token,
    )
    .await;
    let mut starts = names(&starts);
    starts.sort();
    assert_eq!(starts, ["Engineering", "Engineering Leads"]);
    let (_, eq) = get(
        &app,
        "/v1.0/groups?$filter=displayName eq 'ADMINS'&$select=displayName",
        &token,
    )
    .await;
    assert_eq!(eq["value"], json!([{"displayName": "admins"}]));
    let (status, err) = get(&app, "/v1.0/groups?$filter=mail eq 'x'", &token).await;
    assert_error(status, &err, 400, "BadRequest");
    assert_eq!(
        err["error"]["message"],
        "Unsupported or invalid query filter clause specified for property 'mail' of resource 'Group'."
    );
    let (status, err) = get(&app, "/v1.0/groups?$select=jobTitle", &token).await;
    assert_error(status, &err, 400, "BadRequest");

    // PATCH, then DELETE.
    let (status, _) = call(
        &app,
        reqwest::Method::PATCH,
        &format!("/v1.0/groups/{id}"),
        &token,
        Some(json!({"displayName": "Platform", "description": "the platform team"})),
    )
    .await;
    assert_eq!(status, 204);
    let (_, got) = get(&app, &format!("/v1.0/groups/{id}"), &token).await;
    assert_eq!(got["displayName"], "Platform");
    assert_eq!(got["description"], "the platform team");
    assert_eq!(got["mailNickname"], "engineering");
    let (status, err) = call(
        &app,
        reqwest::Method::PATCH,
        &format!("/v1.0/groups/{id}"),
        &token,
        Some(json!({"displayName": "  "})),
    )
    .await;
    assert_error(status, &err, 400, "Request_BadRequest");
    let (status, _) = call(
        &app,
        reqwest::Method::DELETE,
        &format!("/v1.0/groups/{id}"),
        &token,
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, err) = get(&app, &format!("/v1.0/groups/{id}"), &token).await;
    assert_error(status, &err, 404, "Request_ResourceNotFound");
    let (status, err) = call(
        &app,
        reqwest::Method::DELETE,
        &format!("/v1.0/groups/{id}"),
        &token,
        None,
    )
    .await;
    assert_error(status, &err, 404, "Request_ResourceNotFound");

    for kind in ["group.created", "group.updated", "group.deleted"] {
        let rows: Vec<_> = app
            .audit_events(kind)
            .await
            .into_iter()
            .filter(|e| e.detail.contains(&id))
            .collect();
        assert_eq!(rows.len(), 1, "{kind}");
        assert_eq!(rows[0].actor.as_deref(), Some(GROUP_ADMIN), "{kind}");
        assert_eq!(rows[0].tenant_id.as_deref(), Some(CONTOSO_ID), "{kind}");
        assert!(rows[0].detail.contains("\"via\":\"graph\""), "{kind}");
    }
}

on_every_backend!(members_are_added_and_removed_by_reference);
async fn members_are_added_and_removed_by_reference(backend: Backend) {
    let app = spawn_groups_app(&backend).await;
    let token = graph_app_token(&app, GROUP_ADMIN, GROUP_ADMIN_SECRET).await;
    let group = create_group(&app, &token, "Readers").await;
    let gid = group["id"].as_str().unwrap().to_owned();

    let (status, body) = add_member(
        &app,
        &token,
        &gid,
        &format!("{DIRECTORY_OBJECTS}/{ALICE_OID}"),
    )
    .await;
    assert_eq!(status, 204, "{body}");
    let (status, members) = get(&app, &format!("/v1.0/groups/{gid}/members"), &token).await;
    assert_eq!(status, 200, "{members}");
    assert_eq!(
        members["@odata.context"],
        format!("{PUBLIC_URL}/v1.0/$metadata#directoryObjects")
    );
    let list = members["value"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["@odata.type"], "#microsoft.graph.user");
    assert_eq!(list[0]["id"], ALICE_OID);
    assert_eq!(list[0]["userPrincipalName"], ALICE);
    let (_, selected) = get(
        &app,
        &format!("/v1.0/groups/{gid}/members?$select=id"),
        &token,
    )
    .await;
    assert_eq!(
        selected["value"],
        json!([{"@odata.type": "#microsoft.graph.user", "id": ALICE_OID}])
    );

    // The same member again is Graph's 400.
    let (status, err) = add_member(
        &app,
        &token,
        &gid,
        &format!("{DIRECTORY_OBJECTS}/{ALICE_OID}"),
    )
    .await;
    assert_error(status, &err, 400, "Request_BadRequest");
    assert_eq!(
        err["error"]["message"],
        "One or more added object references already exist for the following modified properties: 'members'."
    );
    // Bad references, unknown users and groups.
    for bad in [
        "",
        ALICE_OID,
        "https://graph.microsoft.com/v1.0/groups/x",
        "not a url",
    ] {
        let (status, err) = add_member(&app, &token, &gid, bad).await;
        assert_error(status, &err, 400, "Request_BadRequest");
    }
    let unknown = "00000000-0000-4000-8000-00000000dead";
    let (status, err) = add_member(
        &app,
        &token,
        &gid,
        &format!("{DIRECTORY_OBJECTS}/{unknown}"),
    )
    .await;
    assert_error(status, &err, 404, "Request_ResourceNotFound");
    let (status, err) = add_member(
        &app,
        &token,
        unknown,
        &format!("{DIRECTORY_OBJECTS}/{ALICE_OID}"),
    )
    .await;
    assert_error(status, &err, 404, "Request_ResourceNotFound");
    let (status, err) = get(&app, &format!("/v1.0/groups/{unknown}/members"), &token).await;
    assert_error(status, &err, 404, "Request_ResourceNotFound");

    // The users form and this server's own base URL name users too.
    let reader = graph_app_token(&app, USER_READER, USER_READER_SECRET).await;
    let (_, carol) = get(&app, "/v1.0/users/carol@contoso.com", &reader).await;
    let carol_id = carol["id"].as_str().unwrap().to_owned();
    let (status, body) = add_member(
        &app,
        &token,
        &gid,
        &format!("{PUBLIC_URL}/v1.0/users/{carol_id}"),
    )
    .await;
    assert_eq!(status, 204, "{body}");
    let (_, members) = get(&app, &format!("/v1.0/groups/{gid}/members"), &token).await;
    assert_eq!(members["value"].as_array().unwrap().len(), 2);

    // Removed; removing again is 404.
    let path = format!("/v1.0/groups/{gid}/members/{carol_id}/$ref");
    let (status, _) = call(&app, reqwest::Method::DELETE, &path, &token, None).await;
    assert_eq!(status, 204);
    let (status, err) = call(&app, reqwest::Method::DELETE, &path, &token, None).await;
    assert_error(status, &err, 404, "Request_ResourceNotFound");
    let (_, members) = get(&app, &format!("/v1.0/groups/{gid}/members"), &token).await;
    assert_eq!(members["value"].as_array().unwrap().len(), 1);

    let added = app.audit_events("group.member_added").await;
    assert_eq!(added.len(), 2);
    let alice = added
        .iter()
        .find(|e| e.user_id.as_deref() == Some(ALICE_OID))
        .expect("alice's membership audited");
    assert_eq!(alice.actor.as_deref(), Some(GROUP_ADMIN));
    assert!(alice.detail.contains("\"via\":\"graph\""));
    assert!(alice.detail.contains(&gid));
    let removed = app.audit_events("group.member_removed").await;
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0].user_id.as_deref(), Some(carol_id.as_str()));
}

on_every_backend!(member_of_lists_a_user_s_groups_and_permissions_are_checked);
async fn member_of_lists_a_user_s_groups_and_permissions_are_checked(backend: Backend) {
    let app = spawn_groups_app(&backend).await;
    let admin = graph_app_token(&app, GROUP_ADMIN, GROUP_ADMIN_SECRET).await;
    let reader = graph_app_token(&app, USER_READER, USER_READER_SECRET).await;

    // A user-reading application sees memberOf, not the groups themselves.
    let (status, of) = get(&app, &format!("/v1.0/users/{ALICE_OID}/memberOf"), &reader).await;
    assert_eq!(status, 200, "{of}");
    assert_eq!(of["value"][0]["@odata.type"], "#microsoft.graph.group");
    assert_eq!(sorted_names(&of), ["admins", "everyone"]);
    let (status, err) = get(&app, "/v1.0/groups", &reader).await;
    assert_error(status, &err, 403, "Authorization_RequestDenied");
    let (status, err) = call(
        &app,
        reqwest::Method::POST,
        "/v1.0/groups",
        &reader,
        Some(json!({"displayName": "X", "mailNickname": "x", "mailEnabled": false, "securityEnabled": true})),
    )
    .await;
    assert_error(status, &err, 403, "Authorization_RequestDenied");
    let (status, err) = get(&app, "/v1.0/users/nobody@contoso.com/memberOf", &reader).await;
    assert_error(status, &err, 404, "Request_ResourceNotFound");

    // The signed-in user with User.Read; an app-only token cannot use /me.
    let tokens = app.alice_tokens("openid User.Read").await;
    let user_token = tokens["access_token"].as_str().unwrap();
    let (status, mine) = get(&app, "/v1.0/me/memberOf", user_token).await;
    assert_eq!(status, 200, "{mine}");
    assert_eq!(sorted_names(&mine), ["admins", "everyone"]);
    let (_, selected) = get(&app, "/v1.0/me/memberOf?$select=displayName", user_token).await;
    assert!(
        selected["value"]
            .as_array()
            .unwrap()
            .contains(&json!({"@odata.type": "#microsoft.graph.group", "displayName": "admins"})),
        "{selected}"
    );
    let (status, err) = get(&app, "/v1.0/groups", user_token).await;
    assert_error(status, &err, 403, "Authorization_RequestDenied");
    // Delegated Group.Read.All is not among the permissions Graph takes for it.
    let tokens = app.alice_tokens("openid Group.Read.All").await;
    let group_reader = tokens["access_token"].as_str().unwrap();
    assert_eq!(claims(group_reader)["scp"], "Group.Read.All");
    let (status, err) = get(&app, "/v1.0/me/memberOf", group_reader).await;
    assert_error(status, &err, 403, "Authorization_RequestDenied");
    let (status, err) = get(&app, "/v1.0/me/memberOf", &admin).await;
    assert_error(status, &err, 400, "Request_BadRequest");
    let res = app.http.get(app.url("/v1.0/groups")).send().await.unwrap();
    assert_eq!(res.status(), 401);
}

on_every_backend!(a_membership_added_over_graph_is_in_the_next_token);
async fn a_membership_added_over_graph_is_in_the_next_token(backend: Backend) {
    let app = spawn_groups_app(&backend).await;
    let token = graph_app_token(&app, GROUP_ADMIN, GROUP_ADMIN_SECRET).await;
    let before = app.alice_tokens("openid profile").await;
    let at = before["access_token"].as_str().unwrap().to_owned();
    assert_eq!(claims(&at)["groups"].as_array().map(Vec::len), Some(2));
    // /auth/verify of the earlier token, before the change, caches what it read.
    let who: Value = app.verify(&at).await.json().await.unwrap();
    assert_eq!(who["groups"].as_array().map(Vec::len), Some(2), "{who}");

    let group = create_group(&app, &token, "On Call").await;
    let gid = group["id"].as_str().unwrap().to_owned();
    let (status, _) = add_member(
        &app,
        &token,
        &gid,
        &format!("{DIRECTORY_OBJECTS}/{ALICE_OID}"),
    )
    .await;
    assert_eq!(status, 204);

    let after = app.alice_tokens("openid profile").await;
    let at = after["access_token"].as_str().unwrap().to_owned();
    let groups = claims(&at)["groups"].clone();
    assert!(groups.as_array().unwrap().contains(&json!(gid)), "{groups}");
    assert_eq!(groups.as_array().unwrap().len(), 3);
    let who: Value = app.verify(&at).await.json().await.unwrap();
    assert!(
        who["groups"].as_array().unwrap().contains(&json!(gid)),
        "{who}"
    );

    // Removed, or the group deleted: gone from the next token.
    let path = format!("/v1.0/groups/{gid}/members/{ALICE_OID}/$ref");
    let (status, _) = call(&app, reqwest::Method::DELETE, &path, &token, None).await;
    assert_eq!(status, 204);
    let next = app.alice_tokens("openid profile").await;
    let groups = claims(next["access_token"].as_str().unwrap())["groups"].clone();
    assert_eq!(groups.as_array().map(Vec::len), Some(2), "{groups}");
}
