//! The simulator's start-up settings ([`SimConfig`]) and its fault model ([`Faults`]), with the
//! documented defaults shared by the library, the `cph-sim` binary and the README.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::SimError;

/// Default listen address: loopback, ephemeral port.
pub const DEFAULT_LISTEN: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 0);
/// Default number of phones in the fixture.
pub const DEFAULT_PHONES: usize = 20;
/// Default seed of every random choice (ids, job failures, fault injection, latency jitter).
pub const DEFAULT_SEED: u64 = 1;
/// Default time a job runs before it ends.
pub const DEFAULT_JOB_DURATION: Duration = Duration::from_secs(2);
/// Default access key (AK) accepted for SDK-HMAC-SHA256 signatures.
pub const DEFAULT_ACCESS_KEY: &str = "SIMACCESSKEY00000001";
/// Default secret key (SK) of [`DEFAULT_ACCESS_KEY`].
pub const DEFAULT_SECRET_KEY: &str = "simsecretkey";
/// Default project id, the only one the simulator serves.
pub const DEFAULT_PROJECT_ID: &str = "0123456789abcdef0123456789abcdef";
/// Default IAM token accepted in `X-Auth-Token`.
pub const DEFAULT_AUTH_TOKEN: &str = "sim-token";
/// The HTTP status of an injected server error when none (or 0) is configured.
pub const DEFAULT_SERVER_ERROR_STATUS: u16 = 503;
/// Default time a finished job stays known (ShowJob, ListJobs) after its end: 24 hours.
pub const DEFAULT_JOB_RETENTION: Duration = Duration::from_secs(24 * 60 * 60);

/// Everything a simulator is started with.
#[derive(Clone)]
pub struct SimConfig {
    /// Where to listen; port 0 picks an ephemeral port (see [`crate::Simulator::base_url`]).
    pub listen: SocketAddr,
    /// Number of phones in the fixture, all running at start.
    pub phones: usize,
    /// Seed of every random choice: the same seed gives the same ids, failures and jitter.
    pub seed: u64,
    /// How long every job runs before it ends (success or failure).
    pub job_duration: Duration,
    /// How long a job stays known after its end: once its end time is more than this in the
    /// past, ShowJob answers it as not found and ListJobs no longer lists it (its effects on the
    /// phone stay).
    pub job_retention: Duration,
    /// The access key (AK) accepted for signed requests.
    pub access_key: String,
    /// The secret key (SK) of `access_key`; never logged, `Debug` prints `***`.
    pub secret_key: String,
    /// The project id served; requests for any other project are refused.
    pub project_id: String,
    /// The token accepted in `X-Auth-Token`; `None` disables token authentication.
    pub auth_token: Option<String>,
    /// Faults injected from the start (changeable at runtime).
    pub faults: Faults,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            listen: DEFAULT_LISTEN,
            phones: DEFAULT_PHONES,
            seed: DEFAULT_SEED,
            job_duration: DEFAULT_JOB_DURATION,
            job_retention: DEFAULT_JOB_RETENTION,
            access_key: DEFAULT_ACCESS_KEY.to_owned(),
            secret_key: DEFAULT_SECRET_KEY.to_owned(),
            project_id: DEFAULT_PROJECT_ID.to_owned(),
            auth_token: Some(DEFAULT_AUTH_TOKEN.to_owned()),
            faults: Faults::default(),
        }
    }
}

impl fmt::Debug for SimConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimConfig")
            .field("listen", &self.listen)
            .field("phones", &self.phones)
            .field("seed", &self.seed)
            .field("job_duration", &self.job_duration)
            .field("job_retention", &self.job_retention)
            .field("access_key", &self.access_key)
            .field("secret_key", &"***")
            .field("project_id", &self.project_id)
            .field("auth_token", &self.auth_token.as_ref().map(|_| "***"))
            .field("faults", &self.faults)
            .finish()
    }
}

