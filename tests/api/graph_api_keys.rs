//! localidp's `apiKeys` under the Graph routes: a signed-in user's own keys under
//! `/me`, a user's under `/users/{id}`, an application's under `/applications/{id}`;
//! a key made there works at once with `x-api-key` and is refused once deleted.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::graph::{assert_graph_error, graph};
use crate::helpers::graph::{graph_app_token, spawn_with_seed};
use crate::helpers::*;

const USER_ADMIN: &str = "uadmin@contoso.com";
const USER_ADMIN_OID: &str = "a11ce000-0000-4000-8000-0000000000b1";
const GLOBAL_ADMIN: &str = "gadmin@contoso.com";
const GLOBAL_ADMIN_OID: &str = "a11ce000-0000-4000-8000-0000000000b2";
const ADMIN_PASSWORD: &str = "admin-password";
const USER_WRITER: &str = "99999999-0000-4000-8000-000000000031";
const USER_WRITER_SECRET: &str = "user-writer-secret-0123456789abcdefghijk";
const APP_WRITER: &str = "99999999-0000-4000-8000-000000000032";
const APP_WRITER_SECRET: &str = "app-writer-secret-0123456789abcdefghijkl";
const USER_READER: &str = "99999999-0000-4000-8000-000000000033";
const USER_READER_SECRET: &str = "user-reader-secret-0123456789abcdefghijk";
const UNKNOWN_ID: &str = "00000000-0000-4000-8000-00000000dead";

/// The standard seed plus a User Administrator, a Global Administrator, and clients
/// holding `User.ReadWrite.All`, `Application.ReadWrite.All` and `User.Read.All`.
async fn spawn_keys_app(backend: &Backend) -> TestApp {
    let mut seed = format!(
        r#"
[[users]]
email = "{USER_ADMIN}"
password = "{ADMIN_PASSWORD}"
oid = "{USER_ADMIN_OID}"
roles = ["Admin"]
directory_roles = ["User Administrator"]

[[users]]
email = "{GLOBAL_ADMIN}"
password = "{ADMIN_PASSWORD}"
oid = "{GLOBAL_ADMIN_OID}"
roles = ["Admin"]
directory_roles = ["Global Administrator"]
"#
    );
    for (id, secret, permission) in [
        (USER_WRITER, USER_WRITER_SECRET, "User.ReadWrite.All"),
        (APP_WRITER, APP_WRITER_SECRET, "Application.ReadWrite.All"),
        (USER_READER, USER_READER_SECRET, "User.Read.All"),
    ] {
        seed.push_str(&format!(
            r#"
[[clients]]
client_id = "{id}"
name = "{permission} holder"
secret = "{secret}"
grant_types = ["client_credentials"]
graph_permissions = ["{permission}"]
"#
        ));
    }
    spawn_with_seed(backend, &seed).await
}

/// A user's Graph token with these delegated permissions.
async fn user_token(app: &TestApp, user: &str, password: &str, scope: &str) -> String {
    app.password_tokens(user, password, scope).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn alice(app: &TestApp, scope: &str) -> String {
    user_token(app, ALICE, ALICE_PASSWORD, scope).await
}

async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    graph(app, method, path, Some(token), body).await
}

async fn post(app: &TestApp, path: &str, token: &str, body: Value) -> (u16, Value) {
    send(app, Method::POST, path, token, Some(body)).await
}

async fn get(app: &TestApp, path: &str, token: &str) -> (u16, Value) {
    send(app, Method::GET, path, token, None).await
}

async fn delete(app: &TestApp, path: &str, token: &str) -> (u16, Value) {
    send(app, Method::DELETE, path, token, None).await
}

