//! Server-generated secrets (client secrets, refresh tokens): 256 random bits, so a
//! plain SHA-256 is a sufficient verifier and costs microseconds, unlike argon2.

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// 32 random bytes, base64url without padding (43 characters).
pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .expect("the system random generator is available");
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn sha256_hex(secret: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let d = digest(&SHA256, secret.as_bytes());
    let mut out = String::with_capacity(64);
    for b in d.as_ref() {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    out
}

/// A random (version 4) UUID: 122 bits from aws-lc's generator, which keeps a generator
/// per thread and reseeds it after a fork or a VM snapshot restore; request ids and row
/// ids are taken on every request, and `uuid::Uuid::new_v4` makes a `getrandom` system
/// call for each.
pub fn uuid_v4() -> uuid::Uuid {
    let mut bytes = [0u8; 16];
    SystemRandom::new()
        .fill(&mut bytes)
        .expect("the system random generator is available");
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// Compares a presented secret with its stored SHA-256 in constant time.
pub fn matches_hash(presented: &str, stored_hex: &str) -> bool {
    let computed = sha256_hex(presented);
    aws_lc_rs::constant_time::verify_slices_are_equal(computed.as_bytes(), stored_hex.as_bytes())
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_version_4_and_distinct() {
        let ids: std::collections::HashSet<uuid::Uuid> = (0..1000).map(|_| uuid_v4()).collect();
        assert_eq!(ids.len(), 1000);
        assert!(ids.iter().all(|id| id.get_version_num() == 4));
        assert!(!ids.contains(&uuid::Uuid::nil()));
    }

    #[test]
    fn sha256_hex_is_lowercase_hex_of_the_digest() {
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn generated_secrets_are_distinct_and_long() {
        let a = generate();
        let b = generate();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
    }

    #[test]
    fn hash_matches_only_the_same_secret() {
        let s = generate();
        let h = sha256_hex(&s);
        assert!(matches_hash(&s, &h));
        assert!(!matches_hash("other", &h));
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
