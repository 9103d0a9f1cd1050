//! The `localidp` command: parse arguments, call into the library.
#![forbid(unsafe_code)]

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use localidp::config::{ConfigArgs, Settings};
use localidp::crypto::password::PasswordHasher;
use localidp::db::{self, DbConnection};
use localidp::directory::{self, DirectoryError, NewClient, NewUser};
use localidp::startup::{Application, StartReport};
use secrecy::SecretString;

#[derive(Parser)]
#[command(
    name = "localidp",
    version,
    about = "A local identity provider that answers like Azure AD B2C / Entra ID"
)]
struct Cli {
    /// TOML file with any of the settings below (flags and LOCALIDP_* variables win).
    #[arg(long, short, env = "LOCALIDP_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(flatten)]
    settings: ConfigArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Start the server (the default).
    Serve,
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage client applications.
    #[command(subcommand)]
    Client(ClientCommand),
    /// Manage signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
}

#[derive(clap::Args)]
struct TenantArg {
    /// Tenant GUID or name (default: the default tenant).
    #[arg(long)]
    tenant: Option<String>,
}

#[derive(clap::Args)]
struct PasswordArgs {
    /// The password (visible to other local users in the process list; see --password-stdin).
    #[arg(long, env = "LOCALIDP_USER_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// Read the password from standard input.
    #[arg(long, conflicts_with = "password")]
    password_stdin: bool,
}

impl PasswordArgs {
    fn read(&self) -> Result<Option<SecretString>, String> {
        if self.password_stdin {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| format!("cannot read the password from stdin: {e}"))?;
            return Ok(Some(SecretString::from(
                s.trim_end_matches(['\r', '\n']).to_owned(),
            )));
        }
        Ok(self.password.clone().map(SecretString::from))
    }
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user with a password or an imported bcrypt/argon2 hash.
    Add {
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
        #[arg(long)]
        given_name: Option<String>,
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
        #[arg(long)]
        email: String,
        #[command(flatten)]
        password: PasswordArgs,
        #[command(flatten)]
        tenant: TenantArg,
    },
    /// Disable a user (sign-in and refresh are refused).
    Disable {
        #[arg(long)]
        email: String,
        #[command(flatten)]
        tenant: TenantArg,
    },
    /// Enable a disabled user.
    Enable {
        #[arg(long)]
        email: String,
        #[command(flatten)]
        tenant: TenantArg,
    },
    /// Delete a user and their refresh tokens.
    Delete {
        #[arg(long)]
        email: String,
        #[command(flatten)]
        tenant: TenantArg,
    },
}

#[derive(Subcommand)]
enum ClientCommand {
    /// Register a client; a confidential client's secret is printed once.
    Add {
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
    Delete { client_id: String },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// List signing keys.
    List,
    /// Create a new active signing key; the previous one keeps verifying until the
    /// tokens it signed have expired.
    Rotate,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let settings = match load_settings(&cli) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings),
        Command::User(cmd) => admin(&settings, |conn, hasher| {
            user_command(conn, hasher, &settings, cmd)
        }),
        Command::Client(cmd) => admin(&settings, |conn, _| client_command(conn, &settings, cmd)),
        Command::Keys(cmd) => admin(&settings, |conn, _| keys_command(conn, &settings, cmd)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("LOCALIDP_LOG")
        .or_else(|_| tracing_subscriber::EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| {
            tracing_subscriber::EnvFilter::new("info,actix_web::middleware::logger=warn")
        });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

fn load_settings(cli: &Cli) -> Result<Settings, String> {
    let file = match &cli.config {
        Some(path) => Settings::load_file(path).map_err(|e| e.to_string())?,
        None => ConfigArgs::default(),
    };
    Settings::from_args(cli.settings.clone().over(file)).map_err(|e| e.to_string())
}

fn serve(settings: Settings) -> Result<(), String> {
    let workers = settings.workers;
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(settings.clone())
            .await
            .map_err(|e| e.to_string())?;
        print_banner(&app, &settings, workers);
        app.run_until_stopped().await.map_err(|e| e.to_string())
    })
}

