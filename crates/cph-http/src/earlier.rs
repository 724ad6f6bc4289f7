//! What earlier runs left for a run to take up ([`Earlier`]): jobs still running, phones found
//! acting whose job is not known, and phones whose last submission's outcome is unknown.

use cph_types::{JobId, PhoneId, RequestId};

/// A job submitted earlier (by an earlier run) that is still to be waited on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningJob {
    /// The phone.
    pub phone_id: PhoneId,
    /// The request that created the job, when known (it lets the job be polled in bulk).
    pub request_id: Option<RequestId>,
    /// The job.
    pub job_id: JobId,
}

/// A phone whose batch request failed without a clear answer: the service may have acted on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsurePhone {
    /// The phone.
    pub phone_id: PhoneId,
    /// The id of the request that carried it, when the failed answer named one.
    pub request_id: Option<RequestId>,
}

/// What earlier runs left: jobs still running, phones found acting on the operation after an
/// ambiguous failure hid their job ([`crate::Reconciliation::Acting`]), waited on by their status,
/// and phones whose last submission's outcome is unknown, which [`crate::Client::run_batch`] reads
/// before it sends them again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Earlier {
    /// Jobs still running.
    pub jobs: Vec<RunningJob>,
    /// Phones acting on the operation whose job is not known.
    pub acting: Vec<PhoneId>,
    /// Phones of the request whose last submission's outcome is unknown (the service may have
    /// acted on them). Each must be a phone of the request [`crate::Client::run_batch`] is given:
    /// it is reconciled first ([`crate::Client::reconcile`]) and then waited on (a job of the
    /// earlier request, or the phone found acting), held back ([`crate::PhoneState::Held`]: the
    /// service could not be read), or, with no sign that the earlier request acted, sent once more.
    pub unsure: Vec<UnsurePhone>,
}

impl Earlier {
    /// Only jobs.
    pub fn jobs(jobs: Vec<RunningJob>) -> Self {
        Earlier {
            jobs,
            ..Earlier::default()
        }
    }

    /// Whether there is nothing to wait on or read.
    pub fn is_empty(&self) -> bool {
        self.jobs.is_empty() && self.acting.is_empty() && self.unsure.is_empty()
    }
}
