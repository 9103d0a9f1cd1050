//! The directory as the request paths see it: tenants, their registered clients and
//! audiences, read through short-lived caches.
//!
//! Staleness bound: a change made with the CLI or on another replica is seen within
//! `DIRECTORY_TTL`; changes made through this process call `invalidate`. The same
//! holds for the users that `GET /v1.0/me` shows (a user found; one not found is
//! looked up again at every request).
//!
//! With the database unreachable, the tenants and audiences that token verification
//! needs are served from the last lookup for `db_outage_grace_seconds` past
//! `DIRECTORY_TTL`; after that the lookup fails (503).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use crate::cache::TtlCache;
use crate::db::clients::Client;
use crate::db::tenants::Tenant;
use crate::db::users::User;
use crate::db::{self, DbError, DbPool, DbResult};

/// How long a tenant, client or audience lookup is reused.
pub const DIRECTORY_TTL: Duration = Duration::from_secs(5);

/// A tenant as requests need it.
#[derive(Debug, Clone)]
pub struct TenantInfo {
    pub id: String,
    pub name: String,
    pub display_name: String,
    pub default_client_id: Option<String>,
    /// B2C user flows served, as registered (compare without case).
    pub policies: Vec<String>,
    /// B2C tokens use the `tfp` issuer format.
    pub b2c_tfp_issuer: bool,
}

impl TenantInfo {
    pub fn has_policy(&self, policy: &str) -> bool {
        self.policies.iter().any(|p| p.eq_ignore_ascii_case(policy))
    }
}

impl From<Tenant> for TenantInfo {
    fn from(t: Tenant) -> Self {
        TenantInfo {
            policies: t.policy_list().unwrap_or_default(),
            b2c_tfp_issuer: t.b2c_issuer == "tfp",
            id: t.id,
            name: t.name,
            display_name: t.display_name,
            default_client_id: t.default_client_id,
        }
    }
}

pub struct DirectoryService {
    pool: DbPool,
    default_tenant_id: String,
    tenants: TtlCache<Option<Arc<TenantInfo>>>,
    audiences: TtlCache<Arc<HashSet<String>>>,
    clients: TtlCache<Option<Arc<Client>>>,
    spa_origins: TtlCache<Arc<HashSet<String>>>,
    /// Users by tenant and id, for `GET /me`.
    users: TtlCache<Arc<User>>,
    /// How old a tenant or audience lookup may be when the database cannot be read.
    outage_max_age: Duration,
}

impl DirectoryService {
    /// `outage_grace`: `db_outage_grace_seconds`.
    pub fn new(pool: DbPool, default_tenant_id: String, outage_grace: Duration) -> Self {
        DirectoryService {
            pool,
            default_tenant_id,
            tenants: TtlCache::new(DIRECTORY_TTL),
            audiences: TtlCache::new(DIRECTORY_TTL),
            clients: TtlCache::new(DIRECTORY_TTL),
            spa_origins: TtlCache::new(DIRECTORY_TTL),
            users: TtlCache::new(DIRECTORY_TTL),
            outage_max_age: DIRECTORY_TTL + outage_grace,
        }
    }

    /// The tenant served by `/auth/*` and the root discovery document.
    pub fn default_tenant_id(&self) -> &str {
        &self.default_tenant_id
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
        let found = match db::run(&self.pool, move |c| db::tenants::find(c, &lookup)).await {
            Ok(found) => found.map(|t| Arc::new(TenantInfo::from(t))),
            Err(e) => return self.stale(&self.tenants, &key, e),
        };
        self.tenants.put(key, found.clone());
        Ok(found)
    }

    pub async fn default_tenant(&self) -> DbResult<Arc<TenantInfo>> {
        let id = &self.default_tenant_id;
        self.tenant(id)
            .await?
            .ok_or_else(|| DbError::Corrupt(format!("the default tenant {id} was removed")))
    }

