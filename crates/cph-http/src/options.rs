//! What a caller sets for one operation: [`WaitOptions`] (deadline, cancellation, progress
//! callback) and the [`Rollout`] of a batch run.

use std::fmt;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Instant;

use tokio_util::sync::CancellationToken;

use crate::outcome::Progress;

/// A progress callback, called after every polling round.
pub type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// A durable log of what a run sends: told of each batch request before it goes out and of its
/// answer after, so that a process that dies mid-run leaves a trace of what it may have sent (the
/// Terraform provider keeps a journal this way, to never act twice on a phone for one intent).
pub trait SubmissionLog: Send + Sync + std::fmt::Debug {
    /// Called before a request of `operation` naming `phones` goes out. An error stops the run
    /// there: the request is not sent (nothing was logged, so nothing may go out).
    fn sending(
        &self,
        operation: cph_types::BatchOperation,
        phones: &[cph_types::PhoneId],
    ) -> Result<Box<dyn LoggedRequest>, String>;
}

/// One request written down by a [`SubmissionLog`], to be completed with its answer.
pub trait LoggedRequest: Send {
    /// The request was answered (`phones`: each phone's result, with the request id); or it
    /// failed, each phone then saying whether the service may have acted.
    fn answered(self: Box<Self>, phones: &[crate::SubmittedPhone]);
}

/// Deadline, cancellation and progress reporting of a submit and a wait.
#[derive(Clone, Default)]
pub struct WaitOptions {
    /// Stop waiting (and submitting) at this instant, as measured by the client's timer.
    pub deadline: Option<Instant>,
    /// Stop waiting (and submitting) when this token is cancelled.
    pub cancel: CancellationToken,
    /// Called after every polling round.
    pub progress: Option<ProgressFn>,
    /// How [`crate::Client::run_batch`] rolls the request out (default: all at once, no failure
    /// budget).
    pub rollout: Rollout,
    /// Told of each batch request before it goes out and of its answer.
    pub log: Option<Arc<dyn SubmissionLog>>,
}

impl WaitOptions {
    /// No deadline, a fresh token, no progress callback.
    pub fn new() -> Self {
        WaitOptions::default()
    }

    /// Sets the deadline.
    #[must_use]
    pub fn deadline(mut self, deadline: Instant) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Sets the cancellation token.
    #[must_use]
    pub fn cancel(mut self, token: CancellationToken) -> Self {
        self.cancel = token;
        self
    }

    /// Sets how [`crate::Client::run_batch`] rolls out.
    #[must_use]
    pub fn rollout(mut self, rollout: Rollout) -> Self {
        self.rollout = rollout;
        self
    }

    /// Sets the log told of each batch request before it goes out.
    #[must_use]
    pub fn log(mut self, log: Arc<dyn SubmissionLog>) -> Self {
        self.log = Some(log);
        self
    }

    /// Sets the progress callback.
    #[must_use]
    pub fn on_progress(mut self, progress: impl Fn(Progress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(progress));
        self
    }
}

impl fmt::Debug for WaitOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitOptions")
            .field("deadline", &self.deadline)
            .field("cancelled", &self.cancel.is_cancelled())
            .field("progress", &self.progress.as_ref().map(|_| "Fn(Progress)"))
            .field("rollout", &self.rollout)
            .field("log", &self.log.as_ref().map(|_| "SubmissionLog"))
            .finish()
    }
}

/// How a batch operation rolls out ([`crate::Client::run_batch`]): phones are submitted in the
/// order of the request, at most `max_in_flight` with an unfinished job at any moment (a sliding
/// window: as phones finish, more are submitted), and once more than `max_failures` phones have
/// failed nothing more is submitted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rollout {
    /// The most phones with an unfinished job at once; `None`: all at once.
    pub max_in_flight: Option<NonZeroUsize>,
    /// The most failed phones tolerated; one more stops the rollout. `None`: no budget.
    pub max_failures: Option<usize>,
}
