//! The bulk job waiter: polls ListJobs with up to 20 request ids per call and pagination, falls
//! back to ShowJob for a job missing from the listing, reports progress, honours a deadline and
//! a cancellation token, and returns one [`PhoneOutcome`] per submitted phone. A phone is only
//! ever reported successful after its job was seen with status 2, or, when an ambiguous failure
//! hid its job, after the phone was seen in the operation's in-progress status and then in its
//! success status (see [`Client::reconcile`]).

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cph_types::{
    BatchOperation, BatchRequest, Job, JobId, JobStatus, LIST_JOBS_MAX_LIMIT,
    LIST_JOBS_MAX_REQUEST_IDS, PhoneId, RequestId, StopRequest, is_auth_failure,
};
use futures_util::StreamExt;
use tokio_util::sync::CancellationToken;

use crate::client::{Client, Failure};
use crate::control::{Control, Interrupt};
use crate::error::Error;
use crate::paging::{PageFacts, Pager, Step};
use crate::reconcile::{Reconciliation, Seen, StatusVerdict, UnsurePhone, judge, status_words};
use crate::retry::{FailureClass, classify};
use crate::submit::{Submission, SubmitResult};

/// Consecutive "not found"-style ShowJob answers after which a job missing from every listing
/// is concluded lost ([`PhoneState::Lost`]) during a wait; a single polling round (a refresh of
/// recorded jobs) concludes it from one such answer.
const SHOW_JOB_MISSES_TO_LOSE: u32 = 3;

/// What the record of a phone waited on by its status says while it waits.
const ACTING_NOTE: &str =
    "its job is not known (the request's answer was lost), so the phone is waited on by its status";

/// How many ShowJob calls of a polling round are in flight at once (each still waits its turn in
/// the client's flow control).
const SHOW_JOB_CONCURRENCY: usize = 8;

/// The wait before a polling round grows with the time since the last submission: this fraction
/// of it, so a job is seen finished within about half its duration of its end (a 2 s job: polls
/// at 1 s, 1.5 s, 2.25 s after submitting)...
const POLL_DELAY_PER_ELAPSED: f64 = 0.5;

/// ...but a round waits at least this long per call it is expected to make, so early polling stays
/// cheap: a handful of phones (one ListJobs call a round) are polled about twice a second at
/// first, while 1,000 phones (ten ListJobs pages a round) wait 5 s, the default poll interval.
const POLL_DELAY_PER_CALL: Duration = Duration::from_millis(500);

/// The wait before the next polling round, `elapsed` after the last submission, the round
/// expected to make `calls` calls: `clamp(elapsed * 0.5, 0.5 s * calls, interval)` (the interval
/// winning over the per-call floor), times a jitter of 0.9 to 1.1 drawn from `fraction` (in
/// `[0, 1)`).
fn poll_delay(elapsed: Duration, calls: usize, interval: Duration, fraction: f64) -> Duration {
    let calls = u32::try_from(calls.max(1)).unwrap_or(u32::MAX);
    let floor = POLL_DELAY_PER_CALL.saturating_mul(calls);
    let delay = elapsed
        .mul_f64(POLL_DELAY_PER_ELAPSED)
        .max(floor)
        .min(interval);
    let fraction = if (0.0..=1.0).contains(&fraction) {
        fraction
    } else {
        0.5
    };
    delay.mul_f64(0.9 + 0.2 * fraction)
}

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
    /// Phones that failed: the job failed, or the service refused them.
    pub failed: usize,
    /// Phones submitted whose job has not finished.
    pub in_flight: usize,
    /// Phones not submitted yet (a rollout's later windows).
    pub waiting: usize,
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
    /// How [`Client::run_batch`] rolls the request out (default: all at once, no failure budget).
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

    /// Sets how [`Client::run_batch`] rolls out.
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

/// How a batch operation rolls out ([`Client::run_batch`]): phones are submitted in the order of
/// the request, at most `max_in_flight` with an unfinished job at any moment (a sliding window:
/// as phones finish, more are submitted), and once more than `max_failures` phones have failed
/// nothing more is submitted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rollout {
    /// The most phones with an unfinished job at once; `None`: all at once.
    pub max_in_flight: Option<NonZeroUsize>,
    /// The most failed phones tolerated; one more stops the rollout. `None`: no budget.
    pub max_failures: Option<usize>,
}

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

