//! The crate's one error type: what went wrong building or reading a CPH value, naming the value.

/// Longest excerpt of an offending value an error message shows (the value itself is kept whole).
const EXCERPT_CHARS: usize = 80;

/// Everything that can go wrong constructing or parsing a CPH value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A constrained string (an id, a bucket name, an object path, ...) broke its rule.
    #[error("invalid {what} {}: must be {rule}", excerpt(value))]
    InvalidValue {
        /// What the value was meant to be, e.g. "phone id".
        what: &'static str,
        /// The rejected value.
        value: String,
        /// The rule it broke, in words.
        rule: String,
    },
    /// A `property` string is not a JSON object.
    #[error("invalid property string {}: {reason}", excerpt(value))]
    InvalidPropertyString {
        /// The rejected string.
        value: String,
        /// Why it was rejected.
        reason: String,
    },
    /// `property` plus `custom_property` of one phone exceed the service's byte limit.
    #[error("properties of phone {phone_id} take {bytes} bytes, over the limit of {limit}")]
    PropertiesTooLarge {
        /// The phone the properties are for.
        phone_id: String,
        /// The size of `property` plus `custom_property`, in bytes.
        bytes: usize,
        /// The limit, [`crate::PROPERTY_BYTES_MAX`].
        limit: usize,
    },
}

/// The value quoted, shortened to [`EXCERPT_CHARS`] characters (never splitting a character).
fn excerpt(value: &str) -> String {
    let mut chars = value.chars();
    let head: String = chars.by_ref().take(EXCERPT_CHARS).collect();
    if chars.next().is_some() {
        format!("{head:?}...")
    } else {
        format!("{head:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_shortened_on_character_boundaries() {
        let value = "中".repeat(200);
        let err = Error::InvalidValue {
            what: "object path",
            value: value.clone(),
            rule: "short".to_owned(),
        };
        let text = err.to_string();
        assert!(text.starts_with("invalid object path \"中中"));
        assert!(text.contains("\"...: must be short"));
        assert_eq!(text.matches('中').count(), EXCERPT_CHARS);
    }

    #[test]
    fn short_values_are_quoted_whole() {
        let err = Error::InvalidValue {
            what: "phone id",
            value: "a b".to_owned(),
            rule: "r".to_owned(),
        };
        assert_eq!(err.to_string(), "invalid phone id \"a b\": must be r");
    }
}
