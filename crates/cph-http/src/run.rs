//! Running batch operations: the drive loop that rolls a request out in windows, reads unsure
//! phones before sending them again, polls ListJobs with up to 20 request ids per call and
//! pagination (ShowJob for a job missing from the listing, the phone's status for a phone whose
//! job is not known), reports progress, and ends at the deadline, on cancellation, at the failure
//! budget or when the endpoint stopped answering. It makes the calls; the [`Waiter`] keeps what
//! they showed.

use std::collections::{HashMap, HashSet, VecDeque};

use cph_types::{
    BatchRequest, Job, LIST_JOBS_MAX_LIMIT, LIST_JOBS_MAX_REQUEST_IDS, PhoneId, RequestId,
    ResetRequest, RestartRequest, RestoreRequest, StopRequest, StorageRequest,
    UpdatePropertyRequest, is_auth_failure,
};
use futures_util::StreamExt;

use crate::client::{Client, Failure};
use crate::control::{Control, Interrupt};
use crate::earlier::{Earlier, UnsurePhone};
use crate::error::Error;
use crate::options::WaitOptions;
use crate::outcome::{PhoneOutcome, WaitEnd, WaitReport};
use crate::paging::{PageFacts, Pager, Step};
use crate::reconcile::Seen;
use crate::retry::{FailureClass, classify};
use crate::submit::{Submission, check_request};
use crate::waiter::{SHOW_JOB_MISSES_TO_LOSE, Waiter, poll_delay};

#[cfg(test)]
mod tests;

/// How many ShowJob calls of a polling round are in flight at once (each still waits its turn in
/// the client's flow control).
const SHOW_JOB_CONCURRENCY: usize = 8;

/// Why a polling round stopped the wait.
enum Stop {
    Interrupted(Interrupt),
    Fatal(Error),
}

impl Client {
    /// Waits on every job of `submission` until all have finished, the deadline passes, the
    /// token is cancelled or the endpoint stops answering ([`WaitEnd::Unreachable`]). Never
    /// fails: see [`WaitReport::end`].
    pub async fn wait(&self, submission: &Submission, options: &WaitOptions) -> WaitReport {
        let mut waiter = Waiter::new(submission.operation, SHOW_JOB_MISSES_TO_LOSE);
        waiter.add(submission);
        let watch = self.watch();
        let ctl = self.control(options).watching(&watch);
        self.settle_unsure(&mut waiter, &ctl).await;
        let end = match &submission.interrupted {
            Some(interrupted) => end_of_submit(interrupted),
            // Nothing more to submit (the request type is only a placeholder for the loop).
            None => {
                self.drive::<StopRequest>(&mut waiter, None, &ctl, options)
                    .await
            }
        };
        self.finish(waiter, end, &ctl)
    }

