//! localidp's extension to Graph's user writes: `passwordProfile.passwordHash`, an
//! existing hash in one of the formats `user import` accepts.

use std::process::Command;

use serde_json::{Value, json};

use crate::foreign_hashes::{FIXED, PASSWORD};
use crate::helpers::clients::{interop_dir, python};
use crate::helpers::graph::{
    GRAPH_DEFAULT, assert_graph_error, client_credentials_token, graph, spawn_with_seed,
};
use crate::helpers::*;

const WRITER: &str = "99999999-0000-4000-8000-0000000000a1";
const WRITER_SECRET: &str = "graph-hash-writer-secret-0123456789abcdef";

async fn spawn_graph_app(backend: &Backend) -> TestApp {
    spawn_with_seed(
        backend,
        &format!(
            r#"
[[clients]]
client_id = "{WRITER}"
name = "graph writer"
secret = "{WRITER_SECRET}"
grant_types = ["client_credentials"]
graph_permissions = ["User.ReadWrite.All"]
"#
        ),
    )
    .await
}

/// `passwordHash` values for `PASSWORD` in every format: passlib and Django made now
/// by the real libraries, bcrypt here, ASP.NET and Keycloak the fixed vectors (the
/// Keycloak credential object as its JSON text).
fn hashes() -> Vec<String> {
    let out = Command::new(python())
        .arg(interop_dir().join("foreign_hashes.py"))
        .arg(PASSWORD)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut hashes: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            v["password_hash"].as_str().unwrap().to_owned()
        })
        .collect();
    for (_, field, value) in FIXED {
        hashes.push(match *field {
            "password_hash" => serde_json::from_str::<String>(value).unwrap(),
            _ => (*value).to_owned(),
        });
    }
    hashes.push(bcrypt::hash(PASSWORD, 4).unwrap());
    hashes
}

/// The password grant's status for this user and password.
async fn sign_in(app: &TestApp, user: &str, password: &str) -> u16 {
    app.token(&[
        ("grant_type", "password"),
        ("client_id", WEB_APP),
        ("client_secret", WEB_APP_SECRET),
        ("username", user),
        ("password", password),
    ])
    .await
    .status()
    .as_u16()
}

async fn create(app: &TestApp, token: &str, upn: &str, profile: Value) -> (u16, Value) {
    graph(
        app,
        reqwest::Method::POST,
        "/v1.0/users",
        Some(token),
        Some(json!({
            "accountEnabled": true,
            "displayName": upn,
            "userPrincipalName": upn,
            "passwordProfile": profile,
        })),
    )
    .await
}

on_every_backend!(a_user_created_over_graph_with_an_existing_hash_signs_in_with_its_password);
async fn a_user_created_over_graph_with_an_existing_hash_signs_in_with_its_password(
    backend: Backend,
) {
    let app = spawn_graph_app(&backend).await;
    let token = client_credentials_token(&app, WRITER, WRITER_SECRET, GRAPH_DEFAULT).await;
    let hashes = hashes();
    assert!(hashes.len() >= 10, "{hashes:?}");
    for (i, hash) in hashes.iter().enumerate() {
        let upn = format!("hashed{i}@contoso.com");
        let (status, body) = create(&app, &token, &upn, json!({"passwordHash": hash})).await;
        assert_eq!(status, 201, "{hash}: {body}");
        assert_eq!(sign_in(&app, &upn, PASSWORD).await, 200, "{hash}");
    }
    assert_eq!(
        sign_in(&app, "hashed0@contoso.com", "not the password").await,
        400
    );

    // A hash in no accepted format, with a password too, or costlier than a sign-in
    // may take (bcrypt 31 would hold a hashing thread for days; argon2 with 4 GiB):
    // Graph's 400, no user.
    let bcrypt_31 = bcrypt::hash("x", 4).unwrap().replacen("$04$", "$31$", 1);
    let argon2_4g = format!(
        "$argon2id$v=19$m=4194304,t=3,p=1$c29tZXNhbHRzYWx0${}",
        "A".repeat(43)
    );
    for (upn, profile) in [
        ("bcrypt31@contoso.com", json!({"passwordHash": bcrypt_31})),
        ("argon4g@contoso.com", json!({"passwordHash": argon2_4g})),
        ("md5@contoso.com", json!({"passwordHash": "$1$salt$hash"})),
        ("plain@contoso.com", json!({"passwordHash": "just text"})),
        (
            "both@contoso.com",
            json!({"passwordHash": hashes[0], "password": "Str0ng-Passw0rd!"}),
        ),
    ] {
        let (status, body) = create(&app, &token, upn, profile).await;
        assert_graph_error(status, &body, 400, "Request_BadRequest");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("passwordHash"), "{message}");
        assert_eq!(sign_in(&app, upn, "Str0ng-Passw0rd!").await, 400, "{upn}");
    }
    let (status, found) = graph(
        &app,
        reqwest::Method::GET,
        "/v1.0/users/md5@contoso.com",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, 404, "{found}");

    // PATCH takes one too: the user signs in with the hash's password.
    let (status, body) = create(
        &app,
        &token,
        "patched@contoso.com",
        json!({"password": "Str0ng-Passw0rd!"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().unwrap();
    let (status, body) = graph(
        &app,
        reqwest::Method::PATCH,
        &format!("/v1.0/users/{id}"),
        Some(&token),
        Some(json!({"passwordProfile": {"passwordHash": "$1$salt$hash"}})),
    )
    .await;
    assert_graph_error(status, &body, 400, "Request_BadRequest");
    let (status, _) = graph(
        &app,
        reqwest::Method::PATCH,
        &format!("/v1.0/users/{id}"),
        Some(&token),
        Some(json!({"passwordProfile": {"passwordHash": hashes[1]}})),
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(sign_in(&app, "patched@contoso.com", PASSWORD).await, 200);
    assert_eq!(
        sign_in(&app, "patched@contoso.com", "Str0ng-Passw0rd!").await,
        400
    );
}
