//! Per-phone records as state keeps them (`jobs` and `restart_jobs`: maps keyed by phone id), the
//! status vocabulary, the state boundary (records to and from values) and the upgrade of state
//! written by earlier schema versions.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use tfplugin::{Diagnostic, Diagnostics, RawState, Schema, Type, Value};

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
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One phone's record: its latest job for one operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    pub(crate) phone_id: String,
    pub(crate) request_id: String,
    pub(crate) job_id: String,
    pub(crate) status: Status,
    pub(crate) error_code: String,
    pub(crate) error_msg: String,
    pub(crate) begin_time: String,
    pub(crate) end_time: String,
}

const FIELDS: [&str; 8] = [
    "phone_id",
    "request_id",
    "job_id",
    "status",
    "error_code",
    "error_msg",
    "begin_time",
    "end_time",
];

impl Record {
    /// A record of a phone that was not sent, saying why.
    pub(crate) fn not_submitted(phone_id: &str, why: impl Into<String>) -> Record {
        Record {
            phone_id: phone_id.to_owned(),
            request_id: String::new(),
            job_id: String::new(),
            status: Status::NotSubmitted,
            error_code: String::new(),
            error_msg: why.into(),
            begin_time: String::new(),
            end_time: String::new(),
        }
    }

    pub(crate) fn succeeded(&self) -> bool {
        self.status == Status::Success
    }

    /// The record as state keeps it (built field by field, so no conversion can drop it).
    pub(crate) fn to_value(&self) -> Value {
        let text = |s: &str| Value::from(s.to_owned());
        Value::object([
            ("phone_id", text(&self.phone_id)),
            ("request_id", text(&self.request_id)),
            ("job_id", text(&self.job_id)),
            ("status", text(self.status.as_str())),
            ("error_code", text(&self.error_code)),
            ("error_msg", text(&self.error_msg)),
            ("begin_time", text(&self.begin_time)),
            ("end_time", text(&self.end_time)),
        ])
    }

    /// A record from state; `key` (the map key) stands in for a missing phone id. Missing or null
    /// fields read as empty.
    pub(crate) fn from_value(key: &str, value: &Value) -> Record {
        let text = |name: &str| {
            value
                .get(name)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let phone_id = Some(text("phone_id"))
            .filter(|id| !id.is_empty())
            .unwrap_or_else(|| key.to_owned());
        Record {
            phone_id,
            request_id: text("request_id"),
            job_id: text("job_id"),
            status: Status::parse(&text("status")),
            error_code: text("error_code"),
            error_msg: text("error_msg"),
            begin_time: text("begin_time"),
            end_time: text("end_time"),
        }
    }
}

/// The object type of a record.
pub(crate) fn record_type() -> Type {
    Type::object(FIELDS.map(|name| (name, Type::String)))
}

/// Records keyed as state keys them (by phone id).
pub(crate) type Records = BTreeMap<String, Record>;

/// The records of a map value from state (none when null or unknown).
pub(crate) fn read_records(value: Option<&Value>) -> Records {
    value
        .and_then(Value::as_entries)
        .map(|entries| {
            entries
                .iter()
                .map(|(key, v)| (key.clone(), Record::from_value(key, v)))
                .collect()
        })
        .unwrap_or_default()
}

/// The map value of `records`.
pub(crate) fn records_value(records: &Records) -> Value {
    Value::Map(
        records
            .iter()
            .map(|(k, r)| (k.clone(), r.to_value()))
            .collect(),
    )
}

/// The request ids behind `records`: distinct, non-empty, sorted.
pub(crate) fn request_ids<'a>(records: impl IntoIterator<Item = &'a Record>) -> Value {
    let ids: BTreeSet<&str> = records
        .into_iter()
        .map(|r| r.request_id.as_str())
        .filter(|id| !id.is_empty())
        .collect();
    Value::List(
        ids.into_iter()
            .map(|id| Value::from(id.to_owned()))
            .collect(),
    )
}

/// The map keys of records for `phone_ids` in order: the phone id, or `<id>#2`, `<id>#3`, ... for a
/// phone recorded again, so that no record is ever dropped (state of version 0 could hold those).
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

/// The names of the record maps a resource may have.
const RECORD_ATTRIBUTES: [&str; 2] = ["jobs", "restart_jobs"];

