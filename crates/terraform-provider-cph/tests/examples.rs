//! Every folder of `examples/` (each directory holding `.tf` files) as a user runs it: copied alone into a fresh
//! directory, then `validate`, `plan`, `apply`, a second `plan` that must be empty and `destroy`, on Terraform
//! 1.0.3, 1.11.4 and 1.15.5, against an in-process simulator started as `cph-sim` with no flags (the default fixture: 20
//! phones, seed 1, the default credentials and 2-second jobs). Terraform gets only the environment variables
//! README.md tells a user to set (its "Running the simulator on its own" block), with the simulator's URL; the
//! provider's other variables are taken out of the inherited environment. A folder with an `import.sh` also has
//! its `terraform import` lines run after the destroy: the phones they name are the ones the folder's
//! configuration manages, so the import needs nothing more from the service. A folder with an `invoke.sh` has
//! its `terraform apply -invoke=...` lines run after the empty plan (and the plan after them must be empty too:
//! an action keeps nothing). A folder with an `adopt.sh` has its `terraform` lines (`query
//! -generate-config-out`, a plan that must only import, an apply) run there too, and the plan after them must be
//! empty; a `connect.sh` is run by its configuration's provisioner. A folder runs on the Terraform versions that
//! have its features alone: actions and `*.tfquery.hcl` lists on 1.14 and newer, an `import` block by `identity`
//! on 1.12 and newer, an `ephemeral` block on 1.10 and newer, every other folder on all three.
//!
//! Each folder also has its own checks of what it did, by the simulator's counters and the state (how many batch
//! requests, which phones, each once), run after the empty plan.
//!
//! `docs/` and `README.md` show configurations only as copies of these files (`tests/schema.rs` checks it), so
//! what they show runs too.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

mod common;

use std::collections::BTreeSet;

use cph_sim::{SimConfig, Simulator};
use cph_types::BatchOperation;
use terraform_provider_cph::PROVIDER_ADDRESS;
use test_support::sim::BackgroundSim;
use test_support::terraform::{TerraformBinary, Workdir, binaries_at_least};

use common::{assert_each_submitted_once, jobs_of, requests, resource, sorted_ids, state_json};

/// The folders of `examples/` the tests below apply (relative paths).
const EXAMPLES: [&str; 20] = [
    "actions/cph_phone_backup",
    "actions/cph_phone_reset",
    "actions/cph_phone_restart",
    "actions/cph_phone_restore",
    "actions/cph_phone_stop",
    "adopt-existing-fleet",
    "backup-and-clone",
    "data-sources/cph_phones",
    "ephemeral-resources/cph_phone_connection",
    "import-by-identity",
    "provider",
    "quickstart",
    "resources/cph_phone_backup",
    "resources/cph_phone_power",
    "resources/cph_phone_property",
    "resources/cph_phone_reset",
    "resources/cph_phone_restart",
    "resources/cph_phone_restore",
    "restart-after-property-update",
    "rollout",
];

/// The variables the provider reads from the environment: those README.md does not tell a user to set are
/// removed from what Terraform inherits.
const PROVIDER_VARIABLE_PREFIXES: [&str; 2] = ["HW_", "CPH_"];

fn examples_root() -> std::path::PathBuf {
    test_support::workspace_root().join("examples")
}

#[test]
fn every_example_folder_is_applied_by_a_test_of_this_file() {
    let root = examples_root();
    let found: BTreeSet<String> = test_support::files_under(&root)
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "tf"))
        .map(|p| {
            p.parent()
                .unwrap()
                .strip_prefix(&root)
                .unwrap()
                .display()
                .to_string()
        })
        .collect();
    let tested: BTreeSet<String> = EXAMPLES.iter().map(|s| (*s).to_owned()).collect();
    assert_eq!(
        found, tested,
        "add a test for each new folder of examples/ (and remove the tests of folders that are gone)"
    );
}

