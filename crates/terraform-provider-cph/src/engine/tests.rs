//! The engine's plan on values as Terraform sends them.

use tfplugin::{Fields, PlanRequest, PlanResponse, Value};

use super::*;
use crate::resources::phone_property::PhoneProperty;
use crate::resources::phone_restart::PhoneRestart;
use crate::resources::schema;

fn record(phone: &str, status: Status) -> Value {
    Value::object([
        ("phone_id", Value::from(phone)),
        ("request_id", Value::from("req-1")),
        ("job_id", Value::from(format!("job-{phone}"))),
        ("status", Value::from(status.as_str())),
        ("error_code", Value::from("")),
        ("error_msg", Value::from("")),
        ("begin_time", Value::from("")),
        ("end_time", Value::from("")),
    ])
}

fn restart(ids: &[&str], jobs: Value, request_ids: Value) -> Value {
    let mut value = Value::object([
        ("id", Value::from("req-1")),
        ("phones", Value::Null),
        (
            "phone_ids",
            Value::List(ids.iter().map(|id| Value::from(*id)).collect()),
        ),
        ("allow_partial_failure", Value::Bool(false)),
        ("jobs", jobs),
        ("request_ids", request_ids),
    ]);
    conform::<PhoneRestart>(&mut value);
    value
}

/// `value` with every attribute of `K`'s schema (null where it has none), as Terraform sends it.
fn conform<K: crate::resources::Kind>(value: &mut Value) {
    let (tfplugin::Type::Object(attrs), Value::Object(fields)) =
        (schema::<K>().value_type(), value)
    else {
        panic!("objects expected")
    };
    for name in attrs.keys() {
        if !fields.contains_key(name) {
            fields.insert(name.clone(), Value::Null);
        }
    }
}

fn jobs(entries: &[(&str, Value)]) -> Value {
    Value::Map(
        entries
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect::<Fields>(),
    )
}

fn planned<K: crate::resources::Kind>(prior: Value, proposed: Value) -> PlanResponse {
    let req = PlanRequest {
        prior_state: prior,
        proposed_new_state: proposed.clone(),
        config: proposed.clone(),
        prior_private: Vec::new(),
    };
    let mut response = PlanResponse {
        planned_state: proposed,
        ..PlanResponse::default()
    };
    plan::<K>(&schema::<K>(), None, &req, &mut response);
    response
}

const A: &str = "a";

#[test]
fn an_update_plans_unknown_records_for_the_phones_with_work_and_keeps_the_rest() {
    let prior = restart(
        &["a", "b", "c"],
        jobs(&[
            ("a", record("a", Status::Success)),
            ("b", record("b", Status::Failed)),
            ("c", record("c", Status::Success)),
        ]),
        Value::List(vec![Value::from("req-1")]),
    );
    // The runtime marked the computed attributes unknown: the plan decides them.
    let proposed = restart(&["d", "b", "a"], Value::Unknown, Value::Unknown);
    let plan = planned::<PhoneRestart>(prior.clone(), proposed);
    assert!(
        plan.diagnostics
            .iter()
            .all(|d| d.severity == tfplugin::Severity::Warning),
        "{:?}",
        plan.diagnostics
    );
    let planned_jobs = plan.planned_state.get("jobs").unwrap();
    assert_eq!(planned_jobs.get(A), prior.get("jobs").unwrap().get(A));
    assert_eq!(planned_jobs.get("b"), Some(&Value::Unknown));
    assert_eq!(planned_jobs.get("d"), Some(&Value::Unknown));
    assert_eq!(planned_jobs.get("c"), None, "a removed phone leaves state");
    assert_eq!(plan.planned_state.get("request_ids"), Some(&Value::Unknown));
    let warning = plan.diagnostics.iter().next().unwrap();
    assert_eq!(warning.summary, "2 of 3 Phones Need Work");
    assert!(
        warning
            .detail
            .contains("1 phone failed last time and will be retried")
            && warning
                .detail
                .contains("1 phone is new and will be restarted"),
        "{}",
        warning.detail
    );
}

#[test]
fn removing_a_phone_takes_its_request_id_out_of_request_ids() {
    let mut b = record("b", Status::Success);
    b.set_path(&path("request_id"), Value::from("req-2"));
    let prior = restart(
        &["a", "b"],
        jobs(&[("a", record("a", Status::Success)), ("b", b)]),
        Value::List(vec![Value::from("req-1"), Value::from("req-2")]),
    );
    let proposed = restart(&["a"], Value::Unknown, Value::Unknown);
    let plan = planned::<PhoneRestart>(prior, proposed);
    assert_eq!(
        plan.planned_state.get("request_ids"),
        Some(&Value::List(vec![Value::from("req-1")]))
    );
}

