//! A small builder for OpenAPI operation objects.

use serde_json::{Map, Value, json};

use super::schemas::schema;

pub const HTML: &str = "text/html; charset=utf-8";
pub const FORM: &str = "application/x-www-form-urlencoded";

/// One operation: summary, tag, parameters, request body, responses, security.
pub struct Op(Map<String, Value>);

pub fn op(tag: &str, summary: &str) -> Op {
    let mut map = Map::new();
    map.insert("tags".into(), json!([tag]));
    map.insert("summary".into(), json!(summary));
    map.insert("responses".into(), json!({}));
    Op(map)
}

impl Op {
    pub fn into_value(self) -> Value {
        Value::Object(self.0)
    }

    fn responses(&mut self) -> &mut Map<String, Value> {
        self.0
            .get_mut("responses")
            .and_then(Value::as_object_mut)
            .expect("responses is an object")
    }

    fn param(mut self, location: &str, name: &str, description: &str, required: bool) -> Self {
        let list = self
            .0
            .entry("parameters")
            .or_insert_with(|| json!([]))
            .as_array_mut()
            .expect("parameters is an array");
        list.push(json!({
            "name": name,
            "in": location,
            "description": description,
            "required": required,
            "schema": { "type": "string" },
        }));
        self
    }

    /// An optional query parameter.
    pub fn query(self, name: &str, description: &str) -> Self {
        self.param("query", name, description, false)
    }

    /// A request body of this media type and schema.
    pub fn body(mut self, media: &str, schema_name: &str, required: bool) -> Self {
        self.0.insert(
            "requestBody".into(),
            json!({
                "required": required,
                "content": { media: { "schema": schema(schema_name) } },
            }),
        );
        self
    }

    /// A response with a JSON body of this schema.
    pub fn json(mut self, status: u16, description: &str, schema_name: &str) -> Self {
        self.responses().insert(
            status.to_string(),
            json!({
                "description": description,
                "content": { "application/json": { "schema": schema(schema_name) } },
            }),
        );
        self
    }

    /// A response of another media type (an HTML page, a stylesheet).
    pub fn media(mut self, status: u16, description: &str, media: &str) -> Self {
        self.responses().insert(
            status.to_string(),
            json!({
                "description": description,
                "content": { media: { "schema": { "type": "string" } } },
            }),
        );
        self
    }

    /// A response without a body (204) or whose body does not matter (a redirect).
    pub fn empty(mut self, status: u16, description: &str) -> Self {
        self.responses()
            .insert(status.to_string(), json!({ "description": description }));
        self
    }

    /// OAuth errors (RFC 6749 §5.2 body) for each status.
    pub fn oauth_errors(mut self, statuses: &[u16]) -> Self {
        for &status in statuses {
            self = self.json(status, reason(status), "OAuthError");
        }
        self
    }

    /// Graph errors (`{"error":{"code","message"}}`) for each status.
    pub fn graph_errors(mut self, statuses: &[u16]) -> Self {
        for &status in statuses {
            self = self.json(status, reason(status), "GraphError");
        }
        self
    }

    /// HTML error pages for each status.
    pub fn page_errors(mut self, statuses: &[u16]) -> Self {
        for &status in statuses {
            self = self.media(status, reason(status), HTML);
        }
        self
    }

    /// Accepted credentials: any of these security schemes (`none`: no credentials,
    /// a public client naming itself in the body).
    pub fn security(mut self, schemes: &[&str]) -> Self {
        let list: Vec<Value> = schemes
            .iter()
            .map(|s| match *s {
                "none" => json!({}),
                s => json!({ s: [] }),
            })
            .collect();
        self.0.insert("security".into(), Value::Array(list));
        self
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        302 => "Redirect",
        400 => "Bad request",
        401 => "Not authenticated",
        403 => "Forbidden",
        404 => "Not found",
        405 => "Method not allowed",
        409 => "Conflict",
        413 => "Body too large",
        415 => "Unsupported media type",
        422 => "JSON of the wrong shape",
        429 => "Too many requests (Retry-After)",
        503 => "Unavailable (Retry-After)",
        _ => "Error",
    }
}