/// The `NAME=VALUE` assignments of the `export` lines in README.md's "Running the simulator on its own"
/// block, in order.
fn readme_exports() -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(test_support::workspace_root().join("README.md")).unwrap();
    let section = readme
        .split("\n## ")
        .find(|s| s.starts_with("Running the simulator on its own"))
        .expect("README.md has a section \"Running the simulator on its own\"");
    let exports: Vec<(String, String)> = section
        .lines()
        .filter_map(|l| l.strip_prefix("export "))
        .flat_map(|l| l.split_whitespace())
        .map(|word| {
            let (name, value) = word.split_once('=').unwrap_or_else(|| {
                panic!("README.md: {word:?} in an export line is not NAME=VALUE")
            });
            (name.to_owned(), value.to_owned())
        })
        .collect();
    let names: BTreeSet<&str> = exports.iter().map(|(n, _)| n.as_str()).collect();
    for needed in [
        "CPH_ENDPOINT",
        "HW_PROJECT_ID",
        "HW_ACCESS_KEY",
        "HW_SECRET_KEY",
    ] {
        assert!(
            names.contains(needed),
            "README.md exports {names:?}, not {needed}"
        );
    }
    exports
}

#[test]
fn the_readme_exports_the_default_fixtures_credentials() {
    let config = SimConfig::default();
    let exports = readme_exports();
    let value = |name: &str| {
        exports
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(value("HW_PROJECT_ID"), Some(config.project_id.as_str()));
    assert_eq!(value("HW_ACCESS_KEY"), Some(config.access_key.as_str()));
    assert_eq!(value("HW_SECRET_KEY"), Some(config.secret_key.as_str()));
}

/// A work directory for `tf` holding the files of `examples/<name>`, with the README's environment pointed at
/// `sim` and nothing else of the provider's.
fn example_dir(tf: &TerraformBinary, sim: &BackgroundSim, name: &str) -> Workdir {
    let mut dir = Workdir::new(
        tf,
        PROVIDER_ADDRESS,
        env!("CARGO_BIN_EXE_terraform-provider-cph"),
    );
    for (key, _) in std::env::vars() {
        if PROVIDER_VARIABLE_PREFIXES
            .iter()
            .any(|p| key.starts_with(p))
        {
            dir.env_remove(&key);
        }
    }
    for (key, value) in readme_exports() {
        let value = if key == "CPH_ENDPOINT" {
            sim.sim().base_url()
        } else {
            value
        };
        dir.env(&key, &value);
    }
    for entry in std::fs::read_dir(examples_root().join(name)).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let file = path.file_name().unwrap().to_str().unwrap().to_owned();
            dir.write(&file, &std::fs::read_to_string(&path).unwrap());
        }
    }
    dir
}

/// The `terraform <subcommand> ...` commands of a script (`import.sh`, `invoke.sh`), as argument lists
/// after `terraform`.
fn terraform_commands(script: &str, subcommand: &str) -> Vec<Vec<String>> {
    script
        .lines()
        .filter(|l| l.starts_with(&format!("terraform {subcommand} ")))
        .map(|l| l.split_whitespace().skip(1).map(str::to_owned).collect())
        .collect()
}

/// The oldest Terraform an example needs: 1.14 for actions and `terraform query`, 1.12 for an import
/// by identity, 1.10 for ephemeral resources, else 1.0.
fn needed_terraform(name: &str, files: &str) -> &'static str {
    let queries = std::fs::read_dir(examples_root().join(name))
        .unwrap()
        .any(|e| {
            e.unwrap()
                .path()
                .to_string_lossy()
                .ends_with(".tfquery.hcl")
        });
    if files.contains("\naction \"") || queries {
        "1.14"
    } else if files.contains("\n  identity = {") {
        "1.12"
    } else if files.contains("\nephemeral \"") {
        "1.10"
    } else {
        "1.0"
    }
}

