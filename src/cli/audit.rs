//! `localidp audit`: the audit log, newest first, filtered; aligned columns or JSON
//! Lines.

use clap::Args;
use serde_json::Value;

use super::shared::{CliError, fmt_time};
use crate::audit::Category;
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::audit_events::{self, AuditFilter, AuditRow};
use crate::db::{self, DbError};

#[derive(Args)]
pub(super) struct AuditArgs {
    /// Only events at or after this time: RFC 3339 (2026-12-01T10:00:00Z) or an age
    /// (90s, 15m, 1h, 7d, 2w).
    #[arg(long)]
    since: Option<String>,
    /// Only events at or before this time (same forms as --since).
    #[arg(long)]
    until: Option<String>,
    /// sign_in, token, revocation, admin, key, api_key or lockout.
    #[arg(long)]
    category: Option<String>,
    /// An event kind (sign_in.password), or a prefix ending in * (token.*).
    #[arg(long)]
    kind: Option<String>,
    /// A user: object id, email address or user name (in any tenant).
    #[arg(long)]
    user: Option<String>,
    /// A client id.
    #[arg(long)]
    client: Option<String>,
    /// success or failure.
    #[arg(long)]
    outcome: Option<String>,
    /// A client IP address.
    #[arg(long)]
    ip: Option<String>,
    /// At most this many events (the newest).
    #[arg(long, default_value_t = 100)]
    limit: i64,
    /// One JSON object per line instead of columns.
    #[arg(long)]
    json: bool,
}

pub(super) fn run(args: AuditArgs, settings: &Settings) -> Result<(), CliError> {
    if settings.ephemeral {
        return Err(CliError::Invalid(
            "ephemeral (LOCALIDP_EPHEMERAL or the config file) applies to serve only".into(),
        ));
    }
    let now = Clock::system().now();
    let mut filter = AuditFilter {
        since: args
            .since
            .as_deref()
            .map(|t| parse_time(t, now))
            .transpose()?,
        until: args
            .until
            .as_deref()
            .map(|t| parse_time(t, now))
            .transpose()?,
        category: args.category,
        kind: args.kind,
        outcome: args.outcome,
        client_id: args.client,
        ip: args.ip,
        limit: args.limit,
        user_ids: None,
    };
    if let Some(c) = &filter.category
        && !Category::ALL.iter().any(|k| k.as_str() == c)
    {
        let names: Vec<&str> = Category::ALL.iter().map(|k| k.as_str()).collect();
        return Err(CliError::Invalid(format!(
            "--category {c:?}: one of {}",
            names.join(", ")
        )));
    }
    if let Some(o) = &filter.outcome
        && o != "success"
        && o != "failure"
    {
        return Err(CliError::Invalid(format!(
            "--outcome {o:?}: success or failure"
        )));
    }
    if filter.limit < 1 {
        return Err(CliError::Invalid("--limit must be at least 1".into()));
    }
    let pool = db::connect(&settings.database, 1)?;
    let mut conn = pool.get().map_err(DbError::from)?;
    if let Some(user) = &args.user {
        let mut ids = db::users::ids_named(&mut conn, user)?;
        ids.push(user.clone());
        filter.user_ids = Some(ids);
    }
    let rows = audit_events::list(&mut conn, &filter)?;
    if args.json {
        for row in &rows {
            println!("{}", json_line(row));
        }
    } else {
        print_table(&rows);
    }
    Ok(())
}

/// RFC 3339, or an age before `now`: a number and s, m, h, d or w.
fn parse_time(text: &str, now: i64) -> Result<i64, CliError> {
    let text = text.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(t.timestamp());
    }
    let bad = || {
        CliError::Invalid(format!(
            "{text:?} is neither an RFC 3339 time nor an age such as 90s, 15m, 1h, 7d or 2w"
        ))
    };
    let split = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (number, unit) = text.split_at(split);
    let number: i64 = number.parse().map_err(|_| bad())?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(bad()),
    };
    Ok(now - number.checked_mul(seconds).ok_or_else(bad)?)
}

/// The row as JSON, with `time` in RFC 3339 and `detail` as an object.
fn json_line(row: &AuditRow) -> Value {
    let mut value = serde_json::to_value(row).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.insert("time".into(), Value::from(fmt_time(row.occurred_at)));
        let detail = serde_json::from_str(&row.detail).unwrap_or(Value::from(row.detail.clone()));
        map.insert("detail".into(), detail);
    }
    value
}

/// Columns padded to their widest value; `detail` last, as stored.
fn print_table(rows: &[AuditRow]) {
    let header = [
        "time", "category", "kind", "outcome", "reason", "actor", "user", "client", "ip",
    ];
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
    let lines: Vec<[String; 9]> = rows
        .iter()
        .map(|r| {
            [
                fmt_time(r.occurred_at),
                r.category.clone(),
                r.kind.clone(),
                r.outcome.clone(),
                dash(&r.reason),
                dash(&r.actor),
                dash(&r.user_id),
                dash(&r.client_id),
                dash(&r.ip),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for line in &lines {
        for (w, cell) in widths.iter_mut().zip(line) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let print = |cells: &[&str], detail: &str| {
        let mut out = String::new();
        for (cell, w) in cells.iter().zip(widths) {
            out.push_str(&format!("{cell:<w$}  "));
        }
        out.push_str(detail);
        println!("{}", out.trim_end());
    };
    print(&header, "detail");
    for (line, row) in lines.iter().zip(rows) {
        let cells: Vec<&str> = line.iter().map(String::as_str).collect();
        print(&cells, &row.detail);
    }
}

#[cfg(test)]
mod tests {
    use super::parse_time;

    #[test]
    fn times_are_rfc3339_or_ages() {
        assert_eq!(parse_time("1970-01-01T00:01:00Z", 0).unwrap(), 60);
        assert_eq!(parse_time("90s", 1000).unwrap(), 910);
        assert_eq!(parse_time("2h", 10_000).unwrap(), 2800);
        assert_eq!(parse_time("7d", 1_000_000).unwrap(), 1_000_000 - 604_800);
        assert_eq!(parse_time("1w", 1_000_000).unwrap(), 1_000_000 - 604_800);
        for bad in ["", "h", "5y", "-1h", "yesterday", "99999999999999999999d"] {
            assert!(parse_time(bad, 0).is_err(), "{bad}");
        }
    }
}
