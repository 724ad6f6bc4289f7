//! The waiter's state machine, pure: what is known of each phone of a run (a [`WaitReport`] in
//! the making) and how each answer of the service changes it: a submission, a listed or shown job,
//! a ShowJob refusal, a phone's status, a reconciliation. It sends nothing and sleeps never; the
//! drive loop in `run.rs` makes the calls and feeds their answers in. The pacing of polling
//! rounds ([`poll_delay`]) is here too.
//!
//! A phone is only ever reported successful after its own job was seen with status 2, or, when an
//! ambiguous failure hid its job, after the phone was seen in the operation's in-progress status
//! and then in its success status.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use cph_types::{
    BatchOperation, BatchRequest, Job, JobId, JobStatus, LIST_JOBS_MAX_LIMIT,
    LIST_JOBS_MAX_REQUEST_IDS, PhoneId, PhoneStatus, RequestId,
};

use crate::earlier::{RunningJob, UnsurePhone};
use crate::error::Error;
use crate::outcome::{PhoneOutcome, PhoneState, WaitReport};
use crate::reconcile::{Reconciliation, StatusVerdict, judge, status_words};
use crate::submit::{Submission, SubmitResult};

/// Consecutive "not found"-style ShowJob answers after which a job missing from every listing
/// is concluded lost ([`PhoneState::Lost`]) during a wait; a single polling round (a refresh of
/// recorded jobs) concludes it from one such answer.
pub(crate) const SHOW_JOB_MISSES_TO_LOSE: u32 = 3;