    /// Client ids registered in the tenant: the audiences its tokens may carry.
    pub async fn audiences(&self, tenant_id: &str) -> DbResult<Arc<HashSet<String>>> {
        if let Some(hit) = self.audiences.get(tenant_id) {
            return Ok(hit);
        }
        let tid = tenant_id.to_owned();
        let ids: HashSet<String> =
            match db::run(&self.pool, move |c| db::clients::ids(c, &tid)).await {
                Ok(ids) => ids.into_iter().collect(),
                Err(e) => return self.stale(&self.audiences, tenant_id, e),
            };
        let ids = Arc::new(ids);
        self.audiences.put(tenant_id.to_owned(), ids.clone());
        Ok(ids)
    }

    /// The origins of the tenant's SPA redirect URIs (lower case): the origins a CORS
    /// preflight of its token endpoint may come from.
    pub async fn spa_origins(&self, tenant_id: &str) -> DbResult<Arc<HashSet<String>>> {
        if let Some(hit) = self.spa_origins.get(tenant_id) {
            return Ok(hit);
        }
        let tid = tenant_id.to_owned();
        let clients = db::run(&self.pool, move |c| db::clients::list(c, &tid)).await?;
        let origins: HashSet<String> = clients
            .iter()
            .flat_map(|c| c.spa_redirect_uri_list().unwrap_or_default())
            .filter_map(|u| db::clients::origin_of(&u))
            .collect();
        let origins = Arc::new(origins);
        self.spa_origins.put(tenant_id.to_owned(), origins.clone());
        Ok(origins)
    }

    /// A client application by id: secret changes and deletions apply within
    /// `DIRECTORY_TTL`.
    pub async fn client(&self, client_id: &str) -> DbResult<Option<Arc<Client>>> {
        if client_id.len() > 255 {
            return Ok(None);
        }
        if let Some(hit) = self.clients.get(client_id) {
            return Ok(hit);
        }
        let lookup = client_id.to_owned();
        let found = db::run(&self.pool, move |c| db::clients::find(c, &lookup))
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
    ) -> DbResult<Option<Client>> {
        Ok(self
            .client(client_id)
            .await?
            .filter(|c| c.tenant_id == tenant_id)
            .map(|c| (*c).clone()))
    }

    /// A user of the tenant by object id, as `GET /me` shows them: changes made
    /// elsewhere apply within `DIRECTORY_TTL`. A user not found is not cached.
    pub async fn user(&self, tenant_id: &str, id: &str) -> DbResult<Option<Arc<User>>> {
        if id.len() > 255 {
            return Ok(None);
        }
        let key = format!("{tenant_id}/{id}");
        if let Some(hit) = self.users.get(&key) {
            return Ok(Some(hit));
        }
        let lookup = id.to_owned();
        let found = db::run(&self.pool, move |c| db::users::find(c, &lookup))
            .await?
            .filter(|u| u.tenant_id == tenant_id)
            .map(Arc::new);
        if let Some(u) = &found {
            self.users.put(key, u.clone());
        }
        Ok(found)
    }

    /// The last lookup of `key` within the outage bound when the database could not
    /// be reached; the error otherwise.
    fn stale<V: Clone>(&self, cache: &TtlCache<V>, key: &str, error: DbError) -> DbResult<V> {
        match error {
            DbError::Unavailable(_) | DbError::Query(_) => {
                cache.get_stale(key, self.outage_max_age).ok_or(error)
            }
            other => Err(other),
        }
    }

    /// Each cache's look-ups and entries, by name: for `/metrics`.
    pub fn cache_stats(&self) -> [(&'static str, crate::cache::CacheStats); 5] {
        [
            ("tenants", self.tenants.stats()),
            ("audiences", self.audiences.stats()),
            ("clients", self.clients.stats()),
            ("spa_origins", self.spa_origins.stats()),
            ("users", self.users.stats()),
        ]
    }

    /// Forgets cached tenants, clients, audiences and users.
    pub fn invalidate(&self) {
        self.users.clear();
        self.tenants.clear();
        self.audiences.clear();
        self.clients.clear();
        self.spa_origins.clear();
    }
}
