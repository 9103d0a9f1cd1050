//! The time claims of a token (RFC 7519 §4.1.4, §4.1.5), checked against the injected
//! clock with a tolerance for clock skew.

/// Clock skew tolerated on `exp` and `nbf`, seconds.
pub const LEEWAY: u64 = 60;

/// Why a token's time claims refuse it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeError {
    Expired,
    NotYetValid,
}

/// RFC 7519 §4.1.4/§4.1.5 with `LEEWAY` seconds of clock skew either way.
pub fn check_times(exp: i64, nbf: Option<i64>, now: i64) -> Result<(), TimeError> {
    let leeway = LEEWAY as i64;
    if exp < now - leeway {
        return Err(TimeError::Expired);
    }
    if nbf.is_some_and(|nbf| nbf > now + leeway) {
        return Err(TimeError::NotYetValid);
    }
    Ok(())
}
