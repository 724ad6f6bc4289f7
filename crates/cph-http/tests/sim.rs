//! Integration tests: the client against the in-process simulator (`cph-sim`), over real HTTP
//! with real signatures, fault injection and the simulator's request counters as the witness.
#![allow(clippy::unwrap_used)]

use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

use cph_http::{
    Client, ClientBuilder, Credentials, Endpoint, Error, PhoneFilter, PhoneState, SubmitResult,
    WaitEnd, WaitOptions,
};
use cph_sim::{Faults, SimConfig, Simulator};
use cph_types::{
    BatchOperation, JobStatus, PhoneId, ProjectId, PropertyMap, RestartPhone, RestartRequest,
    StatusPath, StopRequest, UpdatePropertyPhone, UpdatePropertyRequest,
};
use tokio_util::sync::CancellationToken;

async fn simulator(phones: usize, job_duration: Duration, faults: Faults) -> Simulator {
    Simulator::start(SimConfig {
        phones,
        job_duration,
        faults,
        ..SimConfig::default()
    })
    .await
    .unwrap()
}

fn builder(sim: &Simulator, credentials: Credentials) -> ClientBuilder {
    Client::builder(
        Endpoint::url(sim.base_url()),
        ProjectId::new(sim.project_id()).unwrap(),
        credentials,
    )
    .poll_interval(Duration::from_millis(50))
    .retry_backoff(Duration::from_millis(10), Duration::from_millis(100))
}

fn ak_sk() -> Credentials {
    Credentials::ak_sk(cph_sim::DEFAULT_ACCESS_KEY, cph_sim::DEFAULT_SECRET_KEY)
}

