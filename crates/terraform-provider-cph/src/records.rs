//! Per-phone records as state keeps them (`jobs` and `restart_jobs`: maps keyed by phone id), the
//! status vocabulary and what each status's record holds, and the upgrade of state written by
//! earlier schema versions.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use cph_types::{JobId, PhoneId, RequestId};
use serde::{Deserialize, Serialize};
use tfplugin::{Diagnostic, Diagnostics, Maybe, RawState, Schema, Type, Value};

use crate::model::names;

/// The schema version of every resource that records jobs.
/// - 0: `jobs` and `restart_jobs` were lists.
/// - 1: maps keyed by phone id (Terraform 1.11's plan renderer compares lists pairwise, in time that
///   grows with the square of their length).
/// - 2: each record carries its `request_id` (so a refresh can poll running jobs in bulk) and a phone
///   refused at submission is `rejected`; `allow_partial_failure` and the follow-up restart switches
///   are planned with their defaults.
pub(crate) const SCHEMA_VERSION: i64 = 2;

/// What became of one phone's latest attempt, exactly as state records it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Status {
    /// The job ran and succeeded.
    Success,
    /// The job ran and failed.
    Failed,
    /// The service refused the phone when it was submitted (with its error code).
    Rejected,
    /// The job had not finished when the wait ended (timeout, Ctrl-C).
    Running,
    /// The submission failed in a way that leaves open whether the service acted.
    Unknown,
    /// The phone was never sent (the run was cut short, or its request certainly did not arrive).
    NotSubmitted,
    /// A status this version does not know (hand-edited state): treated as not successful.
    Other(String),
}

impl Status {
    /// Every status this provider writes, for docs and tests.
    pub(crate) const WRITTEN: [Status; 6] = [
        Status::Success,
        Status::Failed,
        Status::Rejected,
        Status::Running,
        Status::Unknown,
        Status::NotSubmitted,
    ];

    pub(crate) fn as_str(&self) -> &str {
        match self {
            Status::Success => "success",
            Status::Failed => "failed",
            Status::Rejected => "rejected",
            Status::Running => "running",
            Status::Unknown => "unknown",
            Status::NotSubmitted => "not_submitted",
            Status::Other(s) => s,
        }
    }

    pub(crate) fn parse(text: &str) -> Status {
        Status::WRITTEN
            .into_iter()
            .find(|s| s.as_str() == text)
            .unwrap_or_else(|| Status::Other(text.to_owned()))
    }

    /// What a record of this status holds, field by field, as the docs show it (one row per status,
    /// in the order of [`Status::WRITTEN`]): `request_id`, `job_id`, `error_code`, `error_msg`,
    /// `begin_time`/`end_time`.
    pub(crate) fn fields(&self) -> [&'static str; 5] {
        match self {
            Status::Success => [
                "the request",
                "the job (empty when the phone was found acting with no job)",
                "empty",
                "empty",
                "the job's",
            ],
            Status::Failed => [
                "the request",
                "the job",
                "the job's code, else `failed`",
                "the job's message",
                "the job's",
            ],
            Status::Rejected => [
                "the request, when it answered",
                "empty",
                "the service's code, else `rejected`",
                "the service's message",
                "empty",
            ],
            Status::Running => [
                "the request",
                "the job (empty when the phone was found acting with no job)",
                "empty",
                "empty",
                "the job's start",
            ],
            Status::Unknown => [
                "the request, when known",
                "the job, when one was seen",
                "the code of the failure, else `unknown`",
                "what left the outcome open",
                "empty",
            ],
            Status::NotSubmitted | Status::Other(_) => [
                "empty",
                "empty",
                "`not_submitted`",
                "why it was not sent",
                "empty",
            ],
        }
    }
}

