//! An application's app roles kept whole, as Graph's `appRole`: `id`, `value`,
//! `displayName`, `description`, `allowedMemberTypes`, `isEnabled` (`origin` is always
//! `Application`). Stored as JSON in `clients.app_role_definitions`; a client made by
//! the seed file or the CLI has only role values (`clients.app_roles`), each then a
//! role with both member types, enabled, its value as names, and the stable id
//! [`app_role_id`]. `clients.app_roles` holds the enabled roles' values: what tokens
//! carry and what may be assigned.

use aws_lc_rs::digest::{SHA1_FOR_LEGACY_USE_ONLY, digest};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::db::clients::Client;
use crate::db::encode_list;

/// The namespace of app role ids (RFC 9562 §5.5); `graph::application` has the others.
const APP_ROLE_NS: uuid::Uuid = uuid::uuid!("6c0c8bd7-5b36-4d0c-9c53-9f1a6d6f0a03");

/// A UUID v5 of `name` in `namespace`.
pub(crate) fn v5(namespace: &uuid::Uuid, name: &str) -> String {
    let mut input = namespace.as_bytes().to_vec();
    input.extend_from_slice(name.as_bytes());
    let hash = digest(&SHA1_FOR_LEGACY_USE_ONLY, &input);
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&hash.as_ref()[..16]);
    uuid::Builder::from_sha1_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// An app role's id: the same for the same client and value (the client id's length
/// first, so no two pairs give the same name).
pub fn app_role_id(client_id: &str, value: &str) -> String {
    v5(
        &APP_ROLE_NS,
        &format!("{}:{client_id}{value}", client_id.len()),
    )
}

pub const USER: &str = "User";
pub const APPLICATION: &str = "Application";

/// One app role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppRoleDef {
    pub id: String,
    pub value: String,
    pub display_name: String,
    pub description: String,
    pub allowed_member_types: Vec<String>,
    pub is_enabled: bool,
}

impl AppRoleDef {
    /// A role from a plain value: both member types, enabled, the value as its names.
    pub fn from_value(client_id: &str, value: &str) -> Self {
        AppRoleDef {
            id: app_role_id(client_id, value),
            value: value.to_owned(),
            display_name: value.to_owned(),
            description: value.to_owned(),
            allowed_member_types: vec![USER.to_owned(), APPLICATION.to_owned()],
            is_enabled: true,
        }
    }

    /// Whether a user may be assigned the role.
    pub fn for_users(&self) -> bool {
        self.allowed_member_types.iter().any(|t| t == USER)
    }

    /// Graph's shape.
    pub fn to_json(&self) -> Value {
        json!({
            "allowedMemberTypes": self.allowed_member_types,
            "description": self.description,
            "displayName": self.display_name,
            "id": self.id,
            "isEnabled": self.is_enabled,
            "origin": "Application",
            "value": self.value,
        })
    }
}

/// The client's app roles, enabled or not.
pub fn of(c: &Client) -> Vec<AppRoleDef> {
    if !c.app_role_definitions.trim().is_empty() {
        match serde_json::from_str(&c.app_role_definitions) {
            Ok(defs) => return defs,
            Err(e) => {
                tracing::error!(client = %c.client_id, error = %e, "app role definitions unreadable");
            }
        }
    }
    c.app_role_list()
        .unwrap_or_default()
        .iter()
        .map(|v| AppRoleDef::from_value(&c.client_id, v))
        .collect()
}

/// The roles the client's own app-only tokens and API keys carry: its enabled roles
/// whose `allowedMemberTypes` include `Application`.
pub fn application_values(c: &Client) -> Vec<String> {
    of(c)
        .into_iter()
        .filter(|d| d.is_enabled && d.allowed_member_types.iter().any(|t| t == APPLICATION))
        .map(|d| d.value)
        .collect()
}

/// The two columns for these roles: (`app_role_definitions`, `app_roles` = the
/// enabled roles' values).
pub fn columns(defs: &[AppRoleDef]) -> (String, String) {
    let enabled: Vec<String> = defs
        .iter()
        .filter(|d| d.is_enabled)
        .map(|d| d.value.clone())
        .collect();
    (
        serde_json::to_string(defs).unwrap_or_else(|_| "[]".into()),
        encode_list(&enabled),
    )
}

