//! A `#[doc(hidden)]` entry point for the fuzz targets in `fuzz/`: stored state of any shape through
//! the provider's upgrade, validation and per-phone plan, and configurations of any shape through
//! the schemas' validators and the model's phone reader, as Terraform would drive them.

use tfplugin::{PlanRequest, PlanResponse, RawState, Resource, Schema, Type, Value};

use crate::engine::{self, Operation};
use crate::model::{OperationModel, names};
use crate::phones;
use crate::resources::phone_backup::PhoneBackup;
use crate::resources::phone_power::{PhonePower, Power, Start, Stop};
use crate::resources::phone_property::PhoneProperty;
use crate::resources::phone_reset::PhoneReset;
use crate::resources::phone_restart::PhoneRestart;
use crate::resources::phone_restore::PhoneRestore;
use crate::resources::{self, Kind, OperationResource};

/// Upgrades `json` as state of schema `version` for every resource type and, where that succeeds,
/// validates it as a configuration and plans it against itself (nothing changed, and every record
/// to be planned afresh). Panics only on a provider bug; plans must come out the same twice.
pub fn upgrade_validate_and_plan(version: i64, json: &[u8]) {
    run::<PhoneRestart>(version, json);
    run::<PhoneReset>(version, json);
    run::<PhoneRestore>(version, json);
    run::<PhoneBackup>(version, json);
    run::<PhoneProperty>(version, json);
    run::<Power<Stop>>(version, json);
    run::<Power<Start>>(version, json);
    let raw = RawState {
        json: json.to_vec(),
        ..RawState::default()
    };
    if let Ok(state) = PhonePower.upgrade_state(version, raw) {
        let _ = PhonePower.schema().validate(&state);
    }
}

fn run<K: Kind>(version: i64, json: &[u8]) {
    let resource = OperationResource::<K>::new();
    let raw = RawState {
        json: json.to_vec(),
        ..RawState::default()
    };
    let Ok(state) = resource.upgrade_state(version, raw) else {
        return;
    };
    let schema = resources::schema::<K>();
    let _ = schema.validate(&state);
    let mut proposed = state.clone();
    for name in [
        names::JOBS,
        names::RESTART_JOBS,
        names::REQUEST_IDS,
        names::STATUSES,
    ] {
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
            engine::plan::<K>(&schema, None, &req, &mut plan);
            plan
        };
        let (first, second) = (plan(&proposed), plan(&proposed));
        assert_eq!(
            first.planned_state, second.planned_state,
            "plans are deterministic"
        );
    }
}

/// Reads `input` (a value of any shape, built from fuzz input) as the configuration of every
/// resource that names phones: shaped to each resource's schema type (attributes of the same name
/// and kind kept, anything else null), it goes through the schema's validators and, where it
/// decodes, the model's phone reader. Panics on a provider bug: a panic inside them, results that
/// differ between two runs, or diagnostics that disagree with the value ("Invalid Phone Id" exactly
/// at the `phone_ids` elements that are not phone ids, one "Duplicate Phone Id" per repeated id,
/// "No Phones" exactly for an empty list, a `phones`/`phone_ids` conflict or absence always
/// reported), or a phone list read with other ids than the value holds.
pub fn read_phone_lists(input: &Value) {
    phone_list::<PhoneRestart>(input);
    phone_list::<PhoneReset>(input);
    phone_list::<PhoneRestore>(input);
    phone_list::<PhoneBackup>(input);
    phone_list::<PhoneProperty>(input);
    phone_list::<Power<Stop>>(input);
}

