//! `localidp user …`: add, import, list, set a password, disable, enable, delete.

use std::path::PathBuf;

use clap::Subcommand;

use super::shared::{CliError, PasswordArgs, TenantArg, with_database};
use crate::clock::Clock;
use crate::config::Settings;
use crate::directory::{self, NewUser, admin};

#[derive(Subcommand)]
pub(super) enum UserCommand {
    /// Add a user with a password or an imported bcrypt/argon2 hash.
    Add {
        /// Email address, the user's sign-in name.
        #[arg(long)]
        email: String,
        #[command(flatten)]
        password: PasswordArgs,
        /// An existing bcrypt ($2a/$2b/$2y) or argon2 hash to import.
        #[arg(long, conflicts_with_all = ["password", "password_stdin"])]
        password_hash: Option<String>,
        /// Display name.
        #[arg(long)]
        name: Option<String>,
        /// Given name (the `given_name` claim).
        #[arg(long)]
        given_name: Option<String>,
        /// Family name (the `family_name` claim).
        #[arg(long)]
        family_name: Option<String>,
        /// Roles, comma separated.
        #[arg(long, value_delimiter = ',')]
        roles: Vec<String>,
        /// Group names, comma separated (created if missing).
        #[arg(long, value_delimiter = ',')]
        groups: Vec<String>,
        /// A fixed object id (GUID).
        #[arg(long)]
        oid: Option<String>,
        #[command(flatten)]
        tenant: TenantArg,
    },
    /// Import users from a JSON Lines file: one {"email", "password_hash" | "password",
    /// "name", "given_name", "family_name", "oid", "roles", "disabled"} object per line.
    /// Existing hashes (bcrypt, argon2) are kept and upgraded at each user's next sign-in.
    Import {
        /// The JSON Lines file.
        file: PathBuf,
        #[command(flatten)]
        tenant: TenantArg,
    },
    /// List users.
    List {
        #[command(flatten)]
        tenant: TenantArg,
    },
    /// Set a user's password.
    SetPassword {
        /// The user's email address.
        #[arg(long)]
        email: String,
        #[command(flatten)]
        password: PasswordArgs,
        #[command(flatten)]
        tenant: TenantArg,
    },
    /// Disable a user (sign-in and refresh are refused).
    Disable {
        /// The user's email address.
        #[arg(long)]
        email: String,
        #[command(flatten)]
        tenant: TenantArg,
    },
    /// Enable a disabled user.
    Enable {
        /// The user's email address.
        #[arg(long)]
        email: String,
        #[command(flatten)]
        tenant: TenantArg,
    },
    /// Delete a user and their refresh tokens.
    Delete {
        /// The user's email address.
        #[arg(long)]
        email: String,
        #[command(flatten)]
        tenant: TenantArg,
    },
}

pub(super) fn run(cmd: UserCommand, settings: &Settings) -> Result<(), CliError> {
    let now = Clock::system().now();
    with_database(settings, |conn, hasher| {
        match cmd {
            UserCommand::Add {
                email,
                password,
                password_hash,
                name,
                given_name,
                family_name,
                roles,
                groups,
                oid,
                tenant,
            } => {
                let tenant = tenant.resolve(conn, settings)?;
                let password = password.read()?;
                if password.is_none() && password_hash.is_none() {
                    return Err(CliError::Invalid(
                        "give --password, --password-stdin or --password-hash".into(),
                    ));
                }
                let user = directory::create_user(
                    conn,
                    hasher,
                    &tenant,
                    &NewUser {
                        email,
                        password,
                        password_hash,
                        display_name: name,
                        given_name,
                        family_name,
                        roles,
                        groups,
                        oid,
                        disabled: false,
                    },
                    now,
                )?;
                println!("{}\t{}\t{}", user.id, user.email, user.display_name);
            }
            UserCommand::Import { file, tenant } => {
                let tenant = tenant.resolve(conn, settings)?;
                let started = std::time::Instant::now();
                let n = directory::import_users(conn, hasher, &tenant, &file, now)?;
                let secs = started.elapsed().as_secs_f64();
                println!(
                    "imported {n} users in {secs:.2}s ({:.0} rows/s)",
                    n as f64 / secs.max(1e-9)
                );
            }
            UserCommand::List { tenant } => {
                let tenant = tenant.resolve(conn, settings)?;
                println!("oid\temail\tname\troles\tdisabled");
                for u in admin::list_users(conn, &tenant)? {
                    println!(
                        "{}\t{}\t{}\t{}\t{}",
                        u.id,
                        u.email,
                        u.display_name,
                        u.role_list()?.join(","),
                        u.is_disabled()
                    );
                }
            }
            UserCommand::SetPassword {
                email,
                password,
                tenant,
            } => {
                let tenant = tenant.resolve(conn, settings)?;
                let password = password.read()?.ok_or_else(|| {
                    CliError::Invalid("give --password or --password-stdin".into())
                })?;
                directory::set_password(conn, hasher, &tenant, &email, &password, now)?;
                println!("password set for {email}");
            }
            UserCommand::Disable { email, tenant } => {
                let tenant = tenant.resolve(conn, settings)?;
                admin::set_user_disabled(conn, &tenant, &email, true, now)?;
                println!("{email} disabled");
            }
            UserCommand::Enable { email, tenant } => {
                let tenant = tenant.resolve(conn, settings)?;
                admin::set_user_disabled(conn, &tenant, &email, false, now)?;
                println!("{email} enabled");
            }
            UserCommand::Delete { email, tenant } => {
                let tenant = tenant.resolve(conn, settings)?;
                admin::delete_user(conn, &tenant, &email)?;
                println!("deleted {email}");
            }
        }
        Ok(())
    })
}
