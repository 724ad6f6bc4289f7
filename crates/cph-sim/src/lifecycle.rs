//! Lifecycles as data: which phone statuses each batch operation accepts, the status a phone shows
//! while the job runs, and the status it settles in when the job succeeds or fails. A job's own
//! status is evaluated lazily from its end instant and its outcome, decided at submit time.
//!
//! Failed restart, reset and stop jobs leave the phone in the documented failure statuses
//! (`-6` restart failed, `-5` reset failed, `-9` stop failed); from there a restart or reset
//! brings it back. Property updates, restores and exports never change the phone status.

use std::time::SystemTime;

use cph_types::{BatchOperation, JobStatus, PhoneStatus};

use PhoneStatus::{
    Abnormal, ResetFailed, Resetting, RestartFailed, Restarting, Running, StopFailed, Stopped,
    Stopping,
};

/// One row of the transition table: `operation` on a phone in one of `from`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Transition {
    /// The operation.
    pub(crate) operation: BatchOperation,
    /// The statuses in which the phone accepts it.
    pub(crate) from: &'static [PhoneStatus],
    /// The status shown while the job runs (`None`: unchanged).
    pub(crate) during: Option<PhoneStatus>,
    /// The status after success (`None`: unchanged).
    pub(crate) on_success: Option<PhoneStatus>,
    /// The status after failure (`None`: unchanged).
    pub(crate) on_failure: Option<PhoneStatus>,
}

/// Settled statuses from which a phone can be restarted, reset or have its properties updated.
const RECOVERABLE: &[PhoneStatus] = &[
    Running,
    Stopped,
    RestartFailed,
    ResetFailed,
    StopFailed,
    Abnormal,
];

/// The whole lifecycle. A phone in a status not listed for an operation refuses it.
pub(crate) const TRANSITIONS: &[Transition] = &[
    // restart 2 -> 4 -> 2; a stopped phone is powered on 8 -> 4 -> 2
    Transition {
        operation: BatchOperation::Restart,
        from: RECOVERABLE,
        during: Some(Restarting),
        on_success: Some(Running),
        on_failure: Some(RestartFailed),
    },
    // reset 2 -> 3 -> 2
    Transition {
        operation: BatchOperation::Reset,
        from: RECOVERABLE,
        during: Some(Resetting),
        on_success: Some(Running),
        on_failure: Some(ResetFailed),
    },
    // stop 2 -> 7 -> 8; a stopped phone cannot be stopped again
    Transition {
        operation: BatchOperation::Stop,
        from: &[Running, RestartFailed, ResetFailed, StopFailed, Abnormal],
        during: Some(Stopping),
        on_success: Some(Stopped),
        on_failure: Some(StopFailed),
    },
    Transition {
        operation: BatchOperation::UpdateProperty,
        from: RECOVERABLE,
        during: None,
        on_success: None,
        on_failure: None,
    },
    // restore and export need a running phone
    Transition {
        operation: BatchOperation::Restore,
        from: &[Running],
        during: None,
        on_success: None,
        on_failure: None,
    },
    Transition {
        operation: BatchOperation::Storage,
        from: &[Running],
        during: None,
        on_success: None,
        on_failure: None,
    },
];

/// The transition `operation` takes from `status`, or `None` when the status refuses it.
pub(crate) fn transition(operation: BatchOperation, status: PhoneStatus) -> Option<Transition> {
    TRANSITIONS
        .iter()
        .find(|t| t.operation == operation && t.from.contains(&status))
        .copied()
}

/// How a job ends, decided when it is submitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Ends with status 2.
    Success,
    /// Ends with status -1 and this error.
    Failed {
        /// The job's `error_code`.
        code: String,
        /// The job's `error_msg`.
        msg: String,
    },
}

impl Outcome {
    /// The final job status.
    pub(crate) fn final_status(&self) -> JobStatus {
        match self {
            Outcome::Success => JobStatus::Success,
            Outcome::Failed { .. } => JobStatus::Failed,
        }
    }
}

