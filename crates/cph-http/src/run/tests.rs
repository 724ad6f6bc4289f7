//! Tests of the drive loop against the fake service on a manual clock: waiting, polling pace and
//! bulk listing, rollouts, reconciling what failed ambiguously, deadlines and cancellation, and a
//! run against an endpoint that stopped answering.
#![allow(clippy::unwrap_used)]

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cph_types::{RequestId, RestartRequest};
use tokio_util::sync::CancellationToken;

use crate::fake::*;
use crate::*;

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
    let report = client
        .poll_once(&recorded("lost1", job_id(1)), &WaitOptions::new())
        .await;
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
        // The report of a window going out comes first; cancel after the first polling round.
        if p.submitted > 0 {
            return;
        }
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
            total: 3,
            submitted: 0,
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

#[tokio::test]
async fn unsure_phones_are_read_first_and_only_those_with_no_sign_are_sent_again() {
    let (client, fake, _) = setup(|b| b);
    // An earlier run sent "a" and "b" (request req001), and recorded their outcome unknown: "a"
    // with the request's id, "b" without one. "c" was never sent.
    client
        .submit(&restart(&["a", "b"]), &WaitOptions::new())
        .await
        .unwrap();
    let earlier = Earlier {
        unsure: vec![
            unsure("a", Some("req001")),
            unsure("b", None),
            unsure("c", None),
        ],
        ..Earlier::default()
    };
    let report = client
        .run_batch(
            Some(&restart(&["a", "b", "c"])),
            earlier,
            &WaitOptions::new(),
        )
        .await
        .unwrap();
    assert_eq!(report.end, WaitEnd::Finished);
    // "a": a job of req001; "b": found restarting; "c": no sign, so sent (alone) once more.
    assert_eq!(window_sizes(&fake), [2, 1], "only c was sent again");
    let order: Vec<&str> = report
        .outcomes
        .iter()
        .map(|o| o.phone_id.as_str())
        .collect();
    assert_eq!(order, ["a", "b", "c"], "in request order");
    assert!(report.all_succeeded(), "{report:?}");
    let jobs: Vec<Option<cph_types::JobId>> =
        report.outcomes.iter().map(|o| o.job_id.clone()).collect();
    assert_eq!(jobs, [Some(job_id(0)), None, Some(job_id(2))]);
    assert_eq!(
        report.reconciled,
        Reconciled {
            by_job: 1,
            by_status: 1,
            resent: 1,
            held: 0
        }
    );
    assert_eq!(report.reconciled.read(), 3);
}

#[tokio::test]
async fn an_unsure_phone_the_service_cannot_be_read_about_is_held_never_sent() {
    let (client, fake, _) = setup(|b| b.max_retries(0));
    client
        .submit(&restart(&["a"]), &WaitOptions::new())
        .await
        .unwrap();
    fake.fault(Fault::Status(503, None));
    let earlier = Earlier {
        unsure: vec![unsure("a", Some("req001"))],
        ..Earlier::default()
    };
    let report = client
        .run_batch(Some(&restart(&["a"])), earlier, &WaitOptions::new())
        .await
        .unwrap();
    assert_eq!(
        fake.count(Method::Post, "batch-restart"),
        1,
        "not sent again"
    );
    let held = &report.outcomes[0];
    assert_eq!(held.state, PhoneState::Held);
    assert_eq!(held.request_id, Some(RequestId::new("req001").unwrap()));
    assert_eq!(
        held.error_msg.as_deref(),
        Some("ListJobs failed with http 503 E.503: injected (request id body-req)")
    );
    assert_eq!(report.reconciled.held, 1);
    // A phone to read that the request does not carry could never be sent again: refused.
    let earlier = Earlier {
        unsure: vec![unsure("x", None)],
        ..Earlier::default()
    };
    let refused = client
        .run_batch(Some(&restart(&["a"])), earlier, &WaitOptions::new())
        .await;
    assert!(
        matches!(&refused, Err(Error::InvalidInput { reason, .. }) if reason.contains("phone x")),
        "{refused:?}"
    );
    assert_eq!(fake.requests().len(), 2, "nothing sent for the refused run");
}

