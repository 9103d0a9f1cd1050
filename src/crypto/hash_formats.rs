//! Password hashes made by the systems users are imported from: PBKDF2 (passlib,
//! Django, PHC, ASP.NET Core Identity v2/v3, Keycloak credentials) and passlib's
//! `bcrypt_sha256`. Each is parsed into one canonical stored form:
//!
//! - PBKDF2 of any origin: `$pbkdf2-<sha1|sha256|sha512>$i=<iterations>,l=<length>$<salt>$<hash>`
//!   (the PHC form of the `pbkdf2` crate; salt and hash in standard base64 without padding);
//! - bcrypt-sha256: passlib's own string, v1 `$bcrypt-sha256$2b,12$<salt>$<digest>` or
//!   v2 `$bcrypt-sha256$v=2,t=2b,r=12$<salt>$<digest>`.
//!
//! Checks compare in constant time (`aws_lc_rs::pbkdf2::verify`, bcrypt's own compare).
//! A successful sign-in replaces any of these with argon2id ([`super::password`]).

use std::num::NonZeroU32;

use aws_lc_rs::{digest, hmac, pbkdf2};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};

/// Iteration counts above this are never read: one sign-in must not occupy a hashing
/// thread for minutes. (Hashes stored before the import cap below keep verifying.)
const MAX_ITERATIONS: u32 = 10_000_000;
/// The import cap: a new hash's PBKDF2 iterations (about 1.5 s of SHA-256 at most).
pub const MAX_IMPORTED_ITERATIONS: u32 = 5_000_000;
/// The costliest bcrypt hash accepted for import (cost 14: about a second a check), plain
/// or passlib's bcrypt_sha256. A stored hash is checked at every sign-in on one of the
/// few hashing threads, so an import (or a Graph write) of a cost-31 hash would hold one
/// for days.
pub const MAX_BCRYPT_COST: u32 = 14;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prf {
    Sha1,
    Sha256,
    Sha512,
}

impl Prf {
    fn name(self) -> &'static str {
        match self {
            Prf::Sha1 => "sha1",
            Prf::Sha256 => "sha256",
            Prf::Sha512 => "sha512",
        }
    }

    fn from_name(name: &str) -> Option<Prf> {
        match name {
            "sha1" => Some(Prf::Sha1),
            "sha256" => Some(Prf::Sha256),
            "sha512" => Some(Prf::Sha512),
            _ => None,
        }
    }

    fn algorithm(self) -> pbkdf2::Algorithm {
        match self {
            Prf::Sha1 => pbkdf2::PBKDF2_HMAC_SHA1,
            Prf::Sha256 => pbkdf2::PBKDF2_HMAC_SHA256,
            Prf::Sha512 => pbkdf2::PBKDF2_HMAC_SHA512,
        }
    }
}

/// A stored hash of one of the foreign formats, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForeignHash {
    Pbkdf2 {
        prf: Prf,
        iterations: u32,
        salt: Vec<u8>,
        hash: Vec<u8>,
    },
    BcryptSha256 {
        /// 1: the bcrypt key is base64(SHA-256(password)); 2: base64(HMAC-SHA256
        /// keyed by the salt string).
        version: u8,
        /// bcrypt variant of v1 (`2a` or `2b`); v2 is always `2b`.
        ident: String,
        cost: u32,
        /// bcrypt's 22-character salt and 31-character digest, as written.
        salt: String,
        digest: String,
    },
}

impl ForeignHash {
    /// Reads any accepted foreign form: the canonical ones, passlib's
    /// `$pbkdf2[-sha256|-sha512]$`, Django's `pbkdf2_sha256$`, an ASP.NET Core
    /// Identity base64 blob or a Keycloak credential (JSON).
    pub fn parse(input: &str) -> Result<ForeignHash, String> {
        let s = input.trim();
        if s.starts_with('{') {
            return parse_keycloak(s);
        }
        if let Some(rest) = s.strip_prefix("$bcrypt-sha256$") {
            return parse_bcrypt_sha256(rest);
        }
        if let Some(rest) = s.strip_prefix("$pbkdf2") {
            return parse_dollar_pbkdf2(rest);
        }
        if let Some(rest) = s.strip_prefix("pbkdf2_") {
            return parse_django(rest);
        }
        if !s.contains('$') && !s.is_empty() {
            return parse_aspnet(s);
        }
        Err(UNKNOWN.to_owned())
    }

