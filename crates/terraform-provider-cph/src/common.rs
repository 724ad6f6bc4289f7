//! Schema pieces and models the batch resources share: the `jobs` result list, `timeouts`,
//! `triggers`, `allow_partial_failure`, and the plan rule that separates attributes which run the
//! action again from attributes that only change what is recorded.

use std::collections::HashMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tfplugin::{
    Attribute, AttributePath, Block, Diagnostic, Diagnostics, NestedBlock, PlanRequest,
    PlanResponse, RawState, Type, Value,
};

/// How long a resource waits on its jobs when its `timeouts` block says nothing.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// One phone's result as recorded in state (`jobs` and `restart_jobs` elements).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct JobRecord {
    pub(crate) phone_id: String,
    pub(crate) job_id: String,
    pub(crate) status: String,
    pub(crate) error_code: String,
    pub(crate) error_msg: String,
    pub(crate) begin_time: String,
    pub(crate) end_time: String,
}

/// The status strings recorded in `jobs[*].status`.
pub(crate) mod status {
    pub(crate) const SUCCESS: &str = "success";
    pub(crate) const FAILED: &str = "failed";
    pub(crate) const RUNNING: &str = "running";
}

impl JobRecord {
    pub(crate) fn succeeded(&self) -> bool {
        self.status == status::SUCCESS
    }
}

/// The `timeouts` block.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Timeouts {
    #[serde(default)]
    pub(crate) create: Option<String>,
    #[serde(default)]
    pub(crate) update: Option<String>,
}

/// Which timeout applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimeoutKind {
    Create,
    Update,
}

impl TimeoutKind {
    fn name(self) -> &'static str {
        match self {
            TimeoutKind::Create => "create",
            TimeoutKind::Update => "update",
        }
    }
}

/// Resolves the timeout of `kind` from an optional `timeouts` block.
pub(crate) fn timeout(
    timeouts: Option<&Timeouts>,
    kind: TimeoutKind,
) -> Result<Duration, Diagnostic> {
    let text = timeouts.and_then(|t| match kind {
        TimeoutKind::Create => t.create.as_deref(),
        TimeoutKind::Update => t.update.as_deref(),
    });
    match text {
        None => Ok(DEFAULT_TIMEOUT),
        Some(text) => parse_duration(text).map_err(|detail| {
            Diagnostic::error("Invalid Timeout", detail)
                .with_attribute(AttributePath::root("timeouts").attr(kind.name()))
        }),
    }
}

/// Parses a duration such as `30s`, `10m`, `1h30m` or `500ms`; the error says what was wrong.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let trimmed = text.trim();
    match humantime::parse_duration(trimmed) {
        Ok(d) if d.is_zero() => Err(format!("duration {text:?} must be greater than zero")),
        Ok(d) => Ok(d),
        Err(e) => Err(format!(
            "{text:?} is not a duration ({e}); write a number with a unit, such as \"30s\", \"10m\" or \"1h30m\""
        )),
    }
}

/// The object type of a `jobs` element.
pub(crate) fn job_type() -> Type {
    Type::object([
        ("phone_id", Type::String),
        ("job_id", Type::String),
        ("status", Type::String),
        ("error_code", Type::String),
        ("error_msg", Type::String),
        ("begin_time", Type::String),
        ("end_time", Type::String),
    ])
}

/// `id`: the request id of the first batch request.
pub(crate) fn id_attribute() -> Attribute {
    Attribute::computed("id", Type::String)
        .description("The request id of the first batch request.")
}

/// `request_ids`.
pub(crate) fn request_ids_attribute(description: &str) -> Attribute {
    Attribute::computed("request_ids", Type::list(Type::String)).description(description)
}

/// The schema version of the resources that record jobs. 1: `jobs` and `restart_jobs` are maps keyed by
/// phone id (version 0 kept them as lists, which Terraform 1.11's plan renderer compares with the state in
/// time that grows with the square of their length, even when nothing changed).
pub(crate) const RESULTS_SCHEMA_VERSION: i64 = 1;

/// `jobs` (or `restart_jobs`): one result per phone, keyed by phone id.
pub(crate) fn jobs_attribute(name: &str, description: &str) -> Attribute {
    Attribute::computed(name, Type::map(job_type())).description(format!(
        "{description} Keyed by phone id; each entry: `phone_id`, `job_id` (empty when the phone was rejected at \
         submission), `status` (`success`, `failed`, or `running` when the wait ended first), `error_code`, \
         `error_msg`, `begin_time`, `end_time`."
    ))
}

