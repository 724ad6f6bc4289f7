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
