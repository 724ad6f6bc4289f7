//! A `#[doc(hidden)]` entry point for the fuzz targets in `fuzz/`: stored state of any shape through
//! the provider's upgrade, validation and per-phone plan, as Terraform would drive them.

use tfplugin::{PlanRequest, PlanResponse, RawState, Resource, Value};

use crate::converge::{self, Operation};
use crate::resources::action::{Action, ActionResource};
use crate::resources::phone_backup::PhoneBackup;
use crate::resources::phone_power::PhonePower;
use crate::resources::phone_property::PhoneProperty;
use crate::resources::phone_reset::PhoneReset;
use crate::resources::phone_restart::PhoneRestart;
use crate::resources::phone_restore::PhoneRestore;

/// Upgrades `json` as state of schema `version` for every resource type and, where that succeeds,
/// validates it as a configuration and plans it against itself (nothing changed, and every record
/// to be planned afresh). Panics only on a provider bug; plans must come out the same twice.
pub fn upgrade_validate_and_plan(version: i64, json: &[u8]) {
    action::<PhoneRestart>(version, json);
    action::<PhoneReset>(version, json);
    action::<PhoneRestore>(version, json);
    action::<PhoneBackup>(version, json);
    run::<PhoneProperty>(&PhoneProperty, version, json);
    // The power resource plans from observed statuses: its upgrade and validation are fuzzed.
    let raw = RawState {
        json: json.to_vec(),
        ..RawState::default()
    };
    if let Ok(state) = PhonePower.upgrade_state(version, raw) {
        let _ = PhonePower.schema().validate(&state);
        let _ = PhonePower.validate(&state);
    }
}

fn action<A: Action>(version: i64, json: &[u8]) {
    run::<A>(&ActionResource::<A>::new(), version, json);
}

fn run<O: Operation>(resource: &impl Resource<crate::ProviderData>, version: i64, json: &[u8]) {
    let raw = RawState {
        json: json.to_vec(),
        ..RawState::default()
    };
    let Ok(state) = resource.upgrade_state(version, raw) else {
        return;
    };
    let schema = resource.schema();
    let _ = schema.validate(&state);
    let _ = resource.validate(&state);
    let mut proposed = state.clone();
    for name in ["jobs", "restart_jobs", "request_ids"] {
        if let Value::Object(fields) = &mut proposed {
            if let Some(slot) = fields.get_mut(name) {
                *slot = Value::Unknown;
            }
        }
    }
    for proposed in [state.clone(), proposed] {
        let plan = |proposed: &Value| {
            let req = PlanRequest {
                prior_state: state.clone(),
                proposed_new_state: proposed.clone(),
                config: proposed.clone(),
                prior_private: Vec::new(),
            };
            let mut plan = PlanResponse {
                planned_state: proposed.clone(),
                ..PlanResponse::default()
            };
            converge::plan::<O>(&req, &mut plan);
            plan
        };
        let (first, second) = (plan(&proposed), plan(&proposed));
        assert_eq!(
            first.planned_state, second.planned_state,
            "plans are deterministic"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_of_every_shape_go_through_without_panicking() {
        let inputs: [&[u8]; 7] = [
            b"",
            b"null",
            b"{}",
            br#"{"phone_ids":["a","a",null],"jobs":{"a":{"status":"running","job_id":"j"}}}"#,
            br#"{"phones":[{"phone_id":"a","properties":{"k":"v"}},null,{"phone_id":7}],"jobs":[{"phone_id":"a"}]}"#,
            br#"{"phones":[{"phone_id":"a","bucket_name":"b","object_path":"p"}],"restart_after_restore":true,"restart_jobs":{"a":{}}}"#,
            br#"{"jobs":{"":{"status":""}},"timeouts":{"read":"999999999999999h"}}"#,
        ];
        for version in 0..3 {
            for json in inputs {
                upgrade_validate_and_plan(version, json);
            }
        }
    }
}
