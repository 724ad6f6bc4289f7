//! The soak run shared by the `soak` example (1,000 phones) and the test suite (`tests/faults.rs`, 100
//! phones): real Terraform applies one `cph_phone_restart` of every phone against an in-process `cph-sim`
//! that injects throttling (429), server errors (503), per-phone job failures and latency jitter, and
//! optionally batch requests answered 500 or left unanswered after the service acted; then every phone's
//! recorded outcome is compared with the simulator's truth and the simulator's counters prove that no
//! phone was submitted twice within an apply.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use cph_sim::{Faults, SIM_JOB_FAILED, SimConfig, Simulator, Stats};
use cph_types::{JobStatus, PhoneStatus};
use terraform_provider_cph::PROVIDER_ADDRESS;
use test_support::terraform::{TerraformBinary, Workdir};

const ACCESS_KEY: &str = "SOAKACCESSKEY0000001";
const SECRET_KEY: &str = "soak-secret-key-value-not-for-logs";
const PROJECT_ID: &str = "0123456789abcdef0123456789abcdef";

/// What a soak run does.
#[derive(Debug, Clone)]
pub struct SoakConfig {
    /// Phones in the fleet, all restarted by one resource.
    pub phones: usize,
    /// How long each simulated job runs.
    pub job_duration: Duration,
    /// Faults the simulator injects from the start.
    pub faults: Faults,
    /// The provider's `batch_size`.
    pub batch_size: usize,
    /// The provider's `max_retries`.
    pub max_retries: u32,
    /// The provider's `poll_interval`.
    pub poll_interval: Duration,
    /// The simulator's seed (ids, failures, fault draws).
    pub seed: u64,
    /// The apply must end within this long.
    pub time_bound: Duration,
    /// The Terraform to run.
    pub terraform: TerraformBinary,
    /// The provider binary.
    pub provider: PathBuf,
}

impl SoakConfig {
    /// The issue's fault mix: 20% 429, 10% 503, 5% job failures, 10..60 ms latency per request.
    pub fn issue_faults() -> Faults {
        Faults {
            job_failure_rate: 0.05,
            throttle_rate: 0.2,
            server_error_rate: 0.1,
            server_error_status: 503,
            latency_ms: 10,
            latency_jitter_ms: 50,
            ..Faults::default()
        }
    }

    /// The ambiguous mix: 10% 429 and 10% 503 before the service acts, 30% of batch requests
    /// answered 500 and 20% left without an answer after it acted, 5% job failures, latency jitter
    /// (`soak --ambiguous`; the test suite's run of these faults is the 60-phone test in
    /// `tests/faults.rs`, which shares this module but not this mix).
    #[allow(dead_code)]
    pub fn ambiguous_faults() -> Faults {
        Faults {
            job_failure_rate: 0.05,
            throttle_rate: 0.1,
            server_error_rate: 0.1,
            server_error_status: 503,
            acted_error_rate: 0.3,
            acted_drop_rate: 0.2,
            latency_ms: 10,
            latency_jitter_ms: 50,
        }
    }
}

/// One check of a soak run.
#[derive(Debug, Clone)]
pub struct Check {
    /// What is checked.
    pub name: &'static str,
    /// Whether it held.
    pub passed: bool,
    /// Figures, or what went wrong.
    pub detail: String,
}

/// What a soak run measured and found.
#[derive(Debug, Clone)]
pub struct SoakReport {
    /// The Terraform version driven.
    pub terraform: String,
    /// Phones in the fleet.
    pub phones: usize,
    /// Wall time of `terraform apply`.
    pub apply_time: Duration,
    /// Wall time of the whole run (apply, show, second plan).
    pub total_time: Duration,
    /// Phones recorded as succeeded / failed.
    pub succeeded: usize,
    /// Phones recorded as failed.
    pub failed: usize,
    /// The simulator's counters at the end.
    pub stats: Stats,
    /// Every check, in order.
    pub checks: Vec<Check>,
    /// Terraform's apply output, kept for failure messages.
    pub apply_output: String,
}

