//! The directory as Microsoft Graph v1.0: Graph tokens from the token endpoint, Graph's
//! errors, `/me`, and users read, paged, filtered, created, changed and deleted.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::helpers::graph::{
    add_people, assert_graph_error, cli, client_credentials_token, get, graph, spawn_with_seed,
};
use crate::helpers::*;

const GRAPH_ADMIN: &str = "99999999-0000-4000-8000-000000000001";
const GRAPH_ADMIN_SECRET: &str = "graph-admin-secret-0123456789abcdefghijk";
const GRAPH_READER: &str = "99999999-0000-4000-8000-000000000002";
const GRAPH_READER_SECRET: &str = "graph-reader-secret-0123456789abcdefghij";
const GRAPH_ID: &str = "00000003-0000-0000-c000-000000000000";
const GRAPH_DEFAULT: &str = "https://graph.microsoft.com/.default";
const STRONG_PASSWORD: &str = "Str0ng-Passw0rd!";

/// The standard seed plus two Graph clients whose permissions come from the seed file.
async fn spawn_graph_app(backend: &Backend) -> TestApp {
    spawn_with_seed(
        backend,
        &format!(
            r#"
[[clients]]
client_id = "{GRAPH_ADMIN}"
name = "graph admin"
secret = "{GRAPH_ADMIN_SECRET}"
grant_types = ["client_credentials"]
graph_permissions = ["User.ReadWrite.All"]

[[clients]]
client_id = "{GRAPH_READER}"
name = "graph reader"
secret = "{GRAPH_READER_SECRET}"
grant_types = ["client_credentials"]
graph_permissions = ["user.read.all"]
"#
        ),
    )
    .await
}

async fn admin_token(app: &TestApp) -> String {
    client_credentials_token(app, GRAPH_ADMIN, GRAPH_ADMIN_SECRET, GRAPH_DEFAULT).await
}

