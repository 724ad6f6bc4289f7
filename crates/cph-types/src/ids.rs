//! Validated identifiers and names: phone, project, image, job and request ids, OBS bucket names
//! and object paths. Each is a newtype with a private field that can only hold a valid value; its
//! rule is one [`TextRule`] that feeds both the validator and the JSON Schema.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::text::{CharClass, Charset, TextRule};

/// ASCII letters, digits, `-` and `_`: every character any known CPH id scheme uses, and none that
/// would need escaping in a URL path segment or query value (`/`, `?`, `%`, `,`, whitespace).
const ID_CHARSET: Charset = Charset::new(&[
    CharClass::AsciiLetters,
    CharClass::AsciiDigits,
    CharClass::Literal("-_"),
]);

/// The form of every id the real service issues: 32 lower-case hex characters.
const SERVICE_ID: TextRule = TextRule::new(32, 32, Some(Charset::new(&[CharClass::LowerHex])));

macro_rules! validated_string {
    (
        $(#[$meta:meta])*
        $name:ident, $what:literal, $rule:expr
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The rule every value of this type satisfies.
            const RULE: TextRule = $rule;

            /// What a value of this type is, as error messages name it.
            pub const WHAT: &'static str = $what;

            /// Validates `value` and wraps it.
            pub fn new(value: impl Into<String>) -> Result<Self, Error> {
                let value = value.into();
                if Self::RULE.check(&value) {
                    Ok($name(value))
                } else {
                    Err(Error::InvalidValue {
                        what: $what,
                        value,
                        rule: Self::RULE.describe(),
                    })
                }
            }

            /// Whether `value` would be accepted by [`Self::new`].
            pub fn is_valid(value: &str) -> bool {
                Self::RULE.check(value)
            }

            /// The rule in words, e.g. "1 to 32 characters of letters, digits and `-_`".
            pub fn rule_description() -> String {
                Self::RULE.describe()
            }

            /// The anchored pattern of the rule (ECMA-262 and Rust `regex` compatible), or `None`
            /// when only the length is constrained. A value is valid when it matches and its length
            /// in characters is in [`Self::length_range`] (the schema's `minLength` and
            /// `maxLength`): for a path rule the pattern leaves the length to them.
            pub fn pattern() -> Option<String> {
                Self::RULE.pattern()
            }

            /// The lengths, in characters, a valid value may have.
            pub fn length_range() -> std::ops::RangeInclusive<usize> {
                Self::RULE.min..=Self::RULE.max
            }

            /// The validated value.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The validated value, owned.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = Error;
            fn try_from(value: String) -> Result<Self, Error> {
                $name::new(value)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = Error;
            fn try_from(value: &str) -> Result<Self, Error> {
                $name::new(value)
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(value: &str) -> Result<Self, Error> {
                $name::new(value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }

            fn schema_id() -> Cow<'static, str> {
                concat!("cph_types::", stringify!($name)).into()
            }

            fn json_schema(_generator: &mut SchemaGenerator) -> Schema {
                let mut keywords = Self::RULE.schema_keywords();
                keywords.insert(
                    "description".to_owned(),
                    format!("The {}: {}.", $what, Self::RULE.describe()).into(),
                );
                Schema::from(keywords)
            }
        }
    };
}

validated_string!(
    /// A cloud phone id: 1 to 32 characters of ASCII letters, digits, `-` and `_`.
    ///
    /// The service documents only "at most 32 bytes"; real ids are 32 lower-case hex characters
    /// (see [`PhoneId::is_service_issued`]). The charset is wider than hex so readable test ids
    /// work, yet excludes every character that would need escaping in a URL path or a
    /// comma-separated query, so an id can be placed in a request unchanged.
    PhoneId, "phone id", TextRule::new(1, 32, Some(ID_CHARSET))
);

impl PhoneId {
    /// Whether the id has the form every id the real service issues: 32 lower-case hex
    /// characters. The simulator answers `CPS.0004` (invalid) for other ids and `CPS.0005`
    /// (not found) for well-formed unknown ones.
    pub fn is_service_issued(&self) -> bool {
        SERVICE_ID.check(&self.0)
    }
}

validated_string!(
    /// A project id: 1 to 64 ASCII letters and digits.
    ///
    /// Real project ids are 32 lower-case hex characters; the documentation gives no rule, so any
    /// alphanumeric id a private cloud or the simulator might use is accepted. The charset keeps
    /// the id safe to place in a URL path and a header unchanged.
    ProjectId, "project id", TextRule::new(
        1,
        64,
        Some(Charset::new(&[CharClass::AsciiLetters, CharClass::AsciiDigits]))
    )
);

validated_string!(
    /// An image id: 1 to 64 characters of ASCII letters, digits, `-` and `_`.
    ///
    /// Real image ids are 32 lower-case hex characters; no rule is documented, so the id charset
    /// of [`PhoneId`] is accepted with a more generous length.
    ImageId, "image id", TextRule::new(1, 64, Some(ID_CHARSET))
);

validated_string!(
    /// A job id: 1 to 64 characters of ASCII letters, digits, `-` and `_` (real ones are 32
    /// lower-case hex characters). Safe to place in the `jobs/{job_id}` path.
    JobId, "job id", TextRule::new(1, 64, Some(ID_CHARSET))
);

validated_string!(
    /// A request id: 1 to 64 characters of ASCII letters, digits, `-` and `_` (real ones are 32
    /// lower-case hex characters). Safe to join with `,` in ListJobs' `request_ids`.
    RequestId, "request id", TextRule::new(1, 64, Some(ID_CHARSET))
);

validated_string!(
    /// An OBS bucket name: 3 to 63 characters of `a-z`, `0-9`, `-` and `.`, the rule the restore
    /// API documents.
    BucketName, "bucket name", TextRule::new(
        3,
        63,
        Some(Charset::new(&[
            CharClass::AsciiLowerLetters,
            CharClass::AsciiDigits,
            CharClass::Literal("-."),
        ]))
    )
);

/// The rule of an OBS object path, written by an export and read by a restore: 1 to 1024
/// characters of `A-Za-z0-9./-_+#=` (the rule the export API documents) with no `..` segment.
const OBJECT_PATH: TextRule = TextRule::new(
    1,
    1024,
    Some(Charset::new(&[
        CharClass::AsciiLetters,
        CharClass::AsciiDigits,
        CharClass::Literal("./-_+#="),
    ])),
)
.no_parent_segments();

validated_string!(
    /// The OBS object path a restore reads: 1 to 1024 characters of `A-Za-z0-9./-_+#=` with no
    /// `..` segment.
    ///
    /// The restore API documents only the length, but a restore reads what an export wrote, and an
    /// export writes only [`ExportObjectPath`]s: the same rule here refuses, before anything is
    /// sent, a path no backup can have (a NUL, a newline, a space, `../`).
    ObjectPath, "object path", OBJECT_PATH
);

validated_string!(
    /// The OBS object path an export writes: 1 to 1024 characters of `A-Za-z0-9./-_+#=`, the rule
    /// the export API documents, with no `..` segment. Every one can be restored ([`ObjectPath`]
    /// has the same rule).
    ExportObjectPath, "export object path", OBJECT_PATH
);

impl From<ExportObjectPath> for ObjectPath {
    fn from(path: ExportObjectPath) -> ObjectPath {
        ObjectPath(path.0)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn phone_id_accepts_up_to_32_id_characters() {
        assert!(PhoneId::new("a".repeat(32)).is_ok());
        assert!(PhoneId::new("Phone_01-x").is_ok());
        assert!(PhoneId::new("a".repeat(33)).is_err());
        assert!(PhoneId::new("").is_err());
        assert!(PhoneId::new("a/b").is_err());
        assert!(PhoneId::new("a b").is_err());
    }

    #[test]
    fn phone_id_error_names_the_value_and_rule() {
        let err = PhoneId::new("bad id").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid phone id \"bad id\": must be 1 to 32 characters of letters, digits and `-_`"
        );
    }

    #[test]
    fn only_32_lower_hex_phone_ids_are_service_issued() {
        let real = PhoneId::new("0123456789abcdef0123456789abcdef").unwrap();
        assert!(real.is_service_issued());
        for fake in [
            "0123456789ABCDEF0123456789ABCDEF",
            "0123456789abcdef0123456789abcde",
            "phone-1",
        ] {
            assert!(!PhoneId::new(fake).unwrap().is_service_issued(), "{fake}");
        }
    }

    #[test]
    fn bucket_names_follow_the_restore_rule() {
        assert!(BucketName::new("my-bucket.01").is_ok());
        assert!(BucketName::new("ab").is_err());
        assert!(BucketName::new("a".repeat(64)).is_err());
        assert!(BucketName::new("a".repeat(63)).is_ok());
        assert!(BucketName::new("My-Bucket").is_err());
        assert!(BucketName::new("my_bucket").is_err());
    }

    #[test]
    fn object_paths_follow_the_export_rule_up_to_1024_characters() {
        assert!(ObjectPath::new("a".repeat(1024)).is_ok());
        assert!(ObjectPath::new("a".repeat(1025)).is_err());
        assert!(ObjectPath::new("").is_err());
        assert!(ObjectPath::new("backups/2026-11-20/phone_1.tar").is_ok());
        assert!(ObjectPath::new("中.tar").is_err());
    }

    #[test]
    fn restore_paths_refuse_what_no_backup_can_have() {
        for bad in [
            "a\0b",
            "a\nb",
            "../x.tar",
            "a/../b",
            "a/..",
            "..",
            "backups/phone 1.tar",
        ] {
            assert!(!ObjectPath::is_valid(bad), "{bad:?}");
            assert!(!ExportObjectPath::is_valid(bad), "{bad:?}");
        }
        for good in ["...", "a..b", "./a", "a/.b/..c", "/a", "a//b", "x.tar"] {
            assert!(ObjectPath::is_valid(good), "{good:?}");
            assert!(ExportObjectPath::is_valid(good), "{good:?}");
        }
        let err = ObjectPath::new("../\n").unwrap_err().to_string();
        assert!(err.contains("with no `..` path segment"), "{err}");
    }

    #[test]
    fn object_path_pattern_agrees_with_the_validator() {
        let regex = regex::Regex::new(&ObjectPath::pattern().unwrap()).unwrap();
        let pieces = ["a", ".", "..", "/", " ", "\n", "+"];
        for s in crate::text::samples_of(&pieces, 5) {
            let in_length = !s.is_empty();
            assert_eq!(
                ObjectPath::is_valid(&s),
                in_length && regex.is_match(&s),
                "{s:?}"
            );
        }
    }

    #[test]
    fn project_id_rejects_separators() {
        assert!(ProjectId::new("0123456789abcdef0123456789abcdef").is_ok());
        assert!(ProjectId::new("a-b").is_err());
        assert!(ProjectId::new("a".repeat(65)).is_err());
    }

    #[test]
    fn serde_round_trips_and_rejects_invalid_values() {
        let id: PhoneId = serde_json::from_str("\"abc\"").unwrap();
        assert_eq!(id.as_str(), "abc");
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"abc\"");
        let err = serde_json::from_str::<PhoneId>("\"a/b\"").unwrap_err();
        assert!(err.to_string().contains("invalid phone id \"a/b\""));
    }

    #[test]
    fn conversions_agree() {
        let a: BucketName = "abc".parse().unwrap();
        let b = BucketName::try_from("abc".to_owned()).unwrap();
        let c = BucketName::try_from("abc").unwrap();
        assert_eq!(a, b);
        assert_eq!(b, c);
        assert_eq!(a.to_string(), "abc");
        assert_eq!(String::from(a), "abc");
    }

    #[test]
    fn schema_carries_the_same_constraints() {
        let schema = schemars::schema_for!(BucketName);
        assert_eq!(schema.get("minLength"), Some(&serde_json::json!(3)));
        assert_eq!(schema.get("maxLength"), Some(&serde_json::json!(63)));
        assert_eq!(
            schema.get("pattern").and_then(|p| p.as_str()),
            BucketName::pattern().as_deref()
        );
    }
}