/// What earlier runs left to wait on: jobs still running, and phones found acting on the operation
/// after an ambiguous failure hid their job ([`crate::Reconciliation::Acting`]), waited on by
/// their status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Earlier {
    /// Jobs still running.
    pub jobs: Vec<RunningJob>,
    /// Phones acting on the operation whose job is not known.
    pub acting: Vec<PhoneId>,
}

impl Earlier {
    /// Only jobs.
    pub fn jobs(jobs: Vec<RunningJob>) -> Self {
        Earlier {
            jobs,
            acting: Vec::new(),
        }
    }

    /// Whether there is nothing to wait on.
    pub fn is_empty(&self) -> bool {
        self.jobs.is_empty() && self.acting.is_empty()
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
    /// Its job is no longer known to the service (forgotten after the service's retention, or the
    /// service restarted) and was not seen finished: whether the phone was acted on is unknown.
    Lost,
}

impl PhoneState {
    /// Lower-case name: `success`, `failed`, `running`, `rejected`, `submit_failed`,
    /// `submit_unknown`, `not_submitted` or `lost`.
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
    /// More phones failed than the rollout's budget allows: nothing more was submitted, the
    /// phones in flight were waited on, the rest are [`PhoneState::NotSubmitted`].
    BudgetExceeded {
        /// The phones that failed.
        failures: usize,
        /// The most failures the rollout tolerated.
        budget: usize,
    },
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

    fn progress(&self, waiting: usize) -> Progress {
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
        let mut waiter = Waiter::new(submission.operation, SHOW_JOB_MISSES_TO_LOSE);
        waiter.add(submission);
        let ctl = Control::new(self.timer(), options.deadline, Some(&options.cancel));
        self.settle_unsure(&mut waiter, &ctl, options).await;
        let end = match &submission.interrupted {
            Some(interrupted) => end_of_submit(interrupted),
            // Nothing more to submit (the request type is only a placeholder for the loop).
            None => {
                self.drive::<StopRequest>(&mut waiter, None, &ctl, options)
                    .await
            }
        };
        self.finish(waiter, end)
    }

    /// Rolls a batch operation out and waits on it: submits `request` (when it names phones) as
    /// [`WaitOptions::rollout`] allows, waits on its jobs together with what `earlier` runs left
    /// (jobs unfinished, phones found acting), until every job finished, the deadline passed,
    /// Terraform asked to stop, or the failure budget was exceeded.
    ///
    /// A chunk whose request fails ambiguously is never sent again: its phones are reconciled by
    /// reading the service ([`Client::reconcile`]); those found acted on are waited on, the others
    /// end [`PhoneState::SubmitUnknown`] saying what was read.
    ///
    /// The report has one outcome per phone: first the earlier jobs, then the phones found acting,
    /// then the request's phones in request order (those never sent [`PhoneState::NotSubmitted`],
    /// saying why).
    ///
    /// Fails only on invalid input, before anything is sent (see [`Client::submit`]).
    pub async fn run_batch<R: BatchRequest>(
        &self,
        request: Option<&R>,
        earlier: Earlier,
        options: &WaitOptions,
    ) -> Result<WaitReport, Error> {
        let request = request.filter(|r| !r.is_empty());
        if let Some(request) = request {
            check_request(request)?;
        }
        let mut waiter = Waiter::new(R::OPERATION, SHOW_JOB_MISSES_TO_LOSE);
        waiter.add_running(earlier.jobs);
        waiter.add_acting(earlier.acting);
        let ctl = Control::new(self.timer(), options.deadline, Some(&options.cancel));
        let end = self.drive(&mut waiter, request, &ctl, options).await;
        Ok(self.finish(waiter, end))
    }

