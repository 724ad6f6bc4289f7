//! The test double of the CPH service the unit tests of the client, submission, reconciliation
//! and the drive loop share: a scripted in-memory [`Fake`] behind the transport seam, on a manual
//! clock, so retry and polling behaviour is checked in milliseconds.
#![allow(clippy::unwrap_used)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cph_types::{PhoneId, ProjectId, RestartPhone, RestartRequest};
use serde_json::{Value, json};

pub(crate) use crate::transport::Method;
use crate::transport::{Transport, WireError, WireFuture, WireRequest, WireResponse};
use crate::{Client, ClientBuilder, Credentials, Endpoint, ManualTimer, TransportKind};

pub(crate) const PROJECT: &str = "0123456789abcdef0123456789abcdef";
pub(crate) const JOB_DURATION: Duration = Duration::from_secs(2);

/// A fault to answer instead of serving the next request.
#[derive(Debug, Clone)]
pub(crate) enum Fault {
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
pub(crate) struct FakeJob {
    pub(crate) request_id: String,
    pub(crate) job_id: String,
    pub(crate) phone_id: String,
    pub(crate) done_at: Duration,
}

#[derive(Debug, Default)]
pub(crate) struct FakeState {
    pub(crate) requests: Vec<WireRequest>,
    pub(crate) faults: VecDeque<Fault>,
    pub(crate) jobs: Vec<FakeJob>,
    pub(crate) batches: u32,
    pub(crate) phones: usize,
    /// ListJobs refuses (400) any call naming this request id.
    pub(crate) refused_request_id: Option<String>,
    /// ListCloudPhones answers every call with the first page, whatever the offset.
    pub(crate) phones_ignore_offset: bool,
    /// ListCloudPhones reports this `count` instead of the number of phones.
    pub(crate) phones_count: Option<i64>,
    /// While the fake's clock is in one of these, the endpoint does not answer: every request
    /// fails to connect (scripted faults wait).
    pub(crate) down: Vec<std::ops::Range<Duration>>,
}

/// An in-memory CPH: phone ids choose their fate by prefix: `rej` rejected at submit, `fail`
/// job fails, `hide` job never listed (ShowJob only), `lost` never listed and ShowJob 404,
/// `odd` status stays at an undocumented code, `gone` unknown to ShowCloudPhoneDetail.
/// Everything else succeeds after [`JOB_DURATION`]. A phone shows `restarting` (4) while its
/// latest job runs, then `running` (2) or `restart failed` (-6).
#[derive(Debug)]
pub(crate) struct Fake {
    timer: Arc<ManualTimer>,
    pub(crate) state: Mutex<FakeState>,
}

impl Fake {
    pub(crate) fn new(timer: Arc<ManualTimer>) -> Arc<Self> {
        Arc::new(Fake {
            timer,
            state: Mutex::new(FakeState::default()),
        })
    }

    pub(crate) fn fault(&self, fault: Fault) {
        self.state.lock().unwrap().faults.push_back(fault);
    }

    /// Makes the endpoint stop answering while the clock is within `during`.
    pub(crate) fn down(&self, during: std::ops::Range<Duration>) {
        self.state.lock().unwrap().down.push(during);
    }

    pub(crate) fn requests(&self) -> Vec<WireRequest> {
        self.state.lock().unwrap().requests.clone()
    }

    pub(crate) fn count(&self, method: Method, path_end: &str) -> usize {
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
            let now = self.timer.elapsed();
            if state.down.iter().any(|d| d.contains(&now)) {
                Some(Fault::Wire(TransportKind::Connect))
            } else {
                state.faults.pop_front()
            }
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

/// A client on the fake and a manual clock, polling every second, as `configure` tunes it.
pub(crate) fn setup(
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

pub(crate) fn restart(ids: &[&str]) -> RestartRequest {
    RestartRequest::new(ids.iter().map(|id| RestartPhone {
        phone_id: PhoneId::new(*id).unwrap(),
        property: None,
    }))
}

pub(crate) fn job_id(n: usize) -> cph_types::JobId {
    cph_types::JobId::new(format!("job{n:04}")).unwrap()
}

/// `prefix0`, `prefix1`, ... (`n` names).
pub(crate) fn names(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

/// A phone whose last submission's outcome is unknown, with its request id when known.
pub(crate) fn unsure(phone: &str, request: Option<&str>) -> crate::UnsurePhone {
    crate::UnsurePhone {
        phone_id: PhoneId::new(phone).unwrap(),
        request_id: request.map(|r| cph_types::RequestId::new(r).unwrap()),
    }
}

/// What a refresh is given for one phone recorded running: its job of request `req001`.
pub(crate) fn recorded(phone: &str, job: cph_types::JobId) -> crate::Submission {
    let request_id = cph_types::RequestId::new("req001").unwrap();
    crate::Submission {
        operation: cph_types::BatchOperation::Restart,
        phones: vec![crate::SubmittedPhone {
            phone_id: PhoneId::new(phone).unwrap(),
            request_id: Some(request_id.clone()),
            result: crate::SubmitResult::Accepted { job_id: job },
        }],
        request_ids: vec![request_id],
        interrupted: None,
    }
}