fn print_banner(app: &Application, settings: &Settings, workers: usize) {
    let url = app.public_url();
    let state = app.state();
    let tenant_id = &state.directory.default_tenant_id();
    let storage = match &settings.database {
        db::DatabaseTarget::Postgres(_) => "PostgreSQL".to_owned(),
        db::DatabaseTarget::SqliteFile(p) => format!("SQLite {p}"),
        db::DatabaseTarget::SqliteMemory => "in memory (ephemeral)".to_owned(),
    };
    let keys = if settings.keys_in_database {
        "in the database".to_owned()
    } else {
        format!("{}/", settings.keys_dir.display())
    };
    let scheme = if settings.tls { "https" } else { "http" };
    println!(
        "localidp {} listening on {scheme}://{}:{} ({} workers)",
        env!("CARGO_PKG_VERSION"),
        settings.host,
        app.port(),
        workers
    );
    if let Some(also) = &settings.also_listen {
        println!("  also on:   {scheme}://{also}");
    }
    println!(
        "  storage:   {storage}; signing keys {keys} (kid {})",
        state.keys.ring().active().kid
    );
    println!(
        "  issuer:    {}",
        localidp::oauth::authority::entra_issuer(url, tenant_id)
    );
    println!("  discovery: {url}/{tenant_id}/v2.0/.well-known/openid-configuration");
    println!("  endpoints: POST {url}/auth/token, POST {url}/auth/login, GET {url}/auth/verify");
    if let Some(ca) = &app.tls_ca {
        let ca = ca.display();
        println!("  TLS:       certificates from the development CA {ca}; trust it with");
        println!(
            "             export REQUESTS_CA_BUNDLE={ca} SSL_CERT_FILE={ca} NODE_EXTRA_CA_CERTS={ca}"
        );
        println!(
            "             or system-wide: cp {ca} /usr/local/share/ca-certificates/localidp.crt && update-ca-certificates"
        );
    }
    print_start_report(&app.report);
}

fn print_start_report(report: &StartReport) {
    if let Some(b) = &report.bootstrap {
        println!("Created tenant {} ({}).", b.tenant.name, b.tenant.id);
        if let Some(user) = &b.demo_user {
            println!(
                "  demo user:           {} / {}   (oid {})",
                user.email,
                directory::DEMO_PASSWORD,
                user.id
            );
        }
        if let Some(c) = &b.demo_public_client {
            println!("  demo public client:  {}", c.client_id);
        }
        if let Some((c, secret)) = &b.demo_confidential_client {
            println!(
                "  demo API client:     {} secret {}   (shown once)",
                c.client_id, secret
            );
        }
    }
    if let Some(s) = &report.seeded {
        println!(
            "Seed applied: {} tenants, {} users, {} clients created.",
            s.tenants, s.users, s.clients
        );
    }
}

/// Runs an administrative command against the configured database.
fn admin(
    settings: &Settings,
    f: impl FnOnce(&mut DbConnection, &PasswordHasher) -> Result<(), DirectoryError>,
) -> Result<(), String> {
    if settings.ephemeral {
        return Err("--ephemeral applies to serve only".into());
    }
    let hasher = settings.password_hasher().map_err(|e| e.to_string())?;
    let pool = db::connect(&settings.database, 1).map_err(|e| e.to_string())?;
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    // An empty database gets its first tenant (without the demo data).
    directory::bootstrap(&mut conn, &hasher, false).map_err(|e| e.to_string())?;
    f(&mut conn, &hasher).map_err(|e| e.to_string())
}

fn tenant_of(
    conn: &mut DbConnection,
    settings: &Settings,
    t: &TenantArg,
) -> Result<db::tenants::Tenant, DirectoryError> {
    match &t.tenant {
        Some(t) => directory::tenant(conn, t),
        None => directory::default_tenant(conn, settings.default_tenant.as_deref()),
    }
}