    /// The rollout loop: submits the next window whenever there is room, polls, counts failures.
    async fn drive<R: BatchRequest>(
        &self,
        waiter: &mut Waiter,
        request: Option<&R>,
        ctl: &Control<'_>,
        options: &WaitOptions,
    ) -> WaitEnd {
        let settings = self.settings();
        let rollout = options.rollout;
        let mut rest: Option<R> = request.cloned();
        let mut stopped: Option<WaitEnd> = None;
        // The first round comes `first_poll_delay` after a submission; later ones back off from
        // there to the poll interval as time passes since that submission ([`poll_delay`]).
        let mut delay = settings.first_poll_delay;
        let mut submitted = ctl.timer().now();
        loop {
            // Submit while the window has room (and the budget has not been exceeded).
            if stopped.is_none() {
                if let Some(pending) = rest.take() {
                    let room = rollout.max_in_flight.map_or(usize::MAX, |m| {
                        m.get().saturating_sub(waiter.running_count())
                    });
                    if room == 0 {
                        rest = Some(pending);
                    } else {
                        let (window, remaining) = pending.split_at(room);
                        rest = (!remaining.is_empty()).then_some(remaining);
                        // Chunk by chunk, so that a chunk that failed ambiguously is reconciled
                        // while its phones still show the operation's in-progress status.
                        let mut chunks = window.chunks(settings.batch_size).into_iter();
                        while let Some(chunk) = chunks.next() {
                            let submission = match self.submit(&chunk, options).await {
                                Ok(submission) => submission,
                                // Checked before the first window: a chunk cannot fail its checks.
                                Err(error) => {
                                    waiter.add_unsent(Some(chunk), &format!("not sent: {error}"));
                                    for chunk in chunks {
                                        waiter.add_unsent(
                                            Some(chunk),
                                            "not sent: the run ended first",
                                        );
                                    }
                                    waiter.add_unsent(rest.take(), "not sent: the run ended first");
                                    return WaitEnd::Failed(error);
                                }
                            };
                            waiter.add(&submission);
                            self.settle_unsure(waiter, ctl, options).await;
                            if let Some(interrupted) = &submission.interrupted {
                                for chunk in chunks {
                                    waiter.add_unsent(Some(chunk), "not sent: the run ended first");
                                }
                                waiter.add_unsent(rest.take(), "not sent: the run ended first");
                                return end_of_submit(interrupted);
                            }
                        }
                        delay = settings.first_poll_delay;
                        submitted = ctl.timer().now();
                    }
                }
            }
            if !waiter.has_running() {
                match (&stopped, &rest) {
                    (None, Some(_)) => continue,
                    (None, None) => return WaitEnd::Finished,
                    (Some(end), _) => {
                        let end = end.clone();
                        waiter.add_unsent(rest.take(), &budget_message(&end));
                        return end;
                    }
                }
            }
            if let Err(interrupt) = ctl.sleep(delay).await {
                waiter.add_unsent(rest.take(), "not sent: the run ended first");
                return end_for(interrupt);
            }
            let outcome = self.poll_round(waiter, ctl, options).await;
            waiter.report.rounds += 1;
            let progress = waiter
                .report
                .progress(rest.as_ref().map_or(0, BatchRequest::len));
            tracing::info!(
                operation = waiter.report.operation.api_name(),
                round = progress.round,
                finished = progress.finished,
                succeeded = progress.succeeded,
                failed = progress.failed,
                in_flight = progress.in_flight,
                waiting = progress.waiting,
                total = progress.total,
                "{}: polling round {}: {}/{} phones finished ({} succeeded, {} failed), {} in flight, {} waiting",
                waiter.report.operation.api_name(),
                progress.round,
                progress.finished,
                progress.total,
                progress.succeeded,
                progress.failed,
                progress.in_flight,
                progress.waiting
            );
            if let Some(callback) = &options.progress {
                callback(progress);
            }
            match outcome {
                Ok(()) => {}
                Err(stop) => {
                    waiter.add_unsent(rest.take(), "not sent: the run ended first");
                    return match stop {
                        Stop::Interrupted(interrupt) => end_for(interrupt),
                        Stop::Fatal(error) => WaitEnd::Failed(error),
                    };
                }
            }
            if let (None, Some(budget)) = (&stopped, rollout.max_failures) {
                if progress.failed > budget {
                    tracing::warn!(
                        operation = waiter.report.operation.api_name(),
                        failures = progress.failed,
                        budget,
                        "rollout stopped: more phones failed than the budget allows"
                    );
                    stopped = Some(WaitEnd::BudgetExceeded {
                        failures: progress.failed,
                        budget,
                    });
                }
            }
            let timer = ctl.timer();
            delay = poll_delay(
                timer.now().saturating_duration_since(submitted),
                waiter.round_calls(),
                settings.poll_interval,
                timer.random_fraction(),
            );
        }
    }

    fn finish(&self, mut waiter: Waiter, end: WaitEnd) -> WaitReport {
        waiter.report.end = end;
        let p = waiter.report.progress(0);
        tracing::info!(
            operation = waiter.report.operation.api_name(),
            finished = p.finished,
            succeeded = p.succeeded,
            failed = p.failed,
            total = p.total,
            rounds = p.round,
            end = ?waiter.report.end,
            poll_interval_ms = u64::try_from(self.settings().poll_interval.as_millis()).unwrap_or(u64::MAX),
            "wait ended"
        );
        waiter.report
    }

