//! Fuzzes tfplugin's JSON state decoder (`from_json_bytes`, as UpgradeResourceState uses it) with
//! schema types: decoding never panics; a decoded value is wholly known, encodes back to JSON and
//! that JSON decodes again; when every number in it is exact as an `f64` (the JSON encoder's
//! number form), it decodes to the same value.
//!
//! Input: the first byte picks the type (see `TYPES`), the rest is the JSON document.

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use tfplugin::{Type, Value, from_json, from_json_bytes, to_json};

/// Schema-like types: a resource state object, a list of job objects, nested collections, a
/// tuple, `dynamic` (state's `{"value":..,"type":..}` form) and the primitives.
static TYPES: LazyLock<Vec<Type>> = LazyLock::new(|| {
    let job = Type::object([
        ("phone_id", Type::String),
        ("job_id", Type::String),
        ("status", Type::String),
        ("error_code", Type::String),
    ]);
    vec![
        Type::object([
            ("id", Type::String),
            (
                "phones",
                Type::list(Type::object([("phone_id", Type::String)])),
            ),
            ("jobs", Type::list(job.clone())),
            ("request_ids", Type::list(Type::String)),
            ("triggers", Type::map(Type::String)),
            ("properties", Type::map(Type::String)),
            ("allow_partial_failure", Type::Bool),
            ("timeout_seconds", Type::Number),
        ]),
        Type::list(job),
        Type::set(Type::map(Type::list(Type::Number))),
        Type::Tuple(vec![Type::String, Type::Bool, Type::Number]),
        Type::Dynamic,
        Type::object([("any", Type::Dynamic), ("n", Type::Number)]),
        Type::Number,
        Type::String,
        Type::Bool,
    ]
});

/// Whether every number in `value` survives the JSON encoder (integers, or exact `f64`s).
fn numbers_are_json_exact(value: &Value) -> bool {
    match value {
        Value::Number(n) => {
            n.as_i64().is_some() || n.as_u64().is_some() || n.as_exact_f64().is_some()
        }
        Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
            items.iter().all(numbers_are_json_exact)
        }
        Value::Map(entries) | Value::Object(entries) => {
            entries.values().all(numbers_are_json_exact)
        }
        Value::Null | Value::Unknown | Value::Bool(_) | Value::String(_) => true,
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let ty = &TYPES[usize::from(selector) % TYPES.len()];
    let Ok(value) = from_json_bytes(bytes, ty) else {
        return;
    };
    assert!(
        value.is_wholly_known(),
        "JSON decoded to an unknown: {value:?}"
    );
    let json = match to_json(&value, ty) {
        Ok(json) => json,
        Err(e) => panic!("{value:?} decoded as {ty} but does not encode: {e}"),
    };
    let again = match from_json(&json, ty) {
        Ok(again) => again,
        Err(e) => panic!("{value:?} encoded as {json} does not decode as {ty}: {e}"),
    };
    if numbers_are_json_exact(&value) {
        assert_eq!(again, value, "{ty} value changed through {json}");
    }
});
