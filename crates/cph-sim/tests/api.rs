//! Drives the simulator over real HTTP/1.1: a small raw-socket client written here signs requests
//! with SDK-HMAC-SHA256 (or sends a token), so the wire format, the gateway checks, fault
//! injection, the admin API and the binary are all tested end to end.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use cph_sim::{Faults, SimConfig, Simulator};
use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
const JOB: Duration = Duration::from_millis(150);

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    /// A gateway or service error: its code, and the request id agrees with `X-Request-Id`.
    fn error_code(&self) -> String {
        let body = self.json();
        let request_id = body["request_id"].as_str().unwrap();
        assert_eq!(self.header("x-request-id"), Some(request_id));
        assert!(body["error_msg"].as_str().is_some_and(|m| !m.is_empty()));
        body["error_code"].as_str().unwrap().to_owned()
    }
}

/// Sends one HTTP/1.1 request and reads the whole answer (`Connection: close`).
async fn send(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(String, String)],
    body: &str,
) -> Reply {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut request = format!(
        "{method} {target} HTTP/1.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_owned(),
    }
}

/// A client that signs as the official SDKs do.
struct Signer {
    addr: SocketAddr,
    access_key: String,
    secret_key: String,
    project_id: String,
    /// Added to the real clock when dating requests.
    skew: i64,
}

fn sdk_date(at: SystemTime) -> String {
    let t = time::OffsetDateTime::from(at);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

impl Signer {
    fn for_sim(sim: &Simulator) -> Signer {
        let config = SimConfig::default();
        Signer {
            addr: sim.local_addr(),
            access_key: config.access_key,
            secret_key: config.secret_key,
            project_id: sim.project_id().to_owned(),
            skew: 0,
        }
    }

    /// Signed headers for `method path?query` with `body`; `query` pairs are encoded here.
    fn sign(
        &self,
        method: &str,
        path: &str,
        query: &[(&str, &str)],
        body: &str,
    ) -> (String, Vec<(String, String)>) {
        let now = if self.skew >= 0 {
            SystemTime::now() + Duration::from_secs(self.skew.unsigned_abs())
        } else {
            SystemTime::now() - Duration::from_secs(self.skew.unsigned_abs())
        };
        let date = sdk_date(now);
        let host = self.addr.to_string();
        let mut pairs: Vec<(&str, &str)> = query.to_vec();
        pairs.sort();
        let canonical_query = pairs
            .iter()
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    utf8_percent_encode(k, UNRESERVED),
                    utf8_percent_encode(v, UNRESERVED)
                )
            })
            .collect::<Vec<_>>()
            .join("&");
        let headers = [
            ("content-type", "application/json".to_owned()),
            ("host", host.clone()),
            ("x-project-id", self.project_id.clone()),
            ("x-sdk-date", date.clone()),
        ];
        let canonical_headers: String = headers.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
        let signed = "content-type;host;x-project-id;x-sdk-date";
        let canonical = format!(
            "{method}\n{path}/\n{canonical_query}\n{canonical_headers}\n{signed}\n{}",
            hex::encode(Sha256::digest(body.as_bytes()))
        );
        let to_sign = format!(
            "SDK-HMAC-SHA256\n{date}\n{}",
            hex::encode(Sha256::digest(canonical.as_bytes()))
        );
        let mut mac = Hmac::<Sha256>::new_from_slice(self.secret_key.as_bytes()).unwrap();
        mac.update(to_sign.as_bytes());
        let signature = hex::encode(mac.finalize().into_bytes());
        let mut sent: Vec<(String, String)> = headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.clone()))
            .collect();
        sent.push((
            "Authorization".to_owned(),
            format!(
                "SDK-HMAC-SHA256 Access={}, SignedHeaders={signed}, Signature={signature}",
                self.access_key
            ),
        ));
        let target = if canonical_query.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{canonical_query}")
        };
        (target, sent)
    }

    fn path(&self, suffix: &str) -> String {
        format!("/v1/{}/cloud-phone/{suffix}", self.project_id)
    }

    async fn call(&self, method: &str, suffix: &str, query: &[(&str, &str)], body: &str) -> Reply {
        let (target, headers) = self.sign(method, &self.path(suffix), query, body);
        send(self.addr, method, &target, &headers, body).await
    }
}

async fn start(phones: usize) -> Simulator {
    start_with(phones, JOB).await
}

async fn start_with(phones: usize, job_duration: Duration) -> Simulator {
    Simulator::start(SimConfig {
        phones,
        job_duration,
        ..SimConfig::default()
    })
    .await
    .unwrap()
}

fn restart_body(ids: &[String]) -> String {
    let phones: Vec<Value> = ids.iter().map(|id| json!({ "phone_id": id })).collect();
    json!({ "phones": phones }).to_string()
}

