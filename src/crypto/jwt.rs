//! RS256 compact JWS (RFC 7515) signed with a parsed aws-lc key pair held in memory:
//! jsonwebtoken's `encode` would re-parse the PEM on every call.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::RSA_PKCS1_SHA256;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

use super::keys::SigningKey;

#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("claims do not serialise: {0}")]
    Claims(#[from] serde_json::Error),
    #[error("RSA signing failed")]
    Rsa,
}

pub fn sign<C: Serialize>(key: &SigningKey, claims: &C) -> Result<String, SignError> {
    let payload = serde_json::to_vec(claims)?;
    let mut token = String::with_capacity(key.header_b64.len() + payload.len() * 4 / 3 + 360);
    token.push_str(&key.header_b64);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(&payload, &mut token);
    let mut signature = vec![0u8; key.pair.public_modulus_len()];
    key.pair
        .sign(
            &RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            token.as_bytes(),
            &mut signature,
        )
        .map_err(|_| SignError::Rsa)?;
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(&signature, &mut token);
    Ok(token)
}

/// Why [`verify_rs256`] refused a token.
#[derive(Debug, PartialEq, Eq)]
pub enum VerifyFailure {
    /// Not three base64url parts.
    Malformed,
    BadSignature,
}

/// Checks an RS256 compact JWS against a key parsed once (jsonwebtoken's `decode`
/// parses the public key on every call) and returns the decoded payload (JSON bytes).
/// The header is the caller's to check (`alg`, `kid`).
pub fn verify_rs256(key: &SigningKey, token: &str) -> Result<Vec<u8>, VerifyFailure> {
    let (signing_input, signature_b64) = token.rsplit_once('.').ok_or(VerifyFailure::Malformed)?;
    let (_, payload_b64) = signing_input
        .split_once('.')
        .ok_or(VerifyFailure::Malformed)?;
    // RSA-2048..8192 signatures: 256..1024 bytes, on the stack.
    let mut signature = [0u8; 1024];
    let len = URL_SAFE_NO_PAD
        .decode_slice(signature_b64, &mut signature)
        .map_err(|_| VerifyFailure::Malformed)?;
    key.verifying
        .verify_sig(signing_input.as_bytes(), &signature[..len])
        .map_err(|_| VerifyFailure::BadSignature)?;
    URL_SAFE_NO_PAD
        .decode(payload_b64)
        .map_err(|_| VerifyFailure::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_token_verifies_and_a_changed_or_foreign_one_does_not() {
        let (key, _) = SigningKey::generate(0).unwrap();
        let (other, _) = SigningKey::generate(0).unwrap();
        let claims = serde_json::json!({"sub": "s", "exp": 1});
        let token = sign(&key, &claims).unwrap();
        let payload = verify_rs256(&key, &token).unwrap();
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&payload).unwrap(),
            claims
        );

        assert_eq!(
            verify_rs256(&other, &token),
            Err(VerifyFailure::BadSignature)
        );
        let mut parts: Vec<&str> = token.split('.').collect();
        let changed = URL_SAFE_NO_PAD.encode(br#"{"sub":"t","exp":1}"#);
        parts[1] = &changed;
        assert_eq!(
            verify_rs256(&key, &parts.join(".")),
            Err(VerifyFailure::BadSignature)
        );
        for junk in ["", "a.b", "a.b.!!!", &format!("{}.{}", token, "x")] {
            assert!(verify_rs256(&key, junk).is_err(), "{junk}");
        }
    }
}
