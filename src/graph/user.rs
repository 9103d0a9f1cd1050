//! A directory user in Graph's `microsoft.graph.user` shape.

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::{Map, Value};

use crate::db::users::{User, UserSummary};

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
const SELECTABLE: [&str; 4] = [
    "accountEnabled",
    "createdDateTime",
    "identities",
    "mailNickname",
];

/// The user principal name: the user name, else the email address.
pub fn user_principal_name(u: &User) -> &str {
    u.sign_in_name()
}

/// What Graph shows of a user, borrowed from a whole row or from a list's
/// [`UserSummary`] (which reads only these columns).
#[derive(Debug, Clone, Copy)]
pub struct Shown<'a> {
    pub id: &'a str,
    pub email: Option<&'a str>,
    pub username: Option<&'a str>,
    pub display_name: &'a str,
    pub given_name: Option<&'a str>,
    pub family_name: Option<&'a str>,
    pub disabled: bool,
    pub created_at: i64,
}

impl<'a> Shown<'a> {
    /// The user principal name: the user name, else the email address.
    fn upn(self) -> &'a str {
        self.username.or(self.email).unwrap_or_default()
    }
}

impl<'a> From<&'a User> for Shown<'a> {
    fn from(u: &'a User) -> Self {
        Shown {
            id: &u.id,
            email: u.email.as_deref(),
            username: u.username.as_deref(),
            display_name: &u.display_name,
            given_name: u.given_name.as_deref(),
            family_name: u.family_name.as_deref(),
            disabled: u.is_disabled(),
            created_at: u.created_at,
        }
    }
}

impl<'a> From<&'a UserSummary> for Shown<'a> {
    fn from(u: &'a UserSummary) -> Self {
        Shown {
            id: &u.id,
            email: u.email.as_deref(),
            username: u.username.as_deref(),
            display_name: &u.display_name,
            given_name: u.given_name.as_deref(),
            family_name: u.family_name.as_deref(),
            disabled: u.disabled != 0,
            created_at: u.created_at,
        }
    }
}

/// One of B2C's `identities`: a sign-in name issued by the tenant's domain.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Identity<'a> {
    sign_in_type: &'a str,
    issuer: &'a str,
    issuer_assigned_id: &'a str,
}

/// B2C's `identities`: the sign-in names, each issued by the tenant's domain `issuer`.
fn identities<'a>(u: Shown<'a>, issuer: &'a str) -> Vec<Identity<'a>> {
    let one = |sign_in_type, issuer_assigned_id| Identity {
        sign_in_type,
        issuer,
        issuer_assigned_id,
    };
    let mut all = Vec::with_capacity(3);
    if let Some(email) = u.email {
        all.push(one("emailAddress", email));
    }
    if let Some(username) = u.username {
        all.push(one("userName", username));
    }
    all.push(one("userPrincipalName", u.upn()));
    all
}

/// A user in Graph's shape with the properties asked for (Graph's default set
/// without `$select`), serialized straight to JSON: list answers write 100 of them
/// with no map built per user. `issuer` is the tenant's domain name (for
/// `identities`).
pub struct UserJson<'a> {
    pub user: Shown<'a>,
    pub select: Option<&'a [&'static str]>,
    pub issuer: &'a str,
}

