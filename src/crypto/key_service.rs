//! The signing keys in memory: the ring requests sign and verify with, reloaded from
//! the key store when keys were rotated elsewhere (another replica, the CLI).
//!
//! Staleness bound: the housekeeping task reloads every 60 s, and a token with an
//! unknown `kid` triggers a reload at most every `RELOAD_MIN_INTERVAL`.

use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use super::keys::{KeyError, KeyRing, KeyStore, SigningKey};
use crate::clock::Clock;
use crate::db::{DbError, DbPool};

/// Unknown `kid`s trigger a key reload at most this often.
const RELOAD_MIN_INTERVAL: Duration = Duration::from_secs(2);

pub struct KeyService {
    store: KeyStore,
    pool: DbPool,
    clock: Clock,
    ring: RwLock<Arc<KeyRing>>,
    /// How long a retired key stays published, seconds.
    retention: i64,
    last_reload: Mutex<Instant>,
}

impl KeyService {
    pub fn new(store: KeyStore, pool: DbPool, clock: Clock, ring: KeyRing, retention: i64) -> Self {
        KeyService {
            store,
            pool,
            clock,
            ring: RwLock::new(Arc::new(ring)),
            retention,
            last_reload: Mutex::new(Instant::now()),
        }
    }

    /// The keys in use now: the active one signs, all verify.
    pub fn ring(&self) -> Arc<KeyRing> {
        self.ring
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The published key with this `kid`; an unknown `kid` reloads the keys first
    /// (perhaps another replica or the CLI rotated them since we loaded them).
    pub async fn find(&self, kid: &str) -> Result<Option<Arc<SigningKey>>, KeyError> {
        let ring = self.ring();
        if let Some(key) = ring.get(kid) {
            return Ok(Some(key.clone()));
        }
        Ok(self.reload(true).await?.get(kid).cloned())
    }

    /// Re-reads the keys (after a rotation elsewhere). With `only_if_stale`, at most
    /// once per `RELOAD_MIN_INTERVAL`.
    pub async fn reload(&self, only_if_stale: bool) -> Result<Arc<KeyRing>, KeyError> {
        {
            let mut last = self
                .last_reload
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if only_if_stale && last.elapsed() < RELOAD_MIN_INTERVAL {
                return Ok(self.ring());
            }
            *last = Instant::now();
        }
        let store = self.store.clone();
        let (now, retention) = (self.clock.now(), self.retention);
        let pool = self.pool.clone();
        let ring = tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(DbError::from)?;
            store.load_ring(&mut conn, now, retention)
        })
        .await
        .map_err(|e| KeyError::Db(DbError::Unavailable(e.to_string())))??;
        let ring = Arc::new(ring);
        *self.ring.write().unwrap_or_else(PoisonError::into_inner) = ring.clone();
        Ok(ring)
    }
}