/// Runs the `terraform ...` lines of an example's script as a user would, in order (an `apply` with
/// `-auto-approve`); a `plan` that says it will import must import only (`N to import, 0 to add, 0
/// to change, 0 to destroy`). Afterwards a plan must be empty: what the script did is in state
/// (an adoption), or kept nowhere (an action's invocation).
fn run_script(dir: &Workdir, script: &std::path::Path) {
    let text = std::fs::read_to_string(script).unwrap();
    let commands: Vec<Vec<&str>> = text
        .lines()
        .filter_map(|l| l.strip_prefix("terraform "))
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert!(
        !commands.is_empty(),
        "{} runs no terraform command",
        script.display()
    );
    for args in commands {
        let mut args = args;
        if args[0] == "apply" {
            args.insert(1, "-auto-approve");
        }
        if ["apply", "plan"].contains(&args[0]) {
            args.insert(1, "-input=false");
        }
        let run = dir.run(&args);
        run.assert_success();
        let out = common::flat(&run.stdout);
        if args[0] == "plan" && out.contains(" to import,") {
            assert!(
                out.contains(" to import, 0 to add, 0 to change, 0 to destroy."),
                "{}: the plan does more than import:\n{}",
                script.display(),
                run.stdout
            );
        }
    }
    dir.run(&["plan", "-input=false", "-detailed-exitcode"])
        .assert_code(0);
}

/// What an example's own checks get: the simulator (its counters count every command so far) and the
/// directory, after the apply and the empty plan.
type Check = fn(&Simulator, &Workdir);

fn run_example(name: &str, check: Check) {
    let files: String = std::fs::read_dir(examples_root().join(name))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "tf"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    // Resources that act on phones (an adoption by `import` blocks acts on none).
    let has_resources = files.contains("\nresource \"cph_") && !files.contains("\nimport {");
    let versions = binaries_at_least(needed_terraform(name, &files));
    for tf in versions {
        println!("--- examples/{name} with {tf}");
        let sim = BackgroundSim::start(SimConfig::default());
        let dir = example_dir(&tf, &sim, name);
        dir.run(&["validate"]).assert_success();
        dir.run(&["plan", "-input=false"]).assert_success();
        dir.run(&["apply", "-auto-approve", "-input=false"])
            .assert_success();
        dir.run(&["plan", "-input=false", "-detailed-exitcode"])
            .assert_code(0);
        let stats = sim.sim().stats();
        assert_eq!(
            !stats.submissions.is_empty(),
            has_resources,
            "examples/{name}: its resources should act on phones, and only they: {stats:?}"
        );
        for script in ["invoke.sh", "adopt.sh"] {
            let script = examples_root().join(name).join(script);
            if script.exists() {
                run_script(&dir, &script);
            }
        }
        let stats = sim.sim().stats();
        assert!(
            stats.requests.contains_key("ListCloudPhones"),
            "examples/{name} never reached the simulator: {stats:?}"
        );
        assert!(
            stats.rejected.is_empty(),
            "examples/{name} names phones the default fixture does not have: {stats:?}"
        );
        check(sim.sim(), &dir);
        dir.run(&["destroy", "-auto-approve", "-input=false"])
            .assert_success();

        let script = examples_root().join(name).join("import.sh");
        if script.exists() {
            let commands = terraform_commands(&std::fs::read_to_string(&script).unwrap(), "import");
            assert!(
                !commands.is_empty(),
                "{} runs no terraform import",
                script.display()
            );
            sim.sim().reset_stats();
            for args in &commands {
                let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
                args.insert(1, "-input=false");
                dir.run(&args).assert_success();
            }
            // The imported phones are those the configuration manages, already as it declares them.
            dir.run(&["apply", "-auto-approve", "-input=false"])
                .assert_success();
            dir.run(&["plan", "-input=false", "-detailed-exitcode"])
                .assert_code(0);
            let stats = sim.sim().stats();
            assert!(
                stats.submissions.is_empty() && stats.rejected.is_empty(),
                "examples/{name}: after import.sh the apply acted on phones: {stats:?}"
            );
            dir.run(&["destroy", "-auto-approve", "-input=false"])
                .assert_success();
        }
    }
}

/// No checks beyond the common ones.
fn nothing_more(_: &Simulator, _: &Workdir) {}

/// The first three running phones, restarted in one batch request, each once.
fn three_phones_restarted_in_one_request(sim: &Simulator, _: &Workdir) {
    let stats = sim.stats();
    assert_eq!(requests(&stats, BatchOperation::Restart), 1, "{stats:?}");
    assert_each_submitted_once(&stats, &sorted_ids(sim)[..3]);
    assert_eq!(stats.submissions.len(), 3, "{stats:?}");
}