impl Serialize for UserJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (u, issuer) = (self.user, self.issuer);
        let props: &[&str] = self.select.unwrap_or(&DEFAULT_PROPERTIES);
        let upn = u.upn();
        let mut map = s.serialize_map(Some(props.len()))?;
        for &name in props {
            match name {
                "id" => map.serialize_entry(name, u.id)?,
                "businessPhones" => map.serialize_entry(name, &[] as &[&str])?,
                "displayName" => map.serialize_entry(name, u.display_name)?,
                "givenName" => map.serialize_entry(name, &u.given_name)?,
                "surname" => map.serialize_entry(name, &u.family_name)?,
                "mail" => map.serialize_entry(name, &u.email)?,
                "userPrincipalName" => map.serialize_entry(name, upn)?,
                "accountEnabled" => map.serialize_entry(name, &!u.disabled)?,
                "mailNickname" => {
                    map.serialize_entry(name, upn.split('@').next().unwrap_or(upn))?
                }
                "identities" => map.serialize_entry(name, &identities(u, issuer))?,
                "createdDateTime" => map.serialize_entry(
                    name,
                    &chrono::DateTime::from_timestamp(u.created_at, 0)
                        .unwrap_or_default()
                        .format("%Y-%m-%dT%H:%M:%SZ")
                        .to_string(),
                )?,
                _ => map.serialize_entry(name, &())?,
            }
        }
        map.end()
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
/// `issuer` is the tenant's domain name (for `identities`).
pub fn to_json(u: &User, select: Option<&[&'static str]>, issuer: &str) -> Map<String, Value> {
    let view = UserJson {
        user: u.into(),
        select,
        issuer,
    };
    match serde_json::to_value(view) {
        Ok(Value::Object(map)) => map,
        // A map of strings, booleans and arrays always serializes to an object.
        _ => Map::new(),
    }
}

/// `@odata.context` of a users answer: the collection, or one entity.
pub fn context(base: &str, select: Option<&[&'static str]>, entity: bool) -> String {
    super::odata::context(base, "users", select, entity)
}

/// What a signed-in user may change about themselves with delegated `User.ReadWrite`
/// and localidp keeps: the names (as Entra External ID lets its users edit them).
const SELF_SERVICE: [&str; 3] = ["displayName", "givenName", "surname"];

/// Graph's other self-service profile properties (`User.ReadWrite`): localidp keeps
/// no value for them, so they are accepted and ignored, as `PATCH /users` ignores
/// what it does not keep.
const SELF_SERVICE_NOT_KEPT: [&str; 10] = [
    "aboutMe",
    "birthday",
    "hireDate",
    "interests",
    "mySite",
    "pastProjects",
    "preferredName",
    "responsibilities",
    "schools",
    "skills",
];

/// User properties only an administrator changes.
const ADMIN_ONLY: [&str; 30] = [
    "accountEnabled",
    "ageGroup",
    "businessPhones",
    "city",
    "companyName",
    "consentProvidedForMinor",
    "country",
    "department",
    "employeeId",
    "employeeType",
    "faxNumber",
    "identities",
    "jobTitle",
    "mail",
    "mailNickname",
    "mobilePhone",
    "officeLocation",
    "onPremisesImmutableId",
    "otherMails",
    "passwordPolicies",
    "passwordProfile",
    "postalCode",
    "preferredLanguage",
    "proxyAddresses",
    "showInAddressList",
    "state",
    "streetAddress",
    "usageLocation",
    "userPrincipalName",
    "userType",
];

/// Why a self-service update was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum SelfUpdateError {
    /// A property only an administrator may change.
    Denied(String),
    /// Not a property of `microsoft.graph.user`.
    Unknown(String),
}

/// The properties of a `PATCH /me` body the signed-in user may change, refusing the
/// whole body if it names one they may not.
pub fn self_update(body: &Map<String, Value>) -> Result<Map<String, Value>, SelfUpdateError> {
    let mut kept = Map::new();
    for (name, value) in body {
        let is = |list: &[&str]| list.iter().any(|p| p.eq_ignore_ascii_case(name));
        if let Some(p) = SELF_SERVICE.iter().find(|p| p.eq_ignore_ascii_case(name)) {
            kept.insert((*p).to_owned(), value.clone());
        } else if is(&ADMIN_ONLY) || name.eq_ignore_ascii_case("id") {
            return Err(SelfUpdateError::Denied(name.clone()));
        } else if !is(&SELF_SERVICE_NOT_KEPT) && !name.starts_with('@') {
            return Err(SelfUpdateError::Unknown(name.clone()));
        }
    }
    Ok(kept)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn bob() -> User {
        User {
            id: "b0b".into(),
            tenant_id: "t".into(),
            email: Some("bob@contoso.com".into()),
            email_normalized: Some("bob@contoso.com".into()),
            display_name: "Bob".into(),
            given_name: Some("Bob".into()),
            family_name: None,
            password_hash: None,
            roles: "[]".into(),
            disabled: 1,
            created_at: 0,
            updated_at: 0,
            username: Some("bob".into()),
            username_normalized: Some("bob".into()),
            force_change_password: 0,
        }
    }

    #[test]
    fn a_user_is_written_with_the_default_or_selected_properties() {
        let u = bob();
        let text = serde_json::to_string(&UserJson {
            user: (&u).into(),
            select: None,
            issuer: "contoso.onmicrosoft.com",
        })
        .unwrap();
        // Graph's order: businessPhones first, id last.
        assert!(
            text.starts_with(r#"{"businessPhones":[],"displayName":"Bob""#),
            "{text}"
        );
        assert!(
            text.ends_with(r#""userPrincipalName":"bob","id":"b0b"}"#),
            "{text}"
        );
        let selected = [
            "accountEnabled",
            "createdDateTime",
            "identities",
            "mailNickname",
        ];
        assert_eq!(
            Value::Object(to_json(&u, Some(&selected), "contoso.onmicrosoft.com")),
            json!({
                "accountEnabled": false,
                "createdDateTime": "1970-01-01T00:00:00Z",
                "mailNickname": "bob",
                "identities": [
                    {"signInType": "emailAddress", "issuer": "contoso.onmicrosoft.com", "issuerAssignedId": "bob@contoso.com"},
                    {"signInType": "userName", "issuer": "contoso.onmicrosoft.com", "issuerAssignedId": "bob"},
                    {"signInType": "userPrincipalName", "issuer": "contoso.onmicrosoft.com", "issuerAssignedId": "bob"},
                ],
            })
        );
    }

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn a_user_changes_their_names_and_nothing_an_administrator_manages() {
        let kept = self_update(&body(
            json!({"displayname": "A", "surname": "B", "aboutMe": "hi", "@odata.type": "x"}),
        ))
        .unwrap();
        assert_eq!(
            Value::Object(kept),
            json!({"displayName": "A", "surname": "B"})
        );
        assert_eq!(
            self_update(&body(json!({"displayName": "A", "accountEnabled": false}))),
            Err(SelfUpdateError::Denied("accountEnabled".into()))
        );
        assert_eq!(
            self_update(&body(json!({"colour": "blue"}))),
            Err(SelfUpdateError::Unknown("colour".into()))
        );
    }
}
