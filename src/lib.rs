//! localidp: a self-contained identity provider that answers like Azure AD B2C and
//! Microsoft Entra ID. `startup::Application` builds and runs the server; the
//! integration tests use it as a fixture.

// Unsafe code lives only in `sys`, which allows it; `forbid` could not be relaxed there.
#![deny(unsafe_code)]

pub mod audit;
pub mod cache;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod db;
pub mod directory;
pub mod federation;
pub mod graph;
pub mod http;
pub mod logging;
pub mod metrics;
pub mod oauth;
pub mod rate_limit;
pub mod seed;
pub mod startup;
pub mod state;
pub mod sys;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tls;
pub mod transfer;

pub use config::{ConfigArgs, Settings};
pub use startup::{Application, StartError};
