//! What Graph's application writes do to the clients: the request bodies, and the
//! blocking steps (call them from a blocking thread). An application created here is
//! a client made as `localidp client add` makes one; a confidential one starts without
//! a secret until `addPassword`.

use serde::Deserialize;

use super::application::{first_secret_key_id, has_first_secret};
use crate::crypto::secrets;
use crate::db::client_secrets::{self, ClientSecret};
use crate::db::clients::{self, Client, RegistrationChanges};
use crate::db::{DbConnection, encode_list};
use crate::directory::{self, DirectoryError, NewClient, RedirectUris};

/// Graph's default lifetime of a password credential: two years.
const DEFAULT_SECRET_LIFETIME: i64 = 2 * 365 * 24 * 3600;

/// `web`, `spa` or `publicClient`: only `redirectUris` is kept.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Platform {
    pub redirect_uris: Option<Vec<String>>,
}

pub use super::app_role_defs::AppRoleBody as AppRole;
use super::app_role_defs::{self as role_defs, RoleError};

/// The body of `POST /applications` and `PATCH /applications/{id}` (properties
/// localidp does not keep are ignored).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationBody {
    pub display_name: Option<String>,
    pub web: Option<Platform>,
    pub spa: Option<Platform>,
    pub public_client: Option<Platform>,
    pub app_roles: Option<Vec<AppRole>>,
    pub is_fallback_public_client: Option<bool>,
}

