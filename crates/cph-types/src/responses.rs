//! Response bodies: the batch answer, jobs, phones and the error body. Every field is optional and
//! tolerant (missing keys, `null`, `""` and unknown keys are accepted), because the real service
//! omits and nulls fields freely. Serialising produces the real wire shape, for the simulator.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::error::Error;
use crate::property::PropertyMap;
use crate::status::{JobStatus, PhoneStatus, lenient_phone_status};

/// Reads an optional string: `null`, `""` and missing become `None`; numbers and booleans become
/// their text; objects and arrays their compact JSON text.
pub(crate) fn lenient_string<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s),
        other => Some(other.to_string()),
    })
}

/// Reads an optional integer sent as a number or numeric string; anything else is `None`.
pub(crate) fn lenient_int<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<i64>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

/// Reads a list, treating `null` and non-arrays as empty, and skipping elements that do not decode.
/// Only for lists where a lost element cannot go unnoticed (a batch answer's entries are matched to
/// the phones sent, and a phone without its entry is reported): the paged lists use
/// [`accounted_list`], which says what it skipped.
pub(crate) fn lenient_list<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    Ok(match Value::deserialize(deserializer)? {
        Value::Array(items) => items
            .into_iter()
            .filter_map(|item| serde_json::from_value(item).ok())
            .collect(),
        _ => Vec::new(),
    })
}

/// The longest reason [`ListDecoding::first_error`] keeps, in characters (serde quotes the
/// offending value, which may be long).
const FIRST_ERROR_MAX_CHARS: usize = 200;

/// How a list field of a response decoded, element by element: how many elements it held on the
/// wire and how many of them could not be read (those are absent from the decoded list). This is
/// what lets a pager tell a short page (the listing ends) from a full page with unreadable
/// elements (the listing must not silently lose them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListDecoding {
    /// Elements the field held on the wire, decoded or not. A missing or `null` field is an empty
    /// list; a field of another kind (a string, an object, ...) counts as one element that did not
    /// decode. A response built in code rather than decoded has `0` here.
    pub raw_len: usize,
    /// How many of them could not be decoded.
    pub undecoded: usize,
    /// Why the first of them could not be decoded, naming its index (at most 200 characters).
    pub first_error: Option<String>,
}

impl ListDecoding {
    /// The account of a list of `len` elements that all decoded.
    pub fn complete(len: usize) -> Self {
        ListDecoding {
            raw_len: len,
            undecoded: 0,
            first_error: None,
        }
    }

    /// Whether every element decoded.
    pub fn is_complete(&self) -> bool {
        self.undecoded == 0
    }

    fn failed(&mut self, index: usize, reason: &str) {
        self.undecoded += 1;
        if self.first_error.is_none() {
            let mut text = format!("element {index}: {reason}");
            if let Some((cut, _)) = text.char_indices().nth(FIRST_ERROR_MAX_CHARS) {
                text.truncate(cut);
                text.push_str("...");
            }
            self.first_error = Some(text);
        }
    }
}

/// Reads a list like [`lenient_list`] (`null` is empty, unknown keys of elements are ignored) but
/// accounts for every element: those that do not decode are counted in the [`ListDecoding`], and a
/// value that is not a list at all counts as one element that did not decode.
fn accounted_list<'de, D, T>(deserializer: D) -> Result<(Vec<T>, ListDecoding), D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let mut decoding = ListDecoding::default();
    let items = match Value::deserialize(deserializer)? {
        Value::Null => Vec::new(),
        Value::Array(items) => {
            decoding.raw_len = items.len();
            items
                .into_iter()
                .enumerate()
                .filter_map(|(index, item)| match serde_json::from_value(item) {
                    Ok(decoded) => Some(decoded),
                    Err(e) => {
                        decoding.failed(index, &e.to_string());
                        None
                    }
                })
                .collect()
        }
        other => {
            let kind = match other {
                Value::Bool(_) => "a boolean",
                Value::Number(_) => "a number",
                Value::String(_) => "a string",
                _ => "an object",
            };
            decoding.raw_len = 1;
            decoding.failed(0, &format!("expected a list, found {kind}"));
            Vec::new()
        }
    };
    Ok((items, decoding))
}

/// Reads any JSON value; `null` becomes `None`.
fn lenient_value<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::Null => None,
        other => Some(other),
    })
}

