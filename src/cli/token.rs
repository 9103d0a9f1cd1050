//! `localidp token mint`: a token for tests, as `POST /_dev/token` mints it, from the
//! configured database and signing keys (see [`crate::oauth::mint`]).

use clap::Subcommand;
use serde_json::{Map, Value};

use super::shared::CliError;
use crate::clock::Clock;
use crate::config::Settings;
use crate::crypto::keys::KeyError;
use crate::db::{self, DbError};
use crate::directory;
use crate::oauth::mint::{self, MintRequest};
use crate::oauth::status::{StatusConfig, TokenStatus};
use crate::state::{AppState, StateParts, key_retention};

#[derive(Subcommand)]
pub(super) enum TokenCommand {
    /// Mint an access and/or ID token for a user (or, without one, for the client), as
    /// the password grant would issue it, or in a hostile variant for negative tests.
    Mint(Box<MintArgs>),
}

#[derive(clap::Args)]
pub(super) struct MintArgs {
    /// The user, by email address or user name.
    #[arg(long, conflicts_with = "oid")]
    user: Option<String>,
    /// The user, by object id.
    #[arg(long)]
    oid: Option<String>,
    /// Tenant GUID or name (default: the default tenant).
    #[arg(long)]
    tenant: Option<String>,
    /// Client id (default: the tenant's default client).
    #[arg(long)]
    client: Option<String>,
    /// entra (default), b2c or short.
    #[arg(long)]
    flavour: Option<String>,
    /// B2C user flow (default: the tenant's first).
    #[arg(long)]
    policy: Option<String>,
    #[arg(long)]
    scope: Option<String>,
    /// access, id or both (default: both for a user, access without one).
    #[arg(long)]
    kind: Option<String>,
    /// valid, expired, not_yet_valid, wrong_audience, wrong_issuer, foreign_key, alg_none.
    #[arg(long)]
    variant: Option<String>,
    /// Seconds from now to exp.
    #[arg(long, allow_hyphen_values = true)]
    lifetime: Option<i64>,
    /// Seconds from now to nbf (negative: in the past).
    #[arg(long, allow_hyphen_values = true)]
    nbf_offset: Option<i64>,
    /// The access token's aud.
    #[arg(long)]
    audience: Option<String>,
    /// The iss of every token.
    #[arg(long)]
    issuer: Option<String>,
    /// A claim to set, NAME=VALUE; VALUE is read as JSON when it is JSON (42, true,
    /// ["a","b"]), else as a string. Repeatable.
    #[arg(long = "claim", value_name = "NAME=VALUE")]
    claims: Vec<String>,
    /// Print the ID token rather than the access token.
    #[arg(long)]
    id_token: bool,
    /// Print the whole answer as JSON, as POST /_dev/token gives it.
    #[arg(long)]
    json: bool,
    /// The server's public URL, which issuers are built from (default: public_url,
    /// else http://localhost:{port}).
    #[arg(long)]
    public_url: Option<String>,
}

impl MintArgs {
    fn request(&self) -> Result<MintRequest, CliError> {
        let mut claims = Map::new();
        for c in &self.claims {
            let (name, value) = c
                .split_once('=')
                .filter(|(n, _)| !n.is_empty())
                .ok_or_else(|| CliError::Invalid(format!("--claim {c:?} is not NAME=VALUE")))?;
            let value = serde_json::from_str(value).unwrap_or_else(|_| Value::from(value));
            claims.insert(name.to_owned(), value);
        }
        let kind = match (&self.kind, self.id_token) {
            (None, true) => Some("both".to_owned()),
            (k, _) => k.clone(),
        };
        Ok(MintRequest {
            user: self.user.clone(),
            oid: self.oid.clone(),
            tenant: self.tenant.clone(),
            client_id: self.client.clone(),
            flavour: self.flavour.clone(),
            policy: self.policy.clone(),
            scope: self.scope.clone(),
            kind,
            lifetime: self.lifetime,
            nbf_offset: self.nbf_offset,
            claims,
            audience: self.audience.clone(),
            issuer: self.issuer.clone(),
            variant: self.variant.clone(),
        })
    }
}

pub(super) fn run(cmd: TokenCommand, settings: &Settings) -> Result<(), CliError> {
    let TokenCommand::Mint(args) = cmd;
    if settings.ephemeral {
        return Err(CliError::Invalid(
            "an ephemeral server's database is its own: use its POST /_dev/token".into(),
        ));
    }
    let request = args.request()?;
    crate::startup::install_crypto_provider();
    let clock = Clock::system();
    let now = clock.now();
    let pool = db::connect(&settings.database, 2)?;
    let (ring, status, default_tenant_id) = {
        let mut conn = pool.get().map_err(DbError::from)?;
        let ring = match settings
            .key_store()
            .load_ring(&mut conn, now, key_retention(settings))
        {
            Err(KeyError::NoActiveKey) => {
                return Err(CliError::Invalid(
                    "no active signing key yet: start the server once, or run `localidp keys rotate`"
                        .into(),
                ));
            }
            ring => ring?,
        };
        let status = TokenStatus::load(&mut conn, now, StatusConfig::from_settings(settings))?;
        let tenant = directory::default_tenant(&mut conn, settings.default_tenant.as_deref())?;
        (ring, status, tenant.id)
    };
    let scheme = if settings.tls { "https" } else { "http" };
    let public_url = args
        .public_url
        .clone()
        .or_else(|| settings.public_url.clone())
        .unwrap_or_else(|| format!("{scheme}://localhost:{}", settings.port))
        .trim_end_matches('/')
        .to_owned();
    let hasher = settings.password_hasher()?;
    let settings = settings.clone();
    let minted = actix_web::rt::System::new().block_on(async move {
        let state = AppState::new(StateParts {
            settings,
            clock,
            public_url: public_url.clone(),
            pool,
            hasher,
            default_tenant_id,
            ring,
            external_issuers: Vec::new(),
            providers: Default::default(),
            status,
            metrics: crate::metrics::Metrics::new(false),
            pool_events: crate::db::PoolEvents::default(),
        });
        let minted = mint::mint(&state, public_url, request).await;
        state.audit.shutdown().await;
        minted
    });
    let minted = minted.map_err(|e| CliError::Invalid(e.to_string()))?;
    if args.json {
        let json =
            serde_json::to_string_pretty(&minted).map_err(|e| CliError::Invalid(e.to_string()))?;
        println!("{json}");
        return Ok(());
    }
    let token = if args.id_token {
        minted.id_token
    } else {
        minted.access_token
    };
    match token {
        Some(t) => {
            println!("{t}");
            Ok(())
        }
        None => Err(CliError::Invalid(
            "that token was not minted (see --kind)".into(),
        )),
    }
}
