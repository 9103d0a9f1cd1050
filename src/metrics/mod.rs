//! Prometheus metrics: what the request path counts ([`Metrics`], owned by the app
//! state) and what is read at scrape time ([`scrape`]), served by a listener of its
//! own ([`server`]). Off unless `metrics_listen` is set: until then requests, tokens and
//! sign-ins are not counted (the pool and the hashing queue keep their cheap counts).
//!
//! Labels never carry what a client wrote in a path: requests are counted by the
//! route's pattern (`/{tenant}/oauth2/v2.0/token`), methods outside a fixed list as
//! `other`, and every other label comes from a closed set of names.

pub mod scrape;
pub mod server;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;

/// Request latency buckets, seconds: 0.5 ms to ~8 s.
const LATENCY_BUCKETS: [f64; 15] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0,
];

/// The route label of a request no route matched (a 404 from the default service).
pub const UNMATCHED: &str = "unmatched";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub route: String,
    pub method: &'static str,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
    pub method: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TokenLabels {
    pub grant: &'static str,
    pub flavour: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TokenFailureLabels {
    pub grant: &'static str,
    pub flavour: &'static str,
    pub reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    pub reason: &'static str,
}

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

type LatencyFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

/// The counters and histograms the server moves as it works. Cloning shares them.
#[derive(Clone)]
pub struct Metrics {
    enabled: bool,
    /// Unix seconds (with fraction) when this process built its state.
    started_at: f64,
    pub(crate) requests: Family<RequestLabels, Counter>,
    pub(crate) request_seconds: LatencyFamily,
    pub(crate) tokens_issued: Family<TokenLabels, Counter>,
    pub(crate) token_failures: Family<TokenFailureLabels, Counter>,
    pub(crate) sign_in_failures: Family<ReasonLabels, Counter>,
    pub(crate) refresh_families_revoked: Family<ReasonLabels, Counter>,
    pub(crate) lockouts: Counter,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

impl Metrics {
    /// `enabled`: whether anything will ever read them (a metrics listener is set).
    pub fn new(enabled: bool) -> Self {
        let started_at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        Metrics {
            enabled,
            started_at,
            requests: Family::default(),
            request_seconds: Family::new_with_constructor(latency_histogram),
            tokens_issued: Family::default(),
            token_failures: Family::default(),
            sign_in_failures: Family::default(),
            refresh_families_revoked: Family::default(),
            lockouts: Counter::default(),
        }
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    pub fn started_at(&self) -> f64 {
        self.started_at
    }

    /// One answered request: `route` is the matched pattern (`None`: no route matched,
    /// or the request failed before one did); `method` from [`method_label`].
    pub fn request(&self, route: Option<&str>, method: &'static str, status: u16, seconds: f64) {
        if !self.enabled {
            return;
        }
        let route = route.unwrap_or(UNMATCHED).to_owned();
        self.request_seconds
            .get_or_create(&RouteLabels {
                route: route.clone(),
                method,
            })
            .observe(seconds);
        self.requests
            .get_or_create(&RequestLabels {
                route,
                method,
                status,
            })
            .inc();
    }

    pub fn token_issued(&self, grant: &'static str, flavour: &'static str) {
        if self.enabled {
            self.tokens_issued
                .get_or_create(&TokenLabels { grant, flavour })
                .inc();
        }
    }

    /// A token request refused: `reason` is the OAuth reason's audit name.
    pub fn token_refused(&self, grant: &'static str, flavour: &'static str, reason: &'static str) {
        if self.enabled {
            self.token_failures
                .get_or_create(&TokenFailureLabels {
                    grant,
                    flavour,
                    reason,
                })
                .inc();
        }
    }

    /// A password sign-in that failed (any grant or page): `reason` as the audit log
    /// writes it (`invalid_password`, `unknown_user`, `locked`, ...).
    pub fn sign_in_failed(&self, reason: &'static str) {
        if self.enabled {
            self.sign_in_failures
                .get_or_create(&ReasonLabels { reason })
                .inc();
        }
    }

    /// A refresh token family ended because a spent token came back (`reuse`) or for
    /// another audit reason.
    pub fn refresh_family_revoked(&self, reason: &'static str) {
        if self.enabled {
            self.refresh_families_revoked
                .get_or_create(&ReasonLabels { reason })
                .inc();
        }
    }

    /// An account locked by smart lockout.
    pub fn account_locked(&self) {
        if self.enabled {
            self.lockouts.inc();
        }
    }
}

/// The method as a label: the standard ones by name, anything else (client text) as
/// `other`.
pub fn method_label(method: &str) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "CONNECT", "TRACE",
    ];
    KNOWN.into_iter().find(|m| *m == method).unwrap_or("other")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_recorded_when_off_and_methods_are_a_closed_set() {
        let off = Metrics::new(false);
        off.request(Some("/auth/token"), "POST", 200, 0.01);
        off.token_issued("password", "plain");
        assert!(
            off.requests
                .get(&RequestLabels {
                    route: "/auth/token".into(),
                    method: "POST",
                    status: 200
                })
                .is_none()
        );
        assert_eq!(method_label("POST"), "POST");
        assert_eq!(method_label("BREW"), "other");
        assert_eq!(method_label("post"), "other");
    }
}