#[tokio::test]
async fn a_refreshed_record_whose_job_is_another_phones_is_lost_never_a_success() {
    let (client, _, timer) = setup(|b| b);
    client
        .submit(&restart(&["a", "b"]), &WaitOptions::new())
        .await
        .unwrap();
    timer.advance(JOB_DURATION);
    // Phone b's record names job0000, which is phone a's (and succeeded).
    let report = client
        .poll_once(&recorded("b", job_id(0)), &WaitOptions::new())
        .await;
    let outcome = &report.outcomes[0];
    assert_eq!(outcome.state, PhoneState::Lost);
    assert!(
        outcome
            .error_msg
            .as_deref()
            .unwrap()
            .starts_with("job job0000 is phone a's, not phone b's"),
        "{outcome:?}"
    );
}

/// The bound of the fake client's runs on an endpoint that stopped answering (the default).
const GIVE_UP: Duration = Duration::from_secs(180);

#[tokio::test]
async fn a_run_whose_every_call_fails_for_the_bound_ends_unreachable_with_its_jobs_still_running() {
    let (client, fake, timer) = setup(|b| b);
    let submission = client
        .submit(&restart(&["a", "b"]), &WaitOptions::new())
        .await
        .unwrap();
    fake.down(Duration::from_millis(500)..Duration::MAX);
    let report = client.wait(&submission, &WaitOptions::new()).await;
    let WaitEnd::Unreachable(failing) = &report.end else {
        panic!("{:?}", report.end)
    };
    // The first poll (1 s) failed; every call failed from then on, each with its own retries
    // (max_retries did not end the wait), until the bound.
    assert_eq!(failing.endpoint, "http://127.0.0.1:9");
    assert_eq!(failing.failing_for, GIVE_UP);
    assert_eq!(timer.elapsed(), Duration::from_secs(1) + GIVE_UP);
    assert!(
        failing.attempts > 6,
        "more than one call's retries: {failing:?}"
    );
    assert!(
        matches!(
            failing.last_error,
            Error::Transport {
                kind: TransportKind::Connect,
                ..
            }
        ),
        "{failing:?}"
    );
    assert_eq!(report.failing.as_ref(), Some(failing));
    // Submitted phones stay running with their jobs: a later run resumes them.
    for (outcome, job) in report.outcomes.iter().zip([job_id(0), job_id(1)]) {
        assert_eq!(outcome.state, PhoneState::Running);
        assert_eq!(outcome.job_id, Some(job));
    }
    // Every call of the wait was watched: each of its attempts failed and counts in the streak.
    assert_eq!(failing.attempts as usize, fake.requests().len() - 1);
}

#[tokio::test]
async fn any_answer_between_failures_starts_the_clock_again() {
    let (client, fake, timer) = setup(|b| b);
    let submission = client
        .submit(&restart(&["odd1"]), &WaitOptions::new())
        .await
        .unwrap();
    // Down for 150 s, up for 20 s (its job listed, still running), then down for good.
    fake.down(Duration::from_millis(500)..Duration::from_secs(150));
    fake.down(Duration::from_secs(170)..Duration::MAX);
    let report = client.wait(&submission, &WaitOptions::new()).await;
    let WaitEnd::Unreachable(failing) = &report.end else {
        panic!("{:?}", report.end)
    };
    assert_eq!(failing.failing_for, GIVE_UP);
    assert!(
        timer.elapsed() >= Duration::from_secs(170) + GIVE_UP,
        "{:?}",
        timer.elapsed()
    );
    assert_eq!(report.outcomes[0].state, PhoneState::Running);
}

#[tokio::test]
async fn a_deadline_passed_while_every_call_failed_says_how_they_failed() {
    let (client, fake, timer) = setup(|b| b);
    let submission = client
        .submit(&restart(&["a"]), &WaitOptions::new())
        .await
        .unwrap();
    fake.down(Duration::from_millis(500)..Duration::MAX);
    let deadline = timer.now() + Duration::from_secs(60);
    let report = client
        .wait(&submission, &WaitOptions::new().deadline(deadline))
        .await;
    assert_eq!(report.end, WaitEnd::DeadlineExceeded);
    let failing = report.failing.as_ref().unwrap();
    assert!(
        failing.failing_for >= Duration::from_secs(59),
        "{failing:?}"
    );
    assert!(matches!(failing.last_error, Error::Transport { .. }));
    assert_eq!(report.outcomes[0].state, PhoneState::Running);
    // A deadline that passes while the service answers says nothing of the kind.
    let (client, _, timer) = setup(|b| b);
    let deadline = timer.now() + Duration::from_secs(1);
    let report = client
        .submit_and_wait(&restart(&["odd1"]), &WaitOptions::new().deadline(deadline))
        .await
        .unwrap();
    assert_eq!(report.end, WaitEnd::DeadlineExceeded);
    assert_eq!(report.failing, None);
}
