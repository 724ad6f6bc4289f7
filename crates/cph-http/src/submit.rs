//! Chunked batch submission: a batch request is split into chunks of `batch_size` phones, each
//! chunk POSTed once (retried only when the service certainly did not act), and every phone gets
//! a [`SubmitResult`]. Nothing is ever submitted twice, and nothing known is lost on failure.

use cph_types::{
    BatchOperation, BatchRequest, BatchResponse, JobId, PhoneId, RequestId, ResetRequest,
    RestartRequest, RestoreRequest, StopRequest, StorageRequest, UpdatePropertyRequest,
};

use crate::client::{Client, Failure};
use crate::control::Control;
use crate::error::Error;
use crate::wait::{Earlier, WaitOptions, WaitReport, check_request};

/// What submitting did for one phone.
#[derive(Debug, Clone, PartialEq)]
pub enum SubmitResult {
    /// The service created a job for the phone.
    Accepted {
        /// The job to wait on.
        job_id: JobId,
    },
    /// The service answered but refused this phone (a final failure).
    Rejected {
        /// The service's error code, e.g. `CPS.0005`.
        code: Option<String>,
        /// The service's message.
        message: Option<String>,
    },
    /// The chunk's request failed and the service certainly did not act on it.
    Failed {
        /// Why the request failed.
        error: Error,
    },
    /// The chunk's request failed in a way that leaves open whether the service acted (HTTP 500,
    /// a timeout mid-request, an unreadable answer). It was not re-sent; check the phone before
    /// trying again.
    Unknown {
        /// What happened.
        error: Error,
    },
    /// The phone's chunk was never sent: the submission was cancelled or ran out of time first.
    NotSent,
}

/// One phone of a submission, in input order.
#[derive(Debug, Clone, PartialEq)]
pub struct SubmittedPhone {
    /// The phone.
    pub phone_id: PhoneId,
    /// The request id of its chunk's answer, when there was one.
    pub request_id: Option<RequestId>,
    /// What happened to it.
    pub result: SubmitResult,
}

/// The result of [`Client::submit`]: one entry per input phone plus every request id.
#[derive(Debug, Clone, PartialEq)]
pub struct Submission {
    /// The batch operation submitted.
    pub operation: BatchOperation,
    /// One entry per phone of the request, in input order.
    pub phones: Vec<SubmittedPhone>,
    /// The request id of every answered chunk, in chunk order.
    pub request_ids: Vec<RequestId>,
    /// Set when cancellation or the deadline stopped the submission early
    /// ([`Error::Cancelled`] or [`Error::Timeout`]).
    pub interrupted: Option<Error>,
}

impl Submission {
    /// The phones that got a job, with their job ids.
    pub fn accepted(&self) -> impl Iterator<Item = (&PhoneId, &JobId)> {
        self.phones.iter().filter_map(|p| match &p.result {
            SubmitResult::Accepted { job_id } => Some((&p.phone_id, job_id)),
            _ => None,
        })
    }
}

