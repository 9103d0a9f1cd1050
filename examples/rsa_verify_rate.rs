//! RS256 verification cost on this machine, one thread, for the verification row of
//! `bench/run.sh`: `jsonwebtoken::decode` with a `DecodingKey` built from the raw
//! modulus and exponent (what `/auth/verify` does, which rebuilds the aws-lc public
//! key on every call) against aws-lc-rs `ParsedPublicKey` (the key parsed once).
//!
//! cargo run --release --example rsa_verify_rate -- [--seconds S]
//!
//! Prints one line per method: `<method> verifies/s=12345.6`.

use std::time::{Duration, Instant};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{
    KeyPair as _, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

fn rate(seconds: f64, mut f: impl FnMut()) -> f64 {
    let duration = Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut n: u64 = 0;
    while start.elapsed() < duration {
        for _ in 0..64 {
            f();
        }
        n += 64;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let mut seconds = 2.0;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        match (flag.as_str(), args.next()) {
            ("--seconds", Some(v)) => seconds = v.parse().expect("--seconds takes a number"),
            _ => {
                eprintln!("usage: rsa_verify_rate [--seconds S]");
                std::process::exit(2);
            }
        }
    }
    let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();

    let pair = KeyPair::generate(KeySize::Rsa2048).expect("RSA key generation");
    let public = pair.public_key();
    let n = public.modulus();
    let e = public.exponent();
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","typ":"JWT"}"#);
    let claims = URL_SAFE_NO_PAD.encode(r#"{"sub":"bench","aud":"bench","exp":4102444800}"#);
    let signing_input = format!("{header}.{claims}");
    let mut signature = vec![0u8; pair.public_modulus_len()];
    pair.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        signing_input.as_bytes(),
        &mut signature,
    )
    .expect("sign");
    let token = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(&signature));

    let decoding = jsonwebtoken::DecodingKey::from_rsa_raw_components(
        n.big_endian_without_leading_zero(),
        e.big_endian_without_leading_zero(),
    );
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.validate_aud = false;
    let r = rate(seconds, || {
        jsonwebtoken::decode::<serde_json::Value>(&token, &decoding, &validation)
            .expect("valid token");
    });
    println!("jsonwebtoken::decode(raw n,e DecodingKey) verifies/s={r:.1}");

    let parsed = ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, public.as_ref())
        .expect("parse public key");
    let r = rate(seconds, || {
        parsed
            .verify_sig(signing_input.as_bytes(), &signature)
            .expect("valid signature");
    });
    println!("aws-lc-rs ParsedPublicKey::verify_sig verifies/s={r:.1}");
}
