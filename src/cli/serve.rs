//! `localidp serve`: start the server and print where it listens and what its first
//! start created.

use super::shared::CliError;
use crate::config::Settings;
use crate::db::DatabaseTarget;
use crate::db::clients::Client;
use crate::directory;
use crate::oauth::authority::entra_issuer;
use crate::oauth::grant_type::GrantType;
use crate::startup::{Application, StartReport, StopSignals};

pub(super) fn run(settings: Settings) -> Result<(), CliError> {
    actix_web::rt::System::new().block_on(async move {
        // Before the start's work (migrations, seed): a SIGTERM meanwhile must not find
        // the default action, which kills; it stops the server once it runs.
        let signals = StopSignals::listen()?;
        let app = Application::build(settings.clone()).await?;
        print_banner(&app, &settings);
        Ok(app.run_until_signalled(signals).await?)
    })
}

fn print_banner(app: &Application, settings: &Settings) {
    let url = app.public_url();
    let state = app.state();
    let tenant_id = &state.directory.default_tenant_id();
    let storage = match &settings.database {
        DatabaseTarget::Postgres(_) => "PostgreSQL".to_owned(),
        DatabaseTarget::SqliteFile(p) => format!("SQLite {p}"),
        DatabaseTarget::SqliteMemory => "in memory (ephemeral)".to_owned(),
    };
    let mut keys = if settings.keys_in_database {
        "in the database".to_owned()
    } else {
        format!("{}/", settings.keys_dir.display())
    };
    if let Some(kek) = &settings.key_encryption_key {
        keys.push_str(&format!(", encrypted (key-encryption key {})", kek.id()));
    }
    let scheme = if settings.tls { "https" } else { "http" };
    println!(
        "localidp {} listening on {scheme}://{}:{} ({} workers)",
        env!("CARGO_PKG_VERSION"),
        settings.host,
        app.port(),
        settings.workers
    );
    if let Some(also) = &settings.also_listen {
        println!("  also on:   {scheme}://{also}");
    }
    if let (Some(addr), Some(port)) = (&settings.metrics_listen, app.metrics_port()) {
        // The address as given, with the port bound (it may have been 0).
        let host = addr.rsplit_once(':').map_or(addr.as_str(), |(h, _)| h);
        println!("  metrics:   http://{host}:{port}/metrics");
    }
    println!(
        "  storage:   {storage}; signing keys {keys} (kid {})",
        state.keys.ring().active().kid
    );
    println!("  issuer:    {}", entra_issuer(url, tenant_id));
    println!("  discovery: {url}/{tenant_id}/v2.0/.well-known/openid-configuration");
    println!("  endpoints: POST {url}/auth/token, POST {url}/auth/login, GET {url}/auth/verify");
    print_default_client(app.report.default_client.as_ref());
    match app.tls_ca.as_ref().map(|ca| (ca.path.as_ref(), &ca.pem)) {
        Some((Some(ca), _)) => {
            let ca = ca.display();
            println!("  TLS:       certificates from the development CA {ca}; trust it with");
            println!(
                "             export REQUESTS_CA_BUNDLE={ca} SSL_CERT_FILE={ca} NODE_EXTRA_CA_CERTS={ca}"
            );
            println!(
                "             or system-wide: cp {ca} /usr/local/share/ca-certificates/localidp.crt && update-ca-certificates"
            );
        }
        Some((None, pem)) => {
            println!(
                "  TLS:       certificates from a development CA that lives in memory until this"
            );
            println!(
                "             server stops (--ephemeral); --tls-ca-out FILE saves it. Trust this:"
            );
            print!("{pem}");
        }
        None => {}
    }
    print_start_report(&app.report);
}

/// The client that password forms without `client_id` sign in to, or how to name one.
fn print_default_client(client: Option<&Client>) {
    let set = "set one with `localidp client set-default CLIENT_ID` or default_client in the seed";
    match client {
        Some(c) if c.allows(GrantType::Password) => println!(
            "  default client: {} ({}), for /auth/login and /auth/token forms without client_id",
            c.client_id, c.name
        ),
        Some(c) => println!(
            "  default client: {} ({}) is not allowed the password grant, so forms without client_id are refused; {set}",
            c.client_id, c.name
        ),
        None => println!("  default client: none, so forms without client_id are refused; {set}"),
    }
}

fn print_start_report(report: &StartReport) {
    if let Some(b) = &report.bootstrap {
        println!("Created tenant {} ({}).", b.tenant.name, b.tenant.id);
        if let Some(user) = &b.demo_user {
            println!(
                "  demo user:           {} / {}   (oid {})",
                user.sign_in_name(),
                directory::bootstrap::DEMO_PASSWORD,
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
