//! End-to-end tests of adopting an existing fleet and connecting to phones, on the Terraform versions
//! that have each feature: `terraform query` over the list resources and `-generate-config-out`
//! (1.14+), `import` by identity (1.12+), and the `cph_phone_connection` ephemeral resource (1.10+),
//! against an in-process simulator.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

mod common;

use std::collections::BTreeSet;

use cph_types::BatchOperation;
use test_support::terraform::{TerraformBinary, binaries_at_least};

use common::{ACCESS_KEY, PROJECT_ID, SECRET_KEY, Sim, flat, requests, state_json};

/// The `terraform` block and an empty provider block (the simulator comes from the environment).
const MAIN: &str = r#"terraform {
  required_providers {
    cph = { source = "registry.terraform.io/cph-community/cph" }
  }
}
provider "cph" {}
"#;

fn each_terraform_from(minimum: &str, test: impl Fn(&TerraformBinary)) {
    for tf in binaries_at_least(minimum) {
        println!("--- {tf}");
        test(&tf);
    }
}

/// The servers of the simulator's phones, each with its phones' ids (sorted).
fn servers(sim: &Sim) -> Vec<(String, BTreeSet<String>)> {
    let mut by_server: std::collections::BTreeMap<String, BTreeSet<String>> = Default::default();
    for id in sim.ids() {
        let server = sim.sim().phone(&id).unwrap().summary.server_id.unwrap();
        by_server.entry(server).or_default().insert(id);
    }
    by_server.into_iter().collect()
}

/// The phone ids of the `phone_ids=[...]` identities in `terraform query` output, per result line of
/// `address`.
fn listed(out: &str, address: &str) -> Vec<BTreeSet<String>> {
    out.lines()
        .filter(|l| l.starts_with(address))
        .map(|l| {
            let inside = l.split_once('[').unwrap().1.split_once(']').unwrap().0;
            inside
                .split(',')
                .map(|s| s.trim().trim_matches('"').to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .collect()
}

/// Stops `phones` with the API, as someone outside Terraform would, and waits until they are stopped.
fn stop_out_of_band(sim: &Sim, phones: &[String]) {
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
        .poll_interval(std::time::Duration::from_millis(100))
        .build()
        .unwrap();
        let request = cph_types::StopRequest::new(
            phones
                .iter()
                .map(|p| cph_types::PhoneId::new(p.as_str()).unwrap()),
        );
        let report = client
            .stop(&request, &cph_http::WaitOptions::new())
            .await
            .unwrap();
        assert!(report.all_succeeded(), "{report:?}");
    });
}

#[test]
fn query_lists_exactly_the_phones_of_a_server_named_and_grouped_tf_1_14_plus() {
    each_terraform_from("1.14", |tf| {
        let sim = Sim::quick(12);
        let dir = sim.workdir(tf);
        let servers = servers(&sim);
        assert!(servers.len() > 1, "{servers:?}");
        let (server, phones) = &servers[0];
        dir.write("main.tf", MAIN);
        dir.write(
            "fleet.tfquery.hcl",
            &format!(
                r#"list "cph_phone_property" "lab" {{
  provider = cph
  config {{
    server_id = "{server}"
  }}
}}
list "cph_phone_power" "all" {{
  provider = cph
  config {{
    group_by = "phone"
  }}
}}
"#
            ),
        );
        let run = dir.run(&["query"]);
        run.assert_success();
        let out = run.combined();
        println!("{out}");
        // One result for the server, naming exactly its phones.
        assert_eq!(
            listed(&out, "list.cph_phone_property.lab"),
            vec![phones.clone()],
            "{out}"
        );
        let first = sim.sim().phone(phones.iter().next().unwrap()).unwrap();
        let name = first.summary.phone_name.unwrap();
        assert!(
            out.contains(&format!("{name} ({})", first.summary.phone_id.unwrap())),
            "{out}"
        );
        // One per phone when asked.
        let each = listed(&out, "list.cph_phone_power.all");
        assert_eq!(each.len(), 12, "{out}");
        // Listing acts on nothing.
        assert!(sim.stats().submissions.is_empty());
    });
}