/// A job's status at `now`: running until `ends_at`, then its outcome.
pub(crate) fn job_status(now: SystemTime, ends_at: SystemTime, outcome: &Outcome) -> JobStatus {
    if now < ends_at {
        JobStatus::Running
    } else {
        outcome.final_status()
    }
}

/// The status a phone settles in when a job of `transition` ends with `outcome`.
pub(crate) fn settled_status(
    transition: &Transition,
    before: PhoneStatus,
    outcome: &Outcome,
) -> PhoneStatus {
    let next = match outcome {
        Outcome::Success => transition.on_success,
        Outcome::Failed { .. } => transition.on_failure,
    };
    next.unwrap_or(before)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn path(op: BatchOperation, from: PhoneStatus, outcome: &Outcome) -> Option<(i64, i64)> {
        transition(op, from).map(|t| {
            (
                t.during.unwrap_or(from).code(),
                settled_status(&t, from, outcome).code(),
            )
        })
    }

    #[test]
    fn the_clients_status_paths_are_the_simulators_transitions() {
        // cph-http reconciles an ambiguous failure by the statuses cph-types names for each operation:
        // the simulator must move phones through exactly those.
        for operation in BatchOperation::ALL {
            let t = TRANSITIONS
                .iter()
                .find(|t| t.operation == operation)
                .copied()
                .unwrap_or_else(|| panic!("no transition for {operation:?}"));
            match operation.status_path() {
                Some(path) => {
                    assert_eq!(t.during, Some(path.during), "{operation:?}");
                    assert_eq!(t.on_success, Some(path.success), "{operation:?}");
                    assert_eq!(t.on_failure, Some(path.failure), "{operation:?}");
                }
                None => assert_eq!(t.during, None, "{operation:?}"),
            }
        }
    }

    #[test]
    fn documented_paths_hold() {
        let ok = Outcome::Success;
        assert_eq!(path(BatchOperation::Restart, Running, &ok), Some((4, 2)));
        assert_eq!(path(BatchOperation::Reset, Running, &ok), Some((3, 2)));
        assert_eq!(path(BatchOperation::Stop, Running, &ok), Some((7, 8)));
        assert_eq!(path(BatchOperation::Restart, Stopped, &ok), Some((4, 2)));
        assert_eq!(
            path(BatchOperation::UpdateProperty, Running, &ok),
            Some((2, 2))
        );
    }

    #[test]
    fn failures_leave_the_failure_status() {
        let failed = Outcome::Failed {
            code: "c".into(),
            msg: "m".into(),
        };
        assert_eq!(
            path(BatchOperation::Restart, Running, &failed),
            Some((4, -6))
        );
        assert_eq!(path(BatchOperation::Reset, Running, &failed), Some((3, -5)));
        assert_eq!(path(BatchOperation::Stop, Running, &failed), Some((7, -9)));
        assert_eq!(
            path(BatchOperation::Restore, Running, &failed),
            Some((2, 2))
        );
        assert_eq!(
            path(BatchOperation::Restart, RestartFailed, &Outcome::Success),
            Some((4, 2))
        );
    }

    #[test]
    fn refused_paths_have_no_transition() {
        assert!(transition(BatchOperation::Stop, Stopped).is_none());
        assert!(transition(BatchOperation::Restore, Stopped).is_none());
        assert!(transition(BatchOperation::Restart, PhoneStatus::Frozen).is_none());
        assert!(transition(BatchOperation::Restart, Restarting).is_none());
    }

    #[test]
    fn every_operation_has_a_row() {
        for op in BatchOperation::ALL {
            assert!(transition(op, Running).is_some(), "{op:?}");
        }
    }

    #[test]
    fn job_runs_until_its_end_then_shows_its_outcome() {
        let start = SystemTime::UNIX_EPOCH;
        let end = start + Duration::from_millis(200);
        let failed = Outcome::Failed {
            code: "c".into(),
            msg: "m".into(),
        };
        assert_eq!(job_status(start, end, &failed), JobStatus::Running);
        assert_eq!(job_status(end, end, &failed), JobStatus::Failed);
        assert_eq!(job_status(end, end, &Outcome::Success), JobStatus::Success);
    }
}
