//! The `localidp` command line: `serve` (the default) and the admin commands, one file per
//! command group. The server's flags belong to `serve`; the storage flags
//! ([`StorageArgs`]) to every command.

mod api_key;
mod audit;
mod client;
mod group;
mod keys;
mod serve;
mod shared;
mod token;
mod transfer;
mod user;
mod user_import;

use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::parser::ValueSource;
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::{ConfigArgs, ConfigError, LogFormat, Settings, StorageArgs};

#[derive(Parser)]
#[command(
    name = "localidp",
    version,
    about = "A local identity provider that answers like Azure AD B2C / Entra ID"
)]
pub struct Cli {
    /// The server's flags when no subcommand is given (`localidp --port 0`); before a
    /// subcommand only LOCALIDP_* variables may set them.
    #[command(flatten)]
    server: ConfigArgs,
    #[command(flatten)]
    storage: StorageArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Start the server (the default).
    Serve(Box<ConfigArgs>),
    /// Manage users.
    #[command(subcommand)]
    User(user::UserCommand),
    /// List groups.
    #[command(subcommand)]
    Group(group::GroupCommand),
    /// Manage client applications.
    #[command(subcommand)]
    Client(client::ClientCommand),
    /// Manage signing keys.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Manage API keys of users and clients (`x-api-key`).
    #[command(subcommand)]
    ApiKey(api_key::ApiKeyCommand),
    /// List the audit log: sign-ins, tokens, revocations, admin changes, key rotations.
    Audit(audit::AuditArgs),
    /// Mint tokens for tests.
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// Write the whole directory (tenants, users with their hashes, groups, clients,
    /// keys as stored, ...) to a JSON Lines file.
    Export(transfer::ExportArgs),
    /// Read an export file into the configured database (re-runs change nothing).
    Import(transfer::ImportArgs),
    /// Copy the whole directory from one database to another (an export streamed into an
    /// import) and check the counts.
    Migrate(transfer::MigrateArgs),
}

/// Runs the command line; exits 2 when the settings are invalid, 1 when the command fails.
pub fn main() -> ExitCode {
    let cli = Cli::parse_checked();
    let settings = match cli.settings() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    init_tracing(settings.log_format);
    let result = match cli.command {
        None | Some(Command::Serve(_)) => serve::run(settings),
        Some(Command::User(cmd)) => user::run(cmd, &settings),
        Some(Command::Group(cmd)) => group::run(cmd, &settings),
        Some(Command::Client(cmd)) => client::run(cmd, &settings),
        Some(Command::Keys(cmd)) => keys::run(cmd, &settings),
        Some(Command::ApiKey(cmd)) => api_key::run(cmd, &settings),
        Some(Command::Audit(args)) => audit::run(args, &settings),
        Some(Command::Token(cmd)) => token::run(cmd, &settings),
        Some(Command::Export(args)) => transfer::export(args, &settings),
        Some(Command::Import(args)) => transfer::import(args, &settings),
        Some(Command::Migrate(args)) => transfer::migrate(args, &settings),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

impl Cli {
    /// Parses the command line, exiting with clap's message on an error; a server flag
    /// before a subcommand (`localidp --port 0 user list`) is one.
    fn parse_checked() -> Cli {
        let matches = Cli::command().get_matches();
        let cli = Cli::from_arg_matches(&matches)
            .unwrap_or_else(|e| e.format(&mut Cli::command()).exit());
        if let Some(command) = matches.subcommand_name() {
            let server = ConfigArgs::augment_args(clap::Command::new("serve"));
            for flag in server.get_arguments() {
                if matches.value_source(flag.get_id().as_str()) == Some(ValueSource::CommandLine) {
                    let long = flag.get_long().unwrap_or_default();
                    let message = if command == "serve" {
                        format!("--{long} goes after serve")
                    } else {
                        format!("--{long} is a flag of serve, not of {command}")
                    };
                    Cli::command()
                        .error(ErrorKind::ArgumentConflict, message)
                        .exit();
                }
            }
        }
        cli
    }

    /// The config file, under the server's flags (`serve`'s own, else those given
    /// without a subcommand), under the storage flags.
    fn settings(&self) -> Result<Settings, ConfigError> {
        let flags = match &self.command {
            Some(Command::Serve(flags)) => flags.as_ref(),
            _ => &self.server,
        };
        let file = match &self.storage.config {
            Some(path) => Settings::load_file(path)?,
            None => ConfigArgs::default(),
        };
        Settings::from_args(self.storage.clone().with(flags.clone()).over(file))
    }
}

/// `LOCALIDP_LOG`, else `RUST_LOG`, else `info`: the start, warnings and one line per
/// request (`localidp::request=off` drops those); malformed requests only at debug.
/// In JSON, one object per line per event, its fields at the top level.
fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("LOCALIDP_LOG")
        .or_else(|_| tracing_subscriber::EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder
            .finish()
            .with(crate::logging::QuietClientErrors)
            .try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .finish()
            .with(crate::logging::QuietClientErrors)
            .try_init(),
    };
}
