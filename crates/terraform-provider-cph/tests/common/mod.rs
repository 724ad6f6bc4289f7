//! Helpers the Terraform-driven test files share (`mod common;` in each): running a test on every Terraform
//! version, reading state and the simulator's counters.
#![allow(dead_code, clippy::unwrap_used, clippy::print_stdout)]

use std::time::Duration;

use cph_sim::{Faults, SimConfig, Simulator, Stats};
use cph_types::BatchOperation;
use terraform_provider_cph::PROVIDER_ADDRESS;
use test_support::sim::BackgroundSim;
use test_support::terraform::{TerraformBinary, Workdir, binaries};

pub const ACCESS_KEY: &str = "E2EACCESSKEY00000001";
pub const SECRET_KEY: &str = "e2e-secret-key-value-not-for-logs";
pub const PROJECT_ID: &str = "0123456789abcdef0123456789abcdef";

/// A simulator running on its own runtime while the test thread drives Terraform.
pub struct Sim(pub BackgroundSim);

impl Sim {
    pub fn config(phones: usize, job_duration: Duration, faults: Faults) -> SimConfig {
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

    pub fn start(phones: usize, job_duration: Duration, faults: Faults) -> Sim {
        Sim(BackgroundSim::start(Sim::config(
            phones,
            job_duration,
            faults,
        )))
    }

    pub fn quick(phones: usize) -> Sim {
        Sim::start(phones, Duration::from_millis(300), Faults::default())
    }

    pub fn sim(&self) -> &Simulator {
        self.0.sim()
    }

    pub fn stats(&self) -> Stats {
        self.sim().stats()
    }

    /// The phone ids as the `cph_phones` data source lists them: sorted.
    pub fn ids(&self) -> Vec<String> {
        sorted_ids(self.sim())
    }

    /// A Terraform working directory pointed at this simulator.
    pub fn workdir(&self, tf: &TerraformBinary) -> Workdir {
        let mut dir = Workdir::new(
            tf,
            PROVIDER_ADDRESS,
            env!("CARGO_BIN_EXE_terraform-provider-cph"),
        );
        self.0.configure(&mut dir, "200ms");
        dir
    }
}

/// Runs `test` once per Terraform version (1.0.3, 1.11.4, then 1.15.5), saying which.
pub fn each_terraform(test: impl Fn(&TerraformBinary)) {
    for tf in binaries() {
        println!("--- {tf}");
        test(&tf);
    }
}

/// Terraform's output with its line wrapping undone, so that a sentence of a diagnostic can be searched for
/// whole.
pub fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `terraform show -json` of the directory.
pub fn state_json(dir: &Workdir) -> serde_json::Value {
    let run = dir.run(&["show", "-json"]);
    run.assert_success();
    serde_json::from_str(&run.stdout).unwrap()
}

/// The resource at `address` in `terraform show -json` output, if it is there.
pub fn find_resource<'a>(
    state: &'a serde_json::Value,
    address: &str,
) -> Option<&'a serde_json::Value> {
    state["values"]["root_module"]["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["address"] == address)
}

/// The resource at `address` in `terraform show -json` output.
pub fn resource<'a>(state: &'a serde_json::Value, address: &str) -> &'a serde_json::Value {
    find_resource(state, address).unwrap_or_else(|| panic!("{address} not in state: {state}"))
}

/// The `jobs` records of a resource in `terraform show -json` output: a map keyed by phone id.
pub fn jobs_of(r: &serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    r["values"]["jobs"]
        .as_object()
        .unwrap_or_else(|| panic!("jobs is not a map: {r}"))
        .clone()
}

/// How many batch requests of `op` the simulator answered.
pub fn requests(stats: &Stats, op: BatchOperation) -> u64 {
    stats.requests.get(op.api_name()).copied().unwrap_or(0)
}

/// Each of `phones` was submitted exactly once.
pub fn assert_each_submitted_once(stats: &Stats, phones: &[String]) {
    for phone in phones {
        assert_eq!(
            stats.submissions.get(phone).copied(),
            Some(1),
            "phone {phone}: {stats:?}"
        );
    }
}

/// The simulator's phone ids as the `cph_phones` data source lists them: sorted.
pub fn sorted_ids(sim: &Simulator) -> Vec<String> {
    let mut ids = sim.phone_ids();
    ids.sort();
    ids
}

/// The ids of the phones named `names`, in that order.
pub fn ids_named(sim: &Simulator, names: &[&str]) -> Vec<String> {
    names
        .iter()
        .map(|name| {
            sim.phone_ids()
                .into_iter()
                .find(|id| sim.phone(id).unwrap().summary.phone_name.as_deref() == Some(*name))
                .unwrap_or_else(|| panic!("no phone named {name}"))
        })
        .collect()
}

/// Copies the `.tf` files of `examples/<name>` into the work directory.
pub fn copy_example(dir: &Workdir, name: &str) {
    let src = test_support::workspace_root().join("examples").join(name);
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "tf") {
            let file = path.file_name().unwrap().to_str().unwrap().to_string();
            dir.write(&file, &std::fs::read_to_string(&path).unwrap());
        }
    }
}
