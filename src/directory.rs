//! Managing tenants, groups and clients (users in `users`, first start in
//! `bootstrap`): shared by the CLI, the seed file and the request paths. Blocking: call it from a blocking thread.

pub mod admin;
pub mod api_keys;
pub mod bootstrap;
pub mod import;
pub mod service;
pub mod users;

use crate::crypto::password::HashError;
use crate::crypto::secrets;
use crate::db::clients::{self, Client};
use crate::db::groups::{self, Group};
use crate::db::tenants::{self, Tenant};
use crate::db::{DbConnection, DbError, encode_list};
use crate::oauth::claims::policy::ClaimsConfig;
use crate::oauth::grant_type::GrantType;

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0} already exists")]
    Conflict(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error(transparent)]
    Db(DbError),
    #[error(transparent)]
    Hash(#[from] HashError),
}

impl From<diesel::result::Error> for DirectoryError {
    fn from(e: diesel::result::Error) -> Self {
        DbError::from(e).into()
    }
}

impl From<DbError> for DirectoryError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Conflict(what) => DirectoryError::Conflict(what),
            other => DirectoryError::Db(other),
        }
    }
}

pub type DirectoryResult<T> = Result<T, DirectoryError>;

pub(crate) fn invalid<T>(msg: impl Into<String>) -> DirectoryResult<T> {
    Err(DirectoryError::Invalid(msg.into()))
}

pub fn validate_email(email: &str) -> DirectoryResult<()> {
    let email = email.trim();
    let ok = email.len() <= 254
        && !email.chars().any(char::is_whitespace)
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty());
    if ok {
        Ok(())
    } else {
        invalid(format!("{email:?} is not an email address"))
    }
}

/// A user name: 1 to 128 characters of letters, digits and `. _ - @ +`, like an
/// Entra user principal name or a plain `admin`.
pub fn validate_username(username: &str) -> DirectoryResult<()> {
    let name = username.trim();
    let ok = (1..=128).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@' | '+'));
    if ok {
        Ok(())
    } else {
        invalid(format!(
            "{name:?} is not a user name (1 to 128 letters, digits or . _ - @ +)"
        ))
    }
}

pub(crate) fn validate_uuid(what: &str, id: &str) -> DirectoryResult<String> {
    uuid::Uuid::parse_str(id)
        .map(|u| u.to_string())
        .map_err(|_| DirectoryError::Invalid(format!("{what} {id:?} is not a GUID")))
}

/// A tenant by GUID or name.
pub fn tenant(conn: &mut DbConnection, id_or_name: &str) -> DirectoryResult<Tenant> {
    tenants::find(conn, id_or_name)?
        .ok_or_else(|| DirectoryError::NotFound(format!("tenant {id_or_name}")))
}

/// The configured default tenant, else the oldest one.
pub fn default_tenant(
    conn: &mut DbConnection,
    configured: Option<&str>,
) -> DirectoryResult<Tenant> {
    match configured {
        Some(t) => tenant(conn, t),
        None => tenants::oldest(conn)?
            .ok_or_else(|| DirectoryError::NotFound("any tenant (the database is empty)".into())),
    }
}

/// How a tenant is created: name and optional fixed GUID, B2C user flows and issuer form.
#[derive(Debug, Default, Clone)]
pub struct NewTenant {
    pub name: String,
    pub id: Option<String>,
    pub display_name: Option<String>,
    pub policies: Vec<String>,
    /// B2C issuer format: `default` or `tfp`.
    pub b2c_issuer: Option<String>,
}

fn normalize_policies(policies: &[String]) -> DirectoryResult<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for p in policies {
        // Kept as registered (B2C tokens' `tfp` spells it so); compared without case.
        let p = p.trim().to_owned();
        if p.is_empty()
            || !p
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return invalid(format!(
                "policy name {p:?} must be letters, digits, '_' or '-'"
            ));
        }
        if !out.iter().any(|o| o.eq_ignore_ascii_case(&p)) {
            out.push(p);
        }
    }
    Ok(out)
}

