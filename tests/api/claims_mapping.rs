//! Optional claims and claims mapping per application: access tokens follow the
//! resource application's configuration, ID tokens the client application's.

use crate::helpers::*;
use serde_json::{Value, json};

const CLAIMS_WEB: &str = "eeeeeeee-0000-4000-8000-000000000001";
const CLAIMS_WEB_SECRET: &str = "claims-web-secret-0123456789abcdefghijkl";
const CLAIMS_API: &str = "eeeeeeee-0000-4000-8000-000000000002";
const CLAIMS_DAEMON: &str = "eeeeeeee-0000-4000-8000-000000000003";
const FRANK_OID: &str = "f0000000-0000-4000-8000-000000000001";
const FRANK_PASSWORD: &str = "frank-password";

/// The standard seed plus a web app and an API with claims configured, and frank,
/// who has a user name.
fn claims_seed() -> String {
    format!(
        r#"{standard}
[[users]]
username = "frank"
email = "frank@contoso.com"
password = "{FRANK_PASSWORD}"
oid = "{FRANK_OID}"
roles = ["User"]
groups = ["everyone"]

[[clients]]
client_id = "{CLAIMS_WEB}"
name = "claims web"
secret = "{CLAIMS_WEB_SECRET}"
optional_claims = {{ id_token = ["email", "upn"] }}
claims_mapping = {{ sub = "username", permissions = {{ Admin = ["web:admin"] }} }}

[[clients]]
client_id = "{CLAIMS_API}"
name = "claims api"
secret = "{CLAIMS_WEB_SECRET}"
claims_mapping.sub = "username"
claims_mapping.claims = [
    {{ name = "user_name", source = "username" }},
    {{ name = "app", value = "tasks" }},
]
claims_mapping.permissions = {{ Admin = ["tasks:read", "tasks:write"], User = ["tasks:read"] }}

[clients.optional_claims]
access_token = [
    "upn",
    "idtyp",
    {{ name = "groups", additional_properties = ["sam_account_name"] }},
]

[[clients]]
client_id = "{CLAIMS_DAEMON}"
name = "claims daemon"
secret = "{CLAIMS_WEB_SECRET}"
grant_types = ["client_credentials"]
app_roles = ["User"]
"#,
        standard = seed_toml()
    )
}

async fn spawn_claims_app(backend: &Backend) -> TestApp {
    let (settings, fixture) = test_fixture(backend);
    std::fs::write(settings.seed.as_ref().unwrap(), claims_seed()).unwrap();
    spawn_with(settings, fixture).await
}

/// A password grant through CLAIMS_WEB; `scope` decides the access token's audience.
async fn tokens(app: &TestApp, user: &str, password: &str, scope: &str) -> (Value, Value) {
    let res = app
        .token(&[
            ("grant_type", "password"),
            ("client_id", CLAIMS_WEB),
            ("client_secret", CLAIMS_WEB_SECRET),
            ("username", user),
            ("password", password),
            ("scope", scope),
        ])
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    (
        claims(body["access_token"].as_str().unwrap()),
        claims(body["id_token"].as_str().unwrap()),
    )
}

fn api_scope() -> String {
    format!("openid api://{CLAIMS_API}/tasks.read")
}

