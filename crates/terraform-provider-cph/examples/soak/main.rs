//! The soak command: 1,000 phones restarted through real Terraform against an in-process `cph-sim` that
//! injects 20% 429, 10% 503, 5% per-phone job failures and latency jitter (with `--ambiguous`: 10% 429,
//! 10% 503, 30% of batch requests answered 500 and 20% left unanswered after the service acted, 5% job
//! failures). Prints wall time, API calls per route and the result of each check, and exits non-zero when
//! a check fails. `scripts/soak.sh` builds the
//! provider in release mode and runs this; see BENCHMARKS.md ("Soak") for figures.
//!
//! ```text
//! cargo build --release -p terraform-provider-cph
//! cargo run --release -p terraform-provider-cph --example soak -- [--phones 1000] [--job-duration 5s]
//!     [--batch-size 100] [--max-retries 20] [--poll-interval 1s] [--seed 1] [--time-bound 300s]
//!     [--terraform-version 1.11] [--provider PATH] [--ambiguous]
//! ```
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod run;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use run::{SoakConfig, run};

const USAGE: &str = "usage: soak [--phones N] [--job-duration 5s] [--batch-size N] [--max-retries N] \
[--poll-interval 1s] [--seed N] [--time-bound 300s] [--terraform-version 1.11] [--provider PATH] \
[--ambiguous]";

struct Args {
    phones: usize,
    job_duration: Duration,
    batch_size: usize,
    max_retries: u32,
    poll_interval: Duration,
    seed: u64,
    time_bound: Duration,
    terraform_version: String,
    provider: Option<PathBuf>,
    ambiguous: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        phones: 1000,
        job_duration: Duration::from_secs(5),
        batch_size: 100,
        max_retries: 20,
        poll_interval: Duration::from_secs(1),
        seed: 1,
        time_bound: Duration::from_secs(300),
        terraform_version: "1.11".into(),
        provider: None,
        ambiguous: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--help" || flag == "-h" {
            return Err(USAGE.into());
        }
        if flag == "--ambiguous" {
            args.ambiguous = true;
            continue;
        }
        let value = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let number = |v: &str| {
            v.parse::<u64>()
                .map_err(|e| format!("{flag} {v:?}: {e}\n{USAGE}"))
        };
        let duration = |v: &str| {
            humantime::parse_duration(v).map_err(|e| format!("{flag} {v:?}: {e}\n{USAGE}"))
        };
        match flag.as_str() {
            "--phones" => args.phones = usize::try_from(number(&value)?).unwrap_or(usize::MAX),
            "--job-duration" => args.job_duration = duration(&value)?,
            "--batch-size" => {
                args.batch_size = usize::try_from(number(&value)?).unwrap_or(usize::MAX);
            }
            "--max-retries" => {
                args.max_retries = u32::try_from(number(&value)?).unwrap_or(u32::MAX);
            }
            "--poll-interval" => args.poll_interval = duration(&value)?,
            "--seed" => args.seed = number(&value)?,
            "--time-bound" => args.time_bound = duration(&value)?,
            "--terraform-version" => args.terraform_version = value,
            "--provider" => args.provider = Some(PathBuf::from(value)),
            other => return Err(format!("unknown option {other:?}\n{USAGE}")),
        }
    }
    Ok(args)
}

/// The release build of the provider next to this example (`target/release/terraform-provider-cph`),
/// or the debug one for a debug build of the example.
fn default_provider() -> PathBuf {
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    test_support::target_dir()
        .join(profile)
        .join("terraform-provider-cph")
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let Some(terraform) = test_support::terraform::binaries()
        .into_iter()
        .find(|tf| tf.version.starts_with(&args.terraform_version))
    else {
        eprintln!(
            "no Terraform {} in .tools/ (run scripts/install-terraform.sh)",
            args.terraform_version
        );
        return ExitCode::from(2);
    };
    let provider = args.provider.unwrap_or_else(default_provider);
    if !provider.exists() {
        eprintln!(
            "provider binary {} does not exist: cargo build --release -p terraform-provider-cph",
            provider.display()
        );
        return ExitCode::from(2);
    }
    let config = SoakConfig {
        phones: args.phones,
        job_duration: args.job_duration,
        faults: if args.ambiguous {
            SoakConfig::ambiguous_faults()
        } else {
            SoakConfig::issue_faults()
        },
        batch_size: args.batch_size,
        max_retries: args.max_retries,
        poll_interval: args.poll_interval,
        seed: args.seed,
        time_bound: args.time_bound,
        terraform,
        provider,
    };
    println!(
        "soak: {} phones, jobs of {}, faults {:?}, batch_size {}, max_retries {}, poll_interval {}, {}",
        config.phones,
        humantime::format_duration(config.job_duration),
        config.faults,
        config.batch_size,
        config.max_retries,
        humantime::format_duration(config.poll_interval),
        config.terraform
    );
    match run(&config) {
        Ok(report) => {
            print!("{}", report.render());
            if report.passed() {
                println!("soak passed");
                ExitCode::SUCCESS
            } else {
                println!(
                    "soak FAILED; terraform apply output (tail):\n{}",
                    tail(&report.apply_output, 4000)
                );
                ExitCode::FAILURE
            }
        }
        Err(message) => {
            eprintln!("soak could not run: {message}");
            ExitCode::FAILURE
        }
    }
}

fn tail(text: &str, max: usize) -> &str {
    let mut start = text.len().saturating_sub(max);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}