    /// The form stored in the database (see the module documentation).
    pub fn canonical(&self) -> String {
        match self {
            ForeignHash::Pbkdf2 {
                prf,
                iterations,
                salt,
                hash,
            } => format!(
                "$pbkdf2-{}$i={iterations},l={}${}${}",
                prf.name(),
                hash.len(),
                STANDARD_NO_PAD.encode(salt),
                STANDARD_NO_PAD.encode(hash)
            ),
            ForeignHash::BcryptSha256 {
                version,
                ident,
                cost,
                salt,
                digest,
            } => match version {
                1 => format!("$bcrypt-sha256${ident},{cost}${salt}${digest}"),
                _ => format!("$bcrypt-sha256$v=2,t=2b,r={cost}${salt}${digest}"),
            },
        }
    }

    /// The kind for the timing of failed sign-ins: algorithm and cost, the
    /// canonical string without salt and hash (as `db::lockout` groups them).
    pub fn kind(&self) -> String {
        let canonical = self.canonical();
        let mut parts = canonical.rsplitn(3, '$');
        let _ = (parts.next(), parts.next());
        parts.next().unwrap_or_default().to_owned()
    }

    /// Whether `candidate` is the password, compared in constant time.
    pub fn verify(&self, candidate: &[u8]) -> bool {
        match self {
            ForeignHash::Pbkdf2 {
                prf,
                iterations,
                salt,
                hash,
            } => {
                let Some(iterations) = NonZeroU32::new(*iterations) else {
                    return false;
                };
                pbkdf2::verify(prf.algorithm(), iterations, salt, candidate, hash).is_ok()
            }
            ForeignHash::BcryptSha256 {
                version,
                ident,
                cost,
                salt,
                digest,
            } => {
                let key = if *version == 1 {
                    digest::digest(&digest::SHA256, candidate).as_ref().to_vec()
                } else {
                    let k = hmac::Key::new(hmac::HMAC_SHA256, salt.as_bytes());
                    hmac::sign(&k, candidate).as_ref().to_vec()
                };
                let bcrypt_hash = format!("${ident}${cost:02}${salt}{digest}");
                bcrypt::verify(STANDARD.encode(key), &bcrypt_hash).unwrap_or(false)
            }
        }
    }
}

const UNKNOWN: &str = "the password hash is in no accepted format (argon2 PHC, bcrypt \
     $2a/$2b/$2y, passlib $bcrypt-sha256$ or $pbkdf2-sha256$/$pbkdf2-sha512$, Django \
     pbkdf2_sha256$, PHC $pbkdf2-sha256$i=..., ASP.NET Core Identity v2/v3, Keycloak \
     credential JSON)";

/// The canonical stored form of a foreign hash given for import, or why it cannot be
/// accepted (its format, or a cost above what a sign-in may take).
pub fn normalize(input: &str) -> Result<String, String> {
    let hash = ForeignHash::parse(input)?;
    match &hash {
        ForeignHash::Pbkdf2 { iterations, .. } if *iterations > MAX_IMPORTED_ITERATIONS => {
            return Err(format!(
                "PBKDF2 iteration count {iterations} is above {MAX_IMPORTED_ITERATIONS}, the most this server checks at sign-in"
            ));
        }
        ForeignHash::BcryptSha256 { cost, .. } if *cost > MAX_BCRYPT_COST => {
            return Err(format!(
                "bcrypt cost {cost} is above {}, the most this server checks at sign-in",
                MAX_BCRYPT_COST
            ));
        }
        _ => {}
    }
    Ok(hash.canonical())
}

/// Checks a password against a stored hash of a foreign kind; `None` when `stored`
/// is none of them.
pub fn verify(stored: &str, candidate: &[u8]) -> Option<bool> {
    Some(ForeignHash::parse(stored).ok()?.verify(candidate))
}

/// The timing kind of a stored foreign hash, `None` when it is none of them.
pub fn kind(stored: &str) -> Option<String> {
    ForeignHash::parse(stored).ok().map(|h| h.kind())
}

