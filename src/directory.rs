//! Managing tenants, users, groups and clients: shared by the CLI, the seed file and
//! first-start bootstrap. Blocking: call it from a blocking thread.

pub mod admin;
pub mod service;

use diesel::Connection;
use secrecy::SecretString;

use crate::crypto::password::{HashError, PasswordHasher, is_importable_hash};
use crate::crypto::secrets;
use crate::db::clients::{self, Client};
use crate::db::groups::{self, Group};
use crate::db::tenants::{self, Tenant};
use crate::db::users::{self, User, normalize_email};
use crate::db::{DbConnection, DbError, encode_list};
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

fn invalid<T>(msg: impl Into<String>) -> DirectoryResult<T> {
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

fn validate_uuid(what: &str, id: &str) -> DirectoryResult<String> {
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

/// Creates the tenant unless one with this name (or id) exists; returns it either way.
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
        None => uuid::Uuid::new_v4().to_string(),
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

#[derive(Debug, Default)]
pub struct NewUser {
    pub email: String,
    pub password: Option<SecretString>,
    /// An existing bcrypt or argon2 hash, imported as is.
    pub password_hash: Option<String>,
    pub display_name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub roles: Vec<String>,
    pub groups: Vec<String>,
    pub oid: Option<String>,
    pub disabled: bool,
}

/// Builds the row for a new user; hashes the password on this thread.
pub fn new_user_row(
    hasher: &PasswordHasher,
    tenant: &Tenant,
    new: &NewUser,
    now: i64,
) -> DirectoryResult<User> {
    validate_email(&new.email)?;
    let password_hash = match (&new.password, &new.password_hash) {
        (Some(_), Some(_)) => return invalid("give a password or a password hash, not both"),
        (Some(pw), None) => {
            use secrecy::ExposeSecret;
            if pw.expose_secret().is_empty() {
                return invalid("the password is empty");
            }
            Some(hasher.hash_blocking(pw)?)
        }
        (None, Some(hash)) => {
            if !is_importable_hash(hash) {
                return invalid(
                    "the password hash is neither bcrypt ($2a/$2b/$2y) nor argon2 (PHC)",
                );
            }
            Some(hash.clone())
        }
        (None, None) => None,
    };
    let id = match &new.oid {
        Some(oid) => validate_uuid("oid", oid)?,
        None => uuid::Uuid::new_v4().to_string(),
    };
    let email = new.email.trim().to_owned();
    let display_name =
        new.display_name
            .clone()
            .unwrap_or_else(|| match (&new.given_name, &new.family_name) {
                (Some(g), Some(f)) => format!("{g} {f}"),
                _ => email.split('@').next().unwrap_or(&email).to_owned(),
            });
    let ts = now;
    Ok(User {
        id,
        tenant_id: tenant.id.clone(),
        email_normalized: normalize_email(&email),
        email,
        display_name,
        given_name: new.given_name.clone(),
        family_name: new.family_name.clone(),
        password_hash,
        roles: encode_list(&new.roles),
        disabled: i32::from(new.disabled),
        created_at: ts,
        updated_at: ts,
    })
}

pub fn create_user(
    conn: &mut DbConnection,
    hasher: &PasswordHasher,
    tenant: &Tenant,
    new: &NewUser,
    now: i64,
) -> DirectoryResult<User> {
    let row = new_user_row(hasher, tenant, new, now)?;
    conn.transaction(|conn| {
        users::insert(conn, &row)?;
        for group in &new.groups {
            let g = ensure_group(conn, tenant, group, None, now)?;
            groups::add_member(conn, &g.id, &row.id)?;
        }
        Ok::<_, DirectoryError>(())
    })?;
    Ok(row)
}

/// One line of a `user import` file.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportedUser {
    email: String,
    password: Option<String>,
    password_hash: Option<String>,
    name: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    oid: Option<String>,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    disabled: bool,
}

/// Bulk import from JSON Lines, all or nothing: a bad line or an email that exists
/// aborts the import with its line number and nothing is written.
pub fn import_users(
    conn: &mut DbConnection,
    hasher: &PasswordHasher,
    tenant: &Tenant,
    path: &std::path::Path,
    now: i64,
) -> DirectoryResult<usize> {
    use std::io::BufRead;
    let file = std::fs::File::open(path)
        .map_err(|e| DirectoryError::Invalid(format!("cannot open {}: {e}", path.display())))?;
    let mut rows = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line_no = i + 1;
        let line = line.map_err(|e| DirectoryError::Invalid(format!("line {line_no}: {e}")))?;
        if line.trim().is_empty() {
            continue;
        }
        let u: ImportedUser = serde_json::from_str(&line)
            .map_err(|e| DirectoryError::Invalid(format!("line {line_no}: {e}")))?;
        let new = NewUser {
            email: u.email,
            password: u.password.map(SecretString::from),
            password_hash: u.password_hash,
            display_name: u.name,
            given_name: u.given_name,
            family_name: u.family_name,
            roles: u.roles,
            groups: Vec::new(),
            oid: u.oid,
            disabled: u.disabled,
        };
        let row = new_user_row(hasher, tenant, &new, now)
            .map_err(|e| DirectoryError::Invalid(format!("line {line_no}: {e}")))?;
        if !seen.insert(row.email_normalized.clone()) {
            return invalid(format!("line {line_no}: {} appears twice", row.email));
        }
        rows.push(row);
    }
    users::insert_many(conn, &rows).map_err(|e| match e {
        DbError::Conflict(_) => {
            DirectoryError::Conflict("a user of this file (same email or oid)".to_owned())
        }
        other => other.into(),
    })
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
            None => uuid::Uuid::new_v4().to_string(),
        },
        tenant_id: tenant.id.clone(),
        name: name.to_owned(),
        created_at: now,
    };
    groups::insert(conn, &group)?;
    Ok(group)
}

