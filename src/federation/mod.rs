//! Trusted upstream issuers' signing keys (a real Entra or B2C tenant, any OpenID
//! provider): from a JWKS file, a `jwks_uri`, or an OpenID discovery document, kept in
//! memory for their Cache-Control max-age (bounded), refetched on an unknown `kid` at
//! most once per [`REFETCH_INTERVAL`] (concurrent misses wait for one fetch), and
//! served from the last good copy while the upstream cannot be reached.

pub mod fetch;
pub mod provider;

use std::sync::{Arc, PoisonError, RwLock};

use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::JwkSet;
use reqwest::Url;
use serde_json::Value;

use crate::clock::Clock;
use crate::config::TrustedIssuer;

/// Seconds between two fetches of one upstream's keys (an unknown `kid` or an
/// expired copy), on the injected clock.
pub const REFETCH_INTERVAL: i64 = 30;
/// How long fetched keys are kept without a max-age.
pub const DEFAULT_MAX_AGE: i64 = 3600;
/// The bounds put on an upstream's max-age.
pub const MIN_MAX_AGE: i64 = 300;
pub const MAX_MAX_AGE: i64 = 86_400;

/// An upstream's signing keys, parsed once.
#[derive(Debug)]
pub struct KeySet {
    keys: Vec<(Option<String>, DecodingKey)>,
}

impl KeySet {
    /// The signing keys of a JWKS document; keys for encryption, or of a type that
    /// cannot verify a JWT, are left out.
    pub fn from_jwks(json: &Value) -> Result<KeySet, String> {
        let set: JwkSet =
            serde_json::from_value(json.clone()).map_err(|e| format!("not a JWKS: {e}"))?;
        let keys: Vec<_> = set
            .keys
            .iter()
            .filter(|k| {
                !matches!(
                    k.common.public_key_use,
                    Some(jsonwebtoken::jwk::PublicKeyUse::Encryption)
                )
            })
            .filter_map(|k| {
                DecodingKey::from_jwk(k)
                    .ok()
                    .map(|key| (k.common.key_id.clone(), key))
            })
            .collect();
        if keys.is_empty() {
            return Err("the JWKS has no signing keys".into());
        }
        Ok(KeySet { keys })
    }

    /// The key a token's header names; a token without `kid` only with a single key.
    pub fn find(&self, kid: Option<&str>) -> Option<&DecodingKey> {
        match kid {
            Some(kid) => self
                .keys
                .iter()
                .find(|(k, _)| k.as_deref() == Some(kid))
                .map(|(_, key)| key),
            None if self.keys.len() == 1 => self.keys.first().map(|(_, key)| key),
            None => None,
        }
    }

    pub fn kids(&self) -> Vec<&str> {
        self.keys.iter().filter_map(|(k, _)| k.as_deref()).collect()
    }
}

/// Where an upstream's keys come from.
#[derive(Debug)]
enum Source {
    File,
    Jwks(Url),
    Discovery(Url),
}

#[derive(Debug, Default)]
struct Cached {
    keys: Option<Arc<KeySet>>,
    /// Fetched keys are fresh until then (unix seconds).
    expires_at: i64,
    /// The last fetch that counts against the rate limit.
    attempted_at: Option<i64>,
    /// Moves on every fetch, so misses that waited for one see it finished.
    generation: u64,
}

/// One trusted issuer's keys.
#[derive(Debug)]
pub struct UpstreamKeys {
    issuer: String,
    source: Source,
    client: Option<reqwest::Client>,
    cached: RwLock<Cached>,
    /// Held by the one fetch in flight.
    fetching: tokio::sync::Mutex<()>,
}

