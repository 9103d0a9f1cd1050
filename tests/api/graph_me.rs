//! Microsoft Graph v1.0 for signed-in users: `PATCH /me` (what Graph lets a user
//! change about themselves), directory roles (`Global Administrator`, `User
//! Administrator`) behind delegated writes, their `wids` claim and `memberOf`, and
//! paging of `members` and `memberOf`.

use serde_json::{Value, json};

use crate::helpers::graph::{
    add_people, assert_graph_error, cli, get, graph, graph_app_token, spawn_with_seed,
};
use crate::helpers::*;

const USER_ADMIN: &str = "uadmin@contoso.com";
const USER_ADMIN_OID: &str = "a11ce000-0000-4000-8000-0000000000a1";
const GLOBAL_ADMIN: &str = "gadmin@contoso.com";
const GLOBAL_ADMIN_OID: &str = "a11ce000-0000-4000-8000-0000000000a2";
const ADMIN_PASSWORD: &str = "admin-password";
const GLOBAL_ADMINISTRATOR: &str = "62e90394-69f5-4237-9190-012177145e10";
const USER_ADMINISTRATOR: &str = "fe930be7-5e62-47db-91af-98c3a49a38b1";
const STRONG_PASSWORD: &str = "Str0ng-Passw0rd!";
const DIRECTORY_OBJECTS: &str = "https://graph.microsoft.com/v1.0/directoryObjects";
const GRAPH_APP: &str = "99999999-0000-4000-8000-000000000021";
const GRAPH_APP_SECRET: &str = "graph-app-secret-0123456789abcdefghijklm";

/// The standard seed plus a User Administrator, a Global Administrator (directory roles
/// from the seed file) and an application with `User.ReadWrite.All` and
/// `Group.ReadWrite.All`.
async fn spawn_roles_app(backend: &Backend) -> TestApp {
    spawn_with_seed(
        backend,
        &format!(
            r#"
[[users]]
email = "{USER_ADMIN}"
password = "{ADMIN_PASSWORD}"
oid = "{USER_ADMIN_OID}"
name = "User Admin"
directory_roles = ["User Administrator"]

[[users]]
email = "{GLOBAL_ADMIN}"
password = "{ADMIN_PASSWORD}"
oid = "{GLOBAL_ADMIN_OID}"
name = "Global Admin"
directory_roles = ["global administrator", "User Administrator"]

[[clients]]
client_id = "{GRAPH_APP}"
name = "graph app"
secret = "{GRAPH_APP_SECRET}"
grant_types = ["client_credentials"]
graph_permissions = ["User.ReadWrite.All", "Group.ReadWrite.All", "RoleManagement.Read.Directory"]
"#
        ),
    )
    .await
}

/// A user's Graph access token with these delegated permissions.
async fn user_token(app: &TestApp, user: &str, scope: &str) -> String {
    app.password_tokens(user, ADMIN_PASSWORD, scope).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn new_user(upn: &str) -> Value {
    json!({
        "accountEnabled": true,
        "displayName": upn.split('@').next().unwrap(),
        "mailNickname": upn.split('@').next().unwrap(),
        "userPrincipalName": upn,
        "passwordProfile": {"forceChangePasswordNextSignIn": false, "password": STRONG_PASSWORD},
    })
}

async fn post(app: &TestApp, path: &str, token: &str, body: Value) -> (u16, Value) {
    graph(app, reqwest::Method::POST, path, Some(token), Some(body)).await
}

async fn patch(app: &TestApp, path: &str, token: &str, body: Value) -> (u16, Value) {
    graph(app, reqwest::Method::PATCH, path, Some(token), Some(body)).await
}

async fn delete(app: &TestApp, path: &str, token: &str) -> (u16, Value) {
    graph(app, reqwest::Method::DELETE, path, Some(token), None).await
}

async fn patch_me(app: &TestApp, token: Option<&str>, body: Value) -> (u16, Value) {
    graph(app, reqwest::Method::PATCH, "/v1.0/me", token, Some(body)).await
}

/// Alice's access token for Graph with these delegated permissions.
async fn alice(app: &TestApp, scope: &str) -> String {
    app.alice_tokens(scope).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

on_every_backend!(a_user_changes_their_own_names_with_user_readwrite);
async fn a_user_changes_their_own_names_with_user_readwrite(backend: Backend) {
    let app = spawn_app(&backend).await;
    let token = alice(&app, "User.ReadWrite").await;
    let (status, body) = patch_me(
        &app,
        Some(&token),
        json!({"displayName": "Alice Jones", "surname": "Jones", "aboutMe": "kept nowhere"}),
    )
    .await;
    assert_eq!(status, 204, "{body}");
    let (status, me) = get(&app, "/v1.0/me", &token).await;
    assert_eq!(status, 200);
    assert_eq!(me["displayName"], "Alice Jones");
    assert_eq!(me["surname"], "Jones");
    assert_eq!(me["givenName"], "Alice");
    // The next token carries the new names.
    let tokens = app.alice_tokens("openid User.Read").await;
    let c = claims(tokens["access_token"].as_str().unwrap());
    assert_eq!(c["name"], "Alice Jones");
    assert_eq!(c["family_name"], "Jones");
    assert_eq!(
        claims(tokens["id_token"].as_str().unwrap())["name"],
        "Alice Jones"
    );
    let events = app.audit_events("user.updated").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].actor.as_deref(), Some(ALICE_OID));
}