    /// One polling round over the running jobs of `submission`, right away (no first-poll delay):
    /// what a refresh of recorded jobs needs. Jobs still running stay [`PhoneState::Running`]; a
    /// job missing from the listing is asked for with ShowJob. The report's `end` is
    /// [`WaitEnd::Finished`] when the round ran to its end (some jobs may still be running).
    pub async fn poll_once(&self, submission: &Submission, options: &WaitOptions) -> WaitReport {
        // A recorded job the service refuses to know is lost at once: the refresh of a job that
        // was forgotten must say so rather than keep it running for ever.
        let mut waiter = Waiter::new(submission.operation, 1);
        waiter.add(submission);
        let ctl = Control::new(self.timer(), options.deadline, Some(&options.cancel));
        if waiter.has_running() {
            waiter.report.end = match self.poll_round(&mut waiter, &ctl, options).await {
                Ok(()) => WaitEnd::Finished,
                Err(Stop::Interrupted(interrupt)) => end_for(interrupt),
                Err(Stop::Fatal(error)) => WaitEnd::Failed(error),
            };
            waiter.report.rounds = 1;
        }
        waiter.report
    }

    /// Reconciles the phones whose chunk failed ambiguously and that were not reconciled yet (see
    /// [`Client::reconcile`]): found acted on, they are waited on (by their job, or by their status);
    /// otherwise they stay [`PhoneState::SubmitUnknown`], their message saying what was read. Nothing
    /// is sent again.
    async fn settle_unsure(&self, waiter: &mut Waiter, ctl: &Control<'_>, options: &WaitOptions) {
        let indices: Vec<usize> = waiter
            .report
            .outcomes
            .iter()
            .enumerate()
            .filter(|(i, o)| o.state == PhoneState::SubmitUnknown && !waiter.reconciled.contains(i))
            .map(|(i, _)| i)
            .collect();
        if indices.is_empty() {
            return;
        }
        let unsure: Vec<UnsurePhone> = indices
            .iter()
            .map(|&i| {
                let o = &waiter.report.outcomes[i];
                UnsurePhone {
                    phone_id: o.phone_id.clone(),
                    request_id: o.request_id.clone(),
                }
            })
            .collect();
        let operation = waiter.report.operation;
        let verdicts = self.reconcile_in(operation, &unsure, ctl, options).await;
        for (&index, verdict) in indices.iter().zip(verdicts) {
            waiter.reconciled.insert(index);
            waiter.apply_reconciliation(index, verdict);
        }
    }