/// Creates the tenant unless one with this name (or id) exists; returns it either way.
/// An existing tenant gains the policies it lacks.
pub fn ensure_tenant_with(
    conn: &mut DbConnection,
    new: &NewTenant,
    now: i64,
) -> DirectoryResult<Tenant> {
    let policies = normalize_policies(&new.policies)?;
    let b2c_issuer = new.b2c_issuer.clone().unwrap_or_else(|| "default".into());
    if b2c_issuer != "default" && b2c_issuer != "tfp" {
        return invalid(format!(
            "b2c_issuer {b2c_issuer:?} must be \"default\" or \"tfp\""
        ));
    }
    let mut tenant = ensure_tenant(
        conn,
        &new.name,
        new.id.as_deref(),
        new.display_name.as_deref(),
        now,
    )?;
    let mut merged = tenant.policy_list()?;
    let before = merged.len();
    for p in policies {
        if !merged.iter().any(|m| m.eq_ignore_ascii_case(&p)) {
            merged.push(p);
        }
    }
    if merged.len() != before {
        tenants::set_policies(conn, &tenant.id, &merged)?;
        tenant.policies = encode_list(&merged);
    }
    if new.b2c_issuer.is_some() && tenant.b2c_issuer != b2c_issuer {
        tenants::set_b2c_issuer(conn, &tenant.id, &b2c_issuer)?;
        tenant.b2c_issuer = b2c_issuer;
    }
    Ok(tenant)
}

pub fn ensure_tenant(
    conn: &mut DbConnection,
    name: &str,
    id: Option<&str>,
    display_name: Option<&str>,
    now: i64,
) -> DirectoryResult<Tenant> {
    let name = name.trim().to_ascii_lowercase();
    if name.is_empty() || name.contains('/') || name.chars().any(char::is_whitespace) {
        return invalid(format!(
            "tenant name {name:?} must be a non-empty path segment"
        ));
    }
    if let Some(existing) = tenants::find(conn, &name)? {
        return Ok(existing);
    }
    let id = match id {
        Some(id) => validate_uuid("tenant id", id)?,
        None => crate::crypto::secrets::uuid_v4().to_string(),
    };
    if let Some(existing) = tenants::find(conn, &id)? {
        return Ok(existing);
    }
    let tenant = Tenant {
        id,
        display_name: display_name.unwrap_or(&name).to_owned(),
        name,
        default_client_id: None,
        created_at: now,
        policies: "[]".into(),
        b2c_issuer: "default".into(),
    };
    tenants::insert(conn, &tenant)?;
    Ok(tenant)
}

pub fn ensure_group(
    conn: &mut DbConnection,
    tenant: &Tenant,
    name: &str,
    id: Option<&str>,
    now: i64,
) -> DirectoryResult<Group> {
    if name.trim().is_empty() {
        return invalid("a group name is empty");
    }
    if let Some(g) = groups::find_by_name(conn, &tenant.id, name)? {
        return Ok(g);
    }
    let group = Group {
        id: match id {
            Some(id) => validate_uuid("group id", id)?,
            None => crate::crypto::secrets::uuid_v4().to_string(),
        },
        tenant_id: tenant.id.clone(),
        name: name.to_owned(),
        created_at: now,
        description: None,
        mail_nickname: None,
        mail_enabled: false,
        security_enabled: true,
    };
    groups::insert(conn, &group)?;
    Ok(group)
}

/// Redirect URIs by Entra's platform types. `web` is what untyped `redirect_uris`
/// always meant; `spa` URIs may redeem codes from the browser (CORS) and get 24-hour
/// refresh tokens; `public_client` are mobile and desktop URIs.
#[derive(Debug, Default, Clone)]
pub struct RedirectUris {
    pub web: Vec<String>,
    pub spa: Vec<String>,
    pub public_client: Vec<String>,
}

impl RedirectUris {
    pub fn web(uris: Vec<String>) -> Self {
        RedirectUris {
            web: uris,
            ..Default::default()
        }
    }

    fn all(&self) -> impl Iterator<Item = &String> {
        self.web.iter().chain(&self.spa).chain(&self.public_client)
    }

    /// Every URI is absolute; a SPA URI is an http(s) URL.
    pub fn validate(&self) -> DirectoryResult<()> {
        for uri in self.all() {
            if !(uri.starts_with("http://") || uri.starts_with("https://") || uri.contains(":/")) {
                return invalid(format!("redirect URI {uri:?} is not an absolute URI"));
            }
        }
        // Entra: a SPA redirect URI is a web origin the browser's CORS check can name.
        for uri in &self.spa {
            if clients::origin_of(uri).is_none() {
                return invalid(format!("SPA redirect URI {uri:?} is not an http(s) URL"));
            }
        }
        Ok(())
    }
}

#[derive(Debug, Default, Clone)]
pub struct NewClient {
    pub client_id: Option<String>,
    pub name: String,
    pub public: bool,
    /// A chosen secret (seed files); otherwise a 256-bit one is generated.
    pub secret: Option<String>,
    pub redirect_uris: RedirectUris,
    pub grant_types: Option<Vec<String>>,
    pub app_roles: Vec<String>,
    /// Optional claims and claims mapping; the default is today's tokens.
    pub claims: ClaimsConfig,
}

