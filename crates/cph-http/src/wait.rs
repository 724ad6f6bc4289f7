//! The bulk job waiter: polls ListJobs with up to 20 request ids per call and pagination, falls
//! back to ShowJob for a job missing from the listing, reports progress, honours a deadline and
//! a cancellation token, and returns one [`PhoneOutcome`] per submitted phone. A phone is only
//! ever reported successful after its job was seen with status 2.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use cph_types::{
    BatchOperation, Job, JobId, JobStatus, LIST_JOBS_MAX_LIMIT, LIST_JOBS_MAX_REQUEST_IDS, PhoneId,
    RequestId, is_auth_failure,
};
use tokio_util::sync::CancellationToken;

use crate::client::{Client, Failure};
use crate::control::{Control, Interrupt};
use crate::error::Error;
use crate::retry::{FailureClass, classify};
use crate::submit::{Submission, SubmitResult};

/// Consecutive "not found"-style ShowJob answers after which a job missing from every listing
/// is concluded failed.
const SHOW_JOB_MISSES_TO_FAIL: u32 = 3;

/// A progress callback, called after every polling round.
pub type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// Where a wait stands, as the progress callback sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Polling rounds done.
    pub round: u32,
    /// Phones with a final outcome (success, failure, rejection, submit failure).
    pub finished: usize,
    /// Phones whose job succeeded.
    pub succeeded: usize,
    /// All phones.
    pub total: usize,
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
            .finish()
    }
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
}

impl PhoneState {
    /// Lower-case name: `success`, `failed`, `running`, `rejected`, `submit_failed`,
    /// `submit_unknown` or `not_submitted`.
    pub fn as_str(self) -> &'static str {
        match self {
            PhoneState::Succeeded => "success",
            PhoneState::Failed => "failed",
            PhoneState::Running => "running",
            PhoneState::Rejected => "rejected",
            PhoneState::SubmitFailed => "submit_failed",
            PhoneState::SubmitUnknown => "submit_unknown",
            PhoneState::NotSubmitted => "not_submitted",
        }
    }

    /// Whether nothing more will happen to the phone in this wait.
    pub fn is_final(self) -> bool {
        self != PhoneState::Running
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

/// How a wait ended.
#[derive(Debug, Clone, PartialEq)]
pub enum WaitEnd {
    /// Every phone has a final outcome.
    Finished,
    /// The deadline passed first; some phones may still be [`PhoneState::Running`].
    DeadlineExceeded,
    /// The cancellation token fired first.
    Cancelled,
    /// Polling hit an error that waiting longer cannot fix (e.g. the credentials were refused).
    Failed(Error),
}

/// The result of [`Client::wait`]: one outcome per phone, in input order, every request id and
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
}

impl WaitReport {
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

    fn progress(&self) -> Progress {
        Progress {
            round: self.rounds,
            finished: self.outcomes.iter().filter(|o| o.state.is_final()).count(),
            succeeded: self.count(PhoneState::Succeeded),
            total: self.outcomes.len(),
        }
    }
}

/// Why a polling round stopped the wait.
enum Stop {
    Interrupted(Interrupt),
    Fatal(Error),
}

impl Client {
    /// Waits on every job of `submission` until all have finished, the deadline passes or the
    /// token is cancelled. Never fails: see [`WaitReport::end`].
    pub async fn wait(&self, submission: &Submission, options: &WaitOptions) -> WaitReport {
        let mut waiter = Waiter::new(submission);
        let ctl = Control::new(self.timer(), options.deadline, Some(&options.cancel));
        let settings = self.settings();
        waiter.report.end = match &submission.interrupted {
            Some(Error::Cancelled { .. }) => WaitEnd::Cancelled,
            Some(Error::Timeout { .. }) => WaitEnd::DeadlineExceeded,
            Some(other) => WaitEnd::Failed(other.clone()),
            None => self.poll_until_done(&mut waiter, &ctl, options).await,
        };
        let p = waiter.report.progress();
        tracing::info!(
            operation = submission.operation.api_name(),
            finished = p.finished,
            succeeded = p.succeeded,
            total = p.total,
            rounds = p.round,
            end = ?waiter.report.end,
            poll_interval_ms = u64::try_from(settings.poll_interval.as_millis()).unwrap_or(u64::MAX),
            "wait ended"
        );
        waiter.report
    }

