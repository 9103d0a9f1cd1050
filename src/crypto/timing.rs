//! Even timing of failed sign-ins. Checking a password costs what its stored hash
//! costs: 10–30 ms for argon2id at the default cost, about 200 ms for an imported
//! bcrypt hash of cost 12, other times for argon2 of other parameters, and the dummy
//! hash's argon2id time for an unknown name. Left alone, the time a failure takes tells which accounts
//! exist and which were imported.
//!
//! What is done: every failed sign-in (unknown name, wrong password, locked account)
//! waits, after its hash check, until the expected check time of the slowest kind of
//! hash this server knows has passed since the check began. The expectation per kind
//! is a moving average of how long checks of that kind took on the hashing threads,
//! plus three mean deviations, so that the slowest kind's own checks rarely run past
//! it. It is seeded at start, and again hourly, from one stored hash of each kind in
//! the database ([`crate::db::lockout::hash_kind_examples`]), and follows every check
//! after that. The wait is a tokio sleep: it holds no hashing thread and no actix
//! worker (which serves other requests meanwhile). Successful sign-ins do not wait.
//!
//! Not done instead: checking unknown names against a dummy of the slowest kind would
//! even out only unknown names against that kind, not argon2 accounts against bcrypt
//! ones, and would spend hashing CPU — what an attacker exhausts — where a sleep
//! spends none.
//!
//! Bounds: a kind first stored while the server runs is learned at its first check or
//! at the next hourly census, so until then one failure of that kind can stand out;
//! under CPU contention each kind's estimate follows the load only as checks of that
//! kind are measured.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Kinds of hash remembered at most (they come from the database, not from requests).
const MAX_KINDS: usize = 64;
/// Weight of each new measurement in the moving averages.
const ALPHA: f64 = 0.1;
/// The target lies this many mean deviations above the slowest kind's mean.
const DEVIATIONS: f64 = 3.0;

#[derive(Debug, Clone, Copy)]
struct Estimate {
    /// Seconds.
    mean: f64,
    /// Mean absolute deviation, seconds.
    dev: f64,
    samples: u32,
}

impl Estimate {
    fn first(x: f64) -> Self {
        Estimate {
            mean: x,
            dev: 0.0,
            samples: 1,
        }
    }

    fn update(&mut self, x: f64) {
        self.samples = self.samples.saturating_add(1);
        // The plain mean of the first few, then an exponential moving average.
        let alpha = (1.0 / f64::from(self.samples)).max(ALPHA);
        // A check preempted for long must not double the target for everyone.
        let x = if self.samples > 3 {
            x.min(2.0 * self.mean)
        } else {
            x
        };
        let deviation = (x - self.mean).abs();
        self.mean += alpha * (x - self.mean);
        self.dev += alpha * (deviation - self.dev);
    }

    fn ceiling(&self) -> f64 {
        self.mean + DEVIATIONS * self.dev
    }
}

/// Expected check time per kind of stored hash, and the padding target they give.
#[derive(Debug, Default)]
pub struct SignInTimings {
    kinds: Mutex<HashMap<String, Estimate>>,
    /// The slowest kind's ceiling, nanoseconds: read without the lock on every failure.
    target_nanos: AtomicU64,
}

impl SignInTimings {
    /// A check of this kind took `took` on a hashing thread.
    pub fn record(&self, kind: &str, took: Duration) {
        let Ok(mut kinds) = self.kinds.lock() else {
            return;
        };
        let x = took.as_secs_f64();
        if let Some(estimate) = kinds.get_mut(kind) {
            estimate.update(x);
        } else if kinds.len() < MAX_KINDS {
            kinds.insert(kind.to_owned(), Estimate::first(x));
        } else {
            return;
        }
        let target = kinds.values().map(Estimate::ceiling).fold(0.0, f64::max);
        self.target_nanos
            .store((target * 1e9).round() as u64, Ordering::Relaxed);
        tracing::trace!(
            kind,
            ?took,
            target_ms = target * 1e3,
            "password check timed"
        );
    }

    /// How long every failed sign-in's hash check is made to last.
    pub fn target(&self) -> Duration {
        Duration::from_nanos(self.target_nanos.load(Ordering::Relaxed))
    }

    /// How long a failed sign-in whose check took `took` waits before answering.
    pub fn padding(&self, took: Duration) -> Duration {
        self.target().saturating_sub(took)
    }

    /// The kinds known, with their expected check time (mean, deviation) and samples.
    pub fn kinds(&self) -> Vec<(String, Duration, Duration, u32)> {
        let Ok(kinds) = self.kinds.lock() else {
            return Vec::new();
        };
        let mut out: Vec<_> = kinds
            .iter()
            .map(|(k, e)| {
                (
                    k.clone(),
                    Duration::from_secs_f64(e.mean),
                    Duration::from_secs_f64(e.dev),
                    e.samples,
                )
            })
            .collect();
        out.sort();
        out
    }
}

/// The kind of a stored hash, which decides what checking it costs: `bcrypt cost 12`,
/// or an argon2 PHC string without its salt and hash (`$argon2id$v=19$m=19456,t=2,p=1`).
/// `None` for anything else.
pub fn hash_kind(stored: &str) -> Option<String> {
    let bytes = stored.as_bytes();
    if bytes.len() > 7 && bytes.starts_with(b"$2") && bytes[3] == b'$' && bytes[6] == b'$' {
        let cost: u32 = stored.get(4..6)?.parse().ok()?;
        return Some(format!("bcrypt cost {cost}"));
    }
    if let Some(kind) = super::hash_formats::kind(stored) {
        return Some(kind);
    }
    let mut parts = stored.rsplitn(3, '$');
    let (_hash, _salt, params) = (parts.next()?, parts.next()?, parts.next()?);
    params.starts_with("$argon2").then(|| params.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_of_hashes() {
        let b = "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW";
        assert_eq!(hash_kind(b).as_deref(), Some("bcrypt cost 12"));
        assert_eq!(
            hash_kind(&b.replacen("$2b$", "$2y$", 1)).as_deref(),
            Some("bcrypt cost 12")
        );
        assert_eq!(
            hash_kind("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g").as_deref(),
            Some("$argon2id$v=19$m=19456,t=2,p=1")
        );
        assert_eq!(
            hash_kind("$argon2i$m=4096,t=3,p=1$c2FsdA$aGFzaA").as_deref(),
            Some("$argon2i$m=4096,t=3,p=1")
        );
        assert_eq!(hash_kind("plain"), None);
        assert_eq!(hash_kind("$1$abc$def"), None);
    }

    #[test]
    fn the_target_follows_the_slowest_kind() {
        let t = SignInTimings::default();
        assert_eq!(t.target(), Duration::ZERO);
        for _ in 0..20 {
            t.record("fast", Duration::from_millis(30));
        }
        assert_eq!(t.target(), Duration::from_millis(30));
        for _ in 0..20 {
            t.record("slow", Duration::from_millis(250));
        }
        assert_eq!(t.target(), Duration::from_millis(250));
        assert_eq!(
            t.padding(Duration::from_millis(30)),
            Duration::from_millis(220)
        );
        assert_eq!(t.padding(Duration::from_millis(300)), Duration::ZERO);
    }

    #[test]
    fn one_outlier_does_not_double_the_target() {
        let t = SignInTimings::default();
        for _ in 0..20 {
            t.record("k", Duration::from_millis(100));
        }
        t.record("k", Duration::from_secs(5));
        let after = t.target();
        assert!(after > Duration::from_millis(100), "{after:?}");
        assert!(after < Duration::from_millis(180), "{after:?}");
    }
}