/// The map keys of records for `phone_ids` in order: the phone id, or `<id>#2`, `<id>#3`, ... for a phone
/// recorded again, so that no record is ever dropped.
fn record_keys<'a>(phone_ids: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    phone_ids
        .map(|id| {
            let n = seen.entry(id).or_insert(0);
            *n += 1;
            if *n == 1 {
                id.to_owned()
            } else {
                format!("{id}#{n}")
            }
        })
        .collect()
}

/// Upgrades state stored by an earlier schema version: version 0 kept `jobs` and `restart_jobs` as lists.
pub(crate) fn upgrade_results_state(
    version: i64,
    raw: RawState,
    ty: &Type,
) -> Result<Value, Diagnostics> {
    if version >= RESULTS_SCHEMA_VERSION || raw.json.is_empty() {
        return raw.decode(ty).map_err(Diagnostics::from);
    }
    let mut json: serde_json::Value = serde_json::from_slice(&raw.json).map_err(|e| {
        Diagnostics::from(Diagnostic::error(
            "Unreadable State",
            format!("the stored state (schema version {version}) is not JSON: {e}"),
        ))
    })?;
    for name in ["jobs", "restart_jobs"] {
        if let Some(serde_json::Value::Array(items)) = json.get_mut(name) {
            let items = std::mem::take(items);
            let keys = record_keys(items.iter().map(|j| {
                j.get("phone_id")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or("")
            }));
            json[name] = serde_json::Value::Object(keys.into_iter().zip(items).collect());
        }
    }
    let json = serde_json::to_vec(&json)
        .map_err(|e| Diagnostics::from(Diagnostic::error("Unreadable State", e.to_string())))?;
    RawState { json, ..raw }
        .decode(ty)
        .map_err(Diagnostics::from)
}

/// `triggers`: arbitrary values whose change runs the action again.
pub(crate) fn triggers_attribute(action: &str) -> Attribute {
    Attribute::optional("triggers", Type::map(Type::String))
        .requires_replace()
        .description(format!(
            "Arbitrary values; changing any of them performs the {action} again."
        ))
}

/// `allow_partial_failure`.
pub(crate) fn allow_partial_failure_attribute() -> Attribute {
    Attribute::optional("allow_partial_failure", Type::Bool).description(
        "When true, failed or rejected phones are warnings instead of an error. Default false. \
         Changing it only updates state.",
    )
}

/// The `timeouts` block with the given operations (`create`, `update`).
pub(crate) fn timeouts_block(kinds: &[TimeoutKind]) -> NestedBlock {
    let mut block = Block::new()
        .description("Bounds on the wait for the jobs, as durations such as `30s` or `10m`.");
    for kind in kinds {
        block = block.attribute(Attribute::optional(kind.name(), Type::String).description(
            format!("How long {} waits on its jobs. Default `30m`.", kind.name()),
        ));
    }
    NestedBlock::single("timeouts", block)
}

/// Plans an action resource on update: when none of the attributes that run the action changed (the
/// runtime already asked for replacement when one did), the recorded results stay as they are, since
/// nothing will be called.
pub(crate) fn keep_results_unless_replacing(
    req: &PlanRequest,
    plan: &mut PlanResponse,
    computed: &[&str],
) {
    if req.prior_state.is_null()
        || plan.planned_state.is_null()
        || !plan.requires_replace.is_empty()
    {
        return;
    }
    for name in computed {
        plan.keep_prior(req, &AttributePath::root(*name));
    }
}

/// Plans an optional boolean that defaults to `default` when unset (so state shows the value used).
pub(crate) fn plan_bool_default(
    req: &PlanRequest,
    plan: &mut PlanResponse,
    name: &str,
    default: bool,
) {
    let configured = req.config.get(name).cloned().unwrap_or(Value::Null);
    if configured.is_null() {
        plan.planned_state
            .set_path(&AttributePath::root(name), Value::Bool(default));
    }
}

