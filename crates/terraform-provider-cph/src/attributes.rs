//! The attributes resources share, one declaration each: schema, checks (against the rules
//! `cph-types` defines once), default and description side by side.

use cph_types::{
    BucketName, ImageId, IssueKind, ObjectPath, PROPERTY_BYTES_MAX, PhoneId, PropertyMap,
    validate_properties,
};
use tfplugin::{
    Attribute, AttributePath, Diagnostic, Diagnostics, ObjectNesting, Presence, Type, Validator,
    Value,
};

use crate::model::names;
use crate::records::{Status, record_type};

/// `id`: set when the resource is created, kept for its life.
pub(crate) fn id() -> Attribute {
    Attribute::computed(names::ID, Type::String)
        .use_state_for_unknown()
        .description(
"The request id of the first batch request the resource sent; kept for the resource's life.",
        )
}

/// The check of a phone id.
fn phone_id_check(id: &str) -> Result<(), String> {
    PhoneId::new(id)
        .map(drop)
        .map_err(|e| format!("{e}. Phone ids are listed by the `cph_phones` data source."))
}

/// Where an attribute is served: on a resource, whose descriptions also say what a change of it
/// does (state keeps every phone's record), or on an action, which keeps nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Surface {
    Resource,
    Action,
}

impl Surface {
    /// `text` (a sentence about what a change does, after a space) on a resource; nothing on an
    /// action.
    pub(crate) fn on_change(self, text: &str) -> String {
        match self {
            Surface::Resource => format!(" {text}"),
            Surface::Action => String::new(),
        }
    }
}

/// `phones[*].phone_id`.
pub(crate) fn phone_id() -> Attribute {
    Attribute::required(names::PHONE_ID, Type::String)
        .description("The phone's id (at most 32 characters of letters, digits, `-` and `_`).")
        .validator(Validator::string(
            "Invalid Phone Id",
            "a phone id",
            phone_id_check,
        ))
}

/// `phones`: the phones with per-phone inputs (`inputs`, besides `phone_id`). Required unless the
/// resource also accepts `phone_ids`.
pub(crate) fn phones(
    presence: Presence,
    what: &str,
    inputs: Vec<Attribute>,
    surface: Surface,
) -> Attribute {
    let mut attributes = vec![phone_id()];
    attributes.extend(inputs);
    let either = if presence == Presence::Required {
        ""
    } else {
        " Set this, `phone_ids` or `phone_map`."
    };
    Attribute::nested(names::PHONES, ObjectNesting::List, presence, attributes)
        .description(format!(
            "{what}, at least one, each phone at most once.{either}{}",
            surface.on_change(
                "Adding a phone acts on it alone; removing one or reordering the list calls nothing."
            )
        ))
        .validator(at_least_one_phone(names::PHONES))
        .validator(no_null_phone())
        .validator(each_phone_once(Some(names::PHONE_ID)))
        .validator(Validator::new(
            "each phone's properties known to the catalogue, within the size limit",
            check_phones_properties,
        ))
}

/// Checks the `properties` of every element of `phones` against the catalogue, at
/// `phones[i].properties["key"]`, naming the phone when its id is known (it may be known only at
/// apply time, e.g. from a data source; the path alone then says which element).
fn check_phones_properties(value: &Value, at: &AttributePath, diags: &mut Diagnostics) {
    for (i, element) in value.as_elements().unwrap_or_default().iter().enumerate() {
        let Some(properties) = element.get(names::PROPERTIES) else {
            continue;
        };
        let phone = element
            .get(names::PHONE_ID)
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty());
        check_properties(
            properties,
            &at.clone().index(i).attr(names::PROPERTIES),
            phone,
            diags,
        );
    }
}

