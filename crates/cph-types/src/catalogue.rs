//! The phone property catalogue: every known key with its meaning and value rule, and the
//! validation that checks a whole [`PropertyMap`] at once (bad values are errors, unknown or
//! deprecated keys are warnings). The rules also render the property map's JSON Schema.

use std::fmt;

use schemars::Schema;
use serde_json::{Map, Value, json};

use crate::error::{shown, shown_name};
use crate::property::{PROPERTY_BYTES_MAX, PropertyMap};
use crate::text::{CharClass, Charset, TextRule};

/// The largest `com.cph.bandwidth_limit` value, in kbit/s.
const BANDWIDTH_MAX: u64 = 99_999_999;

/// The rule a property value must follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PropertyRule {
    /// Exactly `0` or `1`.
    Flag01,
    /// `-1` (unlimited) or an integer in 1..=99999999, without sign or leading zeros.
    BandwidthLimit,
    /// At most `max` ASCII decimal digits (the empty string included).
    Digits {
        /// The most digits allowed.
        max: usize,
    },
    /// `min..=max` characters (Unicode scalar values), each from `charset`.
    Chars {
        /// The fewest characters allowed.
        min: usize,
        /// The most characters allowed.
        max: usize,
        /// The allowed characters.
        charset: Charset,
    },
}

const DIGITS: Charset = Charset::new(&[CharClass::AsciiDigits]);

impl PropertyRule {
    fn text_rule(self) -> Option<TextRule> {
        match self {
            PropertyRule::Digits { max } => Some(TextRule::new(0, max, Some(DIGITS))),
            PropertyRule::Chars { min, max, charset } => {
                Some(TextRule::new(min, max, Some(charset)))
            }
            PropertyRule::Flag01 | PropertyRule::BandwidthLimit => None,
        }
    }

    /// Whether `value` follows the rule.
    pub fn check(self, value: &str) -> bool {
        match self {
            PropertyRule::Flag01 => value == "0" || value == "1",
            PropertyRule::BandwidthLimit => {
                value == "-1"
                    || (!value.starts_with('0')
                        && value.len() <= 8
                        && value.bytes().all(|b| b.is_ascii_digit())
                        && value
                            .parse::<u64>()
                            .is_ok_and(|n| (1..=BANDWIDTH_MAX).contains(&n)))
            }
            PropertyRule::Digits { .. } | PropertyRule::Chars { .. } => {
                self.text_rule().is_some_and(|rule| rule.check(value))
            }
        }
    }

    /// The rule in words, e.g. "`0` or `1`".
    pub fn describe(self) -> String {
        match self {
            PropertyRule::Flag01 => "`0` or `1`".to_owned(),
            PropertyRule::BandwidthLimit => {
                format!("`-1` (unlimited) or an integer from 1 to {BANDWIDTH_MAX}")
            }
            PropertyRule::Digits { max } => format!("at most {max} decimal digits"),
            PropertyRule::Chars { .. } => self
                .text_rule()
                .map(|rule| rule.describe())
                .unwrap_or_default(),
        }
    }

    /// An anchored ECMA-262-compatible regex (also valid for Rust's `regex`) that accepts exactly
    /// the values [`PropertyRule::check`] accepts.
    pub fn json_schema_pattern(self) -> String {
        match self {
            PropertyRule::Flag01 => "^[01]$".to_owned(),
            PropertyRule::BandwidthLimit => "^(-1|[1-9][0-9]{0,7})$".to_owned(),
            PropertyRule::Digits { .. } | PropertyRule::Chars { .. } => self
                .text_rule()
                .and_then(|rule| rule.pattern())
                .unwrap_or_default(),
        }
    }
}

impl fmt::Display for PropertyRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// When a new value of a property takes effect on a phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Applies {
    /// Only after the phone restarts.
    AfterRestart,
    /// Immediately on a running phone.
    Immediately,
    /// Not documented.
    Unspecified,
}

/// One known property key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatalogueEntry {
    /// The key, e.g. `com.cph.mainkeys`.
    pub key: &'static str,
    /// What it controls.
    pub meaning: &'static str,
    /// The rule its value must follow.
    pub rule: PropertyRule,
    /// When a new value takes effect.
    pub applies: Applies,
    /// The service's default, when documented.
    pub default: Option<&'static str>,
}