/// One phone's entry in a batch answer: a job id when accepted, an error when rejected.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneJob {
    /// The phone.
    #[serde(default, deserialize_with = "lenient_string")]
    pub phone_id: Option<String>,
    /// The job created for it; absent when the phone was rejected.
    #[serde(
        default,
        deserialize_with = "lenient_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub job_id: Option<String>,
    /// Why the phone was rejected, e.g. `CPS.0005`.
    #[serde(
        default,
        deserialize_with = "lenient_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub error_code: Option<String>,
    /// The rejection message.
    #[serde(
        default,
        deserialize_with = "lenient_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub error_msg: Option<String>,
}

impl PhoneJob {
    /// Whether the phone was rejected (an error code, or no job id).
    pub fn is_rejected(&self) -> bool {
        self.error_code.is_some() || self.job_id.is_none()
    }
}

/// The answer of every batch operation: `{request_id, jobs}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchResponse {
    /// The request id, used to list the jobs.
    #[serde(default, deserialize_with = "lenient_string")]
    pub request_id: Option<String>,
    /// One entry per phone.
    #[serde(default, deserialize_with = "lenient_list")]
    pub jobs: Vec<PhoneJob>,
}

/// An asynchronous job, as ShowJob and ListJobs report it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// The job id.
    #[serde(default, deserialize_with = "lenient_string")]
    pub job_id: Option<String>,
    /// The phone the job works on.
    #[serde(default, deserialize_with = "lenient_string")]
    pub phone_id: Option<String>,
    /// The server the phone runs on.
    #[serde(default, deserialize_with = "lenient_string")]
    pub server_id: Option<String>,
    /// Deprecated by the service; kept for completeness.
    #[serde(
        default,
        deserialize_with = "lenient_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub node_id: Option<String>,
    /// The job status; unknown or missing means not finished.
    #[serde(default)]
    pub status: JobStatus,
    /// Start time, `YYYY-MM-DDTHH:MM:SSZ`.
    #[serde(default, deserialize_with = "lenient_string")]
    pub begin_time: Option<String>,
    /// End time, `YYYY-MM-DDTHH:MM:SSZ`.
    #[serde(default, deserialize_with = "lenient_string")]
    pub end_time: Option<String>,
    /// Error code of a failed job.
    #[serde(default, deserialize_with = "lenient_string")]
    pub error_code: Option<String>,
    /// Error message of a failed job.
    #[serde(default, deserialize_with = "lenient_string")]
    pub error_msg: Option<String>,
    /// Extra execution information.
    #[serde(default, deserialize_with = "lenient_string")]
    pub execute_msg: Option<String>,
}

/// ShowJob's answer: a request id plus the job's fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShowJobResponse {
    /// The request id of this call.
    #[serde(default, deserialize_with = "lenient_string")]
    pub request_id: Option<String>,
    /// The job.
    #[serde(flatten)]
    pub job: Job,
}

/// ListJobs' answer. There is no total count: page until a page is shorter than the limit, counting
/// the elements on the wire ([`ListDecoding::raw_len`] of `jobs_decoding`), not the decoded jobs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "ListJobsWire")]
pub struct ListJobsResponse {
    /// The request id of this call.
    pub request_id: Option<String>,
    /// The jobs of this page that decoded, in the order listed.
    pub jobs: Vec<Job>,
    /// How the page's `jobs` list decoded: its length on the wire and the elements that could not
    /// be read (absent from `jobs`). Not serialised: the wire shape has only `request_id` and `jobs`.
    #[serde(skip_serializing)]
    pub jobs_decoding: ListDecoding,
}

/// The wire shape [`ListJobsResponse`] is decoded from.
#[derive(Deserialize)]
struct ListJobsWire {
    #[serde(default, deserialize_with = "lenient_string")]
    request_id: Option<String>,
    #[serde(default, deserialize_with = "accounted_list")]
    jobs: (Vec<Job>, ListDecoding),
}

impl From<ListJobsWire> for ListJobsResponse {
    fn from(wire: ListJobsWire) -> Self {
        let (jobs, jobs_decoding) = wire.jobs;
        ListJobsResponse {
            request_id: wire.request_id,
            jobs,
            jobs_decoding,
        }
    }
}

