//! Black-box tests: each starts the real server on port 0 and speaks HTTP to it.

mod authorize;
mod azure;
mod body_errors;
mod claims_mapping;
mod cli;
mod client_credentials;
mod discovery;
mod exchange;
mod helpers;
mod interop;
mod interop_azure;
mod login_verify;
mod overload;
mod password_forms;
mod password_grant;
mod persistence;
mod refresh;
mod spa;
mod token_status;
mod user_names;
mod verify_bounds;
