//! Lifecycles as data: which phone statuses accept each batch operation (the simulator's table),
//! and how the operation moves the phone's status: the status while the job runs and the one it
//! settles in on success or failure, which is cph-types' [`BatchOperation::status_path`], the very
//! path the client reconciles by. A job's own status is evaluated lazily from its end instant and
//! its outcome, decided at submit time.
//!
//! Failed restart, reset and stop jobs leave the phone in the documented failure statuses
//! (`-6` restart failed, `-5` reset failed, `-9` stop failed); from there a restart or reset
//! brings it back. Property updates, restores and exports never change the phone status.

use std::time::SystemTime;

use cph_types::{BatchOperation, JobStatus, PhoneStatus, StatusPath};

use PhoneStatus::{Abnormal, ResetFailed, RestartFailed, Running, StopFailed, Stopped};

/// One row of the transition table: `operation` on a phone in one of `from`, moving its status
/// along `path` (`None`: unchanged).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Transition {
    /// The operation.
    pub(crate) operation: BatchOperation,
    /// The statuses in which the phone accepts it.
    pub(crate) from: &'static [PhoneStatus],
    /// The operation's [`BatchOperation::status_path`].
    pub(crate) path: Option<StatusPath>,
}

impl Transition {
    /// `operation` accepted from `from`, moving the status as cph-types says it does.
    const fn new(operation: BatchOperation, from: &'static [PhoneStatus]) -> Self {
        Transition {
            operation,
            from,
            path: operation.status_path(),
        }
    }

    /// The status shown while the job runs (`None`: unchanged).
    pub(crate) fn during(&self) -> Option<PhoneStatus> {
        self.path.map(|path| path.during)
    }
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
    Transition::new(BatchOperation::Restart, RECOVERABLE),
    // reset 2 -> 3 -> 2
    Transition::new(BatchOperation::Reset, RECOVERABLE),
    // stop 2 -> 7 -> 8; a stopped phone cannot be stopped again
    Transition::new(
        BatchOperation::Stop,
        &[Running, RestartFailed, ResetFailed, StopFailed, Abnormal],
    ),
    Transition::new(BatchOperation::UpdateProperty, RECOVERABLE),
    // restore and export need a running phone
    Transition::new(BatchOperation::Restore, &[Running]),
    Transition::new(BatchOperation::Storage, &[Running]),
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
    match (transition.path, outcome) {
        (Some(path), Outcome::Success) => path.success,
        (Some(path), Outcome::Failed { .. }) => path.failure,
        (None, _) => before,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn path(op: BatchOperation, from: PhoneStatus, outcome: &Outcome) -> Option<(i64, i64)> {
        transition(op, from).map(|t| {
            (
                t.during().unwrap_or(from).code(),
                settled_status(&t, from, outcome).code(),
            )
        })
    }

    #[test]
    fn the_clients_status_paths_are_the_simulators_transitions() {
        // cph-http reconciles an ambiguous failure by the statuses cph-types names for each operation:
        // the simulator must move phones through exactly those, from every status that accepts it.
        let failed = Outcome::Failed {
            code: "c".into(),
            msg: "m".into(),
        };
        for operation in BatchOperation::ALL {
            let t = TRANSITIONS
                .iter()
                .find(|t| t.operation == operation)
                .copied()
                .unwrap_or_else(|| panic!("no transition for {operation:?}"));
            for &from in t.from {
                let shown = (
                    t.during(),
                    settled_status(&t, from, &Outcome::Success),
                    settled_status(&t, from, &failed),
                );
                let expected = match operation.status_path() {
                    Some(path) => (Some(path.during), path.success, path.failure),
                    None => (None, from, from),
                };
                assert_eq!(shown, expected, "{operation:?} from {from:?}");
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
        assert!(transition(BatchOperation::Restart, PhoneStatus::Restarting).is_none());
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