/// Two phones reset in one request, each recorded with its job.
fn two_phones_reset_with_their_jobs(sim: &Simulator, dir: &Workdir) {
    let jobs = jobs_of(resource(&state_json(dir), "cph_phone_reset.lab"));
    assert_eq!(jobs.len(), 2);
    assert!(
        jobs.values()
            .all(|j| j["status"] == "success" && !j["job_id"].as_str().unwrap().is_empty()),
        "{jobs:?}"
    );
    let stats = sim.stats();
    assert_eq!(requests(&stats, BatchOperation::Reset), 1, "{stats:?}");
    assert_each_submitted_once(&stats, &sorted_ids(sim)[..2]);
}

/// The third and fourth phones show the properties in their detail, set by one request.
fn properties_visible_in_the_phone_detail(sim: &Simulator, _: &Workdir) {
    let ids = sorted_ids(sim);
    let detail = sim.phone(&ids[2]).unwrap();
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
}

/// The fifth and sixth phones restored, then restarted: each acted on twice, never re-submitted.
fn two_phones_restored_then_restarted(sim: &Simulator, _: &Workdir) {
    let stats = sim.stats();
    assert_eq!(requests(&stats, BatchOperation::Restore), 1, "{stats:?}");
    assert_eq!(requests(&stats, BatchOperation::Restart), 1, "{stats:?}");
    for phone in &sorted_ids(sim)[4..6] {
        assert_eq!(stats.submissions.get(phone).copied(), Some(2), "{stats:?}");
    }
}

/// Two phones exported in one request, each once.
fn two_phones_backed_up_once_each(sim: &Simulator, _: &Workdir) {
    let stats = sim.stats();
    assert_eq!(requests(&stats, BatchOperation::Storage), 1, "{stats:?}");
    assert_each_submitted_once(&stats, &sorted_ids(sim)[..2]);
    assert_eq!(stats.submissions.len(), 2, "{stats:?}");
}

/// Every phone listed, sorted by id although the simulator lists them in another order.
fn every_phone_listed_sorted_by_id(sim: &Simulator, dir: &Workdir) {
    let out = dir.run(&["output", "-json", "phone_count"]);
    out.assert_success();
    assert_eq!(out.stdout.trim(), sim.phone_ids().len().to_string());
    let listed: Vec<String> = resource(&state_json(dir), "data.cph_phones.all")["values"]["phones"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["phone_id"].as_str().unwrap().to_owned())
        .collect();
    assert_ne!(
        sim.phone_ids(),
        sorted_ids(sim),
        "the simulator lists them unsorted"
    );
    assert_eq!(listed, sorted_ids(sim));
}

/// The whole fleet restarted in one request, then the three phones named in the configuration given
/// their properties in one more.
fn fleet_restarted_then_three_phones_given_properties(sim: &Simulator, _: &Workdir) {
    let stats = sim.stats();
    assert_eq!(requests(&stats, BatchOperation::Restart), 1, "{stats:?}");
    assert_eq!(
        requests(&stats, BatchOperation::UpdateProperty),
        1,
        "{stats:?}"
    );
    let named = ["sim-phone-0001", "sim-phone-0002", "sim-phone-0003"];
    for phone in sim.phone_ids() {
        let detail = sim.phone(&phone).unwrap();
        let name = detail.summary.phone_name.clone().unwrap_or_default();
        let expected = if named.contains(&name.as_str()) { 2 } else { 1 };
        assert_eq!(
            stats.submissions.get(&phone).copied(),
            Some(expected),
            "phone {name}: {stats:?}"
        );
    }
    let first = sim
        .phone_ids()
        .into_iter()
        .find(|id| sim.phone(id).unwrap().summary.phone_name.as_deref() == Some("sim-phone-0001"))
        .unwrap();
    let props = sim.phone(&first).unwrap().properties().unwrap();
    assert_eq!(props.get("sys.prop.writephonenum"), Some("13800000001"));
}

