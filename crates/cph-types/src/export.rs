//! What an export (batch-storage) may select: [`ExportPath`], one file or directory, and
//! [`check_export_selection`], the rules a whole selection follows (the `/data/misc` rule). The
//! provider's validation and the simulator's checks both use these.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};

use crate::error::{Error, shown};
use crate::text::{CharClass, Charset};

/// The characters an export path may contain.
const EXPORT_PATH_CHARSET: Charset = Charset::new(&[
    CharClass::AsciiLetters,
    CharClass::AsciiDigits,
    CharClass::Literal("./-_+#*~="),
]);

/// The directories an export may read below.
const EXPORT_ROOTS: [&str; 2] = ["/data", "/cache"];

/// The longest export path, in bytes (every allowed character is one byte).
pub const EXPORT_PATH_MAX: usize = 4096;

/// A file or directory an export includes or excludes: an absolute path under `/data` (or the
/// cache, `/cache`) of at most 4096 characters of `A-Za-z0-9./-_+#*~=`, with `*` only as its last
/// character and only after a `/`: `/data/media`, `/data/app/*`, `/data/app/com.example*`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ExportPath(String);

impl ExportPath {
    /// What a value of this type is, as error messages name it.
    pub const WHAT: &'static str = "export path";

    /// Validates `value` and wraps it.
    pub fn new(value: impl Into<String>) -> Result<Self, Error> {
        let value = value.into();
        if Self::is_valid(&value) {
            Ok(ExportPath(value))
        } else {
            Err(Error::InvalidValue {
                what: Self::WHAT,
                value,
                rule: Self::rule_description(),
            })
        }
    }

    /// Whether `value` would be accepted by [`ExportPath::new`].
    pub fn is_valid(value: &str) -> bool {
        if value.len() > EXPORT_PATH_MAX || !value.chars().all(|c| EXPORT_PATH_CHARSET.contains(c))
        {
            return false;
        }
        let Some(rest) = EXPORT_ROOTS
            .iter()
            .find_map(|root| value.strip_prefix(root))
        else {
            return false;
        };
        if rest.is_empty() {
            return true;
        }
        let Some(below) = rest.strip_prefix('/') else {
            return false;
        };
        match below.find('*') {
            None => true,
            Some(at) => at + 1 == below.len(),
        }
    }

    /// The rule in words.
    pub fn rule_description() -> String {
        format!(
            "an absolute path under {} of at most {EXPORT_PATH_MAX} characters of {}, with `*` only at the end \
             (after a `/`)",
            EXPORT_ROOTS.map(|r| format!("`{r}`")).join(" or "),
            EXPORT_PATH_CHARSET.describe()
        )
    }

    /// The anchored pattern of the rule (ECMA-262 and Rust `regex` compatible); the length is
    /// the schema's `maxLength`.
    pub fn pattern() -> String {
        let no_star = Charset::new(&[
            CharClass::AsciiLetters,
            CharClass::AsciiDigits,
            CharClass::Literal("./-_+#~="),
        ]);
        format!(
            "^/(?:{})(?:/{}*\\*?)?$",
            EXPORT_ROOTS.map(|r| r.trim_start_matches('/')).join("|"),
            no_star.regex_class()
        )
    }

    /// The validated value.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ExportPath {
    type Error = Error;
    fn try_from(value: String) -> Result<Self, Error> {
        ExportPath::new(value)
    }
}

impl TryFrom<&str> for ExportPath {
    type Error = Error;
    fn try_from(value: &str) -> Result<Self, Error> {
        ExportPath::new(value)
    }
}

impl From<ExportPath> for String {
    fn from(value: ExportPath) -> String {
        value.0
    }
}

impl AsRef<str> for ExportPath {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ExportPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl JsonSchema for ExportPath {
    fn schema_name() -> Cow<'static, str> {
        "ExportPath".into()
    }

    fn schema_id() -> Cow<'static, str> {
        "cph_types::ExportPath".into()
    }

    fn json_schema(_generator: &mut SchemaGenerator) -> Schema {
        schemars::json_schema!({
            "type": "string",
            "minLength": 1,
            "maxLength": EXPORT_PATH_MAX,
            "pattern": ExportPath::pattern(),
            "description": format!(
                "A file or directory to export: {}. `/data/misc` must be named exactly, and naming it in \
                 `include_files` requires `/data/system` and `/data/system_de` too.",
                ExportPath::rule_description()
            ),
        })
    }
}

/// One way an export's selection breaks the rules beyond each path's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectionIssue {
    /// `include_files` or `exclude_files`.
    pub list: &'static str,
    /// The offending path's index in its list; `None` when a path is missing.
    pub index: Option<usize>,
    /// What is wrong.
    pub message: String,
}