/// A phone as ListCloudPhones reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneSummary {
    /// The phone's name.
    #[serde(default, deserialize_with = "lenient_string")]
    pub phone_name: Option<String>,
    /// The server it runs on.
    #[serde(default, deserialize_with = "lenient_string")]
    pub server_id: Option<String>,
    /// The phone id.
    #[serde(default, deserialize_with = "lenient_string")]
    pub phone_id: Option<String>,
    /// The phone model (flavor) name.
    #[serde(default, deserialize_with = "lenient_string")]
    pub phone_model_name: Option<String>,
    /// The image it runs.
    #[serde(default, deserialize_with = "lenient_string")]
    pub image_id: Option<String>,
    /// The image version.
    #[serde(default, deserialize_with = "lenient_string")]
    pub image_version: Option<String>,
    /// Its status; `None` when missing or unreadable.
    #[serde(default, deserialize_with = "lenient_phone_status")]
    pub status: Option<PhoneStatus>,
    /// The phone type code.
    #[serde(rename = "type", default, deserialize_with = "lenient_int")]
    pub phone_type: Option<i64>,
    /// The IMEI.
    #[serde(default, deserialize_with = "lenient_string")]
    pub imei: Option<String>,
    /// The availability zone.
    #[serde(default, deserialize_with = "lenient_string")]
    pub availability_zone: Option<String>,
    /// Creation time, `YYYY-MM-DDTHH:MM:SSZ`.
    #[serde(default, deserialize_with = "lenient_string")]
    pub create_time: Option<String>,
    /// Last update time, `YYYY-MM-DDTHH:MM:SSZ`.
    #[serde(default, deserialize_with = "lenient_string")]
    pub update_time: Option<String>,
}

/// ListCloudPhones' answer, as a service writes it (the simulator serialises this).
///
/// Decoding it skips phones that do not decode and keeps no account of them: a reader that pages
/// or must not lose phones decodes [`ListCloudPhonesPage`] instead, which says what it skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListCloudPhonesResponse {
    /// The request id of this call.
    #[serde(default, deserialize_with = "lenient_string")]
    pub request_id: Option<String>,
    /// The total number of phones matching the filters (all pages).
    #[serde(default, deserialize_with = "lenient_int")]
    pub count: Option<i64>,
    /// The phones of this page.
    #[serde(default, deserialize_with = "lenient_list")]
    pub phones: Vec<PhoneSummary>,
}

/// ListCloudPhones' answer as a client reads it: the fields of [`ListCloudPhonesResponse`] and the
/// account of the `phones` list ([`ListDecoding`]), so that a phone that does not decode is
/// reported instead of shortening the page. Serialises to the same wire shape.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "ListCloudPhonesWire")]
pub struct ListCloudPhonesPage {
    /// The request id of this call.
    pub request_id: Option<String>,
    /// The total number of phones matching the filters (all pages), as the service counts them.
    pub count: Option<i64>,
    /// The phones of this page that decoded, in the order listed.
    pub phones: Vec<PhoneSummary>,
    /// How the page's `phones` list decoded: its length on the wire and the elements that could
    /// not be read (absent from `phones`). Not serialised.
    #[serde(skip_serializing)]
    pub phones_decoding: ListDecoding,
}

/// The wire shape [`ListCloudPhonesPage`] is decoded from.
#[derive(Deserialize)]
struct ListCloudPhonesWire {
    #[serde(default, deserialize_with = "lenient_string")]
    request_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_int")]
    count: Option<i64>,
    #[serde(default, deserialize_with = "accounted_list")]
    phones: (Vec<PhoneSummary>, ListDecoding),
}

impl From<ListCloudPhonesWire> for ListCloudPhonesPage {
    fn from(wire: ListCloudPhonesWire) -> Self {
        let (phones, phones_decoding) = wire.phones;
        ListCloudPhonesPage {
            request_id: wire.request_id,
            count: wire.count,
            phones,
            phones_decoding,
        }
    }
}

impl From<ListCloudPhonesResponse> for ListCloudPhonesPage {
    /// A page whose phones all decoded.
    fn from(response: ListCloudPhonesResponse) -> Self {
        ListCloudPhonesPage {
            phones_decoding: ListDecoding::complete(response.phones.len()),
            request_id: response.request_id,
            count: response.count,
            phones: response.phones,
        }
    }
}