/// Creates a client; returns it with its secret in clear, which is shown once and
/// stored only as SHA-256.
pub fn create_client(
    conn: &mut DbConnection,
    tenant: &Tenant,
    new: &NewClient,
    now: i64,
) -> DirectoryResult<(Client, Option<String>)> {
    let client_id = match &new.client_id {
        Some(id) if id.trim().is_empty() => return invalid("client_id is empty"),
        Some(id) => id.trim().to_owned(),
        None => crate::crypto::secrets::uuid_v4().to_string(),
    };
    if new.public && new.secret.is_some() {
        return invalid("a public client has no secret");
    }
    let grant_types: Vec<GrantType> = match &new.grant_types {
        Some(list) => {
            let parsed = list
                .iter()
                .map(|g| {
                    GrantType::parse(g).ok_or_else(|| {
                        DirectoryError::Invalid(format!(
                            "unknown grant type {g:?} (known: {})",
                            GrantType::known_names()
                        ))
                    })
                })
                .collect::<DirectoryResult<Vec<_>>>()?;
            if new.public && parsed.contains(&GrantType::ClientCredentials) {
                return invalid("a public client cannot use client_credentials");
            }
            parsed
        }
        None if new.public => GrantType::PUBLIC_DEFAULT.to_vec(),
        None => GrantType::ALL.to_vec(),
    };
    let grant_types: Vec<&str> = grant_types.into_iter().map(GrantType::as_str).collect();
    new.redirect_uris.validate()?;
    new.claims.validate().map_err(DirectoryError::Invalid)?;
    let (optional_claims, claims_mapping) = new.claims.to_columns();
    let secret = if new.public {
        None
    } else {
        Some(new.secret.clone().unwrap_or_else(secrets::generate))
    };
    let client = Client {
        client_id,
        tenant_id: tenant.id.clone(),
        name: if new.name.trim().is_empty() {
            "client".into()
        } else {
            new.name.trim().to_owned()
        },
        secret_hash: secret.as_deref().map(secrets::sha256_hex),
        redirect_uris: encode_list(&new.redirect_uris.web),
        spa_redirect_uris: encode_list(&new.redirect_uris.spa),
        public_client_redirect_uris: encode_list(&new.redirect_uris.public_client),
        grant_types: encode_list(&grant_types),
        app_roles: encode_list(&new.app_roles),
        app_role_definitions: String::new(),
        created_at: now,
        optional_claims,
        claims_mapping,
    };
    // Not the tenant's default client unless made so (`admin::set_default_client`).
    crate::db::write_tx(conn, |conn| {
        crate::db::status_changes::client_recreated(conn, &client.client_id, now)?;
        clients::insert(conn, &client)
    })?;
    Ok((client, secret))
}

/// Replaces a client's optional claims and claims mapping.
pub fn set_client_claims(
    conn: &mut DbConnection,
    client_id: &str,
    claims: &ClaimsConfig,
) -> DirectoryResult<()> {
    claims.validate().map_err(DirectoryError::Invalid)?;
    let (optional_claims, claims_mapping) = claims.to_columns();
    clients::set_claims(conn, client_id, &optional_claims, &claims_mapping).map_err(|e| match e {
        DbError::NotFound => DirectoryError::NotFound(format!("client {client_id}")),
        other => other.into(),
    })
}

/// Deletes a client, and logs it for every server's token status: the access tokens
/// issued to it are refused from then on.
pub fn delete_client(conn: &mut DbConnection, client_id: &str, now: i64) -> DirectoryResult<()> {
    let client = clients::find(conn, client_id)?
        .ok_or_else(|| DirectoryError::NotFound(format!("client {client_id}")))?;
    // Write first: SQLite cannot upgrade a read transaction while another writer is
    // active, but a transaction that starts with a write simply waits its turn.
    crate::db::write_tx(conn, |conn| {
        clients::delete(conn, client_id)?;
        crate::db::status_changes::record(
            conn,
            crate::db::status_changes::StatusKind::ClientDeleted,
            client_id,
            None,
            now,
        )?;
        let tenant = tenant(conn, &client.tenant_id)?;
        if tenant.default_client_id.as_deref() == Some(client_id) {
            tenants::set_default_client(conn, &tenant.id, None)?;
        }
        Ok::<_, DirectoryError>(())
    })
}