impl CatalogueEntry {
    /// A value the entry's rule accepts, for documentation.
    pub fn example(&self) -> &'static str {
        match self.key {
            "com.cph.bandwidth_limit" => "10240",
            "com.cph.cam_local_pic_path" => "/sdcard/DCIM/camera.jpg",
            "persist.sys.locale" => "en-US",
            "sys.prop.writeimsi" => "460001234567890",
            "sys.prop.writephonenum" => "13800000001",
            "sys.prop.writewifissid" => "lab-wifi",
            "gsm.sim.operator.alpha" => "CMCC",
            "gsm.operator.iso-country" | "gsm.sim.operator.iso-country" => "cn",
            "gsm.operator.numeric" => "46000",
            _ => "1",
        }
    }
}

/// The catalogue as a Markdown table (key, meaning, value rule, when a new value takes effect, the
/// service's default, an example): what the `cph_phone_property` page shows, generated from this
/// one catalogue.
pub fn catalogue_markdown() -> String {
    let mut out = String::from(
        "| key | meaning | value | takes effect | default | example |\n|---|---|---|---|---|---|\n",
    );
    for entry in catalogue() {
        let applies = match entry.applies {
            Applies::AfterRestart => "after a restart",
            Applies::Immediately => "immediately",
            Applies::Unspecified => "not documented",
        };
        let rule = entry.rule.describe().replace('|', "\\|");
        out.push_str(&format!(
            "| `{}` | {} | {rule} | {applies} | {} | `{}` |\n",
            entry.key,
            entry.meaning,
            entry.default.map_or("".to_owned(), |d| format!("`{d}`")),
            entry.example()
        ));
    }
    for (old, new) in DEPRECATED_KEYS {
        out.push_str(&format!(
            "| `{old}` | deprecated alias of `{new}` | as `{new}` | | | |\n"
        ));
    }
    out
}

/// Keys that still work but have a newer name: `(deprecated, replacement)`.
pub const DEPRECATED_KEYS: &[(&str, &str)] = &[("qemu.hw.mainkeys", "com.cph.mainkeys")];

const PATH_CHARS: Charset = Charset::new(&[
    CharClass::AsciiLetters,
    CharClass::AsciiDigits,
    CharClass::Cjk,
    CharClass::Literal("-_@#.:/"),
    CharClass::Space,
]);
const SSID_CHARS: Charset = Charset::new(&[
    CharClass::AsciiLetters,
    CharClass::AsciiDigits,
    CharClass::Literal("-_@#.:/"),
    CharClass::Space,
]);
const OPERATOR_NAME_CHARS: Charset = Charset::new(&[
    CharClass::AsciiLetters,
    CharClass::AsciiDigits,
    CharClass::Cjk,
    CharClass::Literal("-_@#.,:/\\()"),
    CharClass::Space,
]);
const LOCALE_CHARS: Charset = Charset::new(&[
    CharClass::AsciiLetters,
    CharClass::AsciiDigits,
    CharClass::Literal("-"),
]);
const COUNTRY_CHARS: Charset = Charset::new(&[CharClass::AsciiLetters, CharClass::Literal(",")]);
const OPERATOR_CODE_CHARS: Charset = Charset::new(&[
    CharClass::AsciiLetters,
    CharClass::AsciiDigits,
    CharClass::Literal(","),
]);

const fn flag(
    key: &'static str,
    meaning: &'static str,
    applies: Applies,
    default: Option<&'static str>,
) -> CatalogueEntry {
    CatalogueEntry {
        key,
        meaning,
        rule: PropertyRule::Flag01,
        applies,
        default,
    }
}

const fn entry(
    key: &'static str,
    meaning: &'static str,
    rule: PropertyRule,
    default: Option<&'static str>,
) -> CatalogueEntry {
    CatalogueEntry {
        key,
        meaning,
        rule,
        applies: Applies::Unspecified,
        default,
    }
}