pub fn user_by_email(
    conn: &mut DbConnection,
    tenant: &Tenant,
    email: &str,
) -> DirectoryResult<User> {
    users::find_by_email(conn, &tenant.id, email)?
        .ok_or_else(|| DirectoryError::NotFound(format!("user {email}")))
}

pub fn set_password(
    conn: &mut DbConnection,
    hasher: &PasswordHasher,
    tenant: &Tenant,
    email: &str,
    password: &SecretString,
    now: i64,
) -> DirectoryResult<()> {
    use secrecy::ExposeSecret;
    if password.expose_secret().is_empty() {
        return invalid("the password is empty");
    }
    let user = user_by_email(conn, tenant, email)?;
    let hash = hasher.hash_blocking(password)?;
    users::set_password_hash(conn, &user.id, &hash, now)?;
    Ok(())
}

#[derive(Debug, Default, Clone)]
pub struct NewClient {
    pub client_id: Option<String>,
    pub name: String,
    pub public: bool,
    /// A chosen secret (seed files); otherwise a 256-bit one is generated.
    pub secret: Option<String>,
    pub redirect_uris: Vec<String>,
    pub grant_types: Option<Vec<String>>,
    pub app_roles: Vec<String>,
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
        None => uuid::Uuid::new_v4().to_string(),
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
    for uri in &new.redirect_uris {
        if !(uri.starts_with("http://") || uri.starts_with("https://") || uri.contains(":/")) {
            return invalid(format!("redirect URI {uri:?} is not an absolute URI"));
        }
    }
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
        redirect_uris: encode_list(&new.redirect_uris),
        grant_types: encode_list(&grant_types),
        app_roles: encode_list(&new.app_roles),
        created_at: now,
    };
    conn.transaction(|conn| {
        clients::insert(conn, &client)?;
        if tenant.default_client_id.is_none() {
            tenants::set_default_client(conn, &tenant.id, Some(&client.client_id))?;
        }
        Ok::<_, DirectoryError>(())
    })?;
    Ok((client, secret))
}