/// `phone_ids`: the phones by id alone, `presence` [`Presence::Required`] where the resource has no
/// `phones`.
pub(crate) fn phone_ids(presence: Presence, description: String) -> Attribute {
    Attribute::new(names::PHONE_IDS, Type::list(Type::String), presence)
        .description(description)
        .validator(at_least_one_phone(names::PHONE_IDS))
        .validator(no_null_phone())
        .validator(each_phone_once(None))
        .validator(Validator::each_string(
            "Invalid Phone Id",
            "phone ids",
            phone_id_check,
        ))
}

/// `phone_map`: the phones keyed by id, for fleets of thousands (issue 23): Terraform's plan renderer
/// compares a list attribute with itself in time and memory that grow with the square of its length
/// (`LongestCommonSubsequence`), a map key by key.
pub(crate) fn phone_map(verb: &str) -> Attribute {
    Attribute::new(names::PHONE_MAP, Type::map(Type::String), Presence::Optional)
        .description(format!(
            "The phones to {verb} as a map whose keys are phone ids; the values are labels of your choosing \
             (the phone's name, say), never sent. Set this, `phone_ids` or `phones`. Terraform plans a map in time \
             that grows with its size and a list in time that grows with its square: for fleets of thousands of \
             phones this is the fastest way to name them, e.g. `phone_map = {{ for p in data.cph_phones.fleet.phones \
             : p.phone_id => p.phone_name }}`. Phones are submitted in the order of their ids."
        ))
        .validator(Validator::new(
            "at least one phone, each key a phone id",
            |value, path, diags| {
                let Some(entries) = value.as_entries() else {
                    return;
                };
                if entries.is_empty() {
                    diags.error("No Phones", "`phone_map` must name at least one phone to act on.");
                }
                for key in entries.keys() {
                    if let Err(e) = phone_id_check(key) {
                        diags.push(
                            Diagnostic::error("Invalid Phone Id", e).with_attribute(path.clone().key(key.clone())),
                        );
                    }
                }
            },
        ))
}

/// What `exactly_one_of(["phones", "phone_ids", "phone_map"])` tells the user.
pub(crate) const PHONES_IDS_OR_MAP: &str = "`phones` names phones with per-phone settings, `phone_ids` names them by id \
     alone, `phone_map` by id as the keys of a map.";

/// The description of `phone_ids` of a resource that also has `phones`.
pub(crate) fn phone_ids_besides_phones(verb: &str) -> String {
    format!(
        "The ids of the phones to {verb}, at least one, each at most once, with no per-phone settings. Set this, \
         `phones` or `phone_map`; the same id rules apply. For thousands of phones Terraform plans this much faster than `phones`, \
         e.g. `phone_ids = data.cph_phones.fleet.phones[*].phone_id`."
    )
}

/// A phone list must name at least one phone.
fn at_least_one_phone(name: &'static str) -> Validator {
    Validator::min_items(
        "No Phones",
        1,
        format!("`{name}` must list at least one phone to act on."),
    )
}

/// A phone list must not hold null where a phone belongs.
fn no_null_phone() -> Validator {
    Validator::new("no null phone", |value, path, diags| {
        for (i, element) in value.as_elements().unwrap_or_default().iter().enumerate() {
            if element.is_null() {
                diags.push(
                    Diagnostic::error("Missing Phone Id", "a phone id must not be null.")
                        .with_attribute(path.clone().index(i)),
                );
            }
        }
    })
}

/// Each phone at most once per resource (by `key` for a list of objects), so that it is submitted
/// once.
fn each_phone_once(key: Option<&'static str>) -> Validator {
    Validator::unique("Duplicate Phone Id", key, |id, first, this| {
        format!(
            "phone {} is listed twice, at {first} and {this}; each phone may appear once per resource, so that it is \
             submitted once.",
            tfplugin::shown(id)
        )
    })
}

/// `properties` of a phone, checked against the property catalogue.
pub(crate) fn properties(presence: Presence, what: &str) -> Attribute {
    Attribute::new(names::PROPERTIES, Type::map(Type::String), presence)
        .description(format!(
            "{what} Values are checked against the property catalogue when the configuration is validated: a bad \
             value for a known key is an error at `phones[i].properties[\"key\"]`, an unknown key a warning (with the \
             known key it most likely misspells); the catalogue is in the `cph_phone_property` page. For example \
             `{{ \"sys.prop.writephonenum\" = \"13666666666\" }}`."
        ))
}

