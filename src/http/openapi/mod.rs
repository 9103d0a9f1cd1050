//! `GET /openapi.json`: an OpenAPI 3.1 description of this server, written from the
//! routes the router registered ([`Endpoints`]), so it lists exactly what is served
//! (the `/_dev` endpoints only with `--dev`). Each operation's parameters, bodies and
//! responses come from [`oauth`] and [`graph`]; the path parameters from the path.

mod graph;
mod oauth;
mod op;
mod schemas;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value, json};

use super::base_url::base_url;
use super::route_table::{Endpoint, Endpoints};
use crate::state::AppState;

pub const PATH: &str = "/openapi.json";

pub async fn document(
    state: web::Data<AppState>,
    endpoints: web::Data<Endpoints>,
    req: HttpRequest,
) -> HttpResponse {
    let base = base_url(&state, &req);
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(spec(&endpoints.0, &base))
}

/// The document for these endpoints, served at `base`.
pub fn spec(endpoints: &[Endpoint], base: &str) -> Value {
    let mut paths = Map::new();
    for endpoint in endpoints {
        let method = endpoint.method.as_str().to_ascii_lowercase();
        let operation = describe(endpoint);
        let item = paths
            .entry(endpoint.path.clone())
            .or_insert_with(|| json!({}));
        item[method] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "localidp",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "A self-contained identity provider that answers like Azure AD B2C / Entra ID: OAuth 2.0 and OpenID Connect endpoints in each authority form, the sign-in pages, token verification, and Microsoft Graph's directory.",
        },
        "servers": [{ "url": base }],
        "paths": paths,
        "components": {
            "schemas": schemas::all(),
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer", "bearerFormat": "JWT" },
                "apiKey": { "type": "apiKey", "in": "header", "name": "x-api-key" },
                "clientBasic": {
                    "type": "http",
                    "scheme": "basic",
                    "description": "client_id and client_secret (RFC 6749 §2.3.1)",
                },
            },
        },
    })
}

/// The endpoint's operation, with an `operationId` and its path parameters. An
/// endpoint nobody described still appears, without a summary (a test refuses that).
fn describe(endpoint: &Endpoint) -> Value {
    let (method, path) = (&endpoint.method, endpoint.path.as_str());
    let mut operation = oauth::describe(method, path)
        .or_else(|| graph::describe(method, path))
        .map(op::Op::into_value)
        .unwrap_or_else(|| json!({ "responses": { "default": { "description": "Any" } } }));
    let id: String = format!("{}{path}", method.as_str().to_ascii_lowercase())
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    operation["operationId"] = json!(id);
    let mut parameters: Vec<Value> = path_parameters(path)
        .map(|name| {
            json!({
                "name": name,
                "in": "path",
                "required": true,
                "schema": { "type": "string" },
            })
        })
        .collect();
    if let Some(Value::Array(more)) = operation.get("parameters") {
        parameters.extend(more.iter().cloned());
    }
    if !parameters.is_empty() {
        operation["parameters"] = Value::Array(parameters);
    }
    operation
}

/// The `{name}`s of an actix path pattern.
fn path_parameters(path: &str) -> impl Iterator<Item = &str> {
    path.split('{')
        .skip(1)
        .filter_map(|part| part.split_once('}').map(|(name, _)| name))
}
