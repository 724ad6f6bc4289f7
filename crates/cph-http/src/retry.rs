//! Retry classification, kept apart from the retry policy: [`classify`] says what kind of
//! failure an attempt had and whether the service certainly did not act; [`RetryPolicy`] says
//! whether and after how long to try again (exponential backoff, full jitter, cap, `Retry-After`).

use std::time::Duration;

use crate::error::{Error, TransportKind};

/// What kind of failure an attempt had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FailureClass {
    /// HTTP 429: throttled before acting.
    Throttled,
    /// The service certainly did not act: HTTP 503, or the connection failed before sending.
    NotActed,
    /// A server or transport failure after which the service may have acted: HTTP 500, 502,
    /// 504 and other 5xx, a per-attempt timeout, a connection broken mid-request.
    Ambiguous,
    /// The request was refused (4xx other than 429) or the answer unreadable: retrying the same
    /// request gives the same answer.
    Permanent,
}

impl FailureClass {
    /// Whether the service certainly did not act on the request.
    pub(crate) fn service_did_not_act(self) -> bool {
        matches!(
            self,
            FailureClass::Throttled | FailureClass::NotActed | FailureClass::Permanent
        )
    }
}

/// Classifies a failed attempt.
pub(crate) fn classify(error: &Error) -> FailureClass {
    match error {
        Error::Api { status: 429, .. } => FailureClass::Throttled,
        Error::Api { status: 503, .. } => FailureClass::NotActed,
        Error::Api { status, .. } if *status >= 500 => FailureClass::Ambiguous,
        Error::Transport {
            kind: TransportKind::Connect,
            ..
        } => FailureClass::NotActed,
        Error::Transport { .. } => FailureClass::Ambiguous,
        _ => FailureClass::Permanent,
    }
}

/// When to retry and how long to wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 disables retrying).
    pub max_retries: u32,
    /// The backoff ceiling of the first retry; it doubles with each retry.
    pub base_delay: Duration,
    /// The largest backoff ceiling.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 5,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// Whether a failure of `class` may be retried. Idempotent requests (GET) are retried on
    /// every transient failure; others (POST) only when the service certainly did not act.
    pub(crate) fn allows(&self, idempotent: bool, class: FailureClass) -> bool {
        match class {
            FailureClass::Throttled | FailureClass::NotActed => true,
            FailureClass::Ambiguous => idempotent,
            FailureClass::Permanent => false,
        }
    }

    /// The wait before retry number `retry` (0-based): full jitter over the exponential
    /// ceiling, but never less than the service's `Retry-After`.
    pub(crate) fn delay(
        &self,
        retry: u32,
        retry_after: Option<Duration>,
        fraction: f64,
    ) -> Duration {
        let ceiling = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(retry.min(30)))
            .min(self.max_delay);
        let jittered = ceiling.mul_f64(fraction.clamp(0.0, 1.0));
        retry_after.map_or(jittered, |after| jittered.max(after))
    }
}

/// Reads `Retry-After` given in seconds (the HTTP-date form is ignored).
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16) -> Error {
        Error::Api {
            operation: "X",
            status,
            code: None,
            message: None,
            request_id: None,
        }
    }

    fn transport(kind: TransportKind) -> Error {
        Error::Transport {
            operation: "X",
            kind,
            message: String::new(),
            endpoint: "https://cph.example".into(),
            attempts: 1,
            elapsed: std::time::Duration::ZERO,
        }
    }

    #[test]
    fn only_throttling_503_and_refused_connections_certainly_did_not_act() {
        assert_eq!(classify(&api(429)), FailureClass::Throttled);
        assert_eq!(classify(&api(503)), FailureClass::NotActed);
        assert_eq!(
            classify(&transport(TransportKind::Connect)),
            FailureClass::NotActed
        );
        for status in [500, 502, 504] {
            assert_eq!(classify(&api(status)), FailureClass::Ambiguous, "{status}");
        }
        assert_eq!(
            classify(&transport(TransportKind::Timeout)),
            FailureClass::Ambiguous
        );
        assert_eq!(
            classify(&transport(TransportKind::Other)),
            FailureClass::Ambiguous
        );
        assert_eq!(classify(&api(400)), FailureClass::Permanent);
        assert_eq!(classify(&api(401)), FailureClass::Permanent);
    }

    #[test]
    fn posts_are_retried_only_when_the_service_did_not_act() {
        let policy = RetryPolicy::default();
        assert!(policy.allows(false, FailureClass::Throttled));
        assert!(policy.allows(false, FailureClass::NotActed));
        assert!(!policy.allows(false, FailureClass::Ambiguous));
        assert!(policy.allows(true, FailureClass::Ambiguous));
        assert!(!policy.allows(true, FailureClass::Permanent));
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_with_full_jitter() {
        let policy = RetryPolicy {
            max_retries: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
        };
        assert_eq!(policy.delay(0, None, 0.999_999).as_millis(), 99);
        assert_eq!(policy.delay(2, None, 0.5), Duration::from_millis(200));
        assert_eq!(policy.delay(9, None, 0.5), Duration::from_millis(500));
        assert_eq!(policy.delay(3, None, 0.0), Duration::ZERO);
        assert_eq!(policy.delay(u32::MAX, None, 1.0), Duration::from_secs(1));
    }

    #[test]
    fn retry_after_is_a_floor_for_the_delay() {
        let policy = RetryPolicy::default();
        let after = Some(Duration::from_secs(3));
        assert_eq!(policy.delay(0, after, 0.1), Duration::from_secs(3));
        assert_eq!(parse_retry_after(" 1 "), Some(Duration::from_secs(1)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }
}
