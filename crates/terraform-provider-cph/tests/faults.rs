//! Fault tests of the whole chain: a 100-phone soak (429, 503, job failures and latency injected) whose
//! recorded outcomes must match the simulator's truth with each phone submitted once, a simulator
//! restarted while Terraform waits on its jobs (the jobs are lost), and the provider process killed in
//! the middle of an apply. Every Terraform and provider process a test starts is tagged through its
//! environment and killed when the test ends, pass or fail.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

mod common;
#[path = "../examples/soak/run.rs"]
mod soak;

use std::fs::File;
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use cph_sim::{Faults, SimConfig, Simulator};
use terraform_provider_cph::PROVIDER_ADDRESS;
use test_support::sim::BackgroundSim;
use test_support::terraform::{TerraformBinary, Workdir};

use common::{each_terraform, find_resource, flat, state_json};

const ACCESS_KEY: &str = "FAULTSACCESSKEY00001";
const SECRET_KEY: &str = "faults-secret-key-value-not-for-logs";
const PROJECT_ID: &str = "0123456789abcdef0123456789abcdef";
/// The environment variable whose value tags the processes one test starts.
const TAG_VAR: &str = "CPH_FAULTS_TEST_TAG";

/// A simulator on its own runtime, which can be stopped and replaced by a fresh one on the same address.
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

    fn start_with(phones: usize, job_duration: Duration, faults: Faults) -> Sim {
        Sim(BackgroundSim::start(SimConfig {
            phones,
            job_duration,
            access_key: ACCESS_KEY.into(),
            secret_key: SECRET_KEY.into(),
            project_id: PROJECT_ID.into(),
            faults,
            ..SimConfig::default()
        }))
    }

    fn sim(&self) -> &Simulator {
        self.0.sim()
    }

    /// Stops the running simulator (its jobs are gone) and starts a fresh one, same seed and fixture, on
    /// the same address.
    fn restart(&mut self) {
        self.0.restart();
    }

    fn workdir(&self, tf: &TerraformBinary) -> Workdir {
        let mut dir = Workdir::new(
            tf,
            PROVIDER_ADDRESS,
            env!("CARGO_BIN_EXE_terraform-provider-cph"),
        );
        self.0.configure(&mut dir, "200ms");
        dir
    }

    /// Waits until `phones` phones have had a job created, at most `limit`.
    fn wait_for_submissions(&self, phones: usize, limit: Duration) {
        let deadline = Instant::now() + limit;
        while self.sim().stats().submissions.len() < phones {
            assert!(
                Instant::now() < deadline,
                "the apply did not submit {phones} phones within {limit:?}: {:?}",
                self.sim().stats()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// `terraform apply` running in the background, its output going to files in the work directory. Its
/// processes (Terraform and the provider it starts) carry a unique tag in their environment; dropping the
/// guard kills whichever of them are still alive, so a failing test leaves nothing behind.
struct BackgroundApply {
    child: Option<Child>,
    tag: String,
    stdout: std::path::PathBuf,
    stderr: std::path::PathBuf,
}

/// What a background apply ended with.
struct Ended {
    code: Option<i32>,
    output: String,
    elapsed: Duration,
}

impl BackgroundApply {
    fn start(dir: &mut Workdir) -> BackgroundApply {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let tag = format!(
            "{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        dir.env(TAG_VAR, &tag);
        let stdout = dir.path().join("apply.stdout");
        let stderr = dir.path().join("apply.stderr");
        let child = dir
            .command(&["apply", "-auto-approve", "-input=false", "-no-color"])
            .stdout(Stdio::from(File::create(&stdout).unwrap()))
            .stderr(Stdio::from(File::create(&stderr).unwrap()))
            .spawn()
            .unwrap();
        BackgroundApply {
            child: Some(child),
            tag,
            stdout,
            stderr,
        }
    }

    /// Provider processes of this apply still alive.
    fn providers(&self) -> Vec<u32> {
        tagged_processes(&self.tag)
            .into_iter()
            .filter(|(_, argv0)| {
                argv0
                    .rsplit('/')
                    .next()
                    .is_some_and(|name| name.starts_with("terraform-provider-cph"))
            })
            .map(|(pid, _)| pid)
            .collect()
    }

    /// Waits for Terraform to exit, at most `limit` (then kills it and fails).
    fn wait(&mut self, limit: Duration) -> Ended {
        let started = Instant::now();
        let child = self.child.as_mut().unwrap();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > limit {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "terraform apply did not end within {limit:?}:\n{}",
                    self.output()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        self.child = None;
        Ended {
            code: status.code(),
            output: self.output(),
            elapsed: started.elapsed(),
        }
    }

    fn output(&self) -> String {
        format!(
            "{}\n{}",
            std::fs::read_to_string(&self.stdout).unwrap_or_default(),
            std::fs::read_to_string(&self.stderr).unwrap_or_default()
        )
    }
}

impl Drop for BackgroundApply {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        for (pid, _) in tagged_processes(&self.tag) {
            kill9(pid);
        }
    }
}

/// Live processes whose environment holds `TAG_VAR=tag`, with their `argv[0]`. Zombies (whose
/// environment is gone) are not listed: they are already dead.
fn tagged_processes(tag: &str) -> Vec<(u32, String)> {
    let wanted = format!("{TAG_VAR}={tag}");
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        if environ
            .split(|b| *b == 0)
            .any(|var| var == wanted.as_bytes())
        {
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            let argv0 = cmdline.split(|b| *b == 0).next().unwrap_or_default();
            found.push((pid, String::from_utf8_lossy(argv0).into_owned()));
        }
    }
    found
}

/// Sends SIGKILL to one process by its id.
fn kill9(pid: u32) {
    let _ = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .stderr(Stdio::null())
        .status();
}

fn restart_config(phones: &[String], extra: &str) -> String {
    let list = phones
        .iter()
        .map(|p| format!("    {{ phone_id = \"{p}\" }},"))
        .collect::<Vec<_>>()
        .join("\n");
    format!(
        r#"terraform {{
  required_providers {{
    cph = {{ source = "{PROVIDER_ADDRESS}" }}
  }}
}}
provider "cph" {{}}
resource "cph_phone_restart" "fleet" {{
  phones = [
{list}
  ]
  {extra}
}}
"#
    )
}

fn state_resource(dir: &Workdir, address: &str) -> Option<serde_json::Value> {
    find_resource(&state_json(dir), address).cloned()
}

#[test]
fn soak_of_100_phones_with_injected_faults_matches_the_simulator_and_submits_each_phone_once() {
    each_terraform(|tf| {
        let config = soak::SoakConfig {
            phones: 100,
            job_duration: Duration::from_secs(2),
            faults: soak::SoakConfig::issue_faults(),
            batch_size: 10,
            max_retries: 20,
            poll_interval: Duration::from_millis(500),
            seed: 7,
            time_bound: Duration::from_secs(60),
            terraform: tf.clone(),
            provider: env!("CARGO_BIN_EXE_terraform-provider-cph").into(),
        };
        let report = soak::run(&config).unwrap();
        println!("{}", report.render());
        assert!(
            report.passed(),
            "{}\napply output:\n{}",
            report.render(),
            report.apply_output
        );
        assert_eq!(report.succeeded + report.failed, 100);
    });
}

#[test]
fn simulator_restarted_mid_wait_fails_clearly_and_keeps_request_and_job_ids() {
    each_terraform(|tf| {
        let job_duration = Duration::from_secs(120);
        let mut sim = Sim::start(3, job_duration);
        let ids = sim.sim().phone_ids();
        let mut dir = sim.workdir(tf);
        dir.write("main.tf", &restart_config(&ids, ""));
        let mut apply = BackgroundApply::start(&mut dir);
        sim.wait_for_submissions(3, Duration::from_secs(30));
        std::thread::sleep(Duration::from_millis(500));
        sim.restart();
        assert_eq!(sim.sim().phone_ids(), ids, "same fixture, jobs gone");

        let ended = apply.wait(Duration::from_secs(60));
        println!("{}", ended.output);
        assert_ne!(ended.code, Some(0), "{}", ended.output);
        assert!(
            ended.elapsed < Duration::from_secs(30),
            "the apply took {:?} to notice the lost jobs",
            ended.elapsed
        );
        let out = &ended.output;
        assert!(out.contains("The Restart Failed on 3 of 3 Phones"), "{out}");
        for phone in &ids {
            assert!(out.contains(phone.as_str()), "{phone} not named in:\n{out}");
        }
        assert!(
            out.contains("no longer known to the service"),
            "the message does not say the jobs were lost:\n{out}"
        );

        let resource = state_resource(&dir, "cph_phone_restart.fleet").expect("resource in state");
        let request_ids = resource["values"]["request_ids"].as_array().unwrap();
        assert_eq!(request_ids.len(), 1, "{resource}");
        assert!(!request_ids[0].as_str().unwrap().is_empty());
        let jobs = resource["values"]["jobs"].as_object().unwrap();
        assert_eq!(jobs.len(), 3);
        for job in jobs.values() {
            let job_id = job["job_id"].as_str().unwrap();
            assert!(!job_id.is_empty(), "{job}");
            assert_eq!(
                sim.sim().job_truth(job_id),
                None,
                "the new simulator knows {job_id}"
            );
            // Whether the lost job ran is not known: never a success, never claimed failed either.
            assert_eq!(job["status"], "unknown", "{job}");
            assert!(
                job["error_msg"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("job {job_id} of phone")),
                "{job}"
            );
        }
        assert_eq!(
            resource["tainted"], true,
            "the next apply must restart again: {resource}"
        );
        // Nothing was sent twice: the new simulator saw no batch request.
        assert!(sim.sim().stats().submissions.is_empty());
    });
}

#[test]
fn provider_killed_mid_apply_fails_terraform_clearly_and_leaves_no_provider_process() {
    each_terraform(|tf| {
        let sim = Sim::start(2, Duration::from_secs(120));
        let ids = sim.sim().phone_ids();
        let mut dir = sim.workdir(tf);
        dir.write("main.tf", &restart_config(&ids, ""));
        let mut apply = BackgroundApply::start(&mut dir);
        sim.wait_for_submissions(2, Duration::from_secs(30));
        let providers = apply.providers();
        assert_eq!(
            providers.len(),
            1,
            "expected one provider process: {:?}",
            tagged_processes(&apply.tag)
        );
        kill9(providers[0]);

        let ended = apply.wait(Duration::from_secs(30));
        println!("{}", ended.output);
        assert_ne!(ended.code, Some(0), "{}", ended.output);
        let out = &ended.output;
        // Terraform's own words (the provider is dead and can say nothing): "Plugin did not respond", or
        // on Terraform 1.0 when it notices the exit first "Request cancelled"; both name the call.
        assert!(
            (out.contains("Plugin did not respond") || out.contains("Request cancelled"))
                && out.contains("ApplyResourceChange"),
            "no clear message about the provider dying:\n{out}"
        );
        let deadline = Instant::now() + Duration::from_secs(5);
        while !apply.providers().is_empty() {
            assert!(
                Instant::now() < deadline,
                "provider processes remain: {:?}",
                tagged_processes(&apply.tag)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(
            tagged_processes(&apply.tag).is_empty(),
            "processes remain: {:?}",
            tagged_processes(&apply.tag)
        );
    });
}

/// The records of `cph_phone_restart.fleet` in state, by phone id.
fn fleet_records(dir: &Workdir) -> std::collections::BTreeMap<String, serde_json::Value> {
    state_resource(dir, "cph_phone_restart.fleet")
        .and_then(|r| r["values"]["jobs"].as_object().cloned())
        .unwrap_or_default()
        .into_iter()
        .collect()
}

#[test]
fn after_500s_and_lost_answers_the_service_acted_on_state_ends_equal_to_the_truth_and_no_phone_is_acted_on_three_times()
 {
    each_terraform(|tf| {
        let faults = Faults {
            throttle_rate: 0.1,
            server_error_rate: 0.1,
            server_error_status: 503,
            acted_error_rate: 0.3,
            acted_drop_rate: 0.2,
            ..Faults::default()
        };
        let sim = Sim::start_with(60, Duration::from_millis(1500), faults);
        let ids = sim.sim().phone_ids();
        let mut dir = sim.workdir(tf);
        dir.env("CPH_BATCH_SIZE", "5").env("CPH_MAX_RETRIES", "10");
        dir.write("main.tf", &restart_config(&ids, ""));

        let first = dir.run(&["apply", "-auto-approve", "-input=false"]);
        let unknown: Vec<String> = fleet_records(&dir)
            .into_iter()
            .filter(|(_, r)| r["status"] == "unknown")
            .map(|(id, _)| id)
            .collect();
        let stats = sim.sim().stats();
        assert!(
            stats.faults_injected.get("acted_500").copied().unwrap_or(0) > 0
                && stats
                    .faults_injected
                    .get("acted_drop")
                    .copied()
                    .unwrap_or(0)
                    > 0,
            "{tf}: {:?}",
            stats.faults_injected
        );
        // Within one apply no phone is sent twice.
        assert!(
            stats.submissions.values().all(|n| *n == 1),
            "{tf}: {:?}",
            stats.submissions
        );
        if first.code != 0 {
            // Only unknown phones can fail this apply (no job fails); each is named, with the words.
            let text = flat(&first.combined());
            assert!(!unknown.is_empty(), "{tf}: {text}");
            assert!(text.contains("the service may have acted"), "{tf}: {text}");
            for id in &unknown {
                assert!(text.contains(id.as_str()), "{tf}: {id} not named: {text}");
            }
            dir.run(&["untaint", "cph_phone_restart.fleet"])
                .assert_success();
        }

        sim.sim().set_faults(Faults::default());
        dir.run(&["apply", "-auto-approve", "-input=false"])
            .assert_success();
        let records = fleet_records(&dir);
        assert_eq!(records.len(), 60, "{tf}");
        for (id, record) in &records {
            assert_eq!(record["status"], "success", "{tf}: {id}: {record}");
            let phone = sim.sim().phone(id).unwrap();
            assert_eq!(
                phone.summary.status,
                Some(cph_types::PhoneStatus::Running),
                "{tf}: {id}"
            );
            let job = record["job_id"].as_str().unwrap();
            if !job.is_empty() {
                assert_eq!(
                    sim.sim().job_outcome(job),
                    Some(cph_types::JobStatus::Success),
                    "{tf}: {id}"
                );
            }
        }
        let stats = sim.sim().stats();
        for (id, n) in &stats.submissions {
            assert!(
                *n == 1 || (*n == 2 && unknown.contains(id)),
                "{tf}: phone {id} submitted {n} times (unknown after the first apply: {unknown:?})"
            );
        }
        println!(
            "{tf}: first apply exit {}, {} unknown, {} phones sent twice",
            first.code,
            unknown.len(),
            stats.submissions.values().filter(|n| **n == 2).count()
        );
    });
}

#[test]
fn a_wait_on_phones_found_acting_that_was_cut_short_is_resumed_by_their_status_never_resent() {
    each_terraform(|tf| {
        let faults = Faults {
            acted_drop_rate: 1.0,
            ..Faults::default()
        };
        let sim = Sim::start_with(6, Duration::from_secs(6), faults);
        let ids = sim.sim().phone_ids();
        let dir = sim.workdir(tf);
        dir.write(
            "main.tf",
            &restart_config(&ids, "timeouts {\n    create = \"2s\"\n  }"),
        );
        let first = dir.run(&["apply", "-auto-approve", "-input=false"]);
        assert_ne!(first.code, 0, "{tf}: the 2 s timeout must cut the wait");
        let records = fleet_records(&dir);
        assert_eq!(records.len(), 6, "{tf}");
        for (id, record) in &records {
            assert_eq!(record["status"], "running", "{tf}: {id}: {record}");
            assert_eq!(
                record["job_id"], "",
                "{tf}: {id}: the answer with the job was lost"
            );
            assert!(
                record["error_msg"]
                    .as_str()
                    .unwrap()
                    .contains("waited on by its status"),
                "{tf}: {record}"
            );
        }
        dir.run(&["untaint", "cph_phone_restart.fleet"])
            .assert_success();
        sim.sim().set_faults(Faults::default());
        let plan = dir.run(&["plan", "-input=false"]);
        plan.assert_success();
        assert!(
            flat(&plan.combined()).contains(
                "6 phones still have a job running and will be waited on, not submitted again"
            ),
            "{tf}: {}",
            plan.combined()
        );
        dir.run(&["apply", "-auto-approve", "-input=false"])
            .assert_success();
        for (id, record) in fleet_records(&dir) {
            assert_eq!(record["status"], "success", "{tf}: {id}: {record}");
        }
        let stats = sim.sim().stats();
        assert!(
            ids.iter().all(|id| stats.submissions.get(id) == Some(&1)),
            "{tf}: {:?}",
            stats.submissions
        );
        assert_eq!(stats.requests.get("RestartCloudPhone"), Some(&1), "{tf}");
    });
}

#[test]
fn an_unknown_phone_with_no_sign_of_its_request_is_read_then_sent_once_more_by_the_next_apply() {
    each_terraform(|tf| {
        // The request is performed and its answer lost; the phone is read only after its short job has
        // ended (every request is slowed down), so nothing shows that the request was performed.
        let faults = Faults {
            acted_drop_rate: 1.0,
            latency_ms: 700,
            ..Faults::default()
        };
        let sim = Sim::start_with(3, Duration::from_millis(100), faults);
        let ids = sim.sim().phone_ids();
        let dir = sim.workdir(tf);
        dir.write("main.tf", &restart_config(&ids, ""));
        let first = dir.run(&["apply", "-auto-approve", "-input=false"]);
        assert_ne!(first.code, 0, "{tf}");
        let text = flat(&first.combined());
        assert!(
            text.contains("The Restart Failed on 3 of 3 Phones")
                && text.contains("the service may have acted, but nothing shows it")
                && text.contains("the phone was running (2), not restarting (4), when read"),
            "{tf}: {text}"
        );
        for (id, record) in fleet_records(&dir) {
            assert_eq!(record["status"], "unknown", "{tf}: {id}: {record}");
        }
        dir.run(&["untaint", "cph_phone_restart.fleet"])
            .assert_success();
        sim.sim().set_faults(Faults::default());
        let plan = dir.run(&["plan", "-input=false"]);
        assert!(
            flat(&plan.combined()).contains("3 phones have an unknown outcome (the service may have acted) last time and will be read first"),
            "{tf}: {}",
            plan.combined()
        );
        let second = dir.run(&["apply", "-auto-approve", "-input=false"]);
        second.assert_success();
        let text = flat(&second.combined());
        assert!(
            text.contains("3 phones showed no sign of it and were sent once more"),
            "{tf}: {text}"
        );
        for (id, record) in fleet_records(&dir) {
            assert_eq!(record["status"], "success", "{tf}: {id}: {record}");
        }
        // Acted on twice, in two applies: the documented cost of an answer lost after a short job.
        let stats = sim.sim().stats();
        assert!(
            ids.iter().all(|id| stats.submissions.get(id) == Some(&2)),
            "{tf}: {:?}",
            stats.submissions
        );
    });
}
