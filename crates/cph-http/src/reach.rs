//! Whether the endpoint still answers, over a whole operation: [`Reachability`] watches every
//! attempt of a run (submits, polls, reads) and says when they have all failed for longer than the
//! client's bound ([`crate::Settings::unreachable_after`]), so a run against an endpoint that went
//! away ends with [`Failing`] data instead of retrying until its deadline.
//!
//! `max_retries` bounds the retries of one call; this bounds a run whose every call fails, each
//! within its own retries, round after round.

use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::Error;

/// Calls to the endpoint failing with no answer between them: how long, how many attempts, and the
/// last error. An attempt *fails* when it gets no HTTP answer (connection refused or reset, a
/// per-attempt timeout) or a server error (HTTP 5xx); any other answer (a 2xx, a 4xx, a 429 too: the
/// service is there and asks to slow down) shows the endpoint answering and ends the streak.
#[derive(Debug, Clone, PartialEq)]
pub struct Failing {
    /// The endpoint's base URL.
    pub endpoint: String,
    /// From the first failed attempt of the streak to the moment this was taken.
    pub failing_for: Duration,
    /// Failed attempts in the streak, retries included.
    pub attempts: u32,
    /// The last attempt's error.
    pub last_error: Error,
}

impl fmt::Display for Failing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "every call to {} has failed for {:.1} s ({} {}, no answer between them); the last: {}",
            self.endpoint,
            self.failing_for.as_secs_f64(),
            self.attempts,
            if self.attempts == 1 {
                "attempt"
            } else {
                "attempts"
            },
            self.last_error
        )
    }
}

/// Whether an attempt that ended with `error` failed to get an answer from the service.
pub(crate) fn unanswered(error: &Error) -> bool {
    match error {
        Error::Transport { .. } => true,
        Error::Api { status, .. } => *status >= 500,
        _ => false,
    }
}

/// The streak of failed attempts of one operation.
#[derive(Debug)]
struct Streak {
    since: Instant,
    attempts: u32,
    last_error: Error,
}

/// The watch one operation keeps on its endpoint (shared by the calls it makes concurrently).
#[derive(Debug)]
pub(crate) struct Reachability {
    endpoint: String,
    bound: Duration,
    streak: Mutex<Option<Streak>>,
}

impl Reachability {
    /// A watch that gives up on `endpoint` once its attempts have all failed for `bound`.
    pub(crate) fn new(endpoint: impl Into<String>, bound: Duration) -> Self {
        Reachability {
            endpoint: endpoint.into(),
            bound,
            streak: Mutex::new(None),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut Option<Streak>) -> R) -> R {
        let mut guard = self
            .streak
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut guard)
    }

    /// Records an attempt made at `now`: `None` when the service answered (the streak ends), else
    /// its error (which extends the streak, or starts one, only when it was not answered).
    pub(crate) fn record(&self, now: Instant, error: Option<&Error>) {
        self.with(|streak| match error {
            Some(error) if unanswered(error) => match streak {
                Some(s) => {
                    s.attempts = s.attempts.saturating_add(1);
                    s.last_error = error.clone();
                }
                None => {
                    *streak = Some(Streak {
                        since: now,
                        attempts: 1,
                        last_error: error.clone(),
                    });
                }
            },
            Some(_) | None => *streak = None,
        });
    }

    /// When the operation gives up on the endpoint if nothing answers before: `None` while the
    /// last attempt was answered.
    pub(crate) fn gives_up_at(&self) -> Option<Instant> {
        self.with(|streak| streak.as_ref().map(|s| s.since + self.bound))
    }

    /// The streak at `now`, if the last attempt failed.
    pub(crate) fn failing(&self, now: Instant) -> Option<Failing> {
        self.with(|streak| {
            streak.as_ref().map(|s| Failing {
                endpoint: self.endpoint.clone(),
                failing_for: now.saturating_duration_since(s.since),
                attempts: s.attempts,
                last_error: s.last_error.clone(),
            })
        })
    }

    /// The streak at `now` when it has lasted the bound: time to give up.
    pub(crate) fn given_up(&self, now: Instant) -> Option<Failing> {
        self.failing(now).filter(|f| f.failing_for >= self.bound)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::error::TransportKind;

    fn refused() -> Error {
        Error::Transport {
            operation: "ListJobs",
            kind: TransportKind::Connect,
            message: "connection refused".into(),
            endpoint: "http://127.0.0.1:9".into(),
            attempts: 1,
            elapsed: Duration::ZERO,
        }
    }

    fn api(status: u16) -> Error {
        Error::Api {
            operation: "ListJobs",
            status,
            code: None,
            message: None,
            request_id: None,
        }
    }

    #[test]
    fn attempts_failing_for_the_bound_give_up_naming_the_endpoint_and_the_last_error() {
        let watch = Reachability::new("http://127.0.0.1:9", Duration::from_secs(180));
        let start = Instant::now();
        assert_eq!(watch.gives_up_at(), None);
        watch.record(start, Some(&refused()));
        watch.record(start + Duration::from_secs(60), Some(&api(502)));
        assert_eq!(watch.gives_up_at(), Some(start + Duration::from_secs(180)));
        assert_eq!(watch.given_up(start + Duration::from_secs(179)), None);
        let failing = watch.given_up(start + Duration::from_secs(180)).unwrap();
        assert_eq!(failing.endpoint, "http://127.0.0.1:9");
        assert_eq!(failing.failing_for, Duration::from_secs(180));
        assert_eq!(failing.attempts, 2);
        assert_eq!(failing.last_error, api(502));
        assert_eq!(
            failing.to_string(),
            "every call to http://127.0.0.1:9 has failed for 180.0 s (2 attempts, no answer between \
             them); the last: ListJobs failed with http 502"
        );
    }

    #[test]
    fn any_answer_but_a_server_error_ends_the_streak() {
        let start = Instant::now();
        for answer in [None, Some(api(404)), Some(api(429)), Some(api(400))] {
            let watch = Reachability::new("e", Duration::from_secs(1));
            watch.record(start, Some(&refused()));
            watch.record(start, answer.as_ref());
            assert_eq!(
                watch.failing(start + Duration::from_secs(5)),
                None,
                "{answer:?}"
            );
        }
        // A decoding failure is an answer too; a 500 or 503 is not.
        assert!(!unanswered(&Error::Decode {
            operation: "ShowJob",
            status: 200,
            message: String::new()
        }));
        assert!(unanswered(&api(500)) && unanswered(&api(503)) && !unanswered(&api(499)));
    }
}
