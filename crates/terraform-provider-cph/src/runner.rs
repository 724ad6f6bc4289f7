//! The one runner every resource's work goes through: a batch request rolled out window by
//! window (at most `max_in_flight` phones with an unfinished job, a failure budget), jobs recorded
//! as still running waited on with it, everything polled in bulk, and one typed result per phone.
//! A refresh is one polling round over recorded running jobs, submitting nothing.

use std::time::{Duration, Instant};

use cph_http::{
    Client, Earlier, PhoneOutcome, PhoneState, Reconciled, Rollout, RunningJob, Submission,
    SubmitResult, SubmittedPhone, WaitEnd, WaitOptions, WaitReport,
};
use cph_types::{BatchOperation, BatchRequest, JobId, PhoneId, RequestId};
use tfplugin::CancellationToken;

use crate::records::{Record, Status};

/// The running job of `record`, to be waited on again; `None` when the record is not running or
/// has no job (see [`acting_phone`]).
pub(crate) fn running_job(record: &Record) -> Option<RunningJob> {
    if !record.is_running() {
        return None;
    }
    Some(RunningJob {
        phone_id: record.phone_id.clone(),
        request_id: record.request_id.clone(),
        job_id: record.job_id.clone()?,
    })
}

/// The phone of `record` when it is recorded running with no job: an ambiguous failure hid its job,
/// the phone was found acting, and the wait on its status ended first. The next apply waits on its
/// status again.
pub(crate) fn acting_phone(record: &Record) -> Option<PhoneId> {
    (record.is_running() && record.job_id.is_none()).then(|| record.phone_id.clone())
}

/// What became of one phone, typed until it is written to state.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PhoneResult {
    pub(crate) phone_id: PhoneId,
    pub(crate) request_id: Option<RequestId>,
    pub(crate) job_id: Option<JobId>,
    pub(crate) status: Status,
    pub(crate) error_code: Option<String>,
    pub(crate) error_msg: Option<String>,
    pub(crate) begin_time: Option<String>,
    pub(crate) end_time: Option<String>,
}

impl PhoneResult {
    fn of(outcome: &PhoneOutcome) -> PhoneResult {
        let status = match outcome.state {
            PhoneState::Succeeded => Status::Success,
            PhoneState::Failed => Status::Failed,
            PhoneState::Running => Status::Running,
            PhoneState::Rejected => Status::Rejected,
            // The request may have been performed, or the job was forgotten before it was seen
            // finished (or is another phone's), or reading the phone before sending it again
            // failed: the next apply reads the phone before anything is sent again.
            PhoneState::SubmitUnknown | PhoneState::Lost | PhoneState::Held => Status::Unknown,
            PhoneState::NotSubmitted => Status::NotSubmitted,
            // The request failed and the service certainly did not act: refused with an error
            // code of the service's is a rejection; a request that never got an answer left the
            // phone unsent.
            PhoneState::SubmitFailed if outcome.error_code.is_some() => Status::Rejected,
            PhoneState::SubmitFailed => Status::NotSubmitted,
        };
        let mut error_msg = outcome.error_msg.clone();
        if outcome.state == PhoneState::Held {
            error_msg = Some(crate::report::held_unknown(
                outcome.error_msg.as_deref().unwrap_or_default(),
            ));
        }
        if status == Status::NotSubmitted && error_msg.is_none() {
            error_msg = Some("not sent: the run was interrupted first".to_owned());
        }
        PhoneResult {
            phone_id: outcome.phone_id.clone(),
            request_id: outcome.request_id.clone(),
            job_id: outcome.job_id.clone(),
            status,
            error_code: outcome.error_code.clone(),
            error_msg,
            begin_time: outcome.begin_time.clone(),
            end_time: outcome.end_time.clone(),
        }
    }

    /// The record state keeps: where the outcome has no code of its own, an unsuccessful record's
    /// code is its status, so that every unsuccessful record says what happened (see
    /// [`Status::fields`]).
    pub(crate) fn to_record(&self) -> Record {
        let text = |s: &Option<String>| s.clone().unwrap_or_default();
        let error_code = match (&self.status, &self.error_code) {
            (Status::Success | Status::Running, code) => text(code),
            (_, Some(code)) if !code.is_empty() => code.clone(),
            (status, _) => status.as_str().to_owned(),
        };
        Record {
            phone_id: self.phone_id.clone(),
            request_id: self.request_id.clone(),
            job_id: self.job_id.clone(),
            status: self.status.clone(),
            error_code,
            error_msg: text(&self.error_msg),
            begin_time: text(&self.begin_time),
            end_time: text(&self.end_time),
        }
    }
}

/// Why a run ended before every phone finished.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Interruption {
    /// The operation's timeout passed.
    Timeout(Duration),
    /// Terraform asked the provider to stop (Ctrl-C).
    Cancelled,
    /// Submitting or polling failed in a way waiting cannot fix.
    Failed(String),
    /// More phones failed than the rollout's budget: nothing more was submitted.
    BudgetExceeded { failures: usize, budget: usize },
}