/// Upgrades stored state of any earlier `version` to [`SCHEMA_VERSION`] without losing a record:
/// job lists (version 0) become maps, every record gains `request_id` (empty where it was not
/// kept: a refresh then asks for such a job by its id), `failed` records of phones that never got
/// a job become `rejected`, and attributes with a default that state holds as null get it.
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
    if version < 1 {
        for name in RECORD_ATTRIBUTES {
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
    }
    let json = serde_json::to_vec(&json).map_err(|e| unreadable(e.to_string()))?;
    let mut value = RawState { json, ..raw }
        .decode(&ty)
        .map_err(Diagnostics::from)?;
    if let Value::Object(fields) = &mut value {
        for name in RECORD_ATTRIBUTES {
            if let Some(slot) = fields.get_mut(name) {
                if slot.is_null() {
                    continue;
                }
                let mut records = read_records(Some(slot));
                if version < 2 {
                    for record in records.values_mut() {
                        if record.status == Status::Failed && record.job_id.is_empty() {
                            record.status = Status::Rejected;
                        }
                    }
                }
                *slot = records_value(&records);
            }
        }
    }
    schema.block.fill_defaults(&mut value);
    Ok(value)
}

#[cfg(test)]
mod tests {
    use tfplugin::{Attribute, Block};

    use super::*;

    fn record(phone: &str, job: &str, status: Status) -> Record {
        Record {
            job_id: job.into(),
            status,
            ..Record::not_submitted(phone, "")
        }
    }

    #[test]
    fn records_carry_every_attribute_of_the_record_type_and_round_trip() {
        let r = Record {
            request_id: "req-1".into(),
            error_code: "CPS.0003".into(),
            error_msg: "boom".into(),
            begin_time: "2026-01-01T00:00:00Z".into(),
            ..record("p", "j1", Status::Failed)
        };
        let value = r.to_value();
        let Value::Object(fields) = &value else {
            panic!("{value:?}")
        };
        let Type::Object(attrs) = record_type() else {
            panic!("record_type is an object")
        };
        assert!(fields.keys().eq(attrs.keys()), "{fields:?}");
        assert_eq!(Record::from_value("p", &value), r);
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
    fn request_ids_are_distinct_sorted_and_skip_empty_ones() {
        let mut a = record("a", "j1", Status::Success);
        a.request_id = "r2".into();
        let mut b = record("b", "j2", Status::Success);
        b.request_id = "r1".into();
        let mut c = record("c", "j3", Status::Success);
        c.request_id = "r2".into();
        let d = record("d", "", Status::Rejected);
        assert_eq!(
            request_ids([&a, &b, &c, &d]),
            Value::List(vec![Value::from("r1"), Value::from("r2")])
        );
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

    #[test]
    fn version_0_job_lists_become_maps_keeping_every_record() {
        let value = upgrade(
            0,
            r#"{"id":"r1","jobs":[{"phone_id":"a","job_id":"j1","status":"success"},{"phone_id":"b","job_id":"","status":"failed","error_code":"CPS.0005"},{"phone_id":"a","job_id":"j3","status":"failed"}],"restart_jobs":null}"#,
        );
        let jobs = read_records(value.get("jobs"));
        assert_eq!(jobs.len(), 3);
        assert_eq!(jobs["a"].job_id, "j1");
        assert_eq!(jobs["a#2"].job_id, "j3");
        assert_eq!(jobs["b"].error_code, "CPS.0005");
        assert_eq!(jobs["b"].status, Status::Rejected);
        assert_eq!(jobs["a"].request_id, "");
        assert!(value.get("restart_jobs").is_some_and(Value::is_null));
        assert_eq!(
            value.get("allow_partial_failure"),
            Some(&Value::Bool(false))
        );
    }

    #[test]
    fn version_1_records_gain_request_ids_and_defaults_are_filled() {
        let value = upgrade(
            1,
            r#"{"id":"r1","allow_partial_failure":true,"jobs":{"a":{"phone_id":"a","job_id":"j1","status":"running","error_code":"","error_msg":"","begin_time":"","end_time":""}},"restart_jobs":{}}"#,
        );
        let jobs = read_records(value.get("jobs"));
        assert_eq!(jobs["a"].status, Status::Running);
        assert_eq!(
            value
                .get("jobs")
                .and_then(|j| j.get("a"))
                .and_then(|a| a.get("request_id")),
            Some(&Value::from(""))
        );
        assert_eq!(value.get("allow_partial_failure"), Some(&Value::Bool(true)));
        assert_eq!(
            value.get("restart_jobs"),
            Some(&Value::Map(tfplugin::Fields::new()))
        );
        // State already at the current version is read as it is.
        let current = upgrade(
            SCHEMA_VERSION,
            r#"{"id":"r1","allow_partial_failure":false,"jobs":{"a":{"phone_id":"a","request_id":"q","job_id":"","status":"rejected"}}}"#,
        );
        assert_eq!(read_records(current.get("jobs"))["a"].request_id, "q");
    }
}
