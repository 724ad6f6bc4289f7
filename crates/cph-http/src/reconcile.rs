//! Reconciling the ambiguous half of a batch request: a request that failed without a clear answer
//! (an HTTP 500, a connection dropped after sending, a timeout mid-request) may have been performed
//! by the service. It is never sent again blindly; instead the service is read:
//!
//! 1. When the failed answer carried a request id, ListJobs by that id lists the jobs the request
//!    created: a phone with a job there was acted on, and its job is waited on like any other.
//! 2. Otherwise, for the operations that show in a phone's status (reset, restart and power-on,
//!    stop; see [`BatchOperation::status_path`]), the phone is read: found in the operation's
//!    in-progress status (resetting, restarting, stopping), the request acted, and the phone is
//!    waited on by its status until it shows the operation's success or failure status.
//! 3. Otherwise there is no sign that the service acted ([`Reconciliation::NoSign`]): the caller
//!    decides whether to send the phone again (the provider does, once, in its next apply; the
//!    waiter never does within one call).
//!
//! A service that cannot be read leaves the phone [`Reconciliation::Unreadable`]: nothing is sent.

use std::collections::HashMap;

use cph_types::{
    BatchOperation, JobId, LIST_JOBS_MAX_LIMIT, PhoneId, PhoneStatus, RequestId, StatusPath,
};
use futures_util::StreamExt;

use crate::client::{Client, PhoneFilter};
use crate::control::Control;
use crate::error::Error;
use crate::retry::{FailureClass, classify};
use crate::wait::{RunningJob, WaitOptions};

/// Up to this many phones are read one by one (ShowCloudPhoneDetail); more, and every phone is
/// listed instead (ListCloudPhones, 200 per page).
const READ_ONE_BY_ONE_MAX: usize = 20;

/// How many ShowCloudPhoneDetail calls are in flight at once (each still waits its turn in the
/// client's flow control).
const SHOW_PHONE_CONCURRENCY: usize = 8;

/// The most ListJobs pages read for one request id (a batch request holds one job per phone; 50
/// pages are 5,000 phones, far above any chunk).
const JOB_PAGES_MAX: u32 = 50;

/// The jobs ListJobs lists for one request id, as (phone id, job id).
type JobsOfRequest = Vec<(String, JobId)>;

/// A phone whose batch request failed without a clear answer: the service may have acted on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsurePhone {
    /// The phone.
    pub phone_id: PhoneId,
    /// The id of the request that carried it, when the failed answer named one.
    pub request_id: Option<RequestId>,
}

/// What reading the service says about an [`UnsurePhone`].
#[derive(Debug, Clone, PartialEq)]
pub enum Reconciliation {
    /// ListJobs lists a job of the request for the phone: the service acted; wait on the job.
    Job(RunningJob),
    /// The phone is in the operation's in-progress status: the service acted; wait on the phone's
    /// status (the job's id is not known).
    Acting {
        /// The phone.
        phone_id: PhoneId,
        /// The status it was found in.
        status: PhoneStatus,
    },
    /// Nothing shows that the service acted on the phone: no job under the request's id, and the
    /// phone not in the operation's in-progress status (or the operation does not show in the
    /// status). Sending it again is the only way on; a job that already finished cannot be told
    /// apart from one that never ran.
    NoSign {
        /// The phone.
        phone_id: PhoneId,
        /// What was read, in words.
        why: String,
    },
    /// The service could not be read: nothing is known, nothing should be sent.
    Unreadable {
        /// The phone.
        phone_id: PhoneId,
        /// Why reading failed.
        error: Error,
    },
}

impl Reconciliation {
    /// The phone this is about.
    pub fn phone_id(&self) -> &PhoneId {
        match self {
            Reconciliation::Job(job) => &job.phone_id,
            Reconciliation::Acting { phone_id, .. }
            | Reconciliation::NoSign { phone_id, .. }
            | Reconciliation::Unreadable { phone_id, .. } => phone_id,
        }
    }
}

/// What a phone's status says about an operation acting on it, once it was found acting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StatusVerdict {
    /// Still in the in-progress status.
    Acting,
    /// In the operation's success status.
    Succeeded,
    /// In the operation's failure status, or left the in-progress status for another one.
    Failed,
}

/// Judges a phone found acting by its status now.
pub(crate) fn judge(path: StatusPath, status: PhoneStatus) -> StatusVerdict {
    if status == path.during {
        StatusVerdict::Acting
    } else if status == path.success {
        StatusVerdict::Succeeded
    } else {
        StatusVerdict::Failed
    }
}

/// The words for a status, e.g. `restarting (4)`.
pub(crate) fn status_words(status: PhoneStatus) -> String {
    format!("{} ({})", status.name(), status.code())
}