/// Checks a `properties` map against the catalogue: each bad value at its key, unknown keys as
/// warnings, the size of what is known; the words name `phone` when it is known.
fn check_properties(
    value: &Value,
    at: &AttributePath,
    phone: Option<&str>,
    diags: &mut Diagnostics,
) {
    let words = |issue: &cph_types::PropertyIssue| match phone {
        Some(id) => format!("phone {id}: {}", issue.describe()),
        None => issue.describe(),
    };
    let Some(entries) = value.as_entries() else {
        return;
    };
    let mut map = PropertyMap::new();
    let mut all_known = true;
    for (key, v) in entries.iter() {
        match v {
            Value::String(v) => {
                map.insert(key.clone(), v.clone());
            }
            _ => all_known = false,
        }
    }
    let report = validate_properties("", &map);
    for issue in report.errors {
        let (summary, path) = match &issue.kind {
            IssueKind::TooLarge { .. } => ("Properties Too Large", at.clone()),
            IssueKind::EmptyKey => ("Empty Property Key", at.clone()),
            _ => ("Invalid Property Value", at.clone().key(issue.key.clone())),
        };
        diags.push(Diagnostic::error(summary, words(&issue)).with_attribute(path));
    }
    for issue in report.warnings {
        let summary = match issue.kind {
            IssueKind::DeprecatedKey { .. } => "Deprecated Property Key",
            _ => "Unknown Property Key",
        };
        diags.push(
            Diagnostic::warning(summary, words(&issue))
                .with_attribute(at.clone().key(issue.key.clone())),
        );
    }
    // validate_properties checked the size of a complete map; with values still unknown, check
    // what is known so a map that is already too large is reported now.
    if !all_known {
        let bytes = map.to_api_string().byte_len();
        if bytes > PROPERTY_BYTES_MAX {
            let detail = format!(
                "the properties known so far take {bytes} bytes, over the limit of {PROPERTY_BYTES_MAX}"
            );
            let detail = match phone {
                Some(id) => format!("phone {id}: {detail}"),
                None => detail,
            };
            diags
                .push(Diagnostic::error("Properties Too Large", detail).with_attribute(at.clone()));
        }
    }
}

/// `phones[*].bucket_name`.
pub(crate) fn bucket_name(what: &str) -> Attribute {
    Attribute::required(names::BUCKET_NAME, Type::String)
        .description(format!(
            "{what}: 3 to 63 characters of `a-z`, `0-9`, `-` and `.`."
        ))
        .validator(Validator::string(
            "Invalid Bucket Name",
            "a bucket name",
            |v| BucketName::new(v).map(drop).map_err(|e| e.to_string()),
        ))
}

/// `phones[*].object_path`.
pub(crate) fn object_path(what: &str) -> Attribute {
    Attribute::required(names::OBJECT_PATH, Type::String)
        .description(format!("{what}: {}.", ObjectPath::rule_description()))
        .validator(Validator::string(
            "Invalid Object Path",
            "an object path",
            |v| ObjectPath::new(v).map(drop).map_err(|e| e.to_string()),
        ))
}

/// `phones[*].object_path` of an export: the export API's stricter rule.
pub(crate) fn export_object_path(what: &str) -> Attribute {
    Attribute::required(names::OBJECT_PATH, Type::String)
        .description(format!(
            "{what}: {}.",
            cph_types::ExportObjectPath::rule_description()
        ))
        .validator(Validator::string(
            "Invalid Object Path",
            "an export object path",
            |v| {
                cph_types::ExportObjectPath::new(v)
                    .map(drop)
                    .map_err(|e| e.to_string())
            },
        ))
}

