//! A directory user in Graph's `microsoft.graph.user` shape.

use serde_json::{Map, Value, json};

use crate::db::users::User;

/// What Graph v1.0 returns when no `$select` is given.
pub const DEFAULT_PROPERTIES: [&str; 11] = [
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
];

/// Further properties `$select` may name.
const SELECTABLE: [&str; 3] = ["accountEnabled", "createdDateTime", "mailNickname"];

/// The user principal name: the user name, else the email address.
pub fn user_principal_name(u: &User) -> &str {
    u.sign_in_name()
}

fn property(u: &User, name: &str) -> Value {
    let upn = user_principal_name(u);
    match name {
        "id" => json!(u.id),
        "businessPhones" => json!([]),
        "displayName" => json!(u.display_name),
        "givenName" => json!(u.given_name),
        "surname" => json!(u.family_name),
        "mail" => json!(u.email),
        "userPrincipalName" => json!(upn),
        "accountEnabled" => json!(!u.is_disabled()),
        "mailNickname" => json!(upn.split('@').next().unwrap_or(upn)),
        "createdDateTime" => json!(
            chrono::DateTime::from_timestamp(u.created_at, 0)
                .unwrap_or_default()
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string()
        ),
        _ => Value::Null,
    }
}

/// The canonical names of the selected properties; an unknown one is an error, as
/// in Graph (which returns only what `$select` names, not even `id`).
pub fn check_select(select: &[String]) -> Result<Vec<&'static str>, String> {
    let mut out = Vec::new();
    for name in select {
        let known = DEFAULT_PROPERTIES
            .iter()
            .chain(SELECTABLE.iter())
            .find(|p| p.eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                format!("Could not find a property named '{name}' on type 'microsoft.graph.user'.")
            })?;
        if !out.contains(known) {
            out.push(*known);
        }
    }
    Ok(out)
}

/// The user with the properties asked for (Graph's default set without `$select`).
pub fn to_json(u: &User, select: Option<&[&'static str]>) -> Map<String, Value> {
    let mut map = Map::new();
    let props: &[&str] = select.unwrap_or(&DEFAULT_PROPERTIES);
    for p in props {
        map.insert((*p).to_owned(), property(u, p));
    }
    map
}

/// `@odata.context` of a users answer: the collection, or one entity.
pub fn context(base: &str, select: Option<&[&'static str]>, entity: bool) -> String {
    super::odata::context(base, "users", select, entity)
}
