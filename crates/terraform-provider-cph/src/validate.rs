//! Validate-time checks of a resource's `phones` list and other inputs, against the rules `cph-types`
//! defines once: phone ids, duplicates, the property catalogue, bucket names, object paths, image ids,
//! durations. Every problem is reported at once, each pointing at its attribute; unknown values
//! (ids from another resource) are skipped, so such plans stay clean.

use std::collections::HashMap;

use cph_types::{
    BucketName, ImageId, IssueKind, ObjectPath, PhoneId, PropertyMap, check_property_size,
    validate_properties,
};
use tfplugin::{AttributePath, Diagnostic, Diagnostics, Value};

use crate::common::parse_duration;

/// The per-phone fields a resource's `phones` objects carry, beyond `phone_id`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PhoneFields {
    /// `properties` (map of string) is present.
    pub(crate) properties: bool,
    /// `bucket_name` and `object_path` are present.
    pub(crate) restore_target: bool,
    /// The resource also accepts `phone_ids` (a list of ids) instead of `phones`.
    pub(crate) phone_ids: bool,
}

/// An error or warning about the attribute at `path`, naming the path in the detail too: Terraform 1.0
/// shows a diagnostic on a nested attribute at its resource block's first line, not the attribute's.
fn at_path(diag: Diagnostic, path: AttributePath) -> Diagnostic {
    let detail = format!("{path}: {}", diag.detail);
    Diagnostic { detail, ..diag }.with_attribute(path)
}

/// Checks the `phones` attribute of `config` (and `phone_ids`, for resources that accept it).
pub(crate) fn phones(config: &Value, fields: PhoneFields, diags: &mut Diagnostics) {
    let set = |name: &str| config.get(name).filter(|v| !v.is_null());
    let list = set("phones");
    if fields.phone_ids {
        match (list, set("phone_ids")) {
            (Some(_), Some(_)) => {
                diags.push(at_path(
                    Diagnostic::error(
                        "Conflicting Phone Lists",
                        "set either `phones` (phones with per-phone settings) or `phone_ids` (ids only), not both.",
                    ),
                    AttributePath::root("phone_ids"),
                ));
                return;
            }
            (None, None) => {
                diags.push(Diagnostic::error(
                    "Missing Phones",
                    "set `phones` (phones with per-phone settings) or `phone_ids` (ids only) to name the phones to \
                     act on.",
                ));
                return;
            }
            (None, Some(ids)) => {
                phone_ids(ids, diags);
                return;
            }
            (Some(_), None) => {}
        }
    }
    let root = AttributePath::root("phones");
    let Some(elements) = list.and_then(Value::as_elements) else {
        return;
    };
    if elements.is_empty() {
        diags.push(at_path(
            Diagnostic::error(
                "No Phones",
                "`phones` must list at least one phone to act on.",
            ),
            root,
        ));
        return;
    }
    let mut ids = IdChecker::new("phones");
    for (i, phone) in elements.iter().enumerate() {
        let at = root.clone().index(i);
        let id = match phone.get("phone_id") {
            Some(Value::String(s)) => Some(s.as_str()),
            _ => None,
        };
        if let Some(id) = id {
            ids.check(id, i, at.clone().attr("phone_id"), diags);
        }
        if fields.properties {
            properties(phone, id.unwrap_or("(unknown)"), &at, diags);
        }
        if fields.restore_target {
            known_string(phone, "bucket_name", &at, diags, |v| {
                BucketName::new(v).map(|_| ()).map_err(|e| e.to_string())
            });
            known_string(phone, "object_path", &at, diags, |v| {
                ObjectPath::new(v).map(|_| ()).map_err(|e| e.to_string())
            });
        }
    }
}

