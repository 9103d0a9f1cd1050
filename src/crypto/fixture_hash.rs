//! The fixture hash: how `serve --ephemeral --seed FILE` stores the seed's passwords,
//! so a seed of thousands of users starts in milliseconds instead of spending ~10 ms
//! of argon2id per user before the server listens.
//!
//! `$localidp-fixture$v=1$SALT$HASH`: SHA-256 over a random 16-byte salt followed by
//! the password, both base64 without padding. Salted, but fast: anyone who reads it
//! can test guesses at billions a second, so it is made only for an ephemeral server
//! (its database lives in memory and dies with the process) and verified only by one:
//! [`super::password::PasswordHasher`] refuses it on any other server, so a fixture
//! hash copied into a real database never signs anyone in. Nothing imports it
//! ([`super::password::is_importable_hash`] says no).

use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;

/// Every fixture hash starts with this.
pub const MARK: &str = "$localidp-fixture$";
const PREFIX: &str = "$localidp-fixture$v=1$";
const SALT_LEN: usize = 16;

/// Whether a stored hash is a fixture hash (of any version).
pub fn is_fixture_hash(stored: &str) -> bool {
    stored.starts_with(MARK)
}

fn digest(salt: &[u8], password: &[u8]) -> digest::Digest {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(salt);
    ctx.update(password);
    ctx.finish()
}

/// A fixture hash of `password` with a fresh random salt; `None` if the system has
/// no randomness to give.
pub fn hash(password: &[u8]) -> Option<String> {
    use aws_lc_rs::rand::SecureRandom;
    let mut salt = [0u8; SALT_LEN];
    aws_lc_rs::rand::SystemRandom::new().fill(&mut salt).ok()?;
    Some(format!(
        "{PREFIX}{}${}",
        STANDARD_NO_PAD.encode(salt),
        STANDARD_NO_PAD.encode(digest(&salt, password))
    ))
}

/// Whether `candidate` is the password of the fixture hash `stored`; false for
/// anything malformed.
pub fn verify(candidate: &[u8], stored: &str) -> bool {
    let Some((salt, expected)) = stored
        .strip_prefix(PREFIX)
        .and_then(|rest| rest.split_once('$'))
    else {
        return false;
    };
    let (Ok(salt), Ok(expected)) = (
        STANDARD_NO_PAD.decode(salt),
        STANDARD_NO_PAD.decode(expected),
    ) else {
        return false;
    };
    if salt.len() != SALT_LEN {
        return false;
    }
    let actual = digest(&salt, candidate);
    aws_lc_rs::constant_time::verify_slices_are_equal(actual.as_ref(), &expected).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_format() {
        let stored = hash(b"correct horse").unwrap();
        assert!(stored.starts_with("$localidp-fixture$v=1$"));
        assert!(is_fixture_hash(&stored));
        let parts: Vec<_> = stored.split('$').collect();
        assert_eq!(parts.len(), 5, "{stored}");
        assert_eq!(STANDARD_NO_PAD.decode(parts[3]).unwrap().len(), 16);
        assert_eq!(STANDARD_NO_PAD.decode(parts[4]).unwrap().len(), 32);
        assert!(verify(b"correct horse", &stored));
        assert!(!verify(b"correct horsE", &stored));
        assert!(!verify(b"", &stored));
    }

    #[test]
    fn salted_so_equal_passwords_differ() {
        let a = hash(b"same").unwrap();
        let b = hash(b"same").unwrap();
        assert_ne!(a, b);
        assert!(verify(b"same", &a) && verify(b"same", &b));
    }

    #[test]
    fn malformed_never_verifies() {
        let good = hash(b"pw").unwrap();
        let (head, tail) = good.rsplit_once('$').unwrap();
        for bad in [
            "$localidp-fixture$v=1$",
            "$localidp-fixture$v=2$AAAAAAAAAAAAAAAAAAAAAA$AAAA",
            "$localidp-fixture$v=1$short$AAAA",
            &format!("{head}$!!{tail}"),
            &format!("{head}$"),
            &good.replacen("v=1", "v=9", 1),
            "plain",
        ] {
            assert!(!verify(b"pw", bad), "{bad}");
        }
        assert!(!is_fixture_hash("$argon2id$v=19$m=19456,t=2,p=1$abc$def"));
    }
}
