//! Password hashing, signing keys, JWT signing and opaque secrets.

pub mod fixture_hash;
pub mod hash_formats;
pub mod jwt;
pub mod key_service;
pub mod keys;
pub mod password;
pub mod secrets;
pub mod timing;
