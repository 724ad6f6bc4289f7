//! Benchmark (not a test): restarts N simulated phones through the client and waits on every job,
//! then prints wall time and API calls by route (from the simulator's counters) next to the
//! targets: calls <= ceil(N/batch) submits + rounds x sum over ListJobs groups of pages, and
//! wall time <= job duration + two poll intervals.
//!
//! `cargo run --release -p cph-http --example bench_wait -- --phones 1000 --job-duration 5s`
//! (also `--batch-size 100`, `--poll-interval 5s`, `--latency-ms 0`, `--max-requests-per-second 10` as the
//! provider's default, `--runs 5` to repeat and summarise, tighter targets `--max-calls 30` and
//! `--max-lag 1s` (wall time minus job duration), and `--per-job` to poll each job with its own ShowJob
//! call instead, for comparison).
#![allow(clippy::print_stdout)]

use std::num::{NonZeroU32, NonZeroUsize};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;

use cph_http::{Client, Credentials, Endpoint, PhoneState, WaitOptions};
use cph_sim::{Faults, SimConfig, Simulator};
use cph_types::{JobId, JobStatus, PhoneId, ProjectId, RestartPhone, RestartRequest};

/// Waits on N simulated phones' restart jobs and prints wall time and API calls.
#[derive(Parser)]
struct Args {
    /// Phones to restart.
    #[arg(long, default_value_t = 1000)]
    phones: usize,
    /// How long each simulated job runs.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    job_duration: Duration,
    /// Phones per batch request.
    #[arg(long, default_value_t = NonZeroUsize::new(100).unwrap_or(NonZeroUsize::MIN))]
    batch_size: NonZeroUsize,
    /// Time between polling rounds.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    poll_interval: Duration,
    /// Latency the simulator adds to every request.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Cap the client's requests per second, as the provider does (its default is 10).
    #[arg(long)]
    max_requests_per_second: Option<NonZeroU32>,
    /// Runs of the same wait, one after the other against the same simulator; with more than one,
    /// a summary (median, min, max) follows.
    #[arg(long, default_value_t = 1)]
    runs: usize,
    /// Also a target: at most this many API calls in every run.
    #[arg(long)]
    max_calls: Option<u64>,
    /// Also a target: every run ends within this long after the job duration.
    #[arg(long, value_parser = humantime::parse_duration)]
    max_lag: Option<Duration>,
    /// Instead of the bulk waiter, poll every job with its own ShowJob call each round (the
    /// one-job-at-a-time way), for comparison.
    #[arg(long)]
    per_job: bool,
}

