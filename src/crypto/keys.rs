//! RSA-2048 signing keys: generated once with aws-lc-rs, persisted as PKCS#8 PEM,
//! identified by their RFC 7638 thumbprint, kept parsed in memory.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::KeyPair as _;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::json;

use crate::db::signing_keys;
use crate::db::{DbConnection, DbError};

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("key generation failed")]
    Generate,
    #[error("key {kid}: {reason}")]
    Invalid { kid: String, reason: String },
    #[error("key file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("no active signing key")]
    NoActiveKey,
}

impl From<diesel::result::Error> for KeyError {
    fn from(e: diesel::result::Error) -> Self {
        KeyError::Db(e.into())
    }
}

/// One key pair, parsed once, with everything a token or the JWKS needs from it.
pub struct SigningKey {
    pub kid: String,
    pub pair: KeyPair,
    /// base64url of `{"alg":"RS256","kid":...,"typ":"JWT"}`.
    pub header_b64: String,
    pub n_b64: String,
    pub e_b64: String,
    pub decoding: jsonwebtoken::DecodingKey,
    /// The public key parsed once for RS256 verification ([`super::jwt::verify_rs256`]).
    pub verifying: aws_lc_rs::signature::ParsedPublicKey,
    /// A self-signed certificate for the key (base64 DER) and its SHA-1 thumbprint
    /// (base64url), published as `x5c`/`x5t` the way Entra ID does.
    pub x5c: String,
    pub x5t: String,
    pub created_at: i64,
    pub retired_at: Option<i64>,
    /// A key published ahead of its use signs from this time on (automatic rotation).
    pub activates_at: Option<i64>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    pub fn from_pkcs8_der(
        der: &[u8],
        created_at: i64,
        retired_at: Option<i64>,
    ) -> Result<Self, String> {
        let pair = KeyPair::from_pkcs8(der).map_err(|e| format!("not an RSA PKCS#8 key: {e}"))?;
        let public = pair.public_key();
        let n = public.modulus();
        let e = public.exponent();
        let n = n.big_endian_without_leading_zero();
        let e = e.big_endian_without_leading_zero();
        let n_b64 = URL_SAFE_NO_PAD.encode(n);
        let e_b64 = URL_SAFE_NO_PAD.encode(e);
        let kid = thumbprint(&n_b64, &e_b64);
        let header = json!({"alg": "RS256", "kid": kid, "typ": "JWT"});
        let header_b64 = URL_SAFE_NO_PAD.encode(header.to_string());
        let decoding = jsonwebtoken::DecodingKey::from_rsa_raw_components(n, e);
        let verifying = aws_lc_rs::signature::ParsedPublicKey::new(
            &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
            public.as_ref(),
        )
        .map_err(|e| format!("the public key does not parse: {e}"))?;
        let cert = self_signed_certificate(der, &kid, created_at)?;
        let x5t = URL_SAFE_NO_PAD.encode(
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, &cert).as_ref(),
        );
        let x5c = STANDARD.encode(&cert);
        Ok(SigningKey {
            x5c,
            x5t,
            kid,
            pair,
            header_b64,
            n_b64,
            e_b64,
            decoding,
            verifying,
            created_at,
            retired_at,
            activates_at: None,
        })
    }

    /// When the key started (or starts) to sign.
    pub fn signs_from(&self) -> i64 {
        self.activates_at.unwrap_or(self.created_at)
    }

    pub fn from_pem(pem: &str, created_at: i64, retired_at: Option<i64>) -> Result<Self, String> {
        let der = pem_decode(pem, "PRIVATE KEY")?;
        Self::from_pkcs8_der(&der, created_at, retired_at)
    }

    /// Generates a fresh key; returns it with its PKCS#8 PEM.
    pub fn generate(created_at: i64) -> Result<(Self, String), KeyError> {
        let pair = KeyPair::generate(KeySize::Rsa2048).map_err(|_| KeyError::Generate)?;
        let der = pair.as_der().map_err(|_| KeyError::Generate)?;
        let pem = pem_encode(der.as_ref(), "PRIVATE KEY");
        let key = Self::from_pkcs8_der(der.as_ref(), created_at, None).map_err(|reason| {
            KeyError::Invalid {
                kid: "new".into(),
                reason,
            }
        })?;
        Ok((key, pem))
    }

    /// The JWK as published in the JWKS (RFC 7517; `nbf` as Azure AD B2C adds it).
    pub fn jwk(&self) -> serde_json::Value {
        json!({
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": self.kid,
            "n": self.n_b64,
            "e": self.e_b64,
            "x5t": self.x5t,
            "x5c": [self.x5c],
            "nbf": self.created_at,
        })
    }
}

