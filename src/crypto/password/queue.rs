//! What the hashing queue does: how many checks wait now, how long each waited for a
//! hashing thread, and how many were refused because the queue was full. Read by the
//! metrics scrape; recorded always (a hash costs tens of milliseconds, this nothing).

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Instant;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::histogram::Histogram;

/// Queue wait buckets, seconds: 0.1 ms to 10 s.
const WAIT_BUCKETS: [f64; 12] = [
    0.0001, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Debug)]
pub struct QueueStats {
    waiting: AtomicI64,
    pub wait: Histogram,
    pub refused: Counter,
}

impl Default for QueueStats {
    fn default() -> Self {
        QueueStats {
            waiting: AtomicI64::new(0),
            wait: Histogram::new(WAIT_BUCKETS),
            refused: Counter::default(),
        }
    }
}

impl QueueStats {
    /// Checks queued and not yet picked up by a hashing thread.
    pub fn waiting(&self) -> i64 {
        self.waiting.load(Ordering::Relaxed)
    }

    pub(super) fn queued(&self) -> Instant {
        self.waiting.fetch_add(1, Ordering::Relaxed);
        Instant::now()
    }

    /// A job counted by [`Self::queued`] that will not run (the queue was full or closed).
    pub(super) fn dropped(&self, refused: bool) {
        self.waiting.fetch_sub(1, Ordering::Relaxed);
        if refused {
            self.refused.inc();
        }
    }

    pub(super) fn started(&self, queued_at: Instant) {
        self.waiting.fetch_sub(1, Ordering::Relaxed);
        self.wait.observe(queued_at.elapsed().as_secs_f64());
    }
}
