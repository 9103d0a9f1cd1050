//! `state.audit`: events go onto a bounded queue, and one background task writes them
//! in batches — up to [`MAX_BATCH`] rows in one transaction of multi-row INSERTs, on a
//! blocking thread — so a request never waits for the database to store its event.
//! The task lets events gather for [`LINGER`] after the first one arrives: under load
//! that makes one transaction of many events, and the requests queueing meanwhile
//! wake no thread.
//!
//! - **Queue full** ([`QUEUE_CAPACITY`] events waiting): [`AuditLog::record`] waits for
//!   room (backpressure) instead of dropping the event: requests slow down to the rate
//!   the database takes events at, and no event is lost silently.
//! - **Write failed** (database down): the batch is lost; the loss is counted
//!   ([`AuditLog::lost`]) and logged at warn, at most once every 10 s. Sign-ins go on.
//! - **Shutdown** ([`AuditLog::shutdown`], after the HTTP server stopped): what is
//!   queued is written, then the task ends; events recorded later are counted as lost.
//!   A killed process loses what was queued (at most one batch's worth under load).
//! - **Tests** call [`AuditLog::flush`]: every event recorded before it is stored when it
//!   returns.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, mpsc, oneshot, watch};

use super::AuditEvent;
use crate::clock::Clock;
use crate::db::audit_events::{self, NewAuditRow};
use crate::db::{self, DbPool, DbResult};

/// Events that may wait to be written before `record` waits.
pub const QUEUE_CAPACITY: usize = 4096;
/// Most rows written in one transaction.
pub const MAX_BATCH: usize = 512;
/// How long the writer lets events gather before it writes them (a flush cuts it short).
pub const LINGER: Duration = Duration::from_millis(50);
/// Losses are logged at most this often.
const WARN_INTERVAL: Duration = Duration::from_secs(10);

// Nearly every message is an event: boxing it would add an allocation to each.
#[allow(clippy::large_enum_variant)]
enum Command {
    Event(NewAuditRow),
    /// Answered once every event queued before it is written.
    Flush(oneshot::Sender<()>),
    /// Write what is queued, then stop.
    Shutdown(oneshot::Sender<()>),
}

/// Counts events that could not be written, and says so at warn, rate-limited.
#[derive(Default)]
struct Losses {
    count: AtomicU64,
    last_warning: Mutex<Option<Instant>>,
}

impl Losses {
    fn add(&self, n: u64, why: &str) {
        let total = self.count.fetch_add(n, Ordering::Relaxed) + n;
        let mut last = self
            .last_warning
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if last.is_none_or(|at| at.elapsed() >= WARN_INTERVAL) {
            *last = Some(Instant::now());
            tracing::warn!(lost = n, total, why, "audit events were not written");
        }
    }
}

pub struct AuditLog {
    /// `None` when the audit log is off.
    queue: Option<mpsc::Sender<Command>>,
    clock: Clock,
    pool: DbPool,
    /// Days an event is kept; 0 keeps events forever.
    retention_days: u32,
    losses: Arc<Losses>,
    /// Ends the writer's wait for more events (a flush or shutdown is queued).
    hurry: Arc<Notify>,
    /// Becomes true when the writer task has ended.
    stopped: watch::Receiver<bool>,
}

impl AuditLog {
    /// Starts the writer task on the current tokio runtime (none is started when the
    /// log is off, or outside a runtime, which is logged).
    pub fn start(pool: DbPool, clock: Clock, enabled: bool, retention_days: u32) -> AuditLog {
        let (stopped_tx, stopped) = watch::channel(false);
        let losses = Arc::new(Losses::default());
        let hurry = Arc::new(Notify::new());
        let runtime = tokio::runtime::Handle::try_current();
        let queue = match (enabled, runtime) {
            (true, Ok(runtime)) => {
                let (tx, rx) = mpsc::channel(QUEUE_CAPACITY);
                let writer = Writer {
                    pool: pool.clone(),
                    losses: losses.clone(),
                    hurry: hurry.clone(),
                };
                runtime.spawn(writer.run(rx, stopped_tx));
                Some(tx)
            }
            (true, Err(_)) => {
                tracing::warn!("no async runtime: the audit log is off");
                let _ = stopped_tx.send(true);
                None
            }
            (false, _) => {
                let _ = stopped_tx.send(true);
                None
            }
        };
        AuditLog {
            queue,
            clock,
            pool,
            retention_days,
            losses,
            hurry,
            stopped,
        }
    }

    pub fn is_enabled(&self) -> bool {
        self.queue.is_some()
    }

    /// Queues the event, stamped with the injected clock's time; waits while the queue
    /// is full. Does nothing when the audit log is off.
    pub async fn record(&self, event: AuditEvent) {
        let Some(queue) = &self.queue else { return };
        let row = event.into_row(self.clock.now());
        if queue.send(Command::Event(row)).await.is_err() {
            self.losses.add(1, "the audit writer has stopped");
        }
    }

    /// Returns once every event recorded before the call is stored (or lost).
    pub async fn flush(&self) {
        self.ask(Command::Flush).await;
    }

    /// Writes what is queued and stops the writer; for the end of `run_until_stopped`.
    pub async fn shutdown(&self) {
        self.ask(Command::Shutdown).await;
        self.stopped().await;
    }

