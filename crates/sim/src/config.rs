//! Simulator configuration and fault injection.

use std::fmt;
use std::time::Duration;

use crate::fixture::Fixture;

/// The simulator's request-body limit: the 1 MB of seed 001 (ESL §2.1), read as
/// 1,000,000 bytes (the stricter reading; `esl-push` uses the same number).
pub const MAX_BODY_BYTES: usize = 1_000_000;

/// How the simulator is set up.
#[derive(Clone)]
pub struct SimConfig {
    /// The one `app_id` the simulator knows; others get 5041.
    pub app_id: String,
    /// The secret key requests must be signed with. Never printed.
    pub secret: String,
    /// TCP port on 127.0.0.1 (0 = any free port).
    pub port: u16,
    /// Shops, APs and ESLs.
    pub fixture: Fixture,
    /// Random faults.
    pub faults: FaultConfig,
    /// Largest accepted `|timestamp - now|` (seed: "within the reasonable time window", not
    /// given; we choose 300 s).
    pub timestamp_window: Duration,
    /// Request-body limit (default [`MAX_BODY_BYTES`]); larger requests get HTTP 413.
    pub max_body_bytes: usize,
    /// Seconds added to the simulator's clock: lets tests make a correct client's
    /// timestamps look stale.
    pub clock_skew_secs: i64,
}

impl SimConfig {
    /// A configuration for `app_id`/`secret` with the demo fixture, a free port and no
    /// faults.
    #[must_use]
    pub fn new(app_id: impl Into<String>, secret: impl Into<String>) -> Self {
        Self {
            app_id: app_id.into(),
            secret: secret.into(),
            port: 0,
            fixture: Fixture::demo(),
            faults: FaultConfig::default(),
            timestamp_window: Duration::from_secs(300),
            max_body_bytes: MAX_BODY_BYTES,
            clock_skew_secs: 0,
        }
    }

    /// Replaces the fixture.
    #[must_use]
    pub fn with_fixture(mut self, fixture: Fixture) -> Self {
        self.fixture = fixture;
        self
    }

    /// Replaces the fault configuration.
    #[must_use]
    pub fn with_faults(mut self, faults: FaultConfig) -> Self {
        self.faults = faults;
        self
    }

    /// Sets the port.
    #[must_use]
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }
}

impl fmt::Debug for SimConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimConfig")
            .field("app_id", &self.app_id)
            .field("secret", &"***")
            .field("port", &self.port)
            .field("shops", &self.fixture.shops.len())
            .field("aps", &self.fixture.aps.len())
            .field("esls", &self.fixture.esls.len())
            .field("faults", &self.faults)
            .field("timestamp_window", &self.timestamp_window)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("clock_skew_secs", &self.clock_skew_secs)
            .finish()
    }
}

/// A fault the simulator can inject into one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Answer HTTP 200 with this platform code (e.g. 5000) after the request passed the
    /// signature checks; nothing is changed.
    Code(i64),
    /// Answer with this HTTP status (500, 503, 429, …) before any check.
    Http(u16),
    /// Close the connection without answering.
    Drop,
    /// Wait this long, then handle the request normally.
    Delay(Duration),
}

/// Random faults: each request independently gets at most one fault, drawn from a seeded
/// generator. The probabilities are per request and should add up to at most 1.
///
/// With requests arriving concurrently, *which* request gets a fault depends on arrival
/// order; the fraction does not.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultConfig {
    /// Seed of the fault generator.
    pub seed: u64,
    /// Probability of [`Fault::Code`]`(5000)` (database error, transient).
    pub error_5000: f64,
    /// Probability of HTTP 500.
    pub http_500: f64,
    /// Probability of HTTP 503.
    pub http_503: f64,
    /// Probability of a dropped connection.
    pub drop_connection: f64,
    /// Probability of a delay of [`FaultConfig::delay`].
    pub delay_probability: f64,
    /// The injected delay.
    pub delay: Duration,
}

impl Default for FaultConfig {
    /// No faults.
    fn default() -> Self {
        Self {
            seed: 0,
            error_5000: 0.0,
            http_500: 0.0,
            http_503: 0.0,
            drop_connection: 0.0,
            delay_probability: 0.0,
            delay: Duration::from_millis(0),
        }
    }
}

impl FaultConfig {
    /// A total fault rate `rate` spread evenly over 5000, HTTP 500, HTTP 503 and dropped
    /// connections (each `rate / 4`), with `seed`.
    #[must_use]
    pub fn transient(rate: f64, seed: u64) -> Self {
        let each = rate / 4.0;
        Self {
            seed,
            error_5000: each,
            http_500: each,
            http_503: each,
            drop_connection: each,
            ..Self::default()
        }
    }

    /// Draws the fault for one request from a uniform `u` in `[0, 1)`.
    pub(crate) fn pick(&self, u: f64) -> Option<Fault> {
        let table = [
            (self.error_5000, Fault::Code(5000)),
            (self.http_500, Fault::Http(500)),
            (self.http_503, Fault::Http(503)),
            (self.drop_connection, Fault::Drop),
            (self.delay_probability, Fault::Delay(self.delay)),
        ];
        let mut acc = 0.0;
        for (p, fault) in table {
            acc += p.max(0.0);
            if u < acc {
                return Some(fault);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pick_partitions_unit_interval() {
        let f = FaultConfig::transient(0.4, 1);
        assert_eq!(f.pick(0.05), Some(Fault::Code(5000)));
        assert_eq!(f.pick(0.15), Some(Fault::Http(500)));
        assert_eq!(f.pick(0.25), Some(Fault::Http(503)));
        assert_eq!(f.pick(0.35), Some(Fault::Drop));
        assert_eq!(f.pick(0.45), None);
        assert_eq!(FaultConfig::default().pick(0.0), None);
    }

    #[test]
    fn debug_hides_secret() {
        let c = SimConfig::new("app", "topsecret");
        assert!(!format!("{c:?}").contains("topsecret"));
    }
}