/// `/auth/verify` with the key as `x-api-key`: the status and the answer.
async fn verify_key(app: &TestApp, key: &str) -> (u16, Value) {
    let res = app
        .http
        .get(app.url("/auth/verify"))
        .header("x-api-key", key)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn iso(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap()
}

/// A created key's answer: every field, the key once; returns (id, key).
fn check_created(body: &Value, name: &str) -> (String, String) {
    let id = s(&body["id"]).to_owned();
    let key = s(&body["key"]).to_owned();
    assert!(key.starts_with(&format!("lidp_{id}_")), "{body}");
    assert_eq!(body["displayName"], name);
    assert_eq!(body["hint"], format!("lidp_{id}"));
    assert!(body["createdDateTime"].is_string(), "{body}");
    assert!(body["lastUsedDateTime"].is_null(), "{body}");
    assert!(
        body["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("/apiKeys/$entity")
    );
    (id, key)
}

/// A list's values, none of which carries a key.
fn listed(status: u16, body: &Value) -> Vec<Value> {
    assert_eq!(status, 200, "{body}");
    assert!(
        body["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("/apiKeys"),
        "{body}"
    );
    let values = body["value"].as_array().unwrap().clone();
    assert!(values.iter().all(|v| v.get("key").is_none()), "{body}");
    values
}

on_every_backend!(a_user_creates_lists_uses_and_deletes_their_own_keys_through_me);
async fn a_user_creates_lists_uses_and_deletes_their_own_keys_through_me(backend: Backend) {
    let app = spawn_keys_app(&backend).await;
    let token = alice(&app, "User.ReadWrite").await;
    let expires = app.now() + 86_400;
    let (status, body) = post(
        &app,
        "/v1.0/me/apiKeys",
        &token,
        json!({"displayName": "ci deploy", "roles": ["Admin"], "scopes": ["Tasks.Read"],
               "expirationDateTime": iso(expires)}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (id, key) = check_created(&body, "ci deploy");
    assert_eq!(body["roles"], json!(["Admin"]));
    assert_eq!(body["scopes"], json!(["Tasks.Read"]));
    assert_eq!(body["expirationDateTime"], iso(expires));

    // It works at once, as Alice with the key's roles and scopes.
    let (status, who) = verify_key(&app, &key).await;
    assert_eq!(status, 200, "{who}");
    assert_eq!(who["user_id"], ALICE_OID);
    assert_eq!(who["roles"], json!(["Admin"]));
    assert_eq!(who["scp"], "Tasks.Read");
    assert_eq!(who["api_key_id"], id.as_str());

    let (status, list) = get(&app, "/v1.0/me/apiKeys", &token).await;
    let values = listed(status, &list);
    assert_eq!(values.len(), 1, "{list}");
    assert_eq!(values[0]["id"], id.as_str());
    assert_eq!(values[0]["displayName"], "ci deploy");
    assert_eq!(values[0]["hint"], format!("lidp_{id}"));
    assert!(
        values[0]["lastUsedDateTime"].is_string(),
        "the use is listed: {list}"
    );
    assert!(!list.to_string().contains(&key[22..]), "no secret in lists");

    let created = app.audit_events("api_key.created").await;
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].actor.as_deref(), Some(ALICE_OID));
    assert_eq!(created[0].user_id.as_deref(), Some(ALICE_OID));
    let detail: Value = serde_json::from_str(&created[0].detail).unwrap();
    assert_eq!(detail["key_id"], id.as_str());
    assert_eq!(detail["via"], "graph");
    assert!(!created[0].detail.contains(&key[22..]), "never the key");

    let path = format!("/v1.0/me/apiKeys/{id}");
    let (status, body) = delete(&app, &path, &token).await;
    assert_eq!(status, 204, "{body}");
    let (status, _) = verify_key(&app, &key).await;
    assert_eq!(status, 401, "a deleted key is refused at once");
    let (status, list) = get(&app, "/v1.0/me/apiKeys", &token).await;
    assert!(listed(status, &list).is_empty(), "{list}");
    let (status, body) = delete(&app, &path, &token).await;
    assert_graph_error(status, &body, 404, "Request_ResourceNotFound");
    let revoked = app.audit_events("api_key.revoked").await;
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0].actor.as_deref(), Some(ALICE_OID));
}

on_every_backend!(me_api_keys_refuse_missing_tokens_permissions_and_bad_bodies);
async fn me_api_keys_refuse_missing_tokens_permissions_and_bad_bodies(backend: Backend) {
    let app = spawn_keys_app(&backend).await;
    let (status, body) = graph(&app, Method::GET, "/v1.0/me/apiKeys", None, None).await;
    assert_graph_error(status, &body, 401, "InvalidAuthenticationToken");
    let (status, body) = graph(
        &app,
        Method::POST,
        "/v1.0/me/apiKeys",
        Some("not-a-token"),
        Some(json!({"displayName": "x"})),
    )
    .await;
    assert_graph_error(status, &body, 401, "InvalidAuthenticationToken");
    // User.Read reads the profile; keys take User.ReadWrite.
    let read = alice(&app, "User.Read").await;
    for (method, path) in [
        (Method::GET, "/v1.0/me/apiKeys"),
        (Method::POST, "/v1.0/me/apiKeys"),
        (Method::DELETE, "/v1.0/me/apiKeys/0123456789abcdef"),
    ] {
        let (status, body) =
            send(&app, method, path, &read, Some(json!({"displayName": "x"}))).await;
        assert_graph_error(status, &body, 403, "Authorization_RequestDenied");
    }
    // An application has no /me.
    let app_only = graph_app_token(&app, USER_WRITER, USER_WRITER_SECRET).await;
    let (status, body) = get(&app, "/v1.0/me/apiKeys", &app_only).await;
    assert_graph_error(status, &body, 400, "Request_BadRequest");

    let token = alice(&app, "User.ReadWrite").await;
    let past = iso(app.now() - 60);
    for (bad, says) in [
        (json!({}), "name"),
        (json!({"displayName": "  "}), "name"),
        (json!({"displayName": "x".repeat(201)}), "name"),
        (
            json!({"displayName": "x", "roles": ["Tasks.Admin"]}),
            "does not hold the role",
        ),
        (json!({"displayName": "x", "scopes": ["openid"]}), "scope"),
        (
            json!({"displayName": "x", "scopes": ["has space"]}),
            "printable",
        ),
        (
            json!({"displayName": "x", "expirationDateTime": past}),
            "past",
        ),
        (
            json!({"displayName": "x", "expirationDateTime": "tomorrow"}),
            "expirationDateTime",
        ),
        (
            json!({"displayName": "x", "secretText": "mine"}),
            "secretText",
        ),
        (json!({"displayName": "x", "roles": "Admin"}), "payload"),
    ] {
        let (status, body) = post(&app, "/v1.0/me/apiKeys", &token, bad.clone()).await;
        assert_graph_error(status, &body, 400, "Request_BadRequest");
        let message = s(&body["error"]["message"]);
        assert!(message.contains(says), "{bad}: {message}");
    }
    let (status, list) = get(&app, "/v1.0/me/apiKeys", &token).await;
    assert!(listed(status, &list).is_empty(), "nothing was made: {list}");
    let (status, body) = delete(&app, "/v1.0/me/apiKeys/0123456789abcdef", &token).await;
    assert_graph_error(status, &body, 404, "Request_ResourceNotFound");
}

on_every_backend!(an_application_manages_a_user_s_keys_and_others_stay_out_of_sight);
async fn an_application_manages_a_user_s_keys_and_others_stay_out_of_sight(backend: Backend) {
    let app = spawn_keys_app(&backend).await;
    let writer = graph_app_token(&app, USER_WRITER, USER_WRITER_SECRET).await;
    // By user principal name, then by object id.
    let (status, body) = post(
        &app,
        &format!("/v1.0/users/{USER_ADMIN}/apiKeys"),
        &writer,
        json!({"displayName": "admin export", "roles": ["Admin"]}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (id, key) = check_created(&body, "admin export");
    assert!(body["expirationDateTime"].is_null());
    assert_eq!(body["scopes"], json!([]));
    let (status, who) = verify_key(&app, &key).await;
    assert_eq!(status, 200, "{who}");
    assert_eq!(who["user_id"], USER_ADMIN_OID);

    let collection = format!("/v1.0/users/{USER_ADMIN_OID}/apiKeys");
    let (status, list) = get(&app, &collection, &writer).await;
    let values = listed(status, &list);
    assert_eq!(values.len(), 1);
    assert_eq!(values[0]["id"], id.as_str());
    assert!(s(&list["@odata.context"]).contains(&format!("users('{USER_ADMIN_OID}')")));

    let created = app.audit_events("api_key.created").await;
    assert_eq!(created[0].actor.as_deref(), Some(USER_WRITER));
    assert_eq!(created[0].user_id.as_deref(), Some(USER_ADMIN_OID));

    // Alice sees only her own keys under /me, and cannot delete another's.
    let alice_token = alice(&app, "User.ReadWrite").await;
    let (status, list) = get(&app, "/v1.0/me/apiKeys", &alice_token).await;
    assert!(listed(status, &list).is_empty(), "{list}");
    let (status, body) = delete(&app, &format!("/v1.0/me/apiKeys/{id}"), &alice_token).await;
    assert_graph_error(status, &body, 404, "Request_ResourceNotFound");
    // Nor through another user's collection.
    let (status, body) = delete(
        &app,
        &format!("/v1.0/users/{ALICE_OID}/apiKeys/{id}"),
        &writer,
    )
    .await;
    assert_graph_error(status, &body, 404, "Request_ResourceNotFound");
    assert_eq!(verify_key(&app, &key).await.0, 200, "the key still works");

    let (status, body) = delete(&app, &format!("{collection}/{id}"), &writer).await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(verify_key(&app, &key).await.0, 401);
    let revoked = app.audit_events("api_key.revoked").await;
    assert_eq!(revoked[0].actor.as_deref(), Some(USER_WRITER));

    // Unknown users; a reader; a disabled user.
    let (status, body) = get(&app, &format!("/v1.0/users/{UNKNOWN_ID}/apiKeys"), &writer).await;
    assert_graph_error(status, &body, 404, "Request_ResourceNotFound");
    let reader = graph_app_token(&app, USER_READER, USER_READER_SECRET).await;
    let (status, body) = get(&app, &collection, &reader).await;
    assert_graph_error(status, &body, 403, "Authorization_RequestDenied");
    let (status, body) = post(
        &app,
        "/v1.0/users/bob@contoso.com/apiKeys",
        &writer,
        json!({"displayName": "x"}),
    )
    .await;
    assert_graph_error(status, &body, 400, "Request_BadRequest");
    assert!(s(&body["error"]["message"]).contains("disabled"), "{body}");
    // Scopes are fine for a user, roles must be held.
    let (status, body) = post(
        &app,
        &format!("/v1.0/users/{ALICE_OID}/apiKeys"),
        &writer,
        json!({"displayName": "x", "roles": ["Tasks.Read.All"]}),
    )
    .await;
    assert_graph_error(status, &body, 400, "Request_BadRequest");
}

on_every_backend!(signed_in_administrators_manage_keys_as_they_manage_users);
async fn signed_in_administrators_manage_keys_as_they_manage_users(backend: Backend) {
    let app = spawn_keys_app(&backend).await;
    // User.ReadWrite.All without a directory role: no.
    let alice_all = alice(&app, "User.ReadWrite.All").await;
    let carol = "/v1.0/users/carol@contoso.com/apiKeys";
    let (status, body) = get(&app, carol, &alice_all).await;
    assert_graph_error(status, &body, 403, "Authorization_RequestDenied");
    // A User Administrator with User.ReadWrite.All: yes, but not a Global Administrator's.
    let uadmin = user_token(&app, USER_ADMIN, ADMIN_PASSWORD, "User.ReadWrite.All").await;
    let (status, body) = post(&app, carol, &uadmin, json!({"displayName": "carol's"})).await;
    assert_eq!(status, 201, "{body}");
    let (_, key) = check_created(&body, "carol's");
    assert_eq!(verify_key(&app, &key).await.0, 200);
    let created = app.audit_events("api_key.created").await;
    assert_eq!(created[0].actor.as_deref(), Some(USER_ADMIN_OID));
    let gadmin_keys = format!("/v1.0/users/{GLOBAL_ADMIN_OID}/apiKeys");
    let (status, body) = post(&app, &gadmin_keys, &uadmin, json!({"displayName": "x"})).await;
    assert_graph_error(status, &body, 403, "Authorization_RequestDenied");
    // Without User.ReadWrite.All (or Directory.AccessAsUser.All) the role is not enough.
    let uadmin_self = user_token(&app, USER_ADMIN, ADMIN_PASSWORD, "User.ReadWrite").await;
    let (status, body) = get(&app, carol, &uadmin_self).await;
    assert_graph_error(status, &body, 403, "Authorization_RequestDenied");
    // A Global Administrator manages a Global Administrator's keys.
    let gadmin = user_token(
        &app,
        GLOBAL_ADMIN,
        ADMIN_PASSWORD,
        "Directory.AccessAsUser.All",
    )
    .await;
    let (status, body) = post(&app, &gadmin_keys, &gadmin, json!({"displayName": "mine"})).await;
    assert_eq!(status, 201, "{body}");
    let (status, list) = get(&app, &gadmin_keys, &gadmin).await;
    assert_eq!(listed(status, &list).len(), 1);
}

on_every_backend!(an_application_s_keys_are_managed_under_applications);
async fn an_application_s_keys_are_managed_under_applications(backend: Backend) {
    let app = spawn_keys_app(&backend).await;
    let writer = graph_app_token(&app, APP_WRITER, APP_WRITER_SECRET).await;
    let by_app_id = format!("/v1.0/applications(appId='{WEB_APP}')/apiKeys");
    let (status, body) = post(
        &app,
        &by_app_id,
        &writer,
        json!({"displayName": "nightly", "roles": ["Tasks.Read.All"]}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (id, key) = check_created(&body, "nightly");
    let (status, who) = verify_key(&app, &key).await;
    assert_eq!(status, 200, "{who}");
    assert_eq!(who["user_id"], WEB_APP);
    assert_eq!(who["idtyp"], "app");
    assert_eq!(who["roles"], json!(["Tasks.Read.All"]));
    let created = app.audit_events("api_key.created").await;
    assert_eq!(created[0].actor.as_deref(), Some(APP_WRITER));
    assert_eq!(created[0].client_id.as_deref(), Some(WEB_APP));

    // The same collection by object id.
    let (status, found) = get(
        &app,
        &format!("/v1.0/applications(appId='{WEB_APP}')"),
        &writer,
    )
    .await;
    assert_eq!(status, 200, "{found}");
    let collection = format!("/v1.0/applications/{}/apiKeys", s(&found["id"]));
    let (status, list) = get(&app, &collection, &writer).await;
    let values = listed(status, &list);
    assert_eq!(values.len(), 1);
    assert_eq!(values[0]["roles"], json!(["Tasks.Read.All"]));
    assert!(s(&list["@odata.context"]).contains(&format!("applications('{}')", s(&found["id"]))));

    // An application's key carries no scopes, and only roles the application defines.
    for bad in [
        json!({"displayName": "x", "scopes": ["Tasks.Read"]}),
        json!({"displayName": "x", "roles": ["Admin"]}),
    ] {
        let (status, body) = post(&app, &collection, &writer, bad).await;
        assert_graph_error(status, &body, 400, "Request_BadRequest");
    }
    // Another application's collection does not hold the key.
    let other = format!("/v1.0/applications(appId='{API_APP}')/apiKeys/{id}");
    let (status, body) = delete(&app, &other, &writer).await;
    assert_graph_error(status, &body, 404, "Request_ResourceNotFound");

    let (status, body) = delete(&app, &format!("{collection}/{id}"), &writer).await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(verify_key(&app, &key).await.0, 401);
    let revoked = app.audit_events("api_key.revoked").await;
    assert_eq!(revoked[0].actor.as_deref(), Some(APP_WRITER));
    assert_eq!(revoked[0].client_id.as_deref(), Some(WEB_APP));

    // Without Application.ReadWrite.All; an unknown application.
    let user_writer = graph_app_token(&app, USER_WRITER, USER_WRITER_SECRET).await;
    let (status, body) = get(&app, &collection, &user_writer).await;
    assert_graph_error(status, &body, 403, "Authorization_RequestDenied");
    let uadmin = user_token(
        &app,
        USER_ADMIN,
        ADMIN_PASSWORD,
        "Directory.AccessAsUser.All",
    )
    .await;
    let (status, body) = get(&app, &collection, &uadmin).await;
    assert_graph_error(status, &body, 403, "Authorization_RequestDenied");
    let (status, body) = get(
        &app,
        &format!("/v1.0/applications/{UNKNOWN_ID}/apiKeys"),
        &writer,
    )
    .await;
    assert_graph_error(status, &body, 404, "Request_ResourceNotFound");
}