/// Checks a list of export paths: each an [`ExportPath`](cph_types::ExportPath) at its index,
/// and the rules of the whole selection (for `include_files`, the `/data/misc` companions too).
fn check_export_list(
    list: &'static str,
    value: &Value,
    at: &AttributePath,
    diags: &mut Diagnostics,
) {
    let Some(elements) = value.as_elements() else {
        return;
    };
    let mut known = Vec::new();
    for (i, element) in elements.iter().enumerate() {
        if let Value::String(path) = element {
            match cph_types::ExportPath::new(path.as_str()) {
                Ok(_) => known.push((i, path.clone())),
                Err(e) => diags.push(
                    Diagnostic::error("Invalid Export Path", e.to_string())
                        .with_attribute(at.clone().index(i)),
                ),
            }
        }
    }
    let paths: Vec<&str> = known.iter().map(|(_, p)| p.as_str()).collect();
    let issues = if list == names::INCLUDE_FILES {
        cph_types::check_export_selection(&paths, &[])
    } else {
        cph_types::check_export_selection(&[], &paths)
    };
    for issue in issues {
        let path = match issue.index.and_then(|i| known.get(i)) {
            Some((index, _)) => at.clone().index(*index),
            None => at.clone(),
        };
        diags.push(
            Diagnostic::error("Invalid Export Selection", issue.message).with_attribute(path),
        );
    }
}

/// `phones[*].include_files` of an export.
pub(crate) fn include_files() -> Attribute {
    Attribute::required(names::INCLUDE_FILES, Type::list(Type::String))
        .description(format!(
            "The files and directories to export, at least one: each {}. `/data/misc` can only be named \
             exactly, and naming it requires `/data/system` and `/data/system_de` too.",
            cph_types::ExportPath::rule_description()
        ))
        .validator(Validator::new(
            "export paths and the /data/misc rule",
            |value, at, diags| {
                if value.as_elements().is_some_and(<[Value]>::is_empty) {
                    diags.error(
                        "No Files to Export",
                        "`include_files` must name at least one file or directory.",
                    );
                }
                check_export_list(names::INCLUDE_FILES, value, at, diags);
            },
        ))
}

/// `phones[*].exclude_files` of an export.
pub(crate) fn exclude_files() -> Attribute {
    Attribute::optional(names::EXCLUDE_FILES, Type::list(Type::String))
        .description(
            "Files and directories to leave out, winning over `include_files`: the same path rule.",
        )
        .validator(Validator::new("export paths", |value, at, diags| {
            check_export_list(names::EXCLUDE_FILES, value, at, diags);
        }))
}

/// `image_id`: a resource-wide input, so a change performs the operation on every phone again.
pub(crate) fn image_id(doing: &str, surface: Surface) -> Attribute {
    Attribute::optional(names::IMAGE_ID, Type::String)
        .requires_replace()
        .description(format!(
            "Switch the phones to this image while {doing}.{}",
            surface.on_change("Changing it replaces the resource: every phone again.")
        ))
        .validator(Validator::string("Invalid Image Id", "an image id", |v| {
            ImageId::new(v).map(drop).map_err(|e| e.to_string())
        }))
}

/// `triggers`: arbitrary values whose change performs the operation on every phone again.
pub(crate) fn triggers(verb: &str) -> Attribute {
    Attribute::optional(names::TRIGGERS, Type::map(Type::String))
        .requires_replace()
        .description(format!(
            "Arbitrary values; changing any of them replaces the resource, performing the {verb} on every phone \
             again."
        ))
}

/// `allow_partial_failure`.
pub(crate) fn allow_partial_failure() -> Attribute {
    Attribute::optional_computed(names::ALLOW_PARTIAL_FAILURE, Type::Bool)
        .default(Value::Bool(false))
        .description(
            "When true, failed or rejected phones are warnings instead of an error (the next plan retries them). \
             Changing it only updates state.",
        )
}