/// Checks a known or unknown `phone_ids` list.
fn phone_ids(ids: &Value, diags: &mut Diagnostics) {
    let root = AttributePath::root("phone_ids");
    let Some(elements) = ids.as_elements() else {
        return;
    };
    if elements.is_empty() {
        diags.push(at_path(
            Diagnostic::error(
                "No Phones",
                "`phone_ids` must list at least one phone to act on.",
            ),
            root,
        ));
        return;
    }
    let mut checker = IdChecker::new("phone_ids");
    for (i, id) in elements.iter().enumerate() {
        match id {
            Value::String(id) => checker.check(id, i, root.clone().index(i), diags),
            Value::Null => diags.push(at_path(
                Diagnostic::error("Missing Phone Id", "a phone id must not be null."),
                root.clone().index(i),
            )),
            _ => {}
        }
    }
}

/// Checks phone ids one by one: each well-formed and listed once.
struct IdChecker<'a> {
    list: &'static str,
    first_index: HashMap<&'a str, usize>,
}

impl<'a> IdChecker<'a> {
    fn new(list: &'static str) -> Self {
        Self {
            list,
            first_index: HashMap::new(),
        }
    }

    fn check(&mut self, id: &'a str, i: usize, at: AttributePath, diags: &mut Diagnostics) {
        let list = self.list;
        if let Err(e) = PhoneId::new(id) {
            diags.push(at_path(
                Diagnostic::error(
                    "Invalid Phone Id",
                    format!("{e}. Phone ids are listed by the `cph_phones` data source."),
                ),
                at,
            ));
        } else if let Some(first) = self.first_index.get(id) {
            diags.push(at_path(
                Diagnostic::error(
                    "Duplicate Phone Id",
                    format!(
                        "phone {id} is listed twice, at {list}[{first}] and {list}[{i}]; each phone may appear once \
                         per resource, so that it is submitted once."
                    ),
                ),
                at,
            ));
        } else {
            self.first_index.insert(id, i);
        }
    }
}

fn known_string(
    object: &Value,
    name: &str,
    at: &AttributePath,
    diags: &mut Diagnostics,
    check: impl Fn(&str) -> Result<(), String>,
) {
    if let Some(Value::String(v)) = object.get(name) {
        if let Err(detail) = check(v) {
            let summary = match name {
                "bucket_name" => "Invalid Bucket Name",
                "object_path" => "Invalid Object Path",
                _ => "Invalid Value",
            };
            diags.push(at_path(
                Diagnostic::error(summary, detail),
                at.clone().attr(name),
            ));
        }
    }
}

/// Checks one phone's `properties` map against the catalogue (known entries only).
fn properties(phone: &Value, phone_id: &str, at: &AttributePath, diags: &mut Diagnostics) {
    let Some(Value::Map(entries)) = phone.get("properties") else {
        return;
    };
    let mut map = PropertyMap::new();
    let mut all_known = true;
    for (key, value) in entries {
        match value {
            Value::String(v) => {
                map.insert(key.clone(), v.clone());
            }
            _ => all_known = false,
        }
    }
    let report = validate_properties(phone_id, &map);
    let props = at.clone().attr("properties");
    for issue in report.errors {
        let (summary, path) = match &issue.kind {
            IssueKind::TooLarge { .. } => ("Properties Too Large", props.clone()),
            IssueKind::EmptyKey => ("Empty Property Key", props.clone()),
            _ => (
                "Invalid Property Value",
                props.clone().key(issue.key.clone()),
            ),
        };
        diags.push(at_path(Diagnostic::error(summary, issue.to_string()), path));
    }
    for issue in report.warnings {
        let summary = match issue.kind {
            IssueKind::DeprecatedKey { .. } => "Deprecated Property Key",
            _ => "Unknown Property Key",
        };
        diags.push(at_path(
            Diagnostic::warning(summary, issue.to_string()),
            props.clone().key(issue.key.clone()),
        ));
    }
    // validate_properties checks the size too; when some values are still unknown, check what is known so
    // a map that is already too large is reported now.
    if !all_known {
        if let Err(e) = check_property_size(phone_id, Some(&map.to_api_string()), None) {
            diags.push(at_path(
                Diagnostic::error("Properties Too Large", e.to_string()),
                props,
            ));
        }
    }
}

/// Checks an optional `image_id`.
pub(crate) fn image_id(config: &Value, diags: &mut Diagnostics) {
    if let Some(Value::String(v)) = config.get("image_id") {
        if let Err(e) = ImageId::new(v.as_str()) {
            diags.push(at_path(
                Diagnostic::error("Invalid Image Id", e.to_string()),
                AttributePath::root("image_id"),
            ));
        }
    }
}

