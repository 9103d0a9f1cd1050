//! What Graph's two audit logs share (`/auditLogs/signIns` in `graph::sign_in_log`,
//! `/auditLogs/directoryAudits` in `graph::directory_audit`): their query options,
//! their ids, the names of the users and applications their rows mention, and the
//! reading of a `$filter` into conditions on `audit_events`.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use crate::db::audit_events::{AuditRow, LogCondition, LogSources};
use crate::db::users::Cursor;
use crate::db::{self, DbConnection, DbResult};
use crate::graph::odata::{self, Clause, Comparison, Literal};
use crate::graph::user::user_principal_name;

/// Page size without `$top`, and the largest `$top` (Graph's own maximum for these logs).
pub const DEFAULT_TOP: i64 = 100;
pub const MAX_TOP: i64 = 1000;

/// One of Graph's audit logs: where its entries come from and how they read.
pub struct LogResource {
    /// Under `/v1.0/`: `auditLogs/signIns`.
    pub collection: &'static str,
    /// Graph's type name, in error messages: `signIn`.
    pub type_name: &'static str,
    /// The property holding the time, filtered with `ge`, `le`, `gt`, `lt` and `eq`.
    pub time_property: &'static str,
    /// Entry ids are this prefix and twelve hex digits of the row id (UUID-shaped).
    pub id_prefix: &'static str,
    /// What `$select` may name.
    pub properties: &'static [&'static str],
    /// The audit categories listed, each with the kinds listed (`None`: all).
    pub sources: fn() -> LogSources,
    /// A `$filter` clause on another property than the time.
    pub filter: fn(&Clause, &mut LogFilter) -> Result<(), String>,
    /// The entry in Graph's shape.
    pub to_json: fn(&AuditRow, &Names, &str) -> Map<String, Value>,
}

/// The conditions of a `$filter`, and the user principal names still to be looked up.
#[derive(Debug, Default)]
pub struct LogFilter {
    pub conditions: Vec<LogCondition>,
    pub user_principal_names: Vec<String>,
}

/// The query options of a list request.
#[derive(Debug)]
pub struct LogOptions {
    pub top: i64,
    /// (time, row id) of the previous page's last entry.
    pub after: Option<(i64, i64)>,
    pub select: Option<Vec<&'static str>>,
    pub filter: LogFilter,
    /// The options as received but `$skiptoken`, for `@odata.nextLink`.
    pub carried: Vec<(String, String)>,
}

/// Why a request's options are refused: Graph's `BadRequest` or `Request_UnsupportedQuery`.
#[derive(Debug, PartialEq, Eq)]
pub enum OptionError {
    Bad(String),
    Unsupported(String),
}

impl LogResource {
    /// The entry's id.
    pub fn entry_id(&self, row_id: i64) -> String {
        format!("{}{row_id:012x}", self.id_prefix)
    }

