//! Black-box tests: each starts the real server on port 0 and speaks HTTP to it.

mod api_keys;
mod authorize;
mod azure;
mod body_errors;
mod bootstrap_race;
mod claims_mapping;
mod cli;
mod client_credentials;
mod discovery;
mod exchange;
mod helpers;
mod interop;
mod interop_azure;
mod lockout;
mod login_verify;
mod overload;
mod password_forms;
mod password_grant;
mod persistence;
mod quiet_logs;
mod rate_limits;
mod refresh;
mod refresh_grace;
mod token_status;
mod user_names;
mod verify_bounds;