fn restart(ids: &[String]) -> RestartRequest {
    RestartRequest::new(ids.iter().map(|id| RestartPhone {
        phone_id: PhoneId::new(id.as_str()).unwrap(),
        property: None,
    }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_phones_restarted_are_all_reported_successful() {
    let sim = simulator(50, Duration::from_millis(200), Faults::default()).await;
    let client = builder(&sim, ak_sk()).build().unwrap();
    let ids = sim.phone_ids();
    let report = client
        .restart(&restart(&ids), &WaitOptions::new())
        .await
        .unwrap();
    assert_eq!(report.end, WaitEnd::Finished);
    assert_eq!(report.outcomes.len(), 50);
    assert!(report.all_succeeded(), "{:?}", report.unsuccessful().next());
    for (outcome, id) in report.outcomes.iter().zip(&ids) {
        assert_eq!(outcome.phone_id.as_str(), id);
        let job = outcome.job_id.as_ref().unwrap();
        assert_eq!(sim.job_truth(job.as_str()), Some(JobStatus::Success));
    }
    let stats = sim.stats();
    assert!(ids.iter().all(|id| stats.submissions.get(id) == Some(&1)));
    assert_eq!(stats.requests.get("RestartCloudPhone"), Some(&1));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_unknown_phones_get_their_codes_and_the_rest_succeed() {
    let sim = simulator(5, Duration::from_millis(150), Faults::default()).await;
    let client = builder(&sim, ak_sk()).build().unwrap();
    let mut ids = sim.phone_ids();
    ids.insert(2, "not-a-real-id".to_owned());
    ids.push("ffffffffffffffffffffffffffffffff".to_owned());
    let report = client
        .restart(&restart(&ids), &WaitOptions::new())
        .await
        .unwrap();
    assert_eq!(report.end, WaitEnd::Finished);
    let malformed = &report.outcomes[2];
    assert_eq!(malformed.state, PhoneState::Rejected);
    assert_eq!(
        malformed.error_code.as_deref(),
        Some(cph_types::CPS_INVALID_PARAMETER)
    );
    assert_eq!(malformed.job_id, None);
    let unknown = &report.outcomes[6];
    assert_eq!(unknown.state, PhoneState::Rejected);
    assert_eq!(
        unknown.error_code.as_deref(),
        Some(cph_types::CPS_NOT_FOUND)
    );
    assert_eq!(report.count(PhoneState::Succeeded), 5);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_5xx_and_429_faults_every_phone_reaches_its_true_outcome_submitted_once() {
    let faults = Faults {
        job_failure_rate: 0.2,
        throttle_rate: 0.2,
        server_error_rate: 0.3,
        ..Faults::default()
    };
    let sim = simulator(50, Duration::from_millis(300), faults).await;
    let client = builder(&sim, ak_sk())
        .batch_size(NonZeroUsize::new(10).unwrap())
        .max_retries(40)
        .build()
        .unwrap();
    let ids = sim.phone_ids();
    let report = client
        .restart(&restart(&ids), &WaitOptions::new())
        .await
        .unwrap();
    assert_eq!(report.end, WaitEnd::Finished);
    for outcome in &report.outcomes {
        let job = outcome.job_id.as_ref().expect("every phone got a job");
        let expected = match sim.job_truth(job.as_str()) {
            Some(JobStatus::Success) => PhoneState::Succeeded,
            Some(JobStatus::Failed) => PhoneState::Failed,
            other => panic!("job {job} of {} ended {other:?}", outcome.phone_id),
        };
        assert_eq!(outcome.state, expected, "{}", outcome.phone_id);
    }
    let stats = sim.stats();
    for id in &ids {
        assert_eq!(stats.submissions.get(id), Some(&1), "{id} submitted once");
    }
    assert!(stats.faults_injected.get("429").copied().unwrap_or(0) > 0);
    assert!(stats.faults_injected.get("503").copied().unwrap_or(0) > 0);
    assert!(
        report.count(PhoneState::Failed) > 0,
        "some jobs were made to fail"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ambiguous_500_on_submit_is_never_resent() {
    let faults = Faults {
        server_error_rate: 0.5,
        server_error_status: 500,
        ..Faults::default()
    };
    let sim = simulator(40, Duration::from_millis(150), faults).await;
    let client = builder(&sim, ak_sk())
        .batch_size(NonZeroUsize::new(5).unwrap())
        .max_retries(40)
        .build()
        .unwrap();
    let ids = sim.phone_ids();
    let submission = client
        .submit(&restart(&ids), &WaitOptions::new())
        .await
        .unwrap();
    let stats = sim.stats();
    assert_eq!(
        stats.requests.get("RestartCloudPhone"),
        Some(&8),
        "one POST per chunk"
    );
    let mut unknown = 0;
    for phone in &submission.phones {
        let acted = stats
            .submissions
            .get(phone.phone_id.as_str())
            .copied()
            .unwrap_or(0);
        match &phone.result {
            SubmitResult::Accepted { .. } => assert_eq!(acted, 1),
            SubmitResult::Unknown { error } => {
                assert_eq!(error.status(), Some(500));
                assert_eq!(acted, 0);
                unknown += 1;
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(unknown > 0, "with a 50% rate some chunk met a 500");
    sim.set_faults(Faults::default());
    let report = client.wait(&submission, &WaitOptions::new()).await;
    assert_eq!(report.count(PhoneState::SubmitUnknown), unknown);
    assert_eq!(report.count(PhoneState::Succeeded), 40 - unknown);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancellation_mid_wait_returns_promptly_with_every_known_job_id() {
    let sim = simulator(30, Duration::from_secs(30), Faults::default()).await;
    let client = builder(&sim, ak_sk())
        .batch_size(NonZeroUsize::new(7).unwrap())
        .build()
        .unwrap();
    let token = CancellationToken::new();
    let canceller = token.clone();
    let cancelled_at = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(400)).await;
        canceller.cancel();
        Instant::now()
    });
    let options = WaitOptions::new().cancel(token);
    let report = client
        .restart(&restart(&sim.phone_ids()), &options)
        .await
        .unwrap();
    let returned = Instant::now();
    let cancelled = cancelled_at.await.unwrap();
    assert_eq!(report.end, WaitEnd::Cancelled);
    assert!(
        returned.duration_since(cancelled) < Duration::from_millis(500),
        "prompt return"
    );
    assert_eq!(report.request_ids.len(), 5);
    assert!(report.rounds >= 1);
    for outcome in &report.outcomes {
        assert_eq!(outcome.state, PhoneState::Running);
        let job = outcome.job_id.as_ref().unwrap();
        assert_eq!(sim.job_truth(job.as_str()), Some(JobStatus::Running));
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deadline_ends_the_wait_with_jobs_still_running() {
    let sim = simulator(3, Duration::from_secs(30), Faults::default()).await;
    let client = builder(&sim, ak_sk()).build().unwrap();
    let started = Instant::now();
    let options = WaitOptions::new().deadline(started + Duration::from_millis(300));
    let report = client
        .restart(&restart(&sim.phone_ids()), &options)
        .await
        .unwrap();
    assert_eq!(report.end, WaitEnd::DeadlineExceeded);
    // Far sooner than the 30 s jobs: the deadline, not the jobs, ended the wait.
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(
        report
            .outcomes
            .iter()
            .all(|o| o.job_id.is_some() && o.state == PhoneState::Running)
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_auth_and_reads_work_and_bad_credentials_are_not_retried() {
    let sim = simulator(25, Duration::from_millis(100), Faults::default()).await;
    let client = builder(&sim, Credentials::token(cph_sim::DEFAULT_AUTH_TOKEN))
        .build()
        .unwrap();
    let phones = client.list_phones(&PhoneFilter::default()).await.unwrap();
    let listed: Vec<String> = phones.iter().filter_map(|p| p.phone_id.clone()).collect();
    assert_eq!(listed, sim.phone_ids());
    let first = PhoneId::new(listed[0].as_str()).unwrap();
    let detail = client.show_phone(&first).await.unwrap();
    assert_eq!(detail.summary.phone_id.as_deref(), Some(first.as_str()));

    sim.reset_stats();
    let wrong = builder(
        &sim,
        Credentials::ak_sk(cph_sim::DEFAULT_ACCESS_KEY, "wrong-secret"),
    )
    .build()
    .unwrap();
    let err = wrong.show_phone(&first).await.unwrap_err();
    match &err {
        Error::Api {
            status,
            code,
            request_id,
            ..
        } => {
            assert_eq!(*status, 401);
            assert!(
                code.as_deref().is_some_and(cph_types::is_auth_failure),
                "{err}"
            );
            assert!(request_id.is_some());
        }
        other => panic!("{other:?}"),
    }
    assert!(!err.to_string().contains("wrong-secret"));
    assert_eq!(sim.stats().total_requests, 1);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_attempt_timeouts_retry_gets_but_never_resend_a_submit() {
    let faults = Faults {
        latency_ms: 400,
        ..Faults::default()
    };
    let sim = simulator(2, Duration::from_millis(100), faults).await;
    let client = builder(&sim, ak_sk())
        .request_timeout(Duration::from_millis(100))
        .max_retries(2)
        .build()
        .unwrap();
    let phone = PhoneId::new(sim.phone_ids()[0].as_str()).unwrap();
    let err = client.show_phone(&phone).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transport {
                kind: cph_http::TransportKind::Timeout,
                ..
            }
        ),
        "{err}"
    );
    let submission = client
        .submit(&restart(&sim.phone_ids()), &WaitOptions::new())
        .await
        .unwrap();
    assert!(submission.phones.iter().all(|p| matches!(
        &p.result,
        SubmitResult::Unknown {
            error: Error::Transport { .. }
        }
    )));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let stats = sim.stats();
    assert_eq!(
        stats.requests.get("ShowCloudPhoneDetail"),
        Some(&3),
        "GET tried 1 + 2 times"
    );
    assert_eq!(
        stats.requests.get("RestartCloudPhone"),
        Some(&1),
        "POST sent once"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_connections_are_retried_then_reported_as_connect_failures() {
    // Bind and drop a listener to get a loopback port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = Client::builder(
        Endpoint::url(format!("http://127.0.0.1:{port}")),
        ProjectId::new(cph_sim::DEFAULT_PROJECT_ID).unwrap(),
        ak_sk(),
    )
    .retry_backoff(Duration::from_millis(1), Duration::from_millis(5))
    .max_retries(2)
    .build()
    .unwrap();
    let err = client
        .list_phones(&PhoneFilter::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transport {
                kind: cph_http::TransportKind::Connect,
                operation: "ListCloudPhones",
                attempts: 3,
                ..
            }
        ),
        "{err}"
    );
    // The words name the endpoint, the attempts made and what to check.
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "ListCloudPhones to http://127.0.0.1:{port} failed after 3 attempts over "
        )) && text.contains("connection failed")
            && text.contains("Check that the endpoint is right")
            && text.contains("CPH_ENDPOINT"),
        "{text}"
    );
    let submission = client
        .submit(
            &restart(&["0123456789abcdef0123456789abcdef".to_owned()]),
            &WaitOptions::new(),
        )
        .await
        .unwrap();
    assert!(
        matches!(&submission.phones[0].result, SubmitResult::Failed { .. }),
        "nothing was sent, so the chunk certainly failed"
    );
}

/// Faults that hit after the service acted, besides throttling and server errors before it.
fn acted_faults() -> Faults {
    Faults {
        throttle_rate: 0.1,
        server_error_rate: 0.1,
        server_error_status: 503,
        acted_error_rate: 0.3,
        acted_drop_rate: 0.2,
        job_failure_rate: 0.1,
        ..Faults::default()
    }
}

/// Whether `outcome` is the simulator's truth: by its job when it has one, else by the phone's status.
fn agrees_with_truth(sim: &Simulator, outcome: &cph_http::PhoneOutcome, path: StatusPath) -> bool {
    match (&outcome.job_id, outcome.state) {
        (Some(job), PhoneState::Succeeded) => {
            sim.job_outcome(job.as_str()) == Some(JobStatus::Success)
        }
        (Some(job), PhoneState::Failed) => sim.job_outcome(job.as_str()) == Some(JobStatus::Failed),
        (None, PhoneState::Succeeded) => {
            sim.phone(outcome.phone_id.as_str())
                .and_then(|p| p.summary.status)
                == Some(path.success)
        }
        (None, PhoneState::Failed) => {
            sim.phone(outcome.phone_id.as_str())
                .and_then(|p| p.summary.status)
                == Some(path.failure)
        }
        _ => false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_acted_500s_and_dropped_answers_every_phone_ends_with_its_true_outcome_submitted_once()
 {
    for operation in [BatchOperation::Restart, BatchOperation::Stop] {
        let sim = simulator(60, Duration::from_millis(1500), acted_faults()).await;
        let client = builder(&sim, ak_sk())
            .batch_size(NonZeroUsize::new(5).unwrap())
            .max_retries(10)
            .build()
            .unwrap();
        let ids = sim.phone_ids();
        let report = match operation {
            BatchOperation::Stop => client
                .stop(
                    &StopRequest::new(ids.iter().map(|id| PhoneId::new(id.as_str()).unwrap())),
                    &WaitOptions::new(),
                )
                .await
                .unwrap(),
            _ => client
                .restart(&restart(&ids), &WaitOptions::new())
                .await
                .unwrap(),
        };
        assert_eq!(report.end, WaitEnd::Finished, "{operation:?}");
        let stats = sim.stats();
        assert!(
            stats.faults_injected.get("acted_500").copied().unwrap_or(0) > 0
                && stats
                    .faults_injected
                    .get("acted_drop")
                    .copied()
                    .unwrap_or(0)
                    > 0,
            "{operation:?}: {:?}",
            stats.faults_injected
        );
        let path = operation.status_path().unwrap();
        for outcome in &report.outcomes {
            assert!(
                agrees_with_truth(&sim, outcome, path),
                "{operation:?}: phone {} ended {:?} (job {:?}, {:?}), the simulator says otherwise",
                outcome.phone_id,
                outcome.state,
                outcome.job_id,
                outcome.error_msg
            );
        }
        // Reconciled by status: no job id, but a true outcome all the same.
        assert!(
            report.outcomes.iter().any(|o| o.job_id.is_none()),
            "{operation:?}: no answer was dropped after acting"
        );
        for id in &ids {
            assert_eq!(
                stats.submissions.get(id),
                Some(&1),
                "{operation:?}: phone {id}"
            );
        }
        sim.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operation_without_a_status_trace_is_found_by_its_jobs_or_left_unknown_never_resent() {
    let update = |ids: &[String]| {
        UpdatePropertyRequest::new(ids.iter().map(|id| UpdatePropertyPhone {
            phone_id: PhoneId::new(id.as_str()).unwrap(),
            property: {
                let mut map = PropertyMap::new();
                map.insert("sys.prop.writewifissid", "lab");
                map.to_api_string()
            },
            custom_property: None,
        }))
    };
    // A 500 after acting names the request: ListJobs finds its jobs.
    let faults = Faults {
        acted_error_rate: 1.0,
        ..Faults::default()
    };
    let sim = simulator(3, Duration::from_millis(300), faults).await;
    let client = builder(&sim, ak_sk()).build().unwrap();
    let report = client
        .update_property(&update(&sim.phone_ids()), &WaitOptions::new())
        .await
        .unwrap();
    assert!(report.all_succeeded(), "{:?}", report.unsuccessful().next());
    assert!(report.outcomes.iter().all(|o| o.job_id.is_some()));
    sim.shutdown().await;

    // No answer at all: nothing can show whether it acted; unknown, saying so, and not sent again.
    let faults = Faults {
        acted_drop_rate: 1.0,
        ..Faults::default()
    };
    let sim = simulator(3, Duration::from_millis(300), faults).await;
    let client = builder(&sim, ak_sk()).build().unwrap();
    let ids = sim.phone_ids();
    let report = client
        .update_property(&update(&ids), &WaitOptions::new())
        .await
        .unwrap();
    for outcome in &report.outcomes {
        assert_eq!(outcome.state, PhoneState::SubmitUnknown);
        let message = outcome.error_msg.as_deref().unwrap();
        assert!(
            message.contains("the service may have acted, but nothing shows it")
                && message.contains("does not show in a phone's status"),
            "{message}"
        );
    }
    let stats = sim.stats();
    assert_eq!(stats.requests.get("UpdateCloudPhoneProperty"), Some(&1));
    assert!(ids.iter().all(|id| stats.submissions.get(id) == Some(&1)));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_forgotten_before_it_was_seen_finished_is_lost_never_a_success() {
    let sim = Simulator::start(SimConfig {
        phones: 2,
        job_duration: Duration::from_millis(300),
        job_retention: Duration::ZERO,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    // Polling slower than the job: it ends, and is forgotten, between two rounds.
    let client = builder(&sim, ak_sk())
        .poll_interval(Duration::from_millis(600))
        .first_poll_delay(Duration::from_millis(600))
        .build()
        .unwrap();
    let ids = sim.phone_ids();
    let report = client
        .restart(&restart(&ids), &WaitOptions::new())
        .await
        .unwrap();
    for outcome in &report.outcomes {
        assert_eq!(outcome.state, PhoneState::Lost, "{outcome:?}");
        let message = outcome.error_msg.as_deref().unwrap();
        let job = outcome.job_id.as_ref().unwrap();
        assert!(
            message.contains(&format!("job {job} of phone {}", outcome.phone_id))
                && message.contains("is no longer known to the service"),
            "{message}"
        );
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_simulator_stopped_mid_wait_ends_the_run_unreachable_within_the_bound() {
    let sim = simulator(3, Duration::from_secs(30), Faults::default()).await;
    let endpoint = sim.base_url();
    let ids = sim.phone_ids();
    let client = builder(&sim, ak_sk())
        .give_up_after(Duration::from_secs(1))
        .build()
        .unwrap();
    let stopped = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        sim.shutdown().await;
        Instant::now()
    });
    let report = client
        .restart(&restart(&ids), &WaitOptions::new())
        .await
        .unwrap();
    let returned = Instant::now();
    let stopped_at = stopped.await.unwrap();
    let WaitEnd::Unreachable(failing) = &report.end else {
        panic!("{:?}", report.end)
    };
    assert_eq!(failing.endpoint, endpoint);
    assert!(failing.failing_for >= Duration::from_secs(1), "{failing:?}");
    assert!(
        matches!(failing.last_error, Error::Transport { .. }),
        "{failing:?}"
    );
    // Ended by the bound (1 s), not by the retries of each call nor by the 30 s jobs.
    assert!(
        returned.duration_since(stopped_at) < Duration::from_secs(3),
        "{:?} after the simulator stopped",
        returned.duration_since(stopped_at)
    );
    // Every phone was submitted, and is still running with its job: a later run resumes it.
    for outcome in &report.outcomes {
        assert_eq!(outcome.state, PhoneState::Running, "{outcome:?}");
        assert!(outcome.job_id.is_some());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadline_reached_after_the_simulator_stopped_carries_the_last_polling_error() {
    let sim = simulator(2, Duration::from_secs(30), Faults::default()).await;
    let ids = sim.phone_ids();
    let client = builder(&sim, ak_sk()).build().unwrap();
    let stopped = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        sim.shutdown().await;
    });
    let options = WaitOptions::new().deadline(Instant::now() + Duration::from_millis(1500));
    let report = client.restart(&restart(&ids), &options).await.unwrap();
    stopped.await.unwrap();
    assert_eq!(report.end, WaitEnd::DeadlineExceeded);
    let failing = report.failing.as_ref().expect("the last polls failed");
    assert!(
        matches!(failing.last_error, Error::Transport { .. }),
        "{failing:?}"
    );
    assert!(
        report
            .outcomes
            .iter()
            .all(|o| o.state == PhoneState::Running)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_information_is_asked_ten_phones_a_request_and_retried_as_a_read() {
    // 500s: the answers a batch request is never re-sent after, but a read is.
    let faults = Faults {
        server_error_rate: 0.3,
        server_error_status: 500,
        ..Faults::default()
    };
    let sim = simulator(23, Duration::from_millis(200), faults).await;
    let client = builder(&sim, ak_sk()).max_retries(20).build().unwrap();
    let mut ids: Vec<PhoneId> = sim
        .phone_ids()
        .iter()
        .map(|id| PhoneId::new(id.as_str()).unwrap())
        .collect();
    ids.push(PhoneId::new("0000000000000000000000000000beef").unwrap());
    let answer = client
        .connect_infos_within(&ids, cph_types::ClientType::H5Pc, &WaitOptions::new())
        .await
        .unwrap();
    assert_eq!(answer.connect_infos.len(), 23, "{answer:?}");
    assert_eq!(answer.errors.len(), 1, "{answer:?}");
    assert_eq!(answer.errors[0].error_code.as_deref(), Some("CPS.0005"));
    for (info, id) in answer.connect_infos.iter().zip(&ids) {
        assert_eq!(info.phone_id.as_deref(), Some(id.as_str()));
        let access = info.access_info.as_ref().unwrap();
        assert!(access.ticket.is_some() && access.access_port.is_some());
    }
    // The secrets stay secret in what the client can print.
    let debug = format!("{answer:?}");
    let ticket = answer.connect_infos[0]
        .access_info
        .as_ref()
        .unwrap()
        .ticket
        .as_ref()
        .unwrap();
    assert!(!debug.contains(ticket.expose()), "{debug}");
    // 24 phones: three requests of at most ten, whatever 500s were retried on the way.
    let stats = sim.stats();
    let asked = stats
        .requests
        .get("BatchShowPhoneConnectInfos")
        .copied()
        .unwrap_or(0);
    let faulted: u64 = stats.faults_injected.values().sum();
    assert_eq!(asked, 3 + faulted, "{stats:?}");
    sim.shutdown().await;
}