fn pbkdf2_hash(
    prf: Prf,
    iterations: u32,
    salt: Vec<u8>,
    hash: Vec<u8>,
) -> Result<ForeignHash, String> {
    if iterations == 0 || iterations > MAX_ITERATIONS {
        return Err(format!(
            "PBKDF2 iteration count {iterations} is outside 1..={MAX_ITERATIONS}"
        ));
    }
    if !(16..=128).contains(&hash.len()) {
        return Err(format!(
            "PBKDF2 derived key of {} bytes (16 to 128 accepted)",
            hash.len()
        ));
    }
    Ok(ForeignHash::Pbkdf2 {
        prf,
        iterations,
        salt,
        hash,
    })
}

fn b64(what: &str, s: &str) -> Result<Vec<u8>, String> {
    STANDARD_NO_PAD
        .decode(s.trim_end_matches('='))
        .map_err(|_| format!("the {what} is not base64"))
}

fn iterations(s: &str) -> Result<u32, String> {
    s.parse()
        .map_err(|_| format!("the iteration count {s:?} is not a number"))
}

/// After `$pbkdf2`: passlib's `-sha256$29000$<ab64 salt>$<ab64 hash>` (no suffix:
/// SHA-1) or PHC's `-sha256$i=600000[,l=32]$<salt>$<hash>`.
fn parse_dollar_pbkdf2(rest: &str) -> Result<ForeignHash, String> {
    let parts: Vec<&str> = rest.split('$').collect();
    let [prf, params, salt, hash] = parts[..] else {
        return Err("a $pbkdf2 hash has four $-separated fields".to_owned());
    };
    let prf = match prf {
        "" => Prf::Sha1,
        p => p
            .strip_prefix('-')
            .and_then(Prf::from_name)
            .ok_or_else(|| format!("unknown PBKDF2 digest {p:?}"))?,
    };
    if let Some(phc) = params.strip_prefix("i=") {
        let (i, len) = phc.split_once(",l=").unwrap_or((phc, ""));
        let hash = b64("hash", hash)?;
        if !len.is_empty() && len.parse::<usize>().ok() != Some(hash.len()) {
            return Err(format!("l={len} but the hash has {} bytes", hash.len()));
        }
        return pbkdf2_hash(prf, iterations(i)?, b64("salt", salt)?, hash);
    }
    // passlib's "adapted base64": '.' instead of '+', no padding.
    let ab64 = |what, s: &str| b64(what, &s.replace('.', "+"));
    pbkdf2_hash(
        prf,
        iterations(params)?,
        ab64("salt", salt)?,
        ab64("hash", hash)?,
    )
}

/// After `pbkdf2_`: Django's `sha256$<iterations>$<salt text>$<base64 hash>`.
fn parse_django(rest: &str) -> Result<ForeignHash, String> {
    let parts: Vec<&str> = rest.splitn(4, '$').collect();
    let [prf, i, salt, hash] = parts[..] else {
        return Err("a Django pbkdf2 hash has four $-separated fields".to_owned());
    };
    let prf = Prf::from_name(prf).ok_or_else(|| format!("unknown Django hasher pbkdf2_{prf}"))?;
    pbkdf2_hash(
        prf,
        iterations(i)?,
        salt.as_bytes().to_vec(),
        b64("hash", hash)?,
    )
}

/// ASP.NET Core Identity's `PasswordHasher` output (base64): v2 `0x00 | salt(16) |
/// subkey(32)` with PBKDF2-HMAC-SHA1 and 1000 iterations; v3 `0x01 | prf | iterations
/// | salt length | salt | subkey`, the numbers unsigned 32-bit big-endian, prf 0 SHA-1,
/// 1 SHA-256, 2 SHA-512.
fn parse_aspnet(s: &str) -> Result<ForeignHash, String> {
    let blob = STANDARD.decode(s).map_err(|_| UNKNOWN.to_owned())?;
    match blob.first() {
        Some(0) if blob.len() == 49 => {
            pbkdf2_hash(Prf::Sha1, 1000, blob[1..17].to_vec(), blob[17..].to_vec())
        }
        Some(1) if blob.len() >= 13 => {
            let be = |at: usize| {
                u32::from_be_bytes([blob[at], blob[at + 1], blob[at + 2], blob[at + 3]])
            };
            let prf = match be(1) {
                0 => Prf::Sha1,
                1 => Prf::Sha256,
                2 => Prf::Sha512,
                other => return Err(format!("ASP.NET Identity v3 hash with unknown PRF {other}")),
            };
            let salt_len = be(9) as usize;
            let salt_end = 13usize.saturating_add(salt_len);
            if salt_len < 16 || salt_end >= blob.len() {
                return Err(format!(
                    "ASP.NET Identity v3 hash with a salt length of {salt_len}"
                ));
            }
            pbkdf2_hash(
                prf,
                be(5),
                blob[13..salt_end].to_vec(),
                blob[salt_end..].to_vec(),
            )
        }
        _ => Err(UNKNOWN.to_owned()),
    }
}

