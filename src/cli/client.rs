//! `localidp client …`: add, list, delete client applications; name the tenant's
//! default client.

use clap::Subcommand;
use diesel::Connection;

use super::shared::{CliError, TenantArg, with_database};
use crate::clock::Clock;
use crate::config::Settings;
use crate::directory::{self, DirectoryError, NewClient, admin};

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
        /// Allowed redirect URI (repeatable).
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
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
                    redirect_uris,
                    grant_types: (!grants.is_empty()).then_some(grants),
                    app_roles,
                    claims: Default::default(),
                };
                // A client that cannot be the default is not created either.
                let (client, secret) = conn.transaction(|conn| {
                    let created = directory::create_client(conn, &tenant, &new, now)?;
                    if default {
                        admin::set_default_client(conn, &tenant, Some(&created.0.client_id))?;
                    }
                    Ok::<_, DirectoryError>(created)
                })?;
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
                match client_id {
                    Some(id) => println!("default client of tenant {}: {id}", tenant.name),
                    None => println!("tenant {} has no default client", tenant.name),
                }
            }
            ClientCommand::Delete { client_id } => {
                directory::delete_client(conn, &client_id)?;
                println!("deleted {client_id}");
            }
        }
        Ok(())
    })
}
