//! Token status in memory: the access tokens on the deny list and the users disabled or
//! deleted, so that every check of one of our access tokens (`/auth/verify`,
//! `/introspect`, `/userinfo`, the on-behalf-of and token-exchange grants) refuses
//! them without a database query per request.
//!
//! The state comes from the append-only `status_changes` log (`db::status_changes`),
//! written in the transaction of each change: loaded whole at start, then read from
//! the last id seen. Staleness bound: a check reads the log first (one request at a
//! time; the others wait for it) when the last read began `token_status_refresh_seconds`
//! or more ago by the injected clock, so a change committed elsewhere (another replica,
//! the CLI) is honoured less than that many seconds later. A change made through this
//! process is honoured at once: its caller marks the state stale after committing, and
//! the next check reads the log. A read that fails or takes over a second keeps the old
//! state, logs a warning (once a minute at most) and is tried again after the bound,
//! or, when this process has a change of its own not yet read back, a second later.
//! The old state is served for `db_outage_grace_seconds` past the bound at most: once
//! the last successful read began longer ago than both, a check waits for a read
//! without the one-second limit (a slow database is not a lost one; at most one such
//! read a second), and if that fails too, checks fail closed with
//! [`Refusal::StatusUnknown`] (503) until a read succeeds again.
//!
//! Rules: a token whose `jti` is on the deny list is refused; a token of a user who is
//! disabled or deleted is refused; a token issued (`iat`) before the user's latest
//! disabling or deletion, or in the same second, stays refused after the user is
//! enabled again, as Entra does.
//! Entries are forgotten once no token they concern can still be accepted.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock};
use std::time::{Duration, Instant};

use super::claims::AccessTokenClaims;
use crate::db::status_changes::{self, StatusChange, StatusKind};
use crate::db::{self, DbConnection, DbPool, DbResult};

/// PostgreSQL allocates ids when a row is inserted but makes them visible when its
/// transaction commits, so a read can see id 11 before id 10 commits. An id below the
/// highest seen that was missing at a read is asked for again at every read, for this
/// long (a change's transaction is short: one that has not committed after a minute is
/// taken to have rolled back, which leaves its id unused for good) ...
const GAP_WAIT: Duration = Duration::from_secs(60);
/// ... and for at most this many ids (the most recent).
const MAX_GAPS: i64 = 1000;
/// Entries are kept this long after they stop mattering, and so are the rows of the
/// log (a refresh token's linked access token may expire a second after the `exp`
/// recorded for it).
pub const RETENTION_MARGIN: i64 = 300;
/// How often expired entries are dropped from memory, seconds.
const PRUNE_EVERY: i64 = 60;
/// A failing read of the log warns at most this often, seconds.
const WARN_EVERY: i64 = 60;
/// Checks wait this long at most for a read of the log (with the database down, a
/// connection takes the pool's 5 s to fail); past it they go on with the last state.
const READ_TIMEOUT: Duration = Duration::from_secs(1);
/// After a failed read, a change made through this process is asked for again this
/// much later (the bound applies to changes made elsewhere).
const RETRY_LOCAL: Duration = Duration::from_secs(1);

/// Why a token is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Revoked,
    UserInactive,
    ClientDeleted,
    /// The log has not been read for longer than the bound and the outage grace: the
    /// token may have been revoked meanwhile. Not the token's fault: a 503.
    StatusUnknown,
}

impl Refusal {
    /// Safe to show the caller.
    pub fn message(self) -> &'static str {
        match self {
            Refusal::Revoked => "The token has been revoked.",
            Refusal::UserInactive => "The user of the token is disabled or no longer exists.",
            Refusal::ClientDeleted => "The application the token was issued to no longer exists.",
            Refusal::StatusUnknown => "The token's status cannot be checked right now.",
        }
    }
}

/// What the status needs from the settings.
#[derive(Debug, Clone, Copy)]
pub struct StatusConfig {
    /// `token_status_refresh_seconds`.
    pub bound: i64,
    /// `clock_skew_seconds`.
    pub skew: i64,
    /// `access_token_lifetime`: how long a user row matters.
    pub lifetime: i64,
    /// `db_outage_grace_seconds`: how long past the bound a state that could not be
    /// refreshed is still served.
    pub grace: i64,
}

impl StatusConfig {
    pub fn from_settings(s: &crate::config::Settings) -> Self {
        StatusConfig {
            bound: s.token_status_refresh_seconds,
            skew: s.clock_skew_seconds,
            lifetime: s.access_token_lifetime,
            grace: s.db_outage_grace_seconds,
        }
    }
}