const MISC: &str = "/data/misc";
const MISC_COMPANIONS: [&str; 2] = ["/data/system", "/data/system_de"];

/// Checks the rules of a whole export selection: `/data/misc` is named exactly (no path below it,
/// no wildcard on it, in either list), and naming it in `include_files` requires naming
/// `/data/system` and `/data/system_de` there as well. Paths that break their own rule are left to
/// [`ExportPath`]. Returns every problem.
pub fn check_export_selection<S: AsRef<str>>(include: &[S], exclude: &[S]) -> Vec<SelectionIssue> {
    let mut issues = Vec::new();
    for (list, paths) in [("include_files", include), ("exclude_files", exclude)] {
        for (index, path) in paths.iter().enumerate() {
            let path = path.as_ref();
            if path != MISC
                && path.starts_with(MISC)
                && matches!(path.as_bytes().get(MISC.len()), Some(b'/' | b'*'))
            {
                issues.push(SelectionIssue {
                    list,
                    index: Some(index),
                    message: format!(
                        "{} reaches into `{MISC}`, which can only be named exactly (no path below it, no \
                         wildcard)",
                        shown(path)
                    ),
                });
            }
        }
    }
    let includes = |wanted: &str| include.iter().any(|p| p.as_ref() == wanted);
    if includes(MISC) {
        let missing: Vec<&str> = MISC_COMPANIONS
            .into_iter()
            .filter(|companion| !includes(companion))
            .collect();
        if !missing.is_empty() {
            issues.push(SelectionIssue {
                list: "include_files",
                index: None,
                message: format!(
                    "including `{MISC}` requires including {} as well",
                    missing
                        .iter()
                        .map(|m| format!("`{m}`"))
                        .collect::<Vec<_>>()
                        .join(" and ")
                ),
            });
        }
    }
    issues
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn export_paths_are_absolute_under_data_or_cache_with_a_trailing_wildcard_at_most() {
        for good in [
            "/data",
            "/data/",
            "/data/media",
            "/data/app/*",
            "/data/app/com.x*",
            "/cache/a+b#c~d=e",
            "/data/a-b_c.d",
        ] {
            assert!(ExportPath::is_valid(good), "{good}");
        }
        for bad in [
            "",
            "data/media",
            "/sdcard/x",
            "/data*",
            "/database",
            "/data/a*b",
            "/data/*/x",
            "/data/a b",
            "/data/中",
            "/data/x?",
        ] {
            assert!(!ExportPath::is_valid(bad), "{bad}");
        }
        assert!(ExportPath::is_valid(&format!(
            "/data/{}",
            "a".repeat(EXPORT_PATH_MAX - 6)
        )));
        assert!(!ExportPath::is_valid(&format!(
            "/data/{}",
            "a".repeat(EXPORT_PATH_MAX - 5)
        )));
        let err = ExportPath::new("/sdcard").unwrap_err().to_string();
        assert!(
            err.contains("\"/sdcard\"") && err.contains("under `/data` or `/cache`"),
            "{err}"
        );
    }

    #[test]
    fn the_pattern_agrees_with_the_validator() {
        let regex = regex::Regex::new(&ExportPath::pattern()).unwrap();
        let pieces = [
            "/data", "/cache", "/", "a", "*", ".", "-", "misc", " ", "x?", "/sdcard", "中",
        ];
        for s in crate::text::samples_of(&pieces, 4) {
            assert_eq!(ExportPath::is_valid(&s), regex.is_match(&s), "{s:?}");
        }
    }

    #[test]
    fn data_misc_is_named_exactly_and_brings_system_and_system_de() {
        let ok = [
            "/data/misc",
            "/data/system",
            "/data/system_de",
            "/data/miscellaneous",
        ];
        assert!(check_export_selection(&ok, &[]).is_empty());
        let issues = check_export_selection(&["/data/misc/wifi", "/data/misc"], &["/data/misc*"]);
        let found: Vec<(&str, Option<usize>)> = issues.iter().map(|i| (i.list, i.index)).collect();
        assert_eq!(
            found,
            [
                ("include_files", Some(0)),
                ("exclude_files", Some(0)),
                ("include_files", None)
            ]
        );
        assert!(
            issues[2]
                .message
                .contains("`/data/system` and `/data/system_de`"),
            "{}",
            issues[2].message
        );
        let partly = check_export_selection(&["/data/misc", "/data/system"], &[]);
        assert_eq!(partly.len(), 1);
        assert!(
            partly[0].message.contains("`/data/system_de`")
                && !partly[0].message.contains("`/data/system` ")
        );
    }
}