#[tokio::test]
async fn signed_restart_runs_to_success_and_is_listed_by_request_ids() {
    // long enough that the "still running" checks hold on a loaded machine
    let job = Duration::from_millis(500);
    let sim = start_with(4, job).await;
    let client = Signer::for_sim(&sim);
    let ids = sim.phone_ids();
    let first = client
        .call(
            "POST",
            "phones/batch-restart",
            &[],
            &restart_body(&ids[..2]),
        )
        .await;
    assert_eq!(first.status, 200, "{}", first.body);
    let first = first.json();
    let second = client
        .call(
            "POST",
            "phones/batch-stop",
            &[],
            &json!({ "phone_ids": [ids[2]] }).to_string(),
        )
        .await
        .json();
    let (r1, r2) = (
        first["request_id"].as_str().unwrap(),
        second["request_id"].as_str().unwrap(),
    );
    let job_id = first["jobs"][0]["job_id"].as_str().unwrap().to_owned();
    assert_eq!(sim.job_truth(&job_id).map(|s| s.code()), Some(Some(1)));

    let detail = client
        .call("GET", &format!("phones/{}", ids[0]), &[], "")
        .await
        .json();
    assert_eq!(detail["status"], json!(4));
    let both = format!("{r1},{r2}");
    let running = client
        .call(
            "GET",
            "jobs",
            &[("request_ids", &both), ("limit", "100")],
            "",
        )
        .await;
    assert_eq!(running.status, 200, "{}", running.body);
    assert_eq!(running.json()["jobs"].as_array().unwrap().len(), 3);
    assert_eq!(running.json()["jobs"][0]["end_time"], json!(""));

    tokio::time::sleep(job + Duration::from_millis(50)).await;
    let done = client
        .call(
            "GET",
            "jobs",
            &[("request_ids", &both), ("offset", "0")],
            "",
        )
        .await
        .json();
    let statuses: Vec<&Value> = done["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| &j["status"])
        .collect();
    assert_eq!(statuses, [&json!(2), &json!(2), &json!(2)]);
    let shown = client.call("GET", &format!("jobs/{job_id}"), &[], "").await;
    assert_eq!(
        shown.header("x-request-id"),
        shown.json()["request_id"].as_str()
    );
    assert_eq!(shown.json()["status"], json!(2));
    assert_eq!(shown.json()["error_code"], Value::Null);
    let stopped = client
        .call("GET", "phones", &[("status", "8")], "")
        .await
        .json();
    assert_eq!(stopped["count"], json!(1));
    assert_eq!(stopped["phones"][0]["phone_id"], json!(ids[2]));

    let stats = sim.stats();
    assert_eq!(stats.requests.get("RestartCloudPhone"), Some(&1));
    assert_eq!(stats.requests.get("ListJobs"), Some(&2));
    assert_eq!(stats.submissions.get(&ids[0]), Some(&1));
    assert_eq!(stats.submissions.get(&ids[3]), None);
    sim.shutdown().await;
}

#[tokio::test]
async fn token_auth_is_accepted_and_a_wrong_token_is_refused() {
    let sim = start(2).await;
    let path = format!("/v1/{}/cloud-phone/phones?limit=1", sim.project_id());
    let token = |t: &str| vec![("X-Auth-Token".to_owned(), t.to_owned())];
    let ok = send(sim.local_addr(), "GET", &path, &token("sim-token"), "").await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.json()["count"], json!(2));
    assert_eq!(ok.json()["phones"].as_array().unwrap().len(), 1);
    let bad = send(sim.local_addr(), "GET", &path, &token("other"), "").await;
    assert_eq!((bad.status, bad.error_code().as_str()), (401, "APIGW.0301"));
    let none = send(sim.local_addr(), "GET", &path, &[], "").await;
    assert_eq!(none.status, 401);
}

