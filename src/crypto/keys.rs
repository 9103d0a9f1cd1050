//! RSA-2048 signing keys: generated once with aws-lc-rs, persisted as PKCS#8 PEM,
//! identified by their RFC 7638 thumbprint, kept parsed in memory.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::KeyPair as _;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::json;

use crate::db::signing_keys::{self, SigningKeyRow};
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
        })
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

fn pem_encode(der: &[u8], label: &str) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn pem_decode(pem: &str, label: &str) -> Result<Vec<u8>, String> {
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

/// Where private keys are kept: PEM files in a directory (the default, `keys/`),
/// or the `signing_keys` table (ephemeral servers, replicas sharing PostgreSQL).
#[derive(Debug, Clone)]
pub enum KeyStore {
    Directory(PathBuf),
    Database,
}

impl KeyStore {
    fn key_path(dir: &Path, kid: &str) -> PathBuf {
        dir.join(format!("{kid}.pem"))
    }

    fn persist(&self, kid: &str, pem: &str) -> Result<Option<String>, KeyError> {
        match self {
            KeyStore::Database => Ok(Some(pem.to_owned())),
            KeyStore::Directory(dir) => {
                let io = |path: &Path| {
                    let path = path.to_owned();
                    move |source| KeyError::Io { path, source }
                };
                std::fs::create_dir_all(dir).map_err(io(dir))?;
                let path = Self::key_path(dir, kid);
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                {
                    use std::os::unix::fs::OpenOptionsExt;
                    options.mode(0o600);
                }
                let mut file = options.open(&path).map_err(io(&path))?;
                file.write_all(pem.as_bytes()).map_err(io(&path))?;
                file.sync_all().map_err(io(&path))?;
                Ok(None)
            }
        }
    }

    fn load(&self, row: &SigningKeyRow) -> Result<SigningKey, KeyError> {
        let pem = match (&row.private_key_pem, self) {
            (Some(pem), _) => pem.clone(),
            (None, KeyStore::Directory(dir)) => {
                let path = Self::key_path(dir, &row.kid);
                std::fs::read_to_string(&path).map_err(|source| KeyError::Io { path, source })?
            }
            (None, KeyStore::Database) => {
                return Err(KeyError::Invalid {
                    kid: row.kid.clone(),
                    reason: "its PEM is in the keys directory, not the database".into(),
                });
            }
        };
        let key = SigningKey::from_pem(&pem, row.created_at, row.retired_at).map_err(|reason| {
            KeyError::Invalid {
                kid: row.kid.clone(),
                reason,
            }
        })?;
        if key.kid != row.kid {
            return Err(KeyError::Invalid {
                kid: row.kid.clone(),
                reason: format!("its thumbprint is {}", key.kid),
            });
        }
        Ok(key)
    }

    /// Generates a key, stores it, and makes it the active one.
    pub fn create_active(&self, conn: &mut DbConnection, now: i64) -> Result<String, KeyError> {
        let (key, pem) = SigningKey::generate(now)?;
        let stored_pem = self.persist(&key.kid, &pem)?;
        signing_keys::insert(
            conn,
            &SigningKeyRow {
                kid: key.kid.clone(),
                private_key_pem: stored_pem,
                created_at: now,
                retired_at: None,
            },
        )?;
        signing_keys::retire_others(conn, &key.kid, now)?;
        Ok(key.kid)
    }

    /// Loads every key that may still verify a live token. Keys retired longer ago
    /// than `retention` seconds are left out of the JWKS.
    pub fn load_ring(
        &self,
        conn: &mut DbConnection,
        now: i64,
        retention: i64,
    ) -> Result<KeyRing, KeyError> {
        let rows = signing_keys::live(conn, now - retention)?;
        let mut keys = Vec::with_capacity(rows.len());
        for row in &rows {
            keys.push(Arc::new(self.load(row)?));
        }
        KeyRing::new(keys)
    }

    /// First start: make sure one active key exists; the `kid` of the key it made.
    pub fn ensure_active(
        &self,
        conn: &mut DbConnection,
        now: i64,
    ) -> Result<Option<String>, KeyError> {
        let any_active = signing_keys::live(conn, i64::MAX)?;
        if any_active.is_empty() {
            return Ok(Some(self.create_active(conn, now)?));
        }
        Ok(None)
    }
}

/// Where a stored key stands: it signs, it only verifies, or it is no longer published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStatus {
    Active,
    /// Retired; stays in the JWKS until `until` for the tokens it signed.
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
/// seconds, as in [`KeyStore::load_ring`].
pub fn list_keys(
    conn: &mut DbConnection,
    now: i64,
    retention: i64,
) -> Result<Vec<KeyInfo>, KeyError> {
    Ok(signing_keys::all(conn)?
        .into_iter()
        .map(|row| KeyInfo {
            status: match row.retired_at {
                None => KeyStatus::Active,
                Some(t) if t + retention > now => KeyStatus::Previous {
                    until: t + retention,
                },
                Some(_) => KeyStatus::Expired,
            },
            kid: row.kid,
            created_at: row.created_at,
        })
        .collect())
}

/// The keys in memory: the newest active one signs; all of them verify.
#[derive(Debug, Clone)]
pub struct KeyRing {
    active: Arc<SigningKey>,
    by_kid: HashMap<String, Arc<SigningKey>>,
    ordered: Vec<Arc<SigningKey>>,
}

impl KeyRing {
    /// The active key (newest unretired) comes first, then the most recently retired.
    pub fn new(mut keys: Vec<Arc<SigningKey>>) -> Result<Self, KeyError> {
        use std::cmp::Reverse;
        keys.sort_by(|a, b| {
            let rank = |k: &SigningKey| {
                (
                    k.retired_at.is_some(),
                    Reverse(k.retired_at),
                    Reverse(k.created_at),
                )
            };
            rank(a).cmp(&rank(b)).then_with(|| a.kid.cmp(&b.kid))
        });
        let active = keys
            .iter()
            .find(|k| k.retired_at.is_none())
            .cloned()
            .ok_or(KeyError::NoActiveKey)?;
        let by_kid = keys.iter().map(|k| (k.kid.clone(), k.clone())).collect();
        Ok(KeyRing {
            active,
            by_kid,
            ordered: keys,
        })
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
}
