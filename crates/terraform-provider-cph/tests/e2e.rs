//! End-to-end tests: real Terraform (1.0.3 and 1.11) drives the built provider against an in-process
//! `cph-sim`, for every example and the failure scenarios, and the simulator's counters prove how many
//! batch requests were sent and that no phone was submitted twice.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::os::unix::process::CommandExt;
use std::time::Duration;

use cph_sim::{Faults, SimConfig, Simulator, Stats};
use cph_types::BatchOperation;
use terraform_provider_cph::PROVIDER_ADDRESS;
use test_support::sim::BackgroundSim;
use test_support::terraform::{TerraformBinary, Workdir, binaries};

const ACCESS_KEY: &str = "E2EACCESSKEY00000001";
const SECRET_KEY: &str = "e2e-secret-key-value-not-for-logs";
const PROJECT_ID: &str = "0123456789abcdef0123456789abcdef";

/// A simulator running on its own runtime while the test thread drives Terraform.
struct Sim(BackgroundSim);

impl Sim {
    fn config(phones: usize, job_duration: Duration, faults: Faults) -> SimConfig {
        SimConfig {
            phones,
            job_duration,
            access_key: ACCESS_KEY.into(),
            secret_key: SECRET_KEY.into(),
            project_id: PROJECT_ID.into(),
            faults,
            ..SimConfig::default()
        }
    }

    fn start(phones: usize, job_duration: Duration, faults: Faults) -> Sim {
        Sim(BackgroundSim::start(Sim::config(
            phones,
            job_duration,
            faults,
        )))
    }

    fn quick(phones: usize) -> Sim {
        Sim::start(phones, Duration::from_millis(300), Faults::default())
    }

    fn sim(&self) -> &Simulator {
        self.0.sim()
    }

    fn stats(&self) -> Stats {
        self.sim().stats()
    }

    /// The phone ids as the `cph_phones` data source lists them: sorted.
    fn ids(&self) -> Vec<String> {
        let mut ids = self.sim().phone_ids();
        ids.sort();
        ids
    }

    /// A Terraform working directory pointed at this simulator.
    fn workdir(&self, tf: &TerraformBinary) -> Workdir {
        let mut dir = Workdir::new(
            tf,
            PROVIDER_ADDRESS,
            env!("CARGO_BIN_EXE_terraform-provider-cph"),
        );
        self.0.configure(&mut dir, "200ms");
        dir
    }
}

fn requests(stats: &Stats, op: BatchOperation) -> u64 {
    stats.requests.get(op.api_name()).copied().unwrap_or(0)
}

/// Copies the `.tf` files of `examples/<name>` into the work directory.
fn copy_example(dir: &Workdir, name: &str) {
    let src = test_support::workspace_root().join("examples").join(name);
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "tf") {
            let file = path.file_name().unwrap().to_str().unwrap().to_string();
            dir.write(&file, &std::fs::read_to_string(&path).unwrap());
        }
    }
}

/// validate, plan, apply, a second plan with no changes, destroy: the acceptance loop.
fn lifecycle(dir: &Workdir) {
    dir.run(&["validate"]).assert_success();
    dir.run(&["plan", "-input=false"]).assert_success();
    dir.run(&["apply", "-auto-approve", "-input=false"])
        .assert_success();
    dir.run(&["plan", "-input=false", "-detailed-exitcode"])
        .assert_code(0);
    dir.run(&["destroy", "-auto-approve", "-input=false"])
        .assert_success();
}

fn state_json(dir: &Workdir) -> serde_json::Value {
    let run = dir.run(&["show", "-json"]);
    run.assert_success();
    serde_json::from_str(&run.stdout).unwrap()
}

fn resource<'a>(state: &'a serde_json::Value, address: &str) -> &'a serde_json::Value {
    state["values"]["root_module"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["address"] == address)
        .unwrap_or_else(|| panic!("{address} not in state: {state}"))
}

/// The `jobs` records of a resource in `terraform show -json` output: a map keyed by phone id.
fn jobs_of(r: &serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    r["values"]["jobs"]
        .as_object()
        .unwrap_or_else(|| panic!("jobs is not a map: {r}"))
        .clone()
}

fn each_terraform(test: impl Fn(&TerraformBinary)) {
    for tf in binaries() {
        println!("--- {tf}");
        test(&tf);
    }
}