#[test]
fn generated_configuration_plans_only_imports_applies_and_then_plans_nothing_tf_1_14_plus() {
    each_terraform_from("1.14", |tf| {
        let sim = Sim::quick(12);
        let dir = sim.workdir(tf);
        let ids = sim.ids();
        // Two phones stopped and a property set on one, outside Terraform: what adoption must keep.
        stop_out_of_band(&sim, &ids[..2]);
        assert!(
            sim.sim()
                .set_phone_property(&ids[3], "sys.prop.writephonenum", "13800000009")
        );
        sim.sim().reset_stats();
        dir.write("main.tf", MAIN);
        dir.write(
            "adopt.tfquery.hcl",
            r#"list "cph_phone_property" "fleet" {
  provider = cph
}
list "cph_phone_power" "fleet" {
  provider = cph
}
"#,
        );
        let run = dir.run(&["query", "-generate-config-out=generated.tf"]);
        run.assert_success();
        let generated = dir.read("generated.tf");
        // The adopted values are the phones' own: the property set outside Terraform, the power states.
        assert!(
            generated.contains("\"sys.prop.writephonenum\" = \"13800000009\""),
            "{generated}"
        );
        assert!(
            generated.contains("state                 = \"stopped\""),
            "{generated}"
        );
        let servers = servers(&sim).len();
        let imports = generated.matches("import {").count();
        // One property resource per server; one power resource per server and state.
        assert!(imports > servers, "{generated}");
        let plan = dir.run(&["plan", "-input=false"]);
        plan.assert_success();
        let out = flat(&plan.combined());
        assert!(
            out.contains(&format!(
                "Plan: {imports} to import, 0 to add, 0 to change, 0 to destroy."
            )),
            "{out}"
        );
        dir.run(&["apply", "-auto-approve", "-input=false"])
            .assert_success();
        dir.run(&["plan", "-input=false", "-detailed-exitcode"])
            .assert_code(0);
        let stats = sim.stats();
        assert!(
            stats.submissions.is_empty(),
            "adopting acted on phones: {stats:?}"
        );
        assert_eq!(requests(&stats, BatchOperation::UpdateProperty), 0);
        // The state holds every phone once per resource type, the stopped ones declared stopped.
        let state = state_json(&dir);
        let resources = state["values"]["root_module"]["resources"]
            .as_array()
            .unwrap();
        let mut power_phones = BTreeSet::new();
        for r in resources.iter().filter(|r| r["type"] == "cph_phone_power") {
            let phones: Vec<String> = r["values"]["phone_ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_str().unwrap().to_owned())
                .collect();
            let stopped = phones.iter().any(|p| ids[..2].contains(p));
            assert_eq!(
                r["values"]["state"],
                if stopped { "stopped" } else { "running" },
                "{r}"
            );
            power_phones.extend(phones);
        }
        assert_eq!(power_phones, ids.iter().cloned().collect());
    });
}

/// A configuration of one `cph_phone_power` resource `lab` on `phones`, imported by identity.
fn power_imported_by_identity(phones: &[String]) -> String {
    format!(
        r#"{MAIN}
import {{
  to       = cph_phone_power.lab
  identity = {{
    phone_ids = {phones:?}
  }}
}}
resource "cph_phone_power" "lab" {{
  phone_ids = {phones:?}
  state     = "running"
}}
"#
    )
}

#[test]
fn import_by_identity_adopts_phones_as_the_import_id_does_and_plans_nothing_after_tf_1_12_plus() {
    each_terraform_from("1.12", |tf| {
        let sim = Sim::quick(4);
        let dir = sim.workdir(tf);
        let ids = sim.ids();
        dir.write("main.tf", &power_imported_by_identity(&ids[..3]));
        let plan = dir.run(&["plan", "-input=false"]);
        plan.assert_success();
        let out = flat(&plan.combined());
        assert!(
            out.contains("Plan: 1 to import, 0 to add, 0 to change, 0 to destroy."),
            "{out}"
        );
        dir.run(&["apply", "-auto-approve", "-input=false"])
            .assert_success();
        dir.run(&["plan", "-input=false", "-detailed-exitcode"])
            .assert_code(0);
        let state = state_json(&dir);
        let r = common::resource(&state, "cph_phone_power.lab");
        assert_eq!(r["values"]["statuses"].as_object().unwrap().len(), 3, "{r}");
        assert!(sim.stats().submissions.is_empty());
        // An identity naming no phone, or a malformed id, is refused at the import.
        for bad in [r#"[]"#, r#"["not a phone id!"]"#] {
            dir.write(
                "main.tf",
                &power_imported_by_identity(&ids[..1]).replace(&format!("{:?}", &ids[..1]), bad),
            );
            let run = dir.run(&["plan", "-input=false"]);
            assert_ne!(run.code, 0, "{bad}: {}", run.combined());
        }
    });
}

