//! Fuzzes the provider's reading of phone lists (`phones` objects, `phone_ids` strings) through
//! `terraform_provider_cph::fuzzing::read_phone_lists`: the value is shaped to every resource that
//! names phones and goes through the schema's validators, the resource's `validate` and the phone
//! list reader. Nothing may panic, every check must give the same answer twice, and the phone list
//! read must agree with the value (see the function's documentation for the invariants).
//!
//! Input: the first byte picks how the rest becomes a `tfplugin::Value`:
//! - 0: msgpack of the union of the resources' attribute types ([`union_type`]), decoded by
//!   `tfplugin::from_msgpack` (unknown values included);
//! - 1: JSON of the same type, decoded by `tfplugin::from_json_bytes`;
//! - anything else: a structured (`arbitrary`) value tree whose keys come mostly from the
//!   resources' attribute names and whose strings are mostly phone ids from a small pool.

#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use tfplugin::{Type, Value};

/// A type holding every attribute the resources that name phones read or validate (each shaped
/// later to the resource's own type).
fn union_type() -> Type {
    let strings = || Type::list(Type::String);
    let phone = Type::object([
        ("phone_id", Type::String),
        ("properties", Type::map(Type::String)),
        ("factory_reset", Type::Bool),
        ("bucket_name", Type::String),
        ("object_path", Type::String),
        ("include_files", strings()),
        ("exclude_files", strings()),
    ]);
    Type::object([
        ("id", Type::String),
        ("phone_ids", strings()),
        ("phones", Type::list(phone)),
        ("state", Type::String),
        ("image_id", Type::String),
        ("triggers", Type::map(Type::String)),
        ("allow_partial_failure", Type::Bool),
        ("restart_after_update", Type::Bool),
        ("restart_after_restore", Type::Bool),
        ("request_ids", strings()),
    ])
}

const NAMES: [&str; 16] = [
    "phone_ids",
    "phones",
    "phone_id",
    "properties",
    "factory_reset",
    "bucket_name",
    "object_path",
    "include_files",
    "exclude_files",
    "state",
    "image_id",
    "triggers",
    "allow_partial_failure",
    "restart_after_update",
    "restart_after_restore",
    "id",
];

const IDS: [&str; 6] = [
    "0123456789abcdef0123456789abcdef",
    "fedcba9876543210fedcba9876543210",
    "phone-1",
    "",
    "0123456789abcdef0123456789abcdef0",
    "not a phone id!",
];

fn name(u: &mut Unstructured<'_>) -> arbitrary::Result<String> {
    Ok(if u.ratio(7, 8)? {
        (*u.choose(&NAMES)?).to_owned()
    } else {
        String::arbitrary(u)?
    })
}

fn string(u: &mut Unstructured<'_>) -> arbitrary::Result<String> {
    Ok(match u.int_in_range(0..=7)? {
        0..=4 => (*u.choose(&IDS)?).to_owned(),
        5 => (*u.choose(&["running", "stopped", "/data/app", "bkt", "1"])?).to_owned(),
        _ => String::arbitrary(u)?,
    })
}

/// An arbitrary value tree, at most `depth` levels deep.
fn value(u: &mut Unstructured<'_>, depth: u32) -> arbitrary::Result<Value> {
    let kinds = if depth == 0 { 5 } else { 11 };
    let elements = |u: &mut Unstructured<'_>| -> arbitrary::Result<Vec<Value>> {
        let n = u.int_in_range(0..=6)?;
        (0..n).map(|_| value(u, depth - 1)).collect()
    };
    Ok(match u.int_in_range(0..=kinds)? {
        0 => Value::Null,
        1 => Value::Unknown,
        2 => Value::Bool(bool::arbitrary(u)?),
        3 => Value::from(i64::arbitrary(u)?),
        4 | 5 => Value::String(string(u)?),
        6 | 7 => Value::List(elements(u)?),
        8 => Value::Set(elements(u)?),
        9 => Value::Tuple(elements(u)?),
        10 => Value::Map(fields(u, depth)?),
        _ => Value::Object(fields(u, depth)?),
    })
}

fn fields(u: &mut Unstructured<'_>, depth: u32) -> arbitrary::Result<tfplugin::Fields> {
    let n = u.int_in_range(0..=6)?;
    (0..n)
        .map(|_| Ok((name(u)?, value(u, depth - 1)?)))
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let input = match mode {
        0 => tfplugin::from_msgpack(rest, &union_type()).ok(),
        1 => tfplugin::from_json_bytes(rest, &union_type()).ok(),
        _ => {
            let mut u = Unstructured::new(rest);
            // The top is an object most of the time: that is what configurations are.
            let top = if u.ratio(1, 8).unwrap_or(false) {
                value(&mut u, 4)
            } else {
                fields(&mut u, 4).map(Value::Object)
            };
            top.ok()
        }
    };
    if let Some(input) = input {
        terraform_provider_cph::fuzzing::read_phone_lists(&input);
    }
});