static CATALOGUE: [CatalogueEntry; 18] = [
    flag(
        "com.cph.mainkeys",
        "hide the virtual navigation keys",
        Applies::AfterRestart,
        None,
    ),
    flag(
        "disable.status.bar",
        "disable the status bar",
        Applies::Unspecified,
        None,
    ),
    flag(
        "ro.permission.changed",
        "grant app permissions automatically",
        Applies::Immediately,
        None,
    ),
    flag(
        "ro.install.auto",
        "confirm app installs automatically",
        Applies::Immediately,
        None,
    ),
    flag(
        "ro.com.cph.non_root",
        "run the phone without root",
        Applies::Unspecified,
        Some("1"),
    ),
    flag(
        "ro.com.cph.notification_disable",
        "disable notifications",
        Applies::Unspecified,
        None,
    ),
    flag(
        "com.cph.disable_fb_permission",
        "allow screenshots of protected screens",
        Applies::Unspecified,
        None,
    ),
    flag(
        "ro.com.cph.toast_enable",
        "show toasts when not root",
        Applies::Unspecified,
        None,
    ),
    entry(
        "com.cph.bandwidth_limit",
        "public download bandwidth cap in kbit/s",
        PropertyRule::BandwidthLimit,
        None,
    ),
    entry(
        "com.cph.cam_local_pic_path",
        "path of the picture the camera shows",
        PropertyRule::Chars {
            min: 1,
            max: 90,
            charset: PATH_CHARS,
        },
        None,
    ),
    entry(
        "persist.sys.locale",
        "locale at first boot",
        PropertyRule::Chars {
            min: 1,
            max: 64,
            charset: LOCALE_CHARS,
        },
        None,
    ),
    entry(
        "sys.prop.writeimsi",
        "IMSI",
        PropertyRule::Digits { max: 15 },
        None,
    ),
    entry(
        "sys.prop.writephonenum",
        "phone number",
        PropertyRule::Digits { max: 20 },
        None,
    ),
    entry(
        "sys.prop.writewifissid",
        "Wi-Fi SSID",
        PropertyRule::Chars {
            min: 1,
            max: 64,
            charset: SSID_CHARS,
        },
        Some("cloudphone_wifi"),
    ),
    entry(
        "gsm.sim.operator.alpha",
        "SIM operator name",
        PropertyRule::Chars {
            min: 0,
            max: 90,
            charset: OPERATOR_NAME_CHARS,
        },
        Some("CMCC"),
    ),
    entry(
        "gsm.operator.iso-country",
        "network operator country",
        PropertyRule::Chars {
            min: 0,
            max: 10,
            charset: COUNTRY_CHARS,
        },
        Some("cn"),
    ),
    entry(
        "gsm.sim.operator.iso-country",
        "SIM country",
        PropertyRule::Chars {
            min: 1,
            max: 10,
            charset: COUNTRY_CHARS,
        },
        Some("cn"),
    ),
    entry(
        "gsm.operator.numeric",
        "network operator code",
        PropertyRule::Chars {
            min: 0,
            max: 10,
            charset: OPERATOR_CODE_CHARS,
        },
        Some("46000"),
    ),
];

/// Every known property key, in the order of the API reference.
pub fn catalogue() -> &'static [CatalogueEntry] {
    &CATALOGUE
}

/// The entry for `key`; a deprecated alias resolves to the entry of its replacement.
pub fn lookup(key: &str) -> Option<&'static CatalogueEntry> {
    let canonical = deprecated_replacement(key).unwrap_or(key);
    CATALOGUE.iter().find(|entry| entry.key == canonical)
}

/// The replacement of a deprecated key, e.g. `com.cph.mainkeys` for `qemu.hw.mainkeys`.
pub fn deprecated_replacement(key: &str) -> Option<&'static str> {
    DEPRECATED_KEYS
        .iter()
        .find(|(old, _)| *old == key)
        .map(|(_, new)| *new)
}

/// The known key `key` most likely misspells: the catalogue key (or deprecated alias) at most two
/// edits away (a letter added, removed, changed, or two neighbours swapped; case ignored), the
/// closest first. `None` for a known key or when nothing is that close.
pub fn suggest_key(key: &str) -> Option<&'static str> {
    if lookup(key).is_some() {
        return None;
    }
    let lower = key.to_ascii_lowercase();
    CATALOGUE
        .iter()
        .map(|entry| entry.key)
        .chain(DEPRECATED_KEYS.iter().map(|(old, _)| *old))
        .map(|known| (strsim::damerau_levenshtein(&lower, known), known))
        .filter(|(distance, _)| *distance <= 2)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, known)| known)
}

