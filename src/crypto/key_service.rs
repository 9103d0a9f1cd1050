//! The signing keys in memory: the ring requests sign and verify with, reloaded from
//! the key store when keys were rotated elsewhere (another replica, the CLI).
//!
//! Staleness bound: the housekeeping task reloads every 60 s, and a token with an
//! unknown `kid` triggers a reload at most every `RELOAD_MIN_INTERVAL`.

use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use super::key_rotation::{RotationPolicy, RotationStep};
use super::key_store::KeyStore;
use super::keys::{KeyError, KeyRing, SigningKey};
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
    /// Automatic rotation (`key_rotation_days`), if on.
    rotation: Option<RotationPolicy>,
    last_reload: Mutex<Instant>,
}

impl KeyService {
    pub fn new(
        store: KeyStore,
        pool: DbPool,
        clock: Clock,
        ring: KeyRing,
        retention: i64,
        rotation: Option<RotationPolicy>,
    ) -> Self {
        KeyService {
            store,
            pool,
            clock,
            ring: RwLock::new(Arc::new(ring)),
            retention,
            rotation,
            last_reload: Mutex::new(Instant::now()),
        }
    }

    /// The keys in use now: the active one signs, all verify. A key published ahead
    /// signs from its time on, on every replica alike, without waiting for a reload.
    pub fn ring(&self) -> Arc<KeyRing> {
        let ring = self
            .ring
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let now = self.clock.now();
        match ring.next_change() {
            Some(at) if now >= at => match ring.at(now) {
                Ok(later) => {
                    let mut current = self.ring.write().unwrap_or_else(PoisonError::into_inner);
                    // A reload may have put a newer ring in since we read it: keep that.
                    if !Arc::ptr_eq(&current, &ring) {
                        return current.clone();
                    }
                    let later = Arc::new(later);
                    *current = later.clone();
                    later
                }
                Err(_) => ring,
            },
            _ => ring,
        }
    }

    /// The housekeeping step of automatic rotation ([`super::key_rotation`]): makes
    /// the next key or lets it take over when due, then reloads the keys.
    pub async fn rotate_if_due(&self) -> Result<RotationStep, KeyError> {
        let store = self.store.clone();
        let (now, policy) = (self.clock.now(), self.rotation);
        let pool = self.pool.clone();
        let step = tokio::task::spawn_blocking(move || {
            crate::db::with_conn(&pool, |conn| store.rotate_if_due(conn, now, policy))
        })
        .await
        .map_err(|e| KeyError::Db(DbError::Unavailable(e.to_string())))??;
        self.reload(false).await?;
        Ok(step)
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
            crate::db::with_conn(&pool, |conn| store.load_ring(conn, now, retention))
        })
        .await
        .map_err(|e| KeyError::Db(DbError::Unavailable(e.to_string())))??;
        let ring = Arc::new(ring);
        *self.ring.write().unwrap_or_else(PoisonError::into_inner) = ring.clone();
        Ok(ring)
    }
}