impl UpstreamKeys {
    /// Checks a trusted issuer's configuration and reads its JWKS file; nothing is
    /// fetched yet.
    pub fn from_config(config: &TrustedIssuer) -> Result<UpstreamKeys, String> {
        let name = &config.issuer;
        if name.trim().is_empty() {
            return Err("a trusted issuer has an empty issuer".into());
        }
        if config.verify && config.audience.is_none() {
            return Err(format!(
                "{name}: verify = true needs an audience (the aud its tokens must carry)"
            ));
        }
        let given = [
            config.jwks_file.is_some(),
            config.jwks_uri.is_some(),
            config.discovery_url.is_some(),
        ];
        if given.iter().filter(|g| **g).count() != 1 {
            return Err(format!(
                "{name}: give exactly one of jwks_file, jwks_uri and discovery_url"
            ));
        }
        let url_of =
            |text: &str| fetch::parse_upstream_url(text).map_err(|e| format!("{name}: {e}"));
        let (source, keys) = match (&config.jwks_file, &config.jwks_uri, &config.discovery_url) {
            (Some(path), _, _) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                let json: Value = serde_json::from_str(&text)
                    .map_err(|e| format!("{}: not a JWKS: {e}", path.display()))?;
                let keys =
                    KeySet::from_jwks(&json).map_err(|e| format!("{}: {e}", path.display()))?;
                (Source::File, Some(Arc::new(keys)))
            }
            (_, Some(uri), _) => (Source::Jwks(url_of(uri)?), None),
            (_, _, Some(url)) => (Source::Discovery(url_of(url)?), None),
            _ => unreachable!("exactly one source is given"),
        };
        let client = match source {
            Source::File => None,
            _ => {
                Some(fetch::client(config.ca_file.as_deref()).map_err(|e| format!("{name}: {e}"))?)
            }
        };
        Ok(UpstreamKeys {
            issuer: config.issuer.clone(),
            source,
            client,
            cached: RwLock::new(Cached {
                keys,
                ..Default::default()
            }),
            fetching: tokio::sync::Mutex::new(()),
        })
    }

    fn is_remote(&self) -> bool {
        !matches!(self.source, Source::File)
    }

    /// Fetches the keys in the background, once, at start: a failure is logged and
    /// does not count against the rate limit (the first use fetches again).
    pub fn prefetch(self: &Arc<Self>, clock: Clock) {
        if !self.is_remote() || tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        let this = self.clone();
        tokio::spawn(async move {
            let _flight = this.fetching.lock().await;
            if this.read().keys.is_none() {
                this.refresh(clock.now(), false).await;
            }
        });
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Cached> {
        self.cached.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn may_fetch(cached: &Cached, now: i64) -> bool {
        cached
            .attempted_at
            .is_none_or(|at| now >= at + REFETCH_INTERVAL)
    }

    /// The keys to verify a token signed with `kid`, at `now`: the cached ones when
    /// they are fresh and hold `kid`, else fetched again when the rate limit allows,
    /// else the last good copy (perhaps without `kid`). `None`: no keys were ever had.
    pub async fn keys_for(&self, kid: Option<&str>, now: i64) -> Option<Arc<KeySet>> {
        let generation = {
            let c = self.read();
            match &c.keys {
                Some(keys)
                    if (!self.is_remote() || c.expires_at > now) && keys.find(kid).is_some() =>
                {
                    return Some(keys.clone());
                }
                _ if !self.is_remote() || !Self::may_fetch(&c, now) => return c.keys.clone(),
                _ => c.generation,
            }
        };
        let _flight = self.fetching.lock().await;
        {
            let c = self.read();
            // Another request fetched while this one waited: take its result.
            if c.generation != generation || !Self::may_fetch(&c, now) {
                return c.keys.clone();
            }
        }
        self.refresh(now, true).await;
        self.read().keys.clone()
    }

    /// Fetches the keys and keeps them, or keeps the last good copy on failure.
    async fn refresh(&self, now: i64, count: bool) {
        let result = self.fetch().await;
        let mut c = self.cached.write().unwrap_or_else(PoisonError::into_inner);
        c.generation += 1;
        if count {
            c.attempted_at = Some(now);
        }
        match result {
            Ok((keys, max_age)) => {
                let age = max_age
                    .unwrap_or(DEFAULT_MAX_AGE)
                    .clamp(MIN_MAX_AGE, MAX_MAX_AGE);
                tracing::debug!(issuer = %self.issuer, kids = ?keys.kids(), max_age = age, "upstream keys fetched");
                c.keys = Some(Arc::new(keys));
                c.expires_at = now + age;
                c.attempted_at = Some(now);
            }
            Err(reason) => tracing::warn!(
                issuer = %self.issuer,
                kept_last_good_copy = c.keys.is_some(),
                "cannot fetch the keys of a trusted issuer: {reason}"
            ),
        }
    }

    async fn fetch(&self) -> Result<(KeySet, Option<i64>), String> {
        let Some(client) = &self.client else {
            return Err("no URL to fetch from".into());
        };
        let (jwks_url, discovery_age) = match &self.source {
            Source::File => return Err("keys from a file are not fetched".into()),
            Source::Jwks(url) => (url.clone(), None),
            Source::Discovery(url) => {
                let doc = fetch::get_json(client, url)
                    .await
                    .map_err(|e| e.to_string())?;
                let named = doc.json["issuer"].as_str().unwrap_or_default();
                if named != self.issuer {
                    return Err(format!(
                        "{url}: the discovery document names the issuer {named:?}, not the configured {:?}; refused",
                        self.issuer
                    ));
                }
                let jwks = doc.json["jwks_uri"]
                    .as_str()
                    .ok_or_else(|| format!("{url}: the discovery document has no jwks_uri"))?;
                (fetch::parse_upstream_url(jwks)?, doc.max_age)
            }
        };
        let doc = fetch::get_json(client, &jwks_url)
            .await
            .map_err(|e| e.to_string())?;
        let keys = KeySet::from_jwks(&doc.json).map_err(|e| format!("{jwks_url}: {e}"))?;
        let max_age = match (discovery_age, doc.max_age) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Ok((keys, max_age))
    }
}
