//! `serve --seed FILE`: tenants, users, groups and clients for test fixtures, created
//! at start if missing and left alone if present, so a restart changes nothing.

use std::path::Path;

use secrecy::SecretString;
use serde::Deserialize;

use crate::audit::{self, AuditEvent, kind};
use crate::crypto::password::PasswordHasher;
use crate::db::DbConnection;
use crate::db::clients;
use crate::db::users;
use crate::directory::{
    self, DirectoryError, DirectoryResult, NewClient, RedirectUris, admin, users::NewUser,
};
use crate::oauth::claims::policy::{ClaimsConfig, ClaimsMapping, OptionalClaims};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedFile {
    #[serde(default)]
    pub tenants: Vec<SeedTenant>,
    #[serde(default)]
    pub groups: Vec<SeedGroup>,
    #[serde(default)]
    pub users: Vec<SeedUser>,
    #[serde(default)]
    pub clients: Vec<SeedClient>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedTenant {
    pub name: String,
    pub id: Option<String>,
    pub display_name: Option<String>,
    /// B2C user flows (policies) this tenant serves.
    #[serde(default)]
    pub policies: Vec<String>,
    /// B2C issuer format: "default" or "tfp".
    pub b2c_issuer: Option<String>,
    /// The login page offers self-service sign-up.
    #[serde(default)]
    pub sign_up: bool,
    /// "Forgot your password?" returns B2C's AADB2C90118 error to the application.
    #[serde(default)]
    pub forgot_password: bool,
    /// B2C's "Require ID Token in logout requests": `/logout` needs `id_token_hint`.
    #[serde(default)]
    pub logout_requires_id_token: bool,
    /// The client id of the tenant's default client: the application `/auth/login` and
    /// `/auth/token` password forms without `client_id` sign users in to. Set on every
    /// start when given; left as it is when not.
    pub default_client: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedGroup {
    pub name: String,
    pub id: Option<String>,
    pub tenant: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedUser {
    /// Email address and/or user name (at least one); either signs in.
    pub email: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub password_hash: Option<String>,
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub groups: Vec<String>,
    /// Entra directory roles: `Global Administrator`, `User Administrator`.
    #[serde(default)]
    pub directory_roles: Vec<String>,
    pub oid: Option<String>,
    #[serde(default)]
    pub disabled: bool,
    /// The password is temporary: the user chooses a new one at the first sign-in.
    #[serde(default)]
    pub force_change_password: bool,
    pub tenant: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedClient {
    pub client_id: String,
    pub name: Option<String>,
    pub secret: Option<String>,
    #[serde(default)]
    pub public: bool,
    /// Untyped redirect URIs: the "web" platform, as before platforms existed.
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Entra's platforms, as in the application manifest: `web = { redirect_uris = [...] }`,
    /// `spa = { ... }`, `public_client = { ... }` (or `publicClient`, `redirectUris`).
    pub web: Option<SeedPlatform>,
    pub spa: Option<SeedPlatform>,
    #[serde(alias = "publicClient")]
    pub public_client: Option<SeedPlatform>,
    pub grant_types: Option<Vec<String>>,
    #[serde(default)]
    pub app_roles: Vec<String>,
    /// Microsoft Graph application permissions (`User.ReadWrite.All`, ...).
    #[serde(default)]
    pub graph_permissions: Vec<String>,
    pub tenant: Option<String>,
    /// Entra's optionalClaims: `{ access_token = [...], id_token = [...] }`.
    pub optional_claims: Option<OptionalClaims>,
    /// `{ sub = "username", claims = [...], permissions = { Role = [...] } }`.
    pub claims_mapping: Option<ClaimsMapping>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedPlatform {
    #[serde(default, alias = "redirectUris")]
    pub redirect_uris: Vec<String>,
}

impl SeedClient {
    fn platform(p: &Option<SeedPlatform>) -> Vec<String> {
        p.as_ref()
            .map(|p| p.redirect_uris.clone())
            .unwrap_or_default()
    }

    fn redirect_uris(&self) -> RedirectUris {
        let mut web = self.redirect_uris.clone();
        web.extend(Self::platform(&self.web));
        RedirectUris {
            web,
            spa: Self::platform(&self.spa),
            public_client: Self::platform(&self.public_client),
        }
    }

    fn claims(&self) -> ClaimsConfig {
        ClaimsConfig {
            optional_claims: self.optional_claims.clone().unwrap_or_default(),
            claims_mapping: self.claims_mapping.clone().unwrap_or_default(),
        }
    }
}

#[derive(Debug, Default)]
pub struct SeedReport {
    pub tenants: usize,
    pub users: usize,
    pub clients: usize,
    /// What changed, for the audit log (actor `seed`).
    pub events: Vec<AuditEvent>,
}

fn seed_event(kind: &'static str, tenant_id: &str) -> AuditEvent {
    AuditEvent::admin(kind)
        .actor(audit::actor::SEED)
        .tenant(tenant_id)
}

pub fn read(path: &Path) -> DirectoryResult<SeedFile> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        DirectoryError::Invalid(format!("cannot read seed file {}: {e}", path.display()))
    })?;
    // The same fields as JSON, for test kits that build the seed from a dict or object.
    let json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let parsed = if json {
        serde_json::from_str(&text).map_err(|e| e.to_string())
    } else {
        toml::from_str(&text).map_err(|e| e.to_string())
    };
    parsed.map_err(|e| DirectoryError::Invalid(format!("seed file {}: {e}", path.display())))
}

/// Applies the seed. Tenants first (the first one becomes the default tenant of an
/// empty database), then groups, users and clients.
pub fn apply(
    conn: &mut DbConnection,
    hasher: &PasswordHasher,
    seed: &SeedFile,
    default_tenant: Option<&str>,
    now: i64,
) -> DirectoryResult<SeedReport> {
    let mut report = SeedReport::default();
    let mut default_clients = Vec::new();
    for t in &seed.tenants {
        let existed = crate::db::tenants::find(conn, &t.name)?.is_some();
        let tenant = directory::ensure_tenant_with(
            conn,
            &directory::NewTenant {
                name: t.name.clone(),
                id: t.id.clone(),
                display_name: t.display_name.clone(),
                policies: t.policies.clone(),
                b2c_issuer: t.b2c_issuer.clone(),
            },
            now,
        )?;
        report.tenants += usize::from(!existed);
        if !existed {
            let event =
                seed_event(kind::TENANT_CREATED, &tenant.id).detail("name", t.name.as_str());
            report.events.push(event);
        }
        if let Some(client_id) = &t.default_client {
            default_clients.push((tenant.clone(), client_id));
        }
        // The switches follow the seed file on every start.
        crate::db::user_flows::set(
            conn,
            &crate::db::user_flows::TenantUserFlows {
                tenant_id: tenant.id,
                sign_up: i32::from(t.sign_up),
                forgot_password: i32::from(t.forgot_password),
                logout_requires_id_token: i32::from(t.logout_requires_id_token),
            },
        )?;
    }
    // Looked up once per name: a fixture seed has thousands of users in one tenant.
    let mut known_tenants = std::collections::HashMap::new();
    let mut tenant_of = |conn: &mut DbConnection, name: &Option<String>| {
        if let Some(tenant) = known_tenants.get(name) {
            return Ok::<_, DirectoryError>(Clone::clone(tenant));
        }
        let tenant = match name {
            Some(n) => directory::tenant(conn, n)?,
            None => directory::default_tenant(conn, default_tenant)?,
        };
        known_tenants.insert(name.clone(), tenant.clone());
        Ok(tenant)
    };
    for g in &seed.groups {
        let tenant = tenant_of(conn, &g.tenant)?;
        if crate::db::groups::find_by_name(conn, &tenant.id, &g.name)?.is_none() {
            let group = directory::ensure_group(conn, &tenant, &g.name, g.id.as_deref(), now)?;
            let event = seed_event(kind::GROUP_CREATED, &tenant.id)
                .detail("group_id", group.id)
                .detail("name", group.name);
            report.events.push(event);
        }
    }
    for u in &seed.users {
        let tenant = tenant_of(conn, &u.tenant)?;
        let names = [&u.username, &u.email];
        let mut known = false;
        for name in names.into_iter().flatten() {
            known |= users::find_by_sign_in_name(conn, &tenant.id, name)?.is_some();
        }
        if known {
            continue;
        }
        let label = u.username.clone().or(u.email.clone()).unwrap_or_default();
        let new = NewUser {
            email: u.email.clone(),
            username: u.username.clone(),
            password: u.password.clone().map(SecretString::from),
            password_hash: u.password_hash.clone(),
            display_name: u.name.clone(),
            given_name: u.given_name.clone(),
            family_name: u.family_name.clone(),
            roles: u.roles.clone(),
            groups: u.groups.clone(),
            oid: u.oid.clone(),
            disabled: u.disabled,
            force_change_password: u.force_change_password,
        };
        let user = directory::users::create_user(conn, hasher, &tenant, &new, now)
            .map_err(|e| DirectoryError::Invalid(format!("seed user {label}: {e}")))?;
        report.users += 1;
        let event = seed_event(kind::USER_CREATED, &tenant.id)
            .user(&user.id)
            .detail("sign_in_name", user.sign_in_name())
            .detail("disabled", user.is_disabled());
        report.events.push(event);
        if !u.directory_roles.is_empty() {
            let added =
                crate::graph::directory::assign_roles(conn, &user.id, &u.directory_roles, now)
                    .map_err(|e| DirectoryError::Invalid(format!("seed user {label}: {e}")))?;
            let event = seed_event(kind::USER_ROLES_ASSIGNED, &tenant.id)
                .user(&user.id)
                .detail("roles", added.join(", "));
            report.events.push(event);
        }
    }
    for c in &seed.clients {
        let tenant = tenant_of(conn, &c.tenant)?;
        if let Some(existing) = clients::find(conn, &c.client_id)? {
            // Claims settings follow the seed file on every start when given.
            if c.optional_claims.is_some() || c.claims_mapping.is_some() {
                let stored = (existing.optional_claims, existing.claims_mapping);
                directory::set_client_claims(conn, &c.client_id, &c.claims()).map_err(|e| {
                    DirectoryError::Invalid(format!("seed client {}: {e}", c.client_id))
                })?;
                if stored != c.claims().to_columns() {
                    let event =
                        seed_event(kind::CLIENT_CLAIMS_SET, &tenant.id).client(&c.client_id);
                    report.events.push(event);
                }
            }
            seed_graph_permissions(conn, c, &tenant.id, now, &mut report)?;
            continue;
        }
        if !c.public && c.secret.is_none() {
            return Err(DirectoryError::Invalid(format!(
                "seed client {}: give a secret, or public = true",
                c.client_id
            )));
        }
        let new = NewClient {
            client_id: Some(c.client_id.clone()),
            name: c.name.clone().unwrap_or_else(|| c.client_id.clone()),
            public: c.public,
            secret: c.secret.clone(),
            redirect_uris: c.redirect_uris(),
            grant_types: c.grant_types.clone(),
            app_roles: c.app_roles.clone(),
            claims: c.claims(),
        };
        directory::create_client(conn, &tenant, &new, now)
            .map_err(|e| DirectoryError::Invalid(format!("seed client {}: {e}", c.client_id)))?;
        report.clients += 1;
        let event = seed_event(kind::CLIENT_CREATED, &tenant.id)
            .client(&c.client_id)
            .detail("public", c.public);
        report.events.push(event);
        seed_graph_permissions(conn, c, &tenant.id, now, &mut report)?;
    }
    // After the clients: a tenant's default client is usually one of this file's.
    for (tenant, client_id) in default_clients {
        if tenant.default_client_id.as_deref() == Some(client_id.as_str()) {
            continue;
        }
        admin::set_default_client(conn, &tenant, Some(client_id)).map_err(|e| {
            DirectoryError::Invalid(format!("seed tenant {}: default_client: {e}", tenant.name))
        })?;
        report
            .events
            .push(seed_event(kind::CLIENT_DEFAULT_SET, &tenant.id).client(client_id));
    }
    Ok(report)
}

/// Grants the client's Graph permissions that it does not hold yet (every start, so
/// a permission added to the file is granted to a client that exists).
fn seed_graph_permissions(
    conn: &mut DbConnection,
    c: &SeedClient,
    tenant_id: &str,
    now: i64,
    report: &mut SeedReport,
) -> DirectoryResult<()> {
    if c.graph_permissions.is_empty() {
        return Ok(());
    }
    let added =
        crate::graph::directory::grant_permissions(conn, &c.client_id, &c.graph_permissions, now)
            .map_err(|e| DirectoryError::Invalid(format!("seed client {}: {e}", c.client_id)))?;
    if !added.is_empty() {
        let event = seed_event(kind::CLIENT_GRAPH_GRANTED, tenant_id)
            .client(&c.client_id)
            .detail("permissions", added.join(" "));
        report.events.push(event);
    }
    Ok(())
}