fn assert_each_submitted_once(stats: &Stats, phones: &[String]) {
    for phone in phones {
        assert_eq!(
            stats.submissions.get(phone).copied(),
            Some(1),
            "phone {phone}: {stats:?}"
        );
    }
}

#[test]
fn restart_example_restarts_three_phones_in_one_batch_request() {
    each_terraform(|tf| {
        let sim = Sim::quick(8);
        let dir = sim.workdir(tf);
        copy_example(&dir, "resources/cph_phone_restart");
        lifecycle(&dir);
        let stats = sim.stats();
        assert_eq!(requests(&stats, BatchOperation::Restart), 1, "{stats:?}");
        assert_each_submitted_once(&stats, &sim.ids()[..3]);
        assert_eq!(stats.submissions.len(), 3, "{stats:?}");
    });
}

#[test]
fn reset_example_resets_two_phones_and_records_their_jobs() {
    each_terraform(|tf| {
        let sim = Sim::quick(8);
        let dir = sim.workdir(tf);
        copy_example(&dir, "resources/cph_phone_reset");
        dir.run(&["validate"]).assert_success();
        dir.run(&["plan", "-input=false"]).assert_success();
        dir.run(&["apply", "-auto-approve", "-input=false"])
            .assert_success();
        let state = state_json(&dir);
        let jobs = jobs_of(resource(&state, "cph_phone_reset.lab"));
        assert_eq!(jobs.len(), 2);
        assert!(
            jobs.values()
                .all(|j| j["status"] == "success" && !j["job_id"].as_str().unwrap().is_empty()),
            "{jobs:?}"
        );
        dir.run(&["plan", "-input=false", "-detailed-exitcode"])
            .assert_code(0);
        dir.run(&["destroy", "-auto-approve", "-input=false"])
            .assert_success();
        let stats = sim.stats();
        assert_eq!(requests(&stats, BatchOperation::Reset), 1, "{stats:?}");
        assert_each_submitted_once(&stats, &sim.ids()[..2]);
    });
}

#[test]
fn property_example_sets_properties_visible_in_the_phone_detail() {
    each_terraform(|tf| {
        let sim = Sim::quick(8);
        let dir = sim.workdir(tf);
        copy_example(&dir, "resources/cph_phone_property");
        lifecycle(&dir);
        let ids = sim.ids();
        let detail = sim.sim().phone(&ids[2]).unwrap();
        let props = detail.properties().unwrap();
        assert_eq!(props.get("sys.prop.writephonenum"), Some("13900000001"));
        assert_eq!(props.get("sys.prop.writewifissid"), Some("lab-wifi"));
        let stats = sim.stats();
        assert_eq!(
            requests(&stats, BatchOperation::UpdateProperty),
            1,
            "{stats:?}"
        );
        assert_each_submitted_once(&stats, &ids[2..4]);
    });
}

#[test]
fn restore_example_restores_then_restarts_the_restored_phones() {
    each_terraform(|tf| {
        let sim = Sim::quick(8);
        let dir = sim.workdir(tf);
        copy_example(&dir, "resources/cph_phone_restore");
        lifecycle(&dir);
        let stats = sim.stats();
        assert_eq!(requests(&stats, BatchOperation::Restore), 1, "{stats:?}");
        assert_eq!(requests(&stats, BatchOperation::Restart), 1, "{stats:?}");
        let ids = sim.ids();
        // Each phone was acted on twice: once restored, once restarted; never re-submitted.
        for phone in &ids[4..6] {
            assert_eq!(stats.submissions.get(phone).copied(), Some(2), "{stats:?}");
        }
    });
}

#[test]
fn phones_data_source_example_lists_every_phone() {
    each_terraform(|tf| {
        let sim = Sim::quick(8);
        let dir = sim.workdir(tf);
        copy_example(&dir, "data-sources/cph_phones");
        lifecycle(&dir);
        dir.run(&["apply", "-auto-approve", "-input=false"])
            .assert_success();
        let out = dir.run(&["output", "-json", "phone_count"]);
        out.assert_success();
        assert_eq!(out.stdout.trim(), "8");
    });
}