/// `addPassword`'s `passwordCredential`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasswordCredential {
    pub display_name: Option<String>,
    pub start_date_time: Option<String>,
    pub end_date_time: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddPassword {
    pub password_credential: Option<PasswordCredential>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemovePassword {
    pub key_id: Option<String>,
}

/// Why a write was refused.
#[derive(Debug, thiserror::Error)]
pub enum AppWriteError {
    #[error("{0}")]
    Invalid(String),
    /// Graph's `CannotDeleteOrUpdateEnabledEntitlement`.
    #[error("{0}")]
    EnabledRole(String),
    #[error(transparent)]
    Directory(#[from] DirectoryError),
}

impl From<crate::db::DbError> for AppWriteError {
    fn from(e: crate::db::DbError) -> Self {
        AppWriteError::Directory(e.into())
    }
}

impl From<diesel::result::Error> for AppWriteError {
    fn from(e: diesel::result::Error) -> Self {
        AppWriteError::Directory(e.into())
    }
}

fn invalid<T>(msg: impl Into<String>) -> Result<T, AppWriteError> {
    Err(AppWriteError::Invalid(msg.into()))
}

fn trimmed(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

impl ApplicationBody {
    fn uris(p: &Option<Platform>) -> Option<Vec<String>> {
        p.as_ref().and_then(|p| p.redirect_uris.clone())
    }

    /// The redirect URIs given, by platform, checked as `localidp client add` checks
    /// them.
    fn redirect_uris(&self) -> Result<RedirectUris, AppWriteError> {
        let uris = RedirectUris {
            web: Self::uris(&self.web).unwrap_or_default(),
            spa: Self::uris(&self.spa).unwrap_or_default(),
            public_client: Self::uris(&self.public_client).unwrap_or_default(),
        };
        uris.validate()?;
        Ok(uris)
    }

    /// The roles the body's `appRoles` makes of the client's `existing` ones, as the
    /// two columns (`app_role_definitions`, `app_roles`); `None` without `appRoles`.
    fn roles(
        &self,
        client_id: &str,
        existing: &[role_defs::AppRoleDef],
    ) -> Result<Option<(String, String)>, AppWriteError> {
        let Some(given) = &self.app_roles else {
            return Ok(None);
        };
        let defs = role_defs::resolve(client_id, existing, given).map_err(|e| match e {
            RoleError::Invalid(m) => AppWriteError::Invalid(m),
            RoleError::Enabled(m) => AppWriteError::EnabledRole(m),
        })?;
        Ok(Some(role_defs::columns(&defs)))
    }

    fn display_name(&self) -> Result<Option<String>, AppWriteError> {
        let name = trimmed(&self.display_name);
        if self.display_name.is_some() && name.is_none() {
            return invalid(
                "Invalid value specified for property 'displayName' of resource 'Application'.",
            );
        }
        Ok(name)
    }
}

/// Creates the application as a client of the tenant: public with
/// `isFallbackPublicClient`, otherwise confidential without a secret yet.
pub fn create(
    conn: &mut DbConnection,
    tenant_id: &str,
    body: &ApplicationBody,
    now: i64,
) -> Result<Client, AppWriteError> {
    let name = body.display_name()?.ok_or_else(|| {
        AppWriteError::Invalid(
            "Property 'displayName' is required to create an application.".into(),
        )
    })?;
    let new = NewClient {
        name,
        public: body.is_fallback_public_client == Some(true),
        redirect_uris: body.redirect_uris()?,
        ..Default::default()
    };
    // Checked before the client exists; the ids not given derive from its client id.
    body.roles(&uuid::Uuid::nil().to_string(), &[])?;
    let tenant = directory::tenant(conn, tenant_id)?;
    crate::db::write_tx(conn, |conn| {
        let (mut client, _generated) = directory::create_client(conn, &tenant, &new, now)?;
        if let Some((definitions, values)) = body.roles(&client.client_id, &[])? {
            let changes = RegistrationChanges {
                app_roles: Some(values.clone()),
                app_role_definitions: Some(definitions.clone()),
                ..RegistrationChanges::default()
            };
            clients::update_registration(conn, &client.client_id, &changes)?;
            (client.app_roles, client.app_role_definitions) = (values, definitions);
        }
        if !client.is_public() {
            // The generated secret is never shown: secrets come from addPassword.
            clients::set_secret_hash(conn, &client.client_id, "")?;
            client.secret_hash = Some(String::new());
        }
        Ok(client)
    })
}

/// Applies a `PATCH`; an unchanged body is not an error.
pub fn update(
    conn: &mut DbConnection,
    client: &Client,
    body: &ApplicationBody,
) -> Result<(), AppWriteError> {
    if body
        .is_fallback_public_client
        .is_some_and(|p| p != client.is_public())
    {
        return invalid(
            "localidp cannot change 'isFallbackPublicClient' of an existing application; create a new one.",
        );
    }
    let given = RedirectUris {
        web: ApplicationBody::uris(&body.web).unwrap_or_default(),
        spa: ApplicationBody::uris(&body.spa).unwrap_or_default(),
        public_client: ApplicationBody::uris(&body.public_client).unwrap_or_default(),
    };
    given.validate()?;
    crate::db::write_tx(conn, |conn| {
        // The roles as they are now: whether one removed was enabled is read here.
        let current = clients::find(conn, &client.client_id)?.ok_or_else(|| {
            AppWriteError::Directory(DirectoryError::NotFound(client.client_id.clone()))
        })?;
        let roles = body.roles(&current.client_id, &role_defs::of(&current))?;
        update_in_tx(conn, &current, body, roles)
    })
}

fn update_in_tx(
    conn: &mut DbConnection,
    client: &Client,
    body: &ApplicationBody,
    roles: Option<(String, String)>,
) -> Result<(), AppWriteError> {
    let (app_role_definitions, app_roles) = roles.unzip();
    let changes = RegistrationChanges {
        name: body.display_name()?,
        redirect_uris: ApplicationBody::uris(&body.web).map(|u| encode_list(&u)),
        spa_redirect_uris: ApplicationBody::uris(&body.spa).map(|u| encode_list(&u)),
        public_client_redirect_uris: ApplicationBody::uris(&body.public_client)
            .map(|u| encode_list(&u)),
        app_roles,
        app_role_definitions,
    };
    let nothing = changes.name.is_none()
        && changes.redirect_uris.is_none()
        && changes.spa_redirect_uris.is_none()
        && changes.public_client_redirect_uris.is_none()
        && changes.app_roles.is_none();
    if !nothing {
        clients::update_registration(conn, &client.client_id, &changes)?;
    }
    Ok(())
}

fn parse_time(what: &str, v: &Option<String>) -> Result<Option<i64>, AppWriteError> {
    v.as_deref()
        .map(|s| {
            chrono::DateTime::parse_from_rfc3339(s.trim())
                .map(|t| t.timestamp())
                .map_err(|_| {
                    AppWriteError::Invalid(format!(
                        "Invalid value '{s}' for '{what}': use an ISO 8601 time such as 2030-01-01T00:00:00Z."
                    ))
                })
        })
        .transpose()
}

/// `addPassword`: a new 256-bit secret; returns it stored (hashed) and in clear, which
/// is shown once.
pub fn add_password(
    conn: &mut DbConnection,
    client: &Client,
    body: &AddPassword,
    key_id: String,
    now: i64,
) -> Result<(ClientSecret, String), AppWriteError> {
    if client.is_public() {
        return invalid(
            "The application is a public client (isFallbackPublicClient): localidp gives public clients no secrets.",
        );
    }
    let cred = body.password_credential.as_ref();
    let start = parse_time(
        "startDateTime",
        &cred.and_then(|c| c.start_date_time.clone()),
    )?
    .unwrap_or(now);
    let end = parse_time("endDateTime", &cred.and_then(|c| c.end_date_time.clone()))?
        .unwrap_or(start + DEFAULT_SECRET_LIFETIME);
    if end <= start {
        return invalid("'endDateTime' must be after 'startDateTime'.");
    }
    let plain = secrets::generate();
    let stored = ClientSecret {
        key_id,
        client_id: client.client_id.clone(),
        display_name: cred.and_then(|c| trimmed(&c.display_name)),
        hint: plain.chars().take(3).collect(),
        secret_hash: secrets::sha256_hex(&plain),
        start_at: start,
        end_at: end,
    };
    client_secrets::insert(conn, &stored)?;
    Ok((stored, plain))
}

/// `removePassword`: the secret with this key id stops working (the first secret
/// too); whether there was one.
pub fn remove_password(
    conn: &mut DbConnection,
    client: &Client,
    key_id: &str,
) -> Result<bool, AppWriteError> {
    let key_id = key_id.trim().to_ascii_lowercase();
    if has_first_secret(client) && key_id == first_secret_key_id(&client.client_id) {
        clients::set_secret_hash(conn, &client.client_id, "")?;
        return Ok(true);
    }
    Ok(client_secrets::delete(conn, &client.client_id, &key_id)?)
}
