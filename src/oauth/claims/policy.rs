//! An application's claims configuration, in Entra's vocabulary: `optionalClaims`
//! (which optional claims its access and ID tokens carry) and a claims mapping (`sub`
//! from another attribute, added claims, a `permissions` claim from app roles).
//! Stored as JSON on the client row; read from the seed file and the CLI.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Entra's `optionalClaims`. A token kind that is not configured (`None`) keeps
/// localidp's defaults (Entra tokens carry `email`, `given_name`, `family_name` and
/// `groups`); a configured list, even an empty one, carries exactly the optional
/// claims it names.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptionalClaims {
    #[serde(
        default,
        alias = "accessToken",
        skip_serializing_if = "Option::is_none"
    )]
    pub access_token: Option<Vec<OptionalClaim>>,
    #[serde(default, alias = "idToken", skip_serializing_if = "Option::is_none")]
    pub id_token: Option<Vec<OptionalClaim>>,
    /// Entra manifests carry it; localidp issues no SAML tokens.
    #[serde(default, alias = "saml2Token", skip_serializing)]
    pub saml2_token: Option<serde_json::Value>,
}

/// One optional claim: a name, or Entra's object form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    from = "OptionalClaimEntry",
    into = "OptionalClaimEntry",
    expecting = "a claim name, or a table with name and additional_properties"
)]
pub struct OptionalClaim {
    pub name: String,
    pub additional_properties: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(
    untagged,
    expecting = "a claim name, or a table with name and additional_properties"
)]
enum OptionalClaimEntry {
    Name(String),
    Full {
        name: String,
        #[serde(default, alias = "additionalProperties")]
        additional_properties: Vec<String>,
        /// Entra's `source` and `essential`: accepted, not used.
        #[serde(default, skip_serializing)]
        source: Option<serde_json::Value>,
        #[serde(default, skip_serializing)]
        essential: Option<bool>,
    },
}

impl From<OptionalClaimEntry> for OptionalClaim {
    fn from(e: OptionalClaimEntry) -> Self {
        match e {
            OptionalClaimEntry::Name(name) => OptionalClaim {
                name,
                additional_properties: Vec::new(),
            },
            OptionalClaimEntry::Full {
                name,
                additional_properties,
                ..
            } => OptionalClaim {
                name,
                additional_properties,
            },
        }
    }
}

impl From<OptionalClaim> for OptionalClaimEntry {
    fn from(c: OptionalClaim) -> Self {
        if c.additional_properties.is_empty() {
            OptionalClaimEntry::Name(c.name)
        } else {
            OptionalClaimEntry::Full {
                name: c.name,
                additional_properties: c.additional_properties,
                source: None,
                essential: None,
            }
        }
    }
}

/// The optional claims localidp knows, with the additional properties each takes.
const KNOWN_OPTIONAL: &[(&str, &[&str])] = &[
    ("email", &[]),
    ("upn", &[]),
    ("given_name", &[]),
    ("family_name", &[]),
    ("groups", GROUP_NAME_PROPERTIES),
    ("idtyp", &[]),
    ("acct", &[]),
    ("auth_time", &[]),
    ("verified_primary_email", &[]),
];

/// Entra's group formats that localidp answers with the group's name.
const GROUP_NAME_PROPERTIES: &[&str] = &["sam_account_name", "cloud_displayname"];

impl OptionalClaims {
    pub fn validate(&self) -> Result<(), String> {
        for (kind, list) in [
            ("access_token", &self.access_token),
            ("id_token", &self.id_token),
        ] {
            for claim in list.iter().flatten() {
                let Some((_, props)) = KNOWN_OPTIONAL.iter().find(|(n, _)| *n == claim.name) else {
                    let known: Vec<&str> = KNOWN_OPTIONAL.iter().map(|(n, _)| *n).collect();
                    return Err(format!(
                        "optional_claims.{kind}: unknown claim {:?} (known: {})",
                        claim.name,
                        known.join(", ")
                    ));
                };
                if let Some(p) = claim
                    .additional_properties
                    .iter()
                    .find(|p| !props.contains(&p.as_str()))
                {
                    return Err(format!(
                        "optional_claims.{kind}: {} takes no additional property {p:?}{}",
                        claim.name,
                        if props.is_empty() {
                            String::new()
                        } else {
                            format!(" (known: {})", props.join(", "))
                        }
                    ));
                }
            }
        }
        Ok(())
    }
}

/// A user attribute a claim (or `sub`) can be taken from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserAttribute {
    /// The object id.
    Oid,
    /// The user name, else the email address.
    Username,
    /// The email address, else the user name.
    Email,
    /// The user name, else the email address (Entra's userPrincipalName).
    Upn,
    /// The display name.
    Name,
    GivenName,
    FamilyName,
    /// The user's app roles, as a list.
    Roles,
    /// The user's group ids, as a list.
    Groups,
    /// The user's group names, as a list.
    GroupNames,
    /// The tenant's id.
    TenantId,
}

