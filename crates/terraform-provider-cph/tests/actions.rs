//! End-to-end tests of the provider's actions (Terraform 1.14 and newer: run on every supported version
//! that has them, today 1.15.5): `terraform apply -invoke=action.TYPE.NAME` and `action_trigger`, against an
//! in-process simulator whose counters prove how many batch requests were sent, how many phones ran at once
//! and that no phone was submitted twice.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

mod common;

use std::os::unix::process::CommandExt;
use std::time::{Duration, Instant};

use cph_sim::Faults;
use cph_types::BatchOperation;
use test_support::terraform::{SigintTo, TerraformBinary, Workdir, binaries_at_least, interrupt};

use common::{Sim, assert_each_submitted_once, flat, requests, state_json};

/// Runs `test` on every supported Terraform that has actions.
fn each_terraform_with_actions(test: impl Fn(&TerraformBinary)) {
    for tf in binaries_at_least("1.14") {
        println!("--- {tf}");
        test(&tf);
    }
}

/// The `terraform` block every configuration here starts with.
const REQUIRED: &str = r#"terraform {
  required_providers {
    cph = { source = "registry.terraform.io/cph-community/cph" }
  }
}
"#;

/// A configuration of one `cph_phone_restart` action `now` on every phone, with `provider` settings and
/// `extra` lines in the action's `config`.
fn restart_action(dir: &Workdir, provider: &str, extra: &str) {
    dir.write(
        "main.tf",
        &format!(
            r#"{REQUIRED}provider "cph" {{
  {provider}
}}
data "cph_phones" "fleet" {{}}
action "cph_phone_restart" "now" {{
  config {{
    phone_ids = data.cph_phones.fleet.phones[*].phone_id
    {extra}
  }}
}}
"#
        ),
    );
}

const INVOKE: [&str; 5] = [
    "apply",
    "-auto-approve",
    "-input=false",
    "-no-color",
    "-invoke=action.cph_phone_restart.now",
];