/// Shapes `input` to the schema's type and runs the validators twice; returns the shaped
/// configuration and what the validators found.
fn schema_checks(schema: &Schema, input: &Value) -> (Value, tfplugin::Diagnostics) {
    let config = shape(input, &schema.value_type());
    let diags = schema.validate(&config);
    assert_eq!(
        diags,
        schema.validate(&config),
        "schema validation is deterministic"
    );
    let count = |summary: &str| diags.iter().filter(|d| d.summary == summary).count();
    let has = |name: &str| schema.block.attributes.iter().any(|a| a.name == name);
    // The rules apply to an object (a null or unknown configuration has nothing to check).
    let object = matches!(config, Value::Object(_));
    if object && has(names::PHONE_IDS) && has(names::PHONES) {
        let set = [names::PHONES, names::PHONE_IDS]
            .iter()
            .filter(|name| config.get(name).is_some_and(|v| !v.is_null()))
            .count();
        assert_eq!(
            count("Missing Attribute") + count("Conflicting Attributes"),
            usize::from(set != 1),
            "exactly one of phones and phone_ids: {set} set, {diags:?}"
        );
    }
    if has(names::PHONE_IDS) {
        // Every known `phone_ids` element that is not a phone id is reported, at its index.
        let ids = config.get(names::PHONE_IDS).unwrap_or(&Value::Null);
        let invalid: Vec<String> = ids
            .as_elements()
            .unwrap_or_default()
            .iter()
            .enumerate()
            .filter(|(_, e)| matches!(e, Value::String(s) if cph_types::PhoneId::new(s.as_str()).is_err()))
            .map(|(i, _)| format!("phone_ids[{i}]"))
            .collect();
        let reported: Vec<String> = diags
            .iter()
            .filter(|d| d.summary == "Invalid Phone Id")
            .filter_map(|d| d.attribute.as_ref().map(ToString::to_string))
            .filter(|path| path.starts_with("phone_ids["))
            .collect();
        assert_eq!(reported, invalid, "invalid phone ids: {diags:?}");
    }
    (config, diags)
}

fn phone_list<K: Kind>(input: &Value) {
    let schema = resources::schema::<K>();
    let (config, diags) = schema_checks(&schema, input);
    let ids_value = config.get(names::PHONE_IDS).filter(|v| !v.is_null());
    let (name, value) = match ids_value {
        Some(ids) => (names::PHONE_IDS, ids),
        None => (
            names::PHONES,
            config.get(names::PHONES).unwrap_or(&Value::Null),
        ),
    };
    let id_of = |e: &Value| -> Value {
        if ids_value.is_some() {
            e.clone()
        } else {
            e.get(names::PHONE_ID).cloned().unwrap_or(Value::Null)
        }
    };
    if let Some(elements) = value.as_elements() {
        let ids: Vec<Value> = elements.iter().map(id_of).collect();
        assert_list_diags(&diags, name, &ids);
    }
    // A configuration that validates decodes, and its phones are the ones it names.
    let Ok(model) = tfplugin::from_value::<OperationModel<<K as Operation>::Phone>>(&config) else {
        return;
    };
    let read = K::desired(&model);
    assert_eq!(
        read.is_some(),
        K::desired(&model).is_some(),
        "reading is deterministic"
    );
    if let (Some(read), Some(elements)) = (phones::desired(&model), value.as_elements()) {
        let expected: Vec<String> = elements
            .iter()
            .map(id_of)
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        let got: Vec<String> = read.iter().map(|(id, _)| id.as_str().to_owned()).collect();
        assert_eq!(got, expected, "{name}");
    }
}

/// The list-wide diagnostics of a phone list whose ids are `ids`: "No Phones" exactly when it is
/// empty, one "Duplicate Phone Id" per id already listed before it.
fn assert_list_diags(diags: &tfplugin::Diagnostics, name: &str, ids: &[Value]) {
    let count = |summary: &str| diags.iter().filter(|d| d.summary == summary).count();
    assert_eq!(
        count("No Phones"),
        usize::from(ids.is_empty()),
        "{name}: {diags:?}"
    );
    let mut seen = std::collections::HashSet::new();
    let repeats = ids
        .iter()
        .filter_map(Value::as_str)
        .filter(|s| !seen.insert(*s))
        .count();
    assert_eq!(count("Duplicate Phone Id"), repeats, "{name}: {diags:?}");
}

