//! Private signing keys encrypted at rest: AES-256-GCM (aws-lc-rs) under a
//! key-encryption key (KEK) from `LOCALIDP_KEY_ENCRYPTION_KEY` or
//! `key_encryption_key_file`.
//!
//! Stored form, one line: `localidp-kek-v1:<kek id>:<nonce>:<ciphertext>` (base64url,
//! no padding). The plaintext is the PKCS#8 DER; the associated data names the key's
//! `kid`, so a ciphertext moved to another key's row or file does not decrypt. The KEK
//! id (a short hash of the KEK) tells "encrypted under another KEK" from "corrupt".

use std::path::Path;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

/// The setting names an operator is told about.
pub const KEK_ENV: &str = "LOCALIDP_KEY_ENCRYPTION_KEY";
pub const KEK_FILE_SETTING: &str = "key_encryption_key_file";
pub const NEW_KEK_ENV: &str = "LOCALIDP_NEW_KEY_ENCRYPTION_KEY";

const PREFIX: &str = "localidp-kek-v1:";

/// A key-encryption key: 32 bytes, never printed.
pub struct Kek {
    key: LessSafeKey,
    id: String,
}

impl std::fmt::Debug for Kek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kek").field("id", &self.id).finish()
    }
}

/// What opening a stored private key found.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OpenError {
    #[error(
        "it is encrypted (key-encryption key {stored}) and no key-encryption key is set: set LOCALIDP_KEY_ENCRYPTION_KEY or key_encryption_key_file"
    )]
    NoKek { stored: String },
    #[error(
        "it is encrypted under key-encryption key {stored}, but LOCALIDP_KEY_ENCRYPTION_KEY / key_encryption_key_file holds key {given}: set the key it was encrypted with (after `localidp keys rewrap`, the new one)"
    )]
    WrongKek { stored: String, given: String },
    #[error(
        "it does not decrypt under key-encryption key {stored}, which is the one given: the stored key is corrupt or was altered"
    )]
    Corrupt { stored: String },
    #[error("its encrypted form is malformed ({0})")]
    Malformed(&'static str),
}

impl Kek {
    /// A KEK from its text: base64 of exactly 32 bytes (`openssl rand -base64 32`);
    /// `source` names where it came from in the error.
    pub fn parse(text: &str, source: &str) -> Result<Kek, String> {
        let bytes = STANDARD.decode(text.trim()).map_err(|_| {
            format!(
                "{source} is not base64: it must hold 32 random bytes in base64 (44 characters; make one with `openssl rand -base64 32`)"
            )
        })?;
        if bytes.len() != 32 {
            return Err(format!(
                "{source} decodes to {} bytes; a key-encryption key is 32 bytes in base64 (44 characters; make one with `openssl rand -base64 32`)",
                bytes.len()
            ));
        }
        let mut material = b"localidp-kek-id:".to_vec();
        material.extend_from_slice(&bytes);
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &material);
        let id = URL_SAFE_NO_PAD.encode(&digest.as_ref()[..6]);
        let key = UnboundKey::new(&AES_256_GCM, &bytes)
            .map_err(|_| format!("{source}: AES-256-GCM refused the key"))?;
        Ok(Kek {
            key: LessSafeKey::new(key),
            id,
        })
    }

    /// A KEK from a file holding its base64 text (trailing newline allowed).
    pub fn from_file(path: &Path, setting: &str) -> Result<Kek, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{setting}: cannot read {}: {e}", path.display()))?;
        Kek::parse(&text, &format!("{setting} ({})", path.display()))
    }

    /// The short hash that names this KEK in envelopes and messages.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Encrypts the PKCS#8 DER of key `kid` into its stored form.
    pub fn seal(&self, kid: &str, pkcs8_der: &[u8]) -> Result<String, String> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| "no random nonce".to_owned())?;
        let mut data = pkcs8_der.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad(kid)),
                &mut data,
            )
            .map_err(|_| "encryption failed".to_owned())?;
        Ok(format!(
            "{PREFIX}{}:{}:{}",
            self.id,
            URL_SAFE_NO_PAD.encode(nonce),
            URL_SAFE_NO_PAD.encode(&data)
        ))
    }

    /// Decrypts a stored form made by [`Kek::seal`] for key `kid`.
    pub fn open(&self, kid: &str, stored: &str) -> Result<Vec<u8>, OpenError> {
        let envelope = Envelope::parse(stored)?;
        if envelope.kek_id != self.id {
            return Err(OpenError::WrongKek {
                stored: envelope.kek_id.to_owned(),
                given: self.id.clone(),
            });
        }
        let corrupt = || OpenError::Corrupt {
            stored: envelope.kek_id.to_owned(),
        };
        let nonce: [u8; NONCE_LEN] = URL_SAFE_NO_PAD
            .decode(envelope.nonce)
            .ok()
            .and_then(|n| n.try_into().ok())
            .ok_or_else(corrupt)?;
        let mut data = URL_SAFE_NO_PAD
            .decode(envelope.ciphertext)
            .map_err(|_| corrupt())?;
        let plain = self
            .key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad(kid)),
                &mut data,
            )
            .map_err(|_| corrupt())?;
        Ok(plain.to_vec())
    }
}

