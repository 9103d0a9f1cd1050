//! Password hashing, signing keys, JWT signing and opaque secrets.

pub mod jwt;
pub mod keys;
pub mod password;
pub mod secrets;
