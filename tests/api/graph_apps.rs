//! Microsoft Graph v1.0 applications and service principals: the tenant's clients
//! created, read, listed, changed and deleted; secrets added with `addPassword` that
//! work at once and stop with `removePassword`; service principals found by `appId`.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::graph_groups::{assert_error, call, get};
use crate::helpers::graph::{graph_app_token, spawn_with_seed};
use crate::helpers::*;

const APP_ADMIN: &str = "99999999-0000-4000-8000-000000000021";
const APP_ADMIN_SECRET: &str = "app-admin-secret-0123456789abcdefghijklm";
const APP_READER: &str = "99999999-0000-4000-8000-000000000022";
const APP_READER_SECRET: &str = "app-reader-secret-0123456789abcdefghijkl";
const DIRECTORY_READER: &str = "99999999-0000-4000-8000-000000000023";
const DIRECTORY_READER_SECRET: &str = "dir-reader-secret-0123456789abcdefghijkl";
const USER_READER: &str = "99999999-0000-4000-8000-000000000024";
const USER_READER_SECRET: &str = "user-reader-secret-0123456789abcdefghijk";
const UNKNOWN_ID: &str = "00000000-0000-4000-8000-00000000dead";

/// The standard seed plus clients holding `Application.ReadWrite.All`,
/// `Application.Read.All`, `Directory.Read.All` and `User.Read.All`.
async fn spawn_apps_app(backend: &Backend) -> TestApp {
    let mut clients = String::new();
    for (id, secret, permission) in [
        (APP_ADMIN, APP_ADMIN_SECRET, "Application.ReadWrite.All"),
        (APP_READER, APP_READER_SECRET, "Application.Read.All"),
        (
            DIRECTORY_READER,
            DIRECTORY_READER_SECRET,
            "Directory.Read.All",
        ),
        (USER_READER, USER_READER_SECRET, "User.Read.All"),
    ] {
        clients.push_str(&format!(
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
    spawn_with_seed(backend, &clients).await
}

async fn send(app: &TestApp, method: Method, path: &str, token: &str, body: Value) -> (u16, Value) {
    call(app, method, path, token, Some(body)).await
}

async fn create_app(app: &TestApp, token: &str, body: Value) -> Value {
    let (status, created) = send(app, Method::POST, "/v1.0/applications", token, body).await;
    assert_eq!(status, 201, "{created}");
    created
}

/// A client-credentials token request for the tasks API with this secret.
async fn client_credentials(app: &TestApp, client_id: &str, secret: &str) -> reqwest::Response {
    let scope = format!("api://{API_APP}/.default");
    app.token(&[
        ("grant_type", "client_credentials"),
        ("client_id", client_id),
        ("client_secret", secret),
        ("scope", &scope),
    ])
    .await
}

/// Every application of the tenant, following `@odata.nextLink` with `$top=2`.
async fn all_pages(app: &TestApp, token: &str) -> Vec<Value> {
    let mut seen = Vec::new();
    let mut next = Some("/v1.0/applications?$top=2&$select=id,appId".to_owned());
    while let Some(path) = next {
        let (status, page) = get(app, &path, token).await;
        assert_eq!(status, 200, "{page}");
        let values = page["value"].as_array().unwrap();
        assert!(values.len() <= 2, "{page}");
        seen.extend(values.iter().cloned());
        next = page["@odata.nextLink"].as_str().map(str::to_owned);
    }
    seen
}

on_every_backend!(applications_are_created_read_listed_changed_and_deleted);
async fn applications_are_created_read_listed_changed_and_deleted(backend: Backend) {
    let app = spawn_apps_app(&backend).await;
    let admin = graph_app_token(&app, APP_ADMIN, APP_ADMIN_SECRET).await;
    let seeded = all_pages(&app, &admin).await.len();

    let created = create_app(
        &app,
        &admin,
        json!({
            "displayName": "Inventory API",
            "web": {"redirectUris": ["https://inventory.example/signin-oidc"]},
            "spa": {"redirectUris": ["https://inventory.example/spa"]},
            "publicClient": {"redirectUris": ["myapp://auth"]},
            "appRoles": [{"value": "Inventory.Read", "displayName": "Read", "allowedMemberTypes": ["Application"]}],
            "signInAudience": "AzureADMyOrg",
        }),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();
    let app_id = created["appId"].as_str().unwrap().to_owned();
    assert_ne!(id, app_id);
    assert_eq!(created["displayName"], "Inventory API");
    assert_eq!(
        created["web"]["redirectUris"],
        json!(["https://inventory.example/signin-oidc"])
    );
    assert_eq!(
        created["spa"]["redirectUris"],
        json!(["https://inventory.example/spa"])
    );
    assert_eq!(
        created["publicClient"]["redirectUris"],
        json!(["myapp://auth"])
    );
    assert_eq!(created["isFallbackPublicClient"], false);
    assert_eq!(created["passwordCredentials"], json!([]));
    assert_eq!(created["appRoles"][0]["value"], "Inventory.Read");
    assert_eq!(created["appRoles"][0]["isEnabled"], true);
    assert!(created["createdDateTime"].as_str().unwrap().ends_with('Z'));
    assert!(
        created["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("/v1.0/$metadata#applications/$entity")
    );
    let events = app.audit_events("client.created").await;
    let event = events
        .iter()
        .find(|e| e.client_id.as_deref() == Some(&app_id))
        .expect("a client.created event");
    assert_eq!(event.actor.as_deref(), Some(APP_ADMIN));

    // By object id and by appId, the same object; the role id is stable.
    let (status, by_id) = get(&app, &format!("/v1.0/applications/{id}"), &admin).await;
    assert_eq!(status, 200, "{by_id}");
    assert_eq!(by_id["appRoles"], created["appRoles"]);
    let (status, by_app_id) = get(
        &app,
        &format!("/v1.0/applications(appId='{app_id}')"),
        &admin,
    )
    .await;
    assert_eq!(status, 200, "{by_app_id}");
    assert_eq!(by_app_id["id"], id.as_str());

    // Filters: appId eq, displayName eq and startswith (without regard to case).
    let (status, list) = get(
        &app,
        &format!("/v1.0/applications?$filter=appId eq '{app_id}'"),
        &admin,
    )
    .await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["value"].as_array().unwrap().len(), 1);
    assert_eq!(list["value"][0]["id"], id.as_str());
    let (_, list) = get(
        &app,
        "/v1.0/applications?$filter=startswith(displayName,'inven')",
        &admin,
    )
    .await;
    assert_eq!(list["value"].as_array().unwrap().len(), 1, "{list}");
    let (_, list) = get(
        &app,
        "/v1.0/applications?$filter=displayName eq 'web app'",
        &admin,
    )
    .await;
    let web = &list["value"][0];
    assert_eq!(web["appId"], WEB_APP, "{list}");
    assert_eq!(web["appRoles"][0]["value"], "Tasks.Read.All");
    // The seeded secret is listed, never shown.
    let creds = web["passwordCredentials"].as_array().unwrap();
    assert_eq!(creds.len(), 1, "{web}");
    assert!(creds[0]["keyId"].is_string());
    assert!(creds[0]["secretText"].is_null());
    assert!(!web.to_string().contains(WEB_APP_SECRET));

    // $select, and paging through every client of the tenant once.
    let (_, selected) = get(
        &app,
        &format!("/v1.0/applications/{id}?$select=appId,displayName"),
        &admin,
    )
    .await;
    let keys: Vec<&String> = selected.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["@odata.context", "appId", "displayName"],
        "{selected}"
    );
    let pages = all_pages(&app, &admin).await;
    let mut ids: Vec<&str> = pages.iter().map(|v| v["appId"].as_str().unwrap()).collect();
    ids.sort();
    ids.dedup();
    // Contoso's seeded clients and the new one, each once; not Fabrikam's.
    assert!(seeded >= 8);
    assert_eq!(ids.len(), seeded + 1, "{pages:?}");
    assert_eq!(pages.len(), seeded + 1);
    assert!(ids.contains(&app_id.as_str()) && !ids.contains(&FABRIKAM_APP));

    // PATCH changes what it names.
    let path = format!("/v1.0/applications/{id}");
    let (status, body) = send(
        &app,
        Method::PATCH,
        &path,
        &admin,
        json!({"displayName": "Inventory", "spa": {"redirectUris": ["http://localhost:5173/"]}}),
    )
    .await;
    assert_eq!(status, 204, "{body}");
    let (_, changed) = get(&app, &path, &admin).await;
    assert_eq!(changed["displayName"], "Inventory");
    assert_eq!(
        changed["spa"]["redirectUris"],
        json!(["http://localhost:5173/"])
    );
    assert_eq!(changed["web"], created["web"]);
    assert_eq!(app.audit_events("client.updated").await.len(), 1);

    // Validation: Graph's 400s, and nothing created.
    for (body, words) in [
        (json!({"web": {}}), "displayName"),
        (json!({"displayName": "  "}), "displayName"),
        (
            json!({"displayName": "x", "appRoles": [{"value": "A"}, {"value": "A"}]}),
            "twice",
        ),
        (
            json!({"displayName": "x", "appRoles": [{"displayName": "no value"}]}),
            "value",
        ),
        (
            json!({"displayName": "x", "spa": {"redirectUris": ["myapp://cb"]}}),
            "SPA",
        ),
        (json!({"displayName": 5}), "JSON"),
    ] {
        let (status, err) = send(&app, Method::POST, "/v1.0/applications", &admin, body).await;
        assert_error(status, &err, 400, "Request_BadRequest");
        assert!(
            err["error"]["message"].as_str().unwrap().contains(words),
            "{err}"
        );
    }
    for body in [
        json!({"displayName": ""}),
        json!({"isFallbackPublicClient": true}),
        json!({"web": {"redirectUris": ["not a uri"]}}),
    ] {
        let (status, err) = send(&app, Method::PATCH, &path, &admin, body).await;
        assert_error(status, &err, 400, "Request_BadRequest");
    }
    for query in [
        "$filter=identifierUris eq 'x'",
        "$filter=startswith(appId,'a')",
        "$select=secretText",
        "$top=0",
    ] {
        let (status, err) = get(&app, &format!("/v1.0/applications?{query}"), &admin).await;
        assert_error(status, &err, 400, "BadRequest");
    }
    assert_eq!(all_pages(&app, &admin).await.len(), seeded + 1);

    // 404: unknown ids, the other tenant's client, a service principal's id.
    let (_, sp) = get(
        &app,
        &format!("/v1.0/servicePrincipals(appId='{app_id}')"),
        &admin,
    )
    .await;
    for path in [
        format!("/v1.0/applications/{UNKNOWN_ID}"),
        format!("/v1.0/applications(appId='{UNKNOWN_ID}')"),
        format!("/v1.0/applications(appId='{FABRIKAM_APP}')"),
        format!("/v1.0/applications/{}", sp["id"].as_str().unwrap()),
    ] {
        let (status, err) = get(&app, &path, &admin).await;
        assert_error(status, &err, 404, "Request_ResourceNotFound");
        let (status, err) = send(&app, Method::PATCH, &path, &admin, json!({})).await;
        assert_error(status, &err, 404, "Request_ResourceNotFound");
        let (status, err) = call(&app, Method::DELETE, &path, &admin, None).await;
        assert_error(status, &err, 404, "Request_ResourceNotFound");
    }

    // DELETE by appId: gone, and its client with it.
    let (status, pw) = send(
        &app,
        Method::POST,
        &format!("{path}/addPassword"),
        &admin,
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{pw}");
    let secret = pw["secretText"].as_str().unwrap().to_owned();
    let res = client_credentials(&app, &app_id, &secret).await;
    assert_eq!(res.status(), 200);
    // A token for the application as an API: valid while it exists.
    let scope = format!("api://{app_id}/.default");
    let res = app
        .token(&[
            ("grant_type", "client_credentials"),
            ("client_id", DAEMON_ONLY),
            ("client_secret", DAEMON_SECRET),
            ("scope", &scope),
        ])
        .await;
    assert_eq!(res.status(), 200);
    let for_it: Value = res.json().await.unwrap();
    let for_it = for_it["access_token"].as_str().unwrap().to_owned();
    assert_eq!(app.verify(&for_it).await.status(), 200);
    let by_app_id = format!("/v1.0/applications(appId='{app_id}')");
    let (status, body) = call(&app, Method::DELETE, &by_app_id, &admin, None).await;
    assert_eq!(status, 204, "{body}");
    let (status, err) = get(&app, &path, &admin).await;
    assert_error(status, &err, 404, "Request_ResourceNotFound");
    let (status, err) = call(&app, Method::DELETE, &path, &admin, None).await;
    assert_error(status, &err, 404, "Request_ResourceNotFound");
    let res = client_credentials(&app, &app_id, &secret).await;
    assert_oauth_error(res, 401, "invalid_client").await;
    assert_eq!(app.verify(&for_it).await.status(), 401);
    assert_eq!(app.audit_events("client.deleted").await.len(), 1);

    // A public client: no secrets.
    let public = create_app(
        &app,
        &admin,
        json!({"displayName": "desktop", "isFallbackPublicClient": true,
               "publicClient": {"redirectUris": ["http://localhost"]}}),
    )
    .await;
    assert_eq!(public["isFallbackPublicClient"], true);
    assert_eq!(public["passwordCredentials"], json!([]));
    let (status, err) = send(
        &app,
        Method::POST,
        &format!(
            "/v1.0/applications/{}/addPassword",
            public["id"].as_str().unwrap()
        ),
        &admin,
        json!({}),
    )
    .await;
    assert_error(status, &err, 400, "Request_BadRequest");
}

on_every_backend!(add_password_works_at_once_and_remove_password_stops_it);
async fn add_password_works_at_once_and_remove_password_stops_it(backend: Backend) {
    let app = spawn_apps_app(&backend).await;
    let admin = graph_app_token(&app, APP_ADMIN, APP_ADMIN_SECRET).await;
    let created = create_app(&app, &admin, json!({"displayName": "nightly job"})).await;
    let (id, app_id) = (
        created["id"].as_str().unwrap().to_owned(),
        created["appId"].as_str().unwrap().to_owned(),
    );
    // Confidential, and without a secret until one is added.
    let res = client_credentials(&app, &app_id, "").await;
    assert_oauth_error(res, 401, "invalid_client").await;

    let add = format!("/v1.0/applications/{id}/addPassword");
    let (status, first) = send(
        &app,
        Method::POST,
        &add,
        &admin,
        json!({"passwordCredential": {"displayName": "ci"}}),
    )
    .await;
    assert_eq!(status, 200, "{first}");
    let first_secret = first["secretText"].as_str().unwrap().to_owned();
    assert!(first_secret.len() >= 40);
    assert_eq!(first["displayName"], "ci");
    assert_eq!(first["hint"], &first_secret[..3]);
    assert!(first["keyId"].as_str().unwrap().len() == 36);
    assert_eq!(
        first["endDateTime"].as_str().unwrap()[..4]
            .parse::<i32>()
            .unwrap()
            - first["startDateTime"].as_str().unwrap()[..4]
                .parse::<i32>()
                .unwrap(),
        2
    );
    let res = client_credentials(&app, &app_id, &first_secret).await;
    assert_eq!(res.status(), 200, "the new secret works at once");
    assert_eq!(app.audit_events("client.secret_added").await.len(), 1);

    // A second secret, by the appId form; both work; the list shows no secret.
    let (status, second) = send(
        &app,
        Method::POST,
        &format!("/v1.0/applications(appId='{app_id}')/addPassword"),
        &admin,
        json!({"passwordCredential": {"displayName": "rotation"}}),
    )
    .await;
    assert_eq!(status, 200, "{second}");
    let second_secret = second["secretText"].as_str().unwrap().to_owned();
    assert_ne!(first_secret, second_secret);
    let (_, shown) = get(&app, &format!("/v1.0/applications/{id}"), &admin).await;
    let creds = shown["passwordCredentials"].as_array().unwrap();
    assert_eq!(creds.len(), 2, "{shown}");
    assert!(creds.iter().all(|c| c["secretText"].is_null()));
    assert!(!shown.to_string().contains(&first_secret));
    assert_eq!(
        client_credentials(&app, &app_id, &second_secret)
            .await
            .status(),
        200
    );
    assert_eq!(
        client_credentials(&app, &app_id, &first_secret)
            .await
            .status(),
        200
    );

    // removePassword: that secret stops, the other goes on; twice is an error.
    let remove = format!("/v1.0/applications/{id}/removePassword");
    let key = json!({"keyId": first["keyId"]});
    let (status, body) = send(&app, Method::POST, &remove, &admin, key.clone()).await;
    assert_eq!(status, 204, "{body}");
    let res = client_credentials(&app, &app_id, &first_secret).await;
    assert_oauth_error(res, 401, "invalid_client").await;
    assert_eq!(
        client_credentials(&app, &app_id, &second_secret)
            .await
            .status(),
        200
    );
    let (status, err) = send(&app, Method::POST, &remove, &admin, key).await;
    assert_error(status, &err, 400, "Request_BadRequest");
    for bad in [json!({}), json!({"keyId": "not-a-guid"})] {
        let (status, err) = send(&app, Method::POST, &remove, &admin, bad).await;
        assert_error(status, &err, 400, "Request_BadRequest");
    }
    assert_eq!(app.audit_events("client.secret_removed").await.len(), 1);

    // A seeded client's own secret is a credential too, and can be removed.
    let (_, daemon) = get(
        &app,
        &format!("/v1.0/applications(appId='{DAEMON_ONLY}')"),
        &admin,
    )
    .await;
    assert_eq!(
        client_credentials(&app, DAEMON_ONLY, DAEMON_SECRET)
            .await
            .status(),
        200
    );
    let key = json!({"keyId": daemon["passwordCredentials"][0]["keyId"]});
    let (status, body) = send(
        &app,
        Method::POST,
        &format!("/v1.0/applications(appId='{DAEMON_ONLY}')/removePassword"),
        &admin,
        key,
    )
    .await;
    assert_eq!(status, 204, "{body}");
    let res = client_credentials(&app, DAEMON_ONLY, DAEMON_SECRET).await;
    assert_oauth_error(res, 401, "invalid_client").await;

    // A secret ends at its endDateTime, on the server's clock.
    let end = chrono::DateTime::from_timestamp(app.now() + 3600, 0)
        .unwrap()
        .to_rfc3339();
    let (status, short) = send(
        &app,
        Method::POST,
        &add,
        &admin,
        json!({"passwordCredential": {"displayName": "short", "endDateTime": end}}),
    )
    .await;
    assert_eq!(status, 200, "{short}");
    let short_secret = short["secretText"].as_str().unwrap();
    assert_eq!(
        client_credentials(&app, &app_id, short_secret)
            .await
            .status(),
        200
    );
    app.advance(Duration::from_secs(7200));
    let res = client_credentials(&app, &app_id, short_secret).await;
    assert_oauth_error(res, 401, "invalid_client").await;
    let admin = graph_app_token(&app, APP_ADMIN, APP_ADMIN_SECRET).await;

    // Validation and 404.
    for bad in [
        json!({"passwordCredential": {"endDateTime": "tomorrow"}}),
        json!({"passwordCredential": {"endDateTime": "2001-01-01T00:00:00Z"}}),
        json!({"passwordCredential": "x"}),
    ] {
        let (status, err) = send(&app, Method::POST, &add, &admin, bad).await;
        assert_error(status, &err, 400, "Request_BadRequest");
    }
    let (status, err) = send(
        &app,
        Method::POST,
        &format!("/v1.0/applications(appId='{PUBLIC_APP}')/addPassword"),
        &admin,
        json!({}),
    )
    .await;
    assert_error(status, &err, 400, "Request_BadRequest");
    for action in ["addPassword", "removePassword"] {
        let (status, err) = send(
            &app,
            Method::POST,
            &format!("/v1.0/applications/{UNKNOWN_ID}/{action}"),
            &admin,
            json!({"keyId": UNKNOWN_ID}),
        )
        .await;
        assert_error(status, &err, 404, "Request_ResourceNotFound");
    }
}

on_every_backend!(service_principals_are_found_by_app_id);
async fn service_principals_are_found_by_app_id(backend: Backend) {
    let app = spawn_apps_app(&backend).await;
    let reader = graph_app_token(&app, APP_READER, APP_READER_SECRET).await;
    let (status, list) = get(
        &app,
        &format!("/v1.0/servicePrincipals?$filter=appId eq '{WEB_APP}'"),
        &reader,
    )
    .await;
    assert_eq!(status, 200, "{list}");
    let values = list["value"].as_array().unwrap();
    assert_eq!(values.len(), 1, "{list}");
    let sp = &values[0];
    assert_eq!(sp["appId"], WEB_APP);
    assert_eq!(sp["displayName"], "web app");
    assert_eq!(sp["servicePrincipalType"], "Application");
    assert!(
        list["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("$metadata#servicePrincipals")
    );
    let (_, application) = get(
        &app,
        &format!("/v1.0/applications(appId='{WEB_APP}')"),
        &reader,
    )
    .await;
    assert_ne!(sp["id"], application["id"]);
    assert_eq!(sp["appRoles"], application["appRoles"]);
    assert_eq!(sp["appRoles"][0]["value"], "Tasks.Read.All");

    let sp_id = sp["id"].as_str().unwrap();
    let (status, one) = get(&app, &format!("/v1.0/servicePrincipals/{sp_id}"), &reader).await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(one["appId"], WEB_APP);
    let (status, one) = get(
        &app,
        &format!("/v1.0/servicePrincipals(appId='{WEB_APP}')?$select=id"),
        &reader,
    )
    .await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(one["id"], sp_id);
    assert!(one.get("appId").is_none());
    let (status, all) = get(&app, "/v1.0/servicePrincipals?$top=999", &reader).await;
    assert_eq!(status, 200);
    let (_, apps) = get(&app, "/v1.0/applications?$top=999", &reader).await;
    let count = apps["value"].as_array().unwrap().len();
    assert!(count >= 8);
    assert_eq!(all["value"].as_array().unwrap().len(), count, "{all}");

    for path in [
        format!("/v1.0/servicePrincipals/{UNKNOWN_ID}"),
        format!(
            "/v1.0/servicePrincipals/{}",
            application["id"].as_str().unwrap()
        ),
        format!("/v1.0/servicePrincipals(appId='{FABRIKAM_APP}')"),
    ] {
        let (status, err) = get(&app, &path, &reader).await;
        assert_error(status, &err, 404, "Request_ResourceNotFound");
    }
    for query in [
        "$filter=servicePrincipalType eq 'Application'",
        "$select=nope",
    ] {
        let (status, err) = get(&app, &format!("/v1.0/servicePrincipals?{query}"), &reader).await;
        assert_error(status, &err, 400, "BadRequest");
    }
}

on_every_backend!(application_routes_need_a_token_and_application_permissions);
async fn application_routes_need_a_token_and_application_permissions(backend: Backend) {
    let app = spawn_apps_app(&backend).await;
    let reader = graph_app_token(&app, APP_READER, APP_READER_SECRET).await;
    let directory_reader = graph_app_token(&app, DIRECTORY_READER, DIRECTORY_READER_SECRET).await;
    let user_reader = graph_app_token(&app, USER_READER, USER_READER_SECRET).await;
    let alice = app.alice_tokens("User.Read").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let app_path = format!("/v1.0/applications(appId='{WEB_APP}')");
    let sp_path = format!("/v1.0/servicePrincipals(appId='{WEB_APP}')");
    let reads = [
        "/v1.0/applications".to_owned(),
        app_path.clone(),
        "/v1.0/servicePrincipals".to_owned(),
        sp_path.clone(),
    ];
    let writes = [
        (Method::POST, "/v1.0/applications".to_owned()),
        (Method::PATCH, app_path.clone()),
        (Method::DELETE, app_path.clone()),
        (Method::POST, format!("{app_path}/addPassword")),
        (Method::POST, format!("{app_path}/removePassword")),
    ];
    let body = json!({"displayName": "x", "keyId": UNKNOWN_ID});

    // Application.Read.All and Directory.Read.All read, and may not write.
    for token in [&reader, &directory_reader] {
        for path in &reads {
            let (status, value) = get(&app, path, token).await;
            assert_eq!(status, 200, "{path}: {value}");
        }
        for (method, path) in &writes {
            let (status, err) = send(&app, method.clone(), path, token, body.clone()).await;
            assert_error(status, &err, 403, "Authorization_RequestDenied");
        }
    }
    // Neither User.Read.All nor a user's token reads or writes applications.
    for token in [&user_reader, &alice] {
        for path in &reads {
            let (status, err) = get(&app, path, token).await;
            assert_error(status, &err, 403, "Authorization_RequestDenied");
        }
        for (method, path) in &writes {
            let (status, err) = send(&app, method.clone(), path, token, body.clone()).await;
            assert_error(status, &err, 403, "Authorization_RequestDenied");
        }
    }
    // No token, or a bad one: 401.
    for token in ["", "not-a-jwt"] {
        for path in &reads {
            let (status, err) = get(&app, path, token).await;
            assert_error(status, &err, 401, "InvalidAuthenticationToken");
        }
        for (method, path) in &writes {
            let (status, err) = send(&app, method.clone(), path, token, body.clone()).await;
            assert_error(status, &err, 401, "InvalidAuthenticationToken");
        }
    }
    // Nothing was written.
    assert_eq!(
        client_credentials(&app, WEB_APP, WEB_APP_SECRET)
            .await
            .status(),
        200
    );
    let created = app.audit_events("client.created").await;
    assert!(created.iter().all(|e| !e.detail.contains("graph")));
}
