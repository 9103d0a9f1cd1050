//! OAuth 2.0 / OpenID Connect logic without HTTP types: grants, claims, scopes and
//! token verification.

pub mod api_key;
pub mod authority;
pub mod authorization_code;
pub mod broker;
pub mod broker_link;
pub mod claims;
pub mod client_auth;
pub mod error;
pub mod external;
pub mod grant_type;
pub mod grants;
pub mod issue;
pub mod lockout;
pub mod logout;
pub mod mint;
pub mod passthrough;
pub mod pkce;
pub mod revocation;
pub mod scope;
pub mod services;
pub mod session;
pub mod sign_in;
pub mod status;
pub mod token_request;
pub mod token_time;
pub mod user_flows;
pub mod verify;

pub use error::{ErrorCode, OAuthError, Reason};
