//! Benchmark (not a test): restarts N simulated phones through the client and waits on every job,
//! then prints wall time and API calls by route (from the simulator's counters) next to the
//! targets: calls <= ceil(N/batch) submits + rounds x sum over ListJobs groups of pages, and
//! wall time <= job duration + two poll intervals.
//!
//! `cargo run --release -p cph-http --example bench_wait -- --phones 1000 --job-duration 5s`
//! (also `--batch-size 100`, `--poll-interval 5s`, `--latency-ms 0`).
#![allow(clippy::print_stdout)]

use std::num::NonZeroUsize;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use cph_http::{Client, Credentials, Endpoint, PhoneState, WaitOptions};
use cph_sim::{Faults, SimConfig, Simulator};
use cph_types::{PhoneId, ProjectId, RestartPhone, RestartRequest};

struct Args {
    phones: usize,
    job_duration: Duration,
    batch_size: NonZeroUsize,
    poll_interval: Duration,
    latency_ms: u64,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let (number, unit) = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .map_or((text, "s"), |i| text.split_at(i));
    let value: f64 = number
        .parse()
        .map_err(|_| format!("invalid duration {text:?}"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        _ => return Err(format!("invalid duration unit in {text:?}; use ms, s or m")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("invalid duration {text:?}: {e}"))
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        phones: 1000,
        job_duration: Duration::from_secs(5),
        batch_size: NonZeroUsize::new(100).ok_or("zero")?,
        poll_interval: Duration::from_secs(5),
        latency_ms: 0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = |v: &str| {
            v.parse::<u64>()
                .map_err(|_| format!("invalid {flag} {v:?}"))
        };
        match flag.as_str() {
            "--phones" => args.phones = number(&value)? as usize,
            "--job-duration" => args.job_duration = parse_duration(&value)?,
            "--poll-interval" => args.poll_interval = parse_duration(&value)?,
            "--latency-ms" => args.latency_ms = number(&value)?,
            "--batch-size" => {
                args.batch_size = NonZeroUsize::new(number(&value)? as usize)
                    .ok_or("--batch-size must be positive")?;
            }
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(args)
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
    let args = parse_args()?;
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
    let client = Client::builder(
        Endpoint::url(sim.base_url()),
        ProjectId::new(sim.project_id()).map_err(|e| e.to_string())?,
        Credentials::ak_sk(cph_sim::DEFAULT_ACCESS_KEY, cph_sim::DEFAULT_SECRET_KEY),
    )
    .batch_size(args.batch_size)
    .poll_interval(args.poll_interval)
    .build()
    .map_err(|e| e.to_string())?;
    let request = RestartRequest {
        image_id: None,
        phones: sim
            .phone_ids()
            .into_iter()
            .map(|id| {
                PhoneId::new(id).map(|phone_id| RestartPhone {
                    phone_id,
                    property: None,
                })
            })
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?,
    };

    sim.reset_stats();
    let started = Instant::now();
    let report = client
        .restart(&request, &WaitOptions::new())
        .await
        .map_err(|e| e.to_string())?;
    let wall = started.elapsed();
    let stats = sim.stats();
    sim.shutdown().await;

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
    let rounds = report.rounds as usize;
    let call_target = requests + rounds * per_round;
    let wall_target = args.job_duration + 2 * args.poll_interval;

    println!(
        "cph-http bench_wait: {n} phones, batch size {batch}, job duration {:?}, poll interval {:?}",
        args.job_duration, args.poll_interval
    );
    println!(
        "outcome: {} succeeded, {} failed, {} other; end {:?}; {} polling rounds",
        report.count(PhoneState::Succeeded),
        report.count(PhoneState::Failed),
        n - report.count(PhoneState::Succeeded) - report.count(PhoneState::Failed),
        report.end,
        rounds
    );
    println!(
        "wall time: {:.2}s (target <= {:.2}s = job duration + 2 poll intervals)",
        wall.as_secs_f64(),
        wall_target.as_secs_f64()
    );
    println!(
        "API calls: {} (target <= {call_target} = {requests} submits + {rounds} rounds x {per_round} ListJobs pages)",
        stats.total_requests
    );
    for (route, count) in &stats.requests {
        println!("  {route}: {count}");
    }
    if stats.total_requests as usize > call_target || wall > wall_target || !report.all_succeeded()
    {
        return Err("target missed".to_owned());
    }
    Ok(())
}
