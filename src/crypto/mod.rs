//! Password hashing, signing keys, JWT signing and opaque secrets.

pub mod fixture_hash;
pub mod hash_formats;
pub mod jwt;
pub mod kek;
pub mod key_rotation;
pub mod key_service;
pub mod key_store;
pub mod keys;
pub mod password;
pub mod secrets;
pub mod timing;
