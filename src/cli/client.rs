//! `localidp client …`: add, list, delete client applications; name the tenant's
//! default client; set an application's optional claims and claims mapping.

use clap::Subcommand;

use super::shared::{CliError, TenantArg, record, with_database};
use crate::audit::{AuditEvent, kind};
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::DbConnection;
use crate::directory::{self, DirectoryError, NewClient, RedirectUris, admin};
use crate::graph::directory as graph_dir;
use crate::oauth::claims::policy::ClaimsConfig;

#[derive(Subcommand)]
pub(super) enum ClientCommand {
    /// Register a client; a confidential client's secret is printed once.
    Add {
        /// Display name of the application.
        #[arg(long)]
        name: String,
        /// A public client (no secret: SPAs, mobile and CLI apps).
        #[arg(long)]
        public: bool,
        /// A fixed client id (default: a new GUID).
        #[arg(long)]
        client_id: Option<String>,
        /// Redirect URI of the "web" platform (repeatable; also `--web-redirect-uri`).
        #[arg(long = "redirect-uri", alias = "web-redirect-uri")]
        redirect_uris: Vec<String>,
        /// Redirect URI of the "spa" platform (repeatable): its origin may redeem
        /// codes from the browser (CORS); refresh tokens last 24 hours.
        #[arg(long = "spa-redirect-uri")]
        spa_redirect_uris: Vec<String>,
        /// Redirect URI of the "publicClient" (mobile and desktop) platform (repeatable).
        #[arg(long = "public-client-redirect-uri")]
        public_client_redirect_uris: Vec<String>,
        /// Allowed grant type (repeatable; default: all that fit the client kind).
        #[arg(long = "grant")]
        grants: Vec<String>,
        /// App role the client holds in its client-credentials tokens (repeatable).
        #[arg(long = "app-role")]
        app_roles: Vec<String>,
        /// Make it the tenant's default client (see `client set-default`).
        #[arg(long)]
        default: bool,
        #[command(flatten)]
        tenant: TenantArg,
    },
    /// List clients; the tenant's default client is marked `default`.
    List {
        #[command(flatten)]
        tenant: TenantArg,
    },
    /// Name the tenant's default client: the application /auth/login and /auth/token
    /// password forms without client_id sign users in to (it must allow the password
    /// grant).
    SetDefault {
        /// The client id.
        #[arg(required_unless_present = "none")]
        client_id: Option<String>,
        /// Clear it: forms without client_id are then refused.
        #[arg(long, conflicts_with = "client_id")]
        none: bool,
        #[command(flatten)]
        tenant: TenantArg,
    },
    /// Set the application's optional claims and claims mapping from a TOML or JSON
    /// file (`optional_claims = {...}`, `claims_mapping = {...}`, as in the seed file);
    /// an empty file restores the default tokens.
    SetClaims {
        /// The client id.
        client_id: String,
        /// The file: `.json` is read as JSON (Entra's `optionalClaims` key is
        /// accepted), anything else as TOML.
        #[arg(long)]
        file: std::path::PathBuf,
    },
    /// Print the application's optional claims and claims mapping as JSON.
    ShowClaims {
        /// The client id.
        client_id: String,
    },
    /// Grant Microsoft Graph application permissions (User.Read.All,
    /// User.ReadWrite.All, Group.Read.All, Group.ReadWrite.All, GroupMember.Read.All,
    /// GroupMember.ReadWrite.All, Directory.Read.All, Application.Read.All,
    /// Application.ReadWrite.All, RoleManagement.Read.Directory,
    /// AppRoleAssignment.ReadWrite.All, AuditLog.Read.All): the roles of the client's
    /// app-only tokens for Graph.
    GrantGraph {
        /// The client id (a confidential client).
        client_id: String,
        /// One or more permissions.
        #[arg(required = true)]
        permissions: Vec<String>,
    },
    /// Withdraw Microsoft Graph application permissions.
    RevokeGraph {
        /// The client id.
        client_id: String,
        /// One or more permissions.
        #[arg(required = true)]
        permissions: Vec<String>,
    },
    /// Delete a client.
    Delete {
        /// The client id to delete.
        client_id: String,
    },
}

