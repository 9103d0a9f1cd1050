//! `localidp api-key …`: create a key for a user or a client (printed once), list
//! keys (never their secrets), revoke one.

use clap::{Args, Subcommand};
use serde_json::json;

use super::shared::{CliError, TenantArg, fmt_time, record, with_database};
use crate::audit::{self, AuditEvent, kind};
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::api_keys::ApiKey;
use crate::directory::api_keys::{self, ApiKeyListing, NewApiKey, OwnerName};

#[derive(Args)]
#[group(required = true, multiple = false)]
pub(super) struct OwnerArgs {
    /// The user the key speaks for: email address or user name (in --tenant).
    #[arg(long)]
    user: Option<String>,
    /// The client application the key speaks for (its client id).
    #[arg(long)]
    client: Option<String>,
}

#[derive(Args)]
#[group(required = false, multiple = false)]
pub(super) struct OwnerFilter {
    /// Only this user's keys (email address or user name).
    #[arg(long)]
    user: Option<String>,
    /// Only this client's keys.
    #[arg(long)]
    client: Option<String>,
}

fn owner<'a>(user: &'a Option<String>, client: &'a Option<String>) -> Option<OwnerName<'a>> {
    match (user, client) {
        (Some(u), _) => Some(OwnerName::User(u)),
        (None, Some(c)) => Some(OwnerName::Client(c)),
        (None, None) => None,
    }
}

#[derive(Subcommand)]
pub(super) enum ApiKeyCommand {
    /// Create a key; it is printed once and only its hash is kept.
    Create {
        #[command(flatten)]
        owner: OwnerArgs,
        /// What the key is for (shown in listings).
        #[arg(long)]
        name: String,
        /// Roles the key carries, comma separated; each one its owner holds.
        #[arg(long, value_delimiter = ',')]
        roles: Vec<String>,
        /// Delegated permissions a user's key carries (`scp`), comma separated.
        #[arg(long, value_delimiter = ',')]
        scopes: Vec<String>,
        /// Expire after this long: a number with s, m, h, d or w (`30d`).
        #[arg(long, conflicts_with = "expires_at")]
        expires_in: Option<String>,
        /// Expire at this time: RFC 3339 (`2027-01-31T12:00:00Z`) or a date (UTC midnight).
        #[arg(long)]
        expires_at: Option<String>,
        /// Print the key and its fields as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        tenant: TenantArg,
    },
    /// List keys with their last use, expiry and revocation (never the keys).
    List {
        #[command(flatten)]
        owner: OwnerFilter,
        /// Print JSON, one array.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        tenant: TenantArg,
    },
    /// Revoke a key by its id: it is refused from the next request on.
    Revoke {
        /// The key's id (the part after `lidp_`, as listed).
        id: String,
    },
}

/// `30d`, `12h`, `90m`, `3600s`, `2w` (a bare number is seconds), in seconds.
fn parse_duration(text: &str) -> Result<i64, CliError> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => 0,
    };
    match number.parse::<i64>() {
        Ok(n) if n > 0 && scale > 0 => n
            .checked_mul(scale)
            .ok_or_else(|| CliError::Invalid(format!("--expires-in {text:?} is too long"))),
        _ => Err(CliError::Invalid(format!(
            "--expires-in {text:?}: give a positive number with s, m, h, d or w (30d)"
        ))),
    }
}

/// RFC 3339, or a date meaning midnight UTC, as a Unix time.
fn parse_time(text: &str) -> Result<i64, CliError> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text.trim()) {
        return Ok(t.timestamp());
    }
    chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp())
        .ok_or_else(|| {
            CliError::Invalid(format!(
                "--expires-at {text:?}: give RFC 3339 (2027-01-31T12:00:00Z) or a date (2027-01-31)"
            ))
        })
}

fn key_json(row: &ApiKey, owner: Option<&str>) -> serde_json::Value {
    json!({
        "id": row.id,
        "name": row.name,
        "tenant_id": row.tenant_id,
        "owner_kind": row.owner_kind,
        "owner_id": row.owner_id,
        "owner": owner,
        "roles": row.role_list().unwrap_or_default(),
        "scopes": row.scope_list().unwrap_or_default(),
        "created_at": row.created_at,
        "expires_at": row.expires_at,
        "last_used_at": row.last_used_at,
        "revoked_at": row.revoked_at,
    })
}

