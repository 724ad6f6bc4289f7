//! What a run gives back: a [`WaitReport`] with one [`PhoneOutcome`] per phone, how the run
//! ended ([`WaitEnd`]), what reading unsure phones found ([`Reconciled`]), and the [`Progress`]
//! a callback sees after every polling round. Plain data: nothing here talks to the service.

use std::fmt;

use cph_types::{BatchOperation, JobId, JobStatus, PhoneId, RequestId};

use crate::error::Error;
use crate::reach::Failing;

/// Where a wait stands, as the progress callback sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Polling rounds done.
    pub round: u32,
    /// Phones with a final outcome (success, failure, rejection, submit failure).
    pub finished: usize,
    /// Phones whose job succeeded.
    pub succeeded: usize,
    /// Phones that failed: the job failed, or the service refused them.
    pub failed: usize,
    /// Phones submitted whose job has not finished.
    pub in_flight: usize,
    /// Phones not submitted yet (a rollout's later windows).
    pub waiting: usize,
    /// All phones.
    pub total: usize,
    /// Phones submitted just now: after a window of a rollout went out the callback is called with
    /// them (and the round unchanged); after a polling round, 0.
    pub submitted: usize,
}

/// What became of one phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PhoneState {
    /// Its job was seen with status 2.
    Succeeded,
    /// Its job was seen with status -1 (or could not be found, repeatedly).
    Failed,
    /// Its job was not seen finished before the wait ended.
    Running,
    /// The service refused the phone in the batch answer.
    Rejected,
    /// Its chunk's request failed and the service certainly did not act.
    SubmitFailed,
    /// Its chunk's request failed ambiguously: the service may or may not have acted.
    SubmitUnknown,
    /// Its chunk was never sent (cancelled or out of time).
    NotSubmitted,
    /// Its job is no longer known to the service (forgotten after the service's retention, or the
    /// service restarted), or the job shown under its id belongs to another phone, and it was not
    /// seen finished: whether the phone was acted on is unknown.
    Lost,
    /// A phone of [`crate::Earlier::unsure`] (its earlier submission's outcome unknown) that was
    /// not sent: reading the service to find out whether the earlier request acted failed. Its
    /// outcome is still unknown; the message is the reading's error.
    Held,
}

impl PhoneState {
    /// Lower-case name: `success`, `failed`, `running`, `rejected`, `submit_failed`,
    /// `submit_unknown`, `not_submitted`, `lost` or `held`.
    pub fn as_str(self) -> &'static str {
        match self {
            PhoneState::Succeeded => "success",
            PhoneState::Failed => "failed",
            PhoneState::Running => "running",
            PhoneState::Rejected => "rejected",
            PhoneState::SubmitFailed => "submit_failed",
            PhoneState::SubmitUnknown => "submit_unknown",
            PhoneState::NotSubmitted => "not_submitted",
            PhoneState::Lost => "lost",
            PhoneState::Held => "held",
        }
    }

    /// Whether nothing more will happen to the phone in this wait.
    pub fn is_final(self) -> bool {
        self != PhoneState::Running
    }

    /// Whether the phone failed: its job failed, or the service refused it (what a rollout's
    /// failure budget counts). A submission or job whose fate is unknown is not counted.
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            PhoneState::Failed | PhoneState::Rejected | PhoneState::SubmitFailed
        )
    }
}

impl fmt::Display for PhoneState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One submitted phone's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct PhoneOutcome {
    /// The phone.
    pub phone_id: PhoneId,
    /// The request id of its chunk, when the service answered.
    pub request_id: Option<RequestId>,
    /// Its job, when one was created.
    pub job_id: Option<JobId>,
    /// What became of it.
    pub state: PhoneState,
    /// The job status last seen.
    pub last_status: Option<JobStatus>,
    /// The error code (job failure, rejection or submit error).
    pub error_code: Option<String>,
    /// The error message.
    pub error_msg: Option<String>,
    /// When its job began, `YYYY-MM-DDTHH:MM:SSZ`.
    pub begin_time: Option<String>,
    /// When its job ended.
    pub end_time: Option<String>,
}

impl PhoneOutcome {
    /// An outcome with no job, code or times yet.
    pub(crate) fn new(
        phone_id: PhoneId,
        request_id: Option<RequestId>,
        state: PhoneState,
    ) -> PhoneOutcome {
        PhoneOutcome {
            phone_id,
            request_id,
            job_id: None,
            state,
            last_status: None,
            error_code: None,
            error_msg: None,
            begin_time: None,
            end_time: None,
        }
    }
}

