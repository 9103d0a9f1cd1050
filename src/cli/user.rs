//! `localidp user …`: add, import, list, show, set a password, disable, enable, unlock,
//! grant and revoke directory roles, delete.

use clap::Subcommand;

use super::shared::{CliError, PasswordArgs, TenantArg, fmt_time, record, with_database};
use super::user_import::{self, ImportArgs};
use crate::audit::{AuditEvent, kind};
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::tenants::Tenant;
use crate::directory::users::NewUser;
use crate::directory::{self, admin};
use crate::graph::directory as graph_dir;

#[derive(Subcommand)]
pub(super) enum UserCommand {
    /// Add a user with a password or an imported bcrypt/argon2 hash.
    Add {
        /// Email address; signs in (give it, --username, or both).
        #[arg(long, required_unless_present = "username")]
        email: Option<String>,
        /// User name that is not an email address (an Entra UPN, `admin`); signs in.
        #[arg(long)]
        username: Option<String>,
        #[command(flatten)]
        password: PasswordArgs,
        /// An existing hash to import: argon2, bcrypt, passlib, Django, PHC pbkdf2,
        /// ASP.NET Core Identity or a Keycloak credential (see the README).
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
    /// Import users from a JSON Lines or CSV file: per row {"email", "username",
    /// "password_hash" | "password" | "keycloak_credential", "name", "given_name",
    /// "family_name", "oid", "tenant", "roles", "groups", "disabled"}. Existing hashes
    /// (argon2, bcrypt, passlib, Django, PBKDF2, ASP.NET Core Identity, Keycloak) are
    /// verified as they are and upgraded to argon2id at each user's next sign-in.
    Import(ImportArgs),
    /// List users.
    List {
        #[command(flatten)]
        tenant: TenantArg,
    },
    /// Show a user: fields, roles and groups (names and object ids).
    Show {
        /// The user's email address or user name.
        email: String,
        #[command(flatten)]
        tenant: TenantArg,
    },
    /// Set a user's password.
    SetPassword {
        /// The user's email address or user name.
        #[arg(long, visible_alias = "username")]
        email: String,
        #[command(flatten)]
        password: PasswordArgs,
        /// A temporary password: the user must choose a new one at the next sign-in
        /// (Graph's forceChangePasswordNextSignIn).
        #[arg(long)]
        force_change: bool,
        #[command(flatten)]
        tenant: TenantArg,
    },
    /// Disable a user (sign-in and refresh are refused).
    Disable {
        /// The user's email address or user name.
        #[arg(long, visible_alias = "username")]
        email: String,
        #[command(flatten)]
        tenant: TenantArg,
    },
    /// Enable a disabled user.
    Enable {
        /// The user's email address or user name.
        #[arg(long, visible_alias = "username")]
        email: String,
        #[command(flatten)]
        tenant: TenantArg,
    },
    /// End a smart lockout: clears the lock, the count of wrong passwords and the
    /// growth of the next lock.
    Unlock {
        /// The user's email address or user name.
        email: String,
        #[command(flatten)]
        tenant: TenantArg,
    },
    /// Assign Entra directory roles ("Global Administrator", "User Administrator", or
    /// their template ids): the user's delegated Graph tokens write the directory, and
    /// their tokens carry the `wids` claim.
    GrantRole {
        /// The user's email address or user name.
        email: String,
        /// One or more roles.
        #[arg(required = true)]
        roles: Vec<String>,
        #[command(flatten)]
        tenant: TenantArg,
    },
    /// Withdraw Entra directory roles.
    RevokeRole {
        /// The user's email address or user name.
        email: String,
        /// One or more roles.
        #[arg(required = true)]
        roles: Vec<String>,
        #[command(flatten)]
        tenant: TenantArg,
    },
    /// Delete a user and their refresh tokens.
    Delete {
        /// The user's email address or user name.
        #[arg(long, visible_alias = "username")]
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
                username,
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
                let user = directory::users::create_user(
                    conn,
                    hasher,
                    &tenant,
                    &NewUser {
                        email,
                        username,
                        password,
                        password_hash,
                        display_name: name,
                        given_name,
                        family_name,
                        roles,
                        groups,
                        oid,
                        disabled: false,
                        force_change_password: false,
                    },
                    now,
                )?;
                println!(
                    "{}\t{}\t{}",
                    user.id,
                    user.sign_in_name(),
                    user.display_name
                );
                let event = user_event(kind::USER_CREATED, &tenant, &user.id);
                record(
                    conn,
                    settings,
                    event.detail("sign_in_name", user.sign_in_name()),
                );
            }
            UserCommand::Import(args) => {
                user_import::run(conn, hasher, settings, args, now)?;
            }
            UserCommand::List { tenant } => {
                let tenant = tenant.resolve(conn, settings)?;
                println!("oid\temail\tusername\tname\troles\tdisabled");
                for u in admin::list_users(conn, &tenant)? {
                    println!(
                        "{}\t{}\t{}\t{}\t{}\t{}",
                        u.id,
                        u.email.as_deref().unwrap_or("-"),
                        u.username.as_deref().unwrap_or("-"),
                        u.display_name,
                        u.role_list()?.join(","),
                        u.is_disabled()
                    );
                }
            }
            UserCommand::Show { email, tenant } => {
                let tenant = tenant.resolve(conn, settings)?;
                let details = admin::show_user(conn, &tenant, &email)?;
                let roles = graph_dir::role_names(conn, &details.user.id)?;
                print_user(&details, &tenant, now);
                println!("directory roles: {}", roles.join(", "));
            }
            UserCommand::SetPassword {
                email,
                password,
                force_change,
                tenant,
            } => {
                let tenant = tenant.resolve(conn, settings)?;
                let password = password.read()?.ok_or_else(|| {
                    CliError::Invalid("give --password or --password-stdin".into())
                })?;
                let user = directory::users::set_password(
                    conn,
                    hasher,
                    &tenant,
                    &email,
                    &password,
                    force_change,
                    now,
                )?;
                record(
                    conn,
                    settings,
                    user_event(kind::USER_PASSWORD_SET, &tenant, &user.id),
                );
                println!("password set for {email}");
            }
            UserCommand::Disable { email, tenant } => {
                let tenant = tenant.resolve(conn, settings)?;
                let user = admin::set_user_disabled(conn, &tenant, &email, true, now)?;
                record(
                    conn,
                    settings,
                    user_event(kind::USER_DISABLED, &tenant, &user.id),
                );
                println!("{email} disabled");
            }
            UserCommand::Enable { email, tenant } => {
                let tenant = tenant.resolve(conn, settings)?;
                let user = admin::set_user_disabled(conn, &tenant, &email, false, now)?;
                record(
                    conn,
                    settings,
                    user_event(kind::USER_ENABLED, &tenant, &user.id),
                );
                println!("{email} enabled");
            }
            UserCommand::Unlock { email, tenant } => {
                let tenant = tenant.resolve(conn, settings)?;
                let (user, before) = admin::unlock_user(conn, &tenant, &email)?;
                let event = AuditEvent::lockout(kind::ACCOUNT_UNLOCKED)
                    .tenant(&tenant.id)
                    .user(&user.id)
                    .detail("was_locked", before.is_locked(now))
                    .detail("failed_sign_ins", i64::from(before.failed_sign_ins));
                record(conn, settings, event);
                if before.is_locked(now) {
                    println!("{email} unlocked");
                } else {
                    println!(
                        "{email} was not locked; {} wrong passwords forgotten",
                        before.failed_sign_ins
                    );
                }
            }
            UserCommand::GrantRole {
                email,
                roles,
                tenant,
            } => {
                let (tenant, user) = tenant_user(conn, settings, tenant, &email)?;
                let added = graph_dir::assign_roles(conn, &user.id, &roles, now)?;
                let event = user_event(kind::USER_ROLES_ASSIGNED, &tenant, &user.id);
                record(conn, settings, event.detail("roles", added.join(", ")));
                let held = graph_dir::role_names(conn, &user.id)?;
                println!("directory roles of {email}: {}", held.join(", "));
            }
            UserCommand::RevokeRole {
                email,
                roles,
                tenant,
            } => {
                let (tenant, user) = tenant_user(conn, settings, tenant, &email)?;
                let n = graph_dir::remove_roles(conn, &user.id, &roles)?;
                let event = user_event(kind::USER_ROLES_REMOVED, &tenant, &user.id);
                record(conn, settings, event.detail("roles", roles.join(", ")));
                let held = graph_dir::role_names(conn, &user.id)?;
                println!(
                    "{n} withdrawn; directory roles of {email}: {}",
                    held.join(", ")
                );
            }
            UserCommand::Delete { email, tenant } => {
                let tenant = tenant.resolve(conn, settings)?;
                let user = admin::delete_user(conn, &tenant, &email, now)?;
                let event = user_event(kind::USER_DELETED, &tenant, &user.id);
                record(
                    conn,
                    settings,
                    event.detail("sign_in_name", user.sign_in_name()),
                );
                println!("deleted {email}");
            }
        }
        Ok(())
    })
}