/// What a run did: one result per phone (resumed jobs first, then the request's phones in
/// request order) and why it ended early, if it did; apart from them, the phones recorded
/// `unknown` that were not sent because reading the service about them failed (still `unknown`),
/// and what reading those phones found.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RunOutcome {
    pub(crate) results: Vec<PhoneResult>,
    pub(crate) interruption: Option<Interruption>,
    pub(crate) held: Vec<PhoneResult>,
    pub(crate) reconciled: Reconciled,
}

/// Runs work against the API under one deadline and the provider's stop signal.
pub(crate) struct Runner<'a> {
    client: &'a Client,
    options: WaitOptions,
    timeout: Duration,
    deadline: Instant,
    cancel: CancellationToken,
}

impl<'a> Runner<'a> {
    /// A runner whose runs end at `timeout` from now, or when `cancel` fires.
    pub(crate) fn new(client: &'a Client, cancel: &CancellationToken, timeout: Duration) -> Self {
        let deadline = Instant::now() + timeout;
        let options = WaitOptions::new().deadline(deadline).cancel(cancel.clone());
        Runner {
            client,
            options,
            timeout,
            deadline,
            cancel: cancel.clone(),
        }
    }

    /// The same, telling `progress` of every window submitted and every polling round.
    pub(crate) fn reporting(
        mut self,
        progress: impl Fn(cph_http::Progress) + Send + Sync + 'static,
    ) -> Self {
        self.options = self.options.on_progress(progress);
        self
    }

    /// The deadline and stop signal of the runner's calls, for reads made beside its runs.
    pub(crate) fn options(&self) -> &WaitOptions {
        &self.options
    }

    /// Whether the deadline passed or Terraform asked the provider to stop.
    pub(crate) fn is_over(&self) -> bool {
        self.cancel.is_cancelled() || Instant::now() >= self.deadline
    }

    /// Why the runner is over, once [`Runner::is_over`].
    pub(crate) fn why_over(&self) -> Interruption {
        if self.cancel.is_cancelled() {
            Interruption::Cancelled
        } else {
            Interruption::Timeout(self.timeout)
        }
    }

    /// Waits `wait` (at most until the deadline), or until Terraform asks the provider to stop.
    pub(crate) async fn pause(&self, wait: Duration) {
        let wait = wait.min(self.deadline.saturating_duration_since(Instant::now()));
        tokio::select! {
            () = self.cancel.cancelled() => {}
            () = tokio::time::sleep(wait) => {}
        }
    }

    /// Rolls `request` out (when it names phones) as `rollout` allows and waits on its jobs
    /// together with what `earlier` runs left (jobs, phones found acting; the phones recorded
    /// `unknown` are read before they are sent again), until every job finished, the deadline
    /// passed, Terraform asked to stop, the failure budget was exceeded or the endpoint stopped
    /// answering.
    pub(crate) async fn run<R: BatchRequest>(
        &self,
        request: Option<&R>,
        earlier: Earlier,
        rollout: Rollout,
        log: Option<std::sync::Arc<dyn cph_http::SubmissionLog>>,
    ) -> RunOutcome {
        let request = request.filter(|r| !r.is_empty());
        if request.is_none() && earlier.is_empty() {
            return RunOutcome::default();
        }
        let mut options = self.options.clone().rollout(rollout);
        if let Some(log) = log {
            options = options.log(log);
        }
        match self.client.run_batch(request, earlier, &options).await {
            Ok(report) => self.outcome(report),
            // Refused before anything was sent (the request failed its own checks).
            Err(error) => RunOutcome {
                results: request
                    .map(|r| r.phone_ids())
                    .unwrap_or_default()
                    .into_iter()
                    .map(|phone_id| PhoneResult {
                        phone_id: phone_id.clone(),
                        request_id: None,
                        job_id: None,
                        status: Status::NotSubmitted,
                        error_code: None,
                        error_msg: Some(format!(
                            "not sent: {}",
                            crate::report::api_failure(&error)
                        )),
                        begin_time: None,
                        end_time: None,
                    })
                    .collect(),
                interruption: Some(Interruption::Failed(crate::report::api_failure(&error))),
                ..RunOutcome::default()
            },
        }
    }

    /// One polling round over `jobs` (recorded as running): their current results, with no
    /// submission and no wait for them to finish.
    pub(crate) async fn refresh(
        &self,
        operation: BatchOperation,
        jobs: Vec<RunningJob>,
    ) -> RunOutcome {
        if jobs.is_empty() {
            return RunOutcome::default();
        }
        let submission = Submission {
            operation,
            request_ids: jobs.iter().filter_map(|j| j.request_id.clone()).fold(
                Vec::new(),
                |mut ids, id| {
                    if !ids.contains(&id) {
                        ids.push(id);
                    }
                    ids
                },
            ),
            phones: jobs
                .into_iter()
                .map(|job| SubmittedPhone {
                    phone_id: job.phone_id,
                    request_id: job.request_id,
                    result: SubmitResult::Accepted { job_id: job.job_id },
                })
                .collect(),
            interrupted: None,
        };
        let report = self.client.poll_once(&submission, &self.options).await;
        self.outcome(report)
    }

