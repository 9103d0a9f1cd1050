//! First start: an empty database gets its first tenant and, unless told not to, the
//! demo user and clients the README's walk-through uses.

use crate::audit::{AuditEvent, kind};
use secrecy::SecretString;

use super::users::{NewUser, create_user};
use super::{DirectoryResult, NewClient, NewTenant, create_client, ensure_tenant_with};
use crate::crypto::password::PasswordHasher;
use crate::db::DbConnection;
use crate::db::clients::Client;
use crate::db::tenants::{self, Tenant};
use crate::db::users::User;

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

impl Bootstrap {
    /// What it created, as audit events by `actor`.
    pub fn audit_events(&self, actor: &str) -> Vec<AuditEvent> {
        let event = |kind| AuditEvent::admin(kind).actor(actor).tenant(&self.tenant.id);
        let mut events =
            vec![event(kind::TENANT_CREATED).detail("name", self.tenant.name.as_str())];
        let clients = self.demo_public_client.iter();
        for c in clients.chain(self.demo_confidential_client.iter().map(|(c, _)| c)) {
            events.push(event(kind::CLIENT_CREATED).client(&c.client_id));
        }
        if let Some(user) = &self.demo_user {
            let created = event(kind::USER_CREATED).user(&user.id);
            events.push(created.detail("sign_in_name", user.sign_in_name()));
        }
        events
    }
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
    // The demo API is the audience of `/auth/login` and of forms without a client_id.
    tenants::set_default_client(conn, &tenant.id, Some(&confidential.client_id))?;
    tenant.default_client_id = Some(confidential.client_id.clone());
    let (public, _) = create_client(
        conn,
        &tenant,
        &NewClient {
            client_id: Some(DEMO_PUBLIC_CLIENT_ID.into()),
            name: "demo-public".into(),
            public: true,
            redirect_uris: super::RedirectUris::web(vec!["http://localhost:3000/callback".into()]),
            ..Default::default()
        },
        now,
    )?;
    let user = create_user(
        conn,
        hasher,
        &tenant,
        &NewUser {
            email: Some(DEMO_EMAIL.into()),
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

/// Whether the database still holds demo data a development start made: the demo
/// public client (its id is fixed) or the demo user in the bootstrap tenant.
pub fn demo_data_present(conn: &mut DbConnection) -> crate::db::DbResult<bool> {
    if crate::db::clients::find(conn, DEMO_PUBLIC_CLIENT_ID)?.is_some() {
        return Ok(true);
    }
    Ok(match tenants::find(conn, BOOTSTRAP_TENANT)? {
        Some(t) => crate::db::users::find_by_email(conn, &t.id, DEMO_EMAIL)?.is_some(),
        None => false,
    })
}
