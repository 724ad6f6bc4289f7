//! The crate's contract with the outside: `schemas/` is current, every schema pattern agrees with
//! its Rust validator, wire fixtures decode, and no input makes a decoder or validator panic.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use cph_types::{
    BatchResponse, BucketName, CharClass, ErrorBody, ExportObjectPath, ImageId, Job, JobId,
    JobStatus, ListCloudPhonesResponse, ListJobsResponse, ObjectPath, PhoneDetail, PhoneId,
    ProjectId, PropertyMap, PropertyRule, RequestId, ResetRequest, RestartRequest, RestoreRequest,
    SCHEMAS_COMMAND, ShowJobResponse, StopRequest, StorageRequest, UpdatePropertyRequest,
    catalogue, lookup, schema_documents, validate_properties,
};
use regex::Regex;
use serde_json::Value;

fn schemas_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schemas")
}

#[test]
fn schemas_directory_matches_freshly_generated_schemas() {
    let dir = schemas_dir();
    let docs = schema_documents();
    let mut stale = Vec::new();
    for doc in &docs {
        match std::fs::read_to_string(dir.join(doc.file_name)) {
            Ok(on_disk) if on_disk == doc.contents => {}
            Ok(_) => stale.push(format!("{} differs", doc.file_name)),
            Err(err) => stale.push(format!("{} unreadable: {err}", doc.file_name)),
        }
    }
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".json") && !docs.iter().any(|d| d.file_name == name) {
            stale.push(format!("{name} is no longer generated"));
        }
    }
    assert!(
        stale.is_empty(),
        "schemas/ is stale ({}); run `{SCHEMAS_COMMAND}` from the workspace root",
        stale.join(", ")
    );
}

/// A deterministic pseudo-random generator (no dependency needed for sampling).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Characters on and around every class boundary, plus tricky whitespace and scripts.
const POOL: &[char] = &[
    'a',
    'z',
    'A',
    'Z',
    '0',
    '9',
    '-',
    '_',
    '@',
    '#',
    '.',
    ',',
    ':',
    '/',
    '\\',
    '(',
    ')',
    ' ',
    '\t',
    '\n',
    '\r',
    '\u{0}',
    '\u{a0}',
    '\u{3000}',
    '+',
    '"',
    '\'',
    '[',
    ']',
    '^',
    '$',
    '中',
    '\u{3400}',
    '\u{4DBF}',
    '\u{4DC0}',
    '\u{4E00}',
    '\u{9FFF}',
    '\u{A000}',
    '\u{33FF}',
    'か',
    '한',
    '😀',
    '\u{20000}',
    'é',
    'ß',
    '１',
    '١',
    'g',
    'G',
    'f',
];

/// A character the charset of `rule` allows, to build edge-length samples.
fn allowed_char(rule: PropertyRule) -> char {
    match rule {
        PropertyRule::Chars { charset, .. } => match charset.classes()[0] {
            CharClass::Cjk => '中',
            CharClass::Literal(chars) => chars.chars().next().unwrap(),
            CharClass::Space => ' ',
            CharClass::AsciiDigits | CharClass::LowerHex => '7',
            _ => 'a',
        },
        _ => '7',
    }
}

