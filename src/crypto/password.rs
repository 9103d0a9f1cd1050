//! Password hashing: argon2id for new hashes, bcrypt accepted for imported ones and
//! upgraded on the next successful sign-in. Hashing runs on a small pool of its own
//! threads at lowered CPU priority, fed through a bounded queue: a sign-in storm can
//! neither starve the actix workers nor grow memory without limit. Each check's time
//! is measured for the even timing of failed sign-ins ([`super::timing`]).

use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, OnceLock};

use std::cell::RefCell;
use std::time::{Duration, Instant};

use argon2::password_hash::PasswordVerifier as _;
use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use secrecy::{ExposeSecret, SecretString};

use super::fixture_hash::{self, is_fixture_hash};
use super::timing::{SignInTimings, hash_kind};
pub use queue::QueueStats;

mod queue;

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

/// A check's outcome and how long the hash computation took on its thread.
#[derive(Debug)]
pub struct Verification {
    pub check: PasswordCheck,
    pub took: Duration,
}

#[derive(Clone)]
pub struct PasswordHasher {
    inner: Arc<Inner>,
    /// Hashes for a seed ([`Self::for_seed`]): fixture hashes when the server allows them.
    seeding: bool,
}

type Job = Box<dyn FnOnce() + Send>;

thread_local! {
    /// argon2's working memory (19 MiB at the default cost), kept by each thread that
    /// hashes: allocating and page-faulting it for every sign-in doubled the cost.
    static BLOCKS: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

fn with_blocks<T>(count: usize, f: impl FnOnce(&mut [Block]) -> T) -> T {
    BLOCKS.with(|cell| {
        let mut blocks = cell.borrow_mut();
        if blocks.len() != count {
            *blocks = vec![Block::default(); count];
        }
        f(&mut blocks)
    })
}

const SALT_LEN: usize = 16;
const HASH_LEN: usize = 32;

struct Inner {
    params: Params,
    /// Jobs for the hashing threads; `None` until the first asynchronous use.
    jobs: OnceLock<SyncSender<Job>>,
    concurrency: usize,
    queue_limit: usize,
    /// Verified against when the user does not exist, so that costs the same.
    dummy_hash: OnceLock<String>,
    /// What checks of each kind of stored hash take.
    timings: SignInTimings,
    /// The kind of the hashes made now (and of the dummy).
    current_kind: String,
    /// An ephemeral server: seeds get [`fixture_hash`]es, and checks accept them.
    fixtures: bool,
    queue: QueueStats,
}

/// Checks of each kind of hash measured at start and hourly; the first, which warms
/// the thread's memory, is not counted.
const CALIBRATION_ROUNDS: usize = 3;

/// Niceness of hashing threads: the scheduler favours request handling over them.
const HASHING_NICE: i32 = 10;

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
        Self::build(memory_kib, iterations, concurrency, queue_limit, false)
    }

    /// [`Self::new`] for an ephemeral server, whose database lives in memory: the
    /// seed's passwords get fast [`fixture_hash`]es ([`Self::for_seed`]), and checks
    /// accept those. Every other hash it makes is argon2id all the same.
    pub fn new_ephemeral(
        memory_kib: u32,
        iterations: u32,
        concurrency: usize,
        queue_limit: usize,
    ) -> Result<Self, HashError> {
        Self::build(memory_kib, iterations, concurrency, queue_limit, true)
    }

    fn build(
        memory_kib: u32,
        iterations: u32,
        concurrency: usize,
        queue_limit: usize,
        fixtures: bool,
    ) -> Result<Self, HashError> {
        let params = Params::new(memory_kib, iterations, DEFAULT_PARALLELISM, None)
            .map_err(|e| HashError::Internal(e.to_string()))?;
        Ok(PasswordHasher {
            inner: Arc::new(Inner {
                jobs: OnceLock::new(),
                concurrency: concurrency.max(1),
                queue_limit,
                dummy_hash: OnceLock::new(),
                timings: SignInTimings::default(),
                current_kind: format!(
                    "$argon2id$v=19$m={},t={},p={}",
                    params.m_cost(),
                    params.t_cost(),
                    params.p_cost()
                ),
                params,
                fixtures,
                queue: QueueStats::default(),
            }),
            seeding: false,
        })
    }

    /// This hasher for applying a seed file: on an ephemeral server its
    /// [`Self::hash_blocking`] makes fixture hashes; elsewhere it is this hasher.
    pub fn for_seed(&self) -> PasswordHasher {
        PasswordHasher {
            inner: self.inner.clone(),
            seeding: true,
        }
    }

    /// Whether checks accept fixture hashes (the server is ephemeral).
    pub fn accepts_fixture_hashes(&self) -> bool {
        self.inner.fixtures
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            self.inner.params.clone(),
        )
    }

    /// Hashes on the calling thread: for the CLI and seeding, never an actix worker.
    /// Writes the PHC string (`$argon2id$v=19$m=..,t=..,p=..$salt$hash`) itself so the
    /// thread's working memory can be reused.
    pub fn hash_blocking(&self, password: &SecretString) -> Result<String, HashError> {
        use aws_lc_rs::rand::SecureRandom;
        if self.seeding && self.inner.fixtures {
            return fixture_hash::hash(password.expose_secret().as_bytes())
                .ok_or_else(|| HashError::Internal("no random salt".into()));
        }
        let mut salt = [0u8; SALT_LEN];
        aws_lc_rs::rand::SystemRandom::new()
            .fill(&mut salt)
            .map_err(|_| HashError::Internal("no random salt".into()))?;
        let mut out = [0u8; HASH_LEN];
        let argon2 = self.argon2();
        let params = &self.inner.params;
        with_blocks(params.block_count(), |blocks| {
            argon2.hash_password_into_with_memory(
                password.expose_secret().as_bytes(),
                &salt,
                &mut out,
                blocks,
            )
        })
        .map_err(|e| HashError::Internal(e.to_string()))?;
        Ok(format!(
            "$argon2id$v=19$m={},t={},p={}${}${}",
            params.m_cost(),
            params.t_cost(),
            params.p_cost(),
            STANDARD_NO_PAD.encode(salt),
            STANDARD_NO_PAD.encode(out)
        ))
    }

    /// Checks on the calling thread. `stored = None` (unknown user, or a user without
    /// a password) verifies against a dummy hash and always fails.
    pub fn verify_blocking(
        &self,
        password: &SecretString,
        stored: Option<&str>,
    ) -> Result<PasswordCheck, HashError> {
        Ok(self.verify_measured(password, stored)?.check)
    }

    /// [`Self::verify_blocking`], timing the comparison (not the upgrade's re-hash) and
    /// recording the time under the stored hash's kind.
    fn verify_measured(
        &self,
        password: &SecretString,
        stored: Option<&str>,
    ) -> Result<Verification, HashError> {
        let (matched, took) = self.timed_match(password, stored)?;
        self.record(stored, took);
        let check = match stored {
            Some(stored) if matched => PasswordCheck::Valid {
                // A fixture hash stays one: it lives in memory only, and re-hashing
                // would cost each seeded user's first sign-in what seeding saved.
                upgrade: if is_fixture_hash(stored) {
                    None
                } else if is_bcrypt(stored) || self.needs_rehash(stored) {
                    Some(self.hash_blocking(password)?)
                } else {
                    None
                },
            },
            _ => PasswordCheck::Invalid,
        };
        Ok(Verification { check, took })
    }

    /// Whether the password matches, and how long finding out took.
    fn timed_match(
        &self,
        password: &SecretString,
        stored: Option<&str>,
    ) -> Result<(bool, Duration), HashError> {
        let candidate = password.expose_secret().as_bytes();
        let dummy;
        let stored = match stored {
            Some(s) => s,
            None => {
                dummy = self.dummy_hash()?;
                let started = Instant::now();
                let _ = self.verify_argon2(candidate, &dummy);
                return Ok((false, started.elapsed()));
            }
        };
        let started = Instant::now();
        let matched = if is_fixture_hash(stored) {
            if !self.inner.fixtures {
                tracing::warn!(
                    "a fixture hash is stored on a server that is not ephemeral: refused"
                );
            }
            self.inner.fixtures && fixture_hash::verify(candidate, stored)
        } else if is_bcrypt(stored) {
            // An unreadable stored hash must not become a sign-in.
            bcrypt::verify(candidate, stored).unwrap_or(false)
        } else if let Some(matched) = super::hash_formats::verify(stored, candidate) {
            matched
        } else {
            self.verify_argon2(candidate, stored) == Some(true)
        };
        Ok((matched, started.elapsed()))
    }

    fn record(&self, stored: Option<&str>, took: Duration) {
        match stored {
            None => self.inner.timings.record(&self.inner.current_kind, took),
            Some(s) => {
                if let Some(kind) = hash_kind(s) {
                    self.inner.timings.record(&kind, took);
                }
            }
        }
    }

    /// The queue's depth, waits and refusals.
    pub fn queue_stats(&self) -> &QueueStats {
        &self.inner.queue
    }

    /// The expected check time of each kind of hash, and the padding they give.
    pub fn timings(&self) -> &SignInTimings {
        &self.inner.timings
    }

    /// Measures checks of the dummy (unknown users) and of each stored hash given (one
    /// per kind in the database) on a thread of its own at the hashing threads'
    /// priority, so the padding of failed sign-ins knows every kind before an attacker
    /// tries one. Returns at once.
    pub fn calibrate(&self, examples: Vec<String>) {
        let me = self.clone();
        let spawned = std::thread::Builder::new()
            .name("password-hash-calibration".into())
            .spawn(move || {
                crate::sys::lower_thread_priority(HASHING_NICE);
                me.calibrate_blocking(&examples);
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "cannot start the hash timing calibration");
        }
    }

    fn calibrate_blocking(&self, examples: &[String]) {
        let probe = SecretString::from(crate::crypto::secrets::generate());
        let dummy = std::iter::once(None);
        for stored in dummy.chain(examples.iter().map(|e| Some(e.as_str()))) {
            for round in 0..=CALIBRATION_ROUNDS {
                match self.timed_match(&probe, stored) {
                    Ok((_, took)) if round > 0 => self.record(stored, took),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "hash timing calibration failed"),
                }
            }
        }
        let timings = self.timings();
        tracing::debug!(kinds = ?timings.kinds(), target = ?timings.target(), "password check times");
    }

    fn verify_argon2(&self, candidate: &[u8], stored: &str) -> Option<bool> {
        let parsed = PasswordHash::new(stored).ok()?;
        if !self.needs_rehash(stored)
            && let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash)
        {
            // Current parameters: recompute in this thread's reused memory.
            let expected = expected.as_bytes();
            let mut out = vec![0u8; expected.len()];
            let argon2 = self.argon2();
            with_blocks(self.inner.params.block_count(), |blocks| {
                argon2.hash_password_into_with_memory(candidate, salt, &mut out, blocks)
            })
            .ok()?;
            return Some(aws_lc_rs::constant_time::verify_slices_are_equal(&out, expected).is_ok());
        }
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

    /// Starts the hashing threads and computes the dummy hash ahead of the first
    /// unknown-user sign-in.
    pub fn warm_up(&self) {
        self.job_queue();
        let me = self.clone();
        std::thread::spawn(move || {
            let _ = me.dummy_hash();
        });
    }

    fn job_queue(&self) -> &SyncSender<Job> {
        self.inner.jobs.get_or_init(|| {
            let (tx, rx) = mpsc::sync_channel::<Job>(self.inner.queue_limit);
            let rx = Arc::new(Mutex::new(rx));
            for i in 0..self.inner.concurrency {
                let rx = rx.clone();
                let spawned = std::thread::Builder::new()
                    .name(format!("password-hash-{i}"))
                    .spawn(move || {
                        crate::sys::lower_thread_priority(HASHING_NICE);
                        loop {
                            let job = match rx.lock() {
                                Ok(guard) => guard.recv(),
                                Err(_) => return,
                            };
                            match job {
                                Ok(job) => job(),
                                // Every sender is gone: the hasher was dropped.
                                Err(_) => return,
                            }
                        }
                    });
                if let Err(e) = spawned {
                    tracing::error!(error = %e, "cannot start a password hashing thread");
                }
            }
            tx
        })
    }

    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&PasswordHasher) -> Result<T, HashError> + Send + 'static,
    ) -> Result<T, HashError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let me = self.clone();
        let queued_at = self.inner.queue.queued();
        let boxed: Job = Box::new(move || {
            me.inner.queue.started(queued_at);
            let _ = tx.send(job(&me));
        });
        match self.job_queue().try_send(boxed) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                self.inner.queue.dropped(true);
                return Err(HashError::Busy);
            }
            Err(TrySendError::Disconnected(_)) => {
                self.inner.queue.dropped(false);
                return Err(HashError::Internal("the hashing threads stopped".into()));
            }
        }
        rx.await
            .map_err(|_| HashError::Internal("a hashing thread failed".into()))?
    }

    pub async fn hash(&self, password: SecretString) -> Result<String, HashError> {
        self.run(move |h| h.hash_blocking(&password)).await
    }

    pub async fn verify(
        &self,
        password: SecretString,
        stored: Option<String>,
    ) -> Result<PasswordCheck, HashError> {
        Ok(self.verify_timed(password, stored).await?.check)
    }

    /// [`Self::verify`] with the time the check took on its hashing thread.
    pub async fn verify_timed(
        &self,
        password: SecretString,
        stored: Option<String>,
    ) -> Result<Verification, HashError> {
        self.run(move |h| h.verify_measured(&password, stored.as_deref()))
            .await
    }
}