#[test]
fn an_invoke_of_30_phones_is_one_batch_request_per_chunk_streams_progress_and_keeps_nothing_in_state_tf_1_14_plus()
 {
    each_terraform_with_actions(|tf| {
        let sim = Sim::quick(30);
        let dir = sim.workdir(tf);
        restart_action(&dir, "batch_size = 10", "");
        let run = dir.run(&INVOKE);
        run.assert_success();
        let stats = sim.stats();
        assert_eq!(
            requests(&stats, BatchOperation::Restart),
            3,
            "one batch restart per chunk of 10: {stats:?}"
        );
        let ids = sim.ids();
        assert_each_submitted_once(&stats, &ids);
        for id in &ids {
            let phone = sim.sim().phone(id).unwrap();
            assert_eq!(
                phone.summary.status,
                Some(cph_types::PhoneStatus::Running),
                "{id}"
            );
        }
        let out = run.combined();
        // Terraform shows the streamed progress: the window going out, then the polling rounds to the end.
        assert!(out.contains("restart: 30 phones submitted;"), "{out}");
        assert!(
            out.contains("restart: 30/30 done, 0 failed, 0 running"),
            "{out}"
        );
        // An action keeps nothing: the state has no resource, and a plan has nothing to do.
        let state = state_json(&dir);
        let managed = state["values"]["root_module"]["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["mode"] == "managed")
            .count();
        assert_eq!(managed, 0, "{state}");
        dir.run(&["plan", "-input=false", "-detailed-exitcode"])
            .assert_code(0);
        // Invoking again is a new intent: every phone is restarted again.
        dir.run(&INVOKE).assert_success();
        let stats = sim.stats();
        assert_eq!(requests(&stats, BatchOperation::Restart), 6, "{stats:?}");
        for id in &ids {
            assert_eq!(stats.submissions.get(id), Some(&2), "{id}: {stats:?}");
        }
    });
}

#[test]
fn a_failure_of_two_phones_fails_the_invoke_naming_both_with_their_codes_tf_1_14_plus() {
    each_terraform_with_actions(|tf| {
        let sim = Sim::quick(6);
        let dir = sim.workdir(tf);
        let ids = sim.ids();
        for phone in &ids[1..3] {
            assert!(sim.sim().fail_next_job(phone));
        }
        restart_action(&dir, "", "");
        let run = dir.run(&INVOKE);
        assert_ne!(run.code, 0, "{}", run.combined());
        let out = flat(&run.combined());
        assert!(out.contains("The Restart Failed on 2 of 6 Phones"), "{out}");
        for phone in &ids[1..3] {
            assert!(
                out.contains(&format!("phone {phone} (job ")),
                "{phone} not named: {out}"
            );
        }
        for phone in ids.iter().filter(|p| !ids[1..3].contains(p)) {
            assert!(
                !out.contains(&format!("phone {phone} ")),
                "{phone} named: {out}"
            );
        }
        assert_each_submitted_once(&sim.stats(), &ids);
    });
}

#[test]
fn a_rollout_of_10_keeps_at_most_10_phones_in_flight_and_reports_each_wave_tf_1_14_plus() {
    each_terraform_with_actions(|tf| {
        let sim = Sim::quick(30);
        let dir = sim.workdir(tf);
        restart_action(&dir, "", "rollout {\n      max_in_flight = \"10\"\n    }");
        let run = dir.run(&INVOKE);
        run.assert_success();
        let stats = sim.stats();
        assert_eq!(stats.peak_running_jobs, 10, "{stats:?}");
        assert_eq!(
            requests(&stats, BatchOperation::Restart),
            3,
            "one request per wave: {stats:?}"
        );
        assert_each_submitted_once(&stats, &sim.ids());
        let out = run.combined();
        let waves = out
            .lines()
            .filter(|l| l.contains("restart: 10 phones submitted;"))
            .count();
        assert_eq!(waves, 3, "a progress line per wave: {out}");
    });
}

#[test]
fn bad_input_is_refused_at_the_attribute_before_anything_is_sent_tf_1_14_plus() {
    each_terraform_with_actions(|tf| {
        let sim = Sim::quick(3);
        let dir = sim.workdir(tf);
        let ids = sim.ids();
        for (config, expected) in [
            (
                format!(r#"phone_ids = ["{0}", "{0}"]"#, ids[0]),
                vec!["Duplicate Phone Id", "phone_ids[1]"],
            ),
            (
                r#"phone_ids = ["not a phone id!"]"#.to_owned(),
                vec!["phone_ids[0]"],
            ),
            (
                format!(
                    "phone_ids = [\"{}\"]\n    rollout {{\n      max_in_flight = \"150%\"\n    }}",
                    ids[0]
                ),
                vec!["max_in_flight"],
            ),
            (
                format!("phone_ids = [\"{}\"]\n    timeout = \"8d\"", ids[0]),
                vec!["Invalid Timeout", "timeout"],
            ),
        ] {
            dir.write(
                "main.tf",
                &format!(
                    r#"{REQUIRED}action "cph_phone_restart" "now" {{
  config {{
    {config}
  }}
}}
"#
                ),
            );
            let run = dir.run(&INVOKE);
            assert_ne!(run.code, 0, "{config}: {}", run.combined());
            let out = flat(&run.combined());
            for text in expected {
                assert!(out.contains(text), "{config}: {text:?} not in {out}");
            }
        }
        // The export path of a backup is judged as the resource judges it.
        dir.write(
            "main.tf",
            &format!(
                r#"{REQUIRED}action "cph_phone_backup" "now" {{
  config {{
    phones = [{{ phone_id = "{}", bucket_name = "b", object_path = "../escape" }}]
  }}
}}
"#,
                ids[0]
            ),
        );
        let run = dir.run(&[
            "apply",
            "-auto-approve",
            "-input=false",
            "-no-color",
            "-invoke=action.cph_phone_backup.now",
        ]);
        assert_ne!(run.code, 0, "{}", run.combined());
        assert!(run.combined().contains("object_path"), "{}", run.combined());
        assert_eq!(sim.stats().submissions.len(), 0, "{:?}", sim.stats());
    });
}