/// What one run measured.
struct Run {
    wall: Duration,
    calls: u64,
    rounds: usize,
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("bench_wait: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let args = Args::parse();
    let sim = Simulator::start(SimConfig {
        phones: args.phones,
        job_duration: args.job_duration,
        faults: Faults {
            latency_ms: args.latency_ms,
            ..Faults::default()
        },
        ..SimConfig::default()
    })
    .await
    .map_err(|e| format!("cannot start the simulator: {e}"))?;
    let mut builder = Client::builder(
        Endpoint::url(sim.base_url()),
        ProjectId::new(sim.project_id()).map_err(|e| e.to_string())?,
        Credentials::ak_sk(cph_sim::DEFAULT_ACCESS_KEY, cph_sim::DEFAULT_SECRET_KEY),
    )
    .batch_size(args.batch_size)
    .poll_interval(args.poll_interval);
    if let Some(rate) = args.max_requests_per_second {
        builder = builder.max_requests_per_second(rate);
    }
    let client = builder.build().map_err(|e| e.to_string())?;
    let request = RestartRequest::new(
        sim.phone_ids()
            .into_iter()
            .map(|id| {
                PhoneId::new(id).map(|phone_id| RestartPhone {
                    phone_id,
                    property: None,
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?,
    );

    let n = args.phones;
    let batch = args.batch_size.get();
    let requests = n.div_ceil(batch);
    // Per round with every job still running: ceil(requests/20) ListJobs groups, each paged by 100.
    let per_round: usize = (0..requests)
        .collect::<Vec<_>>()
        .chunks(20)
        .map(|group| {
            let jobs: usize = group.iter().map(|&i| batch.min(n - i * batch)).sum();
            jobs.div_ceil(100)
        })
        .sum();
    let wall_target = args.job_duration + 2 * args.poll_interval;

    println!(
        "cph-http bench_wait ({}): {n} phones, batch size {batch}, job duration {:?}, poll interval {:?}{}",
        if args.per_job {
            "one ShowJob per job per round"
        } else {
            "bulk ListJobs waiter"
        },
        args.job_duration,
        args.poll_interval,
        args.max_requests_per_second
            .map_or_else(String::new, |r| format!(", at most {r} requests/s"))
    );
    let mut runs = Vec::new();
    let mut missed = false;
    for number in 1..=args.runs.max(1) {
        sim.reset_stats();
        let started = Instant::now();
        let (rounds, succeeded, failed, end) = if args.per_job {
            per_job_wait(&client, &request, args.poll_interval).await?
        } else {
            let report = client
                .restart(&request, &WaitOptions::new())
                .await
                .map_err(|e| e.to_string())?;
            (
                report.rounds as usize,
                report.count(PhoneState::Succeeded),
                report.count(PhoneState::Failed),
                format!("{:?}", report.end),
            )
        };
        let wall = started.elapsed();
        let stats = sim.stats();
        let call_target = requests + rounds * per_round;
        let lag = wall.saturating_sub(args.job_duration);

        if args.runs > 1 {
            println!("run {number}:");
        }
        println!(
            "outcome: {succeeded} succeeded, {failed} failed, {} other; end {end}; {rounds} polling rounds",
            n - succeeded - failed
        );
        println!(
            "wall time: {:.2}s (target <= {:.2}s = job duration + 2 poll intervals{}); {:.2}s after the job duration",
            wall.as_secs_f64(),
            wall_target.as_secs_f64(),
            args.max_lag.map_or_else(String::new, |l| format!(
                ", and <= {:.2}s after it",
                l.as_secs_f64()
            )),
            lag.as_secs_f64()
        );
        println!(
            "API calls: {} (target <= {call_target} = {requests} submits + {rounds} rounds x {per_round} ListJobs pages{})",
            stats.total_requests,
            args.max_calls
                .map_or_else(String::new, |c| format!(", and <= {c}"))
        );
        for (route, count) in &stats.requests {
            println!("  {route}: {count}");
        }
        // The per-job run is the comparison: no target, it shows what the bulk waiter saves.
        if !args.per_job
            && (stats.total_requests as usize > call_target
                || wall > wall_target
                || succeeded != n
                || args.max_calls.is_some_and(|c| stats.total_requests > c)
                || args.max_lag.is_some_and(|l| lag > l))
        {
            missed = true;
        }
        runs.push(Run {
            wall,
            calls: stats.total_requests,
            rounds,
        });
    }
    sim.shutdown().await;
    if runs.len() > 1 {
        let mut walls: Vec<Duration> = runs.iter().map(|r| r.wall).collect();
        let mut calls: Vec<u64> = runs.iter().map(|r| r.calls).collect();
        let mut rounds: Vec<usize> = runs.iter().map(|r| r.rounds).collect();
        walls.sort_unstable();
        calls.sort_unstable();
        rounds.sort_unstable();
        let mid = runs.len() / 2;
        println!(
            "summary of {} runs (median, min, max): wall time {:.2}s, {:.2}s, {:.2}s; API calls {}, {}, {}; \
             polling rounds {}, {}, {}",
            runs.len(),
            walls[mid].as_secs_f64(),
            walls[0].as_secs_f64(),
            walls[runs.len() - 1].as_secs_f64(),
            calls[mid],
            calls[0],
            calls[runs.len() - 1],
            rounds[mid],
            rounds[0],
            rounds[runs.len() - 1]
        );
    }
    if missed {
        return Err("target missed".to_owned());
    }
    Ok(())
}

/// The naive waiter, for comparison: submit, then every round one ShowJob per unfinished job.
async fn per_job_wait(
    client: &Client,
    request: &RestartRequest,
    poll_interval: Duration,
) -> Result<(usize, usize, usize, String), String> {
    let submission = client
        .submit(request, &WaitOptions::new())
        .await
        .map_err(|e| e.to_string())?;
    let mut pending: Vec<JobId> = submission.accepted().map(|(_, job)| job.clone()).collect();
    let (mut succeeded, mut failed, mut rounds) = (0, 0, 0);
    tokio::time::sleep(poll_interval.min(Duration::from_secs(1))).await;
    while !pending.is_empty() {
        rounds += 1;
        let mut still = Vec::new();
        for job_id in pending {
            let job = client.show_job(&job_id).await.map_err(|e| e.to_string())?;
            match job.status {
                JobStatus::Success => succeeded += 1,
                JobStatus::Failed => failed += 1,
                _ => still.push(job_id),
            }
        }
        pending = still;
        if !pending.is_empty() {
            tokio::time::sleep(poll_interval).await;
        }
    }
    Ok((rounds, succeeded, failed, "Finished".to_owned()))
}