/// The ids of the default fixture's phones named `names`, in that order.
fn named(sim: &Simulator, names: &[&str]) -> Vec<String> {
    common::ids_named(sim, names)
}

/// Every phone named `sim-phone-00..` restarted once, at most ten at a time, one request per wave.
fn fleet_restarted_ten_at_a_time(sim: &Simulator, _: &Workdir) {
    let stats = sim.stats();
    let ids = sim.phone_ids();
    assert_each_submitted_once(&stats, &ids);
    assert_eq!(stats.peak_running_jobs, 10, "{stats:?}");
    assert_eq!(
        requests(&stats, BatchOperation::Restart),
        ids.len().div_ceil(10) as u64,
        "{stats:?}"
    );
}

/// The two phones reset in one request, once each, the first to factory state.
fn two_phones_reset_on_demand(sim: &Simulator, _: &Workdir) {
    let stats = sim.stats();
    assert_eq!(requests(&stats, BatchOperation::Reset), 1, "{stats:?}");
    assert_each_submitted_once(&stats, &named(sim, &["sim-phone-0004", "sim-phone-0005"]));
    assert_eq!(stats.submissions.len(), 2, "{stats:?}");
}

/// The three phones stopped by one request.
fn three_phones_stopped(sim: &Simulator, _: &Workdir) {
    let stats = sim.stats();
    assert_eq!(requests(&stats, BatchOperation::Stop), 1, "{stats:?}");
    let ids = named(sim, &["sim-phone-0011", "sim-phone-0012", "sim-phone-0013"]);
    assert_each_submitted_once(&stats, &ids);
    for id in &ids {
        assert_eq!(
            sim.phone(id).unwrap().summary.status,
            Some(cph_types::PhoneStatus::Stopped),
            "{id}"
        );
    }
}

/// The phone restored, then restarted: acted on twice, once per operation.
fn one_phone_restored_then_restarted(sim: &Simulator, _: &Workdir) {
    let stats = sim.stats();
    assert_eq!(requests(&stats, BatchOperation::Restore), 1, "{stats:?}");
    assert_eq!(requests(&stats, BatchOperation::Restart), 1, "{stats:?}");
    let id = &named(sim, &["sim-phone-0014"])[0];
    assert_eq!(stats.submissions.get(id).copied(), Some(2), "{stats:?}");
    assert_eq!(stats.submissions.len(), 1, "{stats:?}");
}

/// The two phones exported by one request, once each.
fn two_phones_backed_up_on_demand(sim: &Simulator, _: &Workdir) {
    let stats = sim.stats();
    assert_eq!(requests(&stats, BatchOperation::Storage), 1, "{stats:?}");
    assert_each_submitted_once(&stats, &named(sim, &["sim-phone-0015", "sim-phone-0016"]));
    assert_eq!(stats.submissions.len(), 2, "{stats:?}");
}

/// The two lab phones given their properties by one request, then restarted by the action the
/// create triggered: two submissions each, one per operation.
fn properties_set_then_restarted_by_the_trigger(sim: &Simulator, _: &Workdir) {
    let stats = sim.stats();
    assert_eq!(
        requests(&stats, BatchOperation::UpdateProperty),
        1,
        "{stats:?}"
    );
    assert_eq!(requests(&stats, BatchOperation::Restart), 1, "{stats:?}");
    for id in named(sim, &["sim-phone-0002", "sim-phone-0003"]) {
        assert_eq!(stats.submissions.get(&id).copied(), Some(2), "{stats:?}");
    }
    assert_eq!(stats.submissions.len(), 2, "{stats:?}");
}

