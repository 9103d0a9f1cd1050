//! `/openapi.json`: it lists exactly the routes the router serves (method included),
//! every operation is described, and it is valid OpenAPI 3.1 (openapi-spec-validator).
//! tests/openapi/run.sh runs schemathesis against it in CI.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value;

use crate::helpers::clients::venv_python;
use crate::helpers::*;

const METHODS: [&str; 6] = ["get", "post", "put", "patch", "delete", "options"];

/// What the app answers a request no route took (`http::not_found`).
const NO_ROUTE: &str = "No endpoint at this path.";
/// What Graph's scopes answer a path no Graph route took.
const NO_GRAPH_ROUTE: &str = "Resource not found for the segment";

async fn spec(app: &TestApp) -> Value {
    let res = app.http.get(app.url("/openapi.json")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "*",
        "readable from any origin, like the discovery documents"
    );
    res.json().await.unwrap()
}

/// `/{tenant}/…` with a value in each path parameter.
fn concrete(path: &str) -> String {
    let mut out = path.to_owned();
    for (name, value) in [
        ("{tenant}", CONTOSO_ID),
        ("{policy}", "B2C_1_signin"),
        ("{user}", ALICE),
        ("{app_id}", WEB_APP),
    ] {
        out = out.replace(name, value);
    }
    while let Some(start) = out.find('{') {
        let end = out[start..].find('}').unwrap() + start;
        out.replace_range(start..=end, "x");
    }
    out
}

/// Whether a request reached a handler, rather than the app's or Graph's fallback.
async fn reaches_a_handler(app: &TestApp, method: &str, path: &str) -> bool {
    let method = reqwest::Method::from_bytes(method.to_ascii_uppercase().as_bytes()).unwrap();
    let res = app
        .http
        .request(method, app.url(&concrete(path)))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let body = res.text().await.unwrap();
    status != 405 && !body.contains(NO_ROUTE) && !body.contains(NO_GRAPH_ROUTE)
}

fn operations(spec: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            out.push((method.clone(), path.clone(), op.clone()));
        }
    }
    out
}

on_every_backend!(the_spec_lists_exactly_the_routes_the_router_serves);
async fn the_spec_lists_exactly_the_routes_the_router_serves(backend: Backend) {
    let app = spawn_dev_app(&backend).await;
    let spec = spec(&app).await;
    assert_eq!(spec["openapi"], "3.1.0");
    assert_eq!(spec["servers"][0]["url"], PUBLIC_URL);
    let ops = operations(&spec);
    assert!(ops.len() > 100, "only {} operations", ops.len());
    for (method, path, op) in &ops {
        assert!(
            op["summary"].is_string() && op["responses"].as_object().is_some_and(|r| !r.is_empty()),
            "{method} {path} is a route nobody described in src/http/openapi/"
        );
        // Every spec operation is a route: a request reaches its handler.
        assert!(
            reaches_a_handler(&app, method, path).await,
            "{method} {path} is in the spec but no route takes it"
        );
    }
    // Every route is in the spec: on each path, the methods it lacks reach no handler.
    // (OPTIONS on the public documents is the CORS middleware's, not a route's.)
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in METHODS {
            if item.get(method).is_some() || method == "options" {
                continue;
            }
            assert!(
                !reaches_a_handler(&app, method, path).await,
                "{method} {path} is served but missing from the spec"
            );
        }
    }
    for path in [
        "/openapi.json",
        "/auth/token",
        "/{tenant}/{policy}/oauth2/v2.0/token",
        "/v1.0/users/{id}",
        "/beta/groups/{id}/members/$ref",
        "/_dev/token",
    ] {
        assert!(spec["paths"].get(path).is_some(), "{path} missing");
    }
    let token = &spec["paths"]["/auth/token"]["post"];
    assert_eq!(
        token["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]["$ref"],
        "#/components/schemas/TokenRequest"
    );
    for status in ["400", "401", "429"] {
        assert_eq!(
            token["responses"][status]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/OAuthError"
        );
    }
    let graph_user = &spec["paths"]["/v1.0/users/{id}"]["get"];
    assert_eq!(graph_user["parameters"][0]["name"], "id");
    assert_eq!(
        graph_user["responses"]["404"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/GraphError"
    );
}

on_every_backend!(without_dev_the_spec_has_no_dev_endpoints);
async fn without_dev_the_spec_has_no_dev_endpoints(backend: Backend) {
    let app = spawn_app(&backend).await;
    let spec = spec(&app).await;
    let paths = spec["paths"].as_object().unwrap();
    assert!(paths.contains_key("/auth/token"));
    assert!(
        !paths.keys().any(|p| p.starts_with("/_dev")),
        "{:?}",
        paths
            .keys()
            .filter(|p| p.starts_with("/_dev"))
            .collect::<Vec<_>>()
    );
    assert!(!reaches_a_handler(&app, "get", "/_dev/requests").await);
}

/// The venv of tests/openapi/requirements.txt (schemathesis, openapi-spec-validator).
fn openapi_python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let requirements =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/openapi/requirements.txt");
        venv_python("openapi-venv", &requirements)
    })
}

/// openapi-spec-validator's verdict: `Ok` or its message.
async fn validate(spec: &Value) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, serde_json::to_vec(spec).unwrap()).unwrap();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(openapi_python())
            .args([
                "-c",
                "import json, sys\n\
                 from openapi_spec_validator import validate\n\
                 from openapi_spec_validator.validation import OpenAPIV31SpecValidator\n\
                 validate(json.load(open(sys.argv[1])), cls=OpenAPIV31SpecValidator)\n",
            ])
            .arg(&file)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[tokio::test]
async fn the_spec_is_valid_openapi_3_1() {
    let app = spawn_dev_app(&Backend::Sqlite).await;
    let spec = spec(&app).await;
    if let Err(e) = validate(&spec).await {
        panic!("/openapi.json is not valid OpenAPI 3.1:\n{e}");
    }
    // The validator does refuse a broken document: a path parameter left undeclared.
    let mut broken = spec.clone();
    broken["paths"]["/v1.0/users/{id}"]["get"]
        .as_object_mut()
        .unwrap()
        .remove("parameters");
    assert!(validate(&broken).await.is_err());
}

/// Every route is registered through `http::route_table::Routes`, which records it
/// for the spec: no file of src/http registers one on actix directly.
#[test]
fn no_route_bypasses_the_route_table() {
    fn files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let http = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http");
    let mut all = Vec::new();
    files(&http, &mut all);
    assert!(all.len() > 30);
    let registering = [
        ".route(",
        "web::resource(",
        "web::get()",
        "web::post()",
        "web::patch()",
        "web::put()",
        "web::delete()",
        "web::method(",
        "web::route()",
        "default_service(",
    ];
    for file in all {
        if file.ends_with("route_table.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for needle in registering {
            assert!(
                !text.contains(needle),
                "{} registers a route with `{needle}` outside http/route_table.rs",
                file.display()
            );
        }
    }
}