impl From<ListCloudPhonesPage> for ListCloudPhonesResponse {
    /// The page without its account of the phones that did not decode.
    fn from(page: ListCloudPhonesPage) -> Self {
        ListCloudPhonesResponse {
            request_id: page.request_id,
            count: page.count,
            phones: page.phones,
        }
    }
}

/// ShowCloudPhoneDetail's answer: the summary fields plus properties and access details.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneDetail {
    /// The request id of this call.
    #[serde(default, deserialize_with = "lenient_string")]
    pub request_id: Option<String>,
    /// The fields ListCloudPhones also reports.
    #[serde(flatten)]
    pub summary: PhoneSummary,
    /// The phone's properties, as the API's JSON string (at most 2048 bytes).
    #[serde(default, deserialize_with = "lenient_string")]
    pub property: Option<String>,
    /// Custom properties, as a JSON string.
    #[serde(default, deserialize_with = "lenient_string")]
    pub custom_property: Option<String>,
    /// Access information (ports, addresses), kept as JSON.
    #[serde(
        default,
        deserialize_with = "lenient_value",
        skip_serializing_if = "Option::is_none"
    )]
    pub access_infos: Option<Value>,
    /// The data volume, kept as JSON.
    #[serde(
        default,
        deserialize_with = "lenient_value",
        skip_serializing_if = "Option::is_none"
    )]
    pub phone_data_volume: Option<Value>,
}

impl PhoneDetail {
    /// The phone's properties as a map (empty when unset).
    pub fn properties(&self) -> Result<PropertyMap, Error> {
        PropertyMap::from_api_string(self.property.as_deref().unwrap_or_default())
    }
}

/// The body of every CPH error answer (HTTP 4xx/5xx).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The request id; the official SDKs read it from the `X-Request-Id` header instead.
    #[serde(default, deserialize_with = "lenient_string")]
    pub request_id: Option<String>,
    /// The error code, e.g. `CPS.0004` or `APIG.0308`.
    #[serde(default, deserialize_with = "lenient_string")]
    pub error_code: Option<String>,
    /// The message, in the service's words.
    #[serde(default, deserialize_with = "lenient_string")]
    pub error_msg: Option<String>,
}

impl ErrorBody {
    /// An error body with a code and message (and no request id).
    pub fn new(error_code: impl Into<String>, error_msg: impl Into<String>) -> Self {
        ErrorBody {
            request_id: None,
            error_code: Some(error_code.into()),
            error_msg: Some(error_msg.into()),
        }
    }

    /// The same body with a request id.
    pub fn with_request_id(mut self, request_id: impl Into<String>) -> Self {
        self.request_id = Some(request_id.into());
        self
    }
}