/// What the record of a phone waited on by its status says while it waits.
const ACTING_NOTE: &str =
    "its job is not known (the request's answer was lost), so the phone is waited on by its status";

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
pub(crate) fn poll_delay(
    elapsed: Duration,
    calls: usize,
    interval: Duration,
    fraction: f64,
) -> Duration {
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

/// The waiter's bookkeeping.
#[derive(Debug)]
pub(crate) struct Waiter {
    pub(crate) report: WaitReport,
    by_job: HashMap<String, Vec<usize>>,
    misses: HashMap<usize, u32>,
    /// Consecutive ShowJob refusals after which a job is lost.
    misses_to_lose: u32,
    /// Phones waited on by their status (acting, job not known).
    by_status: Vec<usize>,
    /// Ambiguously submitted phones already reconciled.
    reconciled: HashSet<usize>,
    /// Phones of [`crate::Earlier::unsure`] that showed no sign of their earlier request: counted
    /// as sent once more when their chunk goes out.
    resend: HashSet<String>,
}

impl Waiter {
    pub(crate) fn new(operation: BatchOperation, misses_to_lose: u32) -> Self {
        Waiter {
            report: WaitReport::new(operation),
            by_job: HashMap::new(),
            misses: HashMap::new(),
            misses_to_lose,
            by_status: Vec::new(),
            reconciled: HashSet::new(),
            resend: HashSet::new(),
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
    pub(crate) fn add(&mut self, submission: &Submission) {
        for request_id in &submission.request_ids {
            self.add_request_id(request_id);
        }
        for phone in &submission.phones {
            if !matches!(
                phone.result,
                SubmitResult::NotSent | SubmitResult::Failed { .. }
            ) && self.resend.remove(phone.phone_id.as_str())
            {
                self.report.reconciled.resent += 1;
            }
            let mut outcome = PhoneOutcome::new(
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
    pub(crate) fn add_running(&mut self, jobs: Vec<RunningJob>) {
        for job in jobs {
            if let Some(request_id) = &job.request_id {
                self.add_request_id(request_id);
            }
            let outcome = PhoneOutcome::new(job.phone_id, job.request_id, PhoneState::Running);
            self.push_job(outcome, &job.job_id);
        }
    }

    /// Adds phones found acting earlier, waited on by their status.
    pub(crate) fn add_acting(&mut self, phones: Vec<PhoneId>) {
        for phone_id in phones {
            self.by_status.push(self.report.outcomes.len());
            let mut outcome = PhoneOutcome::new(phone_id, None, PhoneState::Running);
            outcome.error_msg = Some(ACTING_NOTE.to_owned());
            self.report.outcomes.push(outcome);
        }
    }

    /// What reading the service found about a phone of [`crate::Earlier::unsure`], before anything
    /// was sent: acted on (waited on, by its job or its status), unreadable (held), or no sign of
    /// the earlier request. Returns whether the phone is to be sent once more.
    pub(crate) fn add_unsure(&mut self, phone: &UnsurePhone, verdict: Reconciliation) -> bool {
        debug_assert_eq!(&phone.phone_id, verdict.phone_id());
        match verdict {
            Reconciliation::Job(job) => {
                tracing::info!(phone = %job.phone_id, job = %job.job_id, "the earlier request had acted: its job is waited on");
                self.report.reconciled.by_job += 1;
                if let Some(request_id) = &job.request_id {
                    self.add_request_id(request_id);
                }
                let outcome =
                    PhoneOutcome::new(job.phone_id, job.request_id.clone(), PhoneState::Running);
                self.push_job(outcome, &job.job_id);
                false
            }
            Reconciliation::Acting { phone_id, status } => {
                tracing::info!(phone = %phone_id, status = status.code(), "the earlier request had acted: the phone is waited on by its status");
                self.report.reconciled.by_status += 1;
                self.by_status.push(self.report.outcomes.len());
                // As a phone found acting by an earlier run: waited on by its status alone.
                let mut outcome = PhoneOutcome::new(phone_id, None, PhoneState::Running);
                outcome.error_msg = Some(format!(
                    "the phone was found {}, so the earlier request had acted: {ACTING_NOTE}",
                    status_words(status)
                ));
                self.report.outcomes.push(outcome);
                false
            }
            Reconciliation::NoSign { phone_id, why } => {
                tracing::info!(phone = %phone_id, %why, "no sign that the earlier request acted: sent once more");
                self.resend.insert(phone_id.as_str().to_owned());
                true
            }
            Reconciliation::Unreadable { phone_id, error } => {
                tracing::warn!(phone = %phone_id, %error, "the service could not be read: the phone is held, not sent");
                self.report.reconciled.held += 1;
                let mut outcome =
                    PhoneOutcome::new(phone_id, phone.request_id.clone(), PhoneState::Held);
                outcome.error_code = error.code().map(str::to_owned);
                outcome.error_msg = Some(error.to_string());
                self.report.outcomes.push(outcome);
                false
            }
        }
    }

    /// The phones whose chunk failed ambiguously and that were not reconciled yet (marked
    /// reconciled now), with what is known of them.
    pub(crate) fn take_unsure(&mut self) -> Vec<(usize, UnsurePhone)> {
        let unsure: Vec<(usize, UnsurePhone)> = self
            .report
            .outcomes
            .iter()
            .enumerate()
            .filter(|(i, o)| o.state == PhoneState::SubmitUnknown && !self.reconciled.contains(i))
            .map(|(i, o)| {
                let phone = UnsurePhone {
                    phone_id: o.phone_id.clone(),
                    request_id: o.request_id.clone(),
                };
                (i, phone)
            })
            .collect();
        self.reconciled.extend(unsure.iter().map(|(i, _)| *i));
        unsure
    }

    /// What reconciling a phone whose chunk failed ambiguously in this run found.
    pub(crate) fn apply_reconciliation(&mut self, index: usize, verdict: Reconciliation) {
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
    pub(crate) fn add_unsent<R: BatchRequest>(&mut self, request: Option<R>, why: &str) {
        for phone_id in request.iter().flat_map(BatchRequest::phone_ids) {
            let mut outcome = PhoneOutcome::new(phone_id.clone(), None, PhoneState::NotSubmitted);
            outcome.error_msg = Some(why.to_owned());
            self.report.outcomes.push(outcome);
        }
    }

    pub(crate) fn running_count(&self) -> usize {
        self.report.count(PhoneState::Running)
    }

    pub(crate) fn has_running(&self) -> bool {
        self.report
            .outcomes
            .iter()
            .any(|o| o.state == PhoneState::Running)
    }

    /// Request ids (in submission order) that still have running jobs.
    pub(crate) fn requests_with_running(&self) -> Vec<RequestId> {
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
    pub(crate) fn round_calls(&self) -> usize {
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
        let by_status = !self.running_by_status().is_empty();
        listings + self.running_without_request().len() + usize::from(by_status)
    }

    /// Running phones whose request id is unknown: only ShowJob can find their jobs (those with
    /// one).
    pub(crate) fn running_without_request(&self) -> Vec<usize> {
        self.report
            .outcomes
            .iter()
            .enumerate()
            .filter(|(_, o)| o.state == PhoneState::Running && o.request_id.is_none())
            .map(|(i, _)| i)
            .collect()
    }

    /// Running phones waited on by their status.
    pub(crate) fn running_by_status(&self) -> Vec<usize> {
        self.by_status
            .iter()
            .copied()
            .filter(|&i| {
                self.report
                    .outcomes
                    .get(i)
                    .is_some_and(|o| o.state == PhoneState::Running)
            })
            .collect()
    }

    /// Running phones with a job of one of the request ids of `group`.
    pub(crate) fn running_of(&self, group: &[RequestId]) -> HashSet<usize> {
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

    /// The job of the phone at `index`, when it has one.
    pub(crate) fn job_of(&self, index: usize) -> Option<JobId> {
        self.report.outcomes.get(index)?.job_id.clone()
    }

    /// Applies a listed job to the phones it belongs to; returns their indices.
    pub(crate) fn apply(&mut self, job: &Job) -> Vec<usize> {
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

    /// Applies a job the service listed or showed to the phone at `index`. A job the service
    /// shows for another phone does not complete this one: the phone is [`PhoneState::Lost`], its
    /// message naming both phones.
    pub(crate) fn apply_to(&mut self, index: usize, job: &Job) {
        let Some(outcome) = self.report.outcomes.get_mut(index) else {
            return;
        };
        if outcome.state != PhoneState::Running {
            return;
        }
        if let Some(other) = job
            .phone_id
            .as_deref()
            .filter(|p| *p != outcome.phone_id.as_str())
        {
            let job_id = outcome
                .job_id
                .as_ref()
                .map_or_else(String::new, |j| format!("{j} "));
            tracing::warn!(phone = %outcome.phone_id, job = %job_id, other, "the job belongs to another phone");
            outcome.state = PhoneState::Lost;
            outcome.error_code = None;
            outcome.error_msg = Some(format!(
                "job {job_id}is phone {other}'s, not phone {}'s: the service shows it for another phone, so \
                 whether phone {} was acted on is unknown",
                outcome.phone_id, outcome.phone_id
            ));
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

    /// ShowJob showed the job of the phone at `index`: the count of refusals starts again.
    pub(crate) fn shown(&mut self, index: usize, job: &Job) {
        self.misses.remove(&index);
        self.apply_to(index, job);
    }

    /// ShowJob refused a job missing from the listing; after `misses_to_lose` such answers in a
    /// row the job is concluded [`PhoneState::Lost`], in words that name the phone and the job and
    /// say that its outcome is unknown (a service forgets jobs after its retention, or when it
    /// restarts).
    pub(crate) fn missed(&mut self, index: usize, error: &Error) {
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

    /// What the phone at `index`, waited on by its status, showed when read: its status, or
    /// `None` when the service no longer knows it. A phone still in the operation's in-progress
    /// status goes on waiting; its success status ends it successful; anything else, failed.
    pub(crate) fn apply_status(&mut self, index: usize, status: Option<PhoneStatus>) {
        let operation = self.report.operation;
        let Some(path) = operation.status_path() else {
            return;
        };
        let Some(outcome) = self.report.outcomes.get_mut(index) else {
            return;
        };
        if outcome.state != PhoneState::Running {
            return;
        }
        let verb = operation.api_name();
        match status.map(|status| (status, judge(path, status))) {
            Some((_, StatusVerdict::Acting)) => {}
            Some((_, StatusVerdict::Succeeded)) => {
                outcome.state = PhoneState::Succeeded;
                outcome.error_code = None;
                outcome.error_msg = None;
            }
            Some((status, StatusVerdict::Failed)) => {
                outcome.state = PhoneState::Failed;
                outcome.error_msg = Some(format!(
                    "the phone went from {} to {} after {verb} acted on it (its job is not known: the \
                     request's answer was lost)",
                    status_words(path.during),
                    status_words(status)
                ));
            }
            None => {
                outcome.state = PhoneState::Failed;
                outcome.error_msg = Some(format!(
                    "the service no longer knows the phone, which was {} after {verb} acted on it",
                    status_words(path.during)
                ));
            }
        }
    }

    /// Puts the outcomes from `start` on in the order of the positions `position` gives them,
    /// asked once each, in their current order (a stable sort: equal positions keep their order).
    /// Only once waiting is over: the indices kept above change.
    pub(crate) fn order_from(
        &mut self,
        start: usize,
        mut position: impl FnMut(&PhoneOutcome) -> usize,
    ) {
        if start >= self.report.outcomes.len() {
            return;
        }
        let mut tail: Vec<(usize, PhoneOutcome)> = self
            .report
            .outcomes
            .drain(start..)
            .map(|o| (position(&o), o))
            .collect();
        tail.sort_by_key(|(at, _)| *at);
        self.report
            .outcomes
            .extend(tail.into_iter().map(|(_, o)| o));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::submit::SubmittedPhone;

    fn id(s: &str) -> PhoneId {
        PhoneId::new(s).unwrap()
    }

    fn job(phone: &str, job_id: &str, status: JobStatus) -> Job {
        serde_json::from_value(serde_json::json!({
            "job_id": job_id, "phone_id": phone, "status": match status {
                JobStatus::Success => 2, JobStatus::Failed => -1, _ => 1,
            },
            "error_code": if status == JobStatus::Failed { "CPS.0010" } else { "" },
        }))
        .unwrap()
    }

    /// A waiter of restarts with `phones` accepted (job `j-<phone>`) under request `r1`.
    fn accepted(phones: &[&str]) -> Waiter {
        let mut waiter = Waiter::new(BatchOperation::Restart, SHOW_JOB_MISSES_TO_LOSE);
        let request_id = RequestId::new("r1").unwrap();
        waiter.add(&Submission {
            operation: BatchOperation::Restart,
            phones: phones
                .iter()
                .map(|p| SubmittedPhone {
                    phone_id: id(p),
                    request_id: Some(request_id.clone()),
                    result: SubmitResult::Accepted {
                        job_id: JobId::new(format!("j-{p}")).unwrap(),
                    },
                })
                .collect(),
            request_ids: vec![request_id],
            interrupted: None,
        });
        waiter
    }

    #[test]
    fn a_job_of_another_phone_never_completes_the_phone_that_recorded_it() {
        // Phone b's record names a's job: seen successful, it completes a, and makes b lost.
        let mut waiter = Waiter::new(BatchOperation::Restart, SHOW_JOB_MISSES_TO_LOSE);
        waiter.add_running(vec![
            RunningJob {
                phone_id: id("a"),
                request_id: None,
                job_id: JobId::new("j1").unwrap(),
            },
            RunningJob {
                phone_id: id("b"),
                request_id: None,
                job_id: JobId::new("j1").unwrap(),
            },
        ]);
        assert_eq!(
            waiter.apply(&job("a", "j1", JobStatus::Success)),
            [0, 1],
            "both records name the job"
        );
        let [a, b] = &waiter.report.outcomes[..] else {
            panic!()
        };
        assert_eq!(a.state, PhoneState::Succeeded);
        assert_eq!(b.state, PhoneState::Lost);
        assert_eq!(b.last_status, None, "nothing of a's job is b's");
        assert_eq!(
            b.error_msg.as_deref(),
            Some(
                "job j1 is phone a's, not phone b's: the service shows it for another phone, so whether phone b \
                 was acted on is unknown"
            )
        );
        // A job that names no phone cannot be checked, and counts as the phone's.
        let mut waiter = accepted(&["c"]);
        let mut nameless = job("c", "j-c", JobStatus::Success);
        nameless.phone_id = None;
        waiter.apply(&nameless);
        assert_eq!(waiter.report.outcomes[0].state, PhoneState::Succeeded);
    }

    #[test]
    fn listed_jobs_settle_their_phones_and_only_finished_ones() {
        let mut waiter = accepted(&["a", "b", "c"]);
        waiter.apply(&job("a", "j-a", JobStatus::Success));
        waiter.apply(&job("b", "j-b", JobStatus::Failed));
        waiter.apply(&job("c", "j-c", JobStatus::Running));
        let states: Vec<PhoneState> = waiter.report.outcomes.iter().map(|o| o.state).collect();
        assert_eq!(
            states,
            [
                PhoneState::Succeeded,
                PhoneState::Failed,
                PhoneState::Running
            ]
        );
        assert_eq!(
            waiter.report.outcomes[1].error_code.as_deref(),
            Some("CPS.0010")
        );
        assert_eq!(
            waiter.requests_with_running(),
            [RequestId::new("r1").unwrap()]
        );
        assert_eq!(waiter.round_calls(), 1);
        // A finished phone stays finished whatever is listed after.
        waiter.apply(&job("a", "j-a", JobStatus::Failed));
        assert_eq!(waiter.report.outcomes[0].state, PhoneState::Succeeded);
    }

    #[test]
    fn a_job_refused_three_times_in_a_row_is_lost_and_an_answer_between_restarts_the_count() {
        let refused = Error::Api {
            operation: "ShowJob",
            status: 404,
            code: Some("CPS.0005".into()),
            message: None,
            request_id: None,
        };
        let mut waiter = accepted(&["a"]);
        waiter.missed(0, &refused);
        waiter.missed(0, &refused);
        waiter.shown(0, &job("a", "j-a", JobStatus::Running));
        waiter.missed(0, &refused);
        waiter.missed(0, &refused);
        assert_eq!(waiter.report.outcomes[0].state, PhoneState::Running);
        waiter.missed(0, &refused);
        let lost = &waiter.report.outcomes[0];
        assert_eq!(lost.state, PhoneState::Lost);
        assert_eq!(lost.error_code.as_deref(), Some("CPS.0005"));
        assert!(
            lost.error_msg
                .as_deref()
                .unwrap()
                .starts_with("job j-a of phone a is no longer known to the service"),
            "{lost:?}"
        );
    }

    #[test]
    fn unsure_phones_are_waited_on_held_or_sent_once_more_as_reading_found() {
        let mut waiter = Waiter::new(BatchOperation::Restart, SHOW_JOB_MISSES_TO_LOSE);
        let unsure = |p: &str| UnsurePhone {
            phone_id: id(p),
            request_id: Some(RequestId::new("r0").unwrap()),
        };
        let by_job = Reconciliation::Job(RunningJob {
            phone_id: id("a"),
            request_id: Some(RequestId::new("r0").unwrap()),
            job_id: JobId::new("j-a").unwrap(),
        });
        assert!(!waiter.add_unsure(&unsure("a"), by_job));
        let acting = Reconciliation::Acting {
            phone_id: id("b"),
            status: PhoneStatus::Restarting,
        };
        assert!(!waiter.add_unsure(&unsure("b"), acting));
        let no_sign = Reconciliation::NoSign {
            phone_id: id("c"),
            why: "nothing".into(),
        };
        assert!(waiter.add_unsure(&unsure("c"), no_sign));
        let unreadable = Reconciliation::Unreadable {
            phone_id: id("d"),
            error: Error::Api {
                operation: "ListJobs",
                status: 502,
                code: Some("CPS.0003".into()),
                message: None,
                request_id: None,
            },
        };
        assert!(!waiter.add_unsure(&unsure("d"), unreadable));
        let states: Vec<PhoneState> = waiter.report.outcomes.iter().map(|o| o.state).collect();
        assert_eq!(
            states,
            [PhoneState::Running, PhoneState::Running, PhoneState::Held]
        );
        let held = &waiter.report.outcomes[2];
        assert_eq!(
            held.request_id,
            Some(RequestId::new("r0").unwrap()),
            "kept for the next read"
        );
        assert_eq!(
            held.error_msg.as_deref(),
            Some("ListJobs failed with http 502 CPS.0003")
        );
        assert_eq!(waiter.running_by_status(), [1]);
        assert_eq!(
            waiter.requests_with_running(),
            [RequestId::new("r0").unwrap()]
        );
        // The phone with no sign counts as sent once more when its chunk goes out.
        waiter.add(&Submission {
            operation: BatchOperation::Restart,
            phones: vec![SubmittedPhone {
                phone_id: id("c"),
                request_id: None,
                result: SubmitResult::Accepted {
                    job_id: JobId::new("j-c").unwrap(),
                },
            }],
            request_ids: Vec::new(),
            interrupted: None,
        });
        let counts = waiter.report.reconciled;
        assert_eq!(
            (counts.by_job, counts.by_status, counts.resent, counts.held),
            (1, 1, 1, 1)
        );
        // Found acting, it ends by its status.
        waiter.apply_status(1, Some(PhoneStatus::Running));
        assert_eq!(waiter.report.outcomes[1].state, PhoneState::Succeeded);
    }

    #[test]
    fn the_outcomes_of_a_request_can_be_put_back_in_request_order() {
        let mut waiter = accepted(&["c", "a", "b"]);
        let order = ["a", "b", "c"];
        waiter.order_from(1, |o| {
            order
                .iter()
                .position(|p| *p == o.phone_id.as_str())
                .unwrap()
        });
        let ids: Vec<&str> = waiter
            .report
            .outcomes
            .iter()
            .map(|o| o.phone_id.as_str())
            .collect();
        assert_eq!(ids, ["c", "a", "b"], "the first stays where it is");
    }

    #[test]
    fn poll_delays_follow_the_time_since_submitting_within_floor_interval_and_jitter() {
        let interval = Duration::from_secs(5);
        let at = |secs: f64, calls: usize, fraction: f64| {
            poll_delay(Duration::from_secs_f64(secs), calls, interval, fraction)
        };
        assert_eq!(at(1.0, 1, 0.5), Duration::from_millis(500));
        assert_eq!(at(3.0, 1, 0.5), Duration::from_millis(1500));
        assert_eq!(at(60.0, 1, 0.5), interval);
        assert_eq!(at(0.0, 4, 0.5), Duration::from_secs(2), "0.5 s per call");
        assert_eq!(
            at(0.0, 40, 0.5),
            interval,
            "the interval wins over the floor"
        );
        assert_eq!(at(60.0, 1, 0.0), interval.mul_f64(0.9));
        assert_eq!(at(60.0, 1, 1.0), interval.mul_f64(1.1));
        assert_eq!(
            at(60.0, 1, f64::NAN),
            interval,
            "a bad fraction is no jitter"
        );
    }
}
