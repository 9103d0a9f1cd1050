//! Password hashing: argon2id for new hashes, bcrypt accepted for imported ones and
//! upgraded on the next successful sign-in. Hashing runs on blocking threads with a
//! bounded number at once and a bounded queue, so a sign-in storm cannot starve the
//! actix workers or grow memory without limit.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;

/// OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane.
pub const DEFAULT_MEMORY_KIB: u32 = 19_456;
pub const DEFAULT_ITERATIONS: u32 = 2;
pub const DEFAULT_PARALLELISM: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("too many password checks in progress")]
    Busy,
    #[error("password hashing failed: {0}")]
    Internal(String),
}

/// The outcome of checking a password against a stored hash.
#[derive(Debug)]
pub enum PasswordCheck {
    Valid {
        /// A fresh argon2id hash when the stored one is bcrypt or uses other parameters.
        upgrade: Option<String>,
    },
    Invalid,
}

#[derive(Clone)]
pub struct PasswordHasher {
    inner: Arc<Inner>,
}

struct Inner {
    params: Params,
    permits: Semaphore,
    queued: AtomicUsize,
    queue_limit: usize,
    /// Verified against when the user does not exist, so that costs the same.
    dummy_hash: OnceLock<String>,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("params", &self.inner.params)
            .field("queue_limit", &self.inner.queue_limit)
            .finish_non_exhaustive()
    }
}

impl PasswordHasher {
    /// `concurrency` hashes run at once; up to `queue_limit` more wait.
    pub fn new(
        memory_kib: u32,
        iterations: u32,
        concurrency: usize,
        queue_limit: usize,
    ) -> Result<Self, HashError> {
        let params = Params::new(memory_kib, iterations, DEFAULT_PARALLELISM, None)
            .map_err(|e| HashError::Internal(e.to_string()))?;
        Ok(PasswordHasher {
            inner: Arc::new(Inner {
                params,
                permits: Semaphore::new(concurrency.max(1)),
                queued: AtomicUsize::new(0),
                queue_limit,
                dummy_hash: OnceLock::new(),
            }),
        })
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            self.inner.params.clone(),
        )
    }

    /// Hashes on the calling thread: for the CLI and seeding, never an actix worker.
    pub fn hash_blocking(&self, password: &SecretString) -> Result<String, HashError> {
        self.argon2()
            .hash_password(password.expose_secret().as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| HashError::Internal(e.to_string()))
    }

    /// Checks on the calling thread. `stored = None` (unknown user, or a user without
    /// a password) verifies against a dummy hash and always fails.
    pub fn verify_blocking(
        &self,
        password: &SecretString,
        stored: Option<&str>,
    ) -> Result<PasswordCheck, HashError> {
        let candidate = password.expose_secret().as_bytes();
        let Some(stored) = stored else {
            let dummy = self.dummy_hash()?;
            let _ = self.verify_argon2(candidate, &dummy);
            return Ok(PasswordCheck::Invalid);
        };
        if is_bcrypt(stored) {
            return match bcrypt::verify(candidate, stored) {
                Ok(true) => Ok(PasswordCheck::Valid {
                    upgrade: Some(self.hash_blocking(password)?),
                }),
                Ok(false) => Ok(PasswordCheck::Invalid),
                Err(_) => Ok(PasswordCheck::Invalid),
            };
        }
        match self.verify_argon2(candidate, stored) {
            Some(true) => {
                let upgrade = if self.needs_rehash(stored) {
                    Some(self.hash_blocking(password)?)
                } else {
                    None
                };
                Ok(PasswordCheck::Valid { upgrade })
            }
            // An unreadable stored hash must not become a sign-in.
            Some(false) | None => Ok(PasswordCheck::Invalid),
        }
    }

    fn verify_argon2(&self, candidate: &[u8], stored: &str) -> Option<bool> {
        let parsed = PasswordHash::new(stored).ok()?;
        Some(self.argon2().verify_password(candidate, &parsed).is_ok())
    }

    fn needs_rehash(&self, stored: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(stored) else {
            return true;
        };
        if parsed.algorithm.as_str() != "argon2id" {
            return true;
        }
        match Params::try_from(&parsed) {
            Ok(p) => {
                p.m_cost() != self.inner.params.m_cost()
                    || p.t_cost() != self.inner.params.t_cost()
                    || p.p_cost() != self.inner.params.p_cost()
            }
            Err(_) => true,
        }
    }

    fn dummy_hash(&self) -> Result<String, HashError> {
        if let Some(h) = self.inner.dummy_hash.get() {
            return Ok(h.clone());
        }
        let h = self.hash_blocking(&SecretString::from(crate::crypto::secrets::generate()))?;
        Ok(self.inner.dummy_hash.get_or_init(|| h).clone())
    }

    /// Computes the dummy hash ahead of the first unknown-user sign-in.
    pub fn warm_up(&self) {
        let me = self.clone();
        std::thread::spawn(move || {
            let _ = me.dummy_hash();
        });
    }

    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&PasswordHasher) -> Result<T, HashError> + Send + 'static,
    ) -> Result<T, HashError> {
        let queued = self.inner.queued.fetch_add(1, Ordering::AcqRel);
        let _queued = QueueSlot(&self.inner.queued);
        if queued >= self.inner.queue_limit {
            return Err(HashError::Busy);
        }
        let _permit = self
            .inner
            .permits
            .acquire()
            .await
            .map_err(|e| HashError::Internal(e.to_string()))?;
        let me = self.clone();
        tokio::task::spawn_blocking(move || job(&me))
            .await
            .map_err(|e| HashError::Internal(e.to_string()))?
    }

    pub async fn hash(&self, password: SecretString) -> Result<String, HashError> {
        self.run(move |h| h.hash_blocking(&password)).await
    }

    pub async fn verify(
        &self,
        password: SecretString,
        stored: Option<String>,
    ) -> Result<PasswordCheck, HashError> {
        self.run(move |h| h.verify_blocking(&password, stored.as_deref()))
            .await
    }
}