impl SoakReport {
    /// Whether every check held.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }

    /// A human-readable summary: timing, API calls per route, injected faults, checks.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "soak: {} phones, terraform {}: apply {:.2} s, total {:.2} s; {} succeeded, {} failed",
            self.phones,
            self.terraform,
            self.apply_time.as_secs_f64(),
            self.total_time.as_secs_f64(),
            self.succeeded,
            self.failed
        );
        let api_calls: u64 = self.stats.requests.values().sum();
        let _ = writeln!(out, "API calls: {api_calls}");
        for (route, count) in &self.stats.requests {
            let _ = writeln!(out, "  {route:<24} {count}");
        }
        let _ = writeln!(out, "injected faults (by HTTP status):");
        for (status, count) in &self.stats.faults_injected {
            let _ = writeln!(out, "  {status:<24} {count}");
        }
        let _ = writeln!(out, "checks:");
        for check in &self.checks {
            let mark = if check.passed { "ok  " } else { "FAIL" };
            let _ = writeln!(out, "  [{mark}] {}: {}", check.name, check.detail);
        }
        out
    }
}

/// The configuration the soak applies: every phone listed by the data source, restarted in one resource
/// that accepts partial failure (the injected job failures are expected).
fn main_tf(config: &SoakConfig) -> String {
    format!(
        r#"terraform {{
  required_providers {{
    cph = {{ source = "{PROVIDER_ADDRESS}" }}
  }}
}}
provider "cph" {{
  batch_size    = {batch}
  max_retries   = {retries}
  poll_interval = "{poll}ms"
}}
data "cph_phones" "fleet" {{}}
resource "cph_phone_restart" "soak" {{
  phones                = [for p in data.cph_phones.fleet.phones : {{ phone_id = p.phone_id }}]
  allow_partial_failure = true
  timeouts {{
    create = "{timeout}s"
  }}
}}
"#,
        batch = config.batch_size,
        retries = config.max_retries,
        poll = config.poll_interval.as_millis(),
        timeout = config.time_bound.as_secs().max(1),
    )
}

/// Runs the soak: starts the simulator, applies, compares. `Err` only when the run itself could not be
/// set up (the simulator did not start, Terraform's output was unreadable); failed checks are in the
/// report.
pub fn run(config: &SoakConfig) -> Result<SoakReport, String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot build a runtime: {e}"))?;
    let sim = runtime
        .block_on(Simulator::start(SimConfig {
            phones: config.phones,
            seed: config.seed,
            job_duration: config.job_duration,
            access_key: ACCESS_KEY.into(),
            secret_key: SECRET_KEY.into(),
            project_id: PROJECT_ID.into(),
            faults: config.faults.clone(),
            ..SimConfig::default()
        }))
        .map_err(|e| format!("cannot start the simulator: {e}"))?;
    let result = drive(config, &sim);
    runtime.block_on(sim.shutdown());
    result
}

