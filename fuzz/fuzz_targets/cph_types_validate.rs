//! Fuzzes cph-types' validators and response decoders with one arbitrary input:
//!
//! - the property string parser (`PropertyMap::from_api_string`): never panics, and a parsed map
//!   renders (`to_api_string`) to a string that parses back to the same map;
//! - `validate_properties`: never panics, reports an error for a known key exactly when its rule
//!   rejects the value, and every rule agrees with its JSON Schema pattern;
//! - every id newtype's `new`: agrees with `is_valid`, with its JSON Schema pattern (or length
//!   bound), and with serde deserialisation;
//! - the responses (`BatchResponse`, `ListJobsResponse`, `PhoneDetail`, `ShowJobResponse`,
//!   `ListCloudPhonesResponse`, `ErrorBody`) from arbitrary bytes: never panic, and a decoded body
//!   serialises and decodes again to the same value;
//! - the paged lists (`ListJobsResponse`, `ListCloudPhonesPage`): their account of the list
//!   (`ListDecoding`) adds up (decoded plus undecodable elements make the wire length, a reason
//!   exactly when something did not decode), and serialised again they hold the same elements,
//!   all decoding; `ListCloudPhonesPage` and the lenient `ListCloudPhonesResponse` keep the same
//!   phones of any body.

#![no_main]

use std::sync::LazyLock;

use cph_types::{
    BatchResponse, BucketName, ErrorBody, ImageId, JobId, ListCloudPhonesPage,
    ListCloudPhonesResponse, ListDecoding, ListJobsResponse, ObjectPath, PhoneDetail, PhoneId,
    ProjectId, PropertyMap, RequestId, ShowJobResponse, catalogue, lookup, validate_properties,
};
use libfuzzer_sys::fuzz_target;
use regex::Regex;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Each catalogue key with the compiled JSON Schema pattern of its rule.
static RULE_PATTERNS: LazyLock<Vec<(&'static str, Regex)>> = LazyLock::new(|| {
    catalogue()
        .iter()
        .map(|entry| {
            let pattern = entry.rule.json_schema_pattern();
            let regex = Regex::new(&pattern).unwrap_or_else(|e| {
                panic!("pattern {pattern} of {} does not compile: {e}", entry.key)
            });
            (entry.key, regex)
        })
        .collect()
});

/// Checks one id newtype's constructor against its other faces.
macro_rules! check_id {
    ($ty:ty, $text:expr) => {{
        let text: &str = $text;
        let accepted = <$ty>::new(text).is_ok();
        assert_eq!(
            accepted,
            <$ty>::is_valid(text),
            "{} new/is_valid disagree on {text:?}",
            <$ty>::WHAT
        );
        static PATTERN: LazyLock<Option<Regex>> = LazyLock::new(|| {
            <$ty>::pattern().map(|p| Regex::new(&p).unwrap_or_else(|e| panic!("{p}: {e}")))
        });
        if let Some(regex) = PATTERN.as_ref() {
            let in_length = <$ty>::length_range().contains(&text.chars().count());
            assert_eq!(
                accepted,
                regex.is_match(text) && in_length,
                "{} rule and pattern disagree on {text:?}",
                <$ty>::WHAT
            );
        }
        let json = serde_json::Value::String(text.to_owned()).to_string();
        let via_serde = serde_json::from_str::<$ty>(&json).is_ok();
        assert_eq!(
            accepted,
            via_serde,
            "{} new and serde disagree on {text:?}",
            <$ty>::WHAT
        );
        if let Ok(id) = <$ty>::new(text) {
            assert_eq!(id.as_str(), text, "{} changed the value", <$ty>::WHAT);
        }
    }};
}

/// Decodes `bytes` as `T`; a decoded value must survive serialise-then-decode unchanged.
fn round_trip<T>(bytes: &[u8]) -> Option<T>
where
    T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug,
{
    let value: T = serde_json::from_slice(bytes).ok()?;
    let json = match serde_json::to_vec(&value) {
        Ok(json) => json,
        Err(e) => panic!("{value:?} decoded but does not serialise: {e}"),
    };
    match serde_json::from_slice::<T>(&json) {
        Ok(again) => assert_eq!(
            again,
            value,
            "changed through {}",
            String::from_utf8_lossy(&json)
        ),
        Err(e) => panic!(
            "{value:?} serialised as {} does not decode: {e}",
            String::from_utf8_lossy(&json)
        ),
    }
    Some(value)
}

