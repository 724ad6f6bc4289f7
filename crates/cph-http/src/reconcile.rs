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
//! 3. Otherwise there is no sign that the service acted ([`Reconciliation::NoSign`]). Within the
//!    run whose request failed, the phone is left `SubmitUnknown` and not sent again; a later run
//!    given it in [`crate::Earlier::unsure`] sends it once more.
//!
//! A service that cannot be read leaves the phone [`Reconciliation::Unreadable`]: nothing is sent
//! (a later run reports it [`crate::PhoneState::Held`]).
//!
//! This module reads; the drive loop (`run.rs`) decides what follows from each verdict.

use std::collections::{HashMap, HashSet};

use cph_types::{
    BatchOperation, JobId, LIST_JOBS_MAX_LIMIT, PhoneId, PhoneStatus, RequestId, StatusPath,
};
use futures_util::StreamExt;

use crate::client::{Client, PhoneFilter};
use crate::control::Control;
use crate::earlier::{RunningJob, UnsurePhone};
use crate::error::Error;
use crate::options::WaitOptions;
use crate::paging::{PageFacts, Pager, Step};
use crate::retry::{FailureClass, classify};

/// Up to this many phones are read one by one (ShowCloudPhoneDetail, exact statuses); for more, the
/// phones in the operation's in-progress status are listed instead (ListCloudPhones filtered by that
/// status, 200 per page), which costs a call per 200 phones in progress rather than one per phone.
const READ_ONE_BY_ONE_MAX: usize = 4;

/// How many ShowCloudPhoneDetail calls are in flight at once (each still waits its turn in the
/// client's flow control).
const SHOW_PHONE_CONCURRENCY: usize = 8;

/// The most ListJobs pages read for one request id (a batch request holds one job per phone; 50
/// pages are 5,000 phones, far above any chunk).
const JOB_PAGES_MAX: u32 = 50;