/// One `field: value` line each; one line per group, `id name`.
fn print_user(details: &admin::UserDetails, tenant: &Tenant, now: i64) {
    let u = &details.user;
    let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
    println!("oid:          {}", u.id);
    println!("email:        {}", or_dash(&u.email));
    println!("username:     {}", or_dash(&u.username));
    println!("name:         {}", u.display_name);
    println!("given_name:   {}", or_dash(&u.given_name));
    println!("family_name:  {}", or_dash(&u.family_name));
    println!("tenant:       {} ({})", tenant.name, tenant.id);
    println!("disabled:     {}", u.is_disabled());
    let lockout = &details.lockout;
    match lockout.locked_until.filter(|_| lockout.is_locked(now)) {
        Some(until) => println!("locked:       until {}", fmt_time(until)),
        None => println!("locked:       false"),
    }
    println!(
        "failed:       {} wrong passwords in a row",
        lockout.failed_sign_ins
    );
    println!(
        "password:     {}",
        if u.password_hash.is_some() {
            "set"
        } else {
            "none"
        }
    );
    println!("created:      {}", fmt_time(u.created_at));
    println!("updated:      {}", fmt_time(u.updated_at));
    println!("roles:        {}", details.roles.join(","));
    if details.groups.is_empty() {
        println!("groups:");
    }
    for (i, g) in details.groups.iter().enumerate() {
        let label = if i == 0 { "groups:" } else { "" };
        println!("{label:<14}{} {}", g.id, g.name);
    }
}

/// The tenant named (or the default) and its user with this email or user name.
fn tenant_user(
    conn: &mut crate::db::DbConnection,
    settings: &Settings,
    tenant: TenantArg,
    email: &str,
) -> Result<(Tenant, crate::db::users::User), CliError> {
    let tenant = tenant.resolve(conn, settings)?;
    let user = admin::show_user(conn, &tenant, email)?.user;
    Ok((tenant, user))
}

/// An admin event about one user of the tenant.
fn user_event(kind: &'static str, tenant: &Tenant, user_id: &str) -> AuditEvent {
    AuditEvent::admin(kind).tenant(&tenant.id).user(user_id)
}