    /// Returns once the writer task has ended (at once when the log is off).
    pub async fn stopped(&self) {
        let mut stopped = self.stopped.clone();
        let _ = stopped.wait_for(|s| *s).await;
    }

    /// Events that could not be written since start.
    pub fn lost(&self) -> u64 {
        self.losses.count.load(Ordering::Relaxed)
    }

    async fn ask(&self, command: fn(oneshot::Sender<()>) -> Command) {
        let Some(queue) = &self.queue else { return };
        let (tx, rx) = oneshot::channel();
        if queue.send(command(tx)).await.is_ok() {
            self.hurry.notify_one();
            let _ = rx.await;
        }
    }

    /// Removes events older than the retention (none when it is 0); the housekeeping
    /// task runs this hourly. Runs whether or not the log is on.
    pub async fn purge_expired(&self) -> DbResult<usize> {
        if self.retention_days == 0 {
            return Ok(0);
        }
        let cutoff = self.clock.now() - i64::from(self.retention_days) * 86_400;
        db::run(&self.pool, move |c| audit_events::purge_before(c, cutoff)).await
    }
}

/// The background task's share of the log.
struct Writer {
    pool: DbPool,
    losses: Arc<Losses>,
    hurry: Arc<Notify>,
}

impl Writer {
    /// Waits for an event, lets more gather (up to a batch, for [`LINGER`], or until a
    /// flush), writes them, answers the flushes it saw, and so on until shut down.
    async fn run(self, mut queue: mpsc::Receiver<Command>, stopped: watch::Sender<bool>) {
        let mut batch: Vec<NewAuditRow> = Vec::with_capacity(MAX_BATCH);
        let mut flushed = Vec::new();
        let mut shutdowns = Vec::new();
        while let Some(first) = queue.recv().await {
            if matches!(first, Command::Event(_)) && queue.len() < MAX_BATCH {
                tokio::select! {
                    _ = tokio::time::sleep(LINGER) => {}
                    _ = self.hurry.notified() => {}
                }
            }
            let mut next = Some(first);
            while let Some(command) = next.take() {
                match command {
                    Command::Event(row) => batch.push(row),
                    Command::Flush(done) => flushed.push(done),
                    Command::Shutdown(done) => {
                        // What was queued before the close is still received, then `None`.
                        queue.close();
                        shutdowns.push(done);
                    }
                }
                if batch.len() < MAX_BATCH {
                    next = queue.try_recv().ok();
                }
            }
            if !batch.is_empty() {
                let rows = std::mem::replace(&mut batch, Vec::with_capacity(MAX_BATCH));
                self.write(rows).await;
            }
            for done in flushed.drain(..) {
                let _ = done.send(());
            }
        }
        for done in shutdowns {
            let _ = done.send(());
        }
        let _ = stopped.send(true);
    }

    async fn write(&self, rows: Vec<NewAuditRow>) {
        let n = rows.len() as u64;
        let written = db::run(&self.pool, move |c| audit_events::insert_many(c, &rows)).await;
        if let Err(e) = written {
            self.losses.add(n, &e.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::kind;
    use crate::db::DatabaseTarget;
    use crate::db::audit_events::AuditFilter;

    async fn stored(pool: &DbPool) -> usize {
        let filter = AuditFilter {
            limit: i64::MAX,
            ..Default::default()
        };
        db::run(pool, move |c| audit_events::list(c, &filter))
            .await
            .unwrap()
            .len()
    }

    fn event(n: usize) -> AuditEvent {
        AuditEvent::admin(kind::USER_CREATED).detail("n", n)
    }

    #[tokio::test]
    async fn more_events_than_the_queue_holds_wait_and_are_all_written() {
        let pool = db::connect(&DatabaseTarget::SqliteMemory, 1).unwrap();
        let log = AuditLog::start(pool.clone(), Clock::system(), true, 90);
        let n = QUEUE_CAPACITY * 2 + 7;
        for i in 0..n {
            log.record(event(i)).await;
        }
        log.flush().await;
        assert_eq!(stored(&pool).await, n);
        assert_eq!(log.lost(), 0);
    }

    #[tokio::test]
    async fn shutdown_writes_what_is_queued_and_later_events_count_as_lost() {
        let pool = db::connect(&DatabaseTarget::SqliteMemory, 1).unwrap();
        let log = AuditLog::start(pool.clone(), Clock::system(), true, 90);
        // On this single-threaded runtime the writer has not run yet: all are queued.
        let n = MAX_BATCH * 3 + 1;
        for i in 0..n {
            log.record(event(i)).await;
        }
        log.shutdown().await;
        assert_eq!(stored(&pool).await, n);
        log.record(event(0)).await;
        log.flush().await;
        assert_eq!(log.lost(), 1);
        assert_eq!(stored(&pool).await, n);
    }

    #[tokio::test]
    async fn a_log_that_is_off_writes_nothing_and_never_waits() {
        let pool = db::connect(&DatabaseTarget::SqliteMemory, 1).unwrap();
        let log = AuditLog::start(pool.clone(), Clock::system(), false, 90);
        assert!(!log.is_enabled());
        log.record(event(1)).await;
        log.flush().await;
        log.shutdown().await;
        assert_eq!(stored(&pool).await, 0);
    }
}