/// A follow-up restart switch such as `restart_after_restore`.
pub(crate) fn restart_after(name: &str, default: bool, what: &str, surface: Surface) -> Attribute {
    Attribute::optional_computed(name, Type::Bool)
        .default(Value::Bool(default))
        .description(format!(
            "Restart each phone whose {what} succeeded, afterwards.{}",
            surface.on_change(
                "Turning it on later restarts the phones that succeeded and were not restarted; each restart is \
                 recorded in `restart_jobs`."
            )
        ))
}

/// `request_ids`.
pub(crate) fn request_ids() -> Attribute {
    Attribute::computed(names::REQUEST_IDS, Type::list(Type::String)).description(
        "The request ids of the batch requests behind the recorded jobs, sorted (one per `batch_size` phones of \
         an apply).",
    )
}

/// A map of per-phone records: `jobs` or `restart_jobs`.
pub(crate) fn records(name: &str, what: &str) -> Attribute {
    let statuses: Vec<String> = Status::WRITTEN
        .iter()
        .map(|s| format!("`{}`", s.as_str()))
        .collect();
    Attribute::computed(name, Type::map(record_type())).description(format!(
        "{what} Keyed by phone id; each entry: `phone_id`, `request_id`, `job_id` (empty when the phone was not \
         given a job), `status` (one of {}), `error_code`, `error_msg`, `begin_time`, `end_time`.",
        statuses.join(", ")
    ))
}

/// `restart_jobs`: the records of the follow-up restarts after the resource's `verb`, turned on
/// and off by `setting`.
pub(crate) fn restart_records(verb: &str, setting: &str) -> Attribute {
    records(
        names::RESTART_JOBS,
        &format!(
            "The latest follow-up restart of each phone (after its {verb}); a phone whose {verb} did not succeed is \
             recorded `not_submitted`. While `{setting} = false`, only the records of earlier restarts remain."
        ),
    )
}

#[cfg(test)]
mod tests {
    use tfplugin::{Block, Schema, Severity};

    use super::*;

    /// cph-types and tfplugin each quote values with their own `shown` (neither crate depends on the
    /// other); the provider prints both, so they must agree on every value.
    #[test]
    fn values_are_quoted_alike_in_api_errors_and_in_diagnostics() {
        let long = "x".repeat(cph_types::SHOWN_CHARS_MAX + 1);
        let exact = "y".repeat(cph_types::SHOWN_CHARS_MAX);
        for value in [
            "",
            "plain",
            "a\"b",
            "back\\slash",
            "new\nline",
            "nul\0",
            "\u{430}bc",
            "tab\t",
            "\u{1F4F1}",
            &long,
            &exact,
        ] {
            assert_eq!(cph_types::shown(value), tfplugin::shown(value), "{value:?}");
        }
        assert_eq!(cph_types::SHOWN_CHARS_MAX, tfplugin::SHOWN_CHARS_MAX);
    }

    fn paths(diags: &Diagnostics) -> Vec<String> {
        diags
            .iter()
            .map(|d| {
                d.attribute
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default()
            })
            .collect()
    }

    fn schema() -> Schema {
        Schema::new(
            0,
            Block::new()
                .attribute(phones(
                    Presence::Optional,
                    "The phones",
                    vec![
                        properties(Presence::Optional, "Properties."),
                        bucket_name("The bucket"),
                        object_path("The path"),
                    ],
                    Surface::Resource,
                ))
                .attribute(phone_ids(
                    Presence::Optional,
                    phone_ids_besides_phones("restart"),
                ))
                .attribute(image_id("restarting", Surface::Resource))
                .exactly_one_of(["phones", "phone_ids"], PHONES_IDS_OR_MAP),
        )
    }

    fn phone(id: &str, props: &[(&str, &str)], bucket: &str, path: &str) -> Value {
        Value::object([
            ("phone_id", Value::from(id)),
            (
                "properties",
                Value::Map(
                    props
                        .iter()
                        .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
                        .collect(),
                ),
            ),
            ("bucket_name", Value::from(bucket)),
            ("object_path", Value::from(path)),
        ])
    }