#[test]
fn quickstart_restarts_the_fleet_then_sets_properties_on_three_phones() {
    each_terraform(|tf| {
        let sim = Sim::quick(12);
        let dir = sim.workdir(tf);
        copy_example(&dir, "quickstart");
        lifecycle(&dir);
        let stats = sim.stats();
        assert_eq!(requests(&stats, BatchOperation::Restart), 1, "{stats:?}");
        assert_eq!(
            requests(&stats, BatchOperation::UpdateProperty),
            1,
            "{stats:?}"
        );
        let ids = sim.ids();
        for (i, phone) in ids.iter().enumerate() {
            let expected = if i < 3 { 2 } else { 1 };
            assert_eq!(
                stats.submissions.get(phone).copied(),
                Some(expected),
                "phone {i}: {stats:?}"
            );
        }
    });
}

#[test]
fn phone_ids_from_the_data_source_restart_and_reset_every_phone_in_order() {
    each_terraform(|tf| {
        let sim = Sim::quick(7);
        let dir = sim.workdir(tf);
        dir.write(
            "main.tf",
            &format!(
                "{}\n{}",
                provider_block(),
                r#"
data "cph_phones" "fleet" {}
resource "cph_phone_restart" "fleet" {
  phone_ids = data.cph_phones.fleet.phones[*].phone_id
}
resource "cph_phone_reset" "first_two" {
  phone_ids  = slice(data.cph_phones.fleet.phones[*].phone_id, 0, 2)
  depends_on = [cph_phone_restart.fleet]
}
"#
            ),
        );
        lifecycle(&dir);
        let stats = sim.stats();
        assert_eq!(requests(&stats, BatchOperation::Restart), 1, "{stats:?}");
        assert_eq!(requests(&stats, BatchOperation::Reset), 1, "{stats:?}");
        let ids = sim.ids();
        for (i, phone) in ids.iter().enumerate() {
            let expected = if i < 2 { 2 } else { 1 };
            assert_eq!(
                stats.submissions.get(phone).copied(),
                Some(expected),
                "phone {i}: {stats:?}"
            );
        }

        // Apply again to look at the state, then a conflicting and an empty configuration.
        dir.run(&["apply", "-auto-approve", "-input=false"])
            .assert_success();
        let state = state_json(&dir);
        let jobs = jobs_of(resource(&state, "cph_phone_restart.fleet"));
        for (key, job) in &jobs {
            assert_eq!(job["status"], "success", "{job}");
            assert_eq!(job["phone_id"], key.as_str(), "{job}");
        }
        let mut sorted_ids = ids.clone();
        sorted_ids.sort();
        assert_eq!(jobs.keys().cloned().collect::<Vec<_>>(), sorted_ids);

        dir.write(
            "main.tf",
            &format!(
                "{}\n{}",
                provider_block(),
                r#"
resource "cph_phone_restart" "both" {
  phones    = [{ phone_id = "p1" }]
  phone_ids = ["p1"]
}
resource "cph_phone_reset" "neither" {
}
resource "cph_phone_restart" "dup" {
  phone_ids = ["p1", "p2", "p1"]
}
"#
            ),
        );
        let run = dir.run(&["validate"]);
        assert_ne!(run.code, 0, "{}", run.combined());
        let out = run.combined();
        for expected in [
            "Conflicting Phone Lists",
            "Missing Phones",
            "Duplicate Phone Id",
            "phone_ids[0] and phone_ids[2]",
        ] {
            assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
        }
    });
}