#[derive(Debug, Clone)]
struct SubjectStatus {
    /// A user: disabled or deleted, and not enabled or re-created since; a client:
    /// deleted and not created again.
    inactive: bool,
    /// The row that set `inactive`: a row committed late with a lower id does not
    /// undo a later one.
    flag_id: i64,
    /// Tokens issued at or before this time are refused: the latest disabling or
    /// deletion (`iat` has whole seconds: a token of the same second may be older).
    not_before: i64,
    /// The latest row's time: the entry matters for one token lifetime after it.
    last_change: i64,
}

/// The state the log describes, and where reading it has got to.
#[derive(Debug, Default)]
struct StatusSet {
    max_id: i64,
    /// Ids below `max_id` not seen yet, with when they were first missed.
    gaps: BTreeMap<i64, Instant>,
    /// Revoked `jti`s and their `exp`.
    revoked: HashMap<String, i64>,
    users: HashMap<String, SubjectStatus>,
    /// Deleted clients, by client id.
    clients: HashMap<String, SubjectStatus>,
    pruned_at: i64,
}

impl StatusSet {
    fn apply(&mut self, rows: Vec<StatusChange>) {
        let now = Instant::now();
        for row in rows {
            if row.id > self.max_id {
                // Nothing below the first row seen is a gap: at start the rows below
                // it were purged.
                if self.max_id > 0 {
                    let from = (self.max_id + 1).max(row.id - MAX_GAPS);
                    for missing in from..row.id {
                        self.gaps.insert(missing, now);
                    }
                }
                self.max_id = row.id;
            } else {
                self.gaps.remove(&row.id);
            }
            self.apply_row(row);
        }
        self.gaps.retain(|_, since| since.elapsed() < GAP_WAIT);
        while self.gaps.len() > MAX_GAPS as usize {
            self.gaps.pop_first();
        }
    }

    fn apply_row(&mut self, row: StatusChange) {
        let Some(kind) = StatusKind::parse(&row.kind) else {
            return;
        };
        let (map, inactive) = match kind {
            StatusKind::TokenRevoked => {
                let exp = row.expires_at.unwrap_or(row.created_at);
                self.revoked.insert(row.subject, exp);
                return;
            }
            StatusKind::UserDisabled | StatusKind::UserDeleted => (&mut self.users, true),
            StatusKind::UserEnabled => (&mut self.users, false),
            StatusKind::ClientDeleted => (&mut self.clients, true),
            StatusKind::ClientCreated => (&mut self.clients, false),
        };
        let subject = map.entry(row.subject).or_insert(SubjectStatus {
            inactive: false,
            flag_id: 0,
            not_before: i64::MIN,
            last_change: row.created_at,
        });
        subject.last_change = subject.last_change.max(row.created_at);
        if inactive {
            subject.not_before = subject.not_before.max(row.created_at);
        }
        if row.id > subject.flag_id {
            subject.inactive = inactive;
            subject.flag_id = row.id;
        }
    }

    fn refusal(&self, jti: &str, oid: &str, azp: &str, iat: i64) -> Option<Refusal> {
        if self.revoked.contains_key(jti) {
            return Some(Refusal::Revoked);
        }
        let refuses = |s: &SubjectStatus| s.inactive || iat <= s.not_before;
        if self.users.get(oid).is_some_and(refuses) {
            return Some(Refusal::UserInactive);
        }
        if self.clients.get(azp).is_some_and(refuses) {
            return Some(Refusal::ClientDeleted);
        }
        None
    }

    /// Forgets entries no token can need any more: a revoked token past its `exp`, a
    /// user whose last change is older than a token lifetime (tokens issued before it
    /// have expired; none are issued to an inactive user), each plus the skew.
    fn prune(&mut self, now: i64, config: StatusConfig) {
        if now - self.pruned_at < PRUNE_EVERY {
            return;
        }
        self.pruned_at = now;
        let keep = config.skew + RETENTION_MARGIN;
        self.revoked.retain(|_, exp| *exp + keep >= now);
        self.users
            .retain(|_, u| u.last_change + config.lifetime + keep >= now);
        self.clients
            .retain(|_, c| c.last_change + config.lifetime + keep >= now);
    }
}

/// What the status looks at in a token: its id, its user, the client it was issued
/// to, and when.
#[derive(Debug, Clone, Copy)]
pub struct TokenIds<'a> {
    pub jti: &'a str,
    pub oid: &'a str,
    pub azp: &'a str,
    pub iat: i64,
}