/// An entry of `appRoles` in a request body.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppRoleBody {
    pub id: Option<String>,
    pub value: Option<String>,
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub allowed_member_types: Option<Vec<String>>,
    pub is_enabled: Option<bool>,
}

/// Why a body's `appRoles` cannot be kept.
#[derive(Debug, PartialEq, Eq)]
pub enum RoleError {
    /// A role that cannot be read: 400 `Request_BadRequest`.
    Invalid(String),
    /// An enabled role removed (or its value changed): Graph's 400
    /// `CannotDeleteOrUpdateEnabledEntitlement`.
    Enabled(String),
}

fn invalid<T>(msg: impl Into<String>) -> Result<T, RoleError> {
    Err(RoleError::Invalid(msg.into()))
}

fn text(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn member_types(given: &Option<Vec<String>>) -> Result<Vec<String>, RoleError> {
    let Some(given) = given else {
        return Ok(vec![USER.to_owned(), APPLICATION.to_owned()]);
    };
    let mut out: Vec<String> = Vec::new();
    for t in given {
        let t = match t.trim() {
            t if t.eq_ignore_ascii_case(USER) => USER,
            t if t.eq_ignore_ascii_case(APPLICATION) => APPLICATION,
            other => {
                return invalid(format!(
                    "Invalid value '{other}' in 'allowedMemberTypes': use 'User' and/or 'Application'."
                ));
            }
        };
        if !out.iter().any(|o| o == t) {
            out.push(t.to_owned());
        }
    }
    if out.is_empty() {
        return invalid(
            "An app role needs at least one of 'User' and 'Application' in 'allowedMemberTypes'.",
        );
    }
    Ok(out)
}

/// The roles a body's `appRoles` makes of the client's `existing` ones (none for a new
/// application). A role without `id` keeps the id of the existing role with its value,
/// else gets the stable [`app_role_id`]. As in Graph, an enabled role cannot be removed
/// or given another value: it must be disabled (`isEnabled: false`) in one request and
/// removed in a later one.
pub fn resolve(
    client_id: &str,
    existing: &[AppRoleDef],
    given: &[AppRoleBody],
) -> Result<Vec<AppRoleDef>, RoleError> {
    let mut out: Vec<AppRoleDef> = Vec::new();
    for role in given {
        let value = role.value.as_deref().map(str::trim).unwrap_or_default();
        if value.is_empty() || value.chars().any(char::is_whitespace) {
            return invalid(
                "Every app role needs a 'value' without spaces (the role claim's value).",
            );
        }
        if out.iter().any(|o| o.value == value) {
            return invalid(format!(
                "The app role value '{value}' is used twice; app role values must be unique."
            ));
        }
        let id = match text(&role.id) {
            Some(id) => match uuid::Uuid::parse_str(&id) {
                Ok(u) if !u.is_nil() => u.to_string(),
                _ => return invalid(format!("The app role id '{id}' must be a GUID.")),
            },
            None => existing
                .iter()
                .find(|e| e.value == value)
                .map(|e| e.id.clone())
                .unwrap_or_else(|| app_role_id(client_id, value)),
        };
        if out.iter().any(|o| o.id == id) {
            return invalid(format!("The app role id '{id}' is used twice."));
        }
        let display_name = text(&role.display_name).unwrap_or_else(|| value.to_owned());
        if display_name.chars().count() > 256 || value.chars().count() > 250 {
            return invalid(
                "An app role's 'value' is at most 250 characters, its 'displayName' 256.",
            );
        }
        out.push(AppRoleDef {
            id,
            value: value.to_owned(),
            description: text(&role.description).unwrap_or_else(|| display_name.clone()),
            display_name,
            allowed_member_types: member_types(&role.allowed_member_types)?,
            is_enabled: role.is_enabled.unwrap_or(true),
        });
    }
    for old in existing.iter().filter(|e| e.is_enabled) {
        let kept = out.iter().find(|o| o.id == old.id);
        if kept.is_none_or(|k| k.value != old.value) {
            return Err(RoleError::Enabled(format!(
                "Permission (scope or role) cannot be deleted or updated unless disabled first: disable the app role '{}' (isEnabled false) before removing it or changing its value.",
                old.value
            )));
        }
    }
    Ok(out)
}
