//! Smart lockout, as Entra ID does it: after `lockout_threshold` wrong passwords in a
//! row an account is locked for `lockout_duration`, each lock in a row lasting twice
//! the one before (up to `lockout_max_duration`). While it is locked every password,
//! right or wrong, gets the same answer and changes nothing. The counters live in
//! the database ([`crate::db::lockout`]), so replicas share them.

use super::{OAuthError, Reason};
use crate::config::LockoutPolicy;
use crate::db::lockout as store;
use crate::db::{DbConnection, DbResult};

/// Entra's AADSTS50053 and B2C's AADB2C90114 say as much.
pub const LOCKED: &str = "The account is locked after too many sign-ins with a wrong user name or password. Try again later.";

/// The answer to every sign-in while the account is locked.
pub fn locked() -> OAuthError {
    OAuthError::invalid_grant(Reason::AccountLocked, LOCKED)
}

/// Counts a wrong password for the account. True when the account is now locked: this
/// failure reached the threshold, or another request locked it meanwhile.
pub fn count_failure(
    conn: &mut DbConnection,
    policy: &LockoutPolicy,
    user_id: &str,
    now: i64,
) -> DbResult<bool> {
    let Some(counted) = store::count_failure(conn, user_id, now)? else {
        return Ok(true);
    };
    if i64::from(counted.failed_sign_ins) < i64::from(policy.threshold) {
        return Ok(false);
    }
    let earlier = policy.earlier_locks(counted.locked_until, counted.lockouts, now);
    let until = now.saturating_add(policy.lock_length(earlier));
    let lockouts = i32::try_from(earlier.saturating_add(1)).unwrap_or(i32::MAX);
    // When this loses the race, a later failure locks (or a success reset the count).
    if store::lock(conn, user_id, &counted, until, lockouts)? {
        tracing::info!(
            user_id,
            until,
            lockouts,
            "account locked after wrong passwords"
        );
    }
    Ok(true)
}