fn check_properties(text: &str) {
    let Ok(map) = PropertyMap::from_api_string(text) else {
        return;
    };
    let rendered = map.to_api_string();
    match rendered.to_map() {
        Ok(again) => assert_eq!(again, map, "map changed through {rendered}"),
        Err(e) => panic!("rendered {rendered} does not parse: {e}"),
    }
    let report = validate_properties("phone-1", &map);
    for (key, value) in map.iter() {
        let Some(entry) = lookup(key) else { continue };
        let flagged = report
            .errors
            .iter()
            .any(|issue| issue.key == key && issue.value == value);
        assert_eq!(
            flagged,
            !entry.rule.check(value),
            "{key}={value:?} misjudged: {report:?}"
        );
    }
}

/// Checks the account of a paged list: `items` decoded of a list accounted for by `decoding`.
fn check_account(items: usize, decoding: &ListDecoding) {
    assert_eq!(
        items + decoding.undecoded,
        decoding.raw_len,
        "decoded and undecodable elements must make the wire length: {decoding:?}"
    );
    assert_eq!(
        decoding.first_error.is_some(),
        decoding.undecoded > 0,
        "a reason exactly when something did not decode: {decoding:?}"
    );
    if let Some(reason) = &decoding.first_error {
        assert!(reason.starts_with("element "), "{reason}");
        assert!(reason.chars().count() <= 203, "{reason}");
    }
}

/// Decodes `bytes` as a paged answer `T` (`account` gives its list's decoded length and
/// account); the account adds up, and serialised and decoded again it is the same answer with
/// every element decoding (the undecodable ones are not written back).
fn round_trip_page<T>(
    bytes: &[u8],
    account: impl Fn(&mut T) -> (usize, &mut ListDecoding),
) -> Option<T>
where
    T: DeserializeOwned + Serialize + PartialEq + Clone + std::fmt::Debug,
{
    let mut value: T = serde_json::from_slice(bytes).ok()?;
    let (len, decoding) = account(&mut value);
    check_account(len, decoding);
    let mut expected = value.clone();
    let (len, decoding) = account(&mut expected);
    *decoding = ListDecoding::complete(len);
    let json = match serde_json::to_vec(&value) {
        Ok(json) => json,
        Err(e) => panic!("{value:?} decoded but does not serialise: {e}"),
    };
    match serde_json::from_slice::<T>(&json) {
        Ok(again) => assert_eq!(
            again,
            expected,
            "changed through {}",
            String::from_utf8_lossy(&json)
        ),
        Err(e) => panic!(
            "{value:?} serialised as {} does not decode: {e}",
            String::from_utf8_lossy(&json)
        ),
    }
    Some(value)
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    check_properties(&text);

    for (key, regex) in RULE_PATTERNS.iter() {
        let rule = lookup(key).map(|entry| entry.rule);
        if let Some(rule) = rule {
            assert_eq!(
                rule.check(&text),
                regex.is_match(&text),
                "{key}: rule and pattern disagree on {text:?}"
            );
        }
    }

    check_id!(PhoneId, &text);
    check_id!(ProjectId, &text);
    check_id!(ImageId, &text);
    check_id!(JobId, &text);
    check_id!(RequestId, &text);
    check_id!(BucketName, &text);
    check_id!(ObjectPath, &text);

    let _ = round_trip::<BatchResponse>(data);
    let _ = round_trip_page::<ListJobsResponse>(data, |r| (r.jobs.len(), &mut r.jobs_decoding));
    let _ = round_trip::<ShowJobResponse>(data);
    let lenient = round_trip::<ListCloudPhonesResponse>(data);
    let page =
        round_trip_page::<ListCloudPhonesPage>(data, |p| (p.phones.len(), &mut p.phones_decoding));
    if let Some(page) = page {
        let lenient =
            lenient.unwrap_or_else(|| panic!("the page decodes, the lenient answer does not"));
        assert_eq!(ListCloudPhonesResponse::from(page), lenient);
    }
    let _ = round_trip::<ErrorBody>(data);
    if let Some(detail) = round_trip::<PhoneDetail>(data) {
        if let Ok(map) = detail.properties() {
            let _ = validate_properties("phone-1", &map);
        }
    }
});
