//! [`Secret`]: a string that must never reach a log, an error or `Debug` output: the secret key and
//! tokens a client signs with, the session ids and tickets the service answers with.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A secret string. `Debug` and `Display` print `***`; the value is reachable only through
/// [`Secret::expose`], whose call sites are few and greppable (signing, the token header, the
/// simulator's answers). Serialises as the plain string, for the wire answers that carry one.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret value.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the secret is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.to_owned())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn debug_and_display_hide_the_value_and_serde_carries_it() {
        let s = Secret::new("t0p-s3cret");
        assert_eq!(format!("{s:?} {s}"), "*** ***");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"t0p-s3cret\"");
        let back: Secret = serde_json::from_str("\"t0p-s3cret\"").unwrap();
        assert_eq!(back.expose(), "t0p-s3cret");
        assert!(Secret::from("").is_empty());
    }
}
