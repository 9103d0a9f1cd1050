//! localidp: a self-contained identity provider that answers like Azure AD B2C and
//! Microsoft Entra ID. `startup::Application` builds and runs the server; the
//! integration tests use it as a fixture.

pub mod cache;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod db;
pub mod directory;
pub mod http;
pub mod oauth;
pub mod seed;
pub mod startup;
pub mod state;
pub mod tls;

pub use config::{ConfigArgs, Settings};
pub use startup::{Application, StartError};