#[test]
fn state_written_with_job_lists_is_upgraded_to_maps_without_losing_a_record() {
    each_terraform(|tf| {
        let sim = Sim::quick(4);
        let dir = sim.workdir(tf);
        copy_example(&dir, "resources/cph_phone_restart");
        dir.run(&["apply", "-auto-approve", "-input=false"])
            .assert_success();
        let current = jobs_of(resource(&state_json(&dir), "cph_phone_restart.canary"));
        assert_eq!(current.len(), 3);

        // Rewrite the state as schema version 0 wrote it: `jobs` a list, in the order of `phones`.
        let mut state: serde_json::Value =
            serde_json::from_str(&dir.read("terraform.tfstate")).unwrap();
        let instance = state["resources"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|r| r["type"] == "cph_phone_restart")
            .unwrap()["instances"][0]
            .as_object_mut()
            .unwrap();
        instance.insert("schema_version".into(), 0.into());
        let jobs = instance["attributes"]["jobs"].as_object().unwrap().clone();
        instance.get_mut("attributes").unwrap()["jobs"] =
            serde_json::Value::Array(jobs.values().rev().cloned().collect());
        dir.write(
            "terraform.tfstate",
            &serde_json::to_string_pretty(&state).unwrap(),
        );

        dir.run(&["plan", "-input=false", "-detailed-exitcode"])
            .assert_code(0);
        dir.run(&["apply", "-auto-approve", "-input=false"])
            .assert_success();
        let upgraded = resource(&state_json(&dir), "cph_phone_restart.canary").clone();
        assert_eq!(jobs_of(&upgraded), current, "{upgraded}");
        let stored: serde_json::Value =
            serde_json::from_str(&dir.read("terraform.tfstate")).unwrap();
        let restart = stored["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["type"] == "cph_phone_restart")
            .unwrap();
        assert_eq!(restart["instances"][0]["schema_version"], 1, "{stored}");
        assert_eq!(
            requests(&sim.stats(), BatchOperation::Restart),
            1,
            "the upgrade must not restart anything"
        );
    });
}

const RESTART_TWO: &str = r#"
resource "cph_phone_restart" "pair" {
  phones = [
    { phone_id = "PHONE_A" },
    { phone_id = "PHONE_B" },
  ]
  ALLOW
}
"#;

fn restart_two(dir: &Workdir, a: &str, b: &str, allow: &str) {
    let config = RESTART_TWO
        .replace("PHONE_A", a)
        .replace("PHONE_B", b)
        .replace("ALLOW", allow);
    dir.write("main.tf", &format!("{}\n{config}", provider_block()));
}

fn provider_block() -> &'static str {
    r#"terraform {
  required_providers {
    cph = { source = "registry.terraform.io/cph-community/cph" }
  }
}
provider "cph" {}
"#
}

#[test]
fn invalid_input_fails_validate_and_names_the_attribute() {
    each_terraform(|tf| {
        let sim = Sim::quick(2);
        let dir = sim.workdir(tf);
        dir.write(
            "main.tf",
            &format!(
                "{}\n{}",
                provider_block(),
                r#"
resource "cph_phone_property" "bad" {
  phones = [
    { phone_id = "not a phone id!", properties = { "sys.prop.writeimsi" = "12ab" } },
  ]
  timeouts {
    create = "whenever"
  }
}
resource "cph_phone_restore" "bad" {
  phones = [{ phone_id = "0123456789abcdef0123456789abcdef", bucket_name = "Bad_Bucket", object_path = "x" }]
}
"#
            ),
        );
        let run = dir.run(&["validate"]);
        assert_ne!(run.code, 0, "{}", run.combined());
        let out = run.combined();
        for expected in [
            "Invalid Phone Id",
            "Invalid Property Value",
            "sys.prop.writeimsi",
            "Invalid Timeout",
            "Invalid Bucket Name",
        ] {
            assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
        }
        // Each message names its attribute (Terraform 1.0 shows nested attributes at the resource's line).
        for path in [
            "phones[0].phone_id:",
            "phones[0].properties[\"sys.prop.writeimsi\"]:",
            "timeouts.create:",
            "phones[0].bucket_name:",
        ] {
            assert!(out.contains(path), "missing {path:?} in:\n{out}");
        }
        assert_eq!(
            sim.stats().total_requests,
            0,
            "nothing may be sent for invalid input"
        );
    });
}

#[test]
fn missing_credentials_are_one_clear_error() {
    each_terraform(|tf| {
        let sim = Sim::quick(2);
        let mut dir = sim.workdir(tf);
        dir.env("HW_ACCESS_KEY", "").env("HW_SECRET_KEY", "");
        restart_two(
            &dir,
            &sim.ids()[0],
            &sim.ids()[1],
            "",
        );
        let run = dir.run(&["plan", "-input=false"]);
        assert_ne!(run.code, 0);
        assert!(
            run.combined().contains("Missing Credentials"),
            "{}",
            run.combined()
        );
    });
}