impl fmt::Display for ErrorBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let code = self.error_code.as_deref().unwrap_or("unknown error");
        match self.error_msg.as_deref() {
            Some(msg) => write!(f, "{code}: {msg}")?,
            None => f.write_str(code)?,
        }
        if let Some(request_id) = &self.request_id {
            write!(f, " (request id {request_id})")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn batch_answer_with_a_rejected_phone_decodes() {
        let json = r#"{"request_id":"r1","jobs":[
            {"phone_id":"p1","job_id":"j1"},
            {"phone_id":"p2","error_code":"CPS.0005","error_msg":"Parameter: Phone not found."}
        ],"extra":{"x":1}}"#;
        let answer: BatchResponse = serde_json::from_str(json).unwrap();
        assert_eq!(answer.request_id.as_deref(), Some("r1"));
        assert!(!answer.jobs[0].is_rejected());
        assert!(answer.jobs[1].is_rejected());
        assert_eq!(answer.jobs[1].error_code.as_deref(), Some("CPS.0005"));
    }

    #[test]
    fn rejected_phone_serialises_without_job_id() {
        let job = PhoneJob {
            phone_id: Some("p2".into()),
            job_id: None,
            error_code: Some("CPS.0004".into()),
            error_msg: Some("Parameter: phone_id is invalid.".into()),
        };
        assert_eq!(
            serde_json::to_string(&job).unwrap(),
            r#"{"phone_id":"p2","error_code":"CPS.0004","error_msg":"Parameter: phone_id is invalid."}"#
        );
    }

    #[test]
    fn empty_and_null_strings_become_none() {
        let json = r#"{"request_id":"r","job_id":"j","status":"2","error_code":"","error_msg":null,"begin_time":"2024-01-02T03:04:05Z"}"#;
        let answer: ShowJobResponse = serde_json::from_str(json).unwrap();
        assert_eq!(answer.job.job_id.as_deref(), Some("j"));
        assert_eq!(answer.job.status, JobStatus::Success);
        assert_eq!(answer.job.error_code, None);
        assert_eq!(answer.job.error_msg, None);
        assert_eq!(answer.job.end_time, None);
        assert_eq!(
            answer.job.begin_time.as_deref(),
            Some("2024-01-02T03:04:05Z")
        );
    }

    #[test]
    fn empty_object_decodes_to_defaults() {
        let jobs: ListJobsResponse = serde_json::from_str("{}").unwrap();
        assert!(jobs.jobs.is_empty());
        let job: Job = serde_json::from_str("{}").unwrap();
        assert_eq!(job.status, JobStatus::Missing);
        let phones: ListCloudPhonesResponse =
            serde_json::from_str(r#"{"phones":null,"count":"3"}"#).unwrap();
        assert_eq!(phones.count, Some(3));
        assert!(phones.phones.is_empty());
    }

    #[test]
    fn job_serialises_status_as_a_number() {
        let job = Job {
            job_id: Some("j".into()),
            status: JobStatus::Failed,
            ..Job::default()
        };
        let json: Value = serde_json::to_value(&job).unwrap();
        assert_eq!(json["status"], serde_json::json!(-1));
        assert_eq!(json["error_code"], Value::Null);
        assert!(json.get("node_id").is_none());
    }

    #[test]
    fn phone_detail_reads_summary_fields_and_properties() {
        let json = r#"{"request_id":"r","phone_id":"p","status":2,"type":"0","phone_name":"n",
            "property":"{\"com.cph.mainkeys\":\"1\"}","access_infos":[{"type":"x"}],"other":1}"#;
        let detail: PhoneDetail = serde_json::from_str(json).unwrap();
        assert_eq!(detail.summary.status, Some(PhoneStatus::Running));
        assert_eq!(detail.summary.phone_type, Some(0));
        assert_eq!(detail.summary.phone_name.as_deref(), Some("n"));
        assert_eq!(
            detail.properties().unwrap().get("com.cph.mainkeys"),
            Some("1")
        );
        assert!(detail.access_infos.is_some());
        let back: Value = serde_json::to_value(&detail).unwrap();
        assert_eq!(back["status"], serde_json::json!(2));
        assert_eq!(back["phone_id"], serde_json::json!("p"));
    }

    #[test]
    fn unreadable_phone_status_is_none() {
        let phone: PhoneSummary = serde_json::from_str(r#"{"status":"busy"}"#).unwrap();
        assert_eq!(phone.status, None);
    }

    #[test]
    fn malformed_list_entries_are_skipped_not_fatal() {
        let json = r#"{"jobs":[{"job_id":"a","status":1},"garbage",7,{"job_id":"b"}]}"#;
        let jobs: ListJobsResponse = serde_json::from_str(json).unwrap();
        let ids: Vec<_> = jobs.jobs.iter().map(|j| j.job_id.as_deref()).collect();
        assert_eq!(ids, [Some("a"), Some("b")]);
    }

    #[test]
    fn list_jobs_accounts_for_the_elements_it_could_not_decode() {
        let json = r#"{"jobs":[{"job_id":"a","status":1},"garbage",7,{"job_id":"b"}]}"#;
        let jobs: ListJobsResponse = serde_json::from_str(json).unwrap();
        assert_eq!(jobs.jobs.len(), 2);
        let account = &jobs.jobs_decoding;
        assert_eq!(account.raw_len, 4);
        assert_eq!(account.undecoded, 2);
        assert!(!account.is_complete());
        assert_eq!(
            account.first_error.as_deref(),
            Some(r#"element 1: invalid type: string "garbage", expected struct Job"#)
        );
        let whole: ListJobsResponse =
            serde_json::from_str(r#"{"jobs":[{"job_id":"a"},{"job_id":"b"}]}"#).unwrap();
        assert_eq!(whole.jobs_decoding, ListDecoding::complete(2));
    }

    #[test]
    fn missing_and_null_lists_are_empty_and_complete_other_kinds_are_one_undecoded_element() {
        for json in ["{}", r#"{"jobs":null}"#, r#"{"jobs":[]}"#] {
            let jobs: ListJobsResponse = serde_json::from_str(json).unwrap();
            assert_eq!(jobs.jobs_decoding, ListDecoding::complete(0), "{json}");
        }
        for (json, kind) in [
            (r#"{"phones":"x","count":3}"#, "a string"),
            (r#"{"phones":{"phone_id":"p"}}"#, "an object"),
            (r#"{"phones":12}"#, "a number"),
            (r#"{"phones":true}"#, "a boolean"),
        ] {
            let page: ListCloudPhonesPage = serde_json::from_str(json).unwrap();
            assert!(page.phones.is_empty());
            assert_eq!(page.phones_decoding.raw_len, 1, "{json}");
            assert_eq!(page.phones_decoding.undecoded, 1, "{json}");
            assert_eq!(
                page.phones_decoding.first_error,
                Some(format!("element 0: expected a list, found {kind}")),
                "{json}"
            );
            // The lenient response type still reads it as an empty page.
            let lenient: ListCloudPhonesResponse = serde_json::from_str(json).unwrap();
            assert!(lenient.phones.is_empty());
        }
    }

    #[test]
    fn a_phones_page_keeps_the_count_and_names_the_first_undecodable_phone() {
        let mut phones: Vec<Value> = (0..200)
            .map(|i| serde_json::json!({"phone_id": format!("p{i}"), "status": 2}))
            .collect();
        phones[17] = Value::from("not a phone");
        phones[90] = Value::from(false);
        let json = serde_json::json!({"request_id": "r", "count": 450, "phones": phones});
        let page: ListCloudPhonesPage = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(page.count, Some(450));
        assert_eq!(page.phones.len(), 198);
        assert_eq!(page.phones_decoding.raw_len, 200);
        assert_eq!(page.phones_decoding.undecoded, 2);
        assert_eq!(
            page.phones_decoding.first_error.as_deref(),
            Some(r#"element 17: invalid type: string "not a phone", expected struct PhoneSummary"#)
        );
        // The same body read as the lenient type: the same phones, no account.
        let lenient: ListCloudPhonesResponse = serde_json::from_value(json).unwrap();
        assert_eq!(lenient.phones, page.phones);
        assert_eq!(ListCloudPhonesResponse::from(page.clone()), lenient);
        let back = ListCloudPhonesPage::from(lenient);
        assert_eq!(back.phones_decoding, ListDecoding::complete(198));
    }

    #[test]
    fn a_long_reason_is_cut_to_two_hundred_characters() {
        let long = "x".repeat(5000);
        let json = serde_json::json!({"jobs": [long]});
        let jobs: ListJobsResponse = serde_json::from_value(json).unwrap();
        let reason = jobs.jobs_decoding.first_error.unwrap();
        assert_eq!(reason.chars().count(), 203, "{reason}");
        assert!(reason.starts_with("element 0: invalid type: string \"xxx"));
        assert!(reason.ends_with("..."));
    }

    #[test]
    fn pages_serialise_to_the_wire_shape_without_their_account() {
        let page: ListCloudPhonesPage =
            serde_json::from_str(r#"{"request_id":"r","count":2,"phones":[{"phone_id":"p"},1]}"#)
                .unwrap();
        let json: Value = serde_json::to_value(&page).unwrap();
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["count", "phones", "request_id"]);
        assert_eq!(json["phones"].as_array().unwrap().len(), 1);
        let jobs: ListJobsResponse =
            serde_json::from_str(r#"{"jobs":[{"job_id":"j"},[]]}"#).unwrap();
        let json: Value = serde_json::to_value(&jobs).unwrap();
        assert!(json.get("jobs_decoding").is_none());
        assert_eq!(json["request_id"], Value::Null);
    }

    #[test]
    fn error_body_displays_code_message_and_request_id() {
        let body: ErrorBody = serde_json::from_str(
            r#"{"request_id":"r9","error_code":"APIG.0308","error_msg":"rate limited"}"#,
        )
        .unwrap();
        assert_eq!(body.to_string(), "APIG.0308: rate limited (request id r9)");
        assert_eq!(
            ErrorBody::new("CPS.0003", "internal").to_string(),
            "CPS.0003: internal"
        );
    }
}