/// A certificate for the signing key, signed by itself through aws-lc. Every input is
/// fixed by the key and its creation time, so the same key always yields the same
/// certificate (RSA PKCS#1 v1.5 signatures are deterministic) and `x5t` is stable.
fn self_signed_certificate(pkcs8: &[u8], kid: &str, created_at: i64) -> Result<Vec<u8>, String> {
    use rcgen::{
        CertificateParams, DistinguishedName, DnType, KeyPair, PKCS_RSA_SHA256, SerialNumber,
    };
    let der = rustls::pki_types::PrivatePkcs8KeyDer::from(pkcs8);
    let key = KeyPair::from_pkcs8_der_and_sign_algo(&der, &PKCS_RSA_SHA256)
        .map_err(|e| format!("certificate key: {e}"))?;
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, format!("localidp signing key {kid}"));
    params.distinguished_name = dn;
    let serial = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, kid.as_bytes());
    let mut serial = serial.as_ref()[..16].to_vec();
    serial[0] &= 0x7f;
    params.serial_number = Some(SerialNumber::from_slice(&serial));
    let start = time::OffsetDateTime::from_unix_timestamp(created_at)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    params.not_before = start;
    params.not_after = start + time::Duration::days(3650);
    let cert = params
        .self_signed(&key)
        .map_err(|e| format!("certificate: {e}"))?;
    Ok(cert.der().to_vec())
}

/// RFC 7638 §3: SHA-256 over the required members in lexicographic order, no spaces.
pub fn thumbprint(n_b64: &str, e_b64: &str) -> String {
    let canonical = format!(r#"{{"e":"{e_b64}","kty":"RSA","n":"{n_b64}"}}"#);
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes());
    URL_SAFE_NO_PAD.encode(d.as_ref())
}

pub(crate) fn pem_encode(der: &[u8], label: &str) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

pub(crate) fn pem_decode(pem: &str, label: &str) -> Result<Vec<u8>, String> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem
        .find(&begin)
        .ok_or_else(|| format!("no '{begin}' line"))?
        + begin.len();
    let stop = pem[start..]
        .find(&end)
        .ok_or_else(|| format!("no '{end}' line"))?
        + start;
    let body: String = pem[start..stop].split_whitespace().collect();
    STANDARD
        .decode(body)
        .map_err(|e| format!("bad base64 in PEM: {e}"))
}

/// Where a stored key stands: it signs, it is published ahead of signing, it only
/// verifies, or it is no longer published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStatus {
    Active,
    /// Published in the JWKS; signs from `from` on (automatic rotation).
    Next {
        from: i64,
    },
    /// Retired (or taken over from); stays in the JWKS until `until` for the tokens
    /// it signed.
    Previous {
        until: i64,
    },
    Expired,
}

/// A stored key as `localidp keys list` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    pub kid: String,
    pub created_at: i64,
    pub status: KeyStatus,
}

/// Every key ever stored, newest first; retired keys stay published for `retention`
/// seconds, as in [`crate::crypto::key_store::KeyStore::load_ring`].
pub fn list_keys(
    conn: &mut DbConnection,
    now: i64,
    retention: i64,
) -> Result<Vec<KeyInfo>, KeyError> {
    let rows = signing_keys::all(conn)?;
    // The key that signs now: the unretired one that most recently started to.
    let signing = rows
        .iter()
        .filter(|r| r.retired_at.is_none() && r.signs_from() <= now)
        .max_by_key(|r| (r.signs_from(), r.created_at))
        .map(|r| (r.kid.clone(), r.signs_from()));
    Ok(rows
        .into_iter()
        .map(|row| {
            let retired = match (row.retired_at, &signing) {
                (Some(t), _) => Some(t),
                (None, _) if row.signs_from() > now => None,
                (None, Some((kid, since))) if *kid != row.kid => Some(*since),
                (None, _) => None,
            };
            KeyInfo {
                status: match retired {
                    None if row.signs_from() > now => KeyStatus::Next {
                        from: row.signs_from(),
                    },
                    None => KeyStatus::Active,
                    Some(t) if t + retention > now => KeyStatus::Previous {
                        until: t + retention,
                    },
                    Some(_) => KeyStatus::Expired,
                },
                kid: row.kid,
                created_at: row.created_at,
            }
        })
        .collect())
}