pub(super) fn run(cmd: ApiKeyCommand, settings: &Settings) -> Result<(), CliError> {
    let now = Clock::system().now();
    with_database(settings, |conn, _| {
        match cmd {
            ApiKeyCommand::Create {
                owner: who,
                name,
                roles,
                scopes,
                expires_in,
                expires_at,
                json,
                tenant,
            } => {
                let tenant = tenant.resolve(conn, settings)?;
                let expires_at = match (expires_in, expires_at) {
                    (Some(d), _) => Some(now + parse_duration(&d)?),
                    (None, Some(t)) => Some(parse_time(&t)?),
                    (None, None) => None,
                };
                let owner_name = owner(&who.user, &who.client)
                    .ok_or_else(|| CliError::Invalid("give --user or --client".into()))?;
                let new = NewApiKey {
                    name,
                    roles,
                    scopes,
                    expires_at,
                };
                let created = api_keys::create(conn, &tenant, owner_name, &new, now)?;
                record(
                    conn,
                    settings,
                    key_event(kind::API_KEY_CREATED, &created.row),
                );
                if json {
                    let mut body = key_json(&created.row, None);
                    body["key"] = created.key.into();
                    println!("{body}");
                } else {
                    println!("id:      {}", created.row.id);
                    println!("name:    {}", created.row.name);
                    println!(
                        "expires: {}",
                        created.row.expires_at.map_or("never".into(), fmt_time)
                    );
                    println!("key:     {}", created.key);
                    println!("The key is shown once: store it now (only its hash is kept).");
                }
            }
            ApiKeyCommand::List {
                owner: filter,
                json,
                tenant,
            } => {
                let tenant = tenant.resolve(conn, settings)?;
                let keys = api_keys::list(conn, &tenant, owner(&filter.user, &filter.client))?;
                if json {
                    let all: Vec<_> = keys
                        .iter()
                        .map(|k| key_json(&k.row, k.owner.as_deref()))
                        .collect();
                    println!("{}", serde_json::Value::from(all));
                } else {
                    print_table(&keys, now);
                }
            }
            ApiKeyCommand::Revoke { id } => {
                let key = api_keys::revoke(conn, id.trim(), now)?;
                record(conn, settings, key_event(kind::API_KEY_REVOKED, &key));
                println!("revoked API key {} ({})", key.id, key.name);
            }
        }
        Ok(())
    })
}

/// An event about a key: its id and name, never the key; the owner as user or client.
fn key_event(kind: &'static str, key: &ApiKey) -> AuditEvent {
    let event = AuditEvent::api_key(kind)
        .tenant(&key.tenant_id)
        .detail("key_id", key.id.as_str())
        .detail("name", audit::bounded_text(&key.name));
    if key.owner_kind == "client" {
        event.client(&key.owner_id)
    } else {
        event.user(&key.owner_id)
    }
}

fn print_table(keys: &[ApiKeyListing], now: i64) {
    let time = |t: Option<i64>| t.map_or_else(|| "-".to_owned(), fmt_time);
    println!("id\tname\towner\troles\tscopes\tcreated\texpires\tlast_used\tstatus");
    for k in keys {
        let r = &k.row;
        let status = if r.revoked_at.is_some() {
            format!("revoked {}", time(r.revoked_at))
        } else if r.is_expired(now) {
            "expired".to_owned()
        } else if k.owner.is_none() {
            "owner deleted".to_owned()
        } else {
            "active".to_owned()
        };
        println!(
            "{}\t{}\t{} {}\t{}\t{}\t{}\t{}\t{}\t{}",
            r.id,
            r.name,
            r.owner_kind,
            k.owner.as_deref().unwrap_or(&r.owner_id),
            r.role_list().unwrap_or_default().join(","),
            r.scope_list().unwrap_or_default().join(","),
            fmt_time(r.created_at),
            time(r.expires_at),
            time(r.last_used_at),
            status
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_times_parse() {
        assert_eq!(parse_duration("30d").unwrap(), 30 * 86_400);
        assert_eq!(parse_duration("90m").unwrap(), 5400);
        assert_eq!(parse_duration("45").unwrap(), 45);
        assert!(parse_duration("0d").is_err());
        assert!(parse_duration("3y").is_err());
        assert!(parse_duration("d").is_err());
        assert_eq!(parse_time("1970-01-02").unwrap(), 86_400);
        assert_eq!(parse_time("1970-01-01T01:00:00Z").unwrap(), 3600);
        assert!(parse_time("tomorrow").is_err());
    }
}
