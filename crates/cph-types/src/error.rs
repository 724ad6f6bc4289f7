//! The crate's one error type, what went wrong building or reading a CPH value, and [`shown`],
//! the one way a message quotes an offending value.

use std::borrow::Cow;

/// How many characters of a value [`shown`] prints before cutting it.
pub const SHOWN_CHARS_MAX: usize = 64;

/// A value as a message quotes it: in double quotes, every character outside printable ASCII
/// escaped (`\u{430}`, so a Cyrillic `а` never passes for a Latin `a`; `"` and `\` as `\"` and
/// `\\`, newline as `\n`), and cut after [`SHOWN_CHARS_MAX`] characters with the length said
/// (`"aaa…"... (100000 characters)`), so that a huge value is never echoed whole.
///
/// Behaves exactly as `tfplugin::shown`, which quotes values in Terraform diagnostics: cph-types
/// cannot depend on tfplugin, so the rule is written in both; the provider's test
/// `values_are_quoted_alike_in_api_errors_and_in_diagnostics` keeps the two identical.
///
/// ```
/// assert_eq!(cph_types::shown("ab\"c"), r#""ab\"c""#);
/// assert_eq!(cph_types::shown("\u{430}b"), r#""\u{430}b""#);
/// assert!(cph_types::shown(&"x".repeat(100)).ends_with("\"... (100 characters)"));
/// ```
pub fn shown(text: &str) -> String {
    let total = text.chars().count();
    let mut out = String::with_capacity(text.len().min(SHOWN_CHARS_MAX * 2) + 2);
    out.push('"');
    for c in text.chars().take(SHOWN_CHARS_MAX) {
        match c {
            ' '..='~' if c != '"' && c != '\\' => out.push(c),
            _ => out.extend(c.escape_default()),
        }
    }
    out.push('"');
    if total > SHOWN_CHARS_MAX {
        out.push_str(&format!("... ({total} characters)"));
    }
    out
}

/// A name (a property key, a phone id) where messages print it bare: as it is when [`shown`]
/// would only add the quotes (printable ASCII without `"` or `\`, at most [`SHOWN_CHARS_MAX`]
/// characters), otherwise [`shown`], escaped and cut.
pub(crate) fn shown_name(name: &str) -> Cow<'_, str> {
    let quoted = shown(name);
    if quoted.len() == name.len() + 2 && !name.is_empty() {
        Cow::Borrowed(name)
    } else {
        Cow::Owned(quoted)
    }
}

/// Everything that can go wrong constructing or parsing a CPH value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A constrained string (an id, a bucket name, an object path, ...) broke its rule.
    #[error("invalid {what} {}: must be {rule}", shown(value))]
    InvalidValue {
        /// What the value was meant to be, e.g. "phone id".
        what: &'static str,
        /// The rejected value.
        value: String,
        /// The rule it broke, in words.
        rule: String,
    },
    /// A `property` string is not a JSON object.
    #[error("invalid property string {}: {reason}", shown(value))]
    InvalidPropertyString {
        /// The rejected string.
        value: String,
        /// Why it was rejected.
        reason: String,
    },
    /// `property` plus `custom_property` of one phone exceed the service's byte limit.
    #[error(
        "properties of phone {} take {bytes} bytes, over the limit of {limit}",
        shown_name(phone_id)
    )]
    PropertiesTooLarge {
        /// The phone the properties are for.
        phone_id: String,
        /// The size of `property` plus `custom_property`, in bytes.
        bytes: usize,
        /// The limit, [`crate::PROPERTY_BYTES_MAX`].
        limit: usize,
    },
    /// A query parameter of a list call (ListJobs, ListCloudPhones) is invalid: `source` says how.
    #[error("query parameter {key}: {source}")]
    QueryParameter {
        /// The parameter's key on the wire, e.g. `limit` or `request_ids`.
        key: &'static str,
        /// What is wrong with its value.
        source: Box<Error>,
    },
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn long_values_are_cut_on_character_boundaries_with_their_length() {
        let value = "中".repeat(200);
        let err = Error::InvalidValue {
            what: "object path",
            value: value.clone(),
            rule: "short".to_owned(),
        };
        let text = err.to_string();
        assert!(
            text.starts_with("invalid object path \"\\u{4e2d}\\u{4e2d}"),
            "{text}"
        );
        assert!(
            text.ends_with("\"... (200 characters): must be short"),
            "{text}"
        );
        assert_eq!(text.matches("\\u{4e2d}").count(), SHOWN_CHARS_MAX);
    }

    #[test]
    fn a_100000_character_property_value_is_not_echoed_whole() {
        let err = Error::InvalidPropertyString {
            value: "x".repeat(100_000),
            reason: "expected a JSON object, found a string".to_owned(),
        };
        let text = err.to_string();
        assert!(text.len() < 200, "{}", text.len());
        assert!(text.contains("... (100000 characters)"), "{text}");
    }

    #[test]
    fn a_cyrillic_letter_in_an_id_is_escaped() {
        // U+0430 CYRILLIC SMALL LETTER A looks like a Latin `a`.
        let err = crate::PhoneId::new("phone-\u{430}1").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid phone id \"phone-\\u{430}1\": must be 1 to 32 characters of letters, digits and `-_`"
        );
    }

    #[test]
    fn short_values_are_quoted_whole_and_escaped() {
        let err = Error::InvalidValue {
            what: "phone id",
            value: "a b\"\\\n".to_owned(),
            rule: "r".to_owned(),
        };
        assert_eq!(
            err.to_string(),
            r#"invalid phone id "a b\"\\\n": must be r"#
        );
        assert_eq!(shown(""), "\"\"");
        assert_eq!(
            shown(&"y".repeat(SHOWN_CHARS_MAX)),
            format!("\"{}\"", "y".repeat(64))
        );
    }

    #[test]
    fn plain_names_stay_bare_and_others_are_shown() {
        assert_eq!(shown_name("sys.prop.writeimsi"), "sys.prop.writeimsi");
        assert_eq!(shown_name("k\u{430}y"), "\"k\\u{430}y\"");
        assert_eq!(shown_name("a b"), "a b");
        assert_eq!(shown_name("a\"b"), "\"a\\\"b\"");
        assert_eq!(shown_name(""), "\"\"");
        assert!(shown_name(&"k".repeat(100)).ends_with("... (100 characters)"));
    }
}
