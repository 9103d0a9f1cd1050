//! What every request shares: settings, the database pool, the password hasher, the
//! signing keys in memory and a short-lived cache of tenants and audiences.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use crate::clock::Clock;
use crate::config::Settings;
use crate::crypto::keys::{KeyError, KeyRing, KeyStore};
use crate::crypto::password::PasswordHasher;
use crate::db::tenants::Tenant;
use crate::db::{DbConnection, DbError, DbPool, DbResult};

/// How long a tenant or audience lookup is reused before asking the database again:
/// changes made with the CLI or on another replica show up within this time.
const DIRECTORY_TTL: Duration = Duration::from_secs(5);
/// Unknown `kid`s trigger a key reload at most this often.
const KEY_RELOAD_MIN_INTERVAL: Duration = Duration::from_secs(2);

#[derive(Debug, Clone)]
pub struct TenantInfo {
    pub id: String,
    pub name: String,
    pub display_name: String,
    pub default_client_id: Option<String>,
    /// B2C user flows served, lower-case.
    pub policies: Vec<String>,
    /// B2C tokens use the `tfp` issuer format.
    pub b2c_tfp_issuer: bool,
}

impl TenantInfo {
    pub fn has_policy(&self, policy: &str) -> bool {
        self.policies.iter().any(|p| p.eq_ignore_ascii_case(policy))
    }
}

#[derive(Clone)]
pub struct AppState {
    pub inner: Arc<Inner>,
}

pub struct Inner {
    pub settings: Settings,
    /// Where every expiry check gets the time from.
    pub clock: Clock,
    pub public_url: String,
    pub pool: DbPool,
    pub hasher: PasswordHasher,
    pub default_tenant_id: String,
    /// Issuers whose tokens the token-exchange grant accepts.
    pub external_issuers: Vec<crate::oauth::exchange::ExternalIssuer>,
    keys: KeyService,
    tenants: TtlCache<Option<Arc<TenantInfo>>>,
    audiences: TtlCache<Arc<HashSet<String>>>,
    clients: TtlCache<Option<Arc<crate::db::clients::Client>>>,
    /// Access tokens verified recently, by SHA-256 of the whole token.
    verified: TtlCache<Arc<crate::oauth::verify::Verified>>,
    pub session_keys: crate::oauth::session::SessionKeys,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.inner
    }
}

/// What [`AppState::new`] is built from.
pub struct StateParts {
    pub settings: Settings,
    pub clock: Clock,
    pub public_url: String,
    pub pool: DbPool,
    pub hasher: PasswordHasher,
    pub default_tenant_id: String,
    pub ring: KeyRing,
    pub external_issuers: Vec<crate::oauth::exchange::ExternalIssuer>,
}

impl AppState {
    pub fn new(parts: StateParts) -> Self {
        let StateParts {
            settings,
            clock,
            public_url,
            pool,
            hasher,
            default_tenant_id,
            ring,
            external_issuers,
        } = parts;
        let retention = key_retention(&settings);
        AppState {
            inner: Arc::new(Inner {
                keys: KeyService {
                    store: settings.key_store(),
                    ring: RwLock::new(Arc::new(ring)),
                    retention,
                    last_reload: Mutex::new(Instant::now()),
                },
                settings,
                clock,
                public_url,
                pool,
                hasher,
                default_tenant_id,
                external_issuers,
                tenants: TtlCache::default(),
                audiences: TtlCache::default(),
                clients: TtlCache::default(),
                verified: TtlCache::default(),
                session_keys: Default::default(),
            }),
        }
    }