#[test]
fn a_property_update_restarts_its_phones_through_action_trigger_tf_1_14_plus() {
    each_terraform_with_actions(|tf| {
        let sim = Sim::quick(3);
        let dir = sim.workdir(tf);
        let ids = sim.ids();
        let write = |value: &str| {
            dir.write(
                "main.tf",
                &format!(
                    r#"{REQUIRED}locals {{
  phones = {ids:?}
}}
resource "cph_phone_property" "fleet" {{
  phones = [for id in local.phones : {{
    phone_id   = id
    properties = {{ "com.cph.mainkeys" = "{value}" }}
  }}]
  lifecycle {{
    action_trigger {{
      events  = [after_update]
      actions = [action.cph_phone_restart.after_update]
    }}
  }}
}}
action "cph_phone_restart" "after_update" {{
  config {{
    phone_ids = local.phones
  }}
}}
"#
                ),
            );
        };
        write("0");
        dir.run(&["apply", "-auto-approve", "-input=false"])
            .assert_success();
        // Created, not updated: no restart.
        assert_eq!(requests(&sim.stats(), BatchOperation::Restart), 0);
        write("1");
        let run = dir.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
        run.assert_success();
        let stats = sim.stats();
        assert_eq!(
            requests(&stats, BatchOperation::UpdateProperty),
            2,
            "{stats:?}"
        );
        assert_eq!(requests(&stats, BatchOperation::Restart), 1, "{stats:?}");
        // Each phone: one property update on create, one on update, one restart.
        for id in &ids {
            assert_eq!(stats.submissions.get(id), Some(&3), "{id}: {stats:?}");
        }
        assert!(
            run.combined().contains("restart: 3/3 done"),
            "{}",
            run.combined()
        );
        // Nothing changed since: nothing is updated, nothing restarted.
        dir.run(&["apply", "-auto-approve", "-input=false"])
            .assert_success();
        assert_eq!(requests(&sim.stats(), BatchOperation::Restart), 1);
    });
}

#[test]
fn cancelling_an_invoke_stops_submitting_and_names_the_running_jobs_tf_1_14_plus() {
    each_terraform_with_actions(|tf| {
        let sim = Sim::start(6, Duration::from_secs(60), Faults::default());
        let dir = sim.workdir(tf);
        restart_action(&dir, "", "rollout {\n      max_in_flight = \"2\"\n    }");
        let out = tempfile::NamedTempFile::new().unwrap();
        let mut child = dir
            .command(&INVOKE)
            .process_group(0)
            .stdout(out.reopen().unwrap())
            .stderr(out.reopen().unwrap())
            .spawn()
            .unwrap();
        let until = Instant::now() + Duration::from_secs(60);
        while sim.stats().submissions.len() < 2 {
            assert!(Instant::now() < until, "the first wave was never submitted");
            std::thread::sleep(Duration::from_millis(100));
        }
        std::thread::sleep(Duration::from_millis(500));
        let (status, _) = interrupt(&mut child, SigintTo::Group, out.path());
        let output = flat(&std::fs::read_to_string(out.path()).unwrap());
        assert!(!status.success(), "{output}");
        assert!(output.contains("The Restart Was Interrupted"), "{output}");
        let stats = sim.stats();
        // Nothing was submitted after the interrupt: the first wave alone.
        assert_eq!(stats.submissions.len(), 2, "{stats:?}");
        for phone in stats.submissions.keys() {
            assert!(
                output.contains(&format!("phone {phone} (job ")),
                "running phone {phone} not named: {output}"
            );
        }
        assert!(
            output.contains("Still running when the invocation ended"),
            "{output}"
        );
        assert!(output.contains("Never submitted (4 phones)"), "{output}");
    });
}