pub struct TokenStatus {
    set: RwLock<StatusSet>,
    config: StatusConfig,
    /// One read of the log at a time.
    reading: tokio::sync::Mutex<()>,
    /// When (injected clock, seconds) the last read began.
    read_at: AtomicI64,
    /// When the last read that succeeded began.
    read_ok_at: AtomicI64,
    /// Bumped by [`TokenStatus::mark_stale`]; `read_generation` is its value when the
    /// last read began, so a read that may have begun before a local change commits
    /// does not count as having seen it.
    generation: AtomicU64,
    read_generation: AtomicU64,
    /// After a failed read with a local change unread: no new read before this.
    retry_at: std::sync::Mutex<Option<Instant>>,
    /// When the last read past the grace (without the time limit) began.
    overdue_read_at: std::sync::Mutex<Option<Instant>>,
    warned_at: AtomicI64,
}

impl TokenStatus {
    /// The state the whole log describes (at start, on a blocking thread).
    pub fn load(conn: &mut DbConnection, now: i64, config: StatusConfig) -> DbResult<Self> {
        let mut set = StatusSet::default();
        set.apply(status_changes::read(conn, 0, &[])?);
        set.prune(now, config);
        Ok(TokenStatus {
            set: RwLock::new(set),
            config,
            reading: tokio::sync::Mutex::new(()),
            read_at: AtomicI64::new(now),
            read_ok_at: AtomicI64::new(now),
            generation: AtomicU64::new(0),
            read_generation: AtomicU64::new(0),
            retry_at: std::sync::Mutex::new(None),
            overdue_read_at: std::sync::Mutex::new(None),
            warned_at: AtomicI64::new(i64::MIN),
        })
    }

    /// Refuses one of our access tokens that is revoked or whose user is inactive.
    pub async fn check(
        &self,
        pool: &DbPool,
        now: i64,
        claims: &AccessTokenClaims,
    ) -> Result<(), Refusal> {
        let ids = TokenIds {
            jti: &claims.jti,
            oid: &claims.oid,
            azp: &claims.azp,
            iat: claims.iat,
        };
        self.check_ids(pool, now, ids).await
    }

    /// [`TokenStatus::check`] from the claims themselves: a token without `iat` counts
    /// as issued before any disabling.
    pub async fn check_ids(
        &self,
        pool: &DbPool,
        now: i64,
        ids: TokenIds<'_>,
    ) -> Result<(), Refusal> {
        self.ensure_current(pool, now).await;
        if self.overdue(now) {
            let _one = self.reading.lock().await;
            let due = {
                let mut at = self
                    .overdue_read_at
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                let due = at.is_none_or(|at| at.elapsed() >= RETRY_LOCAL);
                if due {
                    *at = Some(Instant::now());
                }
                due
            };
            if self.overdue(now) && due {
                self.read_log(pool, now, None).await;
            }
            if self.overdue(now) {
                return Err(Refusal::StatusUnknown);
            }
        }
        let set = self.set.read().unwrap_or_else(PoisonError::into_inner);
        match set.refusal(ids.jti, ids.oid, ids.azp, ids.iat) {
            Some(refusal) => Err(refusal),
            None => Ok(()),
        }
    }