    /// One polling round over the running jobs of `submission`, right away (no first-poll delay):
    /// what a refresh of recorded jobs needs. Jobs still running stay [`PhoneState::Running`]; a
    /// job missing from the listing is asked for with ShowJob. The report's `end` is
    /// [`WaitEnd::Finished`] when the round ran to its end (some jobs may still be running).
    pub async fn poll_once(&self, submission: &Submission, options: &WaitOptions) -> WaitReport {
        let mut waiter = Waiter::new(submission);
        let ctl = Control::new(self.timer(), options.deadline, Some(&options.cancel));
        if waiter.has_running() {
            waiter.report.end = match self.poll_round(&mut waiter, &ctl).await {
                Ok(()) => WaitEnd::Finished,
                Err(Stop::Interrupted(interrupt)) => end_for(interrupt),
                Err(Stop::Fatal(error)) => WaitEnd::Failed(error),
            };
            waiter.report.rounds = 1;
        }
        waiter.report
    }

    async fn poll_until_done(
        &self,
        waiter: &mut Waiter,
        ctl: &Control<'_>,
        options: &WaitOptions,
    ) -> WaitEnd {
        let settings = self.settings();
        let mut delay = settings.first_poll_delay;
        while waiter.has_running() {
            if let Err(interrupt) = ctl.sleep(delay).await {
                return end_for(interrupt);
            }
            let outcome = self.poll_round(waiter, ctl).await;
            waiter.report.rounds += 1;
            let progress = waiter.report.progress();
            tracing::info!(
                operation = waiter.report.operation.api_name(),
                round = progress.round,
                finished = progress.finished,
                succeeded = progress.succeeded,
                total = progress.total,
                "{}: polling round {}: {}/{} phones finished ({} succeeded)",
                waiter.report.operation.api_name(),
                progress.round,
                progress.finished,
                progress.total,
                progress.succeeded
            );
            if let Some(callback) = &options.progress {
                callback(progress);
            }
            match outcome {
                Ok(()) => {}
                Err(Stop::Interrupted(interrupt)) => return end_for(interrupt),
                Err(Stop::Fatal(error)) => return WaitEnd::Failed(error),
            }
            let jitter = 0.9 + 0.2 * ctl.timer().random_fraction();
            delay = settings.poll_interval.mul_f64(jitter);
        }
        WaitEnd::Finished
    }

    /// One round: ListJobs over every request id that still has running jobs (20 per call,
    /// paged), then ShowJob for each running job the listing did not show.
    async fn poll_round(&self, waiter: &mut Waiter, ctl: &Control<'_>) -> Result<(), Stop> {
        let mut unlisted: Vec<usize> = waiter.running_without_request();
        let requests = waiter.requests_with_running();
        for group in requests.chunks(LIST_JOBS_MAX_REQUEST_IDS) {
            let expected: HashSet<usize> = waiter.running_of(group);
            let mut seen: HashSet<usize> = HashSet::new();
            let mut offset: u32 = 0;
            let complete = loop {
                match self
                    .list_jobs_in(group, offset, LIST_JOBS_MAX_LIMIT, ctl)
                    .await
                {
                    Ok(page) => {
                        let short = page.jobs.len() < LIST_JOBS_MAX_LIMIT as usize;
                        for job in &page.jobs {
                            seen.extend(waiter.apply(job));
                        }
                        if short || expected.is_subset(&seen) {
                            break true;
                        }
                        offset = offset.saturating_add(LIST_JOBS_MAX_LIMIT);
                    }
                    Err(failure) => match stop_for(failure) {
                        Verdict::Stop(stop) => return Err(stop),
                        // The listing is refused for these ids: ask for each job instead.
                        Verdict::Permanent => break true,
                        Verdict::TryLater => break false,
                    },
                }
            };
            if complete {
                unlisted.extend(expected.difference(&seen).copied());
            }
        }
        unlisted.sort_unstable();
        unlisted.dedup();
        for index in unlisted {
            let Some(job_id) = waiter.report.outcomes[index].job_id.clone() else {
                continue;
            };
            match self.show_job_in(&job_id, ctl).await {
                Ok(job) => {
                    waiter.misses.remove(&index);
                    waiter.apply_to(index, &job);
                }
                Err(failure) => match stop_for(failure.clone()) {
                    Verdict::Stop(stop) => return Err(stop),
                    Verdict::Permanent => waiter.missed(index, &failure.error),
                    Verdict::TryLater => {}
                },
            }
        }
        Ok(())
    }
}