/// How a wait ended.
#[derive(Debug, Clone, PartialEq)]
pub enum WaitEnd {
    /// Every phone has a final outcome.
    Finished,
    /// The deadline passed first; some phones may still be [`PhoneState::Running`]. When the
    /// last calls had failed, [`WaitReport::failing`] says how.
    DeadlineExceeded,
    /// The cancellation token fired first.
    Cancelled,
    /// Polling hit an error that waiting longer cannot fix (e.g. the credentials were refused).
    Failed(Error),
    /// More phones failed than the rollout's budget allows: nothing more was submitted, the
    /// phones in flight were waited on, the rest are [`PhoneState::NotSubmitted`].
    BudgetExceeded {
        /// The phones that failed.
        failures: usize,
        /// The most failures the rollout tolerated.
        budget: usize,
    },
    /// Every call failed for longer than [`crate::Settings::unreachable_after`]: the endpoint
    /// stopped answering and the run gave up on it. Phones whose jobs were submitted are still
    /// [`PhoneState::Running`] (or [`PhoneState::SubmitUnknown`] where the submission's outcome
    /// is unknown), never failed or successful, so a later run resumes them; the rest were not
    /// sent.
    Unreachable(Failing),
}

/// What reading the service found about the phones of [`crate::Earlier::unsure`] before
/// anything was sent, counted for the caller's note.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reconciled {
    /// Found acted on by a job of the earlier request: waited on, not sent again.
    pub by_job: usize,
    /// Found in the operation's in-progress status: waited on by their status, not sent again.
    pub by_status: usize,
    /// No sign of the earlier request, and sent once more (counted when its chunk went out).
    pub resent: usize,
    /// The service could not be read about them: not sent ([`PhoneState::Held`]).
    pub held: usize,
}

impl Reconciled {
    /// The phones read: every count added up.
    pub fn read(&self) -> usize {
        self.by_job + self.by_status + self.resent + self.held
    }

    /// The phones found acted on (by job or by status).
    pub fn acted(&self) -> usize {
        self.by_job + self.by_status
    }
}

/// The result of a wait or a run: one outcome per phone, in input order, every request id and
/// job id known, and how the wait ended. A wait cut short by deadline or cancellation is still
/// an `Ok` report ([`WaitReport::end`] says so), so nothing known is ever lost.
#[derive(Debug, Clone, PartialEq)]
pub struct WaitReport {
    /// The batch operation.
    pub operation: BatchOperation,
    /// One outcome per submitted phone, in input order.
    pub outcomes: Vec<PhoneOutcome>,
    /// Every request id of the submission, in chunk order.
    pub request_ids: Vec<RequestId>,
    /// How the wait ended.
    pub end: WaitEnd,
    /// Polling rounds done.
    pub rounds: u32,
    /// What reading the phones of [`crate::Earlier::unsure`] found.
    pub reconciled: Reconciled,
    /// Set when the run ended while its calls were failing (the last attempt got no answer or a
    /// server error): since when, and the last error. A deadline that passed while the endpoint
    /// did not answer says so here.
    pub failing: Option<Failing>,
}

impl WaitReport {
    /// An empty report of `operation`.
    pub(crate) fn new(operation: BatchOperation) -> WaitReport {
        WaitReport {
            operation,
            outcomes: Vec::new(),
            request_ids: Vec::new(),
            end: WaitEnd::Finished,
            rounds: 0,
            reconciled: Reconciled::default(),
            failing: None,
        }
    }

    /// Whether every phone reached a final outcome.
    pub fn is_complete(&self) -> bool {
        self.end == WaitEnd::Finished
    }

    /// Whether every phone's job succeeded.
    pub fn all_succeeded(&self) -> bool {
        self.outcomes
            .iter()
            .all(|o| o.state == PhoneState::Succeeded)
    }

    /// Number of phones in `state`.
    pub fn count(&self, state: PhoneState) -> usize {
        self.outcomes.iter().filter(|o| o.state == state).count()
    }

    /// The phones that did not succeed.
    pub fn unsuccessful(&self) -> impl Iterator<Item = &PhoneOutcome> {
        self.outcomes
            .iter()
            .filter(|o| o.state != PhoneState::Succeeded)
    }

    /// Where the run stands, with `waiting` phones not submitted yet.
    pub(crate) fn progress(&self, waiting: usize) -> Progress {
        Progress {
            round: self.rounds,
            finished: self.outcomes.iter().filter(|o| o.state.is_final()).count(),
            succeeded: self.count(PhoneState::Succeeded),
            failed: self
                .outcomes
                .iter()
                .filter(|o| o.state.is_failure())
                .count(),
            in_flight: self.count(PhoneState::Running),
            waiting,
            total: self.outcomes.len() + waiting,
            submitted: 0,
        }
    }
}
