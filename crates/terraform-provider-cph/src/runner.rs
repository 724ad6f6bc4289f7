//! The one runner every resource's work goes through: submit a batch request (chunked by the
//! client), resume jobs recorded as still running, wait on all of them in bulk, and give one typed
//! result per phone. A refresh is the same without submitting, and with one polling round.
//!
//! Rollouts (a window of phones in flight, a failure budget) belong here: [`Runner::run`] is the
//! one place that decides when each phone is submitted.

use std::time::{Duration, Instant};

use cph_http::{
    Client, Error, PhoneOutcome, PhoneState, Submission, SubmitResult, SubmittedPhone, WaitEnd,
    WaitOptions, WaitReport,
};
use cph_types::{BatchOperation, BatchRequest, JobId, PhoneId, RequestId};
use tfplugin::CancellationToken;

use crate::records::{Record, Status};

/// A job recorded as running, to be waited on again.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RunningJob {
    pub(crate) phone_id: PhoneId,
    pub(crate) request_id: Option<RequestId>,
    pub(crate) job_id: JobId,
}

impl RunningJob {
    /// The running job of `record`; `None` when the record is not running or its ids do not parse
    /// (a hand-edited state): such a phone is then handled as if never submitted.
    pub(crate) fn of(record: &Record) -> Option<RunningJob> {
        if record.status != Status::Running {
            return None;
        }
        Some(RunningJob {
            phone_id: PhoneId::new(record.phone_id.as_str()).ok()?,
            request_id: RequestId::new(record.request_id.as_str()).ok(),
            job_id: JobId::new(record.job_id.as_str()).ok()?,
        })
    }
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
    fn of(outcome: &PhoneOutcome, submit_error: Option<&Error>) -> PhoneResult {
        let status = match outcome.state {
            PhoneState::Succeeded => Status::Success,
            PhoneState::Failed => Status::Failed,
            PhoneState::Running => Status::Running,
            PhoneState::Rejected => Status::Rejected,
            PhoneState::SubmitUnknown => Status::Unknown,
            PhoneState::NotSubmitted => Status::NotSubmitted,
            // The request failed and the service certainly did not act: refused outright (a 4xx
            // answer) is a rejection; anything else (throttled or unavailable past the retries) left
            // the phone unsent.
            PhoneState::SubmitFailed => match submit_error.and_then(Error::status) {
                Some(status) if (400..500).contains(&status) && status != 429 => Status::Rejected,
                _ => Status::NotSubmitted,
            },
        };
        let mut error_msg = outcome.error_msg.clone();
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

    /// The record state keeps: where the outcome has no code of its own, a failure's code is its
    /// status, so that every unsuccessful record says what happened.
    pub(crate) fn to_record(&self) -> Record {
        let text = |s: &Option<String>| s.clone().unwrap_or_default();
        let error_code = match (&self.status, &self.error_code) {
            (Status::Success | Status::Running | Status::NotSubmitted, code) => text(code),
            (_, Some(code)) if !code.is_empty() => code.clone(),
            (status, _) => status.as_str().to_owned(),
        };
        Record {
            phone_id: self.phone_id.as_str().to_owned(),
            request_id: self
                .request_id
                .as_ref()
                .map(|r| r.as_str().to_owned())
                .unwrap_or_default(),
            job_id: self
                .job_id
                .as_ref()
                .map(|j| j.as_str().to_owned())
                .unwrap_or_default(),
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
}

/// What a run did: one result per phone (submitted ones in request order, then resumed ones) and
/// why it ended early, if it did.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RunOutcome {
    pub(crate) results: Vec<PhoneResult>,
    pub(crate) interruption: Option<Interruption>,
}

/// Runs work against the API under one deadline and the provider's stop signal.
pub(crate) struct Runner<'a> {
    client: &'a Client,
    options: WaitOptions,
    timeout: Duration,
}

impl<'a> Runner<'a> {
    /// A runner whose runs end at `timeout` from now, or when `cancel` fires.
    pub(crate) fn new(client: &'a Client, cancel: &CancellationToken, timeout: Duration) -> Self {
        let options = WaitOptions::new()
            .deadline(Instant::now() + timeout)
            .cancel(cancel.clone());
        Runner {
            client,
            options,
            timeout,
        }
    }

    /// Submits `request` (when it names phones) and waits on its jobs together with `resumed`,
    /// until every job finished, the deadline passed or Terraform asked to stop.
    pub(crate) async fn run<R: BatchRequest>(
        &self,
        request: Option<&R>,
        resumed: Vec<RunningJob>,
    ) -> RunOutcome {
        let mut submission = empty_submission(R::OPERATION);
        let mut invalid: Option<Error> = None;
        if let Some(request) = request.filter(|r| !r.is_empty()) {
            match self.client.submit(request, &self.options).await {
                Ok(s) => submission = s,
                Err(error) => {
                    // Refused before anything was sent (the request failed its own checks).
                    submission.phones = request
                        .phone_ids()
                        .into_iter()
                        .map(|phone_id| SubmittedPhone {
                            phone_id: phone_id.clone(),
                            request_id: None,
                            result: SubmitResult::NotSent,
                        })
                        .collect();
                    invalid = Some(error);
                }
            }
        }
        if submission.phones.is_empty() && resumed.is_empty() {
            return RunOutcome::default();
        }
        resume_into(&mut submission, resumed);
        let report = self.client.wait(&submission, &self.options).await;
        let mut outcome = self.outcome(&submission, report);
        if let Some(error) = invalid {
            for r in &mut outcome.results {
                if r.status == Status::NotSubmitted && r.job_id.is_none() {
                    r.error_msg = Some(format!("not sent: {error}"));
                }
            }
            outcome
                .interruption
                .get_or_insert(Interruption::Failed(error.to_string()));
        }
        outcome
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
        let mut submission = empty_submission(operation);
        resume_into(&mut submission, jobs);
        let report = self.client.poll_once(&submission, &self.options).await;
        self.outcome(&submission, report)
    }