impl Client {
    /// Submits `request` in chunks of `batch_size` phones, one chunk after the other. Deadline
    /// and cancellation of `options` stop it between or during chunks (see
    /// [`Submission::interrupted`]); the progress callback is not used here.
    ///
    /// Fails only on invalid input, before anything is sent: an empty request or one whose
    /// [`BatchRequest::check`] fails. Everything that happens after is in the [`Submission`].
    pub async fn submit<R: BatchRequest>(
        &self,
        request: &R,
        options: &WaitOptions,
    ) -> Result<Submission, Error> {
        check_request(request)?;
        let ctl = Control::new(self.timer(), options.deadline, Some(&options.cancel));
        let mut submission = Submission {
            operation: R::OPERATION,
            phones: Vec::with_capacity(request.len()),
            request_ids: Vec::new(),
            interrupted: None,
        };
        for chunk in request.chunks(self.settings().batch_size) {
            let phone_ids: Vec<PhoneId> = chunk.phone_ids().into_iter().cloned().collect();
            if submission.interrupted.is_some() {
                submission
                    .phones
                    .extend(phone_ids.into_iter().map(not_sent));
                continue;
            }
            if let Err(interrupt) = ctl.check() {
                submission.interrupted = Some(ctl.error(interrupt, R::OPERATION.api_name()));
                submission
                    .phones
                    .extend(phone_ids.into_iter().map(not_sent));
                continue;
            }
            match self.send_batch_in(&chunk, &ctl).await {
                Ok(answer) => {
                    let (request_id, phones) = match_answer(R::OPERATION, phone_ids, answer);
                    if let Some(request_id) = request_id {
                        submission.request_ids.push(request_id);
                    }
                    tracing::info!(
                        operation = R::OPERATION.api_name(),
                        phones = phones.len(),
                        "chunk submitted"
                    );
                    submission.phones.extend(phones);
                }
                Err(Failure {
                    error,
                    may_have_acted,
                }) => {
                    let interrupted =
                        matches!(error, Error::Cancelled { .. } | Error::Timeout { .. });
                    tracing::warn!(operation = R::OPERATION.api_name(), %error, may_have_acted, "chunk failed");
                    let result = if may_have_acted {
                        SubmitResult::Unknown {
                            error: error.clone(),
                        }
                    } else if interrupted {
                        SubmitResult::NotSent
                    } else {
                        SubmitResult::Failed {
                            error: error.clone(),
                        }
                    };
                    submission
                        .phones
                        .extend(phone_ids.into_iter().map(|phone_id| SubmittedPhone {
                            phone_id,
                            request_id: None,
                            result: result.clone(),
                        }));
                    if interrupted {
                        submission.interrupted = Some(error);
                    }
                }
            }
        }
        Ok(submission)
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
}

fn not_sent(phone_id: PhoneId) -> SubmittedPhone {
    SubmittedPhone {
        phone_id,
        request_id: None,
        result: SubmitResult::NotSent,
    }
}

/// Pairs each phone of a chunk with its entry in the answer (by phone id, in order, so a phone
/// listed twice pairs with two entries). A phone the answer does not mention gets an
/// [`SubmitResult::Unknown`]: the service may have acted on it.
fn match_answer(
    operation: BatchOperation,
    phone_ids: Vec<PhoneId>,
    answer: BatchResponse,
) -> (Option<RequestId>, Vec<SubmittedPhone>) {
    let operation_name = operation.api_name();
    let request_id = answer
        .request_id
        .as_deref()
        .and_then(|id| RequestId::new(id).ok());
    if request_id.is_none() {
        tracing::warn!(
            operation = operation_name,
            request_id = ?answer.request_id,
            "answer has no usable request id; its jobs will be polled one by one"
        );
    }
    let mut results: Vec<Option<SubmitResult>> = vec![None; phone_ids.len()];
    for entry in answer.jobs {
        let Some(slot) = entry.phone_id.as_deref().and_then(|id| {
            (0..phone_ids.len()).find(|&i| results[i].is_none() && phone_ids[i].as_str() == id)
        }) else {
            tracing::warn!(operation = operation_name, phone_id = ?entry.phone_id, "answer names a phone that was not sent");
            continue;
        };
        let rejected = entry.is_rejected();
        results[slot] = Some(match entry.job_id.as_deref().map(JobId::new) {
            Some(Ok(job_id)) if !rejected => SubmitResult::Accepted { job_id },
            Some(Err(e)) if !rejected => SubmitResult::Unknown {
                error: Error::Decode {
                    operation: operation_name,
                    status: 200,
                    message: e.to_string(),
                },
            },
            _ => SubmitResult::Rejected {
                code: entry.error_code,
                message: entry.error_msg,
            },
        });
    }
    let phones = phone_ids
        .into_iter()
        .zip(results)
        .map(|(phone_id, result)| {
            let result = result.unwrap_or_else(|| SubmitResult::Unknown {
                error: Error::Decode {
                    operation: operation_name,
                    status: 200,
                    message: format!("the answer has no entry for phone {phone_id}"),
                },
            });
            SubmittedPhone {
                phone_id,
                request_id: request_id.clone(),
                result,
            }
        })
        .collect();
    (request_id, phones)
}