async fn create_user(app: &TestApp, token: &str, upn: &str, name: &str) -> Value {
    let (status, body) = graph(
        app,
        reqwest::Method::POST,
        "/v1.0/users",
        Some(token),
        Some(json!({
            "accountEnabled": true,
            "displayName": name,
            "mailNickname": upn.split('@').next().unwrap(),
            "userPrincipalName": upn,
            "passwordProfile": {"forceChangePasswordNextSignIn": false, "password": STRONG_PASSWORD},
        })),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body
}

on_every_backend!(graph_tokens_carry_the_permissions_granted_to_the_client);
async fn graph_tokens_carry_the_permissions_granted_to_the_client(backend: Backend) {
    let app = spawn_graph_app(&backend).await;
    let token = admin_token(&app).await;
    let c = claims(&token);
    assert_eq!(c["aud"], "https://graph.microsoft.com");
    assert_eq!(c["roles"], json!(["User.ReadWrite.All"]));
    assert_eq!(c["idtyp"], "app");
    // Named by its app id, Graph is the audience under that name.
    let token = client_credentials_token(
        &app,
        GRAPH_READER,
        GRAPH_READER_SECRET,
        &format!("{GRAPH_ID}/.default"),
    )
    .await;
    let c = claims(&token);
    assert_eq!(c["aud"], GRAPH_ID);
    assert_eq!(
        c["roles"],
        json!(["User.Read.All"]),
        "spelled as Graph does"
    );
    // A client granted nothing gets a Graph token without roles; its app roles are
    // for its own APIs, not for Graph.
    let web = client_credentials_token(&app, WEB_APP, WEB_APP_SECRET, GRAPH_DEFAULT).await;
    assert!(
        claims(&web).get("roles").is_none_or(|r| r == &json!([])),
        "{}",
        claims(&web)
    );
    // An API does not accept a token for Graph.
    assert_eq!(app.verify(&token).await.status(), 401);

    // The seed's grants are recorded once; a restart grants nothing twice.
    let granted = app.audit_events("client.graph_granted").await;
    assert_eq!(granted.len(), 2);
    assert!(granted.iter().all(|e| e.actor.as_deref() == Some("seed")));
    let (settings, fixture) = app.stop().await;
    let app = spawn_with(settings, fixture).await;
    assert_eq!(app.audit_events("client.graph_granted").await.len(), 2);
    let token = admin_token(&app).await;
    assert_eq!(claims(&token)["roles"], json!(["User.ReadWrite.All"]));
}

on_every_backend!(graph_refuses_missing_and_bad_tokens_and_missing_permissions);
async fn graph_refuses_missing_and_bad_tokens_and_missing_permissions(backend: Backend) {
    let app = spawn_graph_app(&backend).await;
    let (status, body) = graph(&app, reqwest::Method::GET, "/v1.0/users", None, None).await;
    assert_graph_error(status, &body, 401, "InvalidAuthenticationToken");
    let (status, body) = get(&app, "/v1.0/users", "not-a-jwt").await;
    assert_graph_error(status, &body, 401, "InvalidAuthenticationToken");
    // A valid token for another audience is not a Graph token.
    let api = client_credentials_token(
        &app,
        WEB_APP,
        WEB_APP_SECRET,
        &format!("api://{API_APP}/.default"),
    )
    .await;
    let (status, body) = get(&app, "/v1.0/users", &api).await;
    assert_graph_error(status, &body, 401, "InvalidAuthenticationToken");
    // A Graph token without the permission.
    let web = client_credentials_token(&app, WEB_APP, WEB_APP_SECRET, GRAPH_DEFAULT).await;
    let (status, body) = get(&app, "/v1.0/users", &web).await;
    assert_graph_error(status, &body, 403, "Authorization_RequestDenied");
    let reader =
        client_credentials_token(&app, GRAPH_READER, GRAPH_READER_SECRET, GRAPH_DEFAULT).await;
    assert_eq!(get(&app, "/v1.0/users", &reader).await.0, 200);
    let (status, body) = graph(
        &app,
        reqwest::Method::POST,
        "/v1.0/users",
        Some(&reader),
        Some(json!({"displayName": "x"})),
    )
    .await;
    assert_graph_error(status, &body, 403, "Authorization_RequestDenied");
    let (status, body) = graph(
        &app,
        reqwest::Method::DELETE,
        &format!("/v1.0/users/{ALICE_OID}"),
        Some(&reader),
        None,
    )
    .await;
    assert_graph_error(status, &body, 403, "Authorization_RequestDenied");
    // A signed-in user's User.Read reaches /me, not the directory.
    let alice = app.alice_tokens("User.Read").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = get(&app, "/v1.0/users", &alice).await;
    assert_graph_error(status, &body, 403, "Authorization_RequestDenied");
    // What this slice does not serve is answered in Graph's shape.
    let (status, body) = get(&app, "/v1.0/devices", &reader).await;
    assert_graph_error(status, &body, 400, "BadRequest");
    assert_eq!(
        body["error"]["message"],
        "Resource not found for the segment 'devices'."
    );
    // An expired token is refused.
    app.advance(std::time::Duration::from_secs(2 * 3600));
    let (status, body) = get(&app, "/v1.0/users", &reader).await;
    assert_graph_error(status, &body, 401, "InvalidAuthenticationToken");
}

on_every_backend!(me_answers_the_signed_in_user_in_graph_s_shape);
async fn me_answers_the_signed_in_user_in_graph_s_shape(backend: Backend) {
    let app = spawn_graph_app(&backend).await;
    let tokens = app.alice_tokens("openid User.Read").await;
    let token = tokens["access_token"].as_str().unwrap();
    let c = claims(token);
    assert_eq!(c["aud"], GRAPH_ID);
    assert_eq!(c["scp"], "User.Read");
    let (status, me) = get(&app, "/v1.0/me", token).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(
        me["@odata.context"],
        format!("{PUBLIC_URL}/v1.0/$metadata#users/$entity")
    );
    assert_eq!(me["id"], ALICE_OID);
    assert_eq!(me["displayName"], "Alice Smith");
    assert_eq!(me["givenName"], "Alice");
    assert_eq!(me["surname"], "Smith");
    assert_eq!(me["mail"], ALICE);
    assert_eq!(me["userPrincipalName"], ALICE);
    assert_eq!(me["businessPhones"], json!([]));
    assert_eq!(me["jobTitle"], Value::Null);
    assert!(
        me.get("accountEnabled").is_none(),
        "not in Graph's default set"
    );
    let (_, beta) = get(&app, "/beta/me", token).await;
    assert_eq!(beta["id"], ALICE_OID);
    let (status, me) = get(&app, "/v1.0/me?$select=displayName,accountEnabled", token).await;
    assert_eq!(status, 200);
    assert_eq!(me.as_object().unwrap().len(), 3, "{me}");
    assert_eq!(me["accountEnabled"], true);
    let (status, body) = get(&app, "/v1.0/me?$select=shoeSize", token).await;
    assert_graph_error(status, &body, 400, "BadRequest");

    // Graph's .default for a user carries User.Read.
    let tokens = app.alice_tokens(&format!("openid {GRAPH_DEFAULT}")).await;
    let token = tokens["access_token"].as_str().unwrap();
    assert_eq!(claims(token)["aud"], "https://graph.microsoft.com");
    assert_eq!(claims(token)["scp"], "User.Read");
    assert_eq!(get(&app, "/v1.0/me", token).await.0, 200);
    // An application has no /me.
    let (status, body) = get(&app, "/v1.0/me", &admin_token(&app).await).await;
    assert_graph_error(status, &body, 400, "Request_BadRequest");
}

on_every_backend!(users_are_created_read_changed_and_deleted);
async fn users_are_created_read_changed_and_deleted(backend: Backend) {
    let app = spawn_graph_app(&backend).await;
    let token = admin_token(&app).await;
    let created = create_user(&app, &token, "nick@contoso.onmicrosoft.com", "Nick Fury").await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok());
    assert_eq!(created["userPrincipalName"], "nick@contoso.onmicrosoft.com");
    assert_eq!(created["displayName"], "Nick Fury");
    assert_eq!(created["mail"], Value::Null);

    let (status, by_id) = get(&app, &format!("/v1.0/users/{id}"), &token).await;
    assert_eq!(status, 200);
    assert_eq!(
        by_id["@odata.context"],
        format!("{PUBLIC_URL}/v1.0/$metadata#users/$entity")
    );
    let (_, by_upn) = get(&app, "/v1.0/users/NICK@contoso.onmicrosoft.com", &token).await;
    assert_eq!(by_upn["id"], id.as_str());

    // Same user principal name: Graph's duplicate answer.
    let (status, body) = graph(
        &app,
        reqwest::Method::POST,
        "/v1.0/users",
        Some(&token),
        Some(json!({"accountEnabled": true, "displayName": "Other", "userPrincipalName": "nick@contoso.onmicrosoft.com",
                    "passwordProfile": {"password": STRONG_PASSWORD}})),
    )
    .await;
    assert_graph_error(status, &body, 400, "Request_BadRequest");
    assert_eq!(
        body["error"]["message"],
        "Another object with the same value for property userPrincipalName already exists."
    );
    // Missing and weak fields.
    for bad in [
        json!({"userPrincipalName": "x@contoso.com", "passwordProfile": {"password": STRONG_PASSWORD}}),
        json!({"displayName": "X", "passwordProfile": {"password": STRONG_PASSWORD}}),
        json!({"displayName": "X", "userPrincipalName": "x@contoso.com"}),
        json!({"displayName": "X", "userPrincipalName": "x@contoso.com", "passwordProfile": {"password": "weak"}}),
        json!("not an object"),
    ] {
        let (status, body) = graph(
            &app,
            reqwest::Method::POST,
            "/v1.0/users",
            Some(&token),
            Some(bad.clone()),
        )
        .await;
        assert_graph_error(status, &body, 400, "Request_BadRequest");
    }

    let (status, _) = graph(
        &app,
        reqwest::Method::PATCH,
        &format!("/v1.0/users/{id}"),
        Some(&token),
        Some(json!({"displayName": "Nicholas Fury", "givenName": "Nicholas", "surname": "Fury"})),
    )
    .await;
    assert_eq!(status, 204);
    let (_, changed) = get(&app, &format!("/v1.0/users/{id}"), &token).await;
    assert_eq!(
        (
            &changed["displayName"],
            &changed["givenName"],
            &changed["surname"]
        ),
        (&json!("Nicholas Fury"), &json!("Nicholas"), &json!("Fury"))
    );

    let missing = "12345678-0000-4000-8000-000000000000";
    let (status, body) = get(&app, &format!("/v1.0/users/{missing}"), &token).await;
    assert_graph_error(status, &body, 404, "Request_ResourceNotFound");
    let (status, body) = graph(
        &app,
        reqwest::Method::PATCH,
        &format!("/v1.0/users/{missing}"),
        Some(&token),
        Some(json!({"displayName": "x"})),
    )
    .await;
    assert_graph_error(status, &body, 404, "Request_ResourceNotFound");

    let nick = app
        .password_tokens("nick@contoso.onmicrosoft.com", STRONG_PASSWORD, "openid")
        .await["access_token"]
        .as_str()
        .expect("the new user signs in")
        .to_owned();
    assert_eq!(app.verify(&nick).await.status(), 200);
    let (status, _) = graph(
        &app,
        reqwest::Method::DELETE,
        &format!("/v1.0/users/{id}"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(
        app.verify(&nick).await.status(),
        401,
        "a deleted user's token is refused"
    );
    let (status, body) = get(&app, &format!("/v1.0/users/{id}"), &token).await;
    assert_graph_error(status, &body, 404, "Request_ResourceNotFound");
    let (status, body) = graph(
        &app,
        reqwest::Method::DELETE,
        &format!("/v1.0/users/{id}"),
        Some(&token),
        None,
    )
    .await;
    assert_graph_error(status, &body, 404, "Request_ResourceNotFound");

    // Each write is in the audit log with the application as the actor.
    for kind in ["user.created", "user.updated", "user.deleted"] {
        let rows: Vec<_> = app
            .audit_events(kind)
            .await
            .into_iter()
            .filter(|e| e.user_id.as_deref() == Some(id.as_str()))
            .collect();
        assert_eq!(rows.len(), 1, "{kind}");
        assert_eq!(rows[0].actor.as_deref(), Some(GRAPH_ADMIN), "{kind}");
        assert_eq!(rows[0].tenant_id.as_deref(), Some(CONTOSO_ID), "{kind}");
    }
}

on_every_backend!(a_user_created_over_graph_signs_in_and_a_disabled_one_is_refused);
async fn a_user_created_over_graph_signs_in_and_a_disabled_one_is_refused(backend: Backend) {
    let app = spawn_graph_app(&backend).await;
    let token = admin_token(&app).await;
    let created = create_user(&app, &token, "maria@contoso.com", "Maria Hill").await;
    let id = created["id"].as_str().unwrap().to_owned();
    let tokens = app
        .password_tokens("maria@contoso.com", STRONG_PASSWORD, "openid")
        .await;
    let access = tokens["access_token"]
        .as_str()
        .expect("signs in at once")
        .to_owned();
    assert_eq!(claims(&access)["oid"], id.as_str());
    assert_eq!(app.verify(&access).await.status(), 200);

    // A new password over Graph works at once, the old one no longer.
    let (status, _) = graph(
        &app,
        reqwest::Method::PATCH,
        &format!("/v1.0/users/{id}"),
        Some(&token),
        Some(json!({"passwordProfile": {"password": "An0ther-Passw0rd"}})),
    )
    .await;
    assert_eq!(status, 204);
    let tokens = app
        .password_tokens("maria@contoso.com", "An0ther-Passw0rd", "openid")
        .await;
    assert!(tokens["access_token"].is_string(), "{tokens}");
    let maria_graph = app
        .password_tokens("maria@contoso.com", "An0ther-Passw0rd", "User.Read")
        .await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(get(&app, "/v1.0/me", &maria_graph).await.0, 200);

    let (status, _) = graph(
        &app,
        reqwest::Method::PATCH,
        &format!("/v1.0/users/{id}"),
        Some(&token),
        Some(json!({"accountEnabled": false})),
    )
    .await;
    assert_eq!(status, 204);
    let (status, body) = get(&app, "/v1.0/me", &maria_graph).await;
    assert_graph_error(status, &body, 401, "InvalidAuthenticationToken");
    assert_eq!(
        app.verify(&access).await.status(),
        401,
        "the disabled user's token is refused"
    );
    let res = app
        .token(&[
            ("grant_type", "password"),
            ("client_id", WEB_APP),
            ("client_secret", WEB_APP_SECRET),
            ("username", "maria@contoso.com"),
            ("password", "An0ther-Passw0rd"),
            ("scope", "openid"),
        ])
        .await;
    assert_eq!(res.status(), 400, "a disabled user cannot sign in");
    let (_, shown) = get(
        &app,
        &format!("/v1.0/users/{id}?$select=accountEnabled"),
        &token,
    )
    .await;
    assert_eq!(
        shown,
        json!({"@odata.context": format!("{PUBLIC_URL}/v1.0/$metadata#users(accountEnabled)/$entity"), "accountEnabled": false})
    );
    let disabled = app.audit_events("user.disabled").await;
    assert_eq!(disabled.len(), 1);
    assert_eq!(disabled[0].actor.as_deref(), Some(GRAPH_ADMIN));
    assert_eq!(disabled[0].user_id.as_deref(), Some(id.as_str()));
}

on_every_backend!(paging_has_no_repeats_or_gaps_while_users_are_added);
async fn paging_has_no_repeats_or_gaps_while_users_are_added(backend: Backend) {
    let app = spawn_graph_app(&backend).await;
    let token =
        client_credentials_token(&app, GRAPH_READER, GRAPH_READER_SECRET, GRAPH_DEFAULT).await;
    add_people(&app, "pager", 23).await;
    let (_, all) = get(&app, "/v1.0/users?$top=999&$select=id", &token).await;
    let before: HashSet<String> = all["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(all.get("@odata.nextLink").is_none());
    assert!(before.len() >= 23 + 4);

    let mut seen = Vec::new();
    let mut next = Some("/v1.0/users?$top=5&$select=id,displayName".to_owned());
    let mut pages = 0;
    while let Some(link) = next {
        let (status, page) = get(&app, &link, &token).await;
        assert_eq!(status, 200, "{page}");
        let values = page["value"].as_array().unwrap();
        assert!(values.len() <= 5);
        for u in values {
            assert_eq!(u.as_object().unwrap().len(), 2, "{u}");
            seen.push(u["id"].as_str().unwrap().to_owned());
        }
        next = page["@odata.nextLink"].as_str().map(str::to_owned);
        if let Some(link) = &next {
            assert!(
                link.starts_with(&format!("{PUBLIC_URL}/v1.0/users?")),
                "{link}"
            );
            assert!(link.contains("%24skiptoken="), "{link}");
        }
        pages += 1;
        // Rows added between pages land before or after the cursor: never a repeat,
        // never a gap among the users that were there.
        add_people(&app, &format!("late{pages}x"), 2).await;
        assert!(pages < 100);
    }
    assert!(pages >= 6, "{pages} pages");
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no user twice");
    for id in &before {
        assert!(seen.contains(id), "{id} skipped");
    }

    let (status, body) = get(&app, "/v1.0/users?$top=1000", &token).await;
    assert_graph_error(status, &body, 400, "BadRequest");
    let (status, body) = get(&app, "/v1.0/users?$skiptoken=bogus", &token).await;
    assert_graph_error(status, &body, 400, "BadRequest");
}

on_every_backend!(lists_are_filtered_and_selected_as_graph_does);
async fn lists_are_filtered_and_selected_as_graph_does(backend: Backend) {
    let app = spawn_graph_app(&backend).await;
    let token =
        client_credentials_token(&app, GRAPH_READER, GRAPH_READER_SECRET, GRAPH_DEFAULT).await;
    add_people(&app, "filt", 3).await;
    add_people(&app, "filt_x", 1).await;
    let names = |body: &Value| -> Vec<String> {
        let mut v: Vec<String> = body["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["displayName"].as_str().unwrap().to_owned())
            .collect();
        v.sort();
        v
    };
    let (status, body) = get(
        &app,
        "/v1.0/users?$filter=startswith(displayName,'FILT ')",
        &token,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(names(&body), ["filt 0", "filt 1", "filt 2"]);
    // `_` is a character, not a wildcard.
    let (_, body) = get(&app, "/v1.0/users?$filter=startswith(mail,'filt_')", &token).await;
    assert_eq!(names(&body), ["filt_x 0"]);
    let (_, body) = get(
        &app,
        "/v1.0/users?$filter=startswith(displayName,'filt') and mail eq 'FILT1@contoso.com'&$select=displayName,mail",
        &token,
    )
    .await;
    assert_eq!(
        body,
        json!({"@odata.context": format!("{PUBLIC_URL}/v1.0/$metadata#users(displayName,mail)"),
               "value": [{"displayName": "filt 1", "mail": "filt1@contoso.com"}]})
    );
    let (_, body) = get(
        &app,
        &format!("/v1.0/users?$filter=userPrincipalName eq '{ALICE}'"),
        &token,
    )
    .await;
    assert_eq!(body["value"][0]["id"], ALICE_OID);
    assert_eq!(body["value"].as_array().unwrap().len(), 1);
    let (_, body) = get(
        &app,
        "/v1.0/users?$filter=displayName eq 'Alice Smith'",
        &token,
    )
    .await;
    assert_eq!(body["value"][0]["id"], ALICE_OID);
    for bad in [
        "/v1.0/users?$filter=jobTitle eq 'x'",
        "/v1.0/users?$filter=displayName ne 'x'",
        "/v1.0/users?$filter=mail eq 'x' or mail eq 'y'",
        "/v1.0/users?$select=shoeSize",
    ] {
        let (status, body) = get(&app, bad, &token).await;
        assert_graph_error(status, &body, 400, "BadRequest");
    }
}

on_every_backend!(graph_permissions_granted_from_the_cli_apply_to_the_next_token);
async fn graph_permissions_granted_from_the_cli_apply_to_the_next_token(backend: Backend) {
    let app = spawn_graph_app(&backend).await;
    let run = |args: &[&str]| cli(&app, args);
    let out = run(&[
        "client",
        "grant-graph",
        WEB_APP,
        "user.read.all",
        "Group.Read.All",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = client_credentials_token(&app, WEB_APP, WEB_APP_SECRET, GRAPH_DEFAULT).await;
    assert_eq!(
        claims(&token)["roles"],
        json!(["Group.Read.All", "User.Read.All"])
    );
    assert_eq!(get(&app, "/v1.0/users?$top=1", &token).await.0, 200);
    let out = run(&["client", "grant-graph", WEB_APP, "Mail.Send"]);
    assert!(!out.status.success(), "an unknown permission is refused");
    let out = run(&["client", "revoke-graph", WEB_APP, "User.Read.All"]);
    assert!(out.status.success());
    let token = client_credentials_token(&app, WEB_APP, WEB_APP_SECRET, GRAPH_DEFAULT).await;
    assert_eq!(claims(&token)["roles"], json!(["Group.Read.All"]));
    let granted = app.audit_events("client.graph_granted").await;
    assert!(
        granted
            .iter()
            .any(|e| e.client_id.as_deref() == Some(WEB_APP))
    );
}

on_every_backend!(revoke_sign_in_sessions_ends_the_user_s_refresh_tokens);
async fn revoke_sign_in_sessions_ends_the_user_s_refresh_tokens(backend: Backend) {
    let app = spawn_graph_app(&backend).await;
    let tokens = app.alice_tokens("openid offline_access").await;
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let path = format!("/v1.0/users/{ALICE}/revokeSignInSessions");
    let reader =
        client_credentials_token(&app, GRAPH_READER, GRAPH_READER_SECRET, GRAPH_DEFAULT).await;
    let (status, body) = graph(&app, reqwest::Method::POST, &path, Some(&reader), None).await;
    assert_graph_error(status, &body, 403, "Authorization_RequestDenied");
    assert_eq!(
        app.refresh(&refresh, &[]).await.status(),
        200,
        "still valid"
    );

    let tokens = app.alice_tokens("openid offline_access").await;
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let admin = admin_token(&app).await;
    let (status, body) = graph(&app, reqwest::Method::POST, &path, Some(&admin), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"@odata.context": format!("{PUBLIC_URL}/v1.0/$metadata#Edm.Boolean"), "value": true})
    );
    assert_oauth_error(app.refresh(&refresh, &[]).await, 400, "invalid_grant").await;
    // Alice signs in again as before.
    assert!(app.alice_tokens("openid").await["access_token"].is_string());
    let revoked = app.audit_events("user.sessions_revoked").await;
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0].user_id.as_deref(), Some(ALICE_OID));
    assert_eq!(revoked[0].actor.as_deref(), Some(GRAPH_ADMIN));
    let (status, body) = graph(
        &app,
        reqwest::Method::POST,
        "/v1.0/users/nobody@contoso.com/revokeSignInSessions",
        Some(&admin),
        None,
    )
    .await;
    assert_graph_error(status, &body, 404, "Request_ResourceNotFound");
}