/// Every phone of the fleet adopted by one `cph_phone_property` and one `cph_phone_power` resource,
/// each a group of one server's phones, with nothing acted on.
fn every_phone_adopted_once_per_resource_type(sim: &Simulator, dir: &Workdir) {
    let stats = sim.stats();
    assert!(stats.submissions.is_empty(), "{stats:?}");
    let state = state_json(dir);
    let resources = state["values"]["root_module"]["resources"]
        .as_array()
        .unwrap();
    for (ty, list) in [
        ("cph_phone_property", "phones"),
        ("cph_phone_power", "phone_ids"),
    ] {
        let mut adopted: Vec<String> = resources
            .iter()
            .filter(|r| r["type"] == ty)
            .flat_map(|r| r["values"][list].as_array().unwrap().clone())
            .map(|p| p.get("phone_id").unwrap_or(&p).as_str().unwrap().to_owned())
            .collect();
        adopted.sort();
        assert_eq!(adopted, sorted_ids(sim), "{ty}");
    }
}

/// The phone connected to once, with a ticket the simulator issued and accepted, and no ticket in
/// the state.
fn one_phone_connected_with_its_ticket(sim: &Simulator, dir: &Workdir) {
    let stats = sim.stats();
    assert!(stats.connections_accepted >= 1, "{stats:?}");
    assert!(stats.submissions.is_empty(), "{stats:?}");
    let state = dir.read("terraform.tfstate");
    let secrets = sim.issued_secrets();
    assert!(!secrets.is_empty());
    for secret in secrets {
        assert!(
            !state.contains(&secret),
            "a ticket or session id in the state: {state}"
        );
    }
}

/// The three phones adopted, running as declared, with nothing acted on.
fn three_phones_adopted_running(sim: &Simulator, dir: &Workdir) {
    assert!(sim.stats().submissions.is_empty(), "{:?}", sim.stats());
    let state = state_json(dir);
    let r = resource(&state, "cph_phone_power.day");
    assert_eq!(r["values"]["state"], "running");
    assert_eq!(r["values"]["statuses"].as_object().unwrap().len(), 3, "{r}");
}

macro_rules! example_tests {
    ($($test:ident => $folder:literal, $check:ident;)*) => {
        $(
            #[test]
            fn $test() {
                run_example($folder, $check);
            }
        )*

        #[test]
        fn the_tests_of_this_file_are_the_examples_listed() {
            let tested = [$($folder),*];
            assert_eq!(tested, EXAMPLES);
        }
    };
}

example_tests! {
    action_cph_phone_backup_tf_1_14_plus => "actions/cph_phone_backup", two_phones_backed_up_on_demand;
    action_cph_phone_reset_tf_1_14_plus => "actions/cph_phone_reset", two_phones_reset_on_demand;
    action_cph_phone_restart_tf_1_14_plus => "actions/cph_phone_restart", fleet_restarted_ten_at_a_time;
    action_cph_phone_restore_tf_1_14_plus => "actions/cph_phone_restore", one_phone_restored_then_restarted;
    action_cph_phone_stop_tf_1_14_plus => "actions/cph_phone_stop", three_phones_stopped;
    adopt_existing_fleet_tf_1_14_plus => "adopt-existing-fleet", every_phone_adopted_once_per_resource_type;
    backup_and_clone => "backup-and-clone", nothing_more;
    data_source_cph_phones => "data-sources/cph_phones", every_phone_listed_sorted_by_id;
    ephemeral_resource_cph_phone_connection_tf_1_10_plus => "ephemeral-resources/cph_phone_connection", one_phone_connected_with_its_ticket;
    import_by_identity_tf_1_12_plus => "import-by-identity", three_phones_adopted_running;
    provider => "provider", nothing_more;
    quickstart => "quickstart", fleet_restarted_then_three_phones_given_properties;
    resource_cph_phone_backup => "resources/cph_phone_backup", two_phones_backed_up_once_each;
    resource_cph_phone_power => "resources/cph_phone_power", nothing_more;
    resource_cph_phone_property => "resources/cph_phone_property", properties_visible_in_the_phone_detail;
    resource_cph_phone_reset => "resources/cph_phone_reset", two_phones_reset_with_their_jobs;
    resource_cph_phone_restart => "resources/cph_phone_restart", three_phones_restarted_in_one_request;
    resource_cph_phone_restore => "resources/cph_phone_restore", two_phones_restored_then_restarted;
    restart_after_property_update_tf_1_14_plus => "restart-after-property-update", properties_set_then_restarted_by_the_trigger;
    rollout => "rollout", nothing_more;
}