/// Checks the durations of a `timeouts` block.
pub(crate) fn timeouts(config: &Value, diags: &mut Diagnostics) {
    let Some(Value::Object(block)) = config.get("timeouts") else {
        return;
    };
    for (name, value) in block {
        if let Value::String(text) = value {
            if let Err(detail) = parse_duration(text) {
                diags.push(at_path(
                    Diagnostic::error("Invalid Timeout", detail),
                    AttributePath::root("timeouts").attr(name.clone()),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phone(id: &str, props: &[(&str, &str)]) -> Value {
        Value::object([
            ("phone_id", Value::string(id)),
            (
                "properties",
                if props.is_empty() {
                    Value::Null
                } else {
                    Value::Map(
                        props
                            .iter()
                            .map(|(k, v)| (k.to_string(), Value::string(*v)))
                            .collect(),
                    )
                },
            ),
        ])
    }

    fn config(phones: Vec<Value>) -> Value {
        Value::object([("phones", Value::List(phones))])
    }

    fn paths(diags: &Diagnostics) -> Vec<String> {
        diags
            .iter()
            .map(|d| {
                d.attribute
                    .as_ref()
                    .map(|p| p.to_string())
                    .unwrap_or_default()
            })
            .collect()
    }

    const PROPS: PhoneFields = PhoneFields {
        properties: true,
        restore_target: false,
        phone_ids: false,
    };

    const IDS: PhoneFields = PhoneFields {
        properties: true,
        restore_target: false,
        phone_ids: true,
    };

    fn ids_config(ids: Vec<Value>) -> Value {
        Value::object([("phone_ids", Value::List(ids)), ("phones", Value::Null)])
    }

    #[test]
    fn phone_ids_are_checked_like_phones() {
        let a = "0123456789abcdef0123456789abcdef";
        let mut diags = Diagnostics::new();
        phones(
            &ids_config(vec![
                Value::string(a),
                Value::string("not a phone!"),
                Value::Unknown,
                Value::string(a),
            ]),
            IDS,
            &mut diags,
        );
        assert_eq!(paths(&diags), vec!["phone_ids[1]", "phone_ids[3]"]);
        let dup = diags.iter().nth(1).unwrap();
        assert_eq!(dup.summary, "Duplicate Phone Id");
        assert!(
            dup.detail.contains("phone_ids[0] and phone_ids[3]"),
            "{}",
            dup.detail
        );
        let mut diags = Diagnostics::new();
        phones(&ids_config(vec![]), IDS, &mut diags);
        assert_eq!(paths(&diags), vec!["phone_ids"]);
        let mut diags = Diagnostics::new();
        phones(&ids_config(vec![Value::string(a)]), IDS, &mut diags);
        assert!(diags.is_empty(), "{diags:?}");
    }

    #[test]
    fn exactly_one_of_phones_and_phone_ids_is_required() {
        let a = "0123456789abcdef0123456789abcdef";
        let both = Value::object([
            ("phone_ids", Value::Unknown),
            ("phones", Value::List(vec![phone(a, &[])])),
        ]);
        let mut diags = Diagnostics::new();
        phones(&both, IDS, &mut diags);
        assert_eq!(paths(&diags), vec!["phone_ids"]);
        assert_eq!(
            diags.iter().next().unwrap().summary,
            "Conflicting Phone Lists"
        );
        let neither = Value::object([("phone_ids", Value::Null), ("phones", Value::Null)]);
        let mut diags = Diagnostics::new();
        phones(&neither, IDS, &mut diags);
        assert_eq!(diags.iter().next().unwrap().summary, "Missing Phones");
        assert!(diags.has_errors());
        // A resource without `phone_ids` leaves a missing `phones` to Terraform (it is required there).
        let mut diags = Diagnostics::new();
        phones(&neither, PROPS, &mut diags);
        assert!(diags.is_empty());
    }

    #[test]
    fn malformed_and_duplicate_phone_ids_point_at_their_elements() {
        let mut diags = Diagnostics::new();
        let a = "0123456789abcdef0123456789abcdef";
        phones(
            &config(vec![
                phone(a, &[]),
                phone("not a phone!", &[]),
                phone(a, &[]),
            ]),
            PROPS,
            &mut diags,
        );
        assert!(diags.has_errors());
        assert_eq!(
            paths(&diags),
            vec!["phones[1].phone_id", "phones[2].phone_id"]
        );
        let dup = diags.iter().nth(1).unwrap();
        assert_eq!(dup.summary, "Duplicate Phone Id");
        assert!(
            dup.detail.contains("phones[0] and phones[2]"),
            "{}",
            dup.detail
        );
    }

    #[test]
    fn every_bad_property_is_reported_at_its_key_and_unknown_keys_warn() {
        let mut diags = Diagnostics::new();
        let c = config(vec![phone(
            "p1",
            &[
                ("sys.prop.writephonenum", "12ab"),
                ("com.cph.mainkeys", "2"),
                ("vendor.new.key", "x"),
            ],
        )]);
        phones(&c, PROPS, &mut diags);
        let errors: Vec<_> = diags
            .iter()
            .filter(|d| d.severity == tfplugin::Severity::Error)
            .collect();
        let warnings: Vec<_> = diags
            .iter()
            .filter(|d| d.severity == tfplugin::Severity::Warning)
            .collect();
        assert_eq!(errors.len(), 2);
        assert_eq!(warnings.len(), 1);
        let error_paths: Vec<String> = errors
            .iter()
            .map(|d| d.attribute.as_ref().unwrap().to_string())
            .collect();
        assert!(
            error_paths.contains(&"phones[0].properties[\"sys.prop.writephonenum\"]".to_string()),
            "{error_paths:?}"
        );
        assert!(
            errors
                .iter()
                .any(|d| d.detail.contains("p1") && d.detail.contains("12ab"))
        );
        assert_eq!(
            warnings[0].attribute.as_ref().unwrap().to_string(),
            "phones[0].properties[\"vendor.new.key\"]"
        );
    }

    #[test]
    fn unknown_values_are_not_judged() {
        let mut diags = Diagnostics::new();
        let c = config(vec![Value::object([
            ("phone_id", Value::Unknown),
            (
                "properties",
                Value::Map([("sys.prop.writeimsi".to_string(), Value::Unknown)].into()),
            ),
        ])]);
        phones(&c, PROPS, &mut diags);
        assert!(diags.is_empty(), "{diags:?}");
        let mut diags = Diagnostics::new();
        phones(
            &Value::object([("phones", Value::Unknown)]),
            PROPS,
            &mut diags,
        );
        assert!(diags.is_empty());
    }

    #[test]
    fn an_empty_phone_list_is_an_error() {
        let mut diags = Diagnostics::new();
        phones(&config(vec![]), PROPS, &mut diags);
        assert_eq!(paths(&diags), vec!["phones"]);
    }

    #[test]
    fn restore_targets_are_checked_against_bucket_and_path_rules() {
        let mut diags = Diagnostics::new();
        let c = config(vec![Value::object([
            ("phone_id", Value::string("p1")),
            ("bucket_name", Value::string("Bad_Bucket")),
            ("object_path", Value::string("")),
        ])]);
        phones(
            &c,
            PhoneFields {
                properties: false,
                restore_target: true,
                phone_ids: false,
            },
            &mut diags,
        );
        assert_eq!(
            paths(&diags),
            vec!["phones[0].bucket_name", "phones[0].object_path"]
        );
    }

    #[test]
    fn bad_timeouts_and_image_ids_are_reported() {
        let mut diags = Diagnostics::new();
        let c = Value::object([
            ("image_id", Value::string("")),
            (
                "timeouts",
                Value::object([
                    ("create", Value::string("forever")),
                    ("update", Value::Null),
                ]),
            ),
        ]);
        image_id(&c, &mut diags);
        timeouts(&c, &mut diags);
        assert_eq!(paths(&diags), vec!["image_id", "timeouts.create"]);
    }
}