#[test]
fn state_written_by_1_11_gains_its_identity_on_a_refresh_by_1_15() {
    let versions = test_support::terraform::binaries();
    let older = versions
        .iter()
        .find(|tf| tf.version.starts_with("1.11"))
        .unwrap();
    let newest = versions.last().unwrap();
    let sim = Sim::quick(3);
    let mut dir = sim.workdir(older);
    let ids = sim.ids();
    dir.write(
        "main.tf",
        &format!(
            "{MAIN}resource \"cph_phone_power\" \"lab\" {{\n  phone_ids = {:?}\n  state     = \"running\"\n}}\n",
            &ids
        ),
    );
    dir.run(&["apply", "-auto-approve", "-input=false"])
        .assert_success();
    let raw: serde_json::Value = serde_json::from_str(&dir.read("terraform.tfstate")).unwrap();
    assert!(
        raw["resources"][0]["instances"][0]
            .get("identity")
            .is_none(),
        "{raw}"
    );
    dir.set_terraform(newest);
    dir.run(&["apply", "-refresh-only", "-auto-approve", "-input=false"])
        .assert_success();
    let raw: serde_json::Value = serde_json::from_str(&dir.read("terraform.tfstate")).unwrap();
    let identity = &raw["resources"][0]["instances"][0]["identity"];
    assert_eq!(identity["phone_ids"], serde_json::json!(ids), "{raw}");
    dir.run(&["plan", "-input=false", "-detailed-exitcode"])
        .assert_code(0);
}

/// A configuration opening `cph_phone_connection` for `phones` and handing every ticket to a command
/// through its environment.
fn connect_config(phones: &[String]) -> String {
    format!(
        r#"{MAIN}
ephemeral "cph_phone_connection" "all" {{
  phone_ids   = {phones:?}
  client_type = "ANDROID"
}}
resource "terraform_data" "session" {{
  input = "support"
  provisioner "local-exec" {{
    command     = "test -n \"$TICKETS\""
    environment = {{
      TICKETS = join(",", [for c in values(ephemeral.cph_phone_connection.all.connections) : c.ticket])
    }}
  }}
}}
"#
    )
}

#[test]
fn opening_a_connection_asks_ten_phones_a_request_and_no_ticket_reaches_state_or_a_saved_plan_tf_1_10_plus()
 {
    each_terraform_from("1.10", |tf| {
        let sim = Sim::quick(23);
        let dir = sim.workdir(tf);
        let ids = sim.ids();
        dir.write("main.tf", &connect_config(&ids));
        let asked = || {
            sim.stats()
                .requests
                .get("BatchShowPhoneConnectInfos")
                .copied()
                .unwrap_or(0)
        };
        dir.run(&["plan", "-input=false", "-out=saved.tfplan"])
            .assert_success();
        assert_eq!(asked(), 3, "one open: 23 phones in requests of at most ten");
        let shown = dir.run(&["show", "-json", "saved.tfplan"]);
        shown.assert_success();
        dir.run(&["apply", "-input=false", "saved.tfplan"])
            .assert_success();
        assert_eq!(asked(), 6, "the apply opens it again");
        let secrets = sim.sim().issued_secrets();
        assert_eq!(
            secrets.len(),
            2 * 2 * 23,
            "a ticket and a session id per phone and open"
        );
        let state = dir.read("terraform.tfstate");
        for secret in &secrets {
            assert!(
                !shown.stdout.contains(secret.as_str()),
                "a secret in the saved plan"
            );
            assert!(!state.contains(secret.as_str()), "a secret in the state");
        }
        assert!(sim.stats().submissions.is_empty());
        // A phone the service gives no access to (stopped) is named, with the service's code.
        stop_out_of_band(&sim, &ids[..1]);
        dir.write("main.tf", &connect_config(&ids[..2]));
        let run = dir.run(&["plan", "-input=false"]);
        assert_ne!(run.code, 0, "{}", run.combined());
        let out = flat(&run.combined());
        assert!(out.contains("No Access to 1 Phone"), "{out}");
        assert!(out.contains(&format!("phone {}:", ids[0])), "{out}");
    });
}
