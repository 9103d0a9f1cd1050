//! Per-client-address rate limiting of the credential endpoints: GCRA (the token
//! bucket written as one "theoretical arrival time" per address), in memory.
//!
//! Each replica counts on its own: behind a load balancer spreading one address over
//! N replicas, that address gets up to N times the configured rate. Memory is bounded:
//! at most [`MAX_TRACKED`] addresses are remembered; an address whose bucket is full
//! again is forgotten, and when the map is full the addresses closest to a full
//! bucket go first, so the ones being held back are the last to be forgotten.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};

/// Addresses remembered at most (about 40 bytes each).
pub const MAX_TRACKED: usize = 65_536;

/// Who is counted: an IPv4 address, or the /64 network of an IPv6 address (one host
/// usually holds a whole /64, so counting single IPv6 addresses would count nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientKey {
    V4(u32),
    V6Net(u64),
}

impl From<IpAddr> for ClientKey {
    fn from(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => ClientKey::V4(u32::from(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => ClientKey::V4(u32::from(v4)),
                None => ClientKey::V6Net((u128::from(v6) >> 64) as u64),
            },
        }
    }
}

/// Requests refused: try again after this many seconds (at least 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub u64);

pub struct RateLimiter {
    /// Milliseconds one request uses up; `None` when rate limiting is off.
    interval_ms: Option<i64>,
    /// How far ahead of now an address's arrival time may run: `burst` requests.
    tolerance_ms: i64,
    /// Per address: the time (ms) at which its bucket is full again.
    full_at: Mutex<HashMap<ClientKey, i64>>,
    max_tracked: usize,
}

impl RateLimiter {
    /// `per_minute` requests a minute sustained, `burst` at once; `per_minute == 0`
    /// turns limiting off.
    pub fn new(per_minute: u32, burst: u32) -> Self {
        Self::with_capacity(per_minute, burst, MAX_TRACKED)
    }

    fn with_capacity(per_minute: u32, burst: u32, max_tracked: usize) -> Self {
        let interval_ms = (per_minute > 0).then(|| (60_000 / i64::from(per_minute)).max(1));
        RateLimiter {
            interval_ms,
            tolerance_ms: interval_ms.unwrap_or(0) * i64::from(burst.max(1)),
            full_at: Mutex::new(HashMap::new()),
            max_tracked,
        }
    }

    pub fn is_on(&self) -> bool {
        self.interval_ms.is_some()
    }

    /// Counts one request from `client` at `now` (unix seconds, from the injected
    /// clock): allowed, or refused with the wait until one more would be allowed.
    pub fn check(&self, client: ClientKey, now: i64) -> Result<(), RetryAfter> {
        let Some(interval) = self.interval_ms else {
            return Ok(());
        };
        let now = now.saturating_mul(1000);
        let mut map = self.full_at.lock().unwrap_or_else(PoisonError::into_inner);
        let full_at = map.get(&client).copied().unwrap_or(now).max(now);
        let next = full_at + interval;
        if next - now > self.tolerance_ms {
            let wait_ms = next - now - self.tolerance_ms;
            return Err(RetryAfter(((wait_ms + 999) / 1000).max(1) as u64));
        }
        if map.len() >= self.max_tracked && !map.contains_key(&client) {
            Self::make_room(&mut map, now, self.max_tracked);
        }
        map.insert(client, next);
        Ok(())
    }

    /// Forgets addresses whose bucket is full again; if that frees too little, the
    /// half closest to a full bucket.
    fn make_room(map: &mut HashMap<ClientKey, i64>, now: i64, max: usize) {
        map.retain(|_, full_at| *full_at > now);
        if map.len() >= max * 3 / 4 {
            let mut times: Vec<i64> = map.values().copied().collect();
            let cut = times.len() / 2;
            let (_, median, _) = times.select_nth_unstable(cut);
            let median = *median;
            map.retain(|_, full_at| *full_at > median);
        }
    }

    /// Addresses remembered now.
    pub fn tracked(&self) -> usize {
        self.full_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> ClientKey {
        s.parse::<IpAddr>().unwrap().into()
    }

    #[test]
    fn a_burst_is_allowed_then_the_rate_then_a_full_bucket_again() {
        // 6 a minute: one every 10 s; 3 at once.
        let limiter = RateLimiter::new(6, 3);
        let a = ip("192.0.2.1");
        for _ in 0..3 {
            assert_eq!(limiter.check(a, 1000), Ok(()));
        }
        assert_eq!(limiter.check(a, 1000), Err(RetryAfter(10)));
        assert_eq!(limiter.check(a, 1005), Err(RetryAfter(5)));
        // Refusals cost nothing: after the wait, one more.
        assert_eq!(limiter.check(a, 1010), Ok(()));
        assert_eq!(limiter.check(a, 1010), Err(RetryAfter(10)));
        // Another address has its own bucket.
        assert_eq!(limiter.check(ip("192.0.2.2"), 1010), Ok(()));
        // After 30 s idle the whole burst is back.
        for _ in 0..3 {
            assert_eq!(limiter.check(a, 1050), Ok(()));
        }
        assert!(limiter.check(a, 1050).is_err());
    }

    #[test]
    fn off_allows_everything() {
        let limiter = RateLimiter::new(0, 0);
        assert!(!limiter.is_on());
        for _ in 0..10_000 {
            assert_eq!(limiter.check(ip("192.0.2.1"), 1000), Ok(()));
        }
        assert_eq!(limiter.tracked(), 0);
    }

    #[test]
    fn ipv6_counts_per_64_network_and_mapped_ipv4_as_ipv4() {
        assert_eq!(ip("2001:db8:1:2::1"), ip("2001:db8:1:2:ffff::9"));
        assert_ne!(ip("2001:db8:1:2::1"), ip("2001:db8:1:3::1"));
        assert_eq!(ip("::ffff:192.0.2.7"), ip("192.0.2.7"));
    }

    #[test]
    fn memory_stays_bounded_and_held_back_addresses_are_kept() {
        let limiter = RateLimiter::with_capacity(60, 2, 100);
        let held = ip("198.51.100.1");
        limiter.check(held, 1000).unwrap();
        limiter.check(held, 1000).unwrap();
        assert!(limiter.check(held, 1000).is_err());
        // Many addresses, one request each, all within the same second.
        for i in 0..10_000u32 {
            let key = ClientKey::V4(0x0a00_0000 + i);
            limiter.check(key, 1000).unwrap();
            assert!(limiter.tracked() <= 100);
        }
        assert!(limiter.check(held, 1000).is_err(), "still held back");
        // Idle addresses are forgotten once their bucket is full again.
        limiter.check(ip("203.0.113.1"), 5000).unwrap();
        for i in 0..200u32 {
            limiter.check(ClientKey::V4(0x0b00_0000 + i), 5000).unwrap();
        }
        assert!(limiter.tracked() <= 100);
    }
}
