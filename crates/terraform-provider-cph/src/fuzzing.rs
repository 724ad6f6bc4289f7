//! A `#[doc(hidden)]` entry point for the fuzz targets in `fuzz/`: stored state of any shape through
//! the provider's upgrade, validation and per-phone plan, as Terraform would drive them.

use tfplugin::{PlanRequest, PlanResponse, RawState, Resource, Type, Value};

use crate::converge::{self, Operation};
use crate::phones::{PhoneInputs, PhoneList, read_phones};
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

/// Reads `input` (a value of any shape, built from fuzz input) as the configuration of every
/// resource that names phones: shaped to each resource's schema type (attributes of the same name
/// and kind kept, anything else null), it goes through the schema's validators, the resource's
/// `validate` and, for every resource with per-phone inputs, the phone list reader
/// (`phones::read_phones`, in its `phones` and its `phone_ids` form). Panics on a provider bug:
/// a panic inside them, results that differ between two runs, or a phone list that disagrees with
/// the value it was read from (its length, paths, ids, inputs of the `phone_ids` form, one
/// "Duplicate Phone Id" per repeated id, "No Phones" exactly for an empty list, "Invalid Phone Id"
/// exactly at the `phone_ids` elements that are not phone ids, and a `phones`/`phone_ids`
/// conflict or absence always reported).
pub fn read_phone_lists(input: &Value) {
    phone_list::<PhoneRestart>(&ActionResource::<PhoneRestart>::new(), input);
    phone_list::<PhoneReset>(&ActionResource::<PhoneReset>::new(), input);
    phone_list::<PhoneRestore>(&ActionResource::<PhoneRestore>::new(), input);
    phone_list::<PhoneBackup>(&ActionResource::<PhoneBackup>::new(), input);
    phone_list::<PhoneProperty>(&PhoneProperty, input);
    // The power resource's per-phone inputs are private to it: its `validate` is its list reader.
    let (config, _) = schema_checks(&PhonePower, input);
    let diags = PhonePower.validate(&config);
    assert_eq!(
        diags,
        PhonePower.validate(&config),
        "validation is deterministic"
    );
    let ids = config.get("phone_ids").unwrap_or(&Value::Null);
    if let Some(elements) = ids.as_elements() {
        assert_list_diags(&diags, "phone_ids", elements, |e| e);
    }
}

/// Shapes `input` to the resource's schema type and runs the schema's validators twice; returns
/// the shaped configuration and what the validators found.
fn schema_checks(
    resource: &impl Resource<crate::ProviderData>,
    input: &Value,
) -> (Value, tfplugin::Diagnostics) {
    let schema = resource.schema();
    let config = shape(input, &schema.value_type());
    let diags = schema.validate(&config);
    assert_eq!(
        diags,
        schema.validate(&config),
        "schema validation is deterministic"
    );
    let count = |summary: &str| diags.iter().filter(|d| d.summary == summary).count();
    let has_ids = schema
        .block
        .attributes
        .iter()
        .any(|a| a.name == "phone_ids");
    let has_phones = schema.block.attributes.iter().any(|a| a.name == "phones");
    // The rules apply to an object (a null or unknown configuration has nothing to check).
    let object = matches!(config, Value::Object(_));
    if object && has_ids && has_phones {
        let set = ["phones", "phone_ids"]
            .iter()
            .filter(|name| config.get(name).is_some_and(|v| !v.is_null()))
            .count();
        assert_eq!(
            count("Missing Attribute") + count("Conflicting Attributes"),
            usize::from(set != 1),
            "exactly one of phones and phone_ids: {set} set, {diags:?}"
        );
    }
    if has_ids {
        // Every known `phone_ids` element that is not a phone id is reported, at its index.
        let ids = config.get("phone_ids").unwrap_or(&Value::Null);
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

fn phone_list<O: Operation>(resource: &impl Resource<crate::ProviderData>, input: &Value) {
    let (config, _) = schema_checks(resource, input);
    let validated = resource.validate(&config);
    assert_eq!(
        validated,
        resource.validate(&config),
        "validation is deterministic"
    );
    let mut diags = tfplugin::Diagnostics::new();
    let list = read_phones::<O::Inputs>(&config, &mut diags);
    let mut again = tfplugin::Diagnostics::new();
    assert_eq!(
        list,
        read_phones::<O::Inputs>(&config, &mut again),
        "reading is deterministic"
    );
    assert_eq!(diags, again, "reading is deterministic");
    for diag in diags.iter() {
        assert!(
            validated.iter().any(|d| d == diag),
            "validate misses {diag:?}"
        );
    }
    let ids_value = config.get("phone_ids").filter(|v| !v.is_null());
    let (name, value) = match ids_value {
        Some(ids) => ("phone_ids", ids),
        None => ("phones", config.get("phones").unwrap_or(&Value::Null)),
    };
    let phones = match (&list, value) {
        (PhoneList::Unknown, Value::Unknown) => {
            assert!(diags.is_empty(), "{diags:?}");
            assert_eq!(list.with_known_ids(), None);
            return;
        }
        (PhoneList::Known(phones), _) if !value.is_unknown() => phones,
        _ => panic!("{name} = {value:?} read as {list:?}"),
    };
    if value.is_null() {
        assert!(phones.is_empty() && diags.is_empty(), "{list:?} {diags:?}");
        return;
    }
    let elements = value.as_elements().unwrap_or_default();
    let id_of = |e: &'_ Value| -> Value {
        if ids_value.is_some() {
            e.clone()
        } else {
            e.get("phone_id").cloned().unwrap_or(Value::Null)
        }
    };
    assert_eq!(phones.len(), elements.len(), "one phone per element");
    for (i, (phone, element)) in phones.iter().zip(elements).enumerate() {
        assert_eq!(phone.path.to_string(), format!("{name}[{i}]"));
        let expected = match id_of(element) {
            Value::String(s) => Some(s),
            _ => None,
        };
        assert_eq!(phone.id, expected, "{name}[{i}]");
        if ids_value.is_some() {
            assert_eq!(phone.inputs, Some(O::Inputs::id_only()), "{name}[{i}]");
        }
    }
    match list.with_known_ids() {
        Some(known) => {
            let ids: Vec<Option<&str>> = known.iter().map(|(id, _)| Some(*id)).collect();
            let read: Vec<Option<&str>> = phones.iter().map(|p| p.id.as_deref()).collect();
            assert_eq!(ids, read);
        }
        None => assert!(phones.iter().any(|p| p.id.is_none())),
    }
    assert!(
        list.by_id()
            .keys()
            .all(|id| phones.iter().any(|p| p.id.as_deref() == Some(*id)))
    );
    let ids: Vec<Value> = elements.iter().map(id_of).collect();
    assert_list_diags(&diags, name, &ids, |v| v);
}

/// The list-wide diagnostics of a phone list whose ids are `ids`: "No Phones" exactly when it is
/// empty, one "Duplicate Phone Id" per id already listed before it.
fn assert_list_diags<'a, T>(
    diags: &tfplugin::Diagnostics,
    name: &str,
    ids: &'a [T],
    id: impl Fn(&'a T) -> &'a Value,
) {
    let count = |summary: &str| diags.iter().filter(|d| d.summary == summary).count();
    assert_eq!(
        count("No Phones"),
        usize::from(ids.is_empty()),
        "{name}: {diags:?}"
    );
    let mut seen = std::collections::HashSet::new();
    let repeats = ids
        .iter()
        .filter_map(|e| match id(e) {
            Value::String(s) => Some(s.as_str()),
            _ => None,
        })
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