    fn outcome(&self, submission: &Submission, report: WaitReport) -> RunOutcome {
        let results = report
            .outcomes
            .iter()
            .zip(&submission.phones)
            .map(|(outcome, submitted)| {
                let error = match &submitted.result {
                    SubmitResult::Failed { error } => Some(error),
                    _ => None,
                };
                PhoneResult::of(outcome, error)
            })
            .collect();
        let interruption = match report.end {
            WaitEnd::Finished => None,
            WaitEnd::DeadlineExceeded => Some(Interruption::Timeout(self.timeout)),
            WaitEnd::Cancelled => Some(Interruption::Cancelled),
            WaitEnd::Failed(e) => Some(Interruption::Failed(e.to_string())),
        };
        RunOutcome {
            results,
            interruption,
        }
    }
}

fn empty_submission(operation: BatchOperation) -> Submission {
    Submission {
        operation,
        phones: Vec::new(),
        request_ids: Vec::new(),
        interrupted: None,
    }
}

/// Adds jobs recorded as running to `submission`, as if just accepted, so one waiter polls them
/// with the new ones (in bulk by request id where the record kept it, else one by one).
fn resume_into(submission: &mut Submission, jobs: Vec<RunningJob>) {
    for job in jobs {
        if let Some(request_id) = &job.request_id {
            if !submission.request_ids.contains(request_id) {
                submission.request_ids.push(request_id.clone());
            }
        }
        submission.phones.push(SubmittedPhone {
            phone_id: job.phone_id,
            request_id: job.request_id,
            result: SubmitResult::Accepted { job_id: job.job_id },
        });
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
        let refused = Error::Api {
            operation: "RestartCloudPhone",
            status: 400,
            code: Some("CPS.0004".into()),
            message: Some("bad".into()),
            request_id: None,
        };
        let throttled = Error::Api {
            operation: "RestartCloudPhone",
            status: 429,
            code: Some("APIG.0308".into()),
            message: Some("slow down".into()),
            request_id: None,
        };
        let cases = [
            (PhoneState::Succeeded, None, Status::Success),
            (PhoneState::Failed, None, Status::Failed),
            (PhoneState::Running, None, Status::Running),
            (PhoneState::Rejected, None, Status::Rejected),
            (PhoneState::SubmitUnknown, None, Status::Unknown),
            (PhoneState::NotSubmitted, None, Status::NotSubmitted),
            (PhoneState::SubmitFailed, Some(&refused), Status::Rejected),
            (
                PhoneState::SubmitFailed,
                Some(&throttled),
                Status::NotSubmitted,
            ),
        ];
        for (state, error, expected) in cases {
            assert_eq!(
                PhoneResult::of(&outcome(state, None), error).status,
                expected,
                "{state:?}"
            );
        }
    }

    #[test]
    fn every_unsuccessful_record_says_what_happened() {
        let rejected = PhoneResult::of(&outcome(PhoneState::Rejected, Some("CPS.0005")), None);
        assert_eq!(rejected.to_record().error_code, "CPS.0005");
        let unknown = PhoneResult::of(&outcome(PhoneState::SubmitUnknown, None), None);
        assert_eq!(unknown.to_record().error_code, "unknown");
        let unsent = PhoneResult::of(&outcome(PhoneState::NotSubmitted, None), None).to_record();
        assert_eq!(unsent.error_code, "");
        assert!(unsent.error_msg.contains("not sent"), "{unsent:?}");
        let ok = PhoneResult::of(&outcome(PhoneState::Succeeded, None), None).to_record();
        assert_eq!((ok.error_code.as_str(), ok.error_msg.as_str()), ("", ""));
    }

    #[test]
    fn resumed_jobs_join_the_submission_with_their_request_ids_once() {
        let job = |phone: &str, request: &str, job: &str| RunningJob {
            phone_id: PhoneId::new(phone).unwrap(),
            request_id: RequestId::new(request).ok(),
            job_id: JobId::new(job).unwrap(),
        };
        let mut submission = empty_submission(BatchOperation::Restart);
        resume_into(
            &mut submission,
            vec![
                job("a", "r1", "j1"),
                job("b", "r1", "j2"),
                job("c", "", "j3"),
            ],
        );
        assert_eq!(submission.phones.len(), 3);
        assert_eq!(submission.request_ids, vec![RequestId::new("r1").unwrap()]);
        assert_eq!(submission.phones[2].request_id, None);
    }

    #[test]
    fn only_running_records_with_readable_ids_are_resumed() {
        let mut record = Record::not_submitted("a", "");
        assert_eq!(RunningJob::of(&record), None);
        record.status = Status::Running;
        assert_eq!(RunningJob::of(&record), None, "no job id");
        record.job_id = "j1".into();
        record.request_id = "r1".into();
        let job = RunningJob::of(&record).unwrap();
        assert_eq!(job.job_id.as_str(), "j1");
        assert_eq!(
            job.request_id.map(|r| r.as_str().to_owned()).as_deref(),
            Some("r1")
        );
    }
}
