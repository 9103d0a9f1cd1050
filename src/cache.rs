//! A bounded cache whose entries expire a fixed time after they were put: what the
//! directory and verification caches are built on. quick_cache holds the entries
//! (sharded, CLOCK-Pro eviction when full, reads without a global write lock), so a
//! stream of distinct keys taken from requests evicts the coldest entries instead of
//! growing the map or clearing it; each entry carries the instant it was put.

use std::hash::Hash;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use quick_cache::Equivalent;

/// Entries kept at most by default.
pub const MAX_ENTRIES: usize = 10_000;

pub struct TtlCache<V, K = String> {
    ttl: Duration,
    entries: quick_cache::sync::Cache<K, (Instant, V)>,
    counts: [Counts; STRIPES],
}

/// Look-up counts of the threads given one stripe: each on its own cache line, so that
/// workers counting at once do not contend for one (every request counts a look-up).
#[derive(Default)]
#[repr(align(64))]
struct Counts {
    hits: AtomicU64,
    misses: AtomicU64,
}

const STRIPES: usize = 8;

/// This thread's stripe, handed out round robin.
fn stripe() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static STRIPE: usize = NEXT.fetch_add(1, Ordering::Relaxed) % STRIPES;
    }
    STRIPE.with(|s| *s)
}

/// Look-ups since the start: a hit found a live entry; a miss found none, or an
/// expired one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    pub entries: usize,
}

impl CacheStats {
    /// Hits over look-ups (0 before the first).
    pub fn hit_ratio(&self) -> f64 {
        let total = self.hits + self.misses;
        if total == 0 {
            0.0
        } else {
            self.hits as f64 / total as f64
        }
    }
}

impl<V: Clone, K: Eq + Hash + Clone> TtlCache<V, K> {
    pub fn new(ttl: Duration) -> Self {
        Self::with_capacity(ttl, MAX_ENTRIES)
    }

    pub fn with_capacity(ttl: Duration, capacity: usize) -> Self {
        TtlCache {
            ttl,
            entries: quick_cache::sync::Cache::new(capacity),
            counts: Default::default(),
        }
    }

    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        Q: Hash + Equivalent<K> + ?Sized,
    {
        let found = self
            .entries
            .get(key)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, v)| v);
        let counts = &self.counts[stripe()];
        let counter = if found.is_some() {
            &counts.hits
        } else {
            &counts.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// An entry put less than `max_age` ago, expired or not: what is served while the
    /// entry's source cannot be read. Not counted as a look-up.
    pub fn get_stale<Q>(&self, key: &Q, max_age: Duration) -> Option<V>
    where
        Q: Hash + Equivalent<K> + ?Sized,
    {
        self.entries
            .get(key)
            .filter(|(at, _)| at.elapsed() < max_age)
            .map(|(_, v)| v)
    }

    pub fn put(&self, key: K, value: V) {
        self.entries.insert(key, (Instant::now(), value));
    }

    pub fn clear(&self) {
        self.entries.clear();
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self
                .counts
                .iter()
                .map(|c| c.hits.load(Ordering::Relaxed))
                .sum(),
            misses: self
                .counts
                .iter()
                .map(|c| c.misses.load(Ordering::Relaxed))
                .sum(),
            entries: self.entries.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_the_cache_stays_bounded_without_clearing() {
        let cache = TtlCache::new(Duration::from_secs(60));
        cache.put("a".to_owned(), 1);
        assert_eq!(cache.get("a"), Some(1));
        // A hot entry survives a stream of distinct keys larger than the cache.
        for i in 0..3 * MAX_ENTRIES {
            cache.put(i.to_string(), i);
            if i % 100 == 0 {
                assert_eq!(cache.get("a"), Some(1), "evicted after {i} puts");
            }
        }
        assert!(cache.stats().entries <= MAX_ENTRIES + MAX_ENTRIES / 10);
        assert_eq!(cache.get("no such key"), None);
        let stats = cache.stats();
        assert!(stats.hits > 0 && stats.misses == 1, "{stats:?}");

        let expired = TtlCache::new(Duration::ZERO);
        expired.put([7u8; 32], 1);
        assert_eq!(expired.get(&[7u8; 32]), None);
        assert_eq!(
            expired.get_stale(&[7u8; 32], Duration::from_secs(60)),
            Some(1)
        );
        assert_eq!(expired.get_stale(&[7u8; 32], Duration::ZERO), None);
        assert_eq!(expired.stats().misses, 1);
    }
}