fn aad(kid: &str) -> Vec<u8> {
    format!("localidp-signing-key:{kid}").into_bytes()
}

/// Whether a stored private key is in the encrypted form (else it is a PEM).
pub fn is_sealed(stored: &str) -> bool {
    stored.trim_start().starts_with(PREFIX)
}

/// The id of the KEK a stored key is encrypted under, if it is encrypted.
pub fn sealed_under(stored: &str) -> Option<&str> {
    Envelope::parse(stored).ok().map(|e| e.kek_id)
}

/// Opens `stored` with `kek` (when sealed) or reads it as it is (a PEM): the
/// PKCS#8 DER either way.
pub fn open_stored(kek: Option<&Kek>, kid: &str, stored: &str) -> Result<Vec<u8>, String> {
    if !is_sealed(stored) {
        return super::keys::pem_decode(stored, "PRIVATE KEY");
    }
    match kek {
        Some(kek) => kek.open(kid, stored).map_err(|e| e.to_string()),
        None => Err(match Envelope::parse(stored) {
            Ok(e) => OpenError::NoKek {
                stored: e.kek_id.to_owned(),
            },
            Err(e) => e,
        }
        .to_string()),
    }
}

struct Envelope<'a> {
    kek_id: &'a str,
    nonce: &'a str,
    ciphertext: &'a str,
}

impl<'a> Envelope<'a> {
    fn parse(stored: &'a str) -> Result<Envelope<'a>, OpenError> {
        let rest = stored
            .trim()
            .strip_prefix(PREFIX)
            .ok_or(OpenError::Malformed("no localidp-kek-v1 prefix"))?;
        let mut parts = rest.split(':');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(kek_id), Some(nonce), Some(ciphertext), None) if !kek_id.is_empty() => {
                Ok(Envelope {
                    kek_id,
                    nonce,
                    ciphertext,
                })
            }
            _ => Err(OpenError::Malformed(
                "expected kek id, nonce and ciphertext",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const K1: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    const K2: &str = "HxwdHhscGRgXFhUUExIREA8ODQwLCgkIBwYFBAMCAQA=";

    #[test]
    fn a_sealed_key_opens_only_with_its_kek_and_its_kid() {
        let (k1, k2) = (Kek::parse(K1, "t").unwrap(), Kek::parse(K2, "t").unwrap());
        let sealed = k1.seal("kid-a", b"pkcs8 bytes").unwrap();
        assert!(sealed.starts_with(&format!("localidp-kek-v1:{}:", k1.id())));
        assert_eq!(k1.open("kid-a", &sealed).unwrap(), b"pkcs8 bytes");
        assert!(matches!(
            k2.open("kid-a", &sealed),
            Err(OpenError::WrongKek { .. })
        ));
        assert!(matches!(
            k1.open("kid-b", &sealed),
            Err(OpenError::Corrupt { .. })
        ));
        let mut flipped = sealed.clone().into_bytes();
        let last = flipped.len() - 2;
        flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).unwrap();
        assert!(matches!(
            k1.open("kid-a", &flipped),
            Err(OpenError::Corrupt { .. })
        ));
        let none = open_stored(None, "kid-a", &sealed).unwrap_err();
        assert!(
            none.contains(KEK_ENV) && none.contains(KEK_FILE_SETTING),
            "{none}"
        );
    }

    #[test]
    fn only_32_bytes_of_base64_make_a_kek() {
        let short = Kek::parse("AAECAwQFBgcICQoLDA0ODw==", "X").unwrap_err();
        assert!(short.contains("decodes to 16 bytes"), "{short}");
        assert!(
            Kek::parse("not base64!", "X")
                .unwrap_err()
                .contains("not base64")
        );
        assert!(Kek::parse(&format!("{K1}\n"), "X").is_ok());
        assert_ne!(
            Kek::parse(K1, "X").unwrap().id(),
            Kek::parse(K2, "X").unwrap().id()
        );
        assert!(!format!("{:?}", Kek::parse(K1, "X").unwrap()).contains(K1));
    }
}