    fn outcome(&self, report: WaitReport) -> RunOutcome {
        let interruption = match report.end {
            WaitEnd::Finished => None,
            // Calls failing when the time ran out: the endpoint, not the jobs, may be why.
            WaitEnd::DeadlineExceeded => Some(match &report.failing {
                Some(failing) => {
                    Interruption::Failed(crate::report::timed_out_failing(self.timeout, failing))
                }
                None => Interruption::Timeout(self.timeout),
            }),
            WaitEnd::Cancelled => Some(Interruption::Cancelled),
            WaitEnd::Failed(e) => Some(Interruption::Failed(crate::report::api_failure(&e))),
            WaitEnd::BudgetExceeded { failures, budget } => {
                Some(Interruption::BudgetExceeded { failures, budget })
            }
            WaitEnd::Unreachable(failing) => {
                Some(Interruption::Failed(crate::report::unreachable(&failing)))
            }
        };
        // Phones held back (not sent, still `unknown`) are recorded, not reported as failures.
        let (held, results): (Vec<&PhoneOutcome>, Vec<&PhoneOutcome>) = report
            .outcomes
            .iter()
            .partition(|o| o.state == PhoneState::Held);
        let results = results.into_iter().map(PhoneResult::of).collect();
        let held = held.into_iter().map(PhoneResult::of).collect();
        RunOutcome {
            results,
            interruption,
            held,
            reconciled: report.reconciled,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(state: PhoneState, code: Option<&str>) -> PhoneOutcome {
        PhoneOutcome {
            phone_id: PhoneId::new("0123456789abcdef0123456789abcdef").unwrap(),
            request_id: None,
            job_id: None,
            state,
            last_status: None,
            error_code: code.map(str::to_owned),
            error_msg: None,
            begin_time: None,
            end_time: None,
        }
    }

    #[test]
    fn client_states_map_onto_the_documented_status_vocabulary() {
        let cases = [
            (PhoneState::Succeeded, None, Status::Success),
            (PhoneState::Failed, None, Status::Failed),
            (PhoneState::Running, None, Status::Running),
            (PhoneState::Rejected, None, Status::Rejected),
            (PhoneState::SubmitUnknown, None, Status::Unknown),
            (PhoneState::Lost, Some("CPS.0008"), Status::Unknown),
            (PhoneState::NotSubmitted, None, Status::NotSubmitted),
            // Refused with the service's code; no answer at all.
            (PhoneState::SubmitFailed, Some("CPS.0004"), Status::Rejected),
            (PhoneState::SubmitFailed, None, Status::NotSubmitted),
        ];
        for (state, code, expected) in cases {
            assert_eq!(
                PhoneResult::of(&outcome(state, code)).status,
                expected,
                "{state:?}"
            );
        }
    }

    #[test]
    fn every_unsuccessful_record_says_what_happened() {
        let rejected = PhoneResult::of(&outcome(PhoneState::Rejected, Some("CPS.0005")));
        assert_eq!(rejected.to_record().error_code, "CPS.0005");
        let unknown = PhoneResult::of(&outcome(PhoneState::SubmitUnknown, None));
        assert_eq!(unknown.to_record().error_code, "unknown");
        let unsent = PhoneResult::of(&outcome(PhoneState::NotSubmitted, None)).to_record();
        assert_eq!(unsent.error_code, "not_submitted");
        assert!(unsent.error_msg.contains("not sent"), "{unsent:?}");
        let ok = PhoneResult::of(&outcome(PhoneState::Succeeded, None)).to_record();
        assert_eq!((ok.error_code.as_str(), ok.error_msg.as_str()), ("", ""));
    }

    #[test]
    fn only_running_records_with_a_job_are_resumed_and_running_ones_without_are_acting() {
        let mut record = Record::not_submitted(&PhoneId::new("a").unwrap(), "");
        assert_eq!(running_job(&record), None);
        record.status = Status::Running;
        assert_eq!(running_job(&record), None, "no job id");
        assert_eq!(acting_phone(&record).unwrap().as_str(), "a");
        record.job_id = Some(JobId::new("j1").unwrap());
        record.request_id = Some(RequestId::new("r1").unwrap());
        assert_eq!(acting_phone(&record), None);
        let job = running_job(&record).unwrap();
        assert_eq!(job.job_id.as_str(), "j1");
        assert_eq!(
            job.request_id.map(|r| r.as_str().to_owned()).as_deref(),
            Some("r1")
        );
    }
}