#[tokio::test]
async fn bad_signatures_are_refused_with_the_gateway_envelope() {
    let sim = start(1).await;
    let body = restart_body(&sim.phone_ids());
    let path = format!("/v1/{}/cloud-phone/phones/batch-restart", sim.project_id());
    let signer = Signer::for_sim(&sim);

    let (target, headers) = signer.sign("POST", &path, &[], &body);
    let tampered = send(
        sim.local_addr(),
        "POST",
        &target,
        &headers,
        &body.replace("phone_id", "phone_id "),
    )
    .await;
    assert_eq!(
        (tampered.status, tampered.error_code().as_str()),
        (401, "APIGW.0301")
    );

    let wrong_sk = Signer {
        secret_key: "nope".into(),
        ..Signer::for_sim(&sim)
    };
    let reply = wrong_sk
        .call("POST", "phones/batch-restart", &[], &body)
        .await;
    assert_eq!(
        (reply.status, reply.error_code().as_str()),
        (401, "APIGW.0301")
    );

    let unknown_ak = Signer {
        access_key: "AKUNKNOWN".into(),
        ..Signer::for_sim(&sim)
    };
    let reply = unknown_ak
        .call("POST", "phones/batch-restart", &[], &body)
        .await;
    assert_eq!(reply.status, 401);
    assert!(
        reply.json()["error_msg"]
            .as_str()
            .unwrap()
            .contains("AKUNKNOWN")
    );

    let stale = Signer {
        skew: -20 * 60,
        ..Signer::for_sim(&sim)
    };
    let reply = stale.call("POST", "phones/batch-restart", &[], &body).await;
    assert_eq!(reply.status, 401);
    assert!(
        reply.json()["error_msg"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
    let slightly_off = Signer {
        skew: 10 * 60,
        ..Signer::for_sim(&sim)
    };
    assert_eq!(
        slightly_off.call("GET", "phones", &[], "").await.status,
        200
    );

    let (target, headers) = signer.sign("GET", &signer.path("phones"), &[("limit", "1")], "");
    let reply = send(
        sim.local_addr(),
        "GET",
        &target.replace("limit=1", "limit=2"),
        &headers,
        "",
    )
    .await;
    assert_eq!(reply.status, 401);

    assert!(
        sim.stats().submissions.is_empty(),
        "refused requests must not act"
    );
}

#[tokio::test]
async fn project_mismatch_is_forbidden() {
    let sim = start(1).await;
    let other = Signer {
        project_id: "ffffffffffffffffffffffffffffffff".into(),
        ..Signer::for_sim(&sim)
    };
    let reply = other.call("GET", "phones", &[], "").await;
    assert_eq!(
        (reply.status, reply.error_code().as_str()),
        (403, "APIGW.0301")
    );
    let path = format!("/v1/{}/cloud-phone/phones", sim.project_id());
    let headers = vec![
        ("X-Auth-Token".to_owned(), "sim-token".to_owned()),
        (
            "X-Project-Id".to_owned(),
            "ffffffffffffffffffffffffffffffff".to_owned(),
        ),
    ];
    assert_eq!(
        send(sim.local_addr(), "GET", &path, &headers, "")
            .await
            .status,
        403
    );
}

#[tokio::test]
async fn injected_faults_answer_before_the_service_acts() {
    let sim = start(2).await;
    let client = Signer::for_sim(&sim);
    let body = restart_body(&sim.phone_ids());
    sim.set_faults(Faults {
        throttle_rate: 1.0,
        ..Faults::default()
    });
    let throttled = client
        .call("POST", "phones/batch-restart", &[], &body)
        .await;
    assert_eq!(
        (throttled.status, throttled.error_code().as_str()),
        (429, "APIG.0308")
    );
    assert_eq!(throttled.header("retry-after"), Some("1"));

    sim.set_faults(Faults {
        server_error_rate: 1.0,
        server_error_status: 500,
        ..Faults::default()
    });
    let failed = client
        .call("POST", "phones/batch-restart", &[], &body)
        .await;
    assert_eq!(
        (failed.status, failed.error_code().as_str()),
        (500, "CPS.0003")
    );
    sim.set_faults(Faults {
        server_error_rate: 1.0,
        ..Faults::default()
    });
    assert_eq!(client.call("GET", "jobs", &[], "").await.status, 503);

    let stats = sim.stats();
    assert!(stats.submissions.is_empty());
    assert_eq!(stats.requests.get("RestartCloudPhone"), Some(&2));
    assert_eq!(stats.faults_injected.get("429"), Some(&1));
    assert_eq!(stats.faults_injected.get("500"), Some(&1));
    assert_eq!(stats.faults_injected.get("503"), Some(&1));

    sim.set_faults(Faults {
        job_failure_rate: 1.0,
        latency_ms: 60,
        ..Faults::default()
    });
    let started = std::time::Instant::now();
    let answer = client
        .call("POST", "phones/batch-restart", &[], &body)
        .await
        .json();
    assert!(started.elapsed() >= Duration::from_millis(60));
    let job = answer["jobs"][0]["job_id"].as_str().unwrap();
    assert_eq!(sim.job_outcome(job).map(|s| s.name()), Some("failed"));
    tokio::time::sleep(JOB + Duration::from_millis(30)).await;
    let shown = client
        .call("GET", &format!("jobs/{job}"), &[], "")
        .await
        .json();
    assert_eq!(shown["status"], json!(-1));
    assert_eq!(shown["error_code"], json!("CPS.0003"));
    let phone = sim.phone(&sim.phone_ids()[0]).unwrap();
    assert_eq!(phone.summary.status.map(|s| s.code()), Some(-6));
}

#[tokio::test]
async fn per_phone_rejections_and_malformed_bodies_use_cph_codes() {
    let sim = start(1).await;
    let client = Signer::for_sim(&sim);
    let mut ids = sim.phone_ids();
    ids.push("bad-id".into());
    ids.push("0".repeat(32));
    let answer = client
        .call("POST", "phones/batch-restart", &[], &restart_body(&ids))
        .await
        .json();
    let codes: Vec<&Value> = answer["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| &j["error_code"])
        .collect();
    assert_eq!(
        codes,
        [&Value::Null, &json!("CPS.0004"), &json!("CPS.0005")]
    );
    assert!(answer["jobs"][1].get("job_id").is_none());
    let malformed = client
        .call("POST", "phones/batch-reset", &[], "{\"phones\": [")
        .await;
    assert_eq!(
        (malformed.status, malformed.error_code().as_str()),
        (400, "CPS.0004")
    );
    let limit = client.call("GET", "jobs", &[("limit", "101")], "").await;
    assert_eq!(
        (limit.status, limit.error_code().as_str()),
        (400, "CPS.0004")
    );
    let unknown = client.call("GET", "nothing-here", &[], "").await;
    assert_eq!(
        (unknown.status, unknown.error_code().as_str()),
        (404, "APIGW.0101")
    );
    let missing = client
        .call("GET", &format!("phones/{}", "f".repeat(32)), &[], "")
        .await;
    assert_eq!(
        (missing.status, missing.error_code().as_str()),
        (404, "CPS.0005")
    );
}

#[tokio::test]
async fn a_body_breaking_its_operation_schema_is_refused_whole_naming_the_json_pointer() {
    let sim = start(2).await;
    let client = Signer::for_sim(&sim);
    let phone = sim.phone_ids()[0].clone();
    // One structural violation per operation (a wrong type or a missing required field) beside
    // valid entries: nothing is performed, the whole body is a 400.
    let cases = [
        (
            "phones/batch-reset",
            json!({ "phones": [{ "phone_id": phone }, { "phone_id": 42 }] }),
            "/phones/1/phone_id",
        ),
        (
            "phones/batch-restart",
            json!({ "phones": [{ "phone_id": phone, "property": 7 }] }),
            "/phones/0/property",
        ),
        (
            "phones/batch-stop",
            json!({ "phone_ids": [phone, 42] }),
            "/phone_ids/1",
        ),
        (
            "phones/batch-update-property",
            json!({ "phones": [{ "phone_id": phone }] }),
            "/phones/0/property",
        ),
        (
            "phones/batch-restore",
            json!({ "restore_infos": [{ "phone_id": phone, "bucket_name": "bkt" }] }),
            "/restore_infos/0/object_path",
        ),
        (
            "phones/batch-storage",
            json!({ "storage_infos": [{ "phone_id": phone, "include_files": [1], "bucket_name": "bkt", "object_path": "o" }] }),
            "/storage_infos/0/include_files/0",
        ),
    ];
    for (route, body, pointer) in cases {
        let reply = client.call("POST", route, &[], &body.to_string()).await;
        assert_eq!(
            (reply.status, reply.error_code().as_str()),
            (400, "CPS.0004"),
            "{route}: {}",
            reply.body
        );
        let message = reply.json()["error_msg"].as_str().unwrap().to_owned();
        assert!(
            message.starts_with(&format!("Parameter: {pointer} is invalid. ")),
            "{route}: {message}"
        );
        assert!(
            reply.json()["request_id"]
                .as_str()
                .is_some_and(|id| !id.is_empty())
        );
    }
    let stats = sim.stats();
    assert!(
        stats.submissions.is_empty() && stats.rejected.is_empty(),
        "{stats:?}"
    );
    assert_eq!(
        sim.phone(&phone).unwrap().summary.status.map(|s| s.code()),
        Some(2)
    );
}

#[tokio::test]
async fn batch_connection_gives_each_running_phone_its_access_and_refuses_more_than_ten() {
    let sim = start(2).await;
    let client = Signer::for_sim(&sim);
    let ids = sim.phone_ids();
    let unknown = "f".repeat(32);
    let body = json!({ "phone_ids": [ids[0], unknown], "client_type": "H5_PC" }).to_string();
    let reply = client
        .call("POST", "phones/batch-connection", &[], &body)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let answer: cph_types::ConnectionResponse = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(answer.connect_infos.len(), 1);
    assert_eq!(
        answer.connect_infos[0].phone_id.as_deref(),
        Some(ids[0].as_str())
    );
    let access = answer.connect_infos[0].access_info.as_ref().unwrap();
    assert!(access.ticket.is_some() && access.session_id.is_some() && access.access_port.is_some());
    assert_eq!(answer.errors.len(), 1);
    assert_eq!(answer.errors[0].error_code.as_deref(), Some("CPS.0005"));
    assert_eq!(
        answer.request_id,
        reply.header("x-request-id").map(str::to_owned)
    );

    let eleven: Vec<String> = (0..11).map(|_| ids[1].clone()).collect();
    let body = json!({ "phone_ids": eleven, "client_type": "ANDROID" }).to_string();
    let refused = client
        .call("POST", "phones/batch-connection", &[], &body)
        .await;
    assert_eq!(
        (refused.status, refused.error_code().as_str()),
        (400, "CPS.0004"),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("/phone_ids"), "{}", refused.body);
    let stats = sim.stats();
    assert_eq!(stats.requests.get("BatchShowPhoneConnectInfos"), Some(&2));
    assert!(stats.submissions.is_empty());
}

#[tokio::test]
async fn the_access_gateway_stand_in_accepts_a_ticket_for_its_phone_and_session_only() {
    let sim = start(2).await;
    let addr = sim.local_addr();
    let ids = sim.phone_ids();
    let body = json!({ "phone_ids": ids, "client_type": "ANDROID" }).to_string();
    let reply = Signer::for_sim(&sim)
        .call("POST", "phones/batch-connection", &[], &body)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let answer: cph_types::ConnectionResponse = serde_json::from_str(&reply.body).unwrap();
    let presented: Vec<(String, String, String)> = answer
        .connect_infos
        .iter()
        .map(|info| {
            let access = info.access_info.as_ref().unwrap();
            (
                info.phone_id.clone().unwrap(),
                access.session_id.as_ref().unwrap().expose().to_owned(),
                access.ticket.as_ref().unwrap().expose().to_owned(),
            )
        })
        .collect();
    let [(phone, session, ticket), (other_phone, other_session, _)] = &presented[..] else {
        panic!("two phones expected: {presented:?}");
    };
    let attempt = |phone: &str, session: &str, ticket: &str| {
        json!({ "phone_id": phone, "session_id": session, "ticket": ticket }).to_string()
    };

    for _ in 0..2 {
        let accepted = send(
            addr,
            "POST",
            "/_sim/connect",
            &[],
            &attempt(phone, session, ticket),
        )
        .await;
        assert_eq!(accepted.status, 200, "{}", accepted.body);
        assert_eq!(
            accepted.json(),
            json!({ "connected": true, "phone_id": phone })
        );
    }
    assert!(sim.ticket_is_valid(phone, ticket));
    assert!(!sim.ticket_is_valid(other_phone, ticket));

    let refusals = [
        (
            attempt(other_phone, session, ticket),
            "ticket issued for another phone",
        ),
        (
            attempt(phone, other_session, ticket),
            "ticket issued for another session",
        ),
        (attempt(phone, session, &"0".repeat(64)), "unknown ticket"),
    ];
    for (body, why) in &refusals {
        let refused = send(addr, "POST", "/_sim/connect", &[], body).await;
        assert_eq!(refused.status, 403, "{}", refused.body);
        let refused = refused.json();
        assert_eq!(refused["connected"], json!(false));
        assert_eq!(refused["error"], json!(why));
    }
    let malformed = send(addr, "POST", "/_sim/connect", &[], r#"{"ticket": 5}"#).await;
    assert_eq!(malformed.status, 400, "{}", malformed.body);
    assert_eq!(malformed.json()["connected"], json!(false));

    let stats = send(addr, "GET", "/_sim/stats", &[], "").await.json();
    assert_eq!(stats["connections_accepted"], json!(2));
    assert_eq!(stats["requests"]["SimConnect"], json!(6));
    assert_eq!(stats["total_requests"], json!(1), "only the /v1 request");
}

#[tokio::test]
async fn admin_api_controls_faults_stats_and_drift() {
    let sim = start(3).await;
    let addr = sim.local_addr();
    let put = send(
        addr,
        "PUT",
        "/_sim/faults",
        &[],
        r#"{"throttle_rate": 0.25}"#,
    )
    .await;
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(sim.faults().throttle_rate, 0.25);
    let got = send(addr, "GET", "/_sim/faults", &[], "").await.json();
    assert_eq!(got["throttle_rate"], json!(0.25));
    assert_eq!(got["latency_ms"], json!(0));
    let bad = send(addr, "PUT", "/_sim/faults", &[], r#"{"throttle_rate": 2}"#).await;
    assert_eq!(bad.status, 400);
    assert_eq!(sim.faults().throttle_rate, 0.25);
    sim.set_faults(Faults::default());

    let phones = send(addr, "GET", "/_sim/phones", &[], "").await.json();
    assert_eq!(phones["count"], json!(3));
    let id = phones["phones"][1]["phone_id"].as_str().unwrap().to_owned();
    assert_eq!(id, sim.phone_ids()[1]);
    let drift = send(
        addr,
        "PUT",
        &format!("/_sim/phones/{id}/property"),
        &[],
        r#"{"key":"ro.install.auto","value":"1"}"#,
    )
    .await;
    assert_eq!(drift.status, 204);
    let detail = Signer::for_sim(&sim)
        .call("GET", &format!("phones/{id}"), &[], "")
        .await
        .json();
    let props: Value = serde_json::from_str(detail["property"].as_str().unwrap()).unwrap();
    assert_eq!(props["ro.install.auto"], json!("1"));
    assert!(sim.set_phone_property(&id, "ro.install.auto", "0"));
    assert!(!sim.set_phone_property("nope", "k", "v"));
    let unknown = send(
        addr,
        "PUT",
        "/_sim/phones/nope/property",
        &[],
        r#"{"key":"k","value":"v"}"#,
    )
    .await;
    assert_eq!(unknown.status, 404);

    let doom = send(
        addr,
        "POST",
        &format!("/_sim/phones/{id}/fail-next-job"),
        &[],
        "",
    )
    .await;
    assert_eq!(doom.status, 204);
    assert_eq!(
        send(addr, "POST", "/_sim/phones/nope/fail-next-job", &[], "")
            .await
            .status,
        404
    );
    let answer = Signer::for_sim(&sim)
        .call(
            "POST",
            "phones/batch-restart",
            &[],
            &restart_body(std::slice::from_ref(&id)),
        )
        .await
        .json();
    let job = answer["jobs"][0]["job_id"].as_str().unwrap();
    assert_eq!(sim.job_outcome(job).map(|s| s.name()), Some("failed"));

    let stats = send(addr, "GET", "/_sim/stats", &[], "").await.json();
    assert_eq!(stats["requests"]["ShowCloudPhoneDetail"], json!(1));
    assert_eq!(stats["requests"]["RestartCloudPhone"], json!(1));
    assert_eq!(stats["total_requests"], json!(2));
    assert_eq!(
        send(addr, "POST", "/_sim/stats/reset", &[], "")
            .await
            .status,
        204
    );
    assert_eq!(sim.stats().total_requests, 0);
}

#[tokio::test]
async fn shutdown_stops_serving() {
    let sim = start(1).await;
    let addr = sim.local_addr();
    assert!(sim.base_url().ends_with(&format!(":{}", addr.port())));
    sim.shutdown().await;
    assert!(TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn binary_prints_its_url_and_exits_cleanly_on_sigterm() {
    use tokio::io::AsyncBufReadExt;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_cph-sim"))
        .args(["--phones", "2", "--job-duration", "100ms", "--seed", "9"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let url = line
        .strip_prefix("cph-sim listening on http://")
        .expect(&line);
    let addr: SocketAddr = url.parse().unwrap();
    let path = format!("/v1/{}/cloud-phone/phones", SimConfig::default().project_id);
    let reply = send(
        addr,
        "GET",
        &path,
        &[("X-Auth-Token".into(), "sim-token".into())],
        "",
    )
    .await;
    assert_eq!(reply.json()["count"], json!(2));

    let pid = child.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status:?}");
    assert_eq!(
        lines.next_line().await.unwrap(),
        None,
        "stdout carries one line only"
    );
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .await
        .unwrap();
    assert!(stderr.contains("status=200"), "{stderr}");
    // The secret key shows only in the line printed to be pasted into a shell (tests/binary.rs); the
    // logs carry neither it nor the token.
    assert!(!stderr.contains("sim-token"), "{stderr}");
    assert!(
        stderr
            .lines()
            .filter(|l| !l.starts_with("export "))
            .all(|l| !l.contains("simsecretkey")),
        "{stderr}"
    );
}

#[tokio::test]
async fn start_refuses_out_of_range_faults() {
    let config = SimConfig {
        faults: Faults {
            job_failure_rate: 1.5,
            ..Faults::default()
        },
        ..SimConfig::default()
    };
    let err = Simulator::start(config).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("job_failure_rate"), "{err}");
}

/// Sends one request on a keep-alive connection (no `Connection: close`) and reads until the
/// server closes the connection, or `wait` has passed with nothing received, or 300 ms have
/// passed since the first bytes: every byte received, and whether the server closed the
/// connection.
async fn exchange_keep_alive(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(String, String)],
    body: &str,
    wait: Duration,
) -> (Vec<u8>, bool) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut request = format!(
        "{method} {target} HTTP/1.1\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut deadline = tokio::time::Instant::now() + wait;
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return (raw, false),
            Ok(Ok(0)) => return (raw, true),
            Ok(Ok(n)) => {
                if raw.is_empty() {
                    deadline =
                        deadline.min(tokio::time::Instant::now() + Duration::from_millis(300));
                }
                raw.extend_from_slice(&buf[..n]);
            }
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => return (raw, true),
            Ok(Err(e)) => panic!("reading the answer: {e}"),
        }
    }
}

/// Long enough that jobs are still running whenever a test looks at them.
const LONG_JOB: Duration = Duration::from_secs(60);

fn phone_status(detail: &Reply) -> i64 {
    assert_eq!(detail.status, 200, "{}", detail.body);
    detail.json()["status"].as_i64().unwrap()
}

#[tokio::test]
async fn acted_error_answers_500_under_the_request_id_of_the_jobs_it_created() {
    let sim = start_with(9, LONG_JOB).await;
    let client = Signer::for_sim(&sim);
    let ids = sim.phone_ids();
    sim.set_faults(Faults {
        acted_error_rate: 1.0,
        ..Faults::default()
    });
    let cases: Vec<(&str, Value, &[String], i64)> = vec![
        (
            "phones/batch-restart",
            json!({ "phones": [{ "phone_id": ids[0] }, { "phone_id": ids[1] }] }),
            &ids[0..2],
            4,
        ),
        (
            "phones/batch-stop",
            json!({ "phone_ids": [ids[2], ids[3]] }),
            &ids[2..4],
            7,
        ),
        (
            "phones/batch-reset",
            json!({ "phones": [{ "phone_id": ids[4] }, { "phone_id": ids[5] }] }),
            &ids[4..6],
            3,
        ),
        (
            "phones/batch-update-property",
            json!({ "phones": [{ "phone_id": ids[6], "property": "{\"ro.install.auto\":\"1\"}" }] }),
            &ids[6..7],
            2,
        ),
        (
            "phones/batch-restore",
            json!({ "restore_infos": [{ "phone_id": ids[7], "bucket_name": "bkt", "object_path": "a.tar" }] }),
            &ids[7..8],
            2,
        ),
        (
            "phones/batch-storage",
            json!({ "storage_infos": [{ "phone_id": ids[8], "include_files": ["/data"], "bucket_name": "bkt", "object_path": "b.tar" }] }),
            &ids[8..9],
            2,
        ),
    ];
    let mut answered = Vec::new();
    for (suffix, body, phones, during) in &cases {
        let reply = client.call("POST", suffix, &[], &body.to_string()).await;
        assert_eq!(
            (reply.status, reply.error_code().as_str()),
            (500, "CPS.0003"),
            "{suffix}: {}",
            reply.body
        );
        let message = reply.json()["error_msg"].as_str().unwrap().to_owned();
        assert!(message.starts_with("Internal error"), "{message}");
        let request_id = reply.header("x-request-id").unwrap().to_owned();
        answered.push((suffix, request_id, *phones, *during));
    }
    sim.set_faults(Faults::default());

    for (suffix, request_id, phones, during) in answered {
        let listed = client
            .call("GET", "jobs", &[("request_id", &request_id)], "")
            .await;
        assert_eq!(listed.status, 200, "{}", listed.body);
        let jobs = listed.json()["jobs"].as_array().unwrap().clone();
        let listed_phones: Vec<&str> = jobs
            .iter()
            .map(|j| j["phone_id"].as_str().unwrap())
            .collect();
        assert_eq!(listed_phones, phones, "{suffix}: the jobs of {request_id}");
        for job in &jobs {
            assert_eq!(job["status"], json!(1), "{suffix}: {job}");
            assert_eq!(job["job_id"].as_str().map(str::len), Some(32), "{job}");
        }
        for phone in phones {
            let detail = client
                .call("GET", &format!("phones/{phone}"), &[], "")
                .await;
            assert_eq!(phone_status(&detail), during, "{suffix}: phone {phone}");
        }
    }
    let stats = sim.stats();
    assert_eq!(stats.faults_injected.get("acted_500"), Some(&6));
    assert_eq!(
        stats.faults_injected.len(),
        1,
        "{:?}",
        stats.faults_injected
    );
    for id in &ids {
        assert_eq!(stats.submissions.get(id), Some(&1), "{id} acted on once");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn acted_drop_closes_the_connection_without_an_answer_while_the_jobs_exist() {
    let sim = start_with(3, LONG_JOB).await;
    let client = Signer::for_sim(&sim);
    let ids = sim.phone_ids();
    let post = |suffix: &str, body: &str| {
        let (target, headers) = client.sign("POST", &client.path(suffix), &[], body);
        let addr = sim.local_addr();
        let body = body.to_owned();
        async move {
            exchange_keep_alive(
                addr,
                "POST",
                &target,
                &headers,
                &body,
                Duration::from_secs(10),
            )
            .await
        }
    };

    // Without the fault, the same exchange is answered and the connection stays open.
    let (target, headers) = client.sign(
        "POST",
        &client.path("phones/batch-restart"),
        &[],
        &restart_body(&ids[..1]),
    );
    let (raw, closed) = exchange_keep_alive(
        sim.local_addr(),
        "POST",
        &target,
        &headers,
        &restart_body(&ids[..1]),
        Duration::from_secs(10),
    )
    .await;
    let text = String::from_utf8_lossy(&raw);
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(
        !closed,
        "a keep-alive connection stays open after an answer"
    );

    sim.set_faults(Faults {
        acted_drop_rate: 1.0,
        ..Faults::default()
    });
    let (raw, closed) = post("phones/batch-restart", &restart_body(&ids[1..2])).await;
    assert!(closed, "the connection is closed");
    assert!(
        raw.is_empty(),
        "no status line, no header, no body: {:?}",
        String::from_utf8_lossy(&raw)
    );
    let stop = json!({ "phone_ids": [ids[2]] }).to_string();
    let (raw, closed) = post("phones/batch-stop", &stop).await;
    assert!(
        closed && raw.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&raw)
    );

    // The service acted: the jobs exist and the phones moved.
    sim.set_faults(Faults::default());
    let restarting = client
        .call("GET", &format!("phones/{}", ids[1]), &[], "")
        .await;
    assert_eq!(phone_status(&restarting), 4);
    let stopping = client
        .call("GET", &format!("phones/{}", ids[2]), &[], "")
        .await;
    assert_eq!(phone_status(&stopping), 7);
    let all = client.call("GET", "jobs", &[], "").await.json();
    let listed: Vec<(&str, &Value)> = all["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| (j["phone_id"].as_str().unwrap(), &j["status"]))
        .collect();
    assert_eq!(
        listed,
        [
            (ids[0].as_str(), &json!(1)),
            (ids[1].as_str(), &json!(1)),
            (ids[2].as_str(), &json!(1))
        ]
    );
    let stats = sim.stats();
    assert_eq!(stats.faults_injected.get("acted_drop"), Some(&2));
    assert_eq!(
        stats.faults_injected.len(),
        1,
        "{:?}",
        stats.faults_injected
    );
    assert_eq!(stats.requests.get("RestartCloudPhone"), Some(&2));
    assert_eq!(stats.requests.get("StopCloudPhone"), Some(&1));
    for id in &ids {
        assert_eq!(stats.submissions.get(id), Some(&1), "{id}");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn acted_faults_hit_only_batch_operations_that_would_have_answered_200() {
    let sim = start_with(2, LONG_JOB).await;
    let client = Signer::for_sim(&sim);
    let ids = sim.phone_ids();
    let made = client
        .call(
            "POST",
            "phones/batch-restart",
            &[],
            &restart_body(&ids[..1]),
        )
        .await
        .json();
    let request_id = made["request_id"].as_str().unwrap().to_owned();
    let job = made["jobs"][0]["job_id"].as_str().unwrap().to_owned();
    let wrong_sk = Signer {
        secret_key: "nope".into(),
        ..Signer::for_sim(&sim)
    };
    for acted in [
        Faults {
            acted_error_rate: 1.0,
            ..Faults::default()
        },
        Faults {
            acted_drop_rate: 1.0,
            ..Faults::default()
        },
    ] {
        sim.set_faults(acted.clone());
        sim.reset_stats();
        // Reads are never hit (`send` panics on a connection closed without an answer).
        for (suffix, query) in [
            ("phones".to_owned(), vec![]),
            (format!("phones/{}", ids[0]), vec![]),
            ("jobs".to_owned(), vec![("request_id", request_id.as_str())]),
            (format!("jobs/{job}"), vec![]),
        ] {
            let reply = client.call("GET", &suffix, &query, "").await;
            assert_eq!(reply.status, 200, "{suffix}: {}", reply.body);
        }
        // A batch refused as a whole keeps its answer.
        let malformed = client
            .call("POST", "phones/batch-restart", &[], "{\"phones\": [")
            .await;
        assert_eq!(
            (malformed.status, malformed.error_code().as_str()),
            (400, "CPS.0004")
        );
        let no_list = client.call("POST", "phones/batch-stop", &[], "{}").await;
        assert_eq!(no_list.status, 400, "{}", no_list.body);
        let unsigned = wrong_sk
            .call(
                "POST",
                "phones/batch-restart",
                &[],
                &restart_body(&ids[1..]),
            )
            .await;
        assert_eq!(unsigned.status, 401, "{}", unsigned.body);
        // A fault before acting stays what it is.
        sim.set_faults(Faults {
            throttle_rate: 1.0,
            ..acted.clone()
        });
        let throttled = client
            .call(
                "POST",
                "phones/batch-restart",
                &[],
                &restart_body(&ids[1..]),
            )
            .await;
        assert_eq!(
            (throttled.status, throttled.error_code().as_str()),
            (429, "APIG.0308")
        );
        let stats = sim.stats();
        assert_eq!(
            stats.faults_injected.keys().collect::<Vec<_>>(),
            ["429"],
            "{acted:?}"
        );
        assert!(stats.submissions.is_empty(), "{:?}", stats.submissions);
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn admin_api_sets_the_acted_faults_by_name() {
    let sim = start(1).await;
    let addr = sim.local_addr();
    let put = send(
        addr,
        "PUT",
        "/_sim/faults",
        &[],
        r#"{"acted_error_rate": 0.5, "acted_drop_rate": 0.25}"#,
    )
    .await;
    assert_eq!(put.status, 200, "{}", put.body);
    let got = send(addr, "GET", "/_sim/faults", &[], "").await.json();
    assert_eq!(got["acted_error_rate"], json!(0.5));
    assert_eq!(got["acted_drop_rate"], json!(0.25));
    assert_eq!(got["throttle_rate"], json!(0.0));
    let bad = send(
        addr,
        "PUT",
        "/_sim/faults",
        &[],
        r#"{"acted_drop_rate": 1.5}"#,
    )
    .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body.contains("acted_drop_rate"), "{}", bad.body);
    assert_eq!(sim.faults().acted_drop_rate, 0.25);
    sim.set_faults(Faults {
        acted_error_rate: 7.0,
        acted_drop_rate: f64::NAN,
        ..Faults::default()
    });
    assert_eq!(
        (sim.faults().acted_error_rate, sim.faults().acted_drop_rate),
        (1.0, 0.0)
    );
}

#[tokio::test]
async fn jobs_are_forgotten_once_ended_longer_ago_than_the_retention() {
    let job_duration = Duration::from_millis(500);
    let retention = Duration::from_millis(1500);
    let sim = Simulator::start(SimConfig {
        phones: 1,
        job_duration,
        job_retention: retention,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let client = Signer::for_sim(&sim);
    let ids = sim.phone_ids();
    let answer = client
        .call("POST", "phones/batch-restart", &[], &restart_body(&ids))
        .await
        .json();
    let request_id = answer["request_id"].as_str().unwrap().to_owned();
    let job = answer["jobs"][0]["job_id"].as_str().unwrap().to_owned();
    let shown = client.call("GET", &format!("jobs/{job}"), &[], "").await;
    assert_eq!(shown.status, 200, "{}", shown.body);

    tokio::time::sleep(job_duration + retention + Duration::from_millis(500)).await;
    let forgotten = client.call("GET", &format!("jobs/{job}"), &[], "").await;
    assert_eq!(
        (forgotten.status, forgotten.error_code().as_str()),
        (404, "CPS.0005")
    );
    let by_request = client
        .call("GET", "jobs", &[("request_id", &request_id)], "")
        .await
        .json();
    assert_eq!(by_request["jobs"], json!([]));
    let all = client.call("GET", "jobs", &[], "").await.json();
    assert_eq!(all["jobs"], json!([]));
    assert_eq!(sim.job_truth(&job), None);
    let detail = client
        .call("GET", &format!("phones/{}", ids[0]), &[], "")
        .await;
    assert_eq!(phone_status(&detail), 2, "the restart's effect stays");
    sim.shutdown().await;
}

#[tokio::test]
async fn detail_property_is_capped_at_2048_bytes_while_the_admin_view_is_whole() {
    let sim = start(1).await;
    let client = Signer::for_sim(&sim);
    let id = sim.phone_ids()[0].clone();
    let properties: std::collections::BTreeMap<String, String> = (0..60)
        .map(|i| (format!("vendor.sim.key{i:02}"), "v".repeat(80)))
        .collect();
    let whole = serde_json::to_string(&properties).unwrap();
    assert!(whole.len() > cph_sim::DETAIL_PROPERTY_BYTES_MAX && whole.len() < 7800);
    let body = json!({ "phones": [{ "phone_id": id, "property": whole }] }).to_string();
    let update = client
        .call("POST", "phones/batch-update-property", &[], &body)
        .await;
    assert_eq!(update.status, 200, "{}", update.body);
    assert!(
        update.json()["jobs"][0]["job_id"].is_string(),
        "{}",
        update.body
    );
    tokio::time::sleep(JOB * 3).await;

    let detail = client.call("GET", &format!("phones/{id}"), &[], "").await;
    assert_eq!(detail.status, 200, "{}", detail.body);
    let shown = detail.json()["property"].as_str().unwrap().to_owned();
    assert!(shown.len() <= 2048, "{} bytes", shown.len());
    let shown: std::collections::BTreeMap<String, String> = serde_json::from_str(&shown).unwrap();
    let prefix: std::collections::BTreeMap<String, String> = properties
        .iter()
        .take(shown.len())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    assert!(!shown.is_empty() && shown.len() < properties.len());
    assert_eq!(shown, prefix, "the shown keys are a key-order prefix");

    let admin = send(sim.local_addr(), "GET", "/_sim/phones", &[], "")
        .await
        .json();
    assert_eq!(admin["phones"][0]["property"], json!(whole));
    let truth = sim.phone(&id).unwrap().properties().unwrap();
    assert_eq!(truth.len(), 60);
    sim.shutdown().await;
}
