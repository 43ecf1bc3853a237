//! The retry policy: which failures are retried, and how long to wait between attempts.

use std::time::Duration;

use rand::RngExt;

use crate::error::{ApiCode, PushError, TransportKind};

/// Retries with exponential back-off and full jitter, bounded in attempts and in total time.
///
/// Attempt `n` (1-based) that fails transiently is followed by a sleep drawn uniformly from
/// `[0, min(max_delay, base_delay × 2^(n-1))]` ("full jitter"), or the server's `Retry-After`
/// if that is longer (still capped by `max_delay`). No retry starts once `max_attempts`
/// attempts were made or when the sleep would end after `max_elapsed` since the first attempt.
///
/// Transient (retried): platform code 5000 and any code in [`RetryPolicy::retry_codes`],
/// HTTP 5xx and 429, time-outs, connection failures. Everything else is permanent and
/// returned at once: HTTP 401/5090, 5005, 5301, other 4xx, undecodable replies, …
///
/// ```
/// use std::time::Duration;
/// let policy = esl_push::RetryPolicy {
///     max_attempts: 8,
///     base_delay: Duration::from_millis(5),
///     ..esl_push::RetryPolicy::default()
/// };
/// assert!(policy.backoff_cap(3) <= Duration::from_millis(20));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 disables retries).
    pub max_attempts: u32,
    /// Back-off cap of the first retry.
    pub base_delay: Duration,
    /// Largest back-off cap.
    pub max_delay: Duration,
    /// Total time budget, from the first attempt to the start of the last one.
    pub max_elapsed: Duration,
    /// Platform codes treated as transient besides 5000 (empty by default; 5004 "system
    /// error" and 5006 "oss error" are candidates, but the seed does not say they are
    /// temporary).
    pub retry_codes: Vec<i64>,
}

impl Default for RetryPolicy {
    /// 5 attempts, 200 ms base, 5 s cap, 30 s budget.
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
            max_elapsed: Duration::from_secs(30),
            retry_codes: Vec::new(),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    #[must_use]
    pub fn never() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The upper bound of the back-off after failed attempt `attempt` (1-based).
    #[must_use]
    pub fn backoff_cap(&self, attempt: u32) -> Duration {
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }

    /// A full-jitter back-off for failed attempt `attempt`: uniform in `[0, backoff_cap]`.
    #[must_use]
    pub fn backoff(&self, attempt: u32) -> Duration {
        let cap = self.backoff_cap(attempt);
        let nanos = u64::try_from(cap.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(rand::rng().random_range(0..=nanos))
    }

    /// Whether `error` is worth another attempt.
    #[must_use]
    pub fn is_transient(&self, error: &PushError) -> bool {
        match error {
            PushError::Api { code, .. } => {
                code.is_transient() || self.retry_codes.contains(&code.code())
            }
            PushError::Http { status, .. } => *status == 429 || (500..600).contains(status),
            PushError::Transport { kind, .. } => matches!(
                kind,
                TransportKind::Connect | TransportKind::Timeout | TransportKind::Connection
            ),
            _ => false,
        }
    }

    /// Whether a code is retried under this policy.
    #[must_use]
    pub fn retries_code(&self, code: ApiCode) -> bool {
        code.is_transient() || self.retry_codes.contains(&code.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_bounded() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff_cap(1), Duration::from_millis(200));
        assert_eq!(p.backoff_cap(2), Duration::from_millis(400));
        assert_eq!(p.backoff_cap(10), Duration::from_secs(5));
        assert_eq!(p.backoff_cap(100), Duration::from_secs(5));
        for a in 1..20 {
            assert!(p.backoff(a) <= p.backoff_cap(a));
        }
    }

    #[test]
    fn classification() {
        let p = RetryPolicy::default();
        let api = |c| PushError::Api {
            endpoint: "/x",
            code: ApiCode::from_code(c),
            message: String::new(),
        };
        assert!(p.is_transient(&api(5000)));
        for c in [5005, 5090, 5091, 5092, 5301, 5004] {
            assert!(!p.is_transient(&api(c)), "{c}");
        }
        let http = |s| PushError::Http {
            endpoint: "/x",
            status: s,
            body: String::new(),
            retry_after: None,
        };
        assert!(p.is_transient(&http(500)));
        assert!(p.is_transient(&http(503)));
        assert!(p.is_transient(&http(429)));
        assert!(!p.is_transient(&http(404)));
        assert!(!p.is_transient(&PushError::Unauthorized {
            endpoint: "/x",
            code: Some(5090),
            body: String::new()
        }));
        let wider = RetryPolicy {
            retry_codes: vec![5004],
            ..RetryPolicy::default()
        };
        assert!(wider.is_transient(&api(5004)));
    }
}
