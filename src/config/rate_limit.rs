//! `[rate_limit]`: how many credential requests one client address may make.

use clap::Args;
use serde::Deserialize;

/// Sustained requests a minute per client address, by default: ten a second, far
/// above what a person or a test suite signs in with, far below a guessing script.
pub const DEFAULT_PER_MINUTE: u32 = 600;
/// Requests at once per client address, by default: a test suite's burst of
/// sign-ins from one machine stays under it.
pub const DEFAULT_BURST: u32 = 300;

/// The `[rate_limit]` section, or its flags.
#[derive(Debug, Clone, Default, Args, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitArgs {
    /// Credential requests (token endpoints, /auth/login, the sign-in and sign-up forms,
    /// /revoke, /introspect) allowed per client address per minute, sustained; 0 turns
    /// rate limiting off. Default 600.
    #[arg(
        long = "rate-limit-per-minute",
        value_name = "N",
        env = "LOCALIDP_RATE_LIMIT_PER_MINUTE"
    )]
    pub per_minute: Option<u32>,
    /// Credential requests one client address may make at once before the per-minute
    /// rate applies. Default 300.
    #[arg(
        long = "rate-limit-burst",
        value_name = "N",
        env = "LOCALIDP_RATE_LIMIT_BURST"
    )]
    pub burst: Option<u32>,
}

impl RateLimitArgs {
    /// Values given here win over `file`.
    pub fn over(self, file: RateLimitArgs) -> RateLimitArgs {
        RateLimitArgs {
            per_minute: self.per_minute.or(file.per_minute),
            burst: self.burst.or(file.burst),
        }
    }
}

/// The validated limit: `per_minute == 0` means off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub per_minute: u32,
    pub burst: u32,
}

impl RateLimit {
    pub fn from_args(args: &RateLimitArgs) -> Result<RateLimit, String> {
        let limit = RateLimit {
            per_minute: args.per_minute.unwrap_or(DEFAULT_PER_MINUTE),
            burst: args.burst.unwrap_or(DEFAULT_BURST),
        };
        if limit.per_minute > 0 && limit.burst == 0 {
            return Err("burst must be at least 1 (per_minute = 0 turns rate limiting off)".into());
        }
        Ok(limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_on_and_zero_turns_it_off() {
        let default = RateLimit::from_args(&RateLimitArgs::default()).unwrap();
        assert_eq!((default.per_minute, default.burst), (600, 300));
        let off: RateLimitArgs = toml::from_str("per_minute = 0").unwrap();
        assert_eq!(RateLimit::from_args(&off).unwrap().per_minute, 0);
        let bad: RateLimitArgs = toml::from_str("burst = 0").unwrap();
        assert!(RateLimit::from_args(&bad).is_err());
        let flags = RateLimitArgs {
            burst: Some(5),
            ..Default::default()
        };
        let file: RateLimitArgs = toml::from_str("per_minute = 60\nburst = 9").unwrap();
        let merged = RateLimit::from_args(&flags.over(file)).unwrap();
        assert_eq!((merged.per_minute, merged.burst), (60, 5));
        assert!(toml::from_str::<RateLimitArgs>("rate = 1").is_err());
    }
}
