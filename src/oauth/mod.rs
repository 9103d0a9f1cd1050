//! OAuth 2.0 / OpenID Connect logic without HTTP types: grants, claims, scopes and
//! token verification.

pub mod authority;
pub mod claims;
pub mod error;
pub mod grants;
pub mod scope;
pub mod verify;

pub use error::{ErrorCode, OAuthError, Reason};