pub(super) fn run(cmd: ClientCommand, settings: &Settings) -> Result<(), CliError> {
    let now = Clock::system().now();
    with_database(settings, |conn, _| {
        match cmd {
            ClientCommand::Add {
                name,
                public,
                client_id,
                redirect_uris,
                spa_redirect_uris,
                public_client_redirect_uris,
                grants,
                app_roles,
                default,
                tenant,
            } => {
                let tenant = tenant.resolve(conn, settings)?;
                let new = NewClient {
                    client_id,
                    name,
                    public,
                    secret: None,
                    redirect_uris: RedirectUris {
                        web: redirect_uris,
                        spa: spa_redirect_uris,
                        public_client: public_client_redirect_uris,
                    },
                    grant_types: (!grants.is_empty()).then_some(grants),
                    app_roles,
                    claims: Default::default(),
                };
                // A client that cannot be the default is not created either.
                let (client, secret) = crate::db::write_tx(conn, |conn| {
                    let created = directory::create_client(conn, &tenant, &new, now)?;
                    if default {
                        admin::set_default_client(conn, &tenant, Some(&created.0.client_id))?;
                    }
                    Ok::<_, DirectoryError>(created)
                })?;
                let event = AuditEvent::admin(kind::CLIENT_CREATED)
                    .tenant(&tenant.id)
                    .client(&client.client_id)
                    .detail("public", client.is_public());
                record(conn, settings, event);
                if default {
                    let event = AuditEvent::admin(kind::CLIENT_DEFAULT_SET).tenant(&tenant.id);
                    record(conn, settings, event.client(&client.client_id));
                }
                println!("client_id     {}", client.client_id);
                match secret {
                    Some(s) => {
                        println!("client_secret {s}   (shown once; stored only as a hash)")
                    }
                    None => println!("public client (no secret)"),
                }
                if default {
                    println!("the default client of tenant {}", tenant.name);
                }
            }
            ClientCommand::List { tenant } => {
                let tenant = tenant.resolve(conn, settings)?;
                println!("client_id\tname\tkind\tgrants\tapp_roles\tdefault");
                for c in admin::list_clients(conn, &tenant)? {
                    let is_default = tenant.default_client_id.as_deref() == Some(&c.client_id);
                    println!(
                        "{}\t{}\t{}\t{}\t{}\t{}",
                        c.client_id,
                        c.name,
                        if c.is_public() {
                            "public"
                        } else {
                            "confidential"
                        },
                        c.grant_type_list()?.join(","),
                        c.app_role_list()?.join(","),
                        if is_default { "default" } else { "" }
                    );
                }
            }
            ClientCommand::SetDefault {
                client_id,
                none: _,
                tenant,
            } => {
                let tenant = tenant.resolve(conn, settings)?;
                admin::set_default_client(conn, &tenant, client_id.as_deref())?;
                let mut event = AuditEvent::admin(kind::CLIENT_DEFAULT_SET).tenant(&tenant.id);
                if let Some(id) = &client_id {
                    event = event.client(id);
                }
                record(conn, settings, event);
                match client_id {
                    Some(id) => println!("default client of tenant {}: {id}", tenant.name),
                    None => println!("tenant {} has no default client", tenant.name),
                }
            }
            ClientCommand::SetClaims { client_id, file } => {
                let claims = read_claims_file(&file)?;
                directory::set_client_claims(conn, &client_id, &claims)?;
                let event = client_event(conn, kind::CLIENT_CLAIMS_SET, &client_id);
                record(conn, settings, event);
                println!("claims of client {client_id} set from {}", file.display());
                print_claims(&claims);
            }
            ClientCommand::ShowClaims { client_id } => {
                let client = crate::db::clients::find(conn, &client_id)?
                    .ok_or_else(|| DirectoryError::NotFound(format!("client {client_id}")))?;
                print_claims(&ClaimsConfig {
                    optional_claims: client.optional_claims()?,
                    claims_mapping: client.claims_mapping()?,
                });
            }
            ClientCommand::GrantGraph {
                client_id,
                permissions,
            } => {
                let added = graph_dir::grant_permissions(conn, &client_id, &permissions, now)?;
                let event = client_event(conn, kind::CLIENT_GRAPH_GRANTED, &client_id)
                    .detail("permissions", added.join(" "));
                record(conn, settings, event);
                let held = crate::db::graph_permissions::list(conn, &client_id)?;
                println!("Graph permissions of {client_id}: {}", held.join(" "));
            }
            ClientCommand::RevokeGraph {
                client_id,
                permissions,
            } => {
                let n = graph_dir::revoke_permissions(conn, &client_id, &permissions)?;
                let event = client_event(conn, kind::CLIENT_GRAPH_REVOKED, &client_id)
                    .detail("permissions", permissions.join(" "));
                record(conn, settings, event);
                let held = crate::db::graph_permissions::list(conn, &client_id)?;
                println!(
                    "{n} withdrawn; Graph permissions of {client_id}: {}",
                    held.join(" ")
                );
            }
            ClientCommand::Delete { client_id } => {
                let event = client_event(conn, kind::CLIENT_DELETED, &client_id);
                directory::delete_client(conn, &client_id, now)?;
                record(conn, settings, event);
                println!("deleted {client_id}");
            }
        }
        Ok(())
    })
}

fn read_claims_file(path: &std::path::Path) -> Result<ClaimsConfig, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::Invalid(format!("cannot read {}: {e}", path.display())))?;
    let parsed = if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    {
        serde_json::from_str(&text).map_err(|e| e.to_string())
    } else {
        toml::from_str(&text).map_err(|e| e.to_string())
    };
    parsed.map_err(|e| CliError::Invalid(format!("{}: {e}", path.display())))
}

fn print_claims(claims: &ClaimsConfig) {
    let json = serde_json::to_string_pretty(claims).expect("claims configuration serialises");
    println!("{json}");
}

/// An admin event about a client, in its tenant when it exists.
fn client_event(conn: &mut DbConnection, kind: &'static str, client_id: &str) -> AuditEvent {
    let event = AuditEvent::admin(kind).client(client_id);
    match crate::db::clients::find(conn, client_id) {
        Ok(Some(client)) => event.tenant(&client.tenant_id),
        _ => event,
    }
}