#[test]
fn partial_failure_names_each_failed_phone_records_every_job_and_taints() {
    each_terraform(|tf| {
        let sim = Sim::quick(3);
        let dir = sim.workdir(tf);
        let good = sim.ids()[0].clone();
        let unknown = "ffffffffffffffffffffffffffffffff";
        restart_two(&dir, &good, unknown, "");
        let run = dir.run(&["apply", "-auto-approve", "-input=false"]);
        assert_ne!(run.code, 0);
        let out = run.combined();
        assert!(out.contains("1 of 2 Phones Failed to Restart"), "{out}");
        assert!(out.contains(unknown) && out.contains("CPS.0005"), "{out}");
        let state = state_json(&dir);
        let r = resource(&state, "cph_phone_restart.pair");
        let jobs = jobs_of(r);
        assert_eq!(jobs.len(), 2);
        assert_eq!(jobs[&good]["status"], "success");
        assert_eq!(jobs[unknown]["status"], "failed");
        assert_eq!(jobs[unknown]["error_code"], "CPS.0005");
        let plan = dir.run(&["plan", "-input=false"]);
        assert!(
            plan.combined().contains("is tainted, so must be replaced"),
            "{}",
            plan.combined()
        );
    });
}

#[test]
fn allow_partial_failure_turns_failures_into_warnings_and_apply_succeeds() {
    each_terraform(|tf| {
        let sim = Sim::quick(3);
        let dir = sim.workdir(tf);
        let good = sim.ids()[0].clone();
        restart_two(
            &dir,
            &good,
            "ffffffffffffffffffffffffffffffff",
            "allow_partial_failure = true",
        );
        let run = dir.run(&["apply", "-auto-approve", "-input=false"]);
        run.assert_success();
        assert!(
            run.combined()
                .contains("Warning: 1 of 2 Phones Failed to Restart"),
            "{}",
            run.combined()
        );
        dir.run(&["plan", "-input=false", "-detailed-exitcode"])
            .assert_code(0);
    });
}

#[test]
fn injected_throttling_and_server_errors_still_converge_with_each_phone_submitted_once() {
    each_terraform(|tf| {
        let faults = Faults {
            throttle_rate: 0.2,
            server_error_rate: 0.3,
            ..Faults::default()
        };
        let sim = Sim::start(30, Duration::from_millis(300), faults);
        let dir = sim.workdir(tf);
        dir.write(
            "main.tf",
            &format!(
                "{}\n{}",
                provider_block(),
                r#"
provider "cph" {
  alias       = "small_batches"
  batch_size  = 7
  max_retries = 20
}
data "cph_phones" "all" {
  provider = cph.small_batches
}
resource "cph_phone_restart" "all" {
  provider = cph.small_batches
  phones   = [for p in data.cph_phones.all.phones : { phone_id = p.phone_id }]
}
"#
            ),
        );
        dir.run(&["apply", "-auto-approve", "-input=false"])
            .assert_success();
        let state = state_json(&dir);
        let jobs = jobs_of(resource(&state, "cph_phone_restart.all"));
        assert_eq!(jobs.len(), 30);
        for job in jobs.values() {
            let truth = sim
                .sim()
                .job_truth(job["job_id"].as_str().unwrap())
                .unwrap();
            assert!(truth.is_success(), "{job}: simulator says {truth:?}");
            assert_eq!(job["status"], "success");
        }
        let stats = sim.stats();
        assert!(
            stats.faults_injected.values().sum::<u64>() > 0,
            "no fault was injected: {stats:?}"
        );
        assert_each_submitted_once(&stats, &sim.ids());
    });
}

#[test]
fn a_create_timeout_shorter_than_the_jobs_fails_and_keeps_the_job_ids() {
    each_terraform(|tf| {
        let sim = Sim::start(2, Duration::from_secs(30), Faults::default());
        let dir = sim.workdir(tf);
        let ids = sim.ids();
        let config = RESTART_TWO
            .replace("PHONE_A", &ids[0])
            .replace("PHONE_B", &ids[1])
            .replace("ALLOW", "timeouts {\n    create = \"2s\"\n  }");
        dir.write("main.tf", &format!("{}\n{config}", provider_block()));
        let started = std::time::Instant::now();
        let run = dir.run(&["apply", "-auto-approve", "-input=false"]);
        assert_ne!(run.code, 0);
        assert!(
            started.elapsed() < Duration::from_secs(25),
            "the wait did not end at the timeout"
        );
        assert!(
            run.combined().contains("Timed Out Waiting for the Restart"),
            "{}",
            run.combined()
        );
        let state = state_json(&dir);
        let jobs = jobs_of(resource(&state, "cph_phone_restart.pair"));
        assert_eq!(jobs.len(), 2);
        for job in jobs.values() {
            assert_eq!(job["status"], "running");
            assert!(!job["job_id"].as_str().unwrap().is_empty(), "{job}");
        }
        assert!(
            !resource(&state, "cph_phone_restart.pair")["values"]["request_ids"]
                .as_array()
                .unwrap()
                .is_empty()
        );
    });
}