    /// Rolls a batch operation out and waits on it: submits `request` (when it names phones) as
    /// [`WaitOptions::rollout`] allows, waits on its jobs together with what `earlier` runs left
    /// (jobs unfinished, phones found acting), until every job finished, the deadline passed,
    /// Terraform asked to stop, the failure budget was exceeded or the endpoint stopped answering
    /// for longer than [`crate::Settings::unreachable_after`].
    ///
    /// Nothing is sent blindly where the service may already have acted:
    /// - The phones of [`Earlier::unsure`] (their last submission's outcome unknown) are read
    ///   first ([`Client::reconcile`]): found acted on (a job of the earlier request, or the phone
    ///   in the operation's in-progress status), they are waited on instead of sent; when the
    ///   service cannot be read they are [`crate::PhoneState::Held`], not sent; with no sign of
    ///   the earlier request they are sent once more with the others. [`WaitReport::reconciled`]
    ///   counts each kind.
    /// - A chunk whose request fails ambiguously in this run is never sent again: its phones are
    ///   reconciled the same way; those found acted on are waited on, the others end
    ///   [`crate::PhoneState::SubmitUnknown`] saying what was read.
    ///
    /// The report has one outcome per phone: first the earlier jobs, then the phones found acting,
    /// then the request's phones in request order (the unsure ones among them; those never sent
    /// [`crate::PhoneState::NotSubmitted`], saying why).
    ///
    /// Fails only on invalid input, before anything is sent (see [`Client::submit`]), or when a
    /// phone of [`Earlier::unsure`] is not one of the request's.
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
        let unsure = unsure_of(request, earlier.unsure)?;
        let mut waiter = Waiter::new(R::OPERATION, SHOW_JOB_MISSES_TO_LOSE);
        waiter.add_running(earlier.jobs);
        waiter.add_acting(earlier.acting);
        let first_of_request = waiter.report.outcomes.len();
        let watch = self.watch();
        let ctl = self.control(options).watching(&watch);
        let mut rest = request.cloned();
        if !unsure.is_empty() {
            let mut verdicts: HashMap<String, _> = self
                .reconcile_in(R::OPERATION, &unsure, &ctl)
                .await
                .into_iter()
                .map(|v| (v.phone_id().as_str().to_owned(), v))
                .collect();
            let mut settled: HashSet<&str> = HashSet::new();
            for phone in &unsure {
                let Some(verdict) = verdicts.remove(phone.phone_id.as_str()) else {
                    continue;
                };
                if !waiter.add_unsure(phone, verdict) {
                    settled.insert(phone.phone_id.as_str());
                }
            }
            rest = rest
                .map(|r| r.keep_phones(|id| !settled.contains(id.as_str())))
                .filter(|r| !r.is_empty());
        }
        let end = self.drive(&mut waiter, rest.as_ref(), &ctl, options).await;
        if let (Some(request), false) = (request, unsure.is_empty()) {
            // The phones read first were put before the others: back in request order.
            let mut positions: HashMap<&str, VecDeque<usize>> = HashMap::new();
            for (i, id) in request.phone_ids().into_iter().enumerate() {
                positions.entry(id.as_str()).or_default().push_back(i);
            }
            waiter.order_from(first_of_request, |o: &PhoneOutcome| {
                positions
                    .get_mut(o.phone_id.as_str())
                    .and_then(VecDeque::pop_front)
                    .unwrap_or(usize::MAX)
            });
        }
        Ok(self.finish(waiter, end, &ctl))
    }

    /// The whole batch operation: [`Client::run_batch`] of `request` alone (rolled out as
    /// `options` says; by default all at once).
    pub async fn submit_and_wait<R: BatchRequest>(
        &self,
        request: &R,
        options: &WaitOptions,
    ) -> Result<WaitReport, Error> {
        self.run_batch(Some(request), Earlier::default(), options)
            .await
    }

    /// ResetCloudPhone (factory reset), submitted and waited on.
    pub async fn reset(
        &self,
        request: &ResetRequest,
        options: &WaitOptions,
    ) -> Result<WaitReport, Error> {
        self.submit_and_wait(request, options).await
    }

    /// RestartCloudPhone (restart, or power on), submitted and waited on.
    pub async fn restart(
        &self,
        request: &RestartRequest,
        options: &WaitOptions,
    ) -> Result<WaitReport, Error> {
        self.submit_and_wait(request, options).await
    }

    /// StopCloudPhone, submitted and waited on.
    pub async fn stop(
        &self,
        request: &StopRequest,
        options: &WaitOptions,
    ) -> Result<WaitReport, Error> {
        self.submit_and_wait(request, options).await
    }

    /// UpdateCloudPhoneProperty, submitted and waited on.
    pub async fn update_property(
        &self,
        request: &UpdatePropertyRequest,
        options: &WaitOptions,
    ) -> Result<WaitReport, Error> {
        self.submit_and_wait(request, options).await
    }

    /// Restore phone data from OBS, submitted and waited on.
    pub async fn restore(
        &self,
        request: &RestoreRequest,
        options: &WaitOptions,
    ) -> Result<WaitReport, Error> {
        self.submit_and_wait(request, options).await
    }

    /// Export phone data to OBS, submitted and waited on.
    pub async fn export_data(
        &self,
        request: &StorageRequest,
        options: &WaitOptions,
    ) -> Result<WaitReport, Error> {
        self.submit_and_wait(request, options).await
    }

    /// One polling round over the running jobs of `submission`, right away (no first-poll delay):
    /// what a refresh of recorded jobs needs. Jobs still running stay
    /// [`crate::PhoneState::Running`]; a job missing from the listing is asked for with ShowJob.
    /// The report's `end` is [`WaitEnd::Finished`] when the round ran to its end (some jobs may
    /// still be running).
    pub async fn poll_once(&self, submission: &Submission, options: &WaitOptions) -> WaitReport {
        // A recorded job the service refuses to know is lost at once: the refresh of a job that
        // was forgotten must say so rather than keep it running for ever.
        let mut waiter = Waiter::new(submission.operation, 1);
        waiter.add(submission);
        let watch = self.watch();
        let ctl = self.control(options).watching(&watch);
        let mut end = WaitEnd::Finished;
        if waiter.has_running() {
            end = match self.poll_round(&mut waiter, &ctl).await {
                Ok(()) => WaitEnd::Finished,
                Err(Stop::Interrupted(interrupt)) => end_for(interrupt),
                Err(Stop::Fatal(error)) => WaitEnd::Failed(error),
            };
            waiter.report.rounds = 1;
        }
        self.finish(waiter, end, &ctl)
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
                        let window_len = window.len();
                        // Chunk by chunk, so that a chunk that failed ambiguously is reconciled
                        // while its phones still show the operation's in-progress status.
                        let mut chunks = window.chunks(settings.batch_size).into_iter();
                        while let Some(chunk) = chunks.next() {
                            let submission = self.submit_in(&chunk, ctl).await;
                            waiter.add(&submission);
                            self.settle_unsure(waiter, ctl).await;
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
                        if let Some(callback) = &options.progress {
                            let mut progress = waiter
                                .report
                                .progress(rest.as_ref().map_or(0, BatchRequest::len));
                            progress.submitted = window_len;
                            callback(progress);
                        }
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
            let outcome = self.poll_round(waiter, ctl).await;
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
            if let Err(stop) = outcome {
                waiter.add_unsent(rest.take(), "not sent: the run ended first");
                return match stop {
                    Stop::Interrupted(interrupt) => end_for(interrupt),
                    Stop::Fatal(error) => WaitEnd::Failed(error),
                };
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

    /// Ends the run: how it ended, and whether its calls were failing at the end.
    fn finish(&self, mut waiter: Waiter, end: WaitEnd, ctl: &Control<'_>) -> WaitReport {
        waiter.report.end = end;
        waiter.report.failing = ctl.reach().and_then(|r| r.failing(ctl.timer().now()));
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

    /// Reconciles the phones whose chunk failed ambiguously and that were not reconciled yet (see
    /// [`Client::reconcile`]): found acted on, they are waited on (by their job, or by their status);
    /// otherwise they stay [`crate::PhoneState::SubmitUnknown`], their message saying what was
    /// read. Nothing is sent again.
    async fn settle_unsure(&self, waiter: &mut Waiter, ctl: &Control<'_>) {
        let (indices, unsure): (Vec<usize>, Vec<UnsurePhone>) =
            waiter.take_unsure().into_iter().unzip();
        if indices.is_empty() {
            return;
        }
        let operation = waiter.report.operation;
        let verdicts = self.reconcile_in(operation, &unsure, ctl).await;
        for (&index, verdict) in indices.iter().zip(verdicts) {
            waiter.apply_reconciliation(index, verdict);
        }
    }

    /// One round: ListJobs over every request id that still has running jobs (20 per call,
    /// paged), then ShowJob for each running job the listing did not show, then the status of the
    /// phones waited on by status.
    async fn poll_round(&self, waiter: &mut Waiter, ctl: &Control<'_>) -> Result<(), Stop> {
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
            let job_id = waiter.job_of(index)?;
            Some(async move { (index, self.show_job_in(&job_id, ctl).await) })
        });
        let answers: Vec<(usize, Result<Job, Failure>)> = futures_util::stream::iter(lookups)
            .buffer_unordered(SHOW_JOB_CONCURRENCY)
            .collect()
            .await;
        for (index, answer) in answers {
            match answer {
                Ok(job) => waiter.shown(index, &job),
                Err(failure) => {
                    let error = failure.error.clone();
                    match stop_for(failure) {
                        Verdict::Stop(stop) => return Err(stop),
                        Verdict::Permanent => waiter.missed(index, &error),
                        Verdict::TryLater => {}
                    }
                }
            }
        }
        self.poll_statuses(waiter, ctl).await
    }

    /// Reads the status of the phones waited on by status and concludes those that left the
    /// operation's in-progress status.
    async fn poll_statuses(&self, waiter: &mut Waiter, ctl: &Control<'_>) -> Result<(), Stop> {
        let Some(path) = waiter.report.operation.status_path() else {
            return Ok(());
        };
        let indices = waiter.running_by_status();
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
        let mut statuses = match self.read_statuses(&ids, path.during, ctl).await {
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
            match self.exact_statuses(&left, ctl).await {
                Ok(read) => statuses.extend(read),
                Err(error) => return failed(error),
            }
        }
        for index in indices {
            let status = match statuses.get(waiter.report.outcomes[index].phone_id.as_str()) {
                Some(Seen::Status(status)) => Some(*status),
                Some(Seen::NotIn(_)) => continue,
                Some(Seen::Gone) | None => None,
            };
            waiter.apply_status(index, status);
        }
        Ok(())
    }
}

/// The phones of `unsure` (each once), all of which must be phones of `request`.
fn unsure_of<R: BatchRequest>(
    request: Option<&R>,
    unsure: Vec<UnsurePhone>,
) -> Result<Vec<UnsurePhone>, Error> {
    let sent: HashSet<&str> = request
        .map(|r| r.phone_ids().into_iter().map(PhoneId::as_str).collect())
        .unwrap_or_default();
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(unsure.len());
    for phone in unsure {
        if !sent.contains(phone.phone_id.as_str()) {
            return Err(Error::invalid(
                "earlier unsure phones",
                format!(
                    "phone {} is not one of the {} request's phones, so it could not be sent again",
                    phone.phone_id,
                    R::OPERATION.api_name()
                ),
            ));
        }
        if seen.insert(phone.phone_id.as_str().to_owned()) {
            out.push(phone);
        }
    }
    Ok(out)
}

enum Verdict {
    Stop(Stop),
    Permanent,
    TryLater,
}

/// What a failed polling call means for the wait.
fn stop_for(failure: Failure) -> Verdict {
    let error = failure.error;
    match error {
        Error::Cancelled { .. } => Verdict::Stop(Stop::Interrupted(Interrupt::Cancelled)),
        Error::Timeout { .. } => Verdict::Stop(Stop::Interrupted(Interrupt::Deadline)),
        Error::Unreachable(failing) => {
            Verdict::Stop(Stop::Interrupted(Interrupt::Unreachable(failing)))
        }
        // Refused credentials will not get better by waiting.
        Error::Api {
            status: 401 | 403, ..
        }
        | Error::InvalidInput { .. }
        | Error::InvalidValue(_) => Verdict::Stop(Stop::Fatal(error)),
        Error::Api {
            code: Some(ref code),
            ..
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
        Error::Unreachable(failing) => WaitEnd::Unreachable((**failing).clone()),
        other => WaitEnd::Failed(other.clone()),
    }
}

fn end_for(interrupt: Interrupt) -> WaitEnd {
    match interrupt {
        Interrupt::Cancelled => WaitEnd::Cancelled,
        Interrupt::Deadline => WaitEnd::DeadlineExceeded,
        Interrupt::Unreachable(failing) => WaitEnd::Unreachable(*failing),
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