    /// After this process committed a change to the log: the next check reads it.
    pub fn mark_stale(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// The last successful read is older than the bound and the outage grace.
    fn overdue(&self, now: i64) -> bool {
        let last_ok = self.read_ok_at.load(Ordering::SeqCst);
        now.saturating_sub(last_ok) > self.config.bound + self.config.grace
    }

    fn stale(&self, now: i64) -> bool {
        let local_unread =
            self.read_generation.load(Ordering::SeqCst) != self.generation.load(Ordering::SeqCst);
        let retry_due = || {
            self.retry_at
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .is_none_or(|at| Instant::now() >= at)
        };
        (local_unread && retry_due())
            || now.saturating_sub(self.read_at.load(Ordering::SeqCst)) >= self.config.bound
    }

    async fn ensure_current(&self, pool: &DbPool, now: i64) {
        if !self.stale(now) {
            return;
        }
        let _one = self.reading.lock().await;
        if self.stale(now) {
            self.read_log(pool, now, Some(READ_TIMEOUT)).await;
        }
    }

    /// One read of the rows not seen yet, given up after `limit` (none: as long as
    /// the pool takes to give up).
    async fn read_log(&self, pool: &DbPool, now: i64, limit: Option<Duration>) {
        let generation = self.generation.load(Ordering::SeqCst);
        let (after, missing) = {
            let set = self.set.read().unwrap_or_else(PoisonError::into_inner);
            (set.max_id, set.gaps.keys().copied().collect::<Vec<_>>())
        };
        let read = db::run(pool, move |c| status_changes::read(c, after, &missing));
        let read = match limit {
            Some(limit) => tokio::time::timeout(limit, read).await,
            None => Ok(read.await),
        };
        // After a failure too: the next attempt waits for the bound, not every request.
        self.read_at.store(now, Ordering::SeqCst);
        let mut retry_at = self.retry_at.lock().unwrap_or_else(PoisonError::into_inner);
        match read {
            Ok(Ok(rows)) => {
                let mut set = self.set.write().unwrap_or_else(PoisonError::into_inner);
                set.apply(rows);
                set.prune(now, self.config);
                self.read_generation.store(generation, Ordering::SeqCst);
                self.read_ok_at.fetch_max(now, Ordering::SeqCst);
                *retry_at = None;
            }
            failed => {
                // A local change stays unread: it is asked for again a second later,
                // so that it is honoured as soon as the database answers.
                *retry_at = Some(Instant::now() + RETRY_LOCAL);
                let error = match failed {
                    Ok(Err(e)) => e.to_string(),
                    _ => format!("no answer within {limit:?}"),
                };
                let last = self.warned_at.load(Ordering::Relaxed);
                if now.saturating_sub(last) >= WARN_EVERY {
                    self.warned_at.store(now, Ordering::Relaxed);
                    tracing::warn!(%error, "token status could not be read; keeping the last state");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, kind: StatusKind, subject: &str, at: i64) -> StatusChange {
        StatusChange {
            id,
            kind: kind.as_str().to_owned(),
            subject: subject.to_owned(),
            expires_at: (kind == StatusKind::TokenRevoked).then_some(at + 3600),
            created_at: at,
        }
    }

    #[test]
    fn late_rows_fill_gaps_and_do_not_undo_later_ones() {
        let mut set = StatusSet::default();
        set.apply(vec![row(1, StatusKind::TokenRevoked, "a", 100)]);
        // 3 is read before 2 commits: 2 is a gap, asked for again.
        set.apply(vec![row(3, StatusKind::UserEnabled, "u", 120)]);
        assert_eq!(set.gaps.keys().copied().collect::<Vec<_>>(), vec![2]);
        // 2 (the disabling, before the enabling) arrives late.
        set.apply(vec![row(2, StatusKind::UserDisabled, "u", 110)]);
        assert!(set.gaps.is_empty());
        assert_eq!(set.refusal("a", "x", "c", 0), Some(Refusal::Revoked));
        // Enabled again (row 3 is later): new tokens pass, older ones stay refused.
        assert_eq!(set.refusal("t", "u", "c", 125), None);
        assert_eq!(set.refusal("t", "u", "c", 105), Some(Refusal::UserInactive));
        assert_eq!(set.refusal("t", "u", "c", 110), Some(Refusal::UserInactive));
    }

    #[test]
    fn tokens_issued_to_a_deleted_client_are_refused_until_it_is_created_again() {
        let mut set = StatusSet::default();
        set.apply(vec![row(1, StatusKind::ClientDeleted, "app", 1000)]);
        assert_eq!(
            set.refusal("t", "u", "app", 990),
            Some(Refusal::ClientDeleted)
        );
        assert_eq!(set.refusal("t", "u", "other", 990), None);
        set.apply(vec![row(2, StatusKind::ClientCreated, "app", 1100)]);
        // The new client's tokens pass; the deleted one's stay refused.
        assert_eq!(set.refusal("t", "u", "app", 1101), None);
        assert_eq!(
            set.refusal("t", "u", "app", 1000),
            Some(Refusal::ClientDeleted)
        );
    }

    #[test]
    fn disabled_and_deleted_users_are_refused_until_their_entries_expire() {
        let config = StatusConfig {
            bound: 1,
            skew: 60,
            lifetime: 3600,
            grace: 60,
        };
        let mut set = StatusSet::default();
        set.apply(vec![
            row(1, StatusKind::UserDisabled, "d", 1000),
            row(2, StatusKind::UserDeleted, "x", 1000),
        ]);
        assert_eq!(
            set.refusal("t", "d", "c", 2000),
            Some(Refusal::UserInactive)
        );
        assert_eq!(
            set.refusal("t", "x", "c", 2000),
            Some(Refusal::UserInactive)
        );
        assert_eq!(set.refusal("t", "other", "c", 900), None);
        set.prune(1000 + 3600 + 60 + RETENTION_MARGIN, config);
        assert_eq!(set.users.len(), 2);
        set.prune(
            1000 + 3600 + 60 + RETENTION_MARGIN + PRUNE_EVERY + 1,
            config,
        );
        assert!(set.users.is_empty());
    }
}