fn samples_for(rule: PropertyRule, rng: &mut Lcg) -> Vec<String> {
    let mut samples: Vec<String> = [
        "",
        "0",
        "1",
        "-1",
        "2",
        "01",
        "10",
        "+1",
        "1.0",
        " 1",
        "1 ",
        "99999999",
        "100000000",
        "00000000",
        "-0",
        "--1",
        "abc",
        "ABC",
        "a b",
        " ",
        "\t",
        "\n",
        "1\n",
        "中",
        "中文 ABC",
        "かな",
        "😀",
        "ã",
        "１",
        "١٢",
        "a,b",
        "-_@#.:/",
        "\\()",
        "a\u{0}",
        "\u{3400}",
        "\u{4DBF}",
        "\u{4DC0}",
        "\u{9FFF}",
        "\u{A000}",
        "\u{20000}",
        "zh-CN",
        "cloudphone_wifi",
        "46000",
        "中国移动 (CMCC)",
        "/sdcard/Pictures/1.jpg",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let (min, max) = match rule {
        PropertyRule::Chars { min, max, .. } => (min, max),
        PropertyRule::Digits { max } => (0, max),
        _ => (1, 8),
    };
    let c = allowed_char(rule);
    for len in [
        min.saturating_sub(1),
        min,
        min + 1,
        max - 1,
        max,
        max + 1,
        max * 2,
    ] {
        samples.push(std::iter::repeat_n(c, len).collect());
        samples.push(std::iter::repeat_n('中', len).collect());
        samples.push(std::iter::repeat_n('9', len).collect());
    }
    for _ in 0..3000 {
        let len = rng.below(max + 3);
        samples.push((0..len).map(|_| POOL[rng.below(POOL.len())]).collect());
    }
    samples
}

#[test]
fn catalogue_patterns_and_validators_agree_on_samples() {
    let mut rng = Lcg(0x5eed);
    for entry in catalogue() {
        let pattern = entry.rule.json_schema_pattern();
        let regex = Regex::new(&pattern)
            .unwrap_or_else(|e| panic!("{}: pattern {pattern} does not compile: {e}", entry.key));
        let mut accepted = 0;
        for value in samples_for(entry.rule, &mut rng) {
            let by_rule = entry.rule.check(&value);
            assert_eq!(
                by_rule,
                regex.is_match(&value),
                "{}: rule and pattern {pattern} disagree on {value:?}",
                entry.key
            );
            accepted += usize::from(by_rule);
        }
        assert!(accepted > 0, "{}: no sample was valid", entry.key);
    }
}

#[test]
fn property_map_schema_publishes_each_rule_pattern() {
    let doc = schema_documents()
        .into_iter()
        .find(|d| d.file_name == "property-map.json")
        .unwrap();
    let schema: Value = serde_json::from_str(&doc.contents).unwrap();
    for entry in catalogue() {
        assert_eq!(
            schema["properties"][entry.key]["pattern"],
            Value::from(entry.rule.json_schema_pattern()),
            "{}",
            entry.key
        );
    }
    assert_eq!(
        schema["properties"]["qemu.hw.mainkeys"]["pattern"],
        Value::from(
            lookup("com.cph.mainkeys")
                .unwrap()
                .rule
                .json_schema_pattern()
        )
    );
    assert_eq!(schema["additionalProperties"]["type"], "string");
}

/// Checks an id type's published pattern and lengths against its validator.
fn assert_id_schema_agrees<T: schemars::JsonSchema>(
    is_valid: fn(&str) -> bool,
    pattern: Option<String>,
    rng: &mut Lcg,
) {
    let schema = serde_json::to_value(schemars::schema_for!(T)).unwrap();
    assert_eq!(
        schema.get("pattern").and_then(Value::as_str),
        pattern.as_deref()
    );
    let min = schema["minLength"].as_u64().unwrap() as usize;
    let max = schema["maxLength"].as_u64().unwrap() as usize;
    let regex = pattern.map(|p| Regex::new(&p).unwrap());
    let mut samples: Vec<String> = Vec::new();
    for len in [0, 1, 2, 3, min, max, max + 1] {
        for c in ['a', 'F', '0', '-', '_', '.', '中', ' ', '/'] {
            samples.push(std::iter::repeat_n(c, len).collect());
        }
    }
    for _ in 0..2000 {
        let len = rng.below(max + 3);
        samples.push((0..len).map(|_| POOL[rng.below(POOL.len())]).collect());
    }
    for value in samples {
        let chars = value.chars().count();
        let by_schema =
            (min..=max).contains(&chars) && regex.as_ref().is_none_or(|r| r.is_match(&value));
        assert_eq!(
            is_valid(&value),
            by_schema,
            "{}: schema and validator disagree on {value:?}",
            T::schema_name()
        );
    }
}

#[test]
fn id_schemas_and_validators_agree_on_samples() {
    let mut rng = Lcg(7);
    assert_id_schema_agrees::<PhoneId>(PhoneId::is_valid, PhoneId::pattern(), &mut rng);
    assert_id_schema_agrees::<ProjectId>(ProjectId::is_valid, ProjectId::pattern(), &mut rng);
    assert_id_schema_agrees::<ImageId>(ImageId::is_valid, ImageId::pattern(), &mut rng);
    assert_id_schema_agrees::<JobId>(JobId::is_valid, JobId::pattern(), &mut rng);
    assert_id_schema_agrees::<RequestId>(RequestId::is_valid, RequestId::pattern(), &mut rng);
    assert_id_schema_agrees::<BucketName>(BucketName::is_valid, BucketName::pattern(), &mut rng);
    assert_id_schema_agrees::<ObjectPath>(ObjectPath::is_valid, ObjectPath::pattern(), &mut rng);
    assert_id_schema_agrees::<ExportObjectPath>(
        ExportObjectPath::is_valid,
        ExportObjectPath::pattern(),
        &mut rng,
    );
}

#[test]
fn every_request_type_round_trips_its_wire_form() {
    fn round_trip<T: serde::Serialize + serde::de::DeserializeOwned>(json: &str) {
        let value: T = serde_json::from_str(json).unwrap();
        let back: Value = serde_json::to_value(&value).unwrap();
        assert_eq!(back, serde_json::from_str::<Value>(json).unwrap(), "{json}");
    }
    round_trip::<ResetRequest>(
        r#"{"image_id":"img1","phones":[{"phone_id":"p1","property":"{\"com.cph.mainkeys\":\"1\"}","factory_reset_enabled":true},{"phone_id":"p2"}]}"#,
    );
    round_trip::<RestartRequest>(r#"{"phones":[{"phone_id":"p1","property":"{}"}]}"#);
    round_trip::<StopRequest>(r#"{"phone_ids":["p1","p2"]}"#);
    round_trip::<UpdatePropertyRequest>(
        r#"{"phones":[{"phone_id":"p1","property":"{\"a\":\"1\"}","custom_property":"{\"b\":\"2\"}"}]}"#,
    );
    round_trip::<RestoreRequest>(
        r#"{"restore_infos":[{"phone_id":"p1","bucket_name":"my.bucket-1","object_path":"backup/p1.tar"}]}"#,
    );
    round_trip::<StorageRequest>(
        r#"{"storage_infos":[{"phone_id":"p1","include_files":["/data/app"],"exclude_files":["/data/tmp"],"bucket_name":"bkt","object_path":"p1.tar"}]}"#,
    );
}

#[test]
fn documented_response_shapes_decode() {
    let show: ShowJobResponse = serde_json::from_str(
        r#"{"request_id":"r","job_id":"j","phone_id":"p","server_id":"s","status":-1,
            "begin_time":"2024-05-01T10:00:00Z","end_time":"2024-05-01T10:01:00Z",
            "error_code":"CPS.0003","error_msg":"internal error","execute_msg":null}"#,
    )
    .unwrap();
    assert_eq!(show.job.status, JobStatus::Failed);
    assert_eq!(show.job.error_code.as_deref(), Some("CPS.0003"));

    let list: ListJobsResponse = serde_json::from_str(
        r#"{"request_id":"r","jobs":[{"job_id":"j","phone_id":"p","server_id":"s","node_id":"n",
            "status":1,"begin_time":"2024-05-01T10:00:00Z","end_time":"","error_code":"",
            "error_msg":"","execute_msg":""}]}"#,
    )
    .unwrap();
    let job: &Job = &list.jobs[0];
    assert!(!job.status.is_finished());
    assert_eq!(job.end_time, None);
    assert_eq!(job.node_id.as_deref(), Some("n"));

    let phones: ListCloudPhonesResponse = serde_json::from_str(
        r#"{"request_id":"r","count":2,"phones":[{"phone_name":"a","server_id":"s","phone_id":"p",
            "phone_model_name":"m","image_id":"i","image_version":"v","status":8,"type":0,
            "imei":"1","availability_zone":"az","create_time":"2024-05-01T10:00:00Z",
            "update_time":"2024-05-01T10:00:00Z","metadata":{"order_id":"x"}}]}"#,
    )
    .unwrap();
    assert_eq!(phones.count, Some(2));
    assert_eq!(phones.phones[0].status.unwrap().name(), "stopped");

    let detail: PhoneDetail = serde_json::from_str(
        r#"{"phone_id":"p","status":2,"property":"","custom_property":null,
            "phone_data_volume":{"volume_size":32}}"#,
    )
    .unwrap();
    assert!(detail.properties().unwrap().is_empty());
    assert!(detail.phone_data_volume.is_some());
}