/// What is wrong with one property.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IssueKind {
    /// A known key has a value that breaks its rule (an error).
    InvalidValue {
        /// The rule, in words.
        rule: String,
    },
    /// The key is empty (an error).
    EmptyKey,
    /// The rendered `property` string is over [`PROPERTY_BYTES_MAX`] (an error).
    TooLarge {
        /// Its size in bytes.
        bytes: usize,
    },
    /// The key is not in the catalogue (a warning: newer images accept more keys).
    UnknownKey {
        /// A known key one or two edits away ([`suggest_key`]), most likely what was meant.
        suggestion: Option<&'static str>,
    },
    /// The key is a deprecated alias (a warning).
    DeprecatedKey {
        /// The key to use instead.
        replacement: &'static str,
    },
}

/// One problem with one property of one phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyIssue {
    /// The phone the property is for.
    pub phone_id: String,
    /// The property key (empty for [`IssueKind::TooLarge`], which concerns the whole map).
    pub key: String,
    /// The offending value (empty for [`IssueKind::TooLarge`]).
    pub value: String,
    /// What is wrong.
    pub kind: IssueKind,
}

impl PropertyIssue {
    /// What is wrong, without naming the phone (for messages that point at the phone otherwise,
    /// such as an attribute path).
    pub fn describe(&self) -> String {
        let key = shown_name(&self.key);
        match &self.kind {
            IssueKind::InvalidValue { rule } => format!(
                "property {key} has invalid value {}: must be {rule}",
                shown(&self.value)
            ),
            IssueKind::EmptyKey => "a property key is empty".to_owned(),
            IssueKind::TooLarge { bytes } => {
                format!("properties take {bytes} bytes, over the limit of {PROPERTY_BYTES_MAX}")
            }
            IssueKind::UnknownKey { suggestion: None } => {
                format!("property {key} is not in the known catalogue; it is sent as is")
            }
            IssueKind::UnknownKey {
                suggestion: Some(known),
            } => format!(
                "property {key} is not in the known catalogue; did you mean {known}? (an unknown key is sent as \
                 is, for images newer than the catalogue)"
            ),
            IssueKind::DeprecatedKey { replacement } => {
                format!("property {key} is deprecated; use {replacement}")
            }
        }
    }
}

impl fmt::Display for PropertyIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "phone {}: {}",
            shown_name(&self.phone_id),
            self.describe()
        )
    }
}

/// The outcome of checking a property map: errors block the request, warnings do not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PropertyReport {
    /// Problems that must be fixed before anything is sent.
    pub errors: Vec<PropertyIssue>,
    /// Problems worth telling the user about.
    pub warnings: Vec<PropertyIssue>,
}

impl PropertyReport {
    /// Whether there are no errors (warnings allowed).
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }

    /// Appends another report's issues.
    pub fn merge(&mut self, other: PropertyReport) {
        self.errors.extend(other.errors);
        self.warnings.extend(other.warnings);
    }
}

/// Checks every property of `phone_id` against the catalogue, reporting every problem at once.
pub fn validate_properties(phone_id: &str, map: &PropertyMap) -> PropertyReport {
    let mut report = PropertyReport::default();
    let issue = |key: &str, value: &str, kind| PropertyIssue {
        phone_id: phone_id.to_owned(),
        key: key.to_owned(),
        value: value.to_owned(),
        kind,
    };
    for (key, value) in map.iter() {
        if key.is_empty() {
            report.errors.push(issue(key, value, IssueKind::EmptyKey));
            continue;
        }
        if let Some(replacement) = deprecated_replacement(key) {
            report
                .warnings
                .push(issue(key, value, IssueKind::DeprecatedKey { replacement }));
        }
        match lookup(key) {
            Some(entry) if !entry.rule.check(value) => report.errors.push(issue(
                key,
                value,
                IssueKind::InvalidValue {
                    rule: entry.rule.describe(),
                },
            )),
            Some(_) => {}
            None => report.warnings.push(issue(
                key,
                value,
                IssueKind::UnknownKey {
                    suggestion: suggest_key(key),
                },
            )),
        }
    }
    let bytes = map.to_api_string().byte_len();
    if bytes > PROPERTY_BYTES_MAX {
        report
            .errors
            .push(issue("", "", IssueKind::TooLarge { bytes }));
    }
    report
}

