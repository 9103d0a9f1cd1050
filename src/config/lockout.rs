//! Smart lockout settings: how many wrong passwords in a row lock an account, and for
//! how long (doubling with each lock in a row, up to a cap).

/// Entra's default threshold: ten failed sign-ins.
pub const DEFAULT_THRESHOLD: u32 = 10;
/// Entra's default first lock: one minute.
pub const DEFAULT_DURATION: i64 = 60;
/// The longest a lock lasts, however many came before it.
pub const DEFAULT_MAX_DURATION: i64 = 3600;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Wrong passwords in a row that lock the account.
    pub threshold: u32,
    /// The first lock's length, seconds.
    pub duration: i64,
    /// The cap on a lock's length, seconds.
    pub max_duration: i64,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        LockoutPolicy {
            threshold: DEFAULT_THRESHOLD,
            duration: DEFAULT_DURATION,
            max_duration: DEFAULT_MAX_DURATION,
        }
    }
}

impl LockoutPolicy {
    /// A day after the last lock ended, the next lock is a first lock again.
    pub const GROWTH_RESET: i64 = 24 * 3600;

    /// The settings given, or the defaults; the error names the setting and why.
    pub fn new(
        threshold: Option<u32>,
        duration: Option<i64>,
        max_duration: Option<i64>,
    ) -> Result<Self, (&'static str, &'static str)> {
        let invalid = |name, reason| (name, reason);
        let policy = LockoutPolicy {
            threshold: threshold.unwrap_or(DEFAULT_THRESHOLD),
            duration: duration.unwrap_or(DEFAULT_DURATION),
            max_duration: max_duration.unwrap_or(DEFAULT_MAX_DURATION.max(duration.unwrap_or(0))),
        };
        if policy.threshold == 0 {
            return Err(invalid("lockout_threshold", "must be at least 1"));
        }
        if policy.duration <= 0 {
            return Err(invalid("lockout_duration", "must be greater than 0"));
        }
        if policy.max_duration < policy.duration {
            return Err(invalid(
                "lockout_max_duration",
                "must be at least lockout_duration",
            ));
        }
        Ok(policy)
    }

    /// How many locks in a row come before one starting at `now`, given the end of the
    /// last lock and the locks in a row until then.
    pub fn earlier_locks(&self, last_end: Option<i64>, lockouts: i32, now: i64) -> u32 {
        match last_end {
            Some(end) if now - end < Self::GROWTH_RESET => u32::try_from(lockouts).unwrap_or(0),
            _ => 0,
        }
    }

    /// The length of a lock that follows `earlier` locks in a row: the first lock's
    /// length, doubled for each earlier one, capped.
    pub fn lock_length(&self, earlier: u32) -> i64 {
        let factor = 1i64.checked_shl(earlier.min(40)).unwrap_or(i64::MAX);
        self.duration.saturating_mul(factor).min(self.max_duration)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_double_up_to_the_cap() {
        let p = LockoutPolicy::new(None, Some(60), Some(600)).unwrap();
        let lengths: Vec<i64> = (0..6).map(|n| p.lock_length(n)).collect();
        assert_eq!(lengths, [60, 120, 240, 480, 600, 600]);
        assert_eq!(p.lock_length(u32::MAX), 600);
        assert_eq!(LockoutPolicy::default().lock_length(0), 60);
    }

    #[test]
    fn growth_starts_again_a_day_after_the_last_lock() {
        let p = LockoutPolicy::default();
        assert_eq!(p.earlier_locks(None, 0, 1000), 0);
        assert_eq!(p.earlier_locks(Some(1000), 2, 1000 + 600), 2);
        assert_eq!(
            p.earlier_locks(Some(1000), 2, 1000 + LockoutPolicy::GROWTH_RESET),
            0
        );
    }

    #[test]
    fn nonsense_is_refused() {
        assert!(LockoutPolicy::new(Some(0), None, None).is_err());
        assert!(LockoutPolicy::new(None, Some(0), None).is_err());
        assert!(LockoutPolicy::new(None, Some(120), Some(60)).is_err());
        // A first lock longer than the default cap raises the cap with it.
        assert_eq!(
            LockoutPolicy::new(None, Some(86_400), None)
                .unwrap()
                .lock_length(3),
            86_400
        );
    }
}
