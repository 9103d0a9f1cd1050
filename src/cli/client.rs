//! `localidp client …`: add, list, delete client applications.

use clap::Subcommand;

use super::shared::{CliError, TenantArg, with_database};
use crate::clock::Clock;
use crate::config::Settings;
use crate::directory::{self, NewClient, admin};

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
        #[command(flatten)]
        tenant: TenantArg,
    },
    /// List clients.
    List {
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
                tenant,
            } => {
                let tenant = tenant.resolve(conn, settings)?;
                let (client, secret) = directory::create_client(
                    conn,
                    &tenant,
                    &NewClient {
                        client_id,
                        name,
                        public,
                        secret: None,
                        redirect_uris,
                        grant_types: (!grants.is_empty()).then_some(grants),
                        app_roles,
                    },
                    now,
                )?;
                println!("client_id     {}", client.client_id);
                match secret {
                    Some(s) => {
                        println!("client_secret {s}   (shown once; stored only as a hash)")
                    }
                    None => println!("public client (no secret)"),
                }
            }
            ClientCommand::List { tenant } => {
                let tenant = tenant.resolve(conn, settings)?;
                println!("client_id\tname\tkind\tgrants\tapp_roles");
                for c in admin::list_clients(conn, &tenant)? {
                    println!(
                        "{}\t{}\t{}\t{}\t{}",
                        c.client_id,
                        c.name,
                        if c.is_public() {
                            "public"
                        } else {
                            "confidential"
                        },
                        c.grant_type_list()?.join(","),
                        c.app_role_list()?.join(",")
                    );
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
