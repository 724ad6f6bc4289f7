//! Tests of the client core against the fake service: retries, signing, credentials, the
//! endpoint and builder, flow control, and the paging of listings.
#![allow(clippy::unwrap_used)]

use std::num::NonZeroU32;
use std::time::Duration;

use cph_types::{ProjectId, RequestId};
use serde_json::{Value, json};

use crate::fake::*;
use crate::*;

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