impl Client {
    /// Reads the service to find out whether ambiguous batch requests of `operation` acted on
    /// `phones` (see the module documentation): one [`Reconciliation`] per phone, in order. Bounded
    /// by the deadline and cancellation of `options`; sends no batch request.
    pub async fn reconcile(
        &self,
        operation: BatchOperation,
        phones: &[UnsurePhone],
        options: &WaitOptions,
    ) -> Vec<Reconciliation> {
        let ctl = Control::new(self.timer(), options.deadline, Some(&options.cancel));
        self.reconcile_in(operation, phones, &ctl, options).await
    }

    pub(crate) async fn reconcile_in(
        &self,
        operation: BatchOperation,
        phones: &[UnsurePhone],
        ctl: &Control<'_>,
        options: &WaitOptions,
    ) -> Vec<Reconciliation> {
        let mut found: HashMap<&str, Reconciliation> = HashMap::new();
        // 1. The jobs of each request whose id is known, one request id at a time (a job does not
        //    say which request created it).
        let mut request_ids: Vec<&RequestId> = Vec::new();
        for phone in phones {
            if let Some(id) = &phone.request_id {
                if !request_ids.contains(&id) {
                    request_ids.push(id);
                }
            }
        }
        let mut listed: HashMap<&RequestId, Result<JobsOfRequest, Error>> = HashMap::new();
        for request_id in request_ids {
            listed.insert(request_id, self.jobs_of(request_id, ctl).await);
        }
        for phone in phones {
            let Some(request_id) = &phone.request_id else {
                continue;
            };
            match listed.get(request_id) {
                Some(Ok(jobs)) => {
                    if let Some((_, job_id)) =
                        jobs.iter().find(|(p, _)| p == phone.phone_id.as_str())
                    {
                        found.insert(
                            phone.phone_id.as_str(),
                            Reconciliation::Job(RunningJob {
                                phone_id: phone.phone_id.clone(),
                                request_id: Some(request_id.clone()),
                                job_id: job_id.clone(),
                            }),
                        );
                    }
                }
                Some(Err(error)) => {
                    found.insert(
                        phone.phone_id.as_str(),
                        Reconciliation::Unreadable {
                            phone_id: phone.phone_id.clone(),
                            error: error.clone(),
                        },
                    );
                }
                None => {}
            }
        }

        // 2. The status of the others, for operations that show in it.
        let rest: Vec<&UnsurePhone> = phones
            .iter()
            .filter(|p| !found.contains_key(p.phone_id.as_str()))
            .collect();
        let job_words = |phone: &UnsurePhone| match &phone.request_id {
            Some(id) => format!("ListJobs lists no job of request {id} for it"),
            None => "the failed answer named no request id to list jobs by".to_owned(),
        };
        match operation.status_path() {
            Some(path) if !rest.is_empty() => {
                let ids: Vec<PhoneId> = rest.iter().map(|p| p.phone_id.clone()).collect();
                match self.read_statuses(&ids, options).await {
                    Ok(statuses) => {
                        for phone in rest {
                            let verdict = match statuses.get(phone.phone_id.as_str()) {
                                Some(Some(status)) if *status == path.during => {
                                    Reconciliation::Acting {
                                        phone_id: phone.phone_id.clone(),
                                        status: *status,
                                    }
                                }
                                Some(Some(status)) => Reconciliation::NoSign {
                                    phone_id: phone.phone_id.clone(),
                                    why: format!(
                                        "{}, and the phone was {}, not {}, when read",
                                        job_words(phone),
                                        status_words(*status),
                                        status_words(path.during)
                                    ),
                                },
                                _ => Reconciliation::NoSign {
                                    phone_id: phone.phone_id.clone(),
                                    why: format!(
                                        "{}, and the service no longer knows the phone",
                                        job_words(phone)
                                    ),
                                },
                            };
                            found.insert(phone.phone_id.as_str(), verdict);
                        }
                    }
                    Err(error) => {
                        for phone in rest {
                            found.insert(
                                phone.phone_id.as_str(),
                                Reconciliation::Unreadable {
                                    phone_id: phone.phone_id.clone(),
                                    error: error.clone(),
                                },
                            );
                        }
                    }
                }
            }
            _ => {
                for phone in rest {
                    found.insert(
                        phone.phone_id.as_str(),
                        Reconciliation::NoSign {
                            phone_id: phone.phone_id.clone(),
                            why: format!(
                                "{}, and {} does not show in a phone's status",
                                job_words(phone),
                                operation.api_name()
                            ),
                        },
                    );
                }
            }
        }
        phones
            .iter()
            .filter_map(|p| found.remove(p.phone_id.as_str()))
            .collect()
    }