/// A Keycloak credential of type `password` as in a realm export:
/// `{"secretData": {"value", "salt"}, "credentialData": {"hashIterations",
/// "algorithm"}}`, where either data may also be a string holding that JSON (as
/// Keycloak writes them). Algorithms `pbkdf2` (SHA-1), `pbkdf2-sha256`, `pbkdf2-sha512`.
fn parse_keycloak(s: &str) -> Result<ForeignHash, String> {
    use serde_json::Value;
    let bad = |why: &str| format!("Keycloak credential: {why}");
    let v: Value = serde_json::from_str(s).map_err(|e| bad(&e.to_string()))?;
    let field = |name: &str| -> Result<Value, String> {
        match v.get(name) {
            Some(Value::String(inner)) => {
                serde_json::from_str(inner).map_err(|e| bad(&format!("{name}: {e}")))
            }
            Some(obj @ Value::Object(_)) => Ok(obj.clone()),
            _ => Err(bad(&format!("no {name}"))),
        }
    };
    if let Some(t) = v.get("type").and_then(Value::as_str)
        && t != "password"
    {
        return Err(bad(&format!("type {t:?} is not a password")));
    }
    let secret = field("secretData")?;
    let data = field("credentialData")?;
    let text = |obj: &Value, name: &str| -> Result<String, String> {
        obj.get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| bad(&format!("no {name}")))
    };
    let prf = match text(&data, "algorithm")?.as_str() {
        "pbkdf2" => Prf::Sha1,
        "pbkdf2-sha256" => Prf::Sha256,
        "pbkdf2-sha512" => Prf::Sha512,
        other => {
            return Err(bad(&format!(
                "algorithm {other:?} is not pbkdf2, pbkdf2-sha256 or pbkdf2-sha512"
            )));
        }
    };
    let iterations = data
        .get("hashIterations")
        .and_then(Value::as_u64)
        .and_then(|i| u32::try_from(i).ok())
        .ok_or_else(|| bad("no hashIterations"))?;
    pbkdf2_hash(
        prf,
        iterations,
        b64("salt", &text(&secret, "salt")?)?,
        b64("value", &text(&secret, "value")?)?,
    )
}

/// After `$bcrypt-sha256$`: v1 `2a,12$<salt>$<digest>`, v2 `v=2,t=2b,r=12$<salt>$<digest>`.
fn parse_bcrypt_sha256(rest: &str) -> Result<ForeignHash, String> {
    let parts: Vec<&str> = rest.split('$').collect();
    let [config, salt, digest] = parts[..] else {
        return Err("a $bcrypt-sha256$ hash has config, salt and digest".to_owned());
    };
    let bcrypt64 = |s: &str, len: usize| {
        s.len() == len
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'/')
    };
    if !bcrypt64(salt, 22) || !bcrypt64(digest, 31) {
        return Err(
            "a $bcrypt-sha256$ hash needs a 22-character salt and 31-character digest".to_owned(),
        );
    }
    let (version, ident, cost) = if let Some(v2) = config.strip_prefix("v=2,t=2b,r=") {
        (2, "2b", v2)
    } else if let Some((ident @ ("2a" | "2b"), cost)) = config.split_once(',') {
        (1, ident, cost)
    } else {
        return Err(format!("unknown $bcrypt-sha256$ settings {config:?}"));
    };
    let cost: u32 = cost
        .parse()
        .ok()
        .filter(|c| (4..=31).contains(c))
        .ok_or_else(|| format!("bcrypt cost {cost:?} is not 4 to 31"))?;
    Ok(ForeignHash::BcryptSha256 {
        version,
        ident: ident.to_owned(),
        cost,
        salt: salt.to_owned(),
        digest: digest.to_owned(),
    })
}

#[cfg(test)]
#[path = "hash_formats_tests.rs"]
mod tests;