    /// Runs a diesel closure on a blocking thread with a pooled connection.
    pub async fn db<T, F>(&self, f: F) -> DbResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> DbResult<T> + Send + 'static,
    {
        let pool = self.pool.clone();
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            let mut conn = pool.get()?;
            f(&mut conn)
        })
        .await
        .map_err(|e| DbError::Unavailable(format!("blocking task failed: {e}")))?
    }

    fn tenant_info(&self, t: Tenant) -> TenantInfo {
        TenantInfo {
            policies: t.policy_list().unwrap_or_default(),
            b2c_tfp_issuer: t.b2c_issuer == "tfp",
            id: t.id,
            name: t.name,
            display_name: t.display_name,
            default_client_id: t.default_client_id,
        }
    }

    /// A tenant by GUID or name, case-insensitively.
    pub async fn tenant(&self, id_or_name: &str) -> DbResult<Option<Arc<TenantInfo>>> {
        let key = id_or_name.trim().to_ascii_lowercase();
        // Names come from URLs: anything that cannot be a tenant is not looked up or
        // cached, so requests cannot grow the cache with junk keys.
        let plausible = !key.is_empty()
            && key.len() <= 255
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
        if !plausible {
            return Ok(None);
        }
        if let Some(hit) = self.tenants.get(&key) {
            return Ok(hit);
        }
        let lookup = key.clone();
        let found = self
            .db(move |c| crate::db::tenants::find(c, &lookup))
            .await?
            .map(|t| Arc::new(self.tenant_info(t)));
        self.tenants.put(key, found.clone());
        Ok(found)
    }

    pub async fn default_tenant(&self) -> DbResult<Arc<TenantInfo>> {
        let id = self.default_tenant_id.clone();
        self.tenant(&id)
            .await?
            .ok_or_else(|| DbError::Corrupt(format!("the default tenant {id} was removed")))
    }

    /// Client ids registered in the tenant: the audiences its tokens may carry.
    pub async fn audiences(&self, tenant_id: &str) -> DbResult<Arc<HashSet<String>>> {
        if let Some(hit) = self.audiences.get(tenant_id) {
            return Ok(hit);
        }
        let tid = tenant_id.to_owned();
        let ids: HashSet<String> = self
            .db(move |c| crate::db::clients::ids(c, &tid))
            .await?
            .into_iter()
            .collect();
        let ids = Arc::new(ids);
        self.audiences.put(tenant_id.to_owned(), ids.clone());
        Ok(ids)
    }

    /// A client application by id, through the same short-lived cache: secret changes
    /// and deletions apply within `DIRECTORY_TTL`.
    pub async fn client(
        &self,
        client_id: &str,
    ) -> DbResult<Option<Arc<crate::db::clients::Client>>> {
        if client_id.len() > 255 {
            return Ok(None);
        }
        if let Some(hit) = self.clients.get(client_id) {
            return Ok(hit);
        }
        let lookup = client_id.to_owned();
        let found = self
            .db(move |c| crate::db::clients::find(c, &lookup))
            .await?
            .map(Arc::new);
        self.clients.put(client_id.to_owned(), found.clone());
        Ok(found)
    }

    /// A client registered in the given tenant (a client of another tenant is `None`).
    pub async fn tenant_client(
        &self,
        tenant_id: &str,
        client_id: &str,
    ) -> DbResult<Option<crate::db::clients::Client>> {
        Ok(self
            .client(client_id)
            .await?
            .filter(|c| c.tenant_id == tenant_id)
            .map(|c| (*c).clone()))
    }

    pub(crate) fn cached_verification(
        &self,
        token_hash: &str,
    ) -> Option<Arc<crate::oauth::verify::Verified>> {
        self.verified.get(token_hash)
    }

    pub(crate) fn remember_verification(
        &self,
        token_hash: String,
        verified: Arc<crate::oauth::verify::Verified>,
    ) {
        self.verified.put(token_hash, verified);
    }

    pub fn key_ring(&self) -> Arc<KeyRing> {
        self.keys.current()
    }

    /// Re-reads the keys (after a rotation elsewhere). With `only_if_stale`, at most
    /// once per `KEY_RELOAD_MIN_INTERVAL`.
    pub async fn reload_keys(&self, only_if_stale: bool) -> Result<Arc<KeyRing>, KeyError> {
        {
            let mut last = self.keys.last_reload.lock().expect("not poisoned");
            if only_if_stale && last.elapsed() < KEY_RELOAD_MIN_INTERVAL {
                return Ok(self.keys.current());
            }
            *last = Instant::now();
        }
        let store = self.keys.store.clone();
        let retention = self.keys.retention;
        let pool = self.pool.clone();
        let now = self.clock.now();
        let ring = tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(DbError::from)?;
            store.load_ring(&mut conn, now, retention)
        })
        .await
        .map_err(|e| KeyError::Db(DbError::Unavailable(e.to_string())))??;
        let ring = Arc::new(ring);
        *self.keys.ring.write().expect("not poisoned") = ring.clone();
        Ok(ring)
    }

    /// Forgets cached tenants and audiences (after changes made through this process).
    pub fn invalidate_directory(&self) {
        self.tenants.clear();
        self.audiences.clear();
        self.clients.clear();
        self.verified.clear();
    }
}

/// A retired key stays published while tokens it signed can still be valid.
pub fn key_retention(settings: &Settings) -> i64 {
    settings.access_token_lifetime + 300
}

struct KeyService {
    store: KeyStore,
    ring: RwLock<Arc<KeyRing>>,
    retention: i64,
    last_reload: Mutex<Instant>,
}

impl KeyService {
    fn current(&self) -> Arc<KeyRing> {
        self.ring.read().expect("not poisoned").clone()
    }
}

struct TtlCache<V> {
    entries: RwLock<HashMap<String, (Instant, V)>>,
}

impl<V> Default for TtlCache<V> {
    fn default() -> Self {
        TtlCache {
            entries: RwLock::new(HashMap::new()),
        }
    }
}

impl<V: Clone> TtlCache<V> {
    fn get(&self, key: &str) -> Option<V> {
        let entries = self.entries.read().expect("not poisoned");
        entries
            .get(key)
            .filter(|(at, _)| at.elapsed() < DIRECTORY_TTL)
            .map(|(_, v)| v.clone())
    }

    fn put(&self, key: String, value: V) {
        let mut entries = self.entries.write().expect("not poisoned");
        // Unknown names from URLs must not grow the map without bound.
        if entries.len() > 10_000 {
            entries.retain(|_, (at, _)| at.elapsed() < DIRECTORY_TTL);
            if entries.len() > 10_000 {
                entries.clear();
            }
        }
        entries.insert(key, (Instant::now(), value));
    }

    fn clear(&self) {
        self.entries.write().expect("not poisoned").clear();
    }
}
