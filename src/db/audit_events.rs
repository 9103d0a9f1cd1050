//! The audit log's table: batched inserts, a filtered listing newest first, and the
//! retention purge. What goes in a row is decided in `crate::audit`.

use diesel::prelude::*;
use serde::Serialize;

use super::schema::audit_events;
use super::{DbConnection, DbResult};

/// An event as written: `crate::audit::AuditEvent` once stamped with its time.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = audit_events)]
pub struct NewAuditRow {
    pub occurred_at: i64,
    pub category: String,
    pub kind: String,
    pub outcome: String,
    pub reason: Option<String>,
    pub actor: Option<String>,
    pub tenant_id: Option<String>,
    pub client_id: Option<String>,
    pub user_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub correlation_id: Option<String>,
    /// A small JSON object.
    pub detail: String,
}

/// An event as read back.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = audit_events)]
pub struct AuditRow {
    pub id: i64,
    pub occurred_at: i64,
    pub category: String,
    pub kind: String,
    pub outcome: String,
    pub reason: Option<String>,
    pub actor: Option<String>,
    pub tenant_id: Option<String>,
    pub client_id: Option<String>,
    pub user_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub correlation_id: Option<String>,
    pub detail: String,
}

/// Inserts the rows in one transaction, several rows per statement. (Multi-row inserts
/// are not available through the multi-backend connection: each backend is addressed
/// directly, as in `users::insert_many`.)
pub fn insert_many(conn: &mut DbConnection, rows: &[NewAuditRow]) -> DbResult<usize> {
    macro_rules! insert_chunks {
        ($conn:expr, $chunk:expr) => {
            $conn.transaction(|conn| {
                let mut n = 0;
                for part in rows.chunks($chunk) {
                    n += diesel::insert_into(audit_events::table)
                        .values(part)
                        .execute(conn)?;
                }
                Ok::<_, diesel::result::Error>(n)
            })?
        };
    }
    // 13 bound parameters a row: SQLite allows 32766 a statement, PostgreSQL 65535.
    let n = match conn {
        DbConnection::Sqlite(c) => insert_chunks!(c, 1000),
        DbConnection::Postgresql(c) => insert_chunks!(c, 2000),
    };
    Ok(n)
}

/// Which events to list; `None` fields do not filter.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Unix seconds, inclusive.
    pub since: Option<i64>,
    /// Unix seconds, inclusive.
    pub until: Option<i64>,
    pub category: Option<String>,
    /// An exact kind, or a prefix ending in `*` (`token.*`).
    pub kind: Option<String>,
    pub outcome: Option<String>,
    /// Events naming any of these user ids.
    pub user_ids: Option<Vec<String>>,
    pub client_id: Option<String>,
    pub ip: Option<String>,
    /// At most this many (the newest).
    pub limit: i64,
}

/// Events matching the filter, newest first.
pub fn list(conn: &mut DbConnection, filter: &AuditFilter) -> DbResult<Vec<AuditRow>> {
    use audit_events::dsl as a;
    let mut query = a::audit_events.select(AuditRow::as_select()).into_boxed();
    if let Some(since) = filter.since {
        query = query.filter(a::occurred_at.ge(since));
    }
    if let Some(until) = filter.until {
        query = query.filter(a::occurred_at.le(until));
    }
    if let Some(category) = &filter.category {
        query = query.filter(a::category.eq(category.clone()));
    }
    if let Some(kind) = &filter.kind {
        query = match kind.strip_suffix('*') {
            Some(prefix) => {
                let escaped = prefix
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_");
                query.filter(a::kind.like(format!("{escaped}%")).escape('\\'))
            }
            None => query.filter(a::kind.eq(kind.clone())),
        };
    }
    if let Some(outcome) = &filter.outcome {
        query = query.filter(a::outcome.eq(outcome.clone()));
    }
    if let Some(ids) = &filter.user_ids {
        query = query.filter(a::user_id.eq_any(ids.clone()));
    }
    if let Some(client) = &filter.client_id {
        query = query.filter(a::client_id.eq(client.clone()));
    }
    if let Some(ip) = &filter.ip {
        query = query.filter(a::ip.eq(ip.clone()));
    }
    Ok(query
        .order((a::occurred_at.desc(), a::id.desc()))
        .limit(filter.limit.max(0))
        .load(conn)?)
}