pub fn is_bcrypt(hash: &str) -> bool {
    ["$2a$", "$2b$", "$2x$", "$2y$"]
        .iter()
        .any(|p| hash.starts_with(p))
}

pub use super::hash_formats::MAX_BCRYPT_COST;
/// The costliest argon2 hash accepted for import: memory (KiB), passes, lanes, and
/// memory × passes (128 MiB × 4 passes, about as long as bcrypt 14).
pub const MAX_ARGON2_MEMORY_KIB: u32 = 131_072;
pub const MAX_ARGON2_PASSES: u32 = 16;
pub const MAX_ARGON2_LANES: u32 = 16;
const MAX_ARGON2_WORK: u64 = 131_072 * 4;

/// The form in which a hash given for import is stored, or why it cannot be: bcrypt
/// and argon2 as they are, the other formats of [`super::hash_formats`] normalised;
/// each within the costs above.
pub fn importable_hash(hash: &str) -> Result<String, String> {
    if is_importable_hash(hash) {
        check_cost(hash)?;
        return Ok(hash.to_owned());
    }
    super::hash_formats::normalize(hash)
}

/// Refuses a bcrypt or argon2 hash costlier than the limits above.
fn check_cost(hash: &str) -> Result<(), String> {
    if is_bcrypt(hash) {
        let cost = hash
            .parse::<bcrypt::HashParts>()
            .map_err(|e| e.to_string())?
            .get_cost();
        if cost > MAX_BCRYPT_COST {
            return Err(format!(
                "bcrypt cost {cost} is above {MAX_BCRYPT_COST}, the most this server checks at sign-in"
            ));
        }
        return Ok(());
    }
    let parsed = PasswordHash::new(hash).map_err(|e| e.to_string())?;
    let params = Params::try_from(&parsed).map_err(|e| format!("argon2 parameters: {e}"))?;
    let (m, t, p) = (params.m_cost(), params.t_cost(), params.p_cost());
    if m > MAX_ARGON2_MEMORY_KIB
        || t > MAX_ARGON2_PASSES
        || p > MAX_ARGON2_LANES
        || u64::from(m) * u64::from(t) > MAX_ARGON2_WORK
    {
        return Err(format!(
            "argon2 cost m={m},t={t},p={p} is above what this server checks at sign-in \
             (m ≤ {MAX_ARGON2_MEMORY_KIB} KiB, t ≤ {MAX_ARGON2_PASSES}, p ≤ {MAX_ARGON2_LANES}, m×t ≤ {MAX_ARGON2_WORK})"
        ));
    }
    Ok(())
}

/// Whether a hash given for import is one this server can verify as it is.
pub fn is_importable_hash(hash: &str) -> bool {
    is_bcrypt(hash) && hash.parse::<bcrypt::HashParts>().is_ok()
        || PasswordHash::new(hash)
            .map(|p| p.algorithm.as_str().starts_with("argon2"))
            .unwrap_or(false)
}

#[cfg(test)]
mod tests;
