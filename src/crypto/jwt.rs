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