/// Faults the simulator injects. Every rate is a probability in `0..=1`.
///
/// Throttling and server errors are decided (and answered) before the service acts, so such an
/// answer certainly means nothing happened. The acted faults (`acted_error_rate`,
/// `acted_drop_rate`) hit only the six batch operations, and only a request that would have been
/// answered 200: the service performs the batch first (jobs created, phones moving), then answers
/// 500 `CPS.0003` under the request id of those jobs, or closes the connection without answering.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Faults {
    /// Probability that one phone's job ends failed (status `-1`) with an error code and message.
    pub job_failure_rate: f64,
    /// Probability that a request is answered 429 `APIG.0308` with `Retry-After: 1`.
    pub throttle_rate: f64,
    /// Probability that a request is answered with `server_error_status`.
    pub server_error_rate: f64,
    /// Status of injected server errors: 503 by default (0 means 503); 500 for ambiguity tests.
    pub server_error_status: u16,
    /// Latency added to every `/v1` request, in milliseconds.
    pub latency_ms: u64,
    /// Plus a uniformly random `0..=latency_jitter_ms` milliseconds.
    pub latency_jitter_ms: u64,
    /// Probability that a batch operation the service performed is answered 500 `CPS.0003`
    /// (with the request id its jobs were recorded under) instead of its 200.
    pub acted_error_rate: f64,
    /// Probability that a batch operation the service performed gets no answer at all: the
    /// connection is closed without a status line. Drawn only when no acted error was drawn.
    pub acted_drop_rate: f64,
}

impl Faults {
    /// Checks every rate is within `0..=1` and the server error status is 0 or a 5xx status.
    pub fn validate(&self) -> Result<(), SimError> {
        for (name, rate) in [
            ("job_failure_rate", self.job_failure_rate),
            ("throttle_rate", self.throttle_rate),
            ("server_error_rate", self.server_error_rate),
            ("acted_error_rate", self.acted_error_rate),
            ("acted_drop_rate", self.acted_drop_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(SimError::InvalidFault {
                    name,
                    value: rate.to_string(),
                });
            }
        }
        if self.server_error_status != 0 && !(500..=599).contains(&self.server_error_status) {
            return Err(SimError::InvalidFault {
                name: "server_error_status",
                value: self.server_error_status.to_string(),
            });
        }
        Ok(())
    }

    /// The status an injected server error is answered with.
    pub fn effective_server_error_status(&self) -> u16 {
        if self.server_error_status == 0 {
            DEFAULT_SERVER_ERROR_STATUS
        } else {
            self.server_error_status
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_secret_key_and_token() {
        let text = format!("{:?}", SimConfig::default());
        assert!(!text.contains(DEFAULT_SECRET_KEY));
        assert!(!text.contains(DEFAULT_AUTH_TOKEN));
        assert!(text.contains("***"));
        assert!(text.contains(DEFAULT_ACCESS_KEY));
    }

    #[test]
    fn partial_fault_bodies_take_defaults() {
        let faults: Faults = serde_json::from_str(r#"{"throttle_rate":0.5}"#).unwrap_or_default();
        assert_eq!(faults.throttle_rate, 0.5);
        assert_eq!(faults.job_failure_rate, 0.0);
        assert_eq!(faults.acted_error_rate, 0.0);
        assert_eq!(faults.acted_drop_rate, 0.0);
        assert_eq!(faults.effective_server_error_status(), 503);
        let acted: Faults =
            serde_json::from_str(r#"{"acted_error_rate":0.25,"acted_drop_rate":1}"#)
                .unwrap_or_default();
        assert_eq!((acted.acted_error_rate, acted.acted_drop_rate), (0.25, 1.0));
    }

    #[test]
    fn acted_rates_are_validated_like_the_others() {
        for faults in [
            Faults {
                acted_error_rate: 1.01,
                ..Faults::default()
            },
            Faults {
                acted_drop_rate: -0.5,
                ..Faults::default()
            },
            Faults {
                acted_drop_rate: f64::NAN,
                ..Faults::default()
            },
        ] {
            assert!(faults.validate().is_err(), "{faults:?}");
        }
        let err = Faults {
            acted_drop_rate: 2.0,
            ..Faults::default()
        }
        .validate()
        .err()
        .map(|e| e.to_string());
        assert!(
            err.as_deref()
                .is_some_and(|e| e.contains("acted_drop_rate")),
            "{err:?}"
        );
        assert!(
            Faults {
                acted_error_rate: 1.0,
                acted_drop_rate: 0.0,
                ..Faults::default()
            }
            .validate()
            .is_ok()
        );
    }

    #[test]
    fn jobs_are_retained_a_day_by_default() {
        assert_eq!(
            SimConfig::default().job_retention,
            Duration::from_secs(86_400)
        );
    }

    #[test]
    fn out_of_range_faults_are_refused_naming_the_field() {
        let faults = Faults {
            throttle_rate: 1.5,
            ..Faults::default()
        };
        let err = faults.validate().err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("invalid fault setting throttle_rate 1.5: rates are 0..=1 and statuses 5xx")
        );
        let faults = Faults {
            server_error_status: 404,
            ..Faults::default()
        };
        assert!(faults.validate().is_err());
        assert!(
            Faults {
                server_error_status: 500,
                ..Faults::default()
            }
            .validate()
            .is_ok()
        );
    }
}