/// `value` as a value of type `ty`, as far as it fits: attributes of an object type are taken by
/// name (null when missing), collections convert into one another, a primitive of another kind
/// (or anything else that does not fit) becomes null; null and unknown stay.
fn shape(value: &Value, ty: &Type) -> Value {
    let elements = |t: &Type| -> Option<Vec<Value>> {
        value
            .as_elements()
            .map(|items| items.iter().map(|v| shape(v, t)).collect())
    };
    match (value, ty) {
        (Value::Null, _) => Value::Null,
        (Value::Unknown, _) => Value::Unknown,
        (_, Type::Dynamic) => value.clone(),
        (Value::String(_), Type::String)
        | (Value::Number(_), Type::Number)
        | (Value::Bool(_), Type::Bool) => value.clone(),
        (_, Type::List(t)) => elements(t).map_or(Value::Null, Value::List),
        (_, Type::Set(t)) => elements(t).map_or(Value::Null, |items| {
            let mut unique: Vec<Value> = Vec::with_capacity(items.len());
            for item in items {
                if !unique.contains(&item) {
                    unique.push(item);
                }
            }
            Value::Set(unique)
        }),
        (_, Type::Tuple(types)) => value.as_elements().map_or(Value::Null, |items| {
            Value::Tuple(
                types
                    .iter()
                    .enumerate()
                    .map(|(i, t)| items.get(i).map_or(Value::Null, |v| shape(v, t)))
                    .collect(),
            )
        }),
        (Value::Map(fields) | Value::Object(fields), Type::Map(t)) => Value::Map(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), shape(v, t)))
                .collect(),
        ),
        (Value::Map(fields) | Value::Object(fields), Type::Object(attrs)) => Value::Object(
            attrs
                .iter()
                .map(|(name, t)| {
                    let v = fields.get(name).map_or(Value::Null, |v| shape(v, t));
                    (name.clone(), v)
                })
                .collect(),
        ),
        _ => Value::Null,
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

    #[test]
    fn phone_lists_of_every_shape_are_read_consistently() {
        const A: &str = "0123456789abcdef0123456789abcdef";
        let phone = |id: Value| {
            Value::object([
                ("phone_id", id),
                ("properties", Value::Map([("k", Value::from("v"))].into())),
                ("bucket_name", Value::from("bkt")),
                ("object_path", Value::Unknown),
                ("include_files", Value::List(vec![Value::from("/data/app")])),
            ])
        };
        let inputs = [
            Value::Null,
            Value::Unknown,
            Value::from("text"),
            Value::object([("phone_ids", Value::List(vec![]))]),
            Value::object([(
                "phone_ids",
                Value::List(vec![
                    Value::from(A),
                    Value::from(A),
                    Value::Null,
                    Value::Unknown,
                    Value::from("not an id!"),
                    Value::from(true),
                ]),
            )]),
            Value::object([
                ("phone_ids", Value::Set(vec![Value::from(A)])),
                ("phones", Value::List(vec![phone(Value::from(A))])),
                ("state", Value::from("running")),
            ]),
            Value::object([(
                "phones",
                Value::Tuple(vec![
                    phone(Value::from(A)),
                    phone(Value::from(A)),
                    phone(Value::Unknown),
                    Value::Null,
                    Value::from(7),
                ]),
            )]),
            Value::object([("phones", Value::Unknown), ("phone_ids", Value::Null)]),
            Value::Map([("phone_ids", Value::Unknown)].into()),
        ];
        for input in &inputs {
            read_phone_lists(input);
        }
    }

    #[test]
    fn shaping_keeps_what_fits_the_type_and_nulls_the_rest() {
        let ty = Type::object([
            ("ids", Type::list(Type::String)),
            ("tags", Type::set(Type::String)),
            ("n", Type::Number),
            ("missing", Type::Bool),
        ]);
        let input = Value::object([
            (
                "ids",
                Value::Set(vec![Value::from("a"), Value::from(1), Value::Unknown]),
            ),
            (
                "tags",
                Value::List(vec![Value::from("x"), Value::from("x")]),
            ),
            ("n", Value::from("not a number")),
            ("extra", Value::from(true)),
        ]);
        let shaped = shape(&input, &ty);
        assert_eq!(
            shaped,
            Value::object([
                (
                    "ids",
                    Value::List(vec![Value::from("a"), Value::Null, Value::Unknown])
                ),
                ("missing", Value::Null),
                ("n", Value::Null),
                ("tags", Value::Set(vec![Value::from("x")])),
            ])
        );
    }
}
