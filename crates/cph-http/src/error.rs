//! The crate's one error type. Every variant names the API operation (or setting) involved;
//! none ever carries a secret.

use std::fmt;
use std::time::Duration;

use crate::reach::Failing;

/// How a request failed below HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportKind {
    /// The connection could not be made; nothing was sent, so the service certainly did not act.
    Connect,
    /// The attempt ran past the per-attempt timeout; the service may have acted.
    Timeout,
    /// The connection failed after the request may have been sent (reset, broken body).
    Other,
}

impl TransportKind {
    /// What the user should check, in words.
    pub fn what_to_check(self) -> &'static str {
        match self {
            TransportKind::Connect => {
                "Check that the endpoint is right (the provider's `endpoint` or CPH_ENDPOINT, or the host of \
                 `region` / HW_REGION_NAME), that its host name resolves and that it accepts connections from here \
                 (a proxy or firewall in the way, a simulator not started)"
            }
            TransportKind::Timeout => {
                "The service did not answer in time: check the network to the endpoint; a batch request that timed \
                 out may still have been performed and is never sent again blindly"
            }
            TransportKind::Other => {
                "The connection broke: check the network and any proxy between here and the endpoint; a batch \
                 request cut off this way may still have been performed and is never sent again blindly"
            }
        }
    }
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportKind::Connect => "connection failed",
            TransportKind::Timeout => "request timed out",
            TransportKind::Other => "transport error",
        })
    }
}

/// Everything that can go wrong talking to the CPH API.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The service answered with an HTTP error status and (usually) a CPH error body.
    #[error(
        "{operation} failed with http {status}{}{}{}",
        code.as_deref().map(|c| format!(" {c}")).unwrap_or_default(),
        message.as_deref().map(|m| format!(": {m}")).unwrap_or_default(),
        request_id.as_deref().map(|r| format!(" (request id {r})")).unwrap_or_default()
    )]
    Api {
        /// The API operation, e.g. `ListJobs`.
        operation: &'static str,
        /// The HTTP status code.
        status: u16,
        /// The CPH error code, e.g. `CPS.0005` or `APIG.0308`.
        code: Option<String>,
        /// The service's message.
        message: Option<String>,
        /// The request id, from the `X-Request-Id` header or else the error body.
        request_id: Option<String>,
    },
    /// The request did not get an HTTP answer (connection refused, reset, per-attempt timeout).
    /// The message names the endpoint, how many attempts were made over how long, and what to
    /// check.
    #[error(
        "{operation} to {endpoint} failed after {attempts} {} over {:.1} s: {kind}: {message}. {}",
        if *attempts == 1 { "attempt" } else { "attempts" },
        elapsed.as_secs_f64(),
        kind.what_to_check()
    )]
    Transport {
        /// The API operation.
        operation: &'static str,
        /// What kind of failure, which decides whether it may be retried.
        kind: TransportKind,
        /// The underlying error and its causes, as text.
        message: String,
        /// The endpoint's base URL (no credentials ever appear in it).
        endpoint: String,
        /// Attempts made, retries included.
        attempts: u32,
        /// From the first attempt to the last failure.
        elapsed: Duration,
    },
    /// A 2xx answer whose body could not be read as the operation's response.
    #[error("{operation} answered http {status} with an unreadable body: {message}")]
    Decode {
        /// The API operation.
        operation: &'static str,
        /// The HTTP status code.
        status: u16,
        /// Why decoding failed.
        message: String,
    },
    /// A listing was stopped because its pages contradict themselves: a page repeats elements
    /// already listed (the service ignored `offset`), the listing ends short of the count the
    /// service reports or makes no progress, or it runs past the most pages allowed. Nothing is
    /// returned rather than a list with phones missing or twice.
    #[error("{operation} paging stopped at offset {offset}: {message}")]
    Paging {
        /// The API operation, e.g. `ListCloudPhones`.
        operation: &'static str,
        /// The offset of the page that stopped the listing.
        offset: u32,
        /// What was wrong, with the figures.
        message: String,
    },
    /// The caller's deadline passed before the operation completed.
    #[error("{operation} did not complete before the deadline ({elapsed:?} after it started)")]
    Timeout {
        /// The API operation (or `wait` for the job waiter).
        operation: &'static str,
        /// How long the operation had run when the deadline passed.
        elapsed: Duration,
    },
    /// The caller's cancellation token fired before the operation completed.
    #[error("{operation} was cancelled")]
    Cancelled {
        /// The API operation (or `wait` for the job waiter).
        operation: &'static str,
    },
    /// Every attempt of the operation failed (no answer, or a server error) for longer than the
    /// client's bound ([`crate::Settings::unreachable_after`]): the endpoint stopped answering, and
    /// the operation gave up on it. Nothing more was sent.
    #[error("gave up on the endpoint: {0}")]
    Unreachable(Box<Failing>),
    /// An argument or setting was rejected before anything was sent.
    #[error("invalid {what}: {reason}")]
    InvalidInput {
        /// What was rejected, e.g. `endpoint` or `list_jobs limit`.
        what: String,
        /// Why, naming the offending value.
        reason: String,
    },
    /// A CPH value was rejected by `cph-types` before anything was sent.
    #[error(transparent)]
    InvalidValue(#[from] cph_types::Error),
}

impl Error {
    /// The CPH error code of an [`Error::Api`].
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Api { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    /// The request id of an [`Error::Api`].
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Api { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }

    /// The HTTP status of an [`Error::Api`] or [`Error::Decode`].
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } | Error::Decode { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub(crate) fn invalid(what: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidInput {
            what: what.into(),
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_error_message_names_operation_status_code_and_request_id() {
        let err = Error::Api {
            operation: "ListJobs",
            status: 429,
            code: Some("APIG.0308".into()),
            message: Some("rate limited".into()),
            request_id: Some("r1".into()),
        };
        assert_eq!(
            err.to_string(),
            "ListJobs failed with http 429 APIG.0308: rate limited (request id r1)"
        );
        assert_eq!(err.code(), Some("APIG.0308"));
        assert_eq!(err.request_id(), Some("r1"));
        assert_eq!(err.status(), Some(429));
        let bare = Error::Api {
            operation: "ShowJob",
            status: 502,
            code: None,
            message: None,
            request_id: None,
        };
        assert_eq!(bare.to_string(), "ShowJob failed with http 502");
    }
}