/// JSON Schema of a [`PropertyMap`]: one pattern per catalogue key (and deprecated alias),
/// any string for other keys.
pub(crate) fn property_map_schema() -> Schema {
    let mut properties = Map::new();
    let describe = |entry: &CatalogueEntry| {
        let mut schema = Map::new();
        schema.insert("type".to_owned(), json!("string"));
        schema.insert(
            "pattern".to_owned(),
            json!(entry.rule.json_schema_pattern()),
        );
        schema.insert(
            "description".to_owned(),
            json!(format!(
                "{}; {}",
                capitalise(entry.meaning),
                entry.rule.describe()
            )),
        );
        if let Some(default) = entry.default {
            schema.insert("default".to_owned(), json!(default));
        }
        schema
    };
    for entry in catalogue() {
        properties.insert(entry.key.to_owned(), Value::Object(describe(entry)));
    }
    for (old, new) in DEPRECATED_KEYS {
        if let Some(entry) = lookup(new) {
            let mut schema = describe(entry);
            schema.insert("deprecated".to_owned(), json!(true));
            schema.remove("default");
            schema.insert(
                "description".to_owned(),
                json!(format!(
                    "Deprecated alias of {new}; {}",
                    entry.rule.describe()
                )),
            );
            properties.insert((*old).to_owned(), Value::Object(schema));
        }
    }
    let mut schema = Map::new();
    schema.insert(
        "description".to_owned(),
        json!("Phone properties by key. Values are strings; known keys must follow their rule, other keys are passed through."),
    );
    schema.insert("type".to_owned(), json!("object"));
    schema.insert("properties".to_owned(), Value::Object(properties));
    schema.insert(
        "additionalProperties".to_owned(),
        json!({ "type": "string" }),
    );
    Schema::from(schema)
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_documented_example_value_is_accepted_by_its_rule() {
        for entry in catalogue() {
            assert!(
                entry.rule.check(entry.example()),
                "{}: example {:?} breaks its own rule",
                entry.key,
                entry.example()
            );
        }
        let table = catalogue_markdown();
        assert_eq!(
            table.lines().count(),
            2 + catalogue().len() + DEPRECATED_KEYS.len()
        );
        assert!(table.contains("| `sys.prop.writeimsi` |"));
    }

    #[test]
    fn a_near_miss_key_gets_the_known_key_as_a_suggestion() {
        assert_eq!(
            suggest_key("sys.prop.writeimis"),
            Some("sys.prop.writeimsi")
        );
        assert_eq!(
            suggest_key("sys.prop.writephonenumb"),
            Some("sys.prop.writephonenum")
        );
        assert_eq!(
            suggest_key("SYS.PROP.WRITEIMSI"),
            Some("sys.prop.writeimsi")
        );
        assert_eq!(suggest_key("qemu.hw.mainkey"), Some("qemu.hw.mainkeys"));
        // Known keys and far-off keys get none.
        assert_eq!(suggest_key("sys.prop.writeimsi"), None);
        assert_eq!(suggest_key("vendor.lab.note"), None);
        let mut map = PropertyMap::new();
        map.insert("sys.prop.writeimis", "460001234567890");
        let report = validate_properties("p", &map);
        assert_eq!(
            report.warnings[0].kind,
            IssueKind::UnknownKey {
                suggestion: Some("sys.prop.writeimsi")
            }
        );
        assert!(
            report.warnings[0]
                .describe()
                .contains("did you mean sys.prop.writeimsi?")
        );
    }

    fn rule(key: &str) -> PropertyRule {
        lookup(key).unwrap().rule
    }

    #[test]
    fn catalogue_has_every_documented_key_once() {
        assert_eq!(catalogue().len(), 18);
        for entry in catalogue() {
            assert_eq!(lookup(entry.key), Some(entry));
            let same = catalogue().iter().filter(|e| e.key == entry.key).count();
            assert_eq!(same, 1, "{}", entry.key);
        }
    }

    #[test]
    fn deprecated_alias_resolves_to_its_replacement() {
        assert_eq!(lookup("qemu.hw.mainkeys").unwrap().key, "com.cph.mainkeys");
        assert_eq!(
            lookup("com.cph.mainkeys").unwrap().applies,
            Applies::AfterRestart
        );
        assert_eq!(
            lookup("ro.install.auto").unwrap().applies,
            Applies::Immediately
        );
    }

    #[test]
    fn bandwidth_limit_accepts_minus_one_and_1_to_99999999() {
        let r = rule("com.cph.bandwidth_limit");
        for ok in ["-1", "1", "99999999", "1024"] {
            assert!(r.check(ok), "{ok}");
        }
        for bad in ["0", "-2", "100000000", "01", "+1", "", " 1", "1.0", "１"] {
            assert!(!r.check(bad), "{bad}");
        }
    }

    #[test]
    fn digit_rules_allow_empty_up_to_max() {
        let r = rule("sys.prop.writeimsi");
        assert!(r.check(""));
        assert!(r.check(&"9".repeat(15)));
        assert!(!r.check(&"9".repeat(16)));
        assert!(!r.check("12a"));
        assert!(!r.check("١٢"));
    }

    #[test]
    fn cjk_is_allowed_only_where_the_catalogue_says() {
        assert!(rule("gsm.sim.operator.alpha").check("中国移动 (CMCC)"));
        assert!(rule("com.cph.cam_local_pic_path").check("/sdcard/图片/a.jpg"));
        assert!(!rule("sys.prop.writewifissid").check("中"));
        assert!(!rule("gsm.sim.operator.alpha").check("かな"));
    }

    #[test]
    fn validation_reports_every_problem_at_once() {
        let map: PropertyMap = [
            ("com.cph.mainkeys", "2"),
            ("sys.prop.writeimsi", "abc"),
            ("qemu.hw.mainkeys", "1"),
            ("vendor.new.key", "x"),
            ("ro.install.auto", "1"),
        ]
        .into_iter()
        .collect();
        let report = validate_properties("phone-1", &map);
        assert!(!report.is_ok());
        assert_eq!(report.errors.len(), 2);
        assert_eq!(report.warnings.len(), 2);
        assert_eq!(
            report.errors[0].to_string(),
            "phone phone-1: property com.cph.mainkeys has invalid value \"2\": must be `0` or `1`"
        );
        assert_eq!(report.errors[1].key, "sys.prop.writeimsi");
        assert_eq!(
            report.warnings[0].to_string(),
            "phone phone-1: property qemu.hw.mainkeys is deprecated; use com.cph.mainkeys"
        );
        assert_eq!(
            report.warnings[1].kind,
            IssueKind::UnknownKey { suggestion: None }
        );
    }

    #[test]
    fn deprecated_alias_value_is_checked_against_the_replacement_rule() {
        let map: PropertyMap = [("qemu.hw.mainkeys", "yes")].into_iter().collect();
        let report = validate_properties("p", &map);
        assert_eq!(report.errors.len(), 1);
        assert_eq!(report.warnings.len(), 1);
    }

    #[test]
    fn unknown_keys_alone_are_only_warnings() {
        let map: PropertyMap = [("x.y", "anything at all")].into_iter().collect();
        let report = validate_properties("p", &map);
        assert!(report.is_ok());
        assert_eq!(report.warnings.len(), 1);
    }

    #[test]
    fn empty_key_and_oversized_map_are_errors() {
        let mut map: PropertyMap = [("", "1")].into_iter().collect();
        map.insert("x.big", "a".repeat(PROPERTY_BYTES_MAX));
        let report = validate_properties("p", &map);
        let kinds: Vec<_> = report.errors.iter().map(|e| e.kind.clone()).collect();
        assert_eq!(kinds.len(), 2);
        assert_eq!(kinds[0], IssueKind::EmptyKey);
        assert!(matches!(kinds[1], IssueKind::TooLarge { bytes } if bytes > PROPERTY_BYTES_MAX));
    }

    #[test]
    fn describe_matches_the_api_reference_wording() {
        assert_eq!(
            rule("com.cph.cam_local_pic_path").describe(),
            "1 to 90 characters of letters, digits, CJK, `-_@#.:/` and space"
        );
        assert_eq!(
            rule("sys.prop.writephonenum").describe(),
            "at most 20 decimal digits"
        );
    }
}