#[test]
fn wrong_types_everywhere_still_decode_responses() {
    let weird = r#"{"request_id":7,"jobs":{"not":"a list"},"phones":"x","count":"many",
        "job_id":[1],"status":"running","error_code":false,"property":{"a":1}}"#;
    let batch: BatchResponse = serde_json::from_str(weird).unwrap();
    assert_eq!(batch.request_id.as_deref(), Some("7"));
    assert!(batch.jobs.is_empty());
    let show: ShowJobResponse = serde_json::from_str(weird).unwrap();
    assert_eq!(show.job.status, JobStatus::Missing);
    let phones: ListCloudPhonesResponse = serde_json::from_str(weird).unwrap();
    assert_eq!(phones.count, None);
    let detail: PhoneDetail = serde_json::from_str(weird).unwrap();
    assert_eq!(detail.properties().unwrap().get("a"), Some("1"));
    let error: ErrorBody = serde_json::from_str(weird).unwrap();
    assert_eq!(error.error_code.as_deref(), Some("false"));
}

#[test]
fn arbitrary_input_never_panics() {
    let mut rng = Lcg(42);
    for _ in 0..3000 {
        let len = rng.below(60);
        let text: String = (0..len).map(|_| POOL[rng.below(POOL.len())]).collect();
        let _ = PhoneId::new(text.as_str());
        let _ = ObjectPath::new(text.as_str());
        let _ = PropertyMap::from_api_string(&text);
        let map: PropertyMap = [(text.as_str(), text.as_str())].into_iter().collect();
        let report = validate_properties(&text, &map);
        for issue in report.errors.iter().chain(&report.warnings) {
            let _ = issue.to_string();
        }
        for entry in catalogue() {
            let _ = entry.rule.check(&text);
        }
        let _ = serde_json::from_str::<BatchResponse>(&text);
        let _ = serde_json::from_str::<JobStatus>(&text);
    }
}
