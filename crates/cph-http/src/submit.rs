//! Chunked batch submission: a batch request is split into chunks of `batch_size` phones, each
//! chunk POSTed once (retried only when the service certainly did not act), and every phone gets
//! a [`SubmitResult`]. Nothing is ever submitted twice, and nothing known is lost on failure.

use cph_types::{BatchOperation, BatchRequest, BatchResponse, JobId, PhoneId, RequestId};

use crate::client::{Client, Failure};
use crate::control::Control;
use crate::error::Error;
use crate::options::WaitOptions;

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
    /// Set when cancellation, the deadline or the watch on the endpoint stopped the submission
    /// early ([`Error::Cancelled`], [`Error::Timeout`] or [`Error::Unreachable`]).
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
        let watch = self.watch();
        let ctl = self.control(options).watching(&watch);
        Ok(self.submit_in(request, &ctl).await)
    }

    /// [`Client::submit`] of a checked request, under `ctl`.
    pub(crate) async fn submit_in<R: BatchRequest>(
        &self,
        request: &R,
        ctl: &Control<'_>,
    ) -> Submission {
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
            // Written down before it goes out; a log that cannot be written keeps it from going.
            let logged = match ctl.log().map(|log| log.sending(R::OPERATION, &phone_ids)) {
                None => None,
                Some(Ok(logged)) => Some(logged),
                Some(Err(reason)) => {
                    let error = Error::invalid(
                        format!("{} request", R::OPERATION.api_name()),
                        format!(
                            "it could not be written down before sending, so it was not sent: {reason}"
                        ),
                    );
                    submission
                        .phones
                        .extend(phone_ids.into_iter().map(|phone_id| SubmittedPhone {
                            phone_id,
                            request_id: None,
                            result: SubmitResult::Failed {
                                error: error.clone(),
                            },
                        }));
                    submission.interrupted = Some(error);
                    continue;
                }
            };
            let first = submission.phones.len();
            match self.send_batch_in(&chunk, ctl).await {
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
                    let interrupted = matches!(
                        error,
                        Error::Cancelled { .. } | Error::Timeout { .. } | Error::Unreachable(_)
                    );
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
            if let Some(logged) = logged {
                logged.answered(&submission.phones[first..]);
            }
        }
        submission
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::num::NonZeroUsize;
    use std::time::Duration;

    use cph_types::RequestId;

    use crate::fake::*;
    use crate::*;

    #[tokio::test]
    async fn ambiguous_post_failure_is_not_resent_and_marks_the_chunk_unknown() {
        for fault in [
            Fault::Status(500, None),
            Fault::Wire(TransportKind::Timeout),
            Fault::Wire(TransportKind::Other),
        ] {
            let (client, fake, _) = setup(|b| b.batch_size(NonZeroUsize::new(2).unwrap()));
            fake.fault(fault.clone());
            let submission = client
                .submit(&restart(&["a", "b", "c"]), &WaitOptions::new())
                .await
                .unwrap();
            assert_eq!(fake.count(Method::Post, "batch-restart"), 2, "{fault:?}");
            assert!(
                matches!(submission.phones[0].result, SubmitResult::Unknown { .. }),
                "{fault:?}"
            );
            assert!(matches!(
                submission.phones[1].result,
                SubmitResult::Unknown { .. }
            ));
            assert!(matches!(
                submission.phones[2].result,
                SubmitResult::Accepted { .. }
            ));
            let report = client.wait(&submission, &WaitOptions::new()).await;
            let states: Vec<PhoneState> = report.outcomes.iter().map(|o| o.state).collect();
            assert_eq!(
                states,
                [
                    PhoneState::SubmitUnknown,
                    PhoneState::SubmitUnknown,
                    PhoneState::Succeeded
                ]
            );
            assert!(
                report.outcomes[0]
                    .error_msg
                    .as_deref()
                    .unwrap()
                    .contains("RestartCloudPhone")
            );
        }
    }

    #[tokio::test]
    async fn post_is_retried_when_the_service_certainly_did_not_act() {
        let (client, fake, _) = setup(|b| b);
        fake.fault(Fault::Status(429, Some("1")));
        fake.fault(Fault::Status(503, None));
        fake.fault(Fault::Wire(TransportKind::Connect));
        let submission = client
            .submit(&restart(&["a", "b"]), &WaitOptions::new())
            .await
            .unwrap();
        assert_eq!(fake.count(Method::Post, "batch-restart"), 4);
        assert_eq!(
            fake.state.lock().unwrap().batches,
            1,
            "acted on exactly once"
        );
        assert_eq!(submission.accepted().count(), 2);
        assert_eq!(submission.request_ids, [RequestId::new("req001").unwrap()]);
    }

    #[tokio::test]
    async fn post_refused_outright_fails_its_chunk_without_resending() {
        let (client, fake, _) = setup(|b| b.max_retries(1));
        fake.fault(Fault::Status(400, None));
        let submission = client
            .submit(&restart(&["a"]), &WaitOptions::new())
            .await
            .unwrap();
        assert_eq!(fake.requests().len(), 1);
        match &submission.phones[0].result {
            SubmitResult::Failed { error } => assert_eq!(error.status(), Some(400)),
            other => panic!("{other:?}"),
        }
        let (client, fake, _) = setup(|b| b.max_retries(1));
        fake.fault(Fault::Status(429, None));
        fake.fault(Fault::Status(429, None));
        let report = client
            .submit_and_wait(&restart(&["a"]), &WaitOptions::new())
            .await
            .unwrap();
        assert_eq!(fake.requests().len(), 2);
        assert_eq!(report.outcomes[0].state, PhoneState::SubmitFailed);
        assert_eq!(report.outcomes[0].error_code.as_deref(), Some("E.429"));
    }

    #[tokio::test]
    async fn submit_splits_into_chunks_and_keeps_input_order() {
        let (client, fake, _) = setup(|b| b.batch_size(NonZeroUsize::new(2).unwrap()));
        let submission = client
            .submit(&restart(&["a", "rej1", "b", "c", "d"]), &WaitOptions::new())
            .await
            .unwrap();
        assert_eq!(fake.count(Method::Post, "batch-restart"), 3);
        let ids: Vec<&str> = submission
            .phones
            .iter()
            .map(|p| p.phone_id.as_str())
            .collect();
        assert_eq!(ids, ["a", "rej1", "b", "c", "d"]);
        assert_eq!(submission.request_ids.len(), 3);
        assert_eq!(
            submission.phones[2]
                .request_id
                .as_ref()
                .map(RequestId::as_str),
            Some("req002")
        );
        assert!(
            matches!(&submission.phones[1].result, SubmitResult::Rejected { code: Some(c), .. } if c == "CPS.0005")
        );
    }

    #[tokio::test]
    async fn an_answer_without_request_id_or_missing_a_phone_loses_nothing() {
        let (client, fake, _) = setup(|b| b);
        // The service made jobs for "a" only, named no request id and forgot "b".
        fake.fault(Fault::Body(
            r#"{"jobs":[{"phone_id":"a","job_id":"job0000"}]}"#,
        ));
        fake.state.lock().unwrap().jobs.push(FakeJob {
            request_id: "unnamed".into(),
            job_id: "job0000".into(),
            phone_id: "a".into(),
            done_at: Duration::ZERO,
        });
        let submission = client
            .submit(&restart(&["a", "b"]), &WaitOptions::new())
            .await
            .unwrap();
        assert!(submission.request_ids.is_empty());
        assert!(
            matches!(&submission.phones[1].result, SubmitResult::Unknown { error } if error.to_string().contains("phone b"))
        );
        let report = client.wait(&submission, &WaitOptions::new()).await;
        assert_eq!(report.outcomes[0].state, PhoneState::Succeeded);
        assert_eq!(report.outcomes[1].state, PhoneState::SubmitUnknown);
        assert_eq!(
            fake.count(Method::Get, "/jobs/job0000"),
            1,
            "polled by ShowJob"
        );
        assert_eq!(fake.count(Method::Get, "/jobs"), 0, "nothing to list");
    }

    /// A log that records what it was told, in order, and can refuse.
    #[derive(Debug, Default)]
    struct Recording {
        events: std::sync::Mutex<Vec<String>>,
        refuse: bool,
    }

    #[derive(Debug)]
    struct Logged<'a>(&'a Recording);

    impl LoggedRequest for Logged<'static> {
        fn answered(self: Box<Self>, phones: &[SubmittedPhone]) {
            let line = phones
                .iter()
                .map(|p| {
                    let request = p.request_id.as_ref().map_or("-", RequestId::as_str);
                    let job = match &p.result {
                        SubmitResult::Accepted { job_id } => job_id.as_str(),
                        _ => "no job",
                    };
                    format!("{}:{request}:{job}", p.phone_id)
                })
                .collect::<Vec<_>>()
                .join(" ");
            self.0
                .events
                .lock()
                .unwrap()
                .push(format!("answered {line}"));
        }
    }

    impl SubmissionLog for &'static Recording {
        fn sending(
            &self,
            operation: cph_types::BatchOperation,
            phones: &[cph_types::PhoneId],
        ) -> Result<Box<dyn LoggedRequest>, String> {
            if self.refuse {
                return Err("the disk is full".into());
            }
            let ids: Vec<&str> = phones.iter().map(cph_types::PhoneId::as_str).collect();
            self.events.lock().unwrap().push(format!(
                "sending {} {}",
                operation.api_name(),
                ids.join(" ")
            ));
            Ok(Box::new(Logged(self)))
        }
    }

    #[tokio::test]
    async fn each_chunk_is_logged_before_it_goes_out_and_completed_with_its_answer() {
        let (client, fake, _) = setup(|b| b.batch_size(NonZeroUsize::new(2).unwrap()));
        let log: &'static Recording = Box::leak(Box::default());
        let options = WaitOptions::new().log(std::sync::Arc::new(log));
        client
            .submit(&restart(&["a", "rej1", "b"]), &options)
            .await
            .unwrap();
        assert_eq!(fake.count(Method::Post, "batch-restart"), 2);
        let events = log.events.lock().unwrap().clone();
        assert_eq!(events.len(), 4, "{events:?}");
        assert_eq!(events[0], "sending RestartCloudPhone a rej1");
        assert!(
            events[1].starts_with("answered a:req001:") && events[1].contains("rej1:req001:no job"),
            "{events:?}"
        );
        assert_eq!(events[2], "sending RestartCloudPhone b");
        assert!(events[3].starts_with("answered b:req002:"), "{events:?}");
    }

    #[tokio::test]
    async fn a_request_that_cannot_be_logged_is_not_sent() {
        let (client, fake, _) = setup(|b| b);
        let log: &'static Recording = Box::leak(Box::new(Recording {
            refuse: true,
            ..Recording::default()
        }));
        let options = WaitOptions::new().log(std::sync::Arc::new(log));
        let submission = client.submit(&restart(&["a"]), &options).await.unwrap();
        assert_eq!(fake.count(Method::Post, "batch-restart"), 0);
        assert!(
            matches!(&submission.phones[0].result, SubmitResult::Failed { error } if error.to_string().contains("the disk is full")),
            "{submission:?}"
        );
    }
}
