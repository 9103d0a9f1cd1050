//! `localidp group …`: list a tenant's groups with their object ids (the values of the
//! `groups` claim).

use clap::Subcommand;

use super::shared::{CliError, TenantArg, with_database};
use crate::config::Settings;
use crate::directory::admin;

#[derive(Subcommand)]
pub(super) enum GroupCommand {
    /// List groups: object id (as in the `groups` claim) and name.
    List {
        #[command(flatten)]
        tenant: TenantArg,
    },
}

pub(super) fn run(cmd: GroupCommand, settings: &Settings) -> Result<(), CliError> {
    with_database(settings, |conn, _| {
        match cmd {
            GroupCommand::List { tenant } => {
                let tenant = tenant.resolve(conn, settings)?;
                println!("id\tname");
                for g in admin::list_groups(conn, &tenant)? {
                    println!("{}\t{}", g.id, g.name);
                }
            }
        }
        Ok(())
    })
}