on_every_backend!(access_tokens_carry_the_resources_optional_claims_and_id_tokens_the_clients);
async fn access_tokens_carry_the_resources_optional_claims_and_id_tokens_the_clients(
    backend: Backend,
) {
    let app = spawn_claims_app(&backend).await;
    let (at, id) = tokens(&app, ALICE, ALICE_PASSWORD, &api_scope()).await;
    // The API lists upn, idtyp and groups (as names): email and the names are left out.
    assert_eq!(
        at["aud"].as_str().map(|a| a.contains(CLAIMS_API)),
        Some(true)
    );
    assert_eq!(at["upn"], ALICE);
    assert_eq!(at["idtyp"], "user");
    assert_eq!(at["groups"], json!(["admins", "everyone"]));
    for absent in ["email", "given_name", "family_name"] {
        assert!(at.get(absent).is_none(), "{absent} in {at}");
    }
    assert_eq!(at["roles"], json!(["Admin", "Tasks.Write"]), "roles stay");
    // The web app lists email and upn for its ID tokens: no groups, names or idtyp.
    assert_eq!(id["aud"], CLAIMS_WEB);
    assert_eq!(id["email"], ALICE);
    assert_eq!(id["upn"], ALICE);
    for absent in ["groups", "given_name", "family_name", "idtyp"] {
        assert!(id.get(absent).is_none(), "{absent} in {id}");
    }

    // A client with no configuration issues the tokens it always did.
    let body = app.alice_tokens("openid profile").await;
    let at = claims(body["access_token"].as_str().unwrap());
    let id = claims(body["id_token"].as_str().unwrap());
    for c in [&at, &id] {
        assert_eq!(c["sub"], ALICE_OID);
        assert_eq!(c["email"], ALICE);
        assert_eq!(c["given_name"], "Alice");
        assert_eq!(c["family_name"], "Smith");
        assert_eq!(c["groups"].as_array().map(Vec::len), Some(2));
        for absent in ["upn", "permissions", "idtyp"] {
            assert!(c.get(absent).is_none(), "{absent} in {c}");
        }
    }
}