    const A: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn phone_map_keys_are_checked_as_phone_ids_and_one_of_the_three_lists_is_required() {
        let schema = Schema::new(
            0,
            Block::new()
                .attribute(phone_ids(
                    Presence::Optional,
                    phone_ids_besides_phones("restart"),
                ))
                .attribute(phone_map("restart"))
                .exactly_one_of(["phone_ids", "phone_map"], PHONES_IDS_OR_MAP),
        );
        let map = |keys: &[&str]| {
            Value::Map(
                keys.iter()
                    .map(|k| ((*k).to_owned(), Value::from("label")))
                    .collect(),
            )
        };
        let config =
            |ids: Value, map: Value| Value::object([("phone_ids", ids), ("phone_map", map)]);
        assert!(schema.validate(&config(Value::Null, map(&[A]))).is_empty());
        let bad = schema.validate(&config(Value::Null, map(&[A, "bad id!"])));
        assert_eq!(paths(&bad), vec!["phone_map[\"bad id!\"]"]);
        assert_eq!(bad.iter().next().unwrap().summary, "Invalid Phone Id");
        let empty = schema.validate(&config(Value::Null, map(&[])));
        assert_eq!(empty.iter().next().unwrap().summary, "No Phones");
        let both = schema.validate(&config(Value::List(vec![Value::from(A)]), map(&[A])));
        assert_eq!(
            both.iter().next().unwrap().summary,
            "Conflicting Attributes"
        );
    }

    #[test]
    fn every_bad_value_is_reported_at_its_path_and_unknown_keys_warn() {
        let config = Value::object([
            (
                "phones",
                Value::List(vec![
                    phone(
                        A,
                        &[
                            ("sys.prop.writephonenum", "12ab"),
                            ("com.cph.mainkeys", "2"),
                            ("vendor.new.key", "x"),
                        ],
                        "ok-bucket",
                        "a/b",
                    ),
                    phone("not a phone!", &[], "Bad_Bucket", ""),
                ]),
            ),
            ("phone_ids", Value::Null),
            ("image_id", Value::from("")),
        ]);
        let diags = schema().validate(&config);
        let errors: Vec<String> = diags
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| d.attribute.as_ref().unwrap().to_string())
            .collect();
        assert_eq!(
            errors,
            vec![
                "phones[0].properties[\"com.cph.mainkeys\"]",
                "phones[0].properties[\"sys.prop.writephonenum\"]",
                "phones[1].phone_id",
                "phones[1].bucket_name",
                "phones[1].object_path",
                "image_id",
            ],
            "{diags:?}"
        );
        let warning = diags
            .iter()
            .find(|d| d.severity == Severity::Warning)
            .unwrap();
        assert_eq!(
            warning.attribute.as_ref().unwrap().to_string(),
            "phones[0].properties[\"vendor.new.key\"]"
        );
        // The phone is named when its id is known ...
        let value_error = diags.iter().find(|d| d.detail.contains("12ab")).unwrap();
        assert!(
            value_error.detail.starts_with(&format!(
                "phones[0].properties[\"sys.prop.writephonenum\"]: phone {A}: property"
            )),
            "{}",
            value_error.detail
        );

        // ... and the path alone says which when it is not known yet (from a data source, say).
        let mut unknown_id = phone(A, &[("sys.prop.writeimsi", "x1")], "ok-bucket", "a/b");
        unknown_id.set_path(&AttributePath::root("phone_id"), Value::Unknown);
        let config = Value::object([
            ("phones", Value::List(vec![unknown_id])),
            ("phone_ids", Value::Null),
            ("image_id", Value::Null),
        ]);
        let diags = schema().validate(&config);
        let error = diags
            .iter()
            .find(|d| d.severity == Severity::Error)
            .unwrap();
        assert_eq!(
            error.detail,
            "phones[0].properties[\"sys.prop.writeimsi\"]: property sys.prop.writeimsi has invalid value \"x1\": must \
             be at most 15 decimal digits"
        );
        assert!(
            diags.iter().all(|d| !d.detail.contains("unknown")),
            "{diags:?}"
        );

