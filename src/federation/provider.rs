//! An upstream provider of brokered sign-in at run time: its discovery document
//! (cached for its max-age, bounded like keys; refetched at most once per
//! [`super::REFETCH_INTERVAL`]; the last good copy kept while it is unreachable) and
//! its ID-token keys, held by the same [`UpstreamKeys`] cache as trusted issuers'.

use std::sync::{Arc, PoisonError, RwLock};

use reqwest::Url;

use super::fetch::{self, FetchError};
use super::{DEFAULT_MAX_AGE, MAX_MAX_AGE, MIN_MAX_AGE, REFETCH_INTERVAL, UpstreamKeys};
use crate::config::{TrustedIssuer, UpstreamProvider};

/// What brokered sign-in needs of a discovery document.
#[derive(Debug, Clone)]
pub struct Metadata {
    pub issuer: String,
    pub authorization_endpoint: Url,
    pub token_endpoint: Url,
    pub jwks_uri: String,
}

#[derive(Debug, Default)]
struct Cached {
    metadata: Option<Metadata>,
    /// The issuer's keys, made when the metadata first named its `jwks_uri`.
    keys: Option<(TrustedIssuer, Arc<UpstreamKeys>)>,
    expires_at: i64,
    attempted_at: Option<i64>,
}

/// One configured upstream provider.
#[derive(Debug)]
pub struct Provider {
    pub config: UpstreamProvider,
    discovery_url: Url,
    client: reqwest::Client,
    cached: RwLock<Cached>,
    fetching: tokio::sync::Mutex<()>,
}