/// Removes the events that happened before `cutoff` (unix seconds).
pub fn purge_before(conn: &mut DbConnection, cutoff: i64) -> DbResult<usize> {
    Ok(
        diesel::delete(audit_events::table.filter(audit_events::occurred_at.lt(cutoff)))
            .execute(conn)?,
    )
}

/// A condition on the events of a Graph audit log (`graph::audit_log`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogCondition {
    /// At or after this time (unix seconds).
    Since(i64),
    /// At or before this time (unix seconds).
    Until(i64),
    Id(i64),
    KindIn(Vec<String>),
    KindNotIn(Vec<String>),
    UserIn(Vec<String>),
    Client(String),
    Actor(String),
    Correlation(String),
    Ip(String),
    Outcome(String),
    ReasonIn(Vec<String>),
    ReasonNotIn(Vec<String>),
    /// Matches nothing (a name no user has).
    Never,
}

/// Categories of events, each with the kinds of it to list (`None`: all).
pub type LogSources = Vec<(String, Option<Vec<String>>)>;

/// One tenant's events of some categories (each limited to some kinds, or all of
/// them), newest first after `after` (time, id), at most `limit`.
#[derive(Debug, Clone, Default)]
pub struct LogQuery {
    pub tenant_id: String,
    pub sources: LogSources,
    pub conditions: Vec<LogCondition>,
    pub after: Option<(i64, i64)>,
    pub limit: i64,
}

/// A page of a Graph audit log: each category read in (time, id) order from the
/// `(tenant_id, category, occurred_at, id)` index, then merged. Keyset paging: rows
/// written after the first page come before it, so later pages neither repeat nor
/// skip one.
pub fn log_page(conn: &mut DbConnection, q: &LogQuery) -> DbResult<Vec<AuditRow>> {
    use audit_events::dsl as a;
    if q.conditions.contains(&LogCondition::Never) {
        return Ok(Vec::new());
    }
    let mut rows = Vec::new();
    for (category, kinds) in &q.sources {
        let mut query = a::audit_events
            .select(AuditRow::as_select())
            .filter(a::tenant_id.eq(q.tenant_id.clone()))
            .filter(a::category.eq(category.clone()))
            .into_boxed();
        if let Some(kinds) = kinds {
            query = query.filter(a::kind.eq_any(kinds.clone()));
        }
        if let Some((t, id)) = q.after {
            // `occurred_at <= t` alone lets the index seek to the page's place.
            query = query
                .filter(a::occurred_at.le(t))
                .filter(a::occurred_at.lt(t).or(a::id.lt(id)));
        }
        for c in &q.conditions {
            query = match c.clone() {
                LogCondition::Since(t) => query.filter(a::occurred_at.ge(t)),
                LogCondition::Until(t) => query.filter(a::occurred_at.le(t)),
                LogCondition::Id(id) => query.filter(a::id.eq(id)),
                LogCondition::KindIn(k) => query.filter(a::kind.eq_any(k)),
                LogCondition::KindNotIn(k) => query.filter(a::kind.ne_all(k)),
                LogCondition::UserIn(u) => query.filter(a::user_id.eq_any(u)),
                LogCondition::Client(v) => query.filter(a::client_id.eq(v)),
                LogCondition::Actor(v) => query.filter(a::actor.eq(v)),
                LogCondition::Correlation(v) => query.filter(a::correlation_id.eq(v)),
                LogCondition::Ip(v) => query.filter(a::ip.eq(v)),
                LogCondition::Outcome(v) => query.filter(a::outcome.eq(v)),
                LogCondition::ReasonIn(r) => query.filter(a::reason.eq_any(r)),
                LogCondition::ReasonNotIn(r) => {
                    query.filter(a::reason.is_null().or(a::reason.ne_all(r)))
                }
                LogCondition::Never => query,
            };
        }
        rows.extend(
            query
                .order((a::occurred_at.desc(), a::id.desc()))
                .limit(q.limit.max(0))
                .load(conn)?,
        );
    }
    rows.sort_by_key(|r| std::cmp::Reverse((r.occurred_at, r.id)));
    rows.truncate(q.limit.max(0) as usize);
    Ok(rows)
}