fn user_command(
    conn: &mut DbConnection,
    hasher: &PasswordHasher,
    settings: &Settings,
    cmd: UserCommand,
) -> Result<(), DirectoryError> {
    let password_of = |p: &PasswordArgs| p.read().map_err(DirectoryError::Invalid);
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
            let tenant = tenant_of(conn, settings, &tenant)?;
            let password = password_of(&password)?;
            if password.is_none() && password_hash.is_none() {
                return Err(DirectoryError::Invalid(
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
            )?;
            println!("{}\t{}\t{}", user.id, user.email, user.display_name);
        }
        UserCommand::Import { file, tenant } => {
            let tenant = tenant_of(conn, settings, &tenant)?;
            let started = std::time::Instant::now();
            let n = directory::import_users(conn, hasher, &tenant, &file)?;
            let secs = started.elapsed().as_secs_f64();
            println!(
                "imported {n} users in {secs:.2}s ({:.0} rows/s)",
                n as f64 / secs.max(1e-9)
            );
        }
        UserCommand::List { tenant } => {
            let tenant = tenant_of(conn, settings, &tenant)?;
            println!("oid\temail\tname\troles\tdisabled");
            for u in db::users::list(conn, &tenant.id)? {
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
            let tenant = tenant_of(conn, settings, &tenant)?;
            let password = password_of(&password)?.ok_or_else(|| {
                DirectoryError::Invalid("give --password or --password-stdin".into())
            })?;
            directory::set_password(conn, hasher, &tenant, &email, &password)?;
            println!("password set for {email}");
        }
        UserCommand::Disable { email, tenant } => {
            set_disabled(conn, settings, &tenant, &email, true)?
        }
        UserCommand::Enable { email, tenant } => {
            set_disabled(conn, settings, &tenant, &email, false)?
        }
        UserCommand::Delete { email, tenant } => {
            let tenant = tenant_of(conn, settings, &tenant)?;
            let user = directory::user_by_email(conn, &tenant, &email)?;
            db::users::delete(conn, &user.id)?;
            println!("deleted {email}");
        }
    }
    Ok(())
}

fn set_disabled(
    conn: &mut DbConnection,
    settings: &Settings,
    tenant: &TenantArg,
    email: &str,
    disabled: bool,
) -> Result<(), DirectoryError> {
    let tenant = tenant_of(conn, settings, tenant)?;
    let user = directory::user_by_email(conn, &tenant, email)?;
    db::users::set_disabled(conn, &user.id, disabled)?;
    println!("{email} {}", if disabled { "disabled" } else { "enabled" });
    Ok(())
}

fn client_command(
    conn: &mut DbConnection,
    settings: &Settings,
    cmd: ClientCommand,
) -> Result<(), DirectoryError> {
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
            let tenant = tenant_of(conn, settings, &tenant)?;
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
            )?;
            println!("client_id     {}", client.client_id);
            match secret {
                Some(s) => println!("client_secret {s}   (shown once; stored only as a hash)"),
                None => println!("public client (no secret)"),
            }
        }
        ClientCommand::List { tenant } => {
            let tenant = tenant_of(conn, settings, &tenant)?;
            println!("client_id\tname\tkind\tgrants\tapp_roles");
            for c in db::clients::list(conn, &tenant.id)? {
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
}

fn keys_command(
    conn: &mut DbConnection,
    settings: &Settings,
    cmd: KeysCommand,
) -> Result<(), DirectoryError> {
    let store = settings.key_store();
    match cmd {
        KeysCommand::List => {
            let retention = localidp::state::key_retention(settings);
            let now = db::now();
            println!("kid\tcreated\tstatus");
            for row in db::signing_keys::all(conn)? {
                let status = match row.retired_at {
                    None => "active".to_owned(),
                    Some(t) if t + retention > now => {
                        format!("previous (published until {})", fmt_time(t + retention))
                    }
                    Some(_) => "expired".to_owned(),
                };
                println!("{}\t{}\t{}", row.kid, fmt_time(row.created_at), status);
            }
        }
        KeysCommand::Rotate => {
            let kid = store
                .create_active(conn, db::now())
                .map_err(|e| DirectoryError::Invalid(e.to_string()))?;
            println!("new active key {kid}; running servers pick it up within a minute");
        }
    }
    Ok(())
}

fn fmt_time(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| unix.to_string())
}