/// Converts `jobs` records to the value stored in state: a map keyed by phone id.
pub(crate) fn jobs_value(jobs: &[JobRecord]) -> Value {
    // Built field by field (not through serde) so that no conversion error can drop a recorded job.
    let keys = record_keys(jobs.iter().map(|j| j.phone_id.as_str()));
    Value::Map(
        keys.into_iter()
            .zip(jobs)
            .map(|(key, j)| {
                let record = Value::object([
                    ("phone_id", Value::from(j.phone_id.clone())),
                    ("job_id", Value::from(j.job_id.clone())),
                    ("status", Value::from(j.status.clone())),
                    ("error_code", Value::from(j.error_code.clone())),
                    ("error_msg", Value::from(j.error_msg.clone())),
                    ("begin_time", Value::from(j.begin_time.clone())),
                    ("end_time", Value::from(j.end_time.clone())),
                ]);
                (key, record)
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_values_carry_every_attribute_of_the_job_type() {
        let job = JobRecord {
            phone_id: "p".into(),
            status: status::SUCCESS.into(),
            ..JobRecord::default()
        };
        let value = jobs_value(&[job]);
        let Value::Map(records) = &value else {
            panic!("{value:?}")
        };
        let Some(Value::Object(fields)) = records.get("p") else {
            panic!("{value:?}")
        };
        let Type::Object(attrs) = job_type() else {
            panic!("job_type is an object")
        };
        assert!(fields.keys().eq(attrs.keys()), "{fields:?}");
        assert_eq!(fields.get("status"), Some(&Value::from("success")));
    }

    #[test]
    fn a_phone_recorded_twice_keeps_both_records() {
        let job = |phone: &str, job: &str| JobRecord {
            phone_id: phone.into(),
            job_id: job.into(),
            ..JobRecord::default()
        };
        let value = jobs_value(&[job("a", "j1"), job("b", "j2"), job("a", "j3")]);
        let Value::Map(records) = &value else {
            panic!("{value:?}")
        };
        let job_of = |key: &str| records.get(key).and_then(|r| r.get("job_id")).cloned();
        assert_eq!(records.len(), 3);
        assert_eq!(job_of("a"), Some(Value::from("j1")));
        assert_eq!(job_of("b"), Some(Value::from("j2")));
        assert_eq!(job_of("a#2"), Some(Value::from("j3")));
    }

    #[test]
    fn version_0_state_with_job_lists_upgrades_to_maps_keeping_every_record() {
        let ty = Type::object([
            ("id", Type::String),
            ("jobs", Type::map(job_type())),
            ("restart_jobs", Type::map(job_type())),
        ]);
        let json = br#"{"id":"r1","jobs":[{"phone_id":"a","job_id":"j1","status":"success"},{"phone_id":"b","job_id":"j2","status":"failed","error_code":"CPS.0005"}],"restart_jobs":null}"#;
        let raw = RawState {
            json: json.to_vec(),
            ..RawState::default()
        };
        let value = upgrade_results_state(0, raw, &ty).unwrap();
        let jobs = value.get("jobs").unwrap();
        assert_eq!(
            jobs.get("b").and_then(|j| j.get("error_code")),
            Some(&Value::from("CPS.0005"))
        );
        assert_eq!(
            jobs.get("a").and_then(|j| j.get("job_id")),
            Some(&Value::from("j1"))
        );
        assert!(value.get("restart_jobs").is_some_and(Value::is_null));
        // State already at the current version is decoded as it is.
        let current = br#"{"id":"r1","jobs":{"a":{"phone_id":"a","job_id":"j1"}}}"#;
        let raw = RawState {
            json: current.to_vec(),
            ..RawState::default()
        };
        let value = upgrade_results_state(RESULTS_SCHEMA_VERSION, raw, &ty).unwrap();
        assert!(value.get("jobs").and_then(|j| j.get("a")).is_some());
    }

    #[test]
    fn durations_accept_terraform_style_units() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
    }

    #[test]
    fn bad_or_zero_durations_are_refused_with_the_value_named() {
        let err = parse_duration("ten minutes").unwrap_err();
        assert!(err.contains("\"ten minutes\""), "{err}");
        assert!(
            parse_duration("0s")
                .unwrap_err()
                .contains("greater than zero")
        );
        assert!(parse_duration("").is_err());
        assert!(parse_duration("-5m").is_err());
    }

    #[test]
    fn missing_timeout_uses_thirty_minutes_and_bad_one_points_at_the_attribute() {
        assert_eq!(timeout(None, TimeoutKind::Create), Ok(DEFAULT_TIMEOUT));
        let t = Timeouts {
            create: Some("2m".into()),
            update: None,
        };
        assert_eq!(
            timeout(Some(&t), TimeoutKind::Create),
            Ok(Duration::from_secs(120))
        );
        assert_eq!(timeout(Some(&t), TimeoutKind::Update), Ok(DEFAULT_TIMEOUT));
        let bad = Timeouts {
            create: Some("soon".into()),
            update: None,
        };
        let diag = timeout(Some(&bad), TimeoutKind::Create).unwrap_err();
        assert_eq!(
            diag.attribute.as_ref().map(|p| p.to_string()),
            Some("timeouts.create".to_string())
        );
    }
}