fn drive(config: &SoakConfig, sim: &Simulator) -> Result<SoakReport, String> {
    let mut dir = Workdir::new(&config.terraform, PROVIDER_ADDRESS, &config.provider);
    dir.env("CPH_ENDPOINT", &sim.base_url())
        .env("HW_PROJECT_ID", PROJECT_ID)
        .env("HW_ACCESS_KEY", ACCESS_KEY)
        .env("HW_SECRET_KEY", SECRET_KEY);
    dir.write("main.tf", &main_tf(config));

    let started = Instant::now();
    let apply = dir.run(&["apply", "-auto-approve", "-input=false"]);
    let apply_time = started.elapsed();
    let mut checks = Vec::new();
    checks.push(Check {
        name: "apply succeeded",
        passed: apply.code == 0,
        detail: format!("exit code {}", apply.code),
    });
    checks.push(Check {
        name: "apply ended in bounded time",
        passed: apply_time <= config.time_bound,
        detail: format!(
            "{:.2} s (bound {} s)",
            apply_time.as_secs_f64(),
            config.time_bound.as_secs()
        ),
    });

    let show = dir.run(&["show", "-json"]);
    if show.code != 0 {
        return Err(format!(
            "terraform show failed:\n{}\napply output:\n{}",
            show.combined(),
            apply.combined()
        ));
    }
    let state: serde_json::Value = serde_json::from_str(&show.stdout)
        .map_err(|e| format!("terraform show -json is not JSON: {e}"))?;
    let jobs = restart_jobs(&state);

    let phone_ids = sim.phone_ids();
    let ambiguous = config.faults.acted_error_rate > 0.0 || config.faults.acted_drop_rate > 0.0;
    checks.push(check_jobs_follow_phones(&jobs, &phone_ids));
    let truth = check_outcomes_match_truth(&jobs, sim);
    let (succeeded, failed, unknown) = (truth.succeeded, truth.failed, truth.unknown);
    checks.push(truth.check);

    let stats = sim.stats();
    checks.push(check_submitted_once(&stats, &phone_ids));
    checks.push(check_faults_injected(&stats, ambiguous));
    checks.push(check_failure_warning(
        &apply.combined(),
        failed + unknown,
        phone_ids.len(),
    ));

    // The second plan calls nothing and plans exactly the failed (and unknown) phones again (none when
    // all succeeded).
    let plan = dir.run(&["plan", "-input=false", "-detailed-exitcode"]);
    let after = sim.stats();
    let resubmitted =
        after.submissions.values().sum::<u64>() - stats.submissions.values().sum::<u64>();
    checks.push(check_second_plan(
        plan.code,
        &plan.combined(),
        failed,
        unknown,
        resubmitted,
    ));

    // A second apply (with the faults off after an ambiguous run) acts on the failed and unknown phones
    // alone, each at most once, and leaves state agreeing with the simulator for every phone.
    if failed + unknown > 0 {
        let failed_ids: Vec<&str> = jobs
            .iter()
            .filter(|j| field(j, "status") != "success")
            .map(|j| field(j, "phone_id"))
            .collect();
        if ambiguous {
            sim.set_faults(Faults::default());
        }
        let retry = dir.run(&["apply", "-auto-approve", "-input=false"]);
        let retried = sim.stats();
        let acted: Vec<(&String, u64)> = retried
            .submissions
            .iter()
            .filter_map(|(id, n)| {
                let before = after.submissions.get(id).copied().unwrap_or(0);
                (*n > before).then_some((id, n - before))
            })
            .collect();
        // A phone recorded `unknown` whose earlier request is found performed is waited on, not sent.
        let only_failed = acted.len() <= failed_ids.len()
            && acted.len() + unknown >= failed_ids.len()
            && acted
                .iter()
                .all(|(id, n)| *n == 1 && failed_ids.contains(&id.as_str()));
        checks.push(Check {
            name: "a second apply retries the failed and unknown phones alone, at most once each",
            passed: retry.code == 0 && only_failed,
            detail: format!(
                "exit code {}, {} phones acted on, {} had failed, {unknown} unknown",
                retry.code,
                acted.len(),
                failed_ids.len()
            ),
        });
        if ambiguous {
            let show = dir.run(&["show", "-json"]);
            let state: serde_json::Value = serde_json::from_str(&show.stdout)
                .map_err(|e| format!("terraform show -json is not JSON: {e}"))?;
            let after_retry = check_outcomes_match_truth(&restart_jobs(&state), sim);
            checks.push(Check {
                name: "after the second apply, state agrees with the simulator for every phone",
                passed: after_retry.check.passed && after_retry.unknown == 0,
                detail: after_retry.check.detail,
            });
            let most = retried.submissions.values().copied().max().unwrap_or(0);
            checks.push(Check {
                name: "no phone acted on more than twice over both applies",
                passed: most <= 2,
                detail: format!("at most {most} submissions of one phone"),
            });
        }
    }

    Ok(SoakReport {
        terraform: config.terraform.version.clone(),
        phones: phone_ids.len(),
        apply_time,
        total_time: started.elapsed(),
        succeeded,
        failed,
        stats,
        checks,
        apply_output: apply.combined(),
    })
}

