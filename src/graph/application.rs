//! A client as Graph shows it: a `microsoft.graph.application` and its
//! `servicePrincipal`. Graph's `appId` is the client id; the object ids are UUID v5 of
//! it (stable, and distinct for the application and its service principal), so no
//! column holds them. The blocking writes are in `graph::application_writes`.

use serde_json::{Map, Value, json};

pub use super::app_role_defs::app_role_id;
use super::app_role_defs::v5;
use crate::db::client_secrets::ClientSecret;
use crate::db::clients::Client;
use crate::graph::odata::{Clause, unsupported_clause};

/// Namespaces of the name-based ids (RFC 9562 §5.5), one per kind of object.
const APPLICATION_NS: uuid::Uuid = uuid::uuid!("6c0c8bd7-5b36-4d0c-9c53-9f1a6d6f0a01");
const SERVICE_PRINCIPAL_NS: uuid::Uuid = uuid::uuid!("6c0c8bd7-5b36-4d0c-9c53-9f1a6d6f0a02");
const FIRST_SECRET_NS: uuid::Uuid = uuid::uuid!("6c0c8bd7-5b36-4d0c-9c53-9f1a6d6f0a04");

/// The application's object id (`id`).
pub fn application_id(client_id: &str) -> String {
    v5(&APPLICATION_NS, client_id)
}

/// The service principal's object id.
pub fn service_principal_id(client_id: &str) -> String {
    v5(&SERVICE_PRINCIPAL_NS, client_id)
}

/// The `keyId` of the client's first secret (`clients.secret_hash`).
pub fn first_secret_key_id(client_id: &str) -> String {
    v5(&FIRST_SECRET_NS, client_id)
}

/// Whether the client keeps a first secret (not public, not removed).
pub fn has_first_secret(c: &Client) -> bool {
    c.secret_hash.as_deref().is_some_and(|h| !h.is_empty())
}

/// How a request names an application or service principal: `/{id}` or
/// `(appId='{appId}')`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectKey {
    Id(String),
    AppId(String),
}

impl ObjectKey {
    /// Whether this key names the client, as an application (`service_principal`
    /// false) or as a service principal.
    pub fn names(&self, c: &Client, service_principal: bool) -> bool {
        match self {
            ObjectKey::AppId(a) => a == &c.client_id,
            ObjectKey::Id(id) if service_principal => {
                id.eq_ignore_ascii_case(&service_principal_id(&c.client_id))
            }
            ObjectKey::Id(id) => id.eq_ignore_ascii_case(&application_id(&c.client_id)),
        }
    }

    /// The key as the request wrote it, for a not-found message.
    pub fn as_str(&self) -> &str {
        match self {
            ObjectKey::Id(s) | ObjectKey::AppId(s) => s,
        }
    }
}

pub fn time(t: i64) -> Value {
    json!(
        chrono::DateTime::from_timestamp(t, 0)
            .unwrap_or_default()
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    )
}

/// The client's app roles in Graph's shape (`graph::app_role_defs`).
fn app_roles(c: &Client) -> Value {
    let roles: Vec<Value> = super::app_role_defs::of(c)
        .iter()
        .map(|d| d.to_json())
        .collect();
    json!(roles)
}

fn credential(
    key_id: &str,
    name: Option<&str>,
    hint: Option<&str>,
    start: i64,
    end: Value,
) -> Value {
    json!({
        "customKeyIdentifier": null,
        "displayName": name,
        "endDateTime": end,
        "hint": hint,
        "keyId": key_id,
        "secretText": null,
        "startDateTime": time(start),
    })
}

/// A secret added with `addPassword`, never with its text.
pub fn password_credential(s: &ClientSecret) -> Value {
    credential(
        &s.key_id,
        s.display_name.as_deref(),
        Some(&s.hint),
        s.start_at,
        time(s.end_at),
    )
}

/// `passwordCredentials`: the first secret (no hint is kept; it does not expire),
/// then those added over Graph.
fn password_credentials(c: &Client, secrets: &[ClientSecret]) -> Value {
    let mut all = Vec::new();
    if has_first_secret(c) {
        let end = json!("9999-12-31T23:59:59Z");
        let key = first_secret_key_id(&c.client_id);
        all.push(credential(&key, None, None, c.created_at, end));
    }
    all.extend(secrets.iter().map(password_credential));
    json!(all)
}

fn uris(list: &str) -> Value {
    json!(crate::db::decode_list(list).unwrap_or_default())
}

/// The properties localidp shows of an application (Graph's default set, less those
/// it has no counterpart for).
pub const APPLICATION_PROPERTIES: [&str; 16] = [
    "id",
    "appId",
    "createdDateTime",
    "deletedDateTime",
    "description",
    "displayName",
    "identifierUris",
    "isFallbackPublicClient",
    "signInAudience",
    "tags",
    "appRoles",
    "keyCredentials",
    "passwordCredentials",
    "publicClient",
    "spa",
    "web",
];

fn application_property(c: &Client, secrets: &[ClientSecret], name: &str) -> Value {
    match name {
        "id" => json!(application_id(&c.client_id)),
        "appId" => json!(c.client_id),
        "createdDateTime" => time(c.created_at),
        "displayName" => json!(c.name),
        "identifierUris" => json!([format!("api://{}", c.client_id)]),
        "isFallbackPublicClient" => json!(c.is_public()),
        "signInAudience" => json!("AzureADMyOrg"),
        "tags" | "keyCredentials" => json!([]),
        "appRoles" => app_roles(c),
        "passwordCredentials" => password_credentials(c, secrets),
        "publicClient" => json!({"redirectUris": uris(&c.public_client_redirect_uris)}),
        "spa" => json!({"redirectUris": uris(&c.spa_redirect_uris)}),
        "web" => json!({
            "homePageUrl": null,
            "logoutUrl": null,
            "redirectUris": uris(&c.redirect_uris),
        }),
        _ => Value::Null,
    }
}