impl Provider {
    /// Checks the configuration and builds the HTTP client; nothing is fetched yet.
    pub fn from_config(config: &UpstreamProvider) -> Result<Provider, String> {
        config.check()?;
        let name = &config.name;
        let discovery_url =
            fetch::parse_upstream_url(&config.discovery_url).map_err(|e| format!("{name}: {e}"))?;
        let client =
            fetch::client(config.ca_file.as_deref()).map_err(|e| format!("{name}: {e}"))?;
        Ok(Provider {
            config: config.clone(),
            discovery_url,
            client,
            cached: RwLock::new(Cached::default()),
            fetching: tokio::sync::Mutex::new(()),
        })
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Whether the cached key settings are for this document's issuer and jwks_uri.
    fn same_keys(&self, metadata: &Metadata) -> bool {
        self.read().keys.as_ref().is_some_and(|(t, _)| {
            t.issuer == metadata.issuer && t.jwks_uri.as_deref() == Some(metadata.jwks_uri.as_str())
        })
    }

    /// The discovery document at `now`: the cached copy while fresh, else fetched
    /// (when the rate limit allows), else the last good copy.
    pub async fn metadata(&self, now: i64) -> Result<Metadata, String> {
        {
            let c = self.read();
            match &c.metadata {
                Some(m) if c.expires_at > now => return Ok(m.clone()),
                Some(m) if !may_fetch(&c, now) => return Ok(m.clone()),
                None if !may_fetch(&c, now) => {
                    return Err(format!(
                        "{}: its discovery document could not be fetched (see the server log)",
                        self.discovery_url
                    ));
                }
                _ => {}
            }
        }
        let _flight = self.fetching.lock().await;
        {
            // Whoever waited for the fetch just made takes its outcome: a failed
            // attempt without a copy is not retried by every waiter in turn.
            let c = self.read();
            match &c.metadata {
                Some(m) if c.expires_at > now || !may_fetch(&c, now) => return Ok(m.clone()),
                None if !may_fetch(&c, now) => {
                    return Err(format!(
                        "{}: its discovery document could not be fetched (see the server log)",
                        self.discovery_url
                    ));
                }
                _ => {}
            }
        }
        let result = self.fetch().await;
        // New key settings (another issuer or jwks_uri) are built before the lock is
        // taken: building reads the ca_file.
        let new_keys = match &result {
            Ok((metadata, _)) if !self.same_keys(metadata) => {
                let trusted = TrustedIssuer {
                    issuer: metadata.issuer.clone(),
                    jwks_uri: Some(metadata.jwks_uri.clone()),
                    ca_file: self.config.ca_file.clone(),
                    audience: Some(self.config.client_id.clone()),
                    ..Default::default()
                };
                let keys = tokio::task::spawn_blocking(move || {
                    UpstreamKeys::from_config(&trusted).map(|keys| (trusted, Arc::new(keys)))
                })
                .await
                .map_err(|e| e.to_string())
                .and_then(|built| built.map_err(|e| e.to_string()))
                .map_err(|e| format!("{}: {e}", self.config.name));
                Some(keys)
            }
            _ => None,
        };
        let mut c = self.cached.write().unwrap_or_else(PoisonError::into_inner);
        c.attempted_at = Some(now);
        match result {
            Ok((metadata, max_age)) => {
                let age = max_age
                    .unwrap_or(DEFAULT_MAX_AGE)
                    .clamp(MIN_MAX_AGE, MAX_MAX_AGE);
                if let Some(keys) = new_keys {
                    c.keys = Some(keys?);
                }
                tracing::debug!(provider = %self.config.name, issuer = %metadata.issuer, max_age = age, "upstream provider's metadata fetched");
                c.metadata = Some(metadata.clone());
                c.expires_at = now + age;
                Ok(metadata)
            }
            Err(reason) => {
                tracing::warn!(
                    provider = %self.config.name,
                    kept_last_good_copy = c.metadata.is_some(),
                    "cannot fetch the discovery document of an upstream provider: {reason}"
                );
                c.metadata.clone().ok_or(reason)
            }
        }
    }

    /// The issuer's keys (after [`Provider::metadata`] succeeded once).
    pub fn keys(&self) -> Option<(TrustedIssuer, Arc<UpstreamKeys>)> {
        self.read().keys.clone()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Cached> {
        self.cached.read().unwrap_or_else(PoisonError::into_inner)
    }

    async fn fetch(&self) -> Result<(Metadata, Option<i64>), String> {
        let url = &self.discovery_url;
        let doc = fetch::get_json(&self.client, url)
            .await
            .map_err(|e: FetchError| e.to_string())?;
        let text = |field: &str| {
            doc.json[field]
                .as_str()
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .ok_or_else(|| format!("{url}: the discovery document has no {field}"))
        };
        let endpoint = |field: &str| {
            text(field).and_then(|v| {
                fetch::parse_upstream_url(&v).map_err(|e| format!("{url}: {field}: {e}"))
            })
        };
        let issuer = text("issuer")?;
        if issuer.contains("{tenantid}") {
            return Err(format!(
                "{url}: a multi-tenant issuer ({issuer}) is not supported; use the discovery URL of one tenant"
            ));
        }
        let metadata = Metadata {
            issuer,
            authorization_endpoint: endpoint("authorization_endpoint")?,
            token_endpoint: endpoint("token_endpoint")?,
            jwks_uri: endpoint("jwks_uri")?.to_string(),
        };
        Ok((metadata, doc.max_age))
    }
}

fn may_fetch(cached: &Cached, now: i64) -> bool {
    cached
        .attempted_at
        .is_none_or(|at| now >= at + REFETCH_INTERVAL)
}

/// The configured providers, each with the id of the local tenant it serves.
#[derive(Debug, Default)]
pub struct Providers {
    all: Vec<(String, Arc<Provider>)>,
}

impl Providers {
    pub fn new(all: Vec<(String, Arc<Provider>)>) -> Providers {
        Providers { all }
    }

    /// The tenant's providers, in configuration order.
    pub fn of_tenant(&self, tenant_id: &str) -> Vec<Arc<Provider>> {
        self.all
            .iter()
            .filter(|(t, _)| t == tenant_id)
            .map(|(_, p)| p.clone())
            .collect()
    }

    pub fn named(&self, tenant_id: &str, name: &str) -> Option<Arc<Provider>> {
        self.of_tenant(tenant_id)
            .into_iter()
            .find(|p| p.config.name.eq_ignore_ascii_case(name))
    }

    /// The provider a `domain_hint` or B2C-style `idp` hint names: one of its domain
    /// hints, or its name.
    pub fn hinted(&self, tenant_id: &str, hint: &str) -> Option<Arc<Provider>> {
        let hint = hint.trim();
        self.of_tenant(tenant_id).into_iter().find(|p| {
            p.config.name.eq_ignore_ascii_case(hint)
                || p.config
                    .domain_hints
                    .iter()
                    .any(|d| d.trim().eq_ignore_ascii_case(hint))
        })
    }

    /// The tenant signs in only through its upstream providers.
    pub fn hides_local_sign_in(&self, tenant_id: &str) -> bool {
        self.of_tenant(tenant_id)
            .iter()
            .any(|p| p.config.hide_local_sign_in)
    }
}