fn tail(text: &str, max: usize) -> &str {
    let mut start = text.len().saturating_sub(max);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

/// `cph_phone_restart.soak`'s `jobs` records (a map keyed by phone id, taken in key order), empty when the
/// resource is not in state. A record whose key is not its phone id is dropped here, so the check below fails.
fn restart_jobs(state: &serde_json::Value) -> Vec<serde_json::Value> {
    state["values"]["root_module"]["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["address"] == "cph_phone_restart.soak")
        .and_then(|r| r["values"]["jobs"].as_object())
        .map(|records| {
            records
                .iter()
                .filter(|(key, job)| job["phone_id"] == key.as_str())
                .map(|(_, job)| job.clone())
                .collect()
        })
        .unwrap_or_default()
}

fn field<'a>(job: &'a serde_json::Value, name: &str) -> &'a str {
    job[name].as_str().unwrap_or("")
}

/// One record per phone of the fleet, keyed by its id (records come in key order).
fn check_jobs_follow_phones(jobs: &[serde_json::Value], phones: &[String]) -> Check {
    let recorded: Vec<&str> = jobs.iter().map(|j| field(j, "phone_id")).collect();
    let mut expected: Vec<&str> = phones.iter().map(String::as_str).collect();
    expected.sort_unstable();
    let passed = recorded == expected;
    Check {
        name: "one job record per phone, keyed by its id",
        passed,
        detail: if passed {
            format!("{} records", jobs.len())
        } else {
            format!(
                "{} records for {} phones; first difference at index {}",
                recorded.len(),
                expected.len(),
                recorded
                    .iter()
                    .zip(&expected)
                    .position(|(a, b)| a != b)
                    .unwrap_or(recorded.len().min(expected.len()))
            )
        },
    }
}

/// What comparing the records with the simulator found.
struct Truth {
    check: Check,
    succeeded: usize,
    failed: usize,
    /// Records that honestly say the outcome is not known.
    unknown: usize,
}

/// Each record's status is the simulator's final status of that job (failed ones carry its error
/// code); a record whose job was hidden by an ambiguous failure (no job id) agrees with the phone's
/// status; `unknown` records are counted apart (they claim nothing).
fn check_outcomes_match_truth(jobs: &[serde_json::Value], sim: &Simulator) -> Truth {
    let mut succeeded = 0;
    let mut failed = 0;
    let mut unknown = 0;
    let mut mismatches: Vec<String> = Vec::new();
    for job in jobs {
        let job_id = field(job, "job_id");
        let status = field(job, "status");
        let truth = sim.job_truth(job_id);
        let outcome = sim.job_outcome(job_id);
        let phone_status = sim
            .phone(field(job, "phone_id"))
            .and_then(|p| p.summary.status);
        let agrees = match (status, job_id.is_empty(), truth, outcome) {
            ("unknown", _, _, _) => {
                unknown += 1;
                true
            }
            ("success", false, Some(JobStatus::Success), Some(JobStatus::Success)) => {
                succeeded += 1;
                true
            }
            ("failed", false, Some(JobStatus::Failed), Some(JobStatus::Failed))
                if field(job, "error_code") == SIM_JOB_FAILED =>
            {
                failed += 1;
                true
            }
            ("success", true, _, _) if phone_status == Some(PhoneStatus::Running) => {
                succeeded += 1;
                true
            }
            ("failed", true, _, _) if phone_status == Some(PhoneStatus::RestartFailed) => {
                failed += 1;
                true
            }
            _ => false,
        };
        if !agrees {
            mismatches.push(format!(
                "phone {} job {job_id:?}: state says {status:?} ({}), simulator says {truth:?} (outcome {outcome:?})",
                field(job, "phone_id"),
                field(job, "error_code")
            ));
        }
    }
    let passed = mismatches.is_empty() && !jobs.is_empty();
    let detail = if passed {
        format!("{succeeded} success and {failed} failed, as the simulator says; {unknown} unknown")
    } else if jobs.is_empty() {
        "no job recorded in state".to_string()
    } else {
        format!(
            "{} mismatches, first: {}",
            mismatches.len(),
            mismatches
                .iter()
                .take(5)
                .cloned()
                .collect::<Vec<_>>()
                .join("; ")
        )
    };
    Truth {
        check: Check {
            name: "every phone's outcome matches the simulator's truth",
            passed,
            detail,
        },
        succeeded,
        failed,
        unknown,
    }
}