/// The table of what a record of each status holds, for `docs/index.md` (generated there from
/// [`Status::fields`], so code and docs say the same).
pub fn fields_markdown() -> String {
    let mut out = String::from(
        "| `status` | `request_id` | `job_id` | `error_code` | `error_msg` | `begin_time`, `end_time` |\n\
         |---|---|---|---|---|---|\n",
    );
    for status in Status::WRITTEN {
        let [request, job, code, msg, times] = status.fields();
        out.push_str(&format!(
            "| `{}` | {request} | {job} | {code} | {msg} | {times} |\n",
            status.as_str()
        ));
    }
    out
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One phone's record: its latest job for one operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RecordText", into = "RecordText")]
pub(crate) struct Record {
    pub(crate) phone_id: PhoneId,
    pub(crate) request_id: Option<RequestId>,
    pub(crate) job_id: Option<JobId>,
    pub(crate) status: Status,
    pub(crate) error_code: String,
    pub(crate) error_msg: String,
    pub(crate) begin_time: String,
    pub(crate) end_time: String,
}

/// A record as state writes it: every field a string, empty where there is nothing (older versions
/// wrote null for some).
#[derive(Debug, Default, Serialize, Deserialize)]
struct RecordText {
    #[serde(default)]
    phone_id: Option<String>,
    #[serde(default)]
    request_id: Option<String>,
    #[serde(default)]
    job_id: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    error_code: Option<String>,
    #[serde(default)]
    error_msg: Option<String>,
    #[serde(default)]
    begin_time: Option<String>,
    #[serde(default)]
    end_time: Option<String>,
}

/// The names of a record's fields, in the order state lists them.
pub(crate) const RECORD_FIELDS: [&str; 8] = [
    "phone_id",
    "request_id",
    "job_id",
    "status",
    "error_code",
    "error_msg",
    "begin_time",
    "end_time",
];

impl TryFrom<RecordText> for Record {
    type Error = String;

    fn try_from(text: RecordText) -> Result<Record, String> {
        fn optional<T>(
            value: Option<String>,
            parse: impl Fn(String) -> Result<T, cph_types::Error>,
        ) -> Result<Option<T>, String> {
            match value.filter(|v| !v.is_empty()) {
                None => Ok(None),
                Some(v) => parse(v).map(Some).map_err(|e| e.to_string()),
            }
        }
        Ok(Record {
            phone_id: PhoneId::new(text.phone_id.unwrap_or_default()).map_err(|e| e.to_string())?,
            request_id: optional(text.request_id, RequestId::new)?,
            job_id: optional(text.job_id, JobId::new)?,
            status: Status::parse(text.status.as_deref().unwrap_or_default()),
            error_code: text.error_code.unwrap_or_default(),
            error_msg: text.error_msg.unwrap_or_default(),
            begin_time: text.begin_time.unwrap_or_default(),
            end_time: text.end_time.unwrap_or_default(),
        })
    }
}

impl From<Record> for RecordText {
    fn from(r: Record) -> RecordText {
        RecordText {
            phone_id: Some(r.phone_id.into_string()),
            request_id: Some(r.request_id.map(RequestId::into_string).unwrap_or_default()),
            job_id: Some(r.job_id.map(JobId::into_string).unwrap_or_default()),
            status: Some(r.status.as_str().to_owned()),
            error_code: Some(r.error_code),
            error_msg: Some(r.error_msg),
            begin_time: Some(r.begin_time),
            end_time: Some(r.end_time),
        }
    }
}

impl Record {
    /// A record of a phone that was not sent, saying why.
    pub(crate) fn not_submitted(phone_id: &PhoneId, why: impl Into<String>) -> Record {
        Record {
            phone_id: phone_id.clone(),
            request_id: None,
            job_id: None,
            status: Status::NotSubmitted,
            error_code: Status::NotSubmitted.as_str().to_owned(),
            error_msg: why.into(),
            begin_time: String::new(),
            end_time: String::new(),
        }
    }

    pub(crate) fn succeeded(&self) -> bool {
        self.status == Status::Success
    }

    pub(crate) fn is_running(&self) -> bool {
        self.status == Status::Running
    }
}

/// The object type of a record.
pub(crate) fn record_type() -> Type {
    Type::object(RECORD_FIELDS.map(|name| (name, Type::String)))
}

/// Records keyed as state keys them (by phone id); at plan time a record may be unknown (to be
/// written by the apply).
pub(crate) type Records = BTreeMap<String, Maybe<Record>>;

/// The request ids behind `records`: distinct, sorted.
pub(crate) fn request_ids<'a>(records: impl IntoIterator<Item = &'a Record>) -> Vec<RequestId> {
    records
        .into_iter()
        .filter_map(|r| r.request_id.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// The map keys of records for `phone_ids` in order: the phone id, or `<id>#2`, `<id>#3`, ... for a
/// phone recorded again, so that no record is ever dropped (state of version 0 could hold those).
fn record_keys<'a>(phone_ids: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
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

/// The names of the record maps a resource may have.
const RECORD_ATTRIBUTES: [&str; 2] = [names::JOBS, names::RESTART_JOBS];

/// Upgrades stored state of any earlier `version` to [`SCHEMA_VERSION`] without losing a record:
/// job lists (version 0) become maps, every record gains `request_id` (empty where it was not
/// kept: a refresh then asks for such a job by its id), `failed` records of phones that never got
/// a job become `rejected`, null fields of records become empty, and attributes with a default
/// that state holds as null get it. Works on the stored JSON, before any model reads it.
pub(crate) fn upgrade_state(
    version: i64,
    raw: RawState,
    schema: &Schema,
) -> Result<Value, Diagnostics> {
    let ty = schema.value_type();
    if raw.json.is_empty() {
        return raw.decode(&ty).map_err(Diagnostics::from);
    }
    let unreadable = |e: String| {
        Diagnostics::from(Diagnostic::error(
            "Unreadable State",
            format!("the stored state (schema version {version}) cannot be read: {e}"),
        ))
    };
    let mut json: serde_json::Value =
        serde_json::from_slice(&raw.json).map_err(|e| unreadable(e.to_string()))?;
    for name in RECORD_ATTRIBUTES {
        let Some(slot) = json.get_mut(name) else {
            continue;
        };
        if version < 1 {
            if let serde_json::Value::Array(items) = slot {
                let items = std::mem::take(items);
                let keys = record_keys(items.iter().map(|j| {
                    j.get(names::PHONE_ID)
                        .and_then(serde_json::Value::as_str)
                        .unwrap_or("")
                }));
                *slot = serde_json::Value::Object(keys.into_iter().zip(items).collect());
            }
        }
        if let serde_json::Value::Object(records) = slot {
            for (key, record) in records.iter_mut() {
                upgrade_record(key, record, version);
            }
        }
    }
    let json = serde_json::to_vec(&json).map_err(|e| unreadable(e.to_string()))?;
    let mut value = RawState { json, ..raw }
        .decode(&ty)
        .map_err(Diagnostics::from)?;
    schema.block.fill_defaults(&mut value);
    Ok(value)
}

/// One stored record brought to the current version: its phone id from its key where it has none,
/// empty strings for null fields, and (before version 2) `rejected` for a failure with no job.
fn upgrade_record(key: &str, record: &mut serde_json::Value, version: i64) {
    let serde_json::Value::Object(fields) = record else {
        return;
    };
    let text = |fields: &serde_json::Map<String, serde_json::Value>, name: &str| {
        fields
            .get(name)
            .and_then(serde_json::Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    if text(fields, names::PHONE_ID).is_empty() {
        let id = key.split('#').next().unwrap_or(key);
        fields.insert(names::PHONE_ID.into(), id.into());
    }
    for name in RECORD_FIELDS {
        let value = text(fields, name);
        fields.insert(name.into(), value.into());
    }
    if version < 2 && text(fields, "status") == "failed" && text(fields, "job_id").is_empty() {
        fields.insert("status".into(), "rejected".into());
    }
}

#[cfg(test)]
mod tests {
    use tfplugin::{Attribute, Block};

    use super::*;

    fn phone(id: &str) -> PhoneId {
        PhoneId::new(id).unwrap()
    }

    #[test]
    fn records_round_trip_through_state_values_with_every_field_a_string() {
        let r = Record {
            request_id: Some(RequestId::new("req-1").unwrap()),
            job_id: Some(JobId::new("j1").unwrap()),
            error_code: "CPS.0003".into(),
            error_msg: "boom".into(),
            begin_time: "2026-01-01T00:00:00Z".into(),
            status: Status::Failed,
            ..Record::not_submitted(&phone("p"), "")
        };
        let value = tfplugin::to_value(&r, &record_type()).unwrap();
        let Value::Object(fields) = &value else {
            panic!("{value:?}")
        };
        assert!(fields.values().all(|v| matches!(v, Value::String(_))));
        assert_eq!(fields.get("end_time"), Some(&Value::from("")));
        assert_eq!(tfplugin::from_value::<Record>(&value).unwrap(), r);
    }

    #[test]
    fn a_record_with_a_malformed_job_id_does_not_read_and_says_which_field() {
        let value = Value::object([
            ("phone_id", Value::from("p")),
            ("job_id", Value::from("not a job!")),
            ("status", Value::from("running")),
        ]);
        let err = tfplugin::from_value::<Record>(&value).unwrap_err();
        assert!(err.to_string().contains("job id"), "{err}");
    }

    #[test]
    fn every_written_status_parses_back_and_others_are_kept_verbatim() {
        for status in Status::WRITTEN {
            assert_eq!(Status::parse(status.as_str()), status);
        }
        assert_eq!(Status::parse("exploded"), Status::Other("exploded".into()));
        assert_eq!(Status::parse("exploded").as_str(), "exploded");
    }

    #[test]
    fn request_ids_are_distinct_sorted_and_skip_missing_ones() {
        let with = |p: &str, req: Option<&str>| Record {
            request_id: req.map(|r| RequestId::new(r).unwrap()),
            ..Record::not_submitted(&phone(p), "")
        };
        let ids = request_ids([
            &with("a", Some("r2")),
            &with("b", Some("r1")),
            &with("c", Some("r2")),
            &with("d", None),
        ]);
        let ids: Vec<&str> = ids.iter().map(RequestId::as_str).collect();
        assert_eq!(ids, ["r1", "r2"]);
    }

    fn schema() -> Schema {
        Schema::new(
            SCHEMA_VERSION,
            Block::new()
                .attribute(Attribute::computed("id", Type::String))
                .attribute(
                    Attribute::optional_computed("allow_partial_failure", Type::Bool)
                        .default(Value::Bool(false)),
                )
                .attribute(Attribute::computed("jobs", Type::map(record_type())))
                .attribute(Attribute::computed(
                    "restart_jobs",
                    Type::map(record_type()),
                )),
        )
    }

    fn upgrade(version: i64, json: &str) -> Value {
        let raw = RawState {
            json: json.as_bytes().to_vec(),
            ..RawState::default()
        };
        upgrade_state(version, raw, &schema()).unwrap()
    }

    fn records(value: &Value, name: &str) -> BTreeMap<String, Record> {
        tfplugin::from_value(value.get(name).unwrap()).unwrap()
    }

    #[test]
    fn version_0_job_lists_become_maps_keeping_every_record() {
        let value = upgrade(
            0,
            r#"{"id":"r1","jobs":[{"phone_id":"a","job_id":"j1","status":"success"},{"phone_id":"b","job_id":"","status":"failed","error_code":"CPS.0005"},{"phone_id":"a","job_id":"j3","status":"failed"}],"restart_jobs":null}"#,
        );
        let jobs = records(&value, "jobs");
        assert_eq!(jobs.len(), 3);
        assert_eq!(jobs["a"].job_id.as_ref().unwrap().as_str(), "j1");
        assert_eq!(jobs["a#2"].job_id.as_ref().unwrap().as_str(), "j3");
        assert_eq!(jobs["a#2"].phone_id.as_str(), "a");
        assert_eq!(jobs["b"].error_code, "CPS.0005");
        assert_eq!(jobs["b"].status, Status::Rejected);
        assert_eq!(jobs["a"].request_id, None);
        assert!(value.get("restart_jobs").is_some_and(Value::is_null));
        assert_eq!(
            value.get("allow_partial_failure"),
            Some(&Value::Bool(false))
        );
    }

    #[test]
    fn version_1_records_gain_request_ids_and_null_fields_become_empty() {
        let value = upgrade(
            1,
            r#"{"id":"r1","allow_partial_failure":true,"jobs":{"a":{"phone_id":"a","job_id":"j1","status":"running","error_code":null,"error_msg":"","begin_time":"","end_time":""}},"restart_jobs":{}}"#,
        );
        let jobs = records(&value, "jobs");
        assert_eq!(jobs["a"].status, Status::Running);
        let stored = value.get("jobs").and_then(|j| j.get("a")).unwrap();
        assert_eq!(stored.get("request_id"), Some(&Value::from("")));
        assert_eq!(stored.get("error_code"), Some(&Value::from("")));
        assert_eq!(value.get("allow_partial_failure"), Some(&Value::Bool(true)));
        // State already at the current version is read as it is.
        let current = upgrade(
            SCHEMA_VERSION,
            r#"{"id":"r1","allow_partial_failure":false,"jobs":{"a":{"phone_id":"a","request_id":"q","job_id":"","status":"rejected"}}}"#,
        );
        assert_eq!(
            records(&current, "jobs")["a"]
                .request_id
                .as_ref()
                .unwrap()
                .as_str(),
            "q"
        );
    }
}