enum Verdict {
    Stop(Stop),
    Permanent,
    TryLater,
}

/// What a failed polling call means for the wait.
fn stop_for(failure: Failure) -> Verdict {
    let error = failure.error;
    match &error {
        Error::Cancelled { .. } => Verdict::Stop(Stop::Interrupted(Interrupt::Cancelled)),
        Error::Timeout { .. } => Verdict::Stop(Stop::Interrupted(Interrupt::Deadline)),
        // Refused credentials will not get better by waiting.
        Error::Api {
            status: 401 | 403, ..
        }
        | Error::InvalidInput { .. }
        | Error::InvalidValue(_) => Verdict::Stop(Stop::Fatal(error)),
        Error::Api {
            code: Some(code), ..
        } if is_auth_failure(code) => Verdict::Stop(Stop::Fatal(error)),
        // A 4xx other than 429 (which classifies as throttling): this exact call is refused.
        Error::Api {
            status: 400..=499, ..
        } if classify(&error) == FailureClass::Permanent => Verdict::Permanent,
        _ => {
            tracing::warn!(%error, "polling call failed; will try again next round");
            Verdict::TryLater
        }
    }
}

fn end_for(interrupt: Interrupt) -> WaitEnd {
    match interrupt {
        Interrupt::Cancelled => WaitEnd::Cancelled,
        Interrupt::Deadline => WaitEnd::DeadlineExceeded,
    }
}

/// The waiter's bookkeeping.
struct Waiter {
    report: WaitReport,
    by_job: HashMap<String, Vec<usize>>,
    misses: HashMap<usize, u32>,
}

impl Waiter {
    fn new(submission: &Submission) -> Self {
        let mut by_job: HashMap<String, Vec<usize>> = HashMap::new();
        let outcomes = submission
            .phones
            .iter()
            .enumerate()
            .map(|(index, phone)| {
                let mut outcome = PhoneOutcome {
                    phone_id: phone.phone_id.clone(),
                    request_id: phone.request_id.clone(),
                    job_id: None,
                    state: PhoneState::Running,
                    last_status: None,
                    error_code: None,
                    error_msg: None,
                    begin_time: None,
                    end_time: None,
                };
                match &phone.result {
                    SubmitResult::Accepted { job_id } => {
                        by_job
                            .entry(job_id.as_str().to_owned())
                            .or_default()
                            .push(index);
                        outcome.job_id = Some(job_id.clone());
                    }
                    SubmitResult::Rejected { code, message } => {
                        outcome.state = PhoneState::Rejected;
                        outcome.error_code.clone_from(code);
                        outcome.error_msg.clone_from(message);
                    }
                    SubmitResult::Failed { error } => {
                        outcome.state = PhoneState::SubmitFailed;
                        outcome.error_code = error.code().map(str::to_owned);
                        outcome.error_msg = Some(error.to_string());
                    }
                    SubmitResult::Unknown { error } => {
                        outcome.state = PhoneState::SubmitUnknown;
                        outcome.error_code = error.code().map(str::to_owned);
                        outcome.error_msg = Some(error.to_string());
                    }
                    SubmitResult::NotSent => outcome.state = PhoneState::NotSubmitted,
                }
                outcome
            })
            .collect();
        Waiter {
            report: WaitReport {
                operation: submission.operation,
                outcomes,
                request_ids: submission.request_ids.clone(),
                end: WaitEnd::Finished,
                rounds: 0,
            },
            by_job,
            misses: HashMap::new(),
        }
    }

