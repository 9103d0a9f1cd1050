//! Microsoft Graph's own client libraries against localidp's Directory API over HTTPS
//! with its development CA: the Python SDK (msgraph-sdk, with azure-identity's
//! ClientSecretCredential whose authority is localidp) and the JavaScript client
//! (@microsoft/microsoft-graph-client with its baseUrl), at the versions pinned in
//! tests/interop/.

use std::process::Command;

use serde_json::json;

use crate::helpers::clients::{interop_dir, node_modules, python, run_json};
use crate::helpers::graph::append_to_seed;
use crate::helpers::*;

const SDK_ADMIN: &str = "99999999-0000-4000-8000-0000000000b1";
const SDK_ADMIN_SECRET: &str = "graph-sdk-admin-secret-0123456789abcdef";

on_every_backend!(graph_sdks_for_python_and_javascript_over_https);
async fn graph_sdks_for_python_and_javascript_over_https(backend: Backend) {
    let python = python().to_owned();
    node_modules();
    let (mut settings, fixture) = test_fixture(&backend);
    settings.public_url = None;
    settings.tls = true;
    append_to_seed(
        &settings,
        &format!(
            r#"
[[clients]]
client_id = "{SDK_ADMIN}"
name = "graph sdk admin"
secret = "{SDK_ADMIN_SECRET}"
grant_types = ["client_credentials"]
graph_permissions = ["User.ReadWrite.All", "Group.ReadWrite.All", "Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All", "RoleManagement.Read.Directory"]
"#
        ),
    );
    let app = spawn_with(settings, fixture).await;
    let base = app.state.public_url.clone();
    assert!(base.starts_with("https://localhost:"), "{base}");
    let ca = app.settings.keys_dir.join("tls/ca.pem");
    let cfg = json!({
        "base": base,
        "ca": ca,
        "tenant_id": CONTOSO_ID,
        "client_id": SDK_ADMIN,
        "client_secret": SDK_ADMIN_SECRET,
        "admin_app": SDK_ADMIN,
        "admin_secret": SDK_ADMIN_SECRET,
        "public_app": PUBLIC_APP,
        "username": ALICE,
        "password": ALICE_PASSWORD,
    })
    .to_string();

    // Python: msgraph-sdk + azure-identity.
    let mut cmd = Command::new(&python);
    cmd.arg(interop_dir().join("msgraph_python.py"))
        .arg(&cfg)
        .env("REQUESTS_CA_BUNDLE", &ca)
        .env("SSL_CERT_FILE", &ca);
    let py = run_json(cmd, "msgraph_python.py").await;
    let id = py["created"]["id"].as_str().expect("created").to_owned();
    assert_eq!(py["created"]["upn"], "sdk.person@contoso.com", "{py}");
    assert_eq!(py["got"]["id"], id.as_str());
    assert_eq!(py["got"]["display_name"], "Sdk Person");
    assert_eq!(py["filtered"], json!([id]));
    // Five users two a page, in id order: three pages, each user once.
    assert_eq!(py["paged"]["pages"], 3, "{py}");
    let mut names: Vec<String> = py["paged"]["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_owned())
        .collect();
    names.sort();
    let want: Vec<String> = (0..5).map(|i| format!("Sdk Pager {i}")).collect();
    assert_eq!(names, want);
    assert_eq!(py["ordered"]["count"], 5, "{py}");
    assert_eq!(
        py["ordered"]["names"],
        json!(["Sdk Pager 0", "Sdk Pager 1", "Sdk Pager 2"])
    );
    assert_eq!(py["ordered"]["next"], true);
    assert_eq!(py["count_without_header"]["status"], 400);
    assert_eq!(
        py["count_without_header"]["code"],
        "Request_UnsupportedQuery"
    );
    assert_eq!(py["updated"], "Sdk Renamed");
    let group = &py["group"];
    assert_eq!(group["members"], json!([id]), "{py}");
    assert_eq!(group["member_types"], json!(["#microsoft.graph.user"]));
    assert_eq!(group["member_of"], json!([group["id"]]));
    let application = &py["application"];
    assert_eq!(application["roles"], json!(["Tasks.Read"]), "{py}");
    assert_eq!(application["secret_works"], true, "{py}");
    assert_eq!(application["sp_app_id"], application["app_id"]);
    assert_eq!(application["sp_roles"], json!(["Tasks.Read"]));
    assert_eq!(application["assignment"]["principal"], id.as_str());
    assert_eq!(application["assignment"]["resource"], application["sp_id"]);
    assert_eq!(application["assignment"]["role"], true);
    assert_eq!(application["assigned"], json!([application["sp_id"]]));
    assert!(
        py["directory_roles"]
            .as_array()
            .is_some_and(|r| r.contains(&json!("Global Administrator"))),
        "{py}"
    );
    assert_eq!(py["after_delete"]["status"], 404, "{py}");
    assert_eq!(py["after_delete"]["code"], "Request_ResourceNotFound");

    // JavaScript: @microsoft/microsoft-graph-client.
    let mut cmd = Command::new("node");
    cmd.arg(interop_dir().join("graph_client.mjs"))
        .arg(&cfg)
        .env("NODE_EXTRA_CA_CERTS", &ca);
    let js = run_json(cmd, "graph_client.mjs").await;
    let me = &js["me"];
    assert_eq!(me["ok"], true, "GET /me: {js}");
    assert_eq!(me["me"]["id"], ALICE_OID);
    assert_eq!(me["me"]["userPrincipalName"], ALICE);
    let users = &js["users"];
    assert_eq!(users["ok"], true, "GET /users: {js}");
    assert_eq!(users["first"].as_array().unwrap().len(), 2);
    assert!(!users["next"].as_array().unwrap().is_empty());
    assert!(
        users["link"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{base}/v1.0/users?"))
    );
    let count = &js["users_count"];
    assert_eq!(count["ok"], true, "$count: {js}");
    assert!(count["count"].as_u64().unwrap() >= 5, "{js}");
    assert_eq!(count["names"].as_array().unwrap().len(), 1);
    assert_eq!(js["me_app_only"]["status"], 400, "{js}");
    assert_eq!(js["users_delegated"]["status"], 403, "{js}");
    assert_eq!(js["users_delegated"]["code"], "Authorization_RequestDenied");
}