/// The jobs ListJobs lists for one request id, as (phone id, job id).
type JobsOfRequest = Vec<(String, JobId)>;

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
        let watch = self.watch();
        let ctl = self.control(options).watching(&watch);
        self.reconcile_in(operation, phones, &ctl).await
    }

    /// [`Client::reconcile`] under `ctl`.
    pub(crate) async fn reconcile_in(
        &self,
        operation: BatchOperation,
        phones: &[UnsurePhone],
        ctl: &Control<'_>,
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
                match self.read_statuses(&ids, path.during, ctl).await {
                    Ok(statuses) => {
                        for phone in rest {
                            let no_sign = |what: String| Reconciliation::NoSign {
                                phone_id: phone.phone_id.clone(),
                                why: format!("{}, and {what}", job_words(phone)),
                            };
                            let verdict = match statuses.get(phone.phone_id.as_str()) {
                                Some(Seen::Status(status)) if *status == path.during => {
                                    Reconciliation::Acting {
                                        phone_id: phone.phone_id.clone(),
                                        status: *status,
                                    }
                                }
                                Some(Seen::Status(status)) => no_sign(format!(
                                    "the phone was {}, not {}, when read",
                                    status_words(*status),
                                    status_words(path.during)
                                )),
                                Some(Seen::NotIn(during)) => no_sign(format!(
                                    "the phone was not {} when read",
                                    status_words(*during)
                                )),
                                Some(Seen::Gone) | None => {
                                    no_sign("the service no longer knows the phone".to_owned())
                                }
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
        let mut pager = Pager::new("ListJobs", LIST_JOBS_MAX_LIMIT).max_pages(JOB_PAGES_MAX);
        loop {
            let page = match self
                .list_jobs_in(&group, pager.offset(), pager.limit(), ctl)
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
            let step = pager.page(&PageFacts::new(
                &page.jobs_decoding,
                page.jobs.iter().map(|j| j.job_id.as_deref()),
                None,
            ));
            for job in page.jobs {
                if let (Some(phone), Some(id)) = (job.phone_id, job.job_id) {
                    if let Ok(job_id) = JobId::new(&id) {
                        jobs.push((phone, job_id));
                    }
                }
            }
            match step {
                Ok(Step::Done) => break,
                Ok(Step::Fetch { .. }) => {}
                // Jobs that cannot all be read: a phone missing from them is not proof that the
                // request did not act on it.
                Err(error) => return Err(error.into()),
            }
        }
        Ok(jobs)
    }

    /// What the service shows of each phone: for a few phones, each phone's status (one by one);
    /// for more, whether it is among the phones in status `during` (one filtered listing).
    pub(crate) async fn read_statuses(
        &self,
        phone_ids: &[PhoneId],
        during: PhoneStatus,
        ctl: &Control<'_>,
    ) -> Result<HashMap<String, Seen>, Error> {
        if phone_ids.len() <= READ_ONE_BY_ONE_MAX {
            return self.show_statuses(phone_ids, ctl).await;
        }
        let filter = PhoneFilter {
            status: Some(during),
            ..PhoneFilter::default()
        };
        let acting: HashSet<String> = self
            .list_phones_in(&filter, ctl)
            .await?
            .into_iter()
            .filter(|p| p.status == Some(during))
            .filter_map(|p| p.phone_id)
            .collect();
        Ok(phone_ids
            .iter()
            .map(|id| {
                let seen = if acting.contains(id.as_str()) {
                    Seen::Status(during)
                } else {
                    Seen::NotIn(during)
                };
                (id.as_str().to_owned(), seen)
            })
            .collect())
    }

    /// Each phone's status: read one by one for a few phones, else from a listing of every phone.
    pub(crate) async fn exact_statuses(
        &self,
        phone_ids: &[PhoneId],
        ctl: &Control<'_>,
    ) -> Result<HashMap<String, Seen>, Error> {
        if phone_ids.len() <= READ_ONE_BY_ONE_MAX {
            return self.show_statuses(phone_ids, ctl).await;
        }
        let listed: HashMap<String, Option<PhoneStatus>> = self
            .list_phones_in(&PhoneFilter::default(), ctl)
            .await?
            .into_iter()
            .filter_map(|p| Some((p.phone_id?, p.status)))
            .collect();
        Ok(phone_ids
            .iter()
            .map(|id| {
                let seen = match listed.get(id.as_str()) {
                    Some(status) => Seen::Status(status.unwrap_or(PhoneStatus::Unknown(0))),
                    None => Seen::Gone,
                };
                (id.as_str().to_owned(), seen)
            })
            .collect())
    }

    /// Each phone's status, read one by one (ShowCloudPhoneDetail, a few at a time).
    async fn show_statuses(
        &self,
        phone_ids: &[PhoneId],
        ctl: &Control<'_>,
    ) -> Result<HashMap<String, Seen>, Error> {
        let reads = phone_ids.iter().cloned().map(|id| async move {
            let answer = self.show_phone_in(&id, ctl).await;
            (id, answer)
        });
        let answers: Vec<(PhoneId, Result<cph_types::PhoneDetail, Error>)> =
            futures_util::stream::iter(reads)
                .buffer_unordered(SHOW_PHONE_CONCURRENCY)
                .collect()
                .await;
        let mut statuses = HashMap::new();
        for (id, answer) in answers {
            let seen = match answer {
                Ok(detail) => match detail.summary.status {
                    Some(status) => Seen::Status(status),
                    None => Seen::Status(PhoneStatus::Unknown(0)),
                },
                Err(error) if is_not_found(&error) => Seen::Gone,
                Err(error) => return Err(error),
            };
            statuses.insert(id.as_str().to_owned(), seen);
        }
        Ok(statuses)
    }
}

/// What reading a phone showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Seen {
    /// Its status.
    Status(PhoneStatus),
    /// It is not among the phones in this status (its own status was not read).
    NotIn(PhoneStatus),
    /// The service does not know it.
    Gone,
}

/// Whether ShowCloudPhoneDetail's error says the phone does not exist.
fn is_not_found(error: &Error) -> bool {
    matches!(error, Error::Api { status: 404, .. }) || error.code() == Some("CPS.0005")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::fake::*;

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

    #[tokio::test]
    async fn reconcile_tells_a_job_an_acting_phone_and_no_sign_apart_and_an_unreadable_service() {
        let (client, fake, timer) = setup(|b| b);
        // One request the service performed (its jobs listed under req001), one phone acting.
        client
            .submit(&restart(&["a", "b"]), &WaitOptions::new())
            .await
            .unwrap();
        let verdicts = client
            .reconcile(
                BatchOperation::Restart,
                &[
                    unsure("a", Some("req001")),
                    unsure("b", None),
                    unsure("c", None),
                    unsure("d", Some("req999")),
                ],
                &WaitOptions::new(),
            )
            .await;
        assert!(matches!(&verdicts[0], Reconciliation::Job(job) if job.job_id == job_id(0)));
        assert!(matches!(
            &verdicts[1],
            Reconciliation::Acting {
                status: cph_types::PhoneStatus::Restarting,
                ..
            }
        ));
        assert!(
            matches!(&verdicts[2], Reconciliation::NoSign { why, .. } if why.contains("named no request id"))
        );
        assert!(
            matches!(&verdicts[3], Reconciliation::NoSign { why, .. } if why.contains("no job of request req999"))
        );
        // An operation that does not show in the status: only its jobs can tell.
        let verdicts = client
            .reconcile(
                BatchOperation::UpdateProperty,
                &[unsure("c", None)],
                &WaitOptions::new(),
            )
            .await;
        assert!(
            matches!(&verdicts[0], Reconciliation::NoSign { why, .. } if why.contains("does not show in a phone's status"))
        );
        // A service that cannot be read: unreadable, nothing concluded.
        timer.advance(JOB_DURATION);
        for _ in 0..10 {
            fake.fault(Fault::Status(503, None));
        }
        let verdicts = client
            .reconcile(
                BatchOperation::Restart,
                &[unsure("b", None)],
                &WaitOptions::new(),
            )
            .await;
        assert!(
            matches!(&verdicts[0], Reconciliation::Unreadable { .. }),
            "{verdicts:?}"
        );
        assert_eq!(fake.count(Method::Post, "batch-restart"), 1);
    }
}