#[test]
fn with_nothing_to_do_the_plan_keeps_every_record_and_says_nothing() {
    let prior = restart(
        &["a", "b"],
        jobs(&[
            ("a", record("a", Status::Success)),
            ("b", record("b", Status::Success)),
        ]),
        Value::List(vec![Value::from("req-1")]),
    );
    let proposed = restart(&["b", "a"], Value::Unknown, Value::Unknown);
    let plan = planned::<PhoneRestart>(prior.clone(), proposed);
    assert_eq!(plan.planned_state.get("jobs"), prior.get("jobs"));
    assert_eq!(
        plan.planned_state.get("request_ids"),
        prior.get("request_ids")
    );
    assert!(plan.diagnostics.is_empty(), "{:?}", plan.diagnostics);
}

#[test]
fn an_imported_phone_without_a_record_that_holds_its_values_gets_no_record() {
    let phone = |id: &str, value: &str| {
        Value::object([
            ("phone_id", Value::from(id)),
            (
                "properties",
                Value::Map([("k".to_owned(), Value::from(value))].into_iter().collect()),
            ),
        ])
    };
    let state = |phones: Vec<Value>, jobs: Value| {
        let mut value = Value::object([
            ("id", Value::from("imported")),
            ("phones", Value::List(phones)),
            ("restart_after_update", Value::Bool(false)),
            ("allow_partial_failure", Value::Bool(false)),
            ("jobs", jobs),
            ("restart_jobs", Value::Map(Fields::new())),
            ("request_ids", Value::List(Vec::new())),
        ]);
        conform::<PhoneProperty>(&mut value);
        value
    };
    let prior = state(
        vec![phone("a", "1"), phone("b", "1")],
        Value::Map(Fields::new()),
    );
    let proposed = state(vec![phone("a", "1"), phone("b", "2")], Value::Unknown);
    let plan = planned::<PhoneProperty>(prior, proposed);
    let planned_jobs = plan.planned_state.get("jobs").unwrap();
    assert_eq!(planned_jobs.get(A), None);
    assert_eq!(planned_jobs.get("b"), Some(&Value::Unknown));
    assert_eq!(
        plan.planned_state.get("restart_jobs"),
        Some(&Value::Map(Fields::new())),
        "the follow-up restart is off"
    );
    let warning = plan.diagnostics.iter().next().unwrap();
    assert!(
        warning
            .detail
            .contains("1 phone is not as the configuration says"),
        "{}",
        warning.detail
    );
}

#[test]
fn a_create_or_a_replacement_leaves_every_record_unknown() {
    let mut proposed = restart(&["a"], Value::Unknown, Value::Unknown);
    proposed.set_path(&path(names::ID), Value::Unknown);
    let plan = planned::<PhoneRestart>(Value::Null, proposed);
    assert_eq!(plan.planned_state.get("id"), Some(&Value::Unknown));
    assert!(plan.diagnostics.is_empty());
}

#[test]
fn a_hand_edited_record_fails_the_plan_naming_it_and_what_to_do() {
    let mut bad = record("a", Status::Running);
    bad.set_path(&path("job_id"), Value::from("not a job!"));
    let prior = restart(&["a"], jobs(&[("a", bad)]), Value::List(vec![]));
    let proposed = restart(&["a", "b"], Value::Unknown, Value::Unknown);
    let plan = planned::<PhoneRestart>(prior, proposed);
    let error = plan.diagnostics.iter().next().unwrap();
    assert_eq!(error.summary, "Unreadable State");
    assert!(
        error.detail.contains("jobs[\"a\"]: invalid job id")
            && error.detail.contains("terraform state rm"),
        "{}",
        error.detail
    );
}

#[test]
fn import_ids_are_valid_listed_once_sorted_and_may_name_the_keys() {
    let a = "0123456789abcdef0123456789abcdef";
    let b = "00000000000000000000000000000001";
    assert_eq!(
        ImportId::parse(&format!(" {a} ,"), true)
            .unwrap()
            .phones
            .len(),
        1
    );
    // Sorted by id whatever the order given; no keys named: every key is imported.
    let parsed = ImportId::parse(&format!("{a},{b}"), true).unwrap();
    assert_eq!(
        parsed
            .phones
            .iter()
            .map(PhoneId::as_str)
            .collect::<Vec<_>>(),
        [b, a]
    );
    assert_eq!(parsed.keys, None);
    let parsed = ImportId::parse(
        &format!("{a}/sys.prop.writephonenum, sys.prop.writewifissid"),
        true,
    )
    .unwrap();
    assert_eq!(
        parsed.keys,
        Some(vec![
            "sys.prop.writephonenum".to_owned(),
            "sys.prop.writewifissid".to_owned()
        ])
    );
    for (bad, keys) in [
        (String::new(), true),
        (",,".into(), true),
        (format!("{a},{a}"), true),
        ("not a phone!".into(), true),
        (format!("{a}/"), true),
        (format!("/{a}"), true),
        (format!("{a}/sys.prop.writeimsi"), false),
    ] {
        let diags = ImportId::parse(&bad, keys).unwrap_err();
        assert_eq!(
            diags.iter().next().unwrap().summary,
            "Invalid Import Id",
            "{bad:?}"
        );
    }
}
