//! Unit tests of the client, submission and waiter against a scripted in-memory CPH service and
//! a manual clock, so retry and polling behaviour is checked in milliseconds.
#![allow(clippy::unwrap_used)]

use std::collections::VecDeque;
use std::num::{NonZeroU32, NonZeroUsize};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cph_types::{BatchOperation, PhoneId, ProjectId, RequestId, RestartPhone, RestartRequest};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::transport::{Method, Transport, WireError, WireFuture, WireRequest, WireResponse};
use crate::*;

const PROJECT: &str = "0123456789abcdef0123456789abcdef";
const JOB_DURATION: Duration = Duration::from_secs(2);

/// A fault to answer instead of serving the next request.
#[derive(Debug, Clone)]
enum Fault {
    Status(u16, Option<&'static str>),
    /// A 200 with this body, without acting.
    Body(&'static str),
    /// A 200 with this JSON body, without acting.
    Json(Value),
    Wire(TransportKind),
    /// Acts on the request, then answers this status with a CPH error body naming the request.
    ActedStatus(u16),
    /// Acts on the request, then gives no answer.
    ActedWire(TransportKind),
}

#[derive(Debug, Clone)]
struct FakeJob {
    request_id: String,
    job_id: String,
    phone_id: String,
    done_at: Duration,
}

#[derive(Debug, Default)]
struct FakeState {
    requests: Vec<WireRequest>,
    faults: VecDeque<Fault>,
    jobs: Vec<FakeJob>,
    batches: u32,
    phones: usize,
    /// ListJobs refuses (400) any call naming this request id.
    refused_request_id: Option<String>,
    /// ListCloudPhones answers every call with the first page, whatever the offset.
    phones_ignore_offset: bool,
    /// ListCloudPhones reports this `count` instead of the number of phones.
    phones_count: Option<i64>,
}

/// An in-memory CPH: phone ids choose their fate by prefix: `rej` rejected at submit, `fail`
/// job fails, `hide` job never listed (ShowJob only), `lost` never listed and ShowJob 404,
/// `odd` status stays at an undocumented code, `gone` unknown to ShowCloudPhoneDetail.
/// Everything else succeeds after [`JOB_DURATION`]. A phone shows `restarting` (4) while its
/// latest job runs, then `running` (2) or `restart failed` (-6).
#[derive(Debug)]
struct Fake {
    timer: Arc<ManualTimer>,
    state: Mutex<FakeState>,
}

impl Fake {
    fn new(timer: Arc<ManualTimer>) -> Arc<Self> {
        Arc::new(Fake {
            timer,
            state: Mutex::new(FakeState::default()),
        })
    }

    fn fault(&self, fault: Fault) {
        self.state.lock().unwrap().faults.push_back(fault);
    }

    fn requests(&self) -> Vec<WireRequest> {
        self.state.lock().unwrap().requests.clone()
    }

    fn count(&self, method: Method, path_end: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.method == method && r.url.path().ends_with(path_end))
            .count()
    }

    fn status_of(&self, job: &FakeJob) -> i64 {
        if job.phone_id.starts_with("odd") {
            7
        } else if self.timer.elapsed() < job.done_at {
            1
        } else if job.phone_id.starts_with("fail") {
            -1
        } else {
            2
        }
    }

    fn job_json(&self, job: &FakeJob) -> Value {
        let status = self.status_of(job);
        json!({
            "job_id": job.job_id, "phone_id": job.phone_id, "status": status,
            "begin_time": "2024-01-02T03:04:05Z",
            "end_time": if status == 1 { "" } else { "2024-01-02T03:04:07Z" },
            "error_code": if status == -1 { "CPS.0010" } else { "" },
            "error_msg": if status == -1 { "restart failed" } else { "" },
        })
    }

    fn serve(&self, request: &WireRequest) -> WireResponse {
        let path = request.url.path().to_owned();
        let query: Vec<(String, String)> = request.url.query_pairs().into_owned().collect();
        let param = |name: &str| {
            query
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let ok = |body: Value| WireResponse {
            status: 200,
            request_id: None,
            retry_after: None,
            body: serde_json::to_vec(&body).unwrap(),
        };
        if request.method == Method::Post {
            let body: RestartRequest = serde_json::from_slice(&request.body).unwrap();
            let mut state = self.state.lock().unwrap();
            state.batches += 1;
            let request_id = format!("req{:03}", state.batches);
            let mut entries = Vec::new();
            for phone in body.phones {
                let phone_id = phone.phone_id.to_string();
                if phone_id.starts_with("rej") {
                    entries.push(json!({"phone_id": phone_id, "error_code": "CPS.0005", "error_msg": "Parameter: Phone not found."}));
                    continue;
                }
                let job_id = format!("job{:04}", state.jobs.len());
                entries.push(json!({"phone_id": phone_id, "job_id": job_id}));
                state.jobs.push(FakeJob {
                    request_id: request_id.clone(),
                    job_id,
                    phone_id,
                    done_at: self.timer.elapsed() + JOB_DURATION,
                });
            }
            return ok(json!({"request_id": request_id, "jobs": entries}));
        }
        let jobs = self.state.lock().unwrap().jobs.clone();
        if path.ends_with("/jobs") {
            let ids = param("request_ids").unwrap_or_default();
            let ids: Vec<&str> = ids.split(',').collect();
            assert!(ids.len() <= 20, "ListJobs with {} request ids", ids.len());
            let refused = self.state.lock().unwrap().refused_request_id.clone();
            if refused.is_some_and(|r| ids.contains(&r.as_str())) {
                return WireResponse {
                    status: 400,
                    request_id: None,
                    retry_after: None,
                    body: br#"{"error_code":"CPS.0004","error_msg":"Parameter: request_ids is invalid."}"#.to_vec(),
                };
            }
            let offset: usize = param("offset").unwrap().parse().unwrap();
            let limit: usize = param("limit").unwrap().parse().unwrap();
            let page: Vec<Value> = jobs
                .iter()
                .filter(|j| ids.contains(&j.request_id.as_str()))
                .filter(|j| !j.phone_id.starts_with("hide") && !j.phone_id.starts_with("lost"))
                .skip(offset)
                .take(limit)
                .map(|j| self.job_json(j))
                .collect();
            return ok(json!({"request_id": "list", "jobs": page}));
        }
        if let Some(job_id) = path.split("/jobs/").nth(1) {
            return match jobs.iter().find(|j| j.job_id == job_id) {
                Some(job) if !job.phone_id.starts_with("lost") => {
                    let mut body = self.job_json(job);
                    body["request_id"] = json!("show");
                    ok(body)
                }
                _ => WireResponse {
                    status: 404,
                    request_id: Some("hdr-req".into()),
                    retry_after: None,
                    body: br#"{"error_code":"CPS.0005","error_msg":"job not found"}"#.to_vec(),
                },
            };
        }
        if let Some(phone_id) = path.split("/phones/").nth(1) {
            if phone_id.starts_with("gone") {
                return WireResponse {
                    status: 404,
                    request_id: None,
                    retry_after: None,
                    body: br#"{"error_code":"CPS.0005","error_msg":"Parameter: Phone not found."}"#
                        .to_vec(),
                };
            }
            let latest = jobs.iter().rev().find(|j| j.phone_id == phone_id);
            let status = match latest.map(|j| self.status_of(j)) {
                Some(1) => 4,
                Some(-1) => -6,
                _ => 2,
            };
            return ok(json!({"request_id": "show", "phone_id": phone_id, "status": status}));
        }
        if path.ends_with("/phones") {
            let (total, ignore_offset, count) = {
                let state = self.state.lock().unwrap();
                (state.phones, state.phones_ignore_offset, state.phones_count)
            };
            let mut offset: usize = param("offset").unwrap().parse().unwrap();
            if ignore_offset {
                offset = 0;
            }
            let limit: usize = param("limit").unwrap().parse().unwrap();
            let phones: Vec<Value> = (offset..total.min(offset + limit))
                .map(|i| json!({"phone_id": format!("p{i}"), "status": 2}))
                .collect();
            let count = count.unwrap_or(i64::try_from(total).unwrap());
            return ok(json!({"request_id": "r", "count": count, "phones": phones}));
        }
        panic!("unexpected request {path}");
    }
}

impl Transport for Fake {
    fn send(&self, request: WireRequest) -> WireFuture<'_> {
        let fault = {
            let mut state = self.state.lock().unwrap();
            state.requests.push(request.clone());
            state.faults.pop_front()
        };
        let answer = match fault {
            Some(Fault::Status(status, retry_after)) => Ok(WireResponse {
                status,
                request_id: None,
                retry_after: retry_after.map(str::to_owned),
                body: format!(r#"{{"request_id":"body-req","error_code":"E.{status}","error_msg":"injected"}}"#).into_bytes(),
            }),
            Some(Fault::Body(body)) => Ok(WireResponse {
                status: 200,
                body: body.as_bytes().to_vec(),
                ..WireResponse::default()
            }),
            Some(Fault::Json(body)) => Ok(WireResponse {
                status: 200,
                body: serde_json::to_vec(&body).unwrap(),
                ..WireResponse::default()
            }),
            Some(Fault::Wire(kind)) => Err(WireError {
                kind,
                message: "injected".into(),
            }),
            Some(Fault::ActedStatus(status)) => {
                let served = self.serve(&request);
                let body: Value = serde_json::from_slice(&served.body).unwrap();
                let request_id = body["request_id"].as_str().unwrap_or_default().to_owned();
                Ok(WireResponse {
                    status,
                    request_id: Some(request_id.clone()),
                    retry_after: None,
                    body: json!({"request_id": request_id, "error_code": "CPS.0003", "error_msg": "internal error"})
                        .to_string()
                        .into_bytes(),
                })
            }
            Some(Fault::ActedWire(kind)) => {
                let _ = self.serve(&request);
                Err(WireError {
                    kind,
                    message: "injected after acting".into(),
                })
            }
            None => Ok(self.serve(&request)),
        };
        Box::pin(std::future::ready(answer))
    }
}

fn setup(
    configure: impl FnOnce(ClientBuilder) -> ClientBuilder,
) -> (Client, Arc<Fake>, Arc<ManualTimer>) {
    let timer = Arc::new(ManualTimer::new());
    let fake = Fake::new(timer.clone());
    let builder = Client::builder(
        Endpoint::url("http://127.0.0.1:9"),
        ProjectId::new(PROJECT).unwrap(),
        Credentials::ak_sk("AKTEST", "sktest"),
    )
    .timer(timer.clone())
    .transport(fake.clone())
    .poll_interval(Duration::from_secs(1));
    (configure(builder).build().unwrap(), fake, timer)
}

fn restart(ids: &[&str]) -> RestartRequest {
    RestartRequest::new(ids.iter().map(|id| RestartPhone {
        phone_id: PhoneId::new(*id).unwrap(),
        property: None,
    }))
}

fn job_id(n: usize) -> cph_types::JobId {
    cph_types::JobId::new(format!("job{n:04}")).unwrap()
}

#[tokio::test]
async fn get_is_retried_on_500_502_504_then_succeeds() {
    let (client, fake, timer) = setup(|b| b);
    client
        .submit(&restart(&["a"]), &WaitOptions::new())
        .await
        .unwrap();
    for status in [500, 502, 504] {
        fake.fault(Fault::Status(status, None));
    }
    let job = client.show_job(&job_id(0)).await.unwrap();
    assert_eq!(job.phone_id.as_deref(), Some("a"));
    assert_eq!(fake.count(Method::Get, "/jobs/job0000"), 4);
    assert_eq!(timer.sleeps().len(), 3);
}

#[tokio::test]
async fn throttled_get_waits_at_least_retry_after() {
    let (client, fake, timer) = setup(|b| b);
    client
        .submit(&restart(&["a"]), &WaitOptions::new())
        .await
        .unwrap();
    fake.fault(Fault::Status(429, Some("7")));
    client.show_job(&job_id(0)).await.unwrap();
    assert_eq!(timer.sleeps(), [Duration::from_secs(7)]);
}

#[tokio::test]
async fn retries_stop_after_max_retries_with_the_last_error() {
    let (client, fake, _) = setup(|b| b.max_retries(2));
    for _ in 0..5 {
        fake.fault(Fault::Status(503, None));
    }
    let err = client.show_job(&job_id(0)).await.unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert_eq!(fake.requests().len(), 3);
}

#[tokio::test]
async fn client_errors_are_not_retried_and_carry_code_and_request_id() {
    let (client, fake, _) = setup(|b| b);
    let err = client.show_job(&job_id(42)).await.unwrap_err();
    assert_eq!(fake.requests().len(), 1);
    assert_eq!(err.code(), Some("CPS.0005"));
    assert_eq!(err.request_id(), Some("hdr-req"), "header wins over body");
    fake.fault(Fault::Status(400, None));
    let err = client.show_job(&job_id(42)).await.unwrap_err();
    assert_eq!(err.request_id(), Some("body-req"), "body is the fallback");
    assert_eq!(fake.requests().len(), 2);
}

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
async fn requests_are_signed_and_carry_the_sorted_query_and_project() {
    let (client, fake, _) = setup(|b| b);
    client
        .list_jobs(
            &[RequestId::new("r2").unwrap(), RequestId::new("r1").unwrap()],
            0,
            100,
        )
        .await
        .unwrap();
    let request = &fake.requests()[0];
    assert_eq!(
        request.url.path(),
        format!("/v1/{PROJECT}/cloud-phone/jobs")
    );
    assert_eq!(
        request.url.query(),
        Some("limit=100&offset=0&request_ids=r2%2Cr1")
    );
    let header = |name: &str| {
        request
            .headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(header("X-Project-Id").as_deref(), Some(PROJECT));
    assert_eq!(header("Content-Type").as_deref(), Some("application/json"));
    assert!(header("X-Sdk-Date").is_some());
    let auth = header("Authorization").unwrap();
    assert!(auth.starts_with("SDK-HMAC-SHA256 Access=AKTEST, SignedHeaders=content-type;host;x-project-id;x-sdk-date, Signature="));
    // The signature the service would recompute from what was sent matches.
    let plain: Vec<(&str, &str)> = request
        .headers
        .iter()
        .filter(|(n, _)| *n != "Authorization")
        .map(|(n, v)| (*n, v.as_str()))
        .collect();
    let expected = sign(
        "GET",
        &request.url,
        &plain,
        b"",
        "AKTEST",
        &Secret::new("sktest"),
    )
    .unwrap();
    assert_eq!(auth, expected.authorization);
}

#[tokio::test]
async fn token_credentials_send_x_auth_token_and_no_signature() {
    let (client, fake, _) = setup(|b| b);
    drop(client);
    let client = Client::builder(
        Endpoint::url("http://localhost:9"),
        ProjectId::new(PROJECT).unwrap(),
        Credentials::token("tok"),
    )
    .transport(fake.clone())
    .build()
    .unwrap();
    client
        .list_jobs(&[RequestId::new("r1").unwrap()], 0, 10)
        .await
        .unwrap();
    let request = &fake.requests()[0];
    let names: Vec<&str> = request.headers.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ["Content-Type", "X-Project-Id", "X-Auth-Token"]);
    // The whole request as Debug shows the header's name, never the token.
    let shown = format!("{request:?}");
    assert!(shown.contains("X-Auth-Token") && shown.contains("<redacted>"));
    assert!(!shown.contains("\"tok\""), "{shown}");
}

#[tokio::test]
async fn list_jobs_and_submit_reject_invalid_input_before_sending() {
    let (client, fake, _) = setup(|b| b);
    let ids: Vec<RequestId> = (0..21)
        .map(|i| RequestId::new(format!("r{i}")).unwrap())
        .collect();
    assert!(matches!(
        client.list_jobs(&ids, 0, 100).await,
        Err(Error::InvalidInput { .. })
    ));
    assert!(matches!(
        client.list_jobs(&ids[..1], 0, 101).await,
        Err(Error::InvalidInput { .. })
    ));
    assert!(matches!(
        client.submit(&restart(&[]), &WaitOptions::new()).await,
        Err(Error::InvalidInput { .. })
    ));
    assert!(fake.requests().is_empty());
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
async fn wait_reports_every_phone_with_its_true_outcome() {
    let (client, fake, _) = setup(|b| b);
    let report = client
        .submit_and_wait(
            &restart(&["a", "fail1", "rej1", "hide1", "b"]),
            &WaitOptions::new(),
        )
        .await
        .unwrap();
    assert_eq!(report.end, WaitEnd::Finished);
    let states: Vec<PhoneState> = report.outcomes.iter().map(|o| o.state).collect();
    assert_eq!(
        states,
        [
            PhoneState::Succeeded,
            PhoneState::Failed,
            PhoneState::Rejected,
            PhoneState::Succeeded,
            PhoneState::Succeeded
        ]
    );
    assert_eq!(report.outcomes[1].error_code.as_deref(), Some("CPS.0010"));
    assert_eq!(report.outcomes[2].error_code.as_deref(), Some("CPS.0005"));
    assert_eq!(report.outcomes[2].job_id, None);
    assert_eq!(
        report.outcomes[0].end_time.as_deref(),
        Some("2024-01-02T03:04:07Z")
    );
    // The hidden job was asked for with ShowJob, and only it.
    assert!(fake.count(Method::Get, "/jobs/job0002") >= 1);
    for listed in ["/jobs/job0000", "/jobs/job0001", "/jobs/job0003"] {
        assert_eq!(fake.count(Method::Get, listed), 0, "{listed}");
    }
}

#[tokio::test]
async fn polling_groups_20_request_ids_per_call_and_pages_by_100() {
    // 250 phones in chunks of 10: 25 request ids -> two ListJobs groups (20 + 5).
    let (client, fake, timer) = setup(|b| {
        b.batch_size(NonZeroUsize::new(10).unwrap())
            .first_poll_delay(Duration::from_secs(3))
    });
    let names: Vec<String> = (0..250).map(|i| format!("p{i}")).collect();
    let ids: Vec<&str> = names.iter().map(String::as_str).collect();
    let submission = client
        .submit(&restart(&ids), &WaitOptions::new())
        .await
        .unwrap();
    let submits = fake.requests().len();
    timer.advance(Duration::ZERO);
    let report = client.wait(&submission, &WaitOptions::new()).await;
    assert!(report.all_succeeded());
    assert_eq!(report.rounds, 1);
    // Group 1: 200 jobs -> 2 full pages, all seen, stop. Group 2: 50 jobs -> 1 short page.
    assert_eq!(fake.requests().len() - submits, 3);
    let first = &fake.requests()[submits];
    let listed = first
        .url
        .query_pairs()
        .find(|(k, _)| k == "request_ids")
        .unwrap()
        .1
        .split(',')
        .count();
    assert_eq!(listed, 20);
}

#[tokio::test]
async fn finished_request_ids_are_not_polled_again() {
    let (client, fake, timer) = setup(|b| {
        b.batch_size(NonZeroUsize::new(1).unwrap())
            .first_poll_delay(Duration::from_secs(1))
    });
    let submission = client
        .submit(&restart(&["a", "odd1"]), &WaitOptions::new())
        .await
        .unwrap();
    let deadline = timer.now() + Duration::from_secs(6);
    let report = client
        .wait(&submission, &WaitOptions::new().deadline(deadline))
        .await;
    assert_eq!(report.end, WaitEnd::DeadlineExceeded);
    assert_eq!(report.outcomes[0].state, PhoneState::Succeeded);
    // An undocumented status is never success.
    assert_eq!(report.outcomes[1].state, PhoneState::Running);
    assert_eq!(
        report.outcomes[1].last_status,
        Some(cph_types::JobStatus::Unknown(7))
    );
    assert_eq!(report.outcomes[1].job_id, Some(job_id(1)));
    let lists: Vec<String> = fake
        .requests()
        .iter()
        .filter(|r| r.url.path().ends_with("/jobs"))
        .map(|r| {
            r.url
                .query_pairs()
                .find(|(k, _)| k == "request_ids")
                .unwrap()
                .1
                .into_owned()
        })
        .collect();
    assert!(lists.len() >= 3);
    assert_eq!(lists[0], "req001,req002");
    assert!(
        lists
            .iter()
            .skip_while(|l| l.contains("req001"))
            .all(|l| l == "req002")
    );
    assert_eq!(lists.last().map(String::as_str), Some("req002"));
}

#[tokio::test]
async fn a_job_show_job_cannot_find_is_lost_after_three_misses_never_a_success() {
    let (client, fake, _) = setup(|b| b);
    let report = client
        .submit_and_wait(&restart(&["a", "lost1"]), &WaitOptions::new())
        .await
        .unwrap();
    assert_eq!(report.end, WaitEnd::Finished);
    assert_eq!(report.outcomes[0].state, PhoneState::Succeeded);
    assert_eq!(report.outcomes[1].state, PhoneState::Lost);
    assert!(!PhoneState::Lost.is_failure() && PhoneState::Lost.is_final());
    assert_eq!(report.outcomes[1].error_code.as_deref(), Some("CPS.0005"));
    let message = report.outcomes[1].error_msg.as_deref().unwrap_or_default();
    assert!(
        message.starts_with("job job0001 of phone lost1 is no longer known to the service")
            && message.contains("refused it 3 times in a row")
            && message.contains("whether the phone was acted on is unknown")
            && message.contains("ShowJob failed with http 404 CPS.0005"),
        "{message}"
    );
    assert_eq!(fake.count(Method::Get, "/jobs/job0001"), 3);

    // A refresh (one polling round) of a recorded job the service no longer knows says so at once.
    let submission = Submission {
        operation: BatchOperation::Restart,
        phones: vec![SubmittedPhone {
            phone_id: PhoneId::new("lost1").unwrap(),
            request_id: Some(RequestId::new("req001").unwrap()),
            result: SubmitResult::Accepted { job_id: job_id(1) },
        }],
        request_ids: vec![RequestId::new("req001").unwrap()],
        interrupted: None,
    };
    let report = client.poll_once(&submission, &WaitOptions::new()).await;
    assert_eq!(report.outcomes[0].state, PhoneState::Lost);
    assert!(
        report.outcomes[0]
            .error_msg
            .as_deref()
            .unwrap()
            .contains("refused it once")
    );
}

#[tokio::test]
async fn an_ambiguous_failure_after_acting_is_reconciled_by_its_jobs_or_the_phones_status_never_resent()
 {
    // Acted, then a 500 naming the request: ListJobs by that id finds the jobs; waited on as usual.
    let (client, fake, _) = setup(|b| b.batch_size(NonZeroUsize::new(2).unwrap()));
    fake.fault(Fault::ActedStatus(500));
    let report = client
        .submit_and_wait(&restart(&["a", "fail1", "c"]), &WaitOptions::new())
        .await
        .unwrap();
    let states: Vec<PhoneState> = report.outcomes.iter().map(|o| o.state).collect();
    assert_eq!(
        states,
        [
            PhoneState::Succeeded,
            PhoneState::Failed,
            PhoneState::Succeeded
        ]
    );
    assert_eq!(report.outcomes[0].job_id, Some(job_id(0)));
    assert_eq!(
        report.outcomes[0].request_id,
        Some(RequestId::new("req001").unwrap())
    );
    assert_eq!(report.outcomes[1].error_code.as_deref(), Some("CPS.0010"));
    assert_eq!(
        fake.count(Method::Post, "batch-restart"),
        2,
        "never re-sent"
    );
    assert!(
        report
            .request_ids
            .contains(&RequestId::new("req001").unwrap())
    );

    // Acted, then no answer: no request id, so the phones are read: restarting, hence acted on,
    // and waited on by their status until they settle.
    let (client, fake, _) = setup(|b| b.batch_size(NonZeroUsize::new(2).unwrap()));
    fake.fault(Fault::ActedWire(TransportKind::Other));
    let report = client
        .submit_and_wait(&restart(&["a", "fail1", "c"]), &WaitOptions::new())
        .await
        .unwrap();
    let states: Vec<PhoneState> = report.outcomes.iter().map(|o| o.state).collect();
    assert_eq!(
        states,
        [
            PhoneState::Succeeded,
            PhoneState::Failed,
            PhoneState::Succeeded
        ]
    );
    assert_eq!(report.outcomes[0].job_id, None, "its job was never known");
    let failed = report.outcomes[1].error_msg.as_deref().unwrap();
    assert!(
        failed.contains("went from restarting (4) to restart_failed (-6)"),
        "{failed}"
    );
    assert_eq!(
        fake.count(Method::Post, "batch-restart"),
        2,
        "never re-sent"
    );
    assert!(fake.count(Method::Get, "/phones/a") >= 2);

    // No answer and nothing acted: the phones are running, not restarting: unknown, with the words.
    let (client, fake, _) = setup(|b| b);
    fake.fault(Fault::Wire(TransportKind::Other));
    let report = client
        .submit_and_wait(&restart(&["a", "gone1"]), &WaitOptions::new())
        .await
        .unwrap();
    assert_eq!(report.outcomes[0].state, PhoneState::SubmitUnknown);
    let message = report.outcomes[0].error_msg.as_deref().unwrap();
    assert!(
        message.contains("the service may have acted, but nothing shows it")
            && message.contains("the phone was running (2), not restarting (4), when read"),
        "{message}"
    );
    assert!(
        report.outcomes[1]
            .error_msg
            .as_deref()
            .unwrap()
            .contains("the service no longer knows the phone")
    );
    assert_eq!(fake.count(Method::Post, "batch-restart"), 1);
}

#[tokio::test]
async fn reconcile_tells_a_job_an_acting_phone_and_no_sign_apart_and_an_unreadable_service() {
    let (client, fake, timer) = setup(|b| b);
    // One request the service performed (its jobs listed under req001), one phone acting.
    client
        .submit(&restart(&["a", "b"]), &WaitOptions::new())
        .await
        .unwrap();
    let unsure = |id: &str, request: Option<&str>| UnsurePhone {
        phone_id: PhoneId::new(id).unwrap(),
        request_id: request.map(|r| RequestId::new(r).unwrap()),
    };
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

#[tokio::test]
async fn polling_survives_transient_errors_and_never_invents_success() {
    let (client, fake, _) = setup(|b| b.max_retries(1));
    let submission = client
        .submit(&restart(&["a", "fail1"]), &WaitOptions::new())
        .await
        .unwrap();
    for _ in 0..6 {
        fake.fault(Fault::Status(502, None));
    }
    let report = client.wait(&submission, &WaitOptions::new()).await;
    assert_eq!(report.end, WaitEnd::Finished);
    assert_eq!(report.outcomes[0].state, PhoneState::Succeeded);
    assert_eq!(report.outcomes[1].state, PhoneState::Failed);
    assert!(report.rounds >= 3);
}

#[tokio::test]
async fn auth_failure_while_polling_ends_the_wait_keeping_job_ids() {
    let (client, fake, _) = setup(|b| b);
    let submission = client
        .submit(&restart(&["a"]), &WaitOptions::new())
        .await
        .unwrap();
    fake.fault(Fault::Status(401, None));
    let report = client.wait(&submission, &WaitOptions::new()).await;
    assert!(matches!(&report.end, WaitEnd::Failed(e) if e.status() == Some(401)));
    assert_eq!(report.outcomes[0].job_id, Some(job_id(0)));
    assert_eq!(report.outcomes[0].state, PhoneState::Running);
}

#[tokio::test]
async fn cancellation_mid_wait_returns_every_known_job_id() {
    let (client, _, _) = setup(|b| b);
    let token = CancellationToken::new();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (progress_seen, canceller) = (seen.clone(), token.clone());
    let options = WaitOptions::new().cancel(token).on_progress(move |p| {
        progress_seen.lock().unwrap().push(p);
        canceller.cancel();
    });
    let report = client
        .submit_and_wait(&restart(&["a", "b", "rej1"]), &options)
        .await
        .unwrap();
    assert_eq!(report.end, WaitEnd::Cancelled);
    assert_eq!(report.rounds, 1);
    assert_eq!(
        seen.lock().unwrap()[0],
        Progress {
            round: 1,
            finished: 1,
            succeeded: 0,
            failed: 1,
            in_flight: 2,
            waiting: 0,
            total: 3
        }
    );
    assert_eq!(report.outcomes[0].job_id, Some(job_id(0)));
    assert_eq!(report.outcomes[1].job_id, Some(job_id(1)));
    assert_eq!(report.request_ids.len(), 1);
}

#[tokio::test]
async fn cancelled_before_submitting_sends_nothing() {
    let (client, fake, _) = setup(|b| b);
    let token = CancellationToken::new();
    token.cancel();
    let options = WaitOptions::new().cancel(token);
    let report = client
        .submit_and_wait(&restart(&["a", "b"]), &options)
        .await
        .unwrap();
    assert!(fake.requests().is_empty());
    assert_eq!(report.end, WaitEnd::Cancelled);
    assert_eq!(report.count(PhoneState::NotSubmitted), 2);
}

#[tokio::test]
async fn deadline_during_submission_leaves_later_chunks_unsent() {
    let (client, fake, timer) = setup(|b| b.batch_size(NonZeroUsize::new(1).unwrap()));
    // The first chunk is throttled for longer than the deadline allows.
    fake.fault(Fault::Status(429, Some("60")));
    let options = WaitOptions::new().deadline(timer.now() + Duration::from_secs(30));
    let report = client
        .submit_and_wait(&restart(&["a", "b"]), &options)
        .await
        .unwrap();
    assert_eq!(fake.requests().len(), 1);
    assert_eq!(report.end, WaitEnd::DeadlineExceeded);
    assert_eq!(report.count(PhoneState::NotSubmitted), 2);
}

/// When each polling round came, in microseconds from the start of the manual clock (every sleep
/// of these tests is a polling delay: no fault, no retry).
fn poll_instants(timer: &ManualTimer) -> Vec<u128> {
    timer
        .sleeps()
        .iter()
        .scan(Duration::ZERO, |at, sleep| {
            *at += *sleep;
            Some(at.as_micros())
        })
        .collect()
}

/// Options that cancel the wait once `rounds` polling rounds are done. The manual clock records
/// the delay the waiter then asks for too (its sleep advances at once; the wait stops without
/// polling again), so `rounds + 1` sleeps: the last is when the next round would have come.
fn cancel_after(rounds: u32) -> WaitOptions {
    let token = CancellationToken::new();
    let cancel = token.clone();
    WaitOptions::new().cancel(token).on_progress(move |p| {
        if p.round >= rounds {
            cancel.cancel();
        }
    })
}

#[tokio::test]
async fn a_short_job_is_seen_finished_within_a_second_of_its_end() {
    // The default poll interval of 5 s: a fixed interval saw the 2 s job at 1 + 5 = 6 s.
    for fraction in [0.0, 0.5, 0.999_999] {
        let (client, fake, timer) = setup(|b| b.poll_interval(Duration::from_secs(5)));
        timer.set_fraction(fraction);
        let report = client
            .restart(&restart(&["a"]), &WaitOptions::new())
            .await
            .unwrap();
        assert!(report.all_succeeded(), "{report:?}");
        let lag = timer.elapsed() - JOB_DURATION;
        assert!(
            lag <= Duration::from_secs(1),
            "jitter {fraction}: seen {lag:?} after the job's end, polls at {:?} us",
            poll_instants(&timer)
        );
        assert_eq!(report.rounds, 3, "jitter {fraction}");
        assert_eq!(fake.count(Method::Get, "/jobs"), 3);
    }
    // Without jitter: 1 s after submitting, then half the time elapsed since.
    let (client, _, timer) = setup(|b| b.poll_interval(Duration::from_secs(5)));
    client
        .restart(&restart(&["a"]), &WaitOptions::new())
        .await
        .unwrap();
    assert_eq!(poll_instants(&timer), [1_000_000, 1_500_000, 2_250_000]);
}

#[tokio::test]
async fn polls_back_off_to_the_poll_interval() {
    // A job that never finishes ("odd": an undocumented status), polled for 12 rounds.
    let (client, fake, timer) = setup(|b| b.poll_interval(Duration::from_secs(5)));
    let report = client
        .restart(&restart(&["odd1"]), &cancel_after(12))
        .await
        .unwrap();
    assert_eq!(report.end, WaitEnd::Cancelled);
    assert_eq!(report.rounds, 12);
    assert_eq!(fake.count(Method::Get, "/jobs"), 12);
    // Each delay is half the time since submitting, from 0.5 s up to the 5 s interval.
    assert_eq!(
        poll_instants(&timer),
        [
            1_000_000, 1_500_000, 2_250_000, 3_375_000, 5_062_500, 7_593_750, 11_390_625,
            16_390_625, 21_390_625, 26_390_625, 31_390_625, 36_390_625, 41_390_625
        ]
    );
    let sleeps = timer.sleeps();
    // After the first poll (1 s), the delays never shrink.
    assert!(sleeps[1..].windows(2).all(|w| w[0] <= w[1]), "{sleeps:?}");
    assert_eq!(sleeps.last(), Some(&Duration::from_secs(5)));
    // An interval shorter than the back-off is the ceiling from the first round on.
    let (client, _, timer) = setup(|b| {
        b.poll_interval(Duration::from_millis(300))
            .first_poll_delay(Duration::from_secs(1))
    });
    client
        .restart(&restart(&["odd1"]), &cancel_after(4))
        .await
        .unwrap();
    assert_eq!(
        timer.sleeps(),
        [
            Duration::from_secs(1),
            Duration::from_millis(300),
            Duration::from_millis(300),
            Duration::from_millis(300),
            Duration::from_millis(300)
        ]
    );
}

#[tokio::test]
async fn poll_delays_stay_within_the_jitter_bounds() {
    let interval = Duration::from_secs(5);
    for fraction in [0.0, 0.25, 0.5, 0.75, 0.999_999] {
        let (client, _, timer) = setup(|b| b.poll_interval(interval));
        timer.set_fraction(fraction);
        client
            .restart(&restart(&["odd1"]), &cancel_after(15))
            .await
            .unwrap();
        let sleeps = timer.sleeps();
        assert_eq!(sleeps.len(), 16);
        // The first poll is not jittered; each later delay is 0.9 to 1.1 times half the time
        // since submitting (at least 0.5 s for the one call a round makes, at most the interval).
        assert_eq!(sleeps[0], Duration::from_secs(1));
        let mut at = sleeps[0];
        for &sleep in &sleeps[1..] {
            let base = (at / 2).clamp(Duration::from_millis(500), interval);
            let ratio = sleep.as_secs_f64() / base.as_secs_f64();
            assert!(
                (0.9 - 1e-9..=1.1 + 1e-9).contains(&ratio),
                "jitter {fraction}: {sleep:?} after {at:?} is {ratio} times {base:?}"
            );
            assert!(
                (ratio - (0.9 + 0.2 * fraction)).abs() < 1e-6,
                "jitter {fraction}: {ratio}"
            );
            at += sleep;
        }
        // Backed off to the interval, jittered around it, never past 1.1 times it.
        let last = *sleeps.last().unwrap();
        assert!(
            last >= interval.mul_f64(0.9) && last <= interval.mul_f64(1.1),
            "jitter {fraction}: {last:?}"
        );
    }
}

#[tokio::test]
async fn a_new_rollout_window_restarts_the_fast_polling() {
    // Two phones in flight at most: "odd1" never finishes, "a" does at 2 s, then "b" goes out.
    let (client, fake, timer) = setup(|b| b.poll_interval(Duration::from_secs(5)));
    let options = cancel_after(8).rollout(Rollout {
        max_in_flight: NonZeroUsize::new(2),
        max_failures: None,
    });
    let report = client
        .run_batch(
            Some(&restart(&["odd1", "a", "b"])),
            Earlier::default(),
            &options,
        )
        .await
        .unwrap();
    assert_eq!(report.end, WaitEnd::Cancelled);
    assert_eq!(window_sizes(&fake), [2, 1]);
    let states: Vec<PhoneState> = report.outcomes.iter().map(|o| o.state).collect();
    assert_eq!(
        states,
        [
            PhoneState::Running,
            PhoneState::Succeeded,
            PhoneState::Succeeded
        ]
    );
    // "b" was submitted at 2.25 s, when "a" was seen finished: 1 s later the first poll, then
    // half the time since that submission again (not since the first), so "b", done at 4.25 s, is
    // seen at 4.5 s; "odd1" alone is then polled less and less often.
    assert_eq!(
        poll_instants(&timer),
        [
            1_000_000, 1_500_000, 2_250_000, 3_250_000, 3_750_000, 4_500_000, 5_625_000, 7_312_500,
            9_843_750
        ]
    );
}

#[tokio::test]
async fn many_jobs_are_polled_no_faster_than_half_a_second_per_call() {
    // 1,000 phones in 10 requests: a round lists 10 pages of 100 jobs, so it waits 10 x 0.5 s,
    // capped at the 5 s interval: rounds at 1 s and 6 s, as with a fixed interval.
    let phones = names("p", 1000);
    let ids: Vec<&str> = phones.iter().map(String::as_str).collect();
    let (client, fake, timer) = setup(|b| b.poll_interval(Duration::from_secs(5)));
    let report = client
        .restart(&restart(&ids), &WaitOptions::new())
        .await
        .unwrap();
    assert!(report.all_succeeded());
    assert_eq!(report.rounds, 2);
    assert_eq!(poll_instants(&timer), [1_000_000, 6_000_000]);
    assert_eq!(fake.count(Method::Get, "/jobs"), 20);
    // 150 phones, two pages a round: at least 1 s between rounds.
    let phones = names("p", 150);
    let ids: Vec<&str> = phones.iter().map(String::as_str).collect();
    let (client, fake, timer) = setup(|b| b.poll_interval(Duration::from_secs(5)));
    let report = client
        .restart(&restart(&ids), &cancel_after(3))
        .await
        .unwrap();
    assert!(report.all_succeeded());
    assert_eq!(poll_instants(&timer), [1_000_000, 2_000_000]);
    assert_eq!(fake.count(Method::Get, "/jobs"), 4);
}

#[tokio::test]
async fn list_phones_reads_every_page() {
    let (client, fake, _) = setup(|b| b);
    fake.state.lock().unwrap().phones = 450;
    let phones = client.list_phones(&PhoneFilter::default()).await.unwrap();
    assert_eq!(phones.len(), 450);
    let ids: Vec<String> = phones.iter().map(|p| p.phone_id.clone().unwrap()).collect();
    assert_eq!(ids, names("p", 450), "every phone once, in order");
    let queries: Vec<String> = fake
        .requests()
        .iter()
        .map(|r| r.url.query().unwrap().to_owned())
        .collect();
    assert_eq!(
        queries,
        [
            "limit=200&offset=0",
            "limit=200&offset=200",
            "limit=200&offset=400"
        ]
    );
}

/// The body of a full ListCloudPhones page (200 phones from `first`) whose element `bad` is not a
/// phone, with `count`.
fn phones_page_with_garbage(first: usize, bad: usize, count: usize) -> Value {
    let mut phones: Vec<Value> = (first..first + 200)
        .map(|i| json!({"phone_id": format!("p{i}"), "status": 2}))
        .collect();
    phones[bad] = json!("not a phone");
    json!({"request_id": "r", "count": count, "phones": phones})
}

#[tokio::test]
async fn list_phones_fails_on_an_undecodable_phone_instead_of_returning_a_truncated_list() {
    // 450 phones; the first page has one element that is not a phone. Counting decoded phones
    // only, the page looked short (199) and the listing ended with 199 of 450 phones.
    let (client, fake, _) = setup(|b| b);
    fake.state.lock().unwrap().phones = 450;
    fake.fault(Fault::Json(phones_page_with_garbage(0, 17, 450)));
    let err = client
        .list_phones(&PhoneFilter::default())
        .await
        .unwrap_err();
    assert_eq!(fake.requests().len(), 1, "a decoding error is not retried");
    let Error::Decode {
        operation,
        status,
        message,
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!((*operation, *status), ("ListCloudPhones", 200));
    assert_eq!(
        message,
        "page at offset 0: 1 of the page's 200 elements could not be decoded (the first: element \
         17: invalid type: string \"not a phone\", expected struct PhoneSummary)"
    );
    // On a later page too: the error names that page's offset (page 1 scripted as served).
    let (client, fake, _) = setup(|b| b);
    fake.state.lock().unwrap().phones = 450;
    let page_one = json!({"request_id": "r", "count": 450, "phones": (0..200)
        .map(|i| json!({"phone_id": format!("p{i}")})).collect::<Vec<_>>()});
    fake.fault(Fault::Json(page_one));
    fake.fault(Fault::Json(phones_page_with_garbage(200, 199, 450)));
    let err = client
        .list_phones(&PhoneFilter::default())
        .await
        .unwrap_err();
    assert_eq!(fake.requests().len(), 2);
    assert!(
        err.to_string().starts_with(
            "ListCloudPhones answered http 200 with an unreadable body: page at offset 200: 1 of"
        ),
        "{err}"
    );
    assert!(err.to_string().contains("element 199"), "{err}");
}

#[tokio::test]
async fn list_phones_stops_with_an_error_when_the_service_ignores_the_offset() {
    let (client, fake, _) = setup(|b| b);
    {
        let mut state = fake.state.lock().unwrap();
        state.phones = 450;
        state.phones_ignore_offset = true;
    }
    let err = client
        .list_phones(&PhoneFilter::default())
        .await
        .unwrap_err();
    assert_eq!(fake.requests().len(), 2, "page 1, then its repeat: no spin");
    assert_eq!(
        err,
        Error::Paging {
            operation: "ListCloudPhones",
            offset: 200,
            message: "the page repeats 200 element(s) already listed, the first \"p0\": the \
                      service ignored the offset, or the listing changed while it was paged"
                .to_owned(),
        }
    );
    assert_eq!(err.status(), None);
}

#[tokio::test]
async fn list_phones_fails_when_the_pages_end_below_the_reported_count() {
    // Decided: a count the pages never reach is an error, not a clean end. The count and the
    // short page come in the same answer, so they contradict each other: the service dropped
    // phones (or caps pages below the limit asked), and a list cut short must not pass as whole.
    let (client, fake, _) = setup(|b| b);
    {
        let mut state = fake.state.lock().unwrap();
        state.phones = 450;
        state.phones_count = Some(500);
    }
    let err = client
        .list_phones(&PhoneFilter::default())
        .await
        .unwrap_err();
    assert_eq!(fake.requests().len(), 3);
    assert_eq!(
        err.to_string(),
        "ListCloudPhones paging stopped at offset 400: the listing ended after 450 elements (a \
         page of 50, below the limit of 200) although the service counts 500"
    );
    // The pages end exactly at a page boundary: the empty page is no progress.
    let (client, fake, _) = setup(|b| b);
    {
        let mut state = fake.state.lock().unwrap();
        state.phones = 400;
        state.phones_count = Some(500);
    }
    let err = client
        .list_phones(&PhoneFilter::default())
        .await
        .unwrap_err();
    assert_eq!(fake.requests().len(), 3);
    assert!(
        matches!(&err, Error::Paging { offset: 400, message, .. } if message.contains("makes no progress")),
        "{err}"
    );
}

#[tokio::test]
async fn list_phones_is_not_cut_short_by_a_stale_smaller_count() {
    let (client, fake, _) = setup(|b| b);
    {
        let mut state = fake.state.lock().unwrap();
        state.phones = 450;
        state.phones_count = Some(100);
    }
    let phones = client.list_phones(&PhoneFilter::default()).await.unwrap();
    assert_eq!(phones.len(), 450);
    assert_eq!(fake.requests().len(), 3);
    // A count reached exactly by a full page ends the listing without an empty page.
    let (client, fake, _) = setup(|b| b);
    fake.state.lock().unwrap().phones = 400;
    assert_eq!(
        client
            .list_phones(&PhoneFilter::default())
            .await
            .unwrap()
            .len(),
        400
    );
    assert_eq!(fake.requests().len(), 2);
}

#[test]
fn endpoints_resolve_and_insecure_http_needs_the_danger_door() {
    let build = |endpoint: Endpoint, danger: bool| {
        let mut b = Client::builder(
            endpoint,
            ProjectId::new(PROJECT).unwrap(),
            Credentials::token("t"),
        );
        if danger {
            b = b.danger_allow_insecure_http();
        }
        b.build().map(|c| c.endpoint().to_string())
    };
    assert_eq!(
        build(Endpoint::region("cn-north-4"), false).unwrap(),
        "https://cph.cn-north-4.myhuaweicloud.com/"
    );
    assert!(build(Endpoint::region("cn north"), false).is_err());
    assert!(build(Endpoint::url("http://127.0.0.1:8080"), false).is_ok());
    assert!(build(Endpoint::url("http://[::1]:8080"), false).is_ok());
    assert!(build(Endpoint::url("http://localhost:8080"), false).is_ok());
    let err = build(Endpoint::url("http://cph.example.com"), false).unwrap_err();
    assert!(
        err.to_string().contains("\"http://cph.example.com\""),
        "{err}"
    );
    // Words about the setting, no name of a Rust method.
    let err = build(Endpoint::url("http://10.1.2.3:8080"), false)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("must use https")
            && err.contains("plain http is accepted only for 127.0.0.1, ::1 and localhost"),
        "{err}"
    );
    assert!(!err.contains("danger") && !err.contains('_'), "{err}");
    assert!(build(Endpoint::url("http://cph.example.com"), true).is_ok());
    assert!(build(Endpoint::url("ftp://x"), true).is_err());
    assert!(build(Endpoint::url("https://x/?a=b"), false).is_err());
    let missing = Client::builder(
        Endpoint::region("cn-north-4"),
        ProjectId::new(PROJECT).unwrap(),
        Credentials::ak_sk("ak", ""),
    )
    .build()
    .unwrap_err();
    assert!(missing.to_string().contains("secret_key"));
}

#[test]
fn defaults_match_the_design() {
    let client = Client::builder(
        Endpoint::region("cn-north-4"),
        ProjectId::new(PROJECT).unwrap(),
        Credentials::token("t"),
    )
    .build()
    .unwrap();
    let s = client.settings();
    assert_eq!(s.batch_size.get(), 100);
    assert_eq!(s.retry.max_retries, 5);
    assert_eq!(s.poll_interval, Duration::from_secs(5));
    assert_eq!(s.first_poll_delay, Duration::from_secs(1));
    assert!(s.user_agent.starts_with("terraform-provider-cph/"));
}

#[tokio::test]
async fn refused_listing_falls_back_to_show_job_for_each_running_job() {
    let (client, fake, _) = setup(|b| b);
    let submission = client
        .submit(&restart(&["a", "b"]), &WaitOptions::new())
        .await
        .unwrap();
    fake.fault(Fault::Status(400, None));
    let report = client.wait(&submission, &WaitOptions::new()).await;
    assert_eq!(report.end, WaitEnd::Finished);
    assert!(report.all_succeeded());
    assert_eq!(fake.count(Method::Get, "/jobs/job0000"), 1);
    assert_eq!(fake.count(Method::Get, "/jobs/job0001"), 1);
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

#[tokio::test]
async fn poll_once_polls_one_round_at_once_and_leaves_unfinished_jobs_running() {
    let (client, fake, timer) = setup(|b| b.first_poll_delay(Duration::from_secs(3)));
    let submission = client
        .submit(&restart(&["a", "fail1"]), &WaitOptions::new())
        .await
        .unwrap();
    let submits = fake.requests().len();
    // Still running: one ListJobs call, no sleep, both phones still running.
    let report = client.poll_once(&submission, &WaitOptions::new()).await;
    assert_eq!(fake.requests().len() - submits, 1);
    assert!(timer.sleeps().is_empty(), "{:?}", timer.sleeps());
    assert_eq!(report.end, WaitEnd::Finished);
    assert_eq!(report.rounds, 1);
    assert_eq!(report.count(PhoneState::Running), 2);
    // Once the jobs are done, one more round records their outcomes.
    timer.advance(JOB_DURATION);
    let report = client.poll_once(&submission, &WaitOptions::new()).await;
    let states: Vec<PhoneState> = report.outcomes.iter().map(|o| o.state).collect();
    assert_eq!(states, [PhoneState::Succeeded, PhoneState::Failed]);
    // A submission with nothing running makes no call.
    let before = fake.requests().len();
    let mut done = submission.clone();
    done.phones.retain(|p| p.phone_id.as_str() == "nothing");
    let report = client.poll_once(&done, &WaitOptions::new()).await;
    assert_eq!(fake.requests().len(), before);
    assert_eq!(report.rounds, 0);
}

/// The number of phones in each batch request the fake received, in order.
fn window_sizes(fake: &Fake) -> Vec<usize> {
    fake.requests()
        .iter()
        .filter(|r| r.method == Method::Post)
        .map(|r| {
            serde_json::from_slice::<RestartRequest>(&r.body)
                .unwrap()
                .phones
                .len()
        })
        .collect()
}

fn names(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

#[tokio::test]
async fn a_rollout_submits_window_by_window_never_more_than_max_in_flight() {
    let (client, fake, _) = setup(|b| b);
    let phones = names("p", 25);
    let ids: Vec<&str> = phones.iter().map(String::as_str).collect();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let progress_seen = seen.clone();
    let options = WaitOptions::new()
        .rollout(Rollout {
            max_in_flight: NonZeroUsize::new(10),
            max_failures: None,
        })
        .on_progress(move |p| progress_seen.lock().unwrap().push(p));
    let report = client
        .run_batch(Some(&restart(&ids)), Earlier::default(), &options)
        .await
        .unwrap();
    assert_eq!(report.end, WaitEnd::Finished);
    assert!(report.all_succeeded());
    assert_eq!(window_sizes(&fake), [10, 10, 5]);
    let seen = seen.lock().unwrap();
    assert!(seen.iter().all(|p| p.in_flight <= 10), "{seen:?}");
    assert!(seen.iter().any(|p| p.waiting == 15), "{seen:?}");
    let order: Vec<&str> = report
        .outcomes
        .iter()
        .map(|o| o.phone_id.as_str())
        .collect();
    assert_eq!(order, ids, "outcomes in request order");
}

#[tokio::test]
async fn more_failures_than_the_budget_stop_the_rollout_and_leave_the_rest_unsent() {
    let (client, fake, _) = setup(|b| b);
    let mut phones = vec!["ok0".to_owned(), "fail0".to_owned(), "rej0".to_owned()];
    phones.extend(names("later", 7));
    let ids: Vec<&str> = phones.iter().map(String::as_str).collect();
    let options = WaitOptions::new().rollout(Rollout {
        max_in_flight: NonZeroUsize::new(3),
        max_failures: Some(1),
    });
    let report = client
        .run_batch(Some(&restart(&ids)), Earlier::default(), &options)
        .await
        .unwrap();
    assert_eq!(
        report.end,
        WaitEnd::BudgetExceeded {
            failures: 2,
            budget: 1
        }
    );
    // The rejected phone freed its place at once, so one more phone went out before the failed
    // job was seen; then nothing more.
    assert_eq!(window_sizes(&fake), [3, 1]);
    let states: Vec<PhoneState> = report.outcomes.iter().map(|o| o.state).collect();
    assert_eq!(
        &states[..4],
        [
            PhoneState::Succeeded,
            PhoneState::Failed,
            PhoneState::Rejected,
            PhoneState::Succeeded
        ],
        "the phone in flight was waited on"
    );
    assert_eq!(report.count(PhoneState::NotSubmitted), 6);
    let unsent = &report.outcomes[9];
    assert_eq!(unsent.phone_id.as_str(), "later6");
    assert!(
        unsent
            .error_msg
            .as_deref()
            .unwrap()
            .contains("more than its budget of 1"),
        "{unsent:?}"
    );
    // Within the budget the rollout goes on to the end.
    let (client, fake, _) = setup(|b| b);
    let options = WaitOptions::new().rollout(Rollout {
        max_in_flight: NonZeroUsize::new(3),
        max_failures: Some(2),
    });
    let report = client
        .run_batch(Some(&restart(&ids)), Earlier::default(), &options)
        .await
        .unwrap();
    assert_eq!(report.end, WaitEnd::Finished);
    let windows = window_sizes(&fake);
    assert_eq!(windows.iter().sum::<usize>(), 10, "{windows:?}");
    assert!(windows.iter().all(|&n| n <= 3), "{windows:?}");
}

#[tokio::test]
async fn jobs_left_running_by_an_earlier_run_are_waited_on_with_the_new_ones_and_count_in_flight() {
    let (client, fake, timer) = setup(|b| b);
    let earlier = client
        .submit(&restart(&["old0", "old1"]), &WaitOptions::new())
        .await
        .unwrap();
    let running: Vec<RunningJob> = earlier
        .accepted()
        .map(|(phone_id, job_id)| RunningJob {
            phone_id: phone_id.clone(),
            request_id: earlier.request_ids.first().cloned(),
            job_id: job_id.clone(),
        })
        .collect();
    timer.advance(Duration::from_millis(500));
    let options = WaitOptions::new().rollout(Rollout {
        max_in_flight: NonZeroUsize::new(3),
        max_failures: None,
    });
    let report = client
        .run_batch(
            Some(&restart(&["new0", "new1", "new2"])),
            Earlier::jobs(running),
            &options,
        )
        .await
        .unwrap();
    assert!(report.all_succeeded());
    let order: Vec<&str> = report
        .outcomes
        .iter()
        .map(|o| o.phone_id.as_str())
        .collect();
    assert_eq!(order, ["old0", "old1", "new0", "new1", "new2"]);
    // Two running jobs leave room for one new phone, then the rest once they finish.
    assert_eq!(window_sizes(&fake), [2, 1, 2]);
    // Waiting alone (no request) submits nothing.
    let (client, fake, _) = setup(|b| b);
    let none: Option<&RestartRequest> = None;
    let report = client
        .run_batch(none, Earlier::default(), &WaitOptions::new())
        .await
        .unwrap();
    assert!(report.outcomes.is_empty());
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn a_request_rate_cap_spaces_every_call_of_the_client_and_its_clones() {
    let (client, fake, timer) = setup(|b| b.max_requests_per_second(NonZeroU32::new(2).unwrap()));
    let clone = client.clone();
    client.list_phones(&PhoneFilter::default()).await.unwrap();
    clone.list_phones(&PhoneFilter::default()).await.unwrap();
    client.list_phones(&PhoneFilter::default()).await.unwrap();
    assert_eq!(fake.requests().len(), 3);
    assert_eq!(
        timer.sleeps(),
        [Duration::from_millis(500), Duration::from_millis(500)]
    );
}

#[tokio::test]
async fn a_throttled_call_pauses_every_other_call_for_its_retry_after() {
    let (client, fake, timer) = setup(|b| b.max_retries(0));
    fake.fault(Fault::Status(429, Some("4")));
    let throttled = client.list_phones(&PhoneFilter::default()).await;
    assert_eq!(throttled.unwrap_err().status(), Some(429));
    assert!(timer.sleeps().is_empty(), "no retry was allowed");
    // Another call, made at once, waits out the service's Retry-After first.
    client.list_phones(&PhoneFilter::default()).await.unwrap();
    assert_eq!(timer.sleeps(), [Duration::from_secs(4)]);
}

#[tokio::test]
async fn a_listing_refused_for_one_request_id_is_halved_so_the_others_are_still_listed_in_bulk() {
    let (client, fake, _) = setup(|b| b.batch_size(NonZeroUsize::new(2).unwrap()));
    let phones = names("p", 8);
    let ids: Vec<&str> = phones.iter().map(String::as_str).collect();
    let submission = client
        .submit(&restart(&ids), &WaitOptions::new())
        .await
        .unwrap();
    assert_eq!(submission.request_ids.len(), 4);
    fake.state.lock().unwrap().refused_request_id = Some("req003".to_owned());
    let report = client.wait(&submission, &WaitOptions::new()).await;
    assert!(report.all_succeeded(), "{report:?}");
    // Only the two jobs of the refused request were asked for one by one (in every round).
    for job in ["job0004", "job0005"] {
        assert!(
            fake.count(Method::Get, &format!("/jobs/{job}")) >= 1,
            "{job}"
        );
    }
    for job in [
        "job0000", "job0001", "job0002", "job0003", "job0006", "job0007",
    ] {
        assert_eq!(fake.count(Method::Get, &format!("/jobs/{job}")), 0, "{job}");
    }
}