/// Where `sub` comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectSource {
    #[default]
    Oid,
    Username,
    Email,
    Upn,
}

impl SubjectSource {
    pub fn attribute(self) -> UserAttribute {
        match self {
            SubjectSource::Oid => UserAttribute::Oid,
            SubjectSource::Username => UserAttribute::Username,
            SubjectSource::Email => UserAttribute::Email,
            SubjectSource::Upn => UserAttribute::Upn,
        }
    }
}

/// A claim added to the application's tokens: from a user attribute or a constant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimRule {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<UserAttribute>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<serde_json::Value>,
}

/// The application's claims mapping.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimsMapping {
    #[serde(default)]
    pub sub: SubjectSource,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub claims: Vec<ClaimRule>,
    /// App role → permissions; when present, user tokens carry `permissions`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<BTreeMap<String, Vec<String>>>,
}

/// Claims a mapping may not set: the protocol's own, and those with a setting of
/// their own (`sub`, `permissions`, `roles`, `groups`).
const RESERVED: &[&str] = &[
    "aud",
    "iss",
    "iat",
    "nbf",
    "exp",
    "sub",
    "oid",
    "azp",
    "ver",
    "jti",
    "tid",
    "azpacr",
    "uti",
    "aio",
    "rh",
    "idtyp",
    "auth_time",
    "tfp",
    "acr",
    "scp",
    "nonce",
    "at_hash",
    "c_hash",
    "sid",
    "roles",
    "groups",
    "emails",
    "permissions",
];

/// Claims `/auth/verify` reads as strings: a mapping may set them only to a string.
const STRING_CLAIMS: &[&str] = &[
    "email",
    "name",
    "preferred_username",
    "given_name",
    "family_name",
];

impl ClaimsMapping {
    pub fn validate(&self) -> Result<(), String> {
        let mut seen: Vec<&str> = Vec::new();
        for rule in &self.claims {
            let name = rule.name.as_str();
            if name.trim().is_empty() {
                return Err("claims_mapping.claims: a claim has no name".into());
            }
            if RESERVED.contains(&name) {
                return Err(format!(
                    "claims_mapping.claims: {name:?} is set by localidp and cannot be mapped{}",
                    if name == "sub" {
                        " (use claims_mapping.sub)"
                    } else if name == "permissions" {
                        " (use claims_mapping.permissions)"
                    } else {
                        ""
                    }
                ));
            }
            if seen.contains(&name) {
                return Err(format!("claims_mapping.claims: {name:?} is listed twice"));
            }
            seen.push(name);
            match (&rule.source, &rule.value) {
                (Some(_), Some(_)) | (None, None) => {
                    return Err(format!(
                        "claims_mapping.claims: {name:?} needs exactly one of source or value"
                    ));
                }
                (Some(source), None) if STRING_CLAIMS.contains(&name) => {
                    if matches!(
                        source,
                        UserAttribute::Roles | UserAttribute::Groups | UserAttribute::GroupNames
                    ) {
                        return Err(format!(
                            "claims_mapping.claims: {name:?} must be a string, not a list"
                        ));
                    }
                }
                (None, Some(value)) if STRING_CLAIMS.contains(&name) && !value.is_string() => {
                    return Err(format!("claims_mapping.claims: {name:?} must be a string"));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Whether tokens need the user's group names.
    pub fn wants_group_names(&self) -> bool {
        self.claims
            .iter()
            .any(|r| r.source == Some(UserAttribute::GroupNames))
    }
}

impl OptionalClaims {
    /// Whether `groups` in this token kind is asked for as names.
    pub fn groups_as_names(list: Option<&[OptionalClaim]>) -> bool {
        list.into_iter().flatten().any(|c| {
            c.name == "groups"
                && c.additional_properties
                    .iter()
                    .any(|p| GROUP_NAME_PROPERTIES.contains(&p.as_str()))
        })
    }
}

/// Both settings, as the seed file and `client set-claims` files write them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimsConfig {
    #[serde(default, alias = "optionalClaims")]
    pub optional_claims: OptionalClaims,
    #[serde(default)]
    pub claims_mapping: ClaimsMapping,
}

impl ClaimsConfig {
    pub fn validate(&self) -> Result<(), String> {
        self.optional_claims.validate()?;
        self.claims_mapping.validate()
    }

    /// The two JSON columns of the client row.
    pub fn to_columns(&self) -> (String, String) {
        let optional = serde_json::to_string(&self.optional_claims);
        let mapping = serde_json::to_string(&self.claims_mapping);
        (
            optional.expect("optional claims serialise"),
            mapping.expect("a claims mapping serialises"),
        )
    }
}
