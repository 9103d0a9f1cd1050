//! Automatic key rotation, as Entra ID does it: the next key is published in the
//! JWKS `ahead` seconds before it starts to sign, so relying parties that cache the
//! JWKS already know its `kid`; the key it takes over from stays published as long
//! as tokens it signed can be valid, then leaves the JWKS.
//!
//! Run by the housekeeping task of every replica; the database makes it one at a
//! time ([`signing_keys::lock_for_rotation`], SQLite's write transaction), and each
//! step re-reads the keys under that lock, so two replicas never make two next keys.

use super::key_store::KeyStore;
use super::keys::{KeyError, SigningKey};
use crate::db::signing_keys::{self, SigningKeyRow};
use crate::db::{self, DbConnection};

/// `key_rotation_days` and `key_publish_ahead`, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotationPolicy {
    /// A key signs for this long, then the next one takes over.
    pub every: i64,
    /// The next key is in the JWKS this long before it signs.
    pub ahead: i64,
}

/// What one rotation check did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RotationStep {
    Nothing,
    /// A next key was made: published now, signing from `from`.
    Published {
        kid: String,
        from: i64,
    },
    /// A key published ahead started to sign; these keys, which it took over from,
    /// are retired (published for the tokens they signed, then dropped).
    Promoted {
        kid: String,
        retired: Vec<String>,
    },
}

/// Where the unretired keys stand at `now`.
struct Unretired {
    /// Keys that sign or signed, the newest (the one that signs) first.
    signing: Vec<SigningKeyRow>,
    /// Keys published ahead of signing.
    pending: Vec<SigningKeyRow>,
}

fn unretired(conn: &mut DbConnection, now: i64) -> Result<Unretired, KeyError> {
    let (mut signing, pending): (Vec<_>, Vec<_>) = signing_keys::live(conn, i64::MAX)?
        .into_iter()
        .filter(|r| r.retired_at.is_none())
        .partition(|r| r.signs_from() <= now);
    signing.sort_by(|a, b| {
        (b.signs_from(), b.created_at, &b.kid).cmp(&(a.signs_from(), a.created_at, &a.kid))
    });
    Ok(Unretired { signing, pending })
}

/// Whether a next key should be made now.
fn next_key_due(keys: &Unretired, now: i64, policy: &RotationPolicy) -> Option<i64> {
    let current = keys.signing.first()?;
    let due = current.signs_from() + policy.every;
    if keys.pending.is_empty() && now >= due - policy.ahead {
        // Late (the server was down, rotation just turned on): still published
        // `ahead` before it signs.
        Some(due.max(now + policy.ahead))
    } else {
        None
    }
}

impl KeyStore {
    /// One rotation check at `now`: retires keys a newer key has taken over from (also
    /// with rotation off: a key published before it was turned off still takes over),
    /// else with a `policy` makes the next key when the signing one is due.
    pub fn rotate_if_due(
        &self,
        conn: &mut DbConnection,
        now: i64,
        policy: Option<RotationPolicy>,
    ) -> Result<RotationStep, KeyError> {
        // Most checks find nothing to do; they read without the lock. The key is
        // generated outside the transaction, which would otherwise hold the lock (and
        // SQLite's only writer) through RSA key generation.
        let keys = unretired(conn, now)?;
        let want_new = policy.is_some_and(|p| next_key_due(&keys, now, &p).is_some());
        if keys.signing.len() < 2 && !want_new {
            return Ok(RotationStep::Nothing);
        }
        let generated = if want_new && keys.signing.len() < 2 {
            Some(SigningKey::generate(now)?)
        } else {
            None
        };
        db::write_tx(conn, |conn| {
            signing_keys::lock_for_rotation(conn)?;
            let keys = unretired(conn, now)?;
            if keys.signing.len() > 1 {
                let kid = keys.signing[0].kid.clone();
                let retired: Vec<String> =
                    keys.signing[1..].iter().map(|r| r.kid.clone()).collect();
                signing_keys::retire(conn, &retired, now)?;
                return Ok(RotationStep::Promoted { kid, retired });
            }
            match (policy.and_then(|p| next_key_due(&keys, now, &p)), generated) {
                (Some(from), Some(generated)) => {
                    let kid = self.create(conn, now, Some(from), Some(generated))?;
                    Ok(RotationStep::Published { kid, from })
                }
                _ => Ok(RotationStep::Nothing),
            }
        })
    }
}