/// The keys in memory: the unretired key that most recently started to sign signs;
/// all of them verify.
#[derive(Debug, Clone)]
pub struct KeyRing {
    active: Arc<SigningKey>,
    by_kid: HashMap<String, Arc<SigningKey>>,
    ordered: Vec<Arc<SigningKey>>,
    /// When a key published ahead starts to sign: the ring is rebuilt then.
    next_change: Option<i64>,
}

impl KeyRing {
    /// At time `now`: the active key comes first, then keys published ahead of use
    /// (soonest first), then the others, the most recently retired first.
    pub fn new(mut keys: Vec<Arc<SigningKey>>, now: i64) -> Result<Self, KeyError> {
        use std::cmp::Reverse;
        let unretired = || keys.iter().filter(|k| k.retired_at.is_none());
        let active = unretired()
            .filter(|k| k.signs_from() <= now)
            .max_by_key(|k| (k.signs_from(), k.created_at, k.kid.clone()))
            // A replica whose clock runs behind the one that promoted the next key
            // (and retired the last) sees no key signing yet: the earliest published
            // one signs, as it does on the others.
            .or_else(|| unretired().min_by_key(|k| (k.signs_from(), k.created_at, k.kid.clone())))
            .cloned()
            .ok_or(KeyError::NoActiveKey)?;
        let next_change = keys
            .iter()
            .filter(|k| k.retired_at.is_none() && k.signs_from() > now)
            .map(|k| k.signs_from())
            .min();
        keys.sort_by(|a, b| {
            let rank = |k: &SigningKey| {
                let class = if k.kid == active.kid {
                    0
                } else if k.retired_at.is_none() && k.signs_from() > now {
                    1
                } else {
                    2
                };
                let pending_from = if class == 1 { k.signs_from() } else { 0 };
                (
                    class,
                    pending_from,
                    k.retired_at.is_some(),
                    Reverse(k.retired_at),
                    Reverse(k.created_at),
                )
            };
            rank(a).cmp(&rank(b)).then_with(|| a.kid.cmp(&b.kid))
        });
        let by_kid = keys.iter().map(|k| (k.kid.clone(), k.clone())).collect();
        Ok(KeyRing {
            active,
            by_kid,
            ordered: keys,
            next_change,
        })
    }

    /// The same keys at a later time (a key published ahead may have started to sign).
    pub fn at(&self, now: i64) -> Result<Self, KeyError> {
        KeyRing::new(self.ordered.clone(), now)
    }

    /// When a key published ahead starts to sign, if one is.
    pub fn next_change(&self) -> Option<i64> {
        self.next_change
    }

    pub fn active(&self) -> &Arc<SigningKey> {
        &self.active
    }

    pub fn get(&self, kid: &str) -> Option<&Arc<SigningKey>> {
        self.by_kid.get(kid)
    }

    pub fn jwks(&self) -> serde_json::Value {
        json!({ "keys": self.ordered.iter().map(|k| k.jwk()).collect::<Vec<_>>() })
    }

    pub fn keys(&self) -> &[Arc<SigningKey>] {
        &self.ordered
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_round_trip_keeps_the_thumbprint() {
        let (key, pem) = SigningKey::generate(1).unwrap();
        let again = SigningKey::from_pem(&pem, 1, None).unwrap();
        assert_eq!(key.kid, again.kid);
        assert_eq!(key.kid.len(), 43);
        assert_eq!(key.e_b64, "AQAB");
    }

    #[test]
    fn thumbprint_matches_rfc7638_example() {
        // RFC 7638 §3.1.
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        assert_eq!(
            thumbprint(n, "AQAB"),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn garbage_pem_is_an_error_not_a_panic() {
        assert!(SigningKey::from_pem("nope", 0, None).is_err());
        assert!(
            SigningKey::from_pem(
                "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
                0,
                None
            )
            .is_err()
        );
    }

    #[test]
    fn a_replica_behind_the_promotion_signs_with_the_published_key() {
        // Another replica promoted `next` (signing from 2,000) and retired `old`; this
        // replica's clock reads 1,990: it signs with `next` too, not with nothing.
        let (mut old, _) = SigningKey::generate(1).unwrap();
        old.retired_at = Some(1_995);
        let (mut next, _) = SigningKey::generate(1_000).unwrap();
        next.activates_at = Some(2_000);
        let next_kid = next.kid.clone();
        let ring = KeyRing::new(vec![Arc::new(old), Arc::new(next)], 1_990).unwrap();
        assert_eq!(ring.active().kid, next_kid);
        assert_eq!(ring.at(2_001).unwrap().active().kid, next_kid);
    }
}
