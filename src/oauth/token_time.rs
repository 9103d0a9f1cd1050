//! The time claims of a token (RFC 7519 §4.1.4, §4.1.5), checked against the injected
//! clock with a tolerance for clock skew (`clock_skew_seconds`, 60 by default).

/// Why a token's time claims refuse it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeError {
    Expired,
    NotYetValid,
}

/// RFC 7519 §4.1.4/§4.1.5 with `skew` seconds of clock skew either way.
pub fn check_times(exp: i64, nbf: Option<i64>, now: i64, skew: i64) -> Result<(), TimeError> {
    if exp < now - skew {
        return Err(TimeError::Expired);
    }
    if nbf.is_some_and(|nbf| nbf > now + skew) {
        return Err(TimeError::NotYetValid);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_skew_widens_both_ends() {
        let now = 1_000_000;
        assert_eq!(check_times(now - 30, None, now, 60), Ok(()));
        assert_eq!(
            check_times(now - 30, None, now, 10),
            Err(TimeError::Expired)
        );
        assert_eq!(check_times(now + 60, Some(now + 30), now, 60), Ok(()));
        assert_eq!(
            check_times(now + 60, Some(now + 30), now, 0),
            Err(TimeError::NotYetValid)
        );
    }
}