on_every_backend!(patch_me_refuses_what_a_user_may_not_change_and_bad_bodies);
async fn patch_me_refuses_what_a_user_may_not_change_and_bad_bodies(backend: Backend) {
    let app = spawn_app(&backend).await;
    let token = alice(&app, "User.ReadWrite").await;
    // Properties only an administrator changes: 403, and nothing changes.
    for body in [
        json!({"displayName": "X", "accountEnabled": false}),
        json!({"userPrincipalName": "x@contoso.com"}),
        json!({"passwordProfile": {"password": "Str0ng-Passw0rd!"}}),
        json!({"jobTitle": "CEO"}),
    ] {
        let (status, res) = patch_me(&app, Some(&token), body.clone()).await;
        assert_graph_error(status, &res, 403, "Authorization_RequestDenied");
    }
    let (_, me) = get(&app, "/v1.0/me", &token).await;
    assert_ne!(me["displayName"], "X");
    // Bad input: 400 in Graph's shape.
    for body in [
        json!({"favouriteColour": "blue"}),
        json!({"displayName": "   "}),
        json!({"displayName": 42}),
        json!(["displayName"]),
    ] {
        let (status, res) = patch_me(&app, Some(&token), body.clone()).await;
        assert_graph_error(status, &res, 400, "Request_BadRequest");
    }
    let res = app
        .http
        .patch(app.url("/v1.0/me"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    // User.Read reads /me but does not change it.
    let reader = alice(&app, "User.Read").await;
    let (status, res) = patch_me(&app, Some(&reader), json!({"displayName": "Y"})).await;
    assert_graph_error(status, &res, 403, "Authorization_RequestDenied");
    // No token, or a bad one: 401.
    let (status, res) = patch_me(&app, None, json!({"displayName": "Y"})).await;
    assert_graph_error(status, &res, 401, "InvalidAuthenticationToken");
    let (status, res) = patch_me(&app, Some("not-a-jwt"), json!({"displayName": "Y"})).await;
    assert_graph_error(status, &res, 401, "InvalidAuthenticationToken");
    // An app-only token has no /me.
    let res = app
        .token(&[
            ("grant_type", "client_credentials"),
            ("client_id", DAEMON_ONLY),
            ("client_secret", DAEMON_SECRET),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .await;
    let daemon: Value = res.json().await.unwrap();
    let daemon = daemon["access_token"].as_str().unwrap();
    let (status, res) = patch_me(&app, Some(daemon), json!({"displayName": "Y"})).await;
    assert_graph_error(status, &res, 400, "Request_BadRequest");
    // Nothing refused was written.
    assert!(app.audit_events("user.updated").await.is_empty());
}

on_every_backend!(a_user_administrator_writes_users_with_delegated_user_readwrite_all);
async fn a_user_administrator_writes_users_with_delegated_user_readwrite_all(backend: Backend) {
    let app = spawn_roles_app(&backend).await;
    let token = user_token(&app, USER_ADMIN, "User.ReadWrite.All").await;
    let (status, created) = post(&app, "/v1.0/users", &token, new_user("nina@contoso.com")).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    // Read back as a signed-in user, changed, and deleted.
    let (status, read) = get(&app, &format!("/v1.0/users/{id}"), &token).await;
    assert_eq!(status, 200, "{read}");
    assert_eq!(read["userPrincipalName"], "nina@contoso.com");
    let path = format!("/v1.0/users/{id}");
    let (status, body) = patch(&app, &path, &token, json!({"displayName": "Nina R"})).await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(get(&app, &path, &token).await.1["displayName"], "Nina R");
    // Duplicate, validation and unknown ids answer as for an application.
    let (status, body) = post(&app, "/v1.0/users", &token, new_user("nina@contoso.com")).await;
    assert_graph_error(status, &body, 400, "Request_BadRequest");
    let (status, body) = post(
        &app,
        "/v1.0/users",
        &token,
        json!({"userPrincipalName": "x@contoso.com"}),
    )
    .await;
    assert_graph_error(status, &body, 400, "Request_BadRequest");
    let missing = "/v1.0/users/00000000-0000-4000-8000-00000000dead";
    let (status, body) = patch(&app, missing, &token, json!({"displayName": "X"})).await;
    assert_graph_error(status, &body, 404, "Request_ResourceNotFound");
    let (status, body) = delete(&app, missing, &token).await;
    assert_graph_error(status, &body, 404, "Request_ResourceNotFound");
    let (status, body) = delete(&app, &path, &token).await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = get(&app, &path, &token).await;
    assert_graph_error(status, &body, 404, "Request_ResourceNotFound");
    // The audit log names the administrator.
    let created = app.audit_events("user.created").await;
    assert!(
        created
            .iter()
            .any(|e| e.actor.as_deref() == Some(USER_ADMIN_OID))
    );
    // Directory.AccessAsUser.All also writes for an administrator.
    let token = user_token(&app, USER_ADMIN, "Directory.AccessAsUser.All").await;
    let (status, body) = post(&app, "/v1.0/users", &token, new_user("omar@contoso.com")).await;
    assert_eq!(status, 201, "{body}");
}

on_every_backend!(delegated_writes_need_the_permission_and_a_directory_role);
async fn delegated_writes_need_the_permission_and_a_directory_role(backend: Backend) {
    let app = spawn_roles_app(&backend).await;
    // Alice holds no directory role: User.ReadWrite.All alone does not write.
    let alice = alice(&app, "User.ReadWrite.All Group.ReadWrite.All").await;
    let (status, body) = post(&app, "/v1.0/users", &alice, new_user("x1@contoso.com")).await;
    assert_graph_error(status, &body, 403, "Authorization_RequestDenied");
    let admin_path = format!("/v1.0/users/{USER_ADMIN_OID}");
    let (status, body) = patch(&app, &admin_path, &alice, json!({"displayName": "X"})).await;
    assert_graph_error(status, &body, 403, "Authorization_RequestDenied");
    let (status, body) = delete(&app, &admin_path, &alice).await;
    assert_graph_error(status, &body, 403, "Authorization_RequestDenied");
    let (status, body) = post(&app, "/v1.0/groups", &alice, json!({"displayName": "G", "mailNickname": "g", "mailEnabled": false, "securityEnabled": true})).await;
    assert_graph_error(status, &body, 403, "Authorization_RequestDenied");
    // ...but reads the directory, as any member user does.
    assert_eq!(get(&app, "/v1.0/users", &alice).await.0, 200);
    // A User Administrator without a write permission in the token: 403.
    for scope in ["User.Read", "User.ReadWrite", "User.Read.All"] {
        let token = user_token(&app, USER_ADMIN, scope).await;
        let (status, body) = post(&app, "/v1.0/users", &token, new_user("x2@contoso.com")).await;
        assert_graph_error(status, &body, 403, "Authorization_RequestDenied");
    }
    // No token, or an expired one: 401.
    let (status, body) = graph(
        &app,
        reqwest::Method::POST,
        "/v1.0/users",
        None,
        Some(new_user("x3@contoso.com")),
    )
    .await;
    assert_graph_error(status, &body, 401, "InvalidAuthenticationToken");
    // A User Administrator does not change a Global Administrator; a Global
    // Administrator does.
    let ua = user_token(&app, USER_ADMIN, "User.ReadWrite.All").await;
    let ga_path = format!("/v1.0/users/{GLOBAL_ADMIN_OID}");
    let (status, body) = patch(&app, &ga_path, &ua, json!({"displayName": "X"})).await;
    assert_graph_error(status, &body, 403, "Authorization_RequestDenied");
    let (status, body) = delete(&app, &ga_path, &ua).await;
    assert_graph_error(status, &body, 403, "Authorization_RequestDenied");
    let ga = user_token(&app, GLOBAL_ADMIN, "User.ReadWrite.All").await;
    let (status, body) = patch(&app, &admin_path, &ga, json!({"displayName": "UA renamed"})).await;
    assert_eq!(status, 204, "{body}");
    // A role withdrawn from the CLI counts at once, with the same token.
    let out = cli(
        &app,
        &["user", "revoke-role", USER_ADMIN, "User Administrator"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (status, body) = post(&app, "/v1.0/users", &ua, new_user("x4@contoso.com")).await;
    assert_graph_error(status, &body, 403, "Authorization_RequestDenied");
    app.advance(std::time::Duration::from_secs(2 * 3600));
    let (status, body) = post(&app, "/v1.0/users", &ga, new_user("x5@contoso.com")).await;
    assert_graph_error(status, &body, 401, "InvalidAuthenticationToken");
}

on_every_backend!(administrators_write_groups_and_members_with_delegated_group_readwrite_all);
async fn administrators_write_groups_and_members_with_delegated_group_readwrite_all(
    backend: Backend,
) {
    let app = spawn_roles_app(&backend).await;
    for (admin, name) in [(GLOBAL_ADMIN, "Ops"), (USER_ADMIN, "Sales")] {
        let token = user_token(&app, admin, "Group.ReadWrite.All").await;
        let group = json!({"displayName": name, "mailNickname": name.to_lowercase(), "mailEnabled": false, "securityEnabled": true});
        let (status, created) = post(&app, "/v1.0/groups", &token, group.clone()).await;
        assert_eq!(status, 201, "{created}");
        let (status, body) = post(&app, "/v1.0/groups", &token, group).await;
        assert_graph_error(status, &body, 400, "Request_BadRequest");
        let members = format!(
            "/v1.0/groups/{}/members/$ref",
            created["id"].as_str().unwrap()
        );
        let reference = json!({"@odata.id": format!("{DIRECTORY_OBJECTS}/{ALICE_OID}")});
        let (status, body) = post(&app, &members, &token, reference).await;
        assert_eq!(status, 204, "{body}");
        let path = format!("/v1.0/groups/{}", created["id"].as_str().unwrap());
        let (status, body) = patch(&app, &path, &token, json!({"description": "d"})).await;
        assert_eq!(status, 204, "{body}");
        let (status, body) = delete(
            &app,
            "/v1.0/groups/00000000-0000-4000-8000-00000000dead",
            &token,
        )
        .await;
        assert_graph_error(status, &body, 404, "Request_ResourceNotFound");
        let (status, body) = delete(&app, &path, &token).await;
        assert_eq!(status, 204, "{body}");
    }
    // User.ReadWrite.All does not write groups.
    let token = user_token(&app, GLOBAL_ADMIN, "User.ReadWrite.All").await;
    let (status, body) = post(&app, "/v1.0/groups", &token, json!({"displayName": "N", "mailNickname": "n", "mailEnabled": false, "securityEnabled": true})).await;
    assert_graph_error(status, &body, 403, "Authorization_RequestDenied");
}

on_every_backend!(directory_roles_are_the_wids_claim_and_listed_in_member_of);
async fn directory_roles_are_the_wids_claim_and_listed_in_member_of(backend: Backend) {
    let app = spawn_roles_app(&backend).await;
    let tokens = app
        .password_tokens(GLOBAL_ADMIN, ADMIN_PASSWORD, "openid User.Read")
        .await;
    let access = claims(tokens["access_token"].as_str().unwrap());
    let mut wids = vec![GLOBAL_ADMINISTRATOR, USER_ADMINISTRATOR];
    wids.sort();
    assert_eq!(access["wids"], json!(wids));
    assert_eq!(
        claims(tokens["id_token"].as_str().unwrap())["wids"],
        json!(wids)
    );
    // A user without roles has no wids.
    let tokens = app.alice_tokens("openid User.Read").await;
    assert!(
        claims(tokens["access_token"].as_str().unwrap())
            .get("wids")
            .is_none()
    );
    assert!(
        claims(tokens["id_token"].as_str().unwrap())
            .get("wids")
            .is_none()
    );
    // /me/memberOf lists the roles besides groups.
    let token = user_token(&app, USER_ADMIN, "User.Read").await;
    let (status, body) = get(&app, "/v1.0/me/memberOf", &token).await;
    assert_eq!(status, 200, "{body}");
    let roles: Vec<&Value> = body["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["@odata.type"] == "#microsoft.graph.directoryRole")
        .collect();
    assert_eq!(roles.len(), 1, "{body}");
    assert_eq!(roles[0]["roleTemplateId"], USER_ADMINISTRATOR);
    assert_eq!(roles[0]["displayName"], "User Administrator");
    assert!(
        roles[0]["id"]
            .as_str()
            .is_some_and(|id| id.len() == 36 && id != USER_ADMINISTRATOR)
    );
    // /users/{id}/memberOf for an application: Alice's groups and no role.
    let app_token = graph_app_token(&app, GRAPH_APP, GRAPH_APP_SECRET).await;
    let (status, body) = get(
        &app,
        &format!("/v1.0/users/{ALICE_OID}/memberOf"),
        &app_token,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let types: Vec<&str> = body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["@odata.type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["#microsoft.graph.group", "#microsoft.graph.group"]);
    let (status, body) = get(
        &app,
        &format!("/v1.0/users/{GLOBAL_ADMIN_OID}/memberOf?$select=displayName,roleTemplateId"),
        &app_token,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["value"].as_array().unwrap().len(), 2, "{body}");
    assert!(
        body["value"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o.get("description").is_none() && o["roleTemplateId"].is_string())
    );
    let (status, body) = get(
        &app,
        "/v1.0/users/00000000-0000-4000-8000-00000000dead/memberOf",
        &app_token,
    )
    .await;
    assert_graph_error(status, &body, 404, "Request_ResourceNotFound");
    let (status, body) = get(
        &app,
        &format!("/v1.0/users/{ALICE_OID}/memberOf?$select=shoeSize"),
        &app_token,
    )
    .await;
    assert_graph_error(status, &body, 400, "BadRequest");
    // A role granted from the CLI is in the next token.
    let out = cli(&app, &["user", "grant-role", ALICE, "user administrator"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tokens = app.alice_tokens("User.Read").await;
    assert_eq!(
        claims(tokens["access_token"].as_str().unwrap())["wids"],
        json!([USER_ADMINISTRATOR])
    );
    let out = cli(&app, &["user", "show", ALICE]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("directory roles: User Administrator"));
    let out = cli(
        &app,
        &["user", "grant-role", ALICE, "Helpdesk Administrator"],
    );
    assert!(!out.status.success(), "an unknown role is refused");
    assert_eq!(app.audit_events("user.roles_assigned").await.len(), 3);
}

/// Follows `@odata.nextLink` from `first`: each page's ids, and the links followed.
async fn pages(app: &TestApp, first: &str, token: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut next = Some(first.to_owned());
    while let Some(url) = next {
        let (status, body) = get(app, &url, token).await;
        assert_eq!(status, 200, "{url}: {body}");
        let ids = body["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_str().unwrap().to_owned())
            .collect();
        out.push(ids);
        next = body["@odata.nextLink"].as_str().map(|l| {
            assert!(l.contains("%24top=") || l.contains("$top="), "{l}");
            l.to_owned()
        });
        assert!(out.len() < 20, "paging does not end");
    }
    out
}

/// Asserts pages of these sizes that together list `want` once each, in id order.
fn assert_pages(pages: &[Vec<String>], sizes: &[usize], mut want: Vec<String>) {
    let got_sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(got_sizes, sizes);
    let all: Vec<String> = pages.concat();
    want.sort();
    assert_eq!(all, want, "every object once, in id order");
}

on_every_backend!(members_and_member_of_page_without_repeats_or_gaps);
async fn members_and_member_of_page_without_repeats_or_gaps(backend: Backend) {
    let app = spawn_roles_app(&backend).await;
    let token = graph_app_token(&app, GRAPH_APP, GRAPH_APP_SECRET).await;
    let group = |name: &str| json!({"displayName": name, "mailNickname": name, "mailEnabled": false, "securityEnabled": true});
    let (status, paged) = post(&app, "/v1.0/groups", &token, group("paged")).await;
    assert_eq!(status, 201, "{paged}");
    let gid = paged["id"].as_str().unwrap().to_owned();
    let mut members = vec![ALICE_OID.to_owned(), GLOBAL_ADMIN_OID.to_owned()];
    members.extend(add_people(&app, "paged", 6).await);
    for id in &members {
        let reference = json!({"@odata.id": format!("{DIRECTORY_OBJECTS}/{id}")});
        let (status, body) = post(
            &app,
            &format!("/v1.0/groups/{gid}/members/$ref"),
            &token,
            reference,
        )
        .await;
        assert_eq!(status, 204, "{body}");
    }
    // 8 members, 3 a page.
    let first = format!("/v1.0/groups/{gid}/members?$top=3&$select=id,displayName");
    assert_pages(
        &pages(&app, &first, &token).await,
        &[3, 3, 2],
        members.clone(),
    );
    // Without $top, one page.
    let all = pages(&app, &format!("/v1.0/groups/{gid}/members"), &token).await;
    assert_pages(&all, &[8], members);

    // The Global Administrator: 3 groups and 2 roles, 2 a page.
    let mut of = vec![gid.clone()];
    for name in ["second", "third"] {
        let (_, g) = post(&app, "/v1.0/groups", &token, group(name)).await;
        let id = g["id"].as_str().unwrap().to_owned();
        let reference = json!({"@odata.id": format!("{DIRECTORY_OBJECTS}/{GLOBAL_ADMIN_OID}")});
        let (status, _) = post(
            &app,
            &format!("/v1.0/groups/{id}/members/$ref"),
            &token,
            reference,
        )
        .await;
        assert_eq!(status, 204);
        of.push(id);
    }
    let (_, roles) = get(
        &app,
        &format!("/v1.0/users/{GLOBAL_ADMIN_OID}/memberOf"),
        &token,
    )
    .await;
    for o in roles["value"].as_array().unwrap() {
        if o["@odata.type"] == "#microsoft.graph.directoryRole" {
            of.push(o["id"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(of.len(), 5);
    let first = format!("/v1.0/users/{GLOBAL_ADMIN_OID}/memberOf?$top=2");
    assert_pages(&pages(&app, &first, &token).await, &[2, 2, 1], of.clone());
    let me = user_token(&app, GLOBAL_ADMIN, "User.Read").await;
    assert_pages(
        &pages(&app, "/v1.0/me/memberOf?$top=4", &me).await,
        &[4, 1],
        of,
    );

    // Bad options, unknown objects, missing permissions.
    for bad in [
        format!("/v1.0/groups/{gid}/members?$top=0"),
        format!("/v1.0/groups/{gid}/members?$top=1000"),
        format!("/v1.0/groups/{gid}/members?$skiptoken=not-a-token"),
        format!("/v1.0/groups/{gid}/members?$select=shoeSize"),
        "/v1.0/me/memberOf?$top=x".to_owned(),
    ] {
        let t = if bad.starts_with("/v1.0/me") {
            &me
        } else {
            &token
        };
        let (status, body) = get(&app, &bad, t).await;
        assert_graph_error(status, &body, 400, "BadRequest");
    }
    let (status, body) = get(
        &app,
        &format!("/v1.0/groups/{gid}/members?$filter=displayName eq 'x'"),
        &token,
    )
    .await;
    assert_graph_error(status, &body, 400, "Request_UnsupportedQuery");
    let (status, body) = get(
        &app,
        "/v1.0/groups/00000000-0000-4000-8000-00000000dead/members?$top=2",
        &token,
    )
    .await;
    assert_graph_error(status, &body, 404, "Request_ResourceNotFound");
    let (status, body) = get(&app, &format!("/v1.0/groups/{gid}/members?$top=2"), &me).await;
    assert_graph_error(status, &body, 403, "Authorization_RequestDenied");
    let (status, body) = graph(
        &app,
        reqwest::Method::GET,
        &format!("/v1.0/groups/{gid}/members?$top=2"),
        None,
        None,
    )
    .await;
    assert_graph_error(status, &body, 401, "InvalidAuthenticationToken");
}

on_every_backend!(directory_roles_are_listed_read_and_their_members_paged);
async fn directory_roles_are_listed_read_and_their_members_paged(backend: Backend) {
    let app = spawn_roles_app(&backend).await;
    let token = graph_app_token(&app, GRAPH_APP, GRAPH_APP_SECRET).await;
    let (status, list) = get(&app, "/v1.0/directoryRoles", &token).await;
    assert_eq!(status, 200, "{list}");
    assert!(
        list["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("/v1.0/$metadata#directoryRoles")
    );
    let templates: Vec<&str> = list["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["roleTemplateId"].as_str().unwrap())
        .collect();
    assert_eq!(templates, [GLOBAL_ADMINISTRATOR, USER_ADMINISTRATOR]);
    let ua = list["value"][1]["id"].as_str().unwrap().to_owned();
    // By object id, or by template id.
    let (status, role) = get(&app, &format!("/v1.0/directoryRoles/{ua}"), &token).await;
    assert_eq!(status, 200, "{role}");
    assert_eq!(role["displayName"], "User Administrator");
    let (status, role) = get(
        &app,
        &format!("/v1.0/directoryRoles/roleTemplateId={USER_ADMINISTRATOR}"),
        &token,
    )
    .await;
    assert_eq!(status, 200, "{role}");
    assert_eq!(role["id"], ua.as_str());
    // Members: the two administrators, one a page.
    let first = format!("/v1.0/directoryRoles/{ua}/members?$top=1");
    let got = pages(&app, &first, &token).await;
    assert_pages(
        &got,
        &[1, 1],
        vec![USER_ADMIN_OID.to_owned(), GLOBAL_ADMIN_OID.to_owned()],
    );
    // A signed-in user with Directory.Read.All reads them too.
    let alice_reader = alice(&app, "Directory.Read.All").await;
    assert_eq!(
        get(&app, "/v1.0/directoryRoles", &alice_reader).await.0,
        200
    );
    // 404, 403, 401, 400.
    for missing in [
        "/v1.0/directoryRoles/00000000-0000-4000-8000-00000000dead".to_owned(),
        "/v1.0/directoryRoles/roleTemplateId=729827e3-9c14-49f7-bb1b-9608f156bbb8".to_owned(),
        "/v1.0/directoryRoles/00000000-0000-4000-8000-00000000dead/members".to_owned(),
    ] {
        let (status, body) = get(&app, &missing, &token).await;
        assert_graph_error(status, &body, 404, "Request_ResourceNotFound");
    }
    let alice = alice(&app, "User.Read").await;
    let (status, body) = get(&app, "/v1.0/directoryRoles", &alice).await;
    assert_graph_error(status, &body, 403, "Authorization_RequestDenied");
    let (status, body) = graph(
        &app,
        reqwest::Method::GET,
        "/v1.0/directoryRoles",
        None,
        None,
    )
    .await;
    assert_graph_error(status, &body, 401, "InvalidAuthenticationToken");
    let (status, body) = get(
        &app,
        &format!("/v1.0/directoryRoles/{ua}/members?$top=-1"),
        &token,
    )
    .await;
    assert_graph_error(status, &body, 400, "BadRequest");
}
