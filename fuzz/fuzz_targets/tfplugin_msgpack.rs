//! Fuzzes tfplugin's msgpack decoder (the wire form of every `DynamicValue`) against a few
//! representative types: decoding arbitrary bytes never panics, and a value that decodes
//! re-encodes and decodes again to the same value.
//!
//! Input: the first byte picks the type (see `TYPES`), the rest is the msgpack document.

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use tfplugin::{Type, from_msgpack, to_msgpack};

/// The types the decoder is driven with: a resource-like object with nested list / map / set /
/// tuple / dynamic attributes, bare `dynamic`, collections of `dynamic`, and the primitives.
static TYPES: LazyLock<Vec<Type>> = LazyLock::new(|| {
    let job = Type::object([
        ("phone_id", Type::String),
        ("job_id", Type::String),
        ("status", Type::String),
        ("properties", Type::map(Type::String)),
    ]);
    vec![
        Type::object([
            ("id", Type::String),
            ("phones", Type::list(job.clone())),
            ("request_ids", Type::set(Type::String)),
            ("triggers", Type::map(Type::String)),
            ("allow_partial_failure", Type::Bool),
            ("count", Type::Number),
            ("pair", Type::Tuple(vec![Type::String, Type::Number])),
            ("any", Type::Dynamic),
        ]),
        Type::Dynamic,
        Type::list(Type::Dynamic),
        Type::map(Type::Dynamic),
        Type::set(Type::object([
            ("a", Type::list(Type::Number)),
            ("b", Type::map(Type::Bool)),
        ])),
        Type::list(job),
        Type::Number,
        Type::String,
    ]
});

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let ty = &TYPES[usize::from(selector) % TYPES.len()];
    let Ok(value) = from_msgpack(bytes, ty) else {
        return;
    };
    let encoded = match to_msgpack(&value, ty) {
        Ok(encoded) => encoded,
        Err(e) => panic!("{value:?} decoded as {ty} but does not re-encode: {e}"),
    };
    match from_msgpack(&encoded, ty) {
        Ok(again) => assert_eq!(again, value, "re-encoded {ty} value decodes differently"),
        Err(e) => panic!("{value:?} re-encoded as {ty} does not decode: {e}"),
    }
});