        // A near miss of a known key gets the key it most likely misspells.
        let config = Value::object([
            (
                "phones",
                Value::List(vec![phone(
                    A,
                    &[("sys.prop.writeimis", "460001234567890")],
                    "ok-bucket",
                    "a/b",
                )]),
            ),
            ("phone_ids", Value::Null),
            ("image_id", Value::Null),
        ]);
        let diags = schema().validate(&config);
        let warning = diags
            .iter()
            .find(|d| d.severity == Severity::Warning)
            .unwrap();
        assert!(
            warning.detail.contains("did you mean sys.prop.writeimsi?"),
            "{}",
            warning.detail
        );
    }

    #[test]
    fn export_paths_and_the_data_misc_rule_are_checked_at_their_elements() {
        let schema = Schema::new(
            0,
            Block::new()
                .attribute(include_files())
                .attribute(exclude_files())
                .attribute(export_object_path("The object")),
        );
        let list = |paths: &[&str]| Value::List(paths.iter().map(|p| Value::from(*p)).collect());
        let config = Value::object([
            (
                "include_files",
                list(&["/sdcard/x", "/data/misc", "/data/media"]),
            ),
            ("exclude_files", list(&["/data/misc/wifi"])),
            ("object_path", Value::from("nightly/a b.tar")),
        ]);
        let diags = schema.validate(&config);
        let found: Vec<(String, String)> = diags
            .iter()
            .map(|d| (d.summary.clone(), d.attribute.as_ref().unwrap().to_string()))
            .collect();
        assert_eq!(
            found,
            [
                (
                    "Invalid Export Path".to_owned(),
                    "include_files[0]".to_owned()
                ),
                (
                    "Invalid Export Selection".to_owned(),
                    "include_files".to_owned()
                ),
                (
                    "Invalid Export Selection".to_owned(),
                    "exclude_files[0]".to_owned()
                ),
                ("Invalid Object Path".to_owned(), "object_path".to_owned()),
            ]
        );
        let empty = Value::object([
            ("include_files", list(&[])),
            ("exclude_files", Value::Null),
            ("object_path", Value::from("ok.tar")),
        ]);
        assert_eq!(
            schema.validate(&empty).iter().next().unwrap().summary,
            "No Files to Export"
        );
        let good = Value::object([
            (
                "include_files",
                list(&[
                    "/data/misc",
                    "/data/system",
                    "/data/system_de",
                    "/data/app/*",
                ]),
            ),
            ("exclude_files", list(&["/data/app/tmp"])),
            ("object_path", Value::from("nightly/p-1.tar")),
        ]);
        assert!(schema.validate(&good).is_empty());
    }

    #[test]
    fn unknown_values_are_not_judged() {
        let config = Value::object([
            (
                "phones",
                Value::List(vec![Value::object([
                    ("phone_id", Value::Unknown),
                    (
                        "properties",
                        Value::Map(
                            [("sys.prop.writeimsi".to_string(), Value::Unknown)]
                                .into_iter()
                                .collect(),
                        ),
                    ),
                    ("bucket_name", Value::Unknown),
                    ("object_path", Value::Unknown),
                ])]),
            ),
            ("phone_ids", Value::Null),
            ("image_id", Value::Null),
        ]);
        assert!(schema().validate(&config).is_empty());
    }

    #[test]
    fn phone_ids_are_checked_each_at_its_index_and_conflict_with_phones() {
        let config = Value::object([
            ("phones", Value::Unknown),
            (
                "phone_ids",
                Value::List(vec![Value::from(A), Value::from("bad id!")]),
            ),
            ("image_id", Value::Null),
        ]);
        let diags = schema().validate(&config);
        assert_eq!(paths(&diags), vec!["phone_ids", "phone_ids[1]"]);
        assert_eq!(
            diags.iter().next().unwrap().summary,
            "Conflicting Attributes"
        );
    }
}