    /// The row id of an entry id of this log.
    pub fn row_id(&self, id: &str) -> Option<i64> {
        let head = id.get(..self.id_prefix.len())?;
        let hex = &id[self.id_prefix.len()..];
        if !head.eq_ignore_ascii_case(self.id_prefix)
            || hex.len() != 12
            || !hex.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return None;
        }
        i64::from_str_radix(hex, 16).ok().filter(|n| *n > 0)
    }

    /// The canonical names of the `$select`ed properties; an unknown one is an error.
    pub fn check_select(&self, select: &[String]) -> Result<Vec<&'static str>, String> {
        let mut out = Vec::new();
        for name in select {
            let known = self
                .properties
                .iter()
                .find(|p| p.eq_ignore_ascii_case(name))
                .ok_or_else(|| {
                    format!(
                        "Could not find a property named '{name}' on type 'microsoft.graph.{}'.",
                        self.type_name
                    )
                })?;
            if !out.contains(known) {
                out.push(*known);
            }
        }
        Ok(out)
    }

    /// Reads `$top`, `$skiptoken`, `$filter`, `$select` and `$orderby` (the time, newest
    /// first: the only order kept). Other options Graph's audit logs do not take are
    /// refused; unknown ones are ignored, as Graph ignores them.
    pub fn parse_options(&self, query: &str) -> Result<LogOptions, OptionError> {
        let bad = OptionError::Bad;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
            .map_err(|_| bad("The query string is malformed.".into()))?;
        let mut o = LogOptions {
            top: DEFAULT_TOP,
            after: None,
            select: None,
            filter: LogFilter::default(),
            carried: Vec::new(),
        };
        for (name, value) in pairs {
            match name.to_ascii_lowercase().trim_start_matches('$') {
                "top" => {
                    o.top = value
                        .trim()
                        .parse::<i64>()
                        .ok()
                        .filter(|t| (1..=MAX_TOP).contains(t))
                        .ok_or_else(|| {
                            bad(format!(
                                "Invalid page size specified: '{value}'. Must be between 1 and {MAX_TOP} inclusive."
                            ))
                        })?;
                }
                "skiptoken" => {
                    o.after = Some(position(&value).map_err(bad)?);
                    continue;
                }
                "filter" => o.filter = self.parse_filter(&value).map_err(bad)?,
                "select" => {
                    let names = value
                        .split(',')
                        .map(str::trim)
                        .filter(|p| !p.is_empty())
                        .map(str::to_owned)
                        .collect::<Vec<_>>();
                    if names.is_empty() {
                        return Err(bad("The $select option is empty.".into()));
                    }
                    o.select = Some(self.check_select(&names).map_err(bad)?);
                }
                "orderby" => {
                    let words: Vec<&str> = value.split_whitespace().collect();
                    let newest_first = matches!(words.as_slice(), [p, d]
                        if p.eq_ignore_ascii_case(self.time_property) && d.eq_ignore_ascii_case("desc"));
                    if !newest_first {
                        return Err(OptionError::Unsupported(format!(
                            "Only '$orderby={} desc' (the order entries are listed in) is supported.",
                            self.time_property
                        )));
                    }
                }
                "count" | "search" | "expand" | "skip" => {
                    return Err(OptionError::Unsupported(format!(
                        "The query option '{name}' is not supported on {}.",
                        self.collection
                    )));
                }
                _ => {}
            }
            o.carried.push((name, value));
        }
        Ok(o)
    }

    /// A `$filter`: comparisons of the time, and the resource's own clauses.
    pub fn parse_filter(&self, text: &str) -> Result<LogFilter, String> {
        let mut filter = LogFilter::default();
        for clause in odata::parse_clauses(text)? {
            match &clause {
                Clause::Compare(p, op, value) if p.eq_ignore_ascii_case(self.time_property) => {
                    filter.conditions.extend(time_conditions(*op, value)?);
                }
                Clause::Equals(p, value) if p.eq_ignore_ascii_case(self.time_property) => {
                    let text = Literal::Text(value.clone());
                    filter
                        .conditions
                        .extend(time_conditions(Comparison::Eq, &text)?);
                }
                _ => (self.filter)(&clause, &mut filter)?,
            }
        }
        Ok(filter)
    }
}

/// The `$skiptoken` that continues after this row.
pub fn cursor_after(row: &AuditRow) -> Cursor {
    Cursor {
        id: format!("{}_{}", row.occurred_at, row.id),
        key: None,
    }
}

fn position(token: &str) -> Result<(i64, i64), String> {
    let cursor = odata::cursor(token)?;
    cursor
        .id
        .split_once('_')
        .and_then(|(t, id)| Some((t.parse().ok()?, id.parse().ok()?)))
        .filter(|_| cursor.key.is_none())
        .ok_or_else(|| "The $skiptoken is not valid.".to_owned())
}

/// A time in `$filter`: RFC 3339 (`2026-12-01T10:00:00Z`, fractions allowed) or a date
/// (midnight UTC); as (seconds, nanoseconds).
fn instant(text: &str) -> Result<(i64, u32), String> {
    let text = text.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok((t.timestamp(), t.timestamp_subsec_nanos()));
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok((d.and_time(chrono::NaiveTime::MIN).and_utc().timestamp(), 0));
    }
    Err(format!(
        "'{text}' is not a date and time (2026-12-01T10:00:00Z)."
    ))
}

/// Rows are stamped to the second: a comparison with a time is one with whole seconds.
fn time_conditions(op: Comparison, value: &Literal) -> Result<Vec<LogCondition>, String> {
    let (secs, nanos) = instant(value.as_str())?;
    let ceil = if nanos > 0 { secs + 1 } else { secs };
    Ok(match op {
        Comparison::Ge => vec![LogCondition::Since(ceil)],
        Comparison::Gt => vec![LogCondition::Since(secs + 1)],
        Comparison::Le => vec![LogCondition::Until(secs)],
        Comparison::Lt => vec![LogCondition::Until(ceil - 1)],
        Comparison::Eq if nanos == 0 => vec![LogCondition::Since(secs), LogCondition::Until(secs)],
        Comparison::Eq => vec![LogCondition::Never],
        Comparison::Ne => return Err("Times are compared with eq, ge, gt, le and lt.".into()),
    })
}

/// The text of an `eq` clause on `property` (quoted), or the error naming it.
pub fn equals_text<'a>(clause: &'a Clause, resource: &str) -> Result<&'a str, String> {
    match clause {
        Clause::Equals(_, v) => Ok(v),
        Clause::Compare(p, _, _) | Clause::StartsWith(p, _) => Err(format!(
            "The property '{p}' of resource '{resource}' is compared only with eq and a quoted value."
        )),
        Clause::Identity(_) => Err(odata::unsupported_clause("identities", resource)),
    }
}