on_every_backend!(a_sub_mapped_to_the_user_name_is_in_both_tokens_and_still_verifies);
async fn a_sub_mapped_to_the_user_name_is_in_both_tokens_and_still_verifies(backend: Backend) {
    let app = spawn_claims_app(&backend).await;
    // Tokens for the web app itself: both follow its mapping (sub = user name).
    let res = app
        .token(&[
            ("grant_type", "password"),
            ("client_id", CLAIMS_WEB),
            ("client_secret", CLAIMS_WEB_SECRET),
            ("username", "frank"),
            ("password", FRANK_PASSWORD),
            ("scope", "openid profile"),
        ])
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let access_token = body["access_token"].as_str().unwrap();
    let at = claims(access_token);
    let id = claims(body["id_token"].as_str().unwrap());
    assert_eq!(at["sub"], "frank");
    assert_eq!(id["sub"], "frank");
    assert_eq!(at["oid"], FRANK_OID, "oid stays the object id");
    // The token still verifies, and names the user by object id there.
    let res = app.verify(access_token).await;
    assert_eq!(res.status(), 200);
    let who: Value = res.json().await.unwrap();
    assert_eq!(who["user_id"], FRANK_OID);
    // OIDC Core §5.3.2: userinfo's sub is the tokens'.
    let info: Value = app.userinfo(access_token).await.json().await.unwrap();
    assert_eq!(info["sub"], "frank");

    // A user without a user name: sub is the other sign-in name, the email address.
    let (at, id) = tokens(&app, ALICE, ALICE_PASSWORD, "openid").await;
    assert_eq!(at["sub"], ALICE);
    assert_eq!(id["sub"], ALICE);

    // B2C tokens follow the mapping too, but not Entra's optional claims.
    let res = app
        .post_form(
            "/contoso.onmicrosoft.com/B2C_1_ROPC/oauth2/v2.0/token",
            &[
                ("grant_type", "password"),
                ("client_id", CLAIMS_WEB),
                ("client_secret", CLAIMS_WEB_SECRET),
                ("username", "frank"),
                ("password", FRANK_PASSWORD),
                ("scope", "openid"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let at = claims(body["access_token"].as_str().unwrap());
    let id = claims(body["id_token"].as_str().unwrap());
    assert_eq!(at["ver"], "1.0");
    assert_eq!(at["sub"], "frank");
    assert_eq!(id["sub"], "frank");
    assert_eq!(id["emails"], json!(["frank@contoso.com"]));
    assert!(id.get("upn").is_none() && id.get("email").is_none(), "{id}");
    let res = app.verify(body["access_token"].as_str().unwrap()).await;
    assert_eq!(res.status(), 200);
}

on_every_backend!(added_claims_and_permissions_follow_the_resource_and_the_client);
async fn added_claims_and_permissions_follow_the_resource_and_the_client(backend: Backend) {
    let app = spawn_claims_app(&backend).await;
    let (at, id) = tokens(&app, "frank", FRANK_PASSWORD, &api_scope()).await;
    assert_eq!(at["user_name"], "frank");
    assert_eq!(at["app"], "tasks");
    assert_eq!(at["permissions"], json!(["tasks:read"]));
    assert_eq!(at["sub"], "frank");
    // The ID token follows the web app: its own permission table, no added claims.
    assert_eq!(id["permissions"], json!([]), "frank holds no web role");
    assert!(
        id.get("user_name").is_none() && id.get("app").is_none(),
        "{id}"
    );

    let (at, id) = tokens(&app, ALICE, ALICE_PASSWORD, &api_scope()).await;
    assert_eq!(at["permissions"], json!(["tasks:read", "tasks:write"]));
    assert_eq!(at["user_name"], ALICE, "no user name: the email address");
    assert_eq!(id["permissions"], json!(["web:admin"]));

    // An app-only token for the API: constants, and permissions from its app roles.
    let res = app
        .token(&[
            ("grant_type", "client_credentials"),
            ("client_id", CLAIMS_DAEMON),
            ("client_secret", CLAIMS_WEB_SECRET),
            ("scope", &format!("api://{CLAIMS_API}/.default")),
        ])
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let app_token = claims(body["access_token"].as_str().unwrap());
    assert_eq!(app_token["idtyp"], "app");
    assert_eq!(app_token["sub"], CLAIMS_DAEMON);
    assert_eq!(app_token["permissions"], json!(["tasks:read"]));
    assert_eq!(app_token["app"], "tasks");
    assert!(app_token.get("user_name").is_none());
}

on_every_backend!(a_seed_with_a_bad_claims_configuration_is_refused_at_start);
async fn a_seed_with_a_bad_claims_configuration_is_refused_at_start(backend: Backend) {
    let (settings, fixture) = test_fixture(&backend);
    let seed = settings.seed.clone().unwrap();
    let cases = [
        (
            r#"claims_mapping = { claims = [{ name = "sub", source = "email" }] }"#,
            "use claims_mapping.sub",
        ),
        (
            r#"claims_mapping = { claims = [{ name = "x", source = "email", value = 1 }] }"#,
            "exactly one of source or value",
        ),
        (
            r#"claims_mapping = { claims = [{ name = "x", source = "shoe_size" }] }"#,
            "unknown variant `shoe_size`",
        ),
        (
            r#"claims_mapping = { sub = "phone" }"#,
            "unknown variant `phone`",
        ),
        (
            r#"optional_claims = { access_token = ["favourite_colour"] }"#,
            "unknown claim \"favourite_colour\"",
        ),
        (
            r#"optional_claims = { id_token = [{ name = "email", additional_properties = ["x"] }] }"#,
            "email takes no additional property",
        ),
    ];
    for (config, why) in cases {
        let bad = format!(
            "{}\n[[clients]]\nclient_id = \"bad-claims\"\nsecret = \"{CLAIMS_WEB_SECRET}\"\n{config}\n",
            seed_toml()
        );
        std::fs::write(&seed, bad).unwrap();
        let err = localidp::startup::Application::build(settings.clone())
            .await
            .err()
            .unwrap_or_else(|| panic!("{config} was accepted"))
            .to_string();
        assert!(err.contains(why), "{config}: {err}");
    }
    drop(fixture);
}

/// Runs the `localidp` binary on the test server's database.
fn cli(app: &TestApp, args: &[&str]) -> std::process::Output {
    use localidp::db::DatabaseTarget;
    let url = match &app.settings.database {
        DatabaseTarget::Postgres(url) => url.clone(),
        DatabaseTarget::SqliteFile(path) => format!("sqlite://{path}"),
        DatabaseTarget::SqliteMemory => unreachable!("tests use a database file"),
    };
    std::process::Command::new(env!("CARGO_BIN_EXE_localidp"))
        .args(["--database-url", &url])
        .args(["--keys-dir", &app.settings.keys_dir.display().to_string()])
        .args(args)
        .env("LOCALIDP_LOG", "warn")
        .output()
        .expect("run localidp")
}

on_every_backend!(the_cli_sets_an_existing_clients_claims_from_a_toml_or_json_file);
async fn the_cli_sets_an_existing_clients_claims_from_a_toml_or_json_file(backend: Backend) {
    let app = spawn_app(&backend).await;
    let dir = tempfile::tempdir().unwrap();
    let toml_file = dir.path().join("claims.toml");
    std::fs::write(
        &toml_file,
        r#"
optional_claims = { access_token = ["upn"] }
claims_mapping = { sub = "email", claims = [{ name = "tier", value = "gold" }], permissions = { Admin = ["all"] } }
"#,
    )
    .unwrap();
    let out = cli(
        &app,
        &[
            "client",
            "set-claims",
            API_APP,
            "--file",
            toml_file.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let scope = format!("api://{API_APP}/read");
    let body = app.password_tokens(ALICE, ALICE_PASSWORD, &scope).await;
    let at = claims(body["access_token"].as_str().unwrap());
    assert_eq!(at["sub"], ALICE);
    assert_eq!(at["upn"], ALICE);
    assert_eq!(at["tier"], "gold");
    assert_eq!(at["permissions"], json!(["all"]));
    assert!(at.get("email").is_none(), "{at}");

    // Entra's manifest spelling, as JSON, on the web app's ID tokens.
    let json_file = dir.path().join("claims.json");
    std::fs::write(
        &json_file,
        r#"{"optionalClaims": {"idToken": [{"name": "groups", "source": null,
            "essential": false, "additionalProperties": ["sam_account_name"]}],
            "accessToken": [], "saml2Token": []}}"#,
    )
    .unwrap();
    let out = cli(
        &app,
        &[
            "client",
            "set-claims",
            WEB_APP,
            "--file",
            json_file.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown = cli(&app, &["client", "show-claims", WEB_APP]);
    let shown: Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(shown["optional_claims"]["access_token"], json!([]));
    // The directory caches clients for a few seconds; a fresh server reads the row.
    let (settings, fixture) = app.stop().await;
    let app = spawn_with(settings, fixture).await;
    let body = app.alice_tokens("openid").await;
    let id = claims(body["id_token"].as_str().unwrap());
    assert_eq!(id["groups"], json!(["admins", "everyone"]));
    let at = claims(body["access_token"].as_str().unwrap());
    assert!(
        at.get("groups").is_none() && at.get("email").is_none(),
        "{at}"
    );

    // A bad file is refused, saying why, and changes nothing.
    std::fs::write(&toml_file, "claims_mapping = { sub = \"phone\" }").unwrap();
    let out = cli(
        &app,
        &[
            "client",
            "set-claims",
            WEB_APP,
            "--file",
            toml_file.to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("claims.toml") && err.contains("phone"),
        "{err}"
    );
    let out = cli(
        &app,
        &[
            "client",
            "set-claims",
            "no-such-client",
            "--file",
            json_file.to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not found"));
}

on_every_backend!(a_clients_claims_follow_the_seed_file_on_every_start);
async fn a_clients_claims_follow_the_seed_file_on_every_start(backend: Backend) {
    let app = spawn_claims_app(&backend).await;
    let (at, _) = tokens(&app, "frank", FRANK_PASSWORD, &api_scope()).await;
    assert_eq!(at["permissions"], json!(["tasks:read"]));
    let (settings, fixture) = app.stop().await;
    let changed = claims_seed().replace(
        r#"User = ["tasks:read"]"#,
        r#"User = ["tasks:read", "tasks:comment"]"#,
    );
    std::fs::write(settings.seed.as_ref().unwrap(), changed).unwrap();
    let app = spawn_with(settings, fixture).await;
    let (at, _) = tokens(&app, "frank", FRANK_PASSWORD, &api_scope()).await;
    assert_eq!(at["permissions"], json!(["tasks:read", "tasks:comment"]));
}
