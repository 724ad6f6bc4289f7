//! Fuzzes the provider's reading of stored state and its per-phone plan: any bytes, as the JSON
//! state of any schema version, go through every resource's `upgrade_state`, schema validation,
//! phone-list reader and per-phone planner (`terraform_provider_cph::fuzzing`). Nothing may panic,
//! and planning the same input twice gives the same plan.
//!
//! Input: the first byte picks the schema version written (0, 1 or 2), the rest is the JSON state.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&version, json)) = data.split_first() else {
        return;
    };
    terraform_provider_cph::fuzzing::upgrade_validate_and_plan(i64::from(version % 3), json);
});
