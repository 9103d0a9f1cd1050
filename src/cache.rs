//! A small map whose entries expire after a fixed time: what the directory and
//! verification caches are built on. Bounded, so keys taken from requests cannot grow
//! it without limit; poison-free, so a panic elsewhere cannot take a request path down.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};
use std::time::{Duration, Instant};

/// Entries kept at most; past it, expired entries go, then everything.
const MAX_ENTRIES: usize = 10_000;

pub struct TtlCache<V> {
    ttl: Duration,
    entries: RwLock<HashMap<String, (Instant, V)>>,
}

impl<V: Clone> TtlCache<V> {
    pub fn new(ttl: Duration) -> Self {
        TtlCache {
            ttl,
            entries: RwLock::new(HashMap::new()),
        }
    }

    pub fn get(&self, key: &str) -> Option<V> {
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        entries
            .get(key)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, v)| v.clone())
    }

    pub fn put(&self, key: String, value: V) {
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        if entries.len() > MAX_ENTRIES {
            entries.retain(|_, (at, _)| at.elapsed() < self.ttl);
            if entries.len() > MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(key, (Instant::now(), value));
    }

    pub fn clear(&self) {
        self.entries
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_the_map_stays_bounded() {
        let cache = TtlCache::new(Duration::from_secs(60));
        cache.put("a".into(), 1);
        assert_eq!(cache.get("a"), Some(1));
        for i in 0..=MAX_ENTRIES + 1 {
            cache.put(i.to_string(), i);
        }
        assert!(cache.entries.read().unwrap().len() <= MAX_ENTRIES + 1);
        let expired = TtlCache::new(Duration::ZERO);
        expired.put("a".into(), 1);
        assert_eq!(expired.get("a"), None);
    }
}
