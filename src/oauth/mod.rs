//! OAuth 2.0 / OpenID Connect logic without HTTP types: grants, claims, scopes and
//! token verification.

pub mod authority;
pub mod authorization_code;
pub mod claims;
pub mod error;
pub mod exchange;
pub mod grants;
pub mod logout;
pub mod revocation;
pub mod scope;
pub mod session;
pub mod user_flows;
pub mod verify;

pub use error::{ErrorCode, OAuthError, Reason};