/// The properties localidp shows of a service principal.
pub const SERVICE_PRINCIPAL_PROPERTIES: [&str; 12] = [
    "id",
    "accountEnabled",
    "appDisplayName",
    "appId",
    "appOwnerOrganizationId",
    "appRoleAssignmentRequired",
    "appRoles",
    "deletedDateTime",
    "displayName",
    "servicePrincipalNames",
    "servicePrincipalType",
    "tags",
];

fn service_principal_property(c: &Client, name: &str) -> Value {
    match name {
        "id" => json!(service_principal_id(&c.client_id)),
        "accountEnabled" => json!(true),
        "appDisplayName" | "displayName" => json!(c.name),
        "appId" => json!(c.client_id),
        "appOwnerOrganizationId" => json!(c.tenant_id),
        "appRoleAssignmentRequired" => json!(false),
        "appRoles" => app_roles(c),
        "servicePrincipalNames" => json!([c.client_id, format!("api://{}", c.client_id)]),
        "servicePrincipalType" => json!("Application"),
        "tags" => json!([]),
        _ => Value::Null,
    }
}

/// Which of Graph's two types a request is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Application,
    ServicePrincipal,
}

impl Kind {
    fn properties(self) -> &'static [&'static str] {
        match self {
            Kind::Application => &APPLICATION_PROPERTIES,
            Kind::ServicePrincipal => &SERVICE_PRINCIPAL_PROPERTIES,
        }
    }

    /// The collection's name in URLs and `@odata.context`.
    pub fn collection(self) -> &'static str {
        match self {
            Kind::Application => "applications",
            Kind::ServicePrincipal => "servicePrincipals",
        }
    }

    fn type_name(self) -> &'static str {
        match self {
            Kind::Application => "application",
            Kind::ServicePrincipal => "servicePrincipal",
        }
    }

    /// The object id of the client as this type.
    pub fn object_id(self, client_id: &str) -> String {
        match self {
            Kind::Application => application_id(client_id),
            Kind::ServicePrincipal => service_principal_id(client_id),
        }
    }

    /// The canonical names of the selected properties; an unknown one is an error.
    pub fn check_select(self, select: &[String]) -> Result<Vec<&'static str>, String> {
        let mut out = Vec::new();
        for name in select {
            let known = self
                .properties()
                .iter()
                .find(|p| p.eq_ignore_ascii_case(name))
                .ok_or_else(|| {
                    format!(
                        "Could not find a property named '{name}' on type 'microsoft.graph.{}'.",
                        self.type_name()
                    )
                })?;
            if !out.contains(known) {
                out.push(*known);
            }
        }
        Ok(out)
    }

    /// The client as this type, with the properties asked for (`secrets` are the
    /// application's `passwordCredentials`).
    pub fn to_json(
        self,
        c: &Client,
        secrets: &[ClientSecret],
        select: Option<&[&'static str]>,
    ) -> Map<String, Value> {
        let mut map = Map::new();
        for p in select.unwrap_or(self.properties()) {
            let v = match self {
                Kind::Application => application_property(c, secrets, p),
                Kind::ServicePrincipal => service_principal_property(c, p),
            };
            map.insert((*p).to_owned(), v);
        }
        map
    }

    /// `@odata.context`: the collection, or one entity.
    pub fn context(self, base: &str, select: Option<&[&'static str]>, entity: bool) -> String {
        super::odata::context(base, self.collection(), select, entity)
    }

    /// Checks a `$filter`: `appId eq`, `displayName eq` or `startswith(displayName,
    /// ...)`, joined by `and`.
    pub fn check_filter(self, clauses: &[Clause]) -> Result<(), String> {
        for clause in clauses {
            let (property, prefix) = match clause {
                Clause::Equals(p, _) => (p.as_str(), false),
                Clause::StartsWith(p, _) => (p.as_str(), true),
                Clause::Identity(_) => ("identities", false),
                Clause::Compare(p, _, _) => return Err(unsupported_clause(p, self.type_name())),
            };
            let known = property.eq_ignore_ascii_case("displayName")
                || (property.eq_ignore_ascii_case("appId") && !prefix);
            if !known {
                return Err(format!(
                    "Unsupported or invalid query filter clause specified for property '{property}' of resource '{}'.",
                    self.type_name()
                ));
            }
        }
        Ok(())
    }

    /// Whether the client meets a checked `$filter` (names without regard to case).
    pub fn matches(c: &Client, clauses: &[Clause]) -> bool {
        let name = c.name.to_lowercase();
        clauses.iter().all(|clause| match clause {
            Clause::Equals(p, v) if p.eq_ignore_ascii_case("appId") => c.client_id == *v,
            Clause::Equals(_, v) => name == v.to_lowercase(),
            Clause::StartsWith(_, v) => name.starts_with(&v.to_lowercase()),
            Clause::Identity(_) | Clause::Compare(..) => false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_ids_are_stable_distinct_uuids() {
        let a = application_id("my-app");
        assert_eq!(a, application_id("my-app"));
        assert_ne!(a, application_id("my-app2"));
        assert_ne!(a, service_principal_id("my-app"));
        let parsed = uuid::Uuid::parse_str(&a).unwrap();
        assert_eq!(parsed.get_version_num(), 5);
        assert_ne!(app_role_id("a", "b\nc"), app_role_id("a\nb", "c"));
    }
}