    /// Every job ListJobs lists for one request id, as (phone id, job id). A request id the
    /// service refuses (a 4xx other than throttling) has no jobs.
    async fn jobs_of(
        &self,
        request_id: &RequestId,
        ctl: &Control<'_>,
    ) -> Result<JobsOfRequest, Error> {
        let group = [request_id.clone()];
        let mut jobs = Vec::new();
        let mut offset: u32 = 0;
        for _ in 0..JOB_PAGES_MAX {
            let page = match self
                .list_jobs_in(&group, offset, LIST_JOBS_MAX_LIMIT, ctl)
                .await
            {
                Ok(page) => page,
                Err(failure) => {
                    let error = failure.error;
                    let refused_id = matches!(
                        error,
                        Error::Api {
                            status: 400..=499,
                            ..
                        }
                    ) && !matches!(error.status(), Some(401 | 403))
                        && !error.code().is_some_and(cph_types::is_auth_failure)
                        && classify(&error) == FailureClass::Permanent;
                    return if refused_id { Ok(jobs) } else { Err(error) };
                }
            };
            let short = page.jobs.len() < LIST_JOBS_MAX_LIMIT as usize;
            for job in page.jobs {
                if let (Some(phone), Some(id)) = (job.phone_id, job.job_id) {
                    if let Ok(job_id) = JobId::new(&id) {
                        jobs.push((phone, job_id));
                    }
                }
            }
            if short {
                break;
            }
            offset = offset.saturating_add(LIST_JOBS_MAX_LIMIT);
        }
        Ok(jobs)
    }

    /// The status of each phone (`None`: the service does not know it): one by one for a few
    /// phones, else from a listing of every phone.
    pub(crate) async fn read_statuses(
        &self,
        phone_ids: &[PhoneId],
        options: &WaitOptions,
    ) -> Result<HashMap<String, Option<PhoneStatus>>, Error> {
        let mut statuses: HashMap<String, Option<PhoneStatus>> = HashMap::new();
        if phone_ids.len() > READ_ONE_BY_ONE_MAX {
            let listed = self
                .list_phones_within(&PhoneFilter::default(), options)
                .await?;
            let wanted: HashMap<&str, ()> = phone_ids.iter().map(|p| (p.as_str(), ())).collect();
            for phone in listed {
                if let Some(id) = phone.phone_id {
                    if wanted.contains_key(id.as_str()) {
                        statuses.insert(id, phone.status);
                    }
                }
            }
            for id in phone_ids {
                statuses.entry(id.as_str().to_owned()).or_insert(None);
            }
            return Ok(statuses);
        }
        let reads = phone_ids.iter().cloned().map(|id| async move {
            let answer = self.show_phone_within(&id, options).await;
            (id, answer)
        });
        let answers: Vec<(PhoneId, Result<cph_types::PhoneDetail, Error>)> =
            futures_util::stream::iter(reads)
                .buffer_unordered(SHOW_PHONE_CONCURRENCY)
                .collect()
                .await;
        for (id, answer) in answers {
            match answer {
                Ok(detail) => {
                    statuses.insert(id.as_str().to_owned(), detail.summary.status);
                }
                Err(error) if is_not_found(&error) => {
                    statuses.insert(id.as_str().to_owned(), None);
                }
                Err(error) => return Err(error),
            }
        }
        Ok(statuses)
    }
}

/// Whether ShowCloudPhoneDetail's error says the phone does not exist.
fn is_not_found(error: &Error) -> bool {
    matches!(error, Error::Api { status: 404, .. }) || error.code() == Some("CPS.0005")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_phone_found_acting_is_judged_by_the_operations_statuses() {
        let restart = BatchOperation::Restart.status_path().unwrap();
        assert_eq!(
            judge(restart, PhoneStatus::Restarting),
            StatusVerdict::Acting
        );
        assert_eq!(
            judge(restart, PhoneStatus::Running),
            StatusVerdict::Succeeded
        );
        assert_eq!(
            judge(restart, PhoneStatus::RestartFailed),
            StatusVerdict::Failed
        );
        assert_eq!(judge(restart, PhoneStatus::Abnormal), StatusVerdict::Failed);
        let stop = BatchOperation::Stop.status_path().unwrap();
        assert_eq!(judge(stop, PhoneStatus::Stopped), StatusVerdict::Succeeded);
        assert_eq!(judge(stop, PhoneStatus::Running), StatusVerdict::Failed);
        assert!(BatchOperation::UpdateProperty.status_path().is_none());
        assert_eq!(status_words(PhoneStatus::Restarting), "restarting (4)");
    }
}