struct QueueSlot<'a>(&'a AtomicUsize);

impl Drop for QueueSlot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

pub fn is_bcrypt(hash: &str) -> bool {
    ["$2a$", "$2b$", "$2x$", "$2y$"]
        .iter()
        .any(|p| hash.starts_with(p))
}

/// Whether a hash given for import is one this server can verify.
pub fn is_importable_hash(hash: &str) -> bool {
    is_bcrypt(hash) && hash.parse::<bcrypt::HashParts>().is_ok()
        || PasswordHash::new(hash)
            .map(|p| p.algorithm.as_str().starts_with("argon2"))
            .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hasher() -> PasswordHasher {
        // Small parameters keep unit tests fast; the upgrade path is what is tested.
        PasswordHasher::new(1024, 1, 2, 8).unwrap()
    }

    #[test]
    fn argon2_round_trip() {
        let h = hasher();
        let pw = SecretString::from("correct horse");
        let stored = h.hash_blocking(&pw).unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
        assert!(matches!(
            h.verify_blocking(&pw, Some(&stored)).unwrap(),
            PasswordCheck::Valid { upgrade: None }
        ));
        assert!(matches!(
            h.verify_blocking(&SecretString::from("wrong"), Some(&stored))
                .unwrap(),
            PasswordCheck::Invalid
        ));
    }

    #[test]
    fn bcrypt_verifies_and_asks_for_upgrade() {
        let h = hasher();
        let stored = bcrypt::hash("s3cret", 4).unwrap();
        let stored_2y = stored.replacen("$2b$", "$2y$", 1);
        for s in [&stored, &stored_2y] {
            match h
                .verify_blocking(&SecretString::from("s3cret"), Some(s))
                .unwrap()
            {
                PasswordCheck::Valid { upgrade: Some(new) } => {
                    assert!(new.starts_with("$argon2id$"))
                }
                other => panic!("expected an upgrade, got {other:?}"),
            }
        }
        assert!(matches!(
            h.verify_blocking(&SecretString::from("nope"), Some(&stored))
                .unwrap(),
            PasswordCheck::Invalid
        ));
    }

    #[test]
    fn other_parameters_ask_for_upgrade() {
        let old = PasswordHasher::new(2048, 1, 1, 1).unwrap();
        let stored = old.hash_blocking(&SecretString::from("pw")).unwrap();
        assert!(matches!(
            hasher()
                .verify_blocking(&SecretString::from("pw"), Some(&stored))
                .unwrap(),
            PasswordCheck::Valid { upgrade: Some(_) }
        ));
    }

    #[test]
    fn missing_or_garbage_hash_never_verifies() {
        let h = hasher();
        let pw = SecretString::from("pw");
        assert!(matches!(
            h.verify_blocking(&pw, None).unwrap(),
            PasswordCheck::Invalid
        ));
        assert!(matches!(
            h.verify_blocking(&pw, Some("plaintext")).unwrap(),
            PasswordCheck::Invalid
        ));
        assert!(matches!(
            h.verify_blocking(&pw, Some("$2b$04$short")).unwrap(),
            PasswordCheck::Invalid
        ));
    }

    #[test]
    fn importable_hashes() {
        assert!(is_importable_hash(&bcrypt::hash("x", 4).unwrap()));
        assert!(is_importable_hash(
            &hasher().hash_blocking(&SecretString::from("x")).unwrap()
        ));
        assert!(!is_importable_hash("$1$abc"));
        assert!(!is_importable_hash("plain"));
    }
}
