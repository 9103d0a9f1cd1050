//! Wall-clock time, passed in rather than read from the system at each check, so that
//! tests move time forward instead of sleeping until a token, code or session expires.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The largest clock-skew allowance a server may be configured with (`clock_skew_seconds`),
/// seconds: how long past its `exp` a token can still be accepted somewhere.
pub const MAX_CLOCK_SKEW: i64 = 3600;

/// The current time in unix seconds. Cheap to clone; clones share the same time.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    /// The time of a test clock, which moves only when [`Clock::advance`] moves it;
    /// `None` for the system clock.
    frozen: Option<Arc<AtomicI64>>,
}

impl Clock {
    /// The system clock: what the server runs on.
    pub fn system() -> Self {
        Clock { frozen: None }
    }

    /// A clock for tests: it reads the system time once and then stands still until
    /// [`Clock::advance`] moves it, so that a test's "30 s into a 60 s lock" holds
    /// however slowly the test itself runs.
    pub fn adjustable() -> Self {
        Clock {
            frozen: Some(Arc::new(AtomicI64::new(system_now()))),
        }
    }

    /// Seconds since the Unix epoch.
    pub fn now(&self) -> i64 {
        match &self.frozen {
            Some(at) => at.load(Ordering::SeqCst),
            None => system_now(),
        }
    }

    /// Moves a test clock forward; the system clock cannot be moved, so there this
    /// only logs a warning.
    pub fn advance(&self, by: Duration) {
        match &self.frozen {
            Some(at) => {
                at.fetch_add(by.as_secs() as i64, Ordering::SeqCst);
            }
            None => tracing::warn!("the system clock cannot be advanced"),
        }
    }
}

fn system_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
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
        assert_eq!(after - before, 3600);
        assert_eq!(copy.now(), after, "it stands still between moves");
    }

    #[test]
    fn the_system_clock_stays_put() {
        let clock = Clock::system();
        let before = clock.now();
        clock.advance(Duration::from_secs(3600));
        assert!(clock.now() - before < 2);
    }
}
