//! What the pool's checkouts wait: every `pool.get()` (each [`super::run`]) is timed
//! by r2d2 and handed here, and checkouts that gave up are counted. Read by the
//! metrics scrape; cheap enough to record always.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::histogram::Histogram;

/// Checkout wait buckets, seconds: 10 µs (a free idle connection) to 5 s (the
/// pool's connection timeout).
const WAIT_BUCKETS: [f64; 12] = [
    0.00001, 0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0,
];

#[derive(Clone, Debug)]
pub struct PoolEvents {
    pub checkout_wait: Histogram,
    pub checkout_timeouts: Counter,
}

impl Default for PoolEvents {
    fn default() -> Self {
        PoolEvents {
            checkout_wait: Histogram::new(WAIT_BUCKETS),
            checkout_timeouts: Counter::default(),
        }
    }
}

impl r2d2::HandleEvent for PoolEvents {
    fn handle_checkout(&self, event: r2d2::event::CheckoutEvent) {
        self.checkout_wait.observe(event.duration().as_secs_f64());
    }

    fn handle_timeout(&self, _event: r2d2::event::TimeoutEvent) {
        self.checkout_timeouts.inc();
    }
}