    /// One round: ListJobs over every request id that still has running jobs (20 per call,
    /// paged), then ShowJob for each running job the listing did not show, then the status of the
    /// phones waited on by status.
    async fn poll_round(
        &self,
        waiter: &mut Waiter,
        ctl: &Control<'_>,
        options: &WaitOptions,
    ) -> Result<(), Stop> {
        let mut unlisted: Vec<usize> = waiter.running_without_request();
        let requests = waiter.requests_with_running();
        let mut groups: VecDeque<Vec<RequestId>> = requests
            .chunks(LIST_JOBS_MAX_REQUEST_IDS)
            .map(<[RequestId]>::to_vec)
            .collect();
        while let Some(group) = groups.pop_front() {
            let expected: HashSet<usize> = waiter.running_of(&group);
            let mut seen: HashSet<usize> = HashSet::new();
            let mut pager = Pager::new("ListJobs", LIST_JOBS_MAX_LIMIT);
            let complete = loop {
                match self
                    .list_jobs_in(&group, pager.offset(), pager.limit(), ctl)
                    .await
                {
                    Ok(page) => {
                        // Decoded jobs are good even when the page as a whole is not.
                        for job in &page.jobs {
                            seen.extend(waiter.apply(job));
                        }
                        let facts = PageFacts::new(
                            &page.jobs_decoding,
                            page.jobs.iter().map(|j| j.job_id.as_deref()),
                            None,
                        );
                        match pager.page(&facts) {
                            Ok(Step::Done) => break true,
                            Ok(Step::Fetch { .. }) if expected.is_subset(&seen) => break true,
                            Ok(Step::Fetch { .. }) => {}
                            // A listing that cannot be trusted further (an undecodable job, a page
                            // repeated): the jobs it did not show are asked for one by one.
                            Err(error) => {
                                tracing::warn!(%error, "ListJobs paging stopped; the jobs it did not show are asked for with ShowJob");
                                break true;
                            }
                        }
                    }
                    Err(failure) => match stop_for(failure) {
                        Verdict::Stop(stop) => return Err(stop),
                        // The listing is refused for these ids: one of them is refused, most
                        // likely; halve the group to list the others in bulk still.
                        Verdict::Permanent if group.len() > 1 => {
                            let (front, back) = group.split_at(group.len() / 2);
                            groups.push_front(back.to_vec());
                            groups.push_front(front.to_vec());
                            break false;
                        }
                        // A single request id refused: ask for each of its jobs instead.
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
        let lookups = unlisted.into_iter().filter_map(|index| {
            let job_id = waiter.report.outcomes[index].job_id.clone()?;
            Some(async move { (index, self.show_job_in(&job_id, ctl).await) })
        });
        let answers: Vec<(usize, Result<Job, Failure>)> = futures_util::stream::iter(lookups)
            .buffer_unordered(SHOW_JOB_CONCURRENCY)
            .collect()
            .await;
        for (index, answer) in answers {
            match answer {
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
        self.poll_statuses(waiter, options).await
    }

    /// Reads the status of the phones waited on by status and concludes those that left the
    /// operation's in-progress status.
    async fn poll_statuses(&self, waiter: &mut Waiter, options: &WaitOptions) -> Result<(), Stop> {
        let Some(path) = waiter.report.operation.status_path() else {
            return Ok(());
        };
        let indices: Vec<usize> = waiter
            .by_status
            .iter()
            .copied()
            .filter(|&i| waiter.report.outcomes[i].state == PhoneState::Running)
            .collect();
        if indices.is_empty() {
            return Ok(());
        }
        let ids: Vec<PhoneId> = indices
            .iter()
            .map(|&i| waiter.report.outcomes[i].phone_id.clone())
            .collect();
        let failed = |error: Error| match stop_for(Failure {
            error,
            may_have_acted: false,
        }) {
            Verdict::Stop(stop) => Err(stop),
            Verdict::Permanent | Verdict::TryLater => Ok(()),
        };
        let mut statuses = match self.read_statuses(&ids, path.during, options).await {
            Ok(statuses) => statuses,
            Err(error) => return failed(error),
        };
        // Phones that left the in-progress status: their status now says how the operation ended.
        let left: Vec<PhoneId> = ids
            .iter()
            .filter(|id| matches!(statuses.get(id.as_str()), Some(Seen::NotIn(_))))
            .cloned()
            .collect();
        if !left.is_empty() {
            match self.exact_statuses(&left, options).await {
                Ok(read) => statuses.extend(read),
                Err(error) => return failed(error),
            }
        }
        let verb = waiter.report.operation.api_name();
        for index in indices {
            let outcome = &mut waiter.report.outcomes[index];
            let status = match statuses.get(outcome.phone_id.as_str()) {
                Some(Seen::Status(status)) => Some(*status),
                Some(Seen::NotIn(_)) => continue,
                Some(Seen::Gone) | None => None,
            };
            match status {
                Some(status) => match judge(path, status) {
                    StatusVerdict::Acting => {}
                    StatusVerdict::Succeeded => {
                        outcome.state = PhoneState::Succeeded;
                        outcome.error_code = None;
                        outcome.error_msg = None;
                    }
                    StatusVerdict::Failed => {
                        outcome.state = PhoneState::Failed;
                        outcome.error_msg = Some(format!(
                            "the phone went from {} to {} after {verb} acted on it (its job is not known: the \
                             request's answer was lost)",
                            status_words(path.during),
                            status_words(status)
                        ));
                    }
                },
                None => {
                    outcome.state = PhoneState::Failed;
                    outcome.error_msg = Some(format!(
                        "the service no longer knows the phone, which was {} after {verb} acted on it",
                        status_words(path.during)
                    ));
                }
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

/// How a wait ends when its submission was cut short.
fn end_of_submit(interrupted: &Error) -> WaitEnd {
    match interrupted {
        Error::Cancelled { .. } => WaitEnd::Cancelled,
        Error::Timeout { .. } => WaitEnd::DeadlineExceeded,
        other => WaitEnd::Failed(other.clone()),
    }
}

/// Why phones were left unsent when a rollout stopped.
fn budget_message(end: &WaitEnd) -> String {
    match end {
        WaitEnd::BudgetExceeded { failures, budget } => format!(
            "not sent: the rollout stopped when {failures} phones had failed, more than its budget of {budget}"
        ),
        _ => "not sent: the run ended first".to_owned(),
    }
}

/// Checks a request before anything of it is sent: not empty, and its own checks pass.
pub(crate) fn check_request<R: BatchRequest>(request: &R) -> Result<(), Error> {
    if request.is_empty() {
        return Err(Error::invalid(
            format!("{} request", R::OPERATION.api_name()),
            "it names no phones",
        ));
    }
    if let Err(problems) = request.check() {
        let reasons: Vec<String> = problems.iter().map(ToString::to_string).collect();
        return Err(Error::invalid(
            format!("{} request", R::OPERATION.api_name()),
            reasons.join("; "),
        ));
    }
    Ok(())
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
    /// Consecutive ShowJob refusals after which a job is lost.
    misses_to_lose: u32,
    /// Phones waited on by their status (acting, job not known).
    by_status: Vec<usize>,
    /// Ambiguously submitted phones already reconciled.
    reconciled: HashSet<usize>,
}

impl Waiter {
    fn new(operation: BatchOperation, misses_to_lose: u32) -> Self {
        Waiter {
            report: WaitReport {
                operation,
                outcomes: Vec::new(),
                request_ids: Vec::new(),
                end: WaitEnd::Finished,
                rounds: 0,
            },
            by_job: HashMap::new(),
            misses: HashMap::new(),
            misses_to_lose,
            by_status: Vec::new(),
            reconciled: HashSet::new(),
        }
    }

    fn outcome(
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

    /// Adds a phone with a job to wait on.
    fn push_job(&mut self, mut outcome: PhoneOutcome, job_id: &JobId) {
        self.by_job
            .entry(job_id.as_str().to_owned())
            .or_default()
            .push(self.report.outcomes.len());
        outcome.job_id = Some(job_id.clone());
        self.report.outcomes.push(outcome);
    }

    fn add_request_id(&mut self, request_id: &RequestId) {
        if !self.report.request_ids.contains(request_id) {
            self.report.request_ids.push(request_id.clone());
        }
    }

    /// Adds every phone of a submission, with what submitting did for it.
    fn add(&mut self, submission: &Submission) {
        for request_id in &submission.request_ids {
            self.add_request_id(request_id);
        }
        for phone in &submission.phones {
            let mut outcome = Self::outcome(
                phone.phone_id.clone(),
                phone.request_id.clone(),
                PhoneState::Running,
            );
            match &phone.result {
                SubmitResult::Accepted { job_id } => {
                    self.push_job(outcome, job_id);
                    continue;
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
                    // An error answer that names its request: the jobs it may have created are
                    // listed under that id.
                    if outcome.request_id.is_none() {
                        outcome.request_id =
                            error.request_id().and_then(|r| RequestId::new(r).ok());
                        if let Some(request_id) = &outcome.request_id {
                            self.add_request_id(request_id);
                        }
                    }
                }
                SubmitResult::NotSent => outcome.state = PhoneState::NotSubmitted,
            }
            self.report.outcomes.push(outcome);
        }
    }

    /// Adds jobs an earlier run left unfinished.
    fn add_running(&mut self, jobs: Vec<RunningJob>) {
        for job in jobs {
            if let Some(request_id) = &job.request_id {
                self.add_request_id(request_id);
            }
            let outcome = Self::outcome(job.phone_id, job.request_id, PhoneState::Running);
            self.push_job(outcome, &job.job_id);
        }
    }

    /// Adds phones found acting earlier, waited on by their status.
    fn add_acting(&mut self, phones: Vec<PhoneId>) {
        for phone_id in phones {
            self.by_status.push(self.report.outcomes.len());
            let mut outcome = Self::outcome(phone_id, None, PhoneState::Running);
            outcome.error_msg = Some(ACTING_NOTE.to_owned());
            self.report.outcomes.push(outcome);
        }
    }

    /// What reconciling an ambiguously submitted phone found.
    fn apply_reconciliation(&mut self, index: usize, verdict: Reconciliation) {
        let Some(outcome) = self.report.outcomes.get_mut(index) else {
            return;
        };
        let earlier = outcome.error_msg.take().unwrap_or_default();
        match verdict {
            Reconciliation::Job(job) => {
                tracing::info!(phone = %job.phone_id, job = %job.job_id, "an ambiguous request had acted: its job is waited on");
                outcome.state = PhoneState::Running;
                outcome.error_code = None;
                outcome.request_id = job.request_id;
                outcome.job_id = Some(job.job_id.clone());
                self.by_job
                    .entry(job.job_id.as_str().to_owned())
                    .or_default()
                    .push(index);
            }
            Reconciliation::Acting { phone_id, status } => {
                tracing::info!(phone = %phone_id, status = status.code(), "an ambiguous request had acted: the phone is waited on by its status");
                outcome.state = PhoneState::Running;
                outcome.error_code = None;
                outcome.error_msg = Some(format!(
                    "{earlier}; the phone was found {}, so the service had acted: {ACTING_NOTE}",
                    status_words(status)
                ));
                self.by_status.push(index);
            }
            Reconciliation::NoSign { why, .. } => {
                outcome.error_msg = Some(format!(
                    "{earlier}; the service may have acted, but nothing shows it: {why}"
                ));
            }
            Reconciliation::Unreadable { error, .. } => {
                outcome.error_msg = Some(format!(
                    "{earlier}; the service may have acted, and reading it to find out failed: {error}"
                ));
            }
        }
    }

    /// Adds the phones of `request` as never sent, saying why.
    fn add_unsent<R: BatchRequest>(&mut self, request: Option<R>, why: &str) {
        for phone_id in request.iter().flat_map(BatchRequest::phone_ids) {
            let mut outcome = Self::outcome(phone_id.clone(), None, PhoneState::NotSubmitted);
            outcome.error_msg = Some(why.to_owned());
            self.report.outcomes.push(outcome);
        }
    }

    fn running_count(&self) -> usize {
        self.report.count(PhoneState::Running)
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

    /// About how many calls the next polling round makes: per group of 20 request ids with running
    /// jobs, a ListJobs call per 100 jobs of those ids (finished ones are listed too; at least one),
    /// a ShowJob per running job whose request id is unknown, and one status read for the phones
    /// waited on by their status.
    fn round_calls(&self) -> usize {
        let mut jobs_of: HashMap<&RequestId, usize> = HashMap::new();
        for outcome in &self.report.outcomes {
            if let (Some(request_id), Some(_)) = (&outcome.request_id, &outcome.job_id) {
                *jobs_of.entry(request_id).or_default() += 1;
            }
        }
        let listings: usize = self
            .requests_with_running()
            .chunks(LIST_JOBS_MAX_REQUEST_IDS)
            .map(|group| {
                let jobs: usize = group.iter().filter_map(|id| jobs_of.get(id)).sum();
                jobs.div_ceil(LIST_JOBS_MAX_LIMIT as usize).max(1)
            })
            .sum();
        let by_status = self
            .by_status
            .iter()
            .filter_map(|&i| self.report.outcomes.get(i))
            .any(|o| o.state == PhoneState::Running);
        listings + self.running_without_request().len() + usize::from(by_status)
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

    /// ShowJob refused a job missing from the listing; after `misses_to_lose` such answers in a
    /// row the job is concluded [`PhoneState::Lost`], in words that name the phone and the job and
    /// say that its outcome is unknown (a service forgets jobs after its retention, or when it
    /// restarts).
    fn missed(&mut self, index: usize, error: &Error) {
        let count = self.misses.entry(index).or_insert(0);
        *count += 1;
        if *count >= self.misses_to_lose {
            let misses = *count;
            if let Some(outcome) = self.report.outcomes.get_mut(index) {
                let job = outcome
                    .job_id
                    .as_ref()
                    .map_or_else(String::new, |j| format!("{j} "));
                let times = if misses == 1 {
                    "once".to_owned()
                } else {
                    format!("{misses} times in a row")
                };
                let message = format!(
                    "job {job}of phone {} is no longer known to the service (missing from ListJobs, ShowJob refused it \
                     {times}): it was forgotten after the service's retention, or the service restarted, before it \
                     was seen finished, so whether the phone was acted on is unknown: {error}",
                    outcome.phone_id
                );
                outcome.state = PhoneState::Lost;
                outcome.error_code = error.code().map(str::to_owned);
                outcome.error_msg = Some(message);
            }
        }
    }
}