    fn has_running(&self) -> bool {
        self.report
            .outcomes
            .iter()
            .any(|o| o.state == PhoneState::Running)
    }

    /// Request ids (in submission order) that still have running jobs.
    fn requests_with_running(&self) -> Vec<RequestId> {
        let running: HashSet<&RequestId> = self
            .report
            .outcomes
            .iter()
            .filter(|o| o.state == PhoneState::Running)
            .filter_map(|o| o.request_id.as_ref())
            .collect();
        let mut seen = HashSet::new();
        self.report
            .request_ids
            .iter()
            .filter(|id| running.contains(id) && seen.insert(*id))
            .cloned()
            .collect()
    }

    /// Running phones whose request id is unknown: only ShowJob can find their jobs.
    fn running_without_request(&self) -> Vec<usize> {
        self.report
            .outcomes
            .iter()
            .enumerate()
            .filter(|(_, o)| o.state == PhoneState::Running && o.request_id.is_none())
            .map(|(i, _)| i)
            .collect()
    }

    fn running_of(&self, group: &[RequestId]) -> HashSet<usize> {
        self.report
            .outcomes
            .iter()
            .enumerate()
            .filter(|(_, o)| {
                o.state == PhoneState::Running
                    && o.request_id.as_ref().is_some_and(|r| group.contains(r))
            })
            .map(|(i, _)| i)
            .collect()
    }

    /// Applies a listed job to the phones it belongs to; returns their indices.
    fn apply(&mut self, job: &Job) -> Vec<usize> {
        let indices = job
            .job_id
            .as_deref()
            .and_then(|id| self.by_job.get(id))
            .cloned()
            .unwrap_or_default();
        for &index in &indices {
            self.apply_to(index, job);
        }
        indices
    }

    fn apply_to(&mut self, index: usize, job: &Job) {
        let Some(outcome) = self.report.outcomes.get_mut(index) else {
            return;
        };
        if outcome.state != PhoneState::Running {
            return;
        }
        outcome.last_status = Some(job.status);
        if job.begin_time.is_some() {
            outcome.begin_time.clone_from(&job.begin_time);
        }
        if job.end_time.is_some() {
            outcome.end_time.clone_from(&job.end_time);
        }
        match job.status {
            JobStatus::Success => {
                outcome.state = PhoneState::Succeeded;
                outcome.error_code = None;
                outcome.error_msg = None;
            }
            JobStatus::Failed => {
                outcome.state = PhoneState::Failed;
                outcome.error_code.clone_from(&job.error_code);
                outcome.error_msg.clone_from(&job.error_msg);
            }
            JobStatus::Running | JobStatus::Unknown(_) | JobStatus::Missing => {}
        }
    }

    /// ShowJob refused a job missing from the listing; after a few such answers in a row the
    /// job is concluded failed with the service's error, in words that say the job is lost (a
    /// restarted or failed-over service forgets its jobs) and the phone's fate unknown.
    fn missed(&mut self, index: usize, error: &Error) {
        let count = self.misses.entry(index).or_insert(0);
        *count += 1;
        if *count >= SHOW_JOB_MISSES_TO_FAIL {
            let misses = *count;
            if let Some(outcome) = self.report.outcomes.get_mut(index) {
                let message = format!(
                    "the job is no longer known to the service (missing from ListJobs, ShowJob refused it \
                     {misses} times in a row; was the service restarted?), so whether the phone was acted on is \
                     unknown: {error}"
                );
                outcome.state = PhoneState::Failed;
                outcome.error_code = error.code().map(str::to_owned);
                outcome.error_msg = Some(message);
            }
        }
    }
}