#[test]
fn property_drift_made_outside_terraform_shows_in_the_next_plan_and_is_corrected() {
    each_terraform(|tf| {
        let sim = Sim::quick(8);
        let dir = sim.workdir(tf);
        copy_example(&dir, "resources/cph_phone_property");
        dir.run(&["apply", "-auto-approve", "-input=false"])
            .assert_success();
        let ids = sim.ids();
        assert!(
            sim.sim()
                .set_phone_property(&ids[3], "sys.prop.writewifissid", "rogue-wifi")
        );
        let plan = dir.run(&["plan", "-input=false", "-detailed-exitcode"]);
        plan.assert_code(2);
        assert!(
            plan.stdout.contains("rogue-wifi") && plan.stdout.contains("updated in-place"),
            "{}",
            plan.stdout
        );
        sim.sim().reset_stats();
        dir.run(&["apply", "-auto-approve", "-input=false"])
            .assert_success();
        let stats = sim.stats();
        // Only the drifted phone is sent again.
        assert_eq!(
            stats.submissions.keys().cloned().collect::<Vec<_>>(),
            vec![ids[3].clone()],
            "{stats:?}"
        );
        dir.run(&["plan", "-input=false", "-detailed-exitcode"])
            .assert_code(0);
    });
}

#[test]
fn phone_property_imports_by_comma_separated_phone_ids() {
    each_terraform(|tf| {
        let sim = Sim::quick(4);
        let ids = sim.ids();
        assert!(
            sim.sim()
                .set_phone_property(&ids[0], "sys.prop.writephonenum", "13711112222")
        );
        assert!(
            sim.sim()
                .set_phone_property(&ids[1], "sys.prop.writephonenum", "13733334444")
        );
        let dir = sim.workdir(tf);
        let config = format!(
            r#"{}
resource "cph_phone_property" "imported" {{
  phones = [
    {{ phone_id = "{a}", properties = {{ "sys.prop.writephonenum" = "13711112222" }} }},
    {{ phone_id = "{b}", properties = {{ "sys.prop.writephonenum" = "13733334444" }} }},
  ]
}}
"#,
            provider_block(),
            a = ids[0],
            b = ids[1]
        );
        dir.write("main.tf", &config);
        let import_id = format!("{},{}", ids[0], ids[1]);
        dir.run(&[
            "import",
            "-input=false",
            "cph_phone_property.imported",
            &import_id,
        ])
        .assert_success();
        let state = state_json(&dir);
        let phones = resource(&state, "cph_phone_property.imported")["values"]["phones"]
            .as_array()
            .unwrap()
            .clone();
        assert_eq!(phones.len(), 2);
        assert_eq!(
            phones[0]["properties"]["sys.prop.writephonenum"],
            "13711112222"
        );
        // The imported phones already hold the configured values: refresh narrows to the managed keys and
        // at most an in-place update of the result attributes remains, never a replacement.
        let plan = dir.run(&["plan", "-input=false"]);
        plan.assert_success();
        assert!(!plan.stdout.contains("must be replaced"), "{}", plan.stdout);
    });
}

