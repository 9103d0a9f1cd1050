//! Proof Key for Code Exchange (RFC 7636).

use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// RFC 7636 §4.1: 43 to 128 characters of `[A-Za-z0-9-._~]`.
pub fn valid_value(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// RFC 7636 §4.2: the S256 challenge of a verifier.
pub fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest(&SHA256, verifier.as_bytes()))
}

/// RFC 7636 §4.6: the verifier, transformed by the method, equals the challenge.
pub fn matches(method: &str, challenge: &str, verifier: &str) -> bool {
    let computed = match method {
        "S256" => s256(verifier),
        _ => verifier.to_owned(),
    };
    aws_lc_rs::constant_time::verify_slices_are_equal(computed.as_bytes(), challenge.as_bytes())
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_matches_rfc_7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(matches("S256", challenge, verifier));
        assert!(!matches("S256", challenge, "x".repeat(43).as_str()));
        assert!(!matches("plain", challenge, verifier));
    }

    #[test]
    fn pkce_values_are_checked_for_length_and_alphabet() {
        assert!(valid_value(&"a".repeat(43)));
        assert!(!valid_value(&"a".repeat(42)));
        assert!(!valid_value(&"a".repeat(129)));
        assert!(!valid_value(&format!("{}+", "a".repeat(43))));
    }
}
