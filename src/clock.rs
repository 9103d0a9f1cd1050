//! Wall-clock time, passed in rather than read from the system at each check, so that
//! tests move time forward instead of sleeping until a token, code or session expires.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The largest clock-skew allowance a server may be configured with (`clock_skew_seconds`),
/// seconds: how long past its `exp` a token can still be accepted somewhere.
pub const MAX_CLOCK_SKEW: i64 = 3600;

/// The current time in unix seconds. Cheap to clone; clones share the same offset.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    /// Seconds added to the system time; `None` for the plain system clock.
    offset: Option<Arc<AtomicI64>>,
}

impl Clock {
    /// The system clock: what the server runs on.
    pub fn system() -> Self {
        Clock { offset: None }
    }

    /// The system clock plus an offset that [`Clock::advance`] moves: for tests.
    pub fn adjustable() -> Self {
        Clock {
            offset: Some(Arc::new(AtomicI64::new(0))),
        }
    }

    /// Seconds since the Unix epoch.
    pub fn now(&self) -> i64 {
        let system = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        system
            + self
                .offset
                .as_ref()
                .map_or(0, |o| o.load(Ordering::Relaxed))
    }

    /// Moves an adjustable clock forward; the system clock cannot be moved, so there
    /// this only logs a warning.
    pub fn advance(&self, by: Duration) {
        match &self.offset {
            Some(offset) => {
                offset.fetch_add(by.as_secs() as i64, Ordering::Relaxed);
            }
            None => tracing::warn!("the system clock cannot be advanced"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_adjustable_clock_moves_and_its_clones_follow() {
        let clock = Clock::adjustable();
        let copy = clock.clone();
        let before = copy.now();
        clock.advance(Duration::from_secs(3600));
        let after = copy.now();
        assert!((3600..3602).contains(&(after - before)), "{before} {after}");
    }

    #[test]
    fn the_system_clock_stays_put() {
        let clock = Clock::system();
        let before = clock.now();
        clock.advance(Duration::from_secs(3600));
        assert!(clock.now() - before < 2);
    }
}