#[test]
fn phones_of_another_resource_plan_cleanly_while_unknown() {
    each_terraform(|tf| {
        let sim = Sim::quick(4);
        let dir = sim.workdir(tf);
        // A phone id known only after another resource is applied.
        let mut config = String::from(
            r#"
data "cph_phones" "all" {}
resource "cph_phone_restart" "first" {
  phones = [{ phone_id = data.cph_phones.all.phones[0].phone_id }]
}
resource "cph_phone_reset" "after" {
  phones = [{ phone_id = values(cph_phone_restart.first.jobs)[0].phone_id, factory_reset = true }]
}
"#,
        );
        // A whole `phones` list known only after apply. Terraform 1.0 itself panics on an unknown list of
        // nested attributes ("value is not known" in objchange.assertPlannedObjectValid, fixed in later
        // releases), whatever the provider answers, so only newer versions get this form.
        if !tf.version.starts_with("1.0.") {
            config.push_str(
                r#"
resource "cph_phone_restart" "all_after" {
  phones = [for j in cph_phone_reset.after.jobs : { phone_id = j.phone_id }]
}
"#,
            );
        }
        dir.write("main.tf", &format!("{}\n{config}", provider_block()));
        let plan = dir.run(&["plan", "-input=false"]);
        plan.assert_success();
        let expected = if tf.version.starts_with("1.0.") {
            "2 to add"
        } else {
            "3 to add"
        };
        assert!(plan.stdout.contains(expected), "{}", plan.stdout);
        dir.run(&["apply", "-auto-approve", "-input=false"])
            .assert_success();
        dir.run(&["plan", "-input=false", "-detailed-exitcode"])
            .assert_code(0);
    });
}

#[test]
fn progress_is_logged_once_per_polling_round_at_info_level() {
    each_terraform(|tf| {
        let sim = Sim::start(4, Duration::from_millis(900), Faults::default());
        let mut dir = sim.workdir(tf);
        dir.env("TF_LOG", "info");
        let ids = sim.ids();
        restart_two(&dir, &ids[0], &ids[1], "");
        let run = dir.run(&["apply", "-auto-approve", "-input=false"]);
        run.assert_success();
        let rounds: Vec<&str> = run
            .stderr
            .lines()
            .filter(|l| l.contains("polling round"))
            .collect();
        assert!(!rounds.is_empty(), "no progress line in:\n{}", run.stderr);
        assert!(
            rounds
                .iter()
                .all(|l| l.contains("[INFO]") && l.contains("/2 phones finished")),
            "{rounds:#?}"
        );
        assert!(
            rounds.last().unwrap().contains("2/2 phones finished"),
            "{rounds:#?}"
        );
        let list_jobs = sim.stats().requests.get("ListJobs").copied().unwrap_or(0);
        assert_eq!(
            rounds.len() as u64,
            list_jobs,
            "one line per polling round (one ListJobs call each here)"
        );
    });
}

#[test]
fn secrets_never_appear_in_trace_logs_state_or_errors() {
    const SECURITY_TOKEN: &str = "e2e-security-token-value-not-for-logs";
    const AUTH_TOKEN: &str = "e2e-auth-token-value-not-for-logs";
    each_terraform(|tf| {
        let sim = Sim(BackgroundSim::start(SimConfig {
            auth_token: Some(AUTH_TOKEN.into()),
            ..Sim::config(3, Duration::from_millis(300), Faults::default())
        }));
        let ids = sim.ids();
        let mut outputs = Vec::new();

        // Temporary AK/SK credentials: a failed apply (its error path) and a successful one.
        let mut dir = sim.workdir(tf);
        dir.env("TF_LOG", "trace")
            .env("HW_SECURITY_TOKEN", SECURITY_TOKEN);
        restart_two(&dir, &ids[0], "ffffffffffffffffffffffffffffffff", "");
        let failed = dir.run(&["apply", "-auto-approve", "-input=false"]);
        assert_ne!(failed.code, 0, "the unknown phone makes the apply fail");
        restart_two(&dir, &ids[0], &ids[1], "");
        let applied = dir.run(&["apply", "-auto-approve", "-input=false"]);
        applied.assert_success();
        assert!(
            applied.stderr.contains("RestartCloudPhone"),
            "trace logging was not on"
        );
        outputs.push(("failed apply output (AK/SK)", failed.combined()));
        outputs.push(("apply output (AK/SK)", applied.combined()));
        outputs.push(("state (AK/SK)", dir.read("terraform.tfstate")));

        // An IAM token instead of AK/SK.
        let mut dir = sim.workdir(tf);
        dir.env("TF_LOG", "trace")
            .env("HW_ACCESS_KEY", "")
            .env("HW_SECRET_KEY", "")
            .env("HW_AUTH_TOKEN", AUTH_TOKEN);
        restart_two(&dir, &ids[1], &ids[2], "");
        let token_run = dir.run(&["apply", "-auto-approve", "-input=false"]);
        token_run.assert_success();
        outputs.push(("apply output (token)", token_run.combined()));
        outputs.push(("state (token)", dir.read("terraform.tfstate")));

        for (what, text) in &outputs {
            for (secret, value) in [
                ("secret key", SECRET_KEY),
                ("security token", SECURITY_TOKEN),
                ("auth token", AUTH_TOKEN),
            ] {
                assert!(!text.contains(value), "the {secret} appears in the {what}");
            }
        }
    });
}