/// Every phone acted on exactly once, none rejected, no other phone touched.
fn check_submitted_once(stats: &Stats, phones: &[String]) -> Check {
    let wrong: BTreeMap<&str, u64> = phones
        .iter()
        .map(|p| (p.as_str(), stats.submissions.get(p).copied().unwrap_or(0)))
        .filter(|(_, n)| *n != 1)
        .collect();
    let extra = stats.submissions.len().saturating_sub(phones.len());
    let rejected: u64 = stats.rejected.values().sum();
    let passed = wrong.is_empty() && extra == 0 && rejected == 0;
    Check {
        name: "each phone submitted exactly once",
        passed,
        detail: if passed {
            format!(
                "{} phones, {} submissions",
                phones.len(),
                stats.submissions.values().sum::<u64>()
            )
        } else {
            format!(
                "{} phones submitted other than once (first: {:?}), {extra} unknown phones, {rejected} rejections",
                wrong.len(),
                wrong.iter().take(5).collect::<Vec<_>>()
            )
        },
    }
}

/// The soak proves nothing unless faults were actually injected (after acting too, in an ambiguous run).
fn check_faults_injected(stats: &Stats, ambiguous: bool) -> Check {
    let count = |key: &str| stats.faults_injected.get(key).copied().unwrap_or(0);
    let (throttled, unavailable) = (count("429"), count("503"));
    let (acted_500, acted_drop) = (count("acted_500"), count("acted_drop"));
    Check {
        name: "faults were injected",
        passed: throttled + unavailable > 0 && (!ambiguous || (acted_500 > 0 && acted_drop > 0)),
        detail: format!(
            "{throttled} x 429, {unavailable} x 503, {acted_500} x 500 after acting, {acted_drop} x no answer after acting"
        ),
    }
}

/// The plan after the apply calls nothing; it shows no changes when every phone succeeded, and
/// otherwise an update that retries exactly the failed phones.
fn check_second_plan(
    code: i32,
    output: &str,
    failed: usize,
    unknown: usize,
    resubmitted: u64,
) -> Check {
    let flat = output.split_whitespace().collect::<Vec<_>>().join(" ");
    let expected = match failed {
        0 => String::new(),
        1 => "1 phone failed last time and will be retried".to_owned(),
        n => format!("{n} phones failed last time and will be retried"),
    };
    let expected_unknown = match unknown {
        0 => String::new(),
        1 => "1 phone has an unknown outcome".to_owned(),
        n => format!("{n} phones have an unknown outcome"),
    };
    let passed = resubmitted == 0
        && if failed + unknown == 0 {
            code == 0
        } else {
            code == 2 && flat.contains(&expected) && flat.contains(&expected_unknown)
        };
    Check {
        name: "second plan calls nothing and retries exactly the failed phones",
        passed,
        detail: if passed {
            format!("exit code {code}, {resubmitted} phones acted on")
        } else {
            format!(
                "exit code {code}, {resubmitted} phones acted on, expected {expected:?}:\n{}",
                tail(output, 3000)
            )
        },
    }
}

/// With failed jobs and `allow_partial_failure = true` the apply warns with the exact count.
fn check_failure_warning(output: &str, failed: usize, total: usize) -> Check {
    let noun = if total == 1 { "Phone" } else { "Phones" };
    let expected = format!("Warning: The Restart Failed on {failed} of {total} {noun}");
    let passed = if failed == 0 {
        !output.contains("The Restart Failed on")
    } else {
        output.contains(&expected)
    };
    Check {
        name: "partial failure reported as a warning with the exact count",
        passed,
        detail: if failed == 0 {
            "no failed job, no warning expected".to_string()
        } else {
            format!("expected {expected:?}")
        },
    }
}
