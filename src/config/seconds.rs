//! Settings given in seconds, checked against their allowed range.

/// A setting out of its range: its name and why.
#[derive(Debug)]
pub struct OutOfRange {
    pub name: &'static str,
    pub reason: String,
}

/// `clock_skew_seconds`: 0 to [`crate::clock::MAX_CLOCK_SKEW`], default 60.
pub(super) fn clock_skew(given: Option<i64>) -> Result<i64, OutOfRange> {
    seconds_in(
        "clock_skew_seconds",
        given,
        60,
        0..=crate::clock::MAX_CLOCK_SKEW,
    )
}

/// `token_status_refresh_seconds`: 1 to 3600, default 1.
pub(super) fn status_refresh(given: Option<i64>) -> Result<i64, OutOfRange> {
    seconds_in("token_status_refresh_seconds", given, 1, 1..=3600)
}

/// `db_outage_grace_seconds`: 0 to 3600, default 60.
pub(super) fn outage_grace(given: Option<i64>) -> Result<i64, OutOfRange> {
    seconds_in("db_outage_grace_seconds", given, 60, 0..=3600)
}

/// `shutdown_grace`: 0 to 3600, default 10.
pub(super) fn shutdown_grace(given: Option<i64>) -> Result<u64, OutOfRange> {
    seconds_in("shutdown_grace", given, 10, 0..=3600).map(|s| s.unsigned_abs())
}

/// `shutdown_delay`: 0 to 300, default 0.
pub(super) fn shutdown_delay(given: Option<i64>) -> Result<u64, OutOfRange> {
    seconds_in("shutdown_delay", given, 0, 0..=300).map(|s| s.unsigned_abs())
}

/// `keep_alive`: 0 to 3600, default 5 (actix-web's own default).
pub(super) fn keep_alive(given: Option<i64>) -> Result<u64, OutOfRange> {
    seconds_in("keep_alive", given, 5, 0..=3600).map(|s| s.unsigned_abs())
}

/// A setting in seconds within `range`, or `default` when not given.
fn seconds_in(
    name: &'static str,
    given: Option<i64>,
    default: i64,
    range: std::ops::RangeInclusive<i64>,
) -> Result<i64, OutOfRange> {
    let v = given.unwrap_or(default);
    if range.contains(&v) {
        Ok(v)
    } else {
        Err(OutOfRange {
            name,
            reason: format!(
                "must be between {} and {} seconds",
                range.start(),
                range.end()
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_ranges() {
        assert_eq!(clock_skew(None).unwrap(), 60);
        assert_eq!(clock_skew(Some(0)).unwrap(), 0);
        assert!(clock_skew(Some(-1)).is_err());
        assert!(clock_skew(Some(3601)).is_err());
        assert_eq!(status_refresh(None).unwrap(), 1);
        let e = status_refresh(Some(0)).unwrap_err();
        assert_eq!(e.name, "token_status_refresh_seconds");
        assert!(e.reason.contains("between 1 and 3600"), "{}", e.reason);
    }
}