#[test]
fn ctrl_c_ends_the_wait_promptly_and_the_state_keeps_every_job() {
    each_terraform(|tf| {
        let sim = Sim::start(2, Duration::from_secs(60), Faults::default());
        let dir = sim.workdir(tf);
        let ids = sim.ids();
        restart_two(&dir, &ids[0], &ids[1], "");
        let out = tempfile::NamedTempFile::new().unwrap();
        // Its own process group, so that the interrupt reaches every process of it, as a terminal's Ctrl-C does
        // (Terraform 1.0's outer process ignores a SIGINT sent to it alone).
        let mut child = dir
            .command(&["apply", "-auto-approve", "-input=false", "-no-color"])
            .process_group(0)
            .stdout(out.reopen().unwrap())
            .stderr(out.reopen().unwrap())
            .spawn()
            .unwrap();
        // Wait until the batch was submitted and the provider waits on the jobs.
        let submitted_by = std::time::Instant::now() + Duration::from_secs(30);
        while sim.stats().submissions.len() < 2 && std::time::Instant::now() < submitted_by {
            std::thread::sleep(Duration::from_millis(100));
        }
        assert_eq!(
            sim.stats().submissions.len(),
            2,
            "the restart was never submitted"
        );
        std::thread::sleep(Duration::from_millis(500));
        let interrupted = std::time::Instant::now();
        let group = format!("-{}", child.id());
        let kill = std::process::Command::new("kill")
            .args(["-INT", "--", &group])
            .status()
            .unwrap();
        assert!(kill.success());
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if interrupted.elapsed() > Duration::from_secs(20) {
                let _ = child.kill();
                panic!(
                    "terraform did not stop within 20 s of Ctrl-C:\n{}",
                    std::fs::read_to_string(out.path()).unwrap()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        let output = std::fs::read_to_string(out.path()).unwrap();
        assert!(!status.success(), "{output}");
        assert!(
            interrupted.elapsed() < Duration::from_secs(10),
            "took {:?} to stop",
            interrupted.elapsed()
        );
        assert!(output.contains("Restart Interrupted"), "{output}");
        let state = state_json(&dir);
        let r = resource(&state, "cph_phone_restart.pair");
        let jobs = jobs_of(r);
        assert_eq!(jobs.len(), 2);
        for job in jobs.values() {
            assert_eq!(job["status"], "running", "{job}");
            assert!(!job["job_id"].as_str().unwrap().is_empty(), "{job}");
        }
        assert_eq!(r["values"]["request_ids"].as_array().unwrap().len(), 1);
    });
}

#[test]
fn changing_only_allow_partial_failure_updates_state_without_restarting_again() {
    each_terraform(|tf| {
        let sim = Sim::quick(2);
        let dir = sim.workdir(tf);
        let ids = sim.ids();
        restart_two(&dir, &ids[0], &ids[1], "");
        dir.run(&["apply", "-auto-approve", "-input=false"])
            .assert_success();
        let before = state_json(&dir);
        let jobs_before = resource(&before, "cph_phone_restart.pair")["values"]["jobs"].clone();
        restart_two(&dir, &ids[0], &ids[1], "allow_partial_failure = true");
        let plan = dir.run(&["plan", "-input=false", "-detailed-exitcode"]);
        plan.assert_code(2);
        assert!(
            plan.stdout.contains("1 to change") && !plan.stdout.contains("must be replaced"),
            "{}",
            plan.stdout
        );
        dir.run(&["apply", "-auto-approve", "-input=false"])
            .assert_success();
        dir.run(&["plan", "-input=false", "-detailed-exitcode"])
            .assert_code(0);
        let after = state_json(&dir);
        assert_eq!(
            resource(&after, "cph_phone_restart.pair")["values"]["jobs"],
            jobs_before
        );
        assert_eq!(
            requests(&sim.stats(), BatchOperation::Restart),
            1,
            "the update must not restart again"
        );
    });
}