pub fn delete_client(conn: &mut DbConnection, client_id: &str) -> DirectoryResult<()> {
    let client = clients::find(conn, client_id)?
        .ok_or_else(|| DirectoryError::NotFound(format!("client {client_id}")))?;
    // Write first: SQLite cannot upgrade a read transaction while another writer is
    // active, but a transaction that starts with a write simply waits its turn.
    conn.transaction(|conn| {
        clients::delete(conn, client_id)?;
        let tenant = tenant(conn, &client.tenant_id)?;
        if tenant.default_client_id.as_deref() == Some(client_id) {
            tenants::set_default_client(conn, &tenant.id, None)?;
        }
        Ok::<_, DirectoryError>(())
    })
}

/// Well-known demo values, so the README's walk-through works verbatim.
pub const BOOTSTRAP_TENANT: &str = "localidp";
pub const DEMO_EMAIL: &str = "demo@localidp.test";
pub const DEMO_PASSWORD: &str = "demo-password";
/// B2C user flows every bootstrap tenant serves.
pub const DEMO_POLICIES: [&str; 2] = ["B2C_1_signupsignin", "B2C_1_ROPC"];
pub const DEMO_PUBLIC_CLIENT_ID: &str = "00000000-0000-4000-8000-00000000d3e0";

/// What first start created, for the banner.
#[derive(Debug)]
pub struct Bootstrap {
    pub tenant: Tenant,
    pub demo_user: Option<User>,
    pub demo_public_client: Option<Client>,
    pub demo_confidential_client: Option<(Client, String)>,
}

/// In an empty database: create the first tenant and, unless `demo` is off, the demo
/// user and clients. Returns `None` when the database already has a tenant.
pub fn bootstrap(
    conn: &mut DbConnection,
    hasher: &PasswordHasher,
    demo: bool,
    now: i64,
) -> DirectoryResult<Option<Bootstrap>> {
    if tenants::oldest(conn)?.is_some() {
        return Ok(None);
    }
    let mut tenant = ensure_tenant_with(
        conn,
        &NewTenant {
            name: BOOTSTRAP_TENANT.into(),
            display_name: Some("localidp".into()),
            policies: DEMO_POLICIES.iter().map(|p| (*p).to_owned()).collect(),
            ..Default::default()
        },
        now,
    )?;
    if !demo {
        return Ok(Some(Bootstrap {
            tenant,
            demo_user: None,
            demo_public_client: None,
            demo_confidential_client: None,
        }));
    }
    let (confidential, secret) = create_client(
        conn,
        &tenant,
        &NewClient {
            name: "demo-api".into(),
            app_roles: vec!["Tasks.Read.All".into()],
            ..Default::default()
        },
        now,
    )?;
    tenant.default_client_id = Some(confidential.client_id.clone());
    let (public, _) = create_client(
        conn,
        &tenant,
        &NewClient {
            client_id: Some(DEMO_PUBLIC_CLIENT_ID.into()),
            name: "demo-public".into(),
            public: true,
            redirect_uris: vec!["http://localhost:3000/callback".into()],
            ..Default::default()
        },
        now,
    )?;
    let user = create_user(
        conn,
        hasher,
        &tenant,
        &NewUser {
            email: DEMO_EMAIL.into(),
            password: Some(SecretString::from(DEMO_PASSWORD)),
            display_name: Some("Demo User".into()),
            given_name: Some("Demo".into()),
            family_name: Some("User".into()),
            roles: vec!["Admin".into()],
            groups: vec!["demo-users".into()],
            ..Default::default()
        },
        now,
    )?;
    Ok(Some(Bootstrap {
        tenant,
        demo_user: Some(user),
        demo_public_client: Some(public),
        demo_confidential_client: Some((confidential, secret.unwrap_or_default())),
    }))
}