/// The property a clause is on.
pub fn property(clause: &Clause) -> &str {
    match clause {
        Clause::Equals(p, _) | Clause::StartsWith(p, _) | Clause::Compare(p, _, _) => p,
        Clause::Identity(_) => "identities",
    }
}

/// A time as Graph writes it: UTC, to the second, with `Z`.
pub fn graph_time(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// A user a row names, as the directory knows them now.
#[derive(Debug, Clone)]
pub struct UserName {
    pub display_name: String,
    pub user_principal_name: String,
}

/// The names of the users and applications (clients) a page of rows mentions, read in
/// one go; an object deleted since is missing.
#[derive(Debug, Default)]
pub struct Names {
    pub users: HashMap<String, UserName>,
    pub clients: HashMap<String, String>,
}

impl Names {
    /// The tenant's users and clients named by the rows: as user, client, actor, or in
    /// `detail` (`resource`, `caller`).
    pub fn load(conn: &mut DbConnection, tenant_id: &str, rows: &[AuditRow]) -> DbResult<Names> {
        let mut users = Vec::new();
        let mut clients = Vec::new();
        for r in rows {
            users.extend(r.user_id.iter().cloned());
            clients.extend(r.client_id.iter().cloned());
            if let Some(actor) = &r.actor {
                users.push(actor.clone());
                clients.push(actor.clone());
            }
            let d = detail(r);
            for key in ["resource", "caller"] {
                if let Some(id) = d.get(key).and_then(Value::as_str) {
                    clients.push(id.to_owned());
                }
            }
        }
        for ids in [&mut users, &mut clients] {
            ids.sort();
            ids.dedup();
        }
        let users = db::users::find_many(conn, tenant_id, &users)?
            .into_iter()
            .map(|u| {
                let name = UserName {
                    display_name: u.display_name.clone(),
                    user_principal_name: user_principal_name(&u).to_owned(),
                };
                (u.id, name)
            })
            .collect();
        let clients = db::clients::find_many(conn, tenant_id, &clients)?
            .into_iter()
            .map(|c| (c.client_id, c.name))
            .collect();
        Ok(Names { users, clients })
    }
}

/// The row's `detail` object (empty when it is not one).
pub fn detail(row: &AuditRow) -> Map<String, Value> {
    match serde_json::from_str(&row.detail) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

/// Only the `$select`ed properties (all without `$select`).
pub fn selected(map: Map<String, Value>, select: Option<&[&'static str]>) -> Value {
    match select {
        None => Value::Object(map),
        Some(names) => Value::Object(
            map.into_iter()
                .filter(|(k, _)| names.contains(&k.as_str()))
                .collect(),
        ),
    }
}

/// `{"key": k, "value": v}` with the value as text (Graph's `keyValue`).
pub fn key_value(key: &str, value: &Value) -> Value {
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    json!({"key": key, "value": text})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_compare_by_whole_seconds() {
        let t = |op, s: &str| time_conditions(op, &Literal::Bare(s.into())).unwrap();
        use LogCondition::*;
        assert_eq!(t(Comparison::Ge, "1970-01-01T00:01:00Z"), vec![Since(60)]);
        assert_eq!(t(Comparison::Ge, "1970-01-01T00:01:00.5Z"), vec![Since(61)]);
        assert_eq!(t(Comparison::Gt, "1970-01-01T00:01:00Z"), vec![Since(61)]);
        assert_eq!(t(Comparison::Le, "1970-01-01T00:01:00.5Z"), vec![Until(60)]);
        assert_eq!(t(Comparison::Lt, "1970-01-01T00:01:00Z"), vec![Until(59)]);
        assert_eq!(t(Comparison::Lt, "1970-01-01T00:01:00.5Z"), vec![Until(60)]);
        assert_eq!(t(Comparison::Ge, "1970-01-02"), vec![Since(86_400)]);
        assert!(time_conditions(Comparison::Ge, &Literal::Bare("yesterday".into())).is_err());
        assert!(time_conditions(Comparison::Ne, &Literal::Bare("1970-01-02".into())).is_err());
    }

    #[test]
    fn skiptokens_carry_time_and_row() {
        let row = AuditRow {
            id: 42,
            occurred_at: 1_700_000_000,
            category: "sign_in".into(),
            kind: "sign_in.password".into(),
            outcome: "success".into(),
            reason: None,
            actor: None,
            tenant_id: None,
            client_id: None,
            user_id: None,
            ip: None,
            user_agent: None,
            correlation_id: None,
            detail: "{}".into(),
        };
        let token = odata::skiptoken(&cursor_after(&row));
        assert_eq!(position(&token), Ok((1_700_000_000, 42)));
        assert!(position("garbage").is_err());
        let user_token = odata::skiptoken(&Cursor {
            id: "a11ce000".into(),
            key: None,
        });
        assert!(position(&user_token).is_err());
    }
}
