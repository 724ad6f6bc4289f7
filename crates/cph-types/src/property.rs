//! Phone properties: the typed [`PropertyMap`] users write and the API's JSON-object-as-a-string
//! form, [`PropertyString`], that requests carry. The string is always rendered from a map, never
//! written by hand, so it is always well-formed JSON.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::Error;

/// The most bytes `property` plus `custom_property` of one phone may take in a request.
pub const PROPERTY_BYTES_MAX: usize = 7800;

/// The most bytes of a phone's properties ShowCloudPhoneDetail shows in its `property` string: a
/// phone may hold more (see [`PROPERTY_BYTES_MAX`]), and what lies beyond cannot be read back.
pub const PROPERTY_SHOWN_BYTES_MAX: usize = 2048;

/// Phone properties as key/value strings, in deterministic (sorted) key order.
///
/// Values are strings even for integer-typed keys, as the API wants them. Serialises as a JSON
/// object; [`PropertyMap::to_api_string`] renders the API's string form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PropertyMap(BTreeMap<String, String>);

impl PropertyMap {
    /// An empty map.
    pub fn new() -> Self {
        PropertyMap(BTreeMap::new())
    }

    /// Sets `key` to `value`, returning the previous value.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) -> Option<String> {
        self.0.insert(key.into(), value.into())
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        self.0.remove(key)
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Keys and values in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The underlying map.
    pub fn as_map(&self) -> &BTreeMap<String, String> {
        &self.0
    }

    /// Renders the API's form: a JSON object of strings, encoded as a string, keys sorted.
    pub fn to_api_string(&self) -> PropertyString {
        // Serialising a map of strings to JSON cannot fail; fall back to "{}" rather than panic.
        let text = serde_json::to_string(&self.0).unwrap_or_else(|_| "{}".to_owned());
        PropertyString(text)
    }

    /// Parses the API's string form, as ShowCloudPhoneDetail returns it.
    ///
    /// Tolerant: an empty or blank string and `null` are an empty map; non-string scalar values
    /// are kept as their JSON text (`1` becomes `"1"`); `null` values are dropped; nested
    /// objects and arrays are kept as compact JSON text. Anything that is not a JSON object is
    /// an error.
    pub fn from_api_string(text: &str) -> Result<PropertyMap, Error> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Ok(PropertyMap::new());
        }
        let parsed: Value =
            serde_json::from_str(trimmed).map_err(|e| Error::InvalidPropertyString {
                value: text.to_owned(),
                reason: format!("not valid JSON: {e}"),
            })?;
        match parsed {
            Value::Null => Ok(PropertyMap::new()),
            Value::Object(object) => Ok(PropertyMap(
                object
                    .into_iter()
                    .filter_map(|(key, value)| match value {
                        Value::Null => None,
                        Value::String(s) => Some((key, s)),
                        other => Some((key, other.to_string())),
                    })
                    .collect(),
            )),
            other => Err(Error::InvalidPropertyString {
                value: text.to_owned(),
                reason: format!("expected a JSON object, found {}", json_kind(&other)),
            }),
        }
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl From<BTreeMap<String, String>> for PropertyMap {
    fn from(map: BTreeMap<String, String>) -> Self {
        PropertyMap(map)
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for PropertyMap {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        PropertyMap(
            iter.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

impl<'a> IntoIterator for &'a PropertyMap {
    type Item = (&'a String, &'a String);
    type IntoIter = std::collections::btree_map::Iter<'a, String, String>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl JsonSchema for PropertyMap {
    fn schema_name() -> Cow<'static, str> {
        "PropertyMap".into()
    }

    fn schema_id() -> Cow<'static, str> {
        "cph_types::PropertyMap".into()
    }

    /// An object with one pattern-checked entry per catalogue key; other keys are any string
    /// (the service accepts keys outside the catalogue on newer images).
    fn json_schema(_generator: &mut SchemaGenerator) -> Schema {
        crate::catalogue::property_map_schema()
    }
}

/// The API's `property` / `custom_property` value: a JSON object encoded as a string.
///
/// Built with [`PropertyMap::to_api_string`]. Deserialising accepts any string that
/// [`PropertyMap::from_api_string`] accepts and keeps it verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PropertyString(String);

impl PropertyString {
    /// The string as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Its size in bytes, as counted against [`PROPERTY_BYTES_MAX`].
    pub fn byte_len(&self) -> usize {
        self.0.len()
    }

    /// Parses it back into a map.
    pub fn to_map(&self) -> Result<PropertyMap, Error> {
        PropertyMap::from_api_string(&self.0)
    }
}

impl TryFrom<String> for PropertyString {
    type Error = Error;
    fn try_from(value: String) -> Result<Self, Error> {
        PropertyMap::from_api_string(&value)?;
        Ok(PropertyString(value))
    }
}

impl TryFrom<&str> for PropertyString {
    type Error = Error;
    fn try_from(value: &str) -> Result<Self, Error> {
        PropertyString::try_from(value.to_owned())
    }
}

impl From<&PropertyMap> for PropertyString {
    fn from(map: &PropertyMap) -> Self {
        map.to_api_string()
    }
}

impl From<PropertyString> for String {
    fn from(value: PropertyString) -> String {
        value.0
    }
}

impl fmt::Display for PropertyString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl JsonSchema for PropertyString {
    fn schema_name() -> Cow<'static, str> {
        "PropertyString".into()
    }

    fn schema_id() -> Cow<'static, str> {
        "cph_types::PropertyString".into()
    }

    fn json_schema(_generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "contentMediaType": "application/json",
            "maxLength": PROPERTY_BYTES_MAX,
            "description": "Phone properties: a JSON object of string values, encoded as a string. `property` plus `custom_property` of one phone must stay within 7800 bytes."
        })
    }
}

/// Checks that `property` plus `custom_property` of `phone_id` fit in [`PROPERTY_BYTES_MAX`].
pub fn check_property_size(
    phone_id: &str,
    property: Option<&PropertyString>,
    custom_property: Option<&PropertyString>,
) -> Result<(), Error> {
    let bytes = property.map_or(0, PropertyString::byte_len)
        + custom_property.map_or(0, PropertyString::byte_len);
    if bytes > PROPERTY_BYTES_MAX {
        Err(Error::PropertiesTooLarge {
            phone_id: phone_id.to_owned(),
            bytes,
            limit: PROPERTY_BYTES_MAX,
        })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn api_string_is_sorted_escaped_json() {
        let map: PropertyMap = [
            ("sys.prop.writephonenum", "13666666666"),
            ("com.cph.mainkeys", "1"),
            ("gsm.sim.operator.alpha", "say \"hi\" 中"),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            map.to_api_string().as_str(),
            r#"{"com.cph.mainkeys":"1","gsm.sim.operator.alpha":"say \"hi\" 中","sys.prop.writephonenum":"13666666666"}"#
        );
    }

    #[test]
    fn api_string_parses_back_to_the_same_map() {
        let map: PropertyMap = [("a", "1"), ("b", "x,y")].into_iter().collect();
        assert_eq!(map.to_api_string().to_map().unwrap(), map);
    }

    #[test]
    fn empty_forms_parse_to_an_empty_map() {
        for text in ["", "  ", "{}", "null"] {
            assert!(
                PropertyMap::from_api_string(text).unwrap().is_empty(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn non_string_values_are_kept_as_json_text() {
        let map = PropertyMap::from_api_string(r#"{"a":1,"b":true,"c":null,"d":[1]}"#).unwrap();
        assert_eq!(map.get("a"), Some("1"));
        assert_eq!(map.get("b"), Some("true"));
        assert_eq!(map.get("c"), None);
        assert_eq!(map.get("d"), Some("[1]"));
    }

    #[test]
    fn malformed_property_strings_are_rejected_with_the_value() {
        let err = PropertyMap::from_api_string(r#"{"a":"1",}"#).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid property string \"{\\\"a\\\":\\\"1\\\",}\": not valid JSON")
        );
        let err = PropertyString::try_from("[1]").unwrap_err();
        assert!(
            err.to_string()
                .contains("expected a JSON object, found an array")
        );
    }

    #[test]
    fn property_string_serialises_as_a_json_string() {
        let map: PropertyMap = [("k", "v")].into_iter().collect();
        let json = serde_json::to_string(&map.to_api_string()).unwrap();
        assert_eq!(json, r#""{\"k\":\"v\"}""#);
        let back: PropertyString = serde_json::from_str(&json).unwrap();
        assert_eq!(back.to_map().unwrap(), map);
    }

    #[test]
    fn size_check_counts_both_strings_in_bytes() {
        let big: PropertyMap = [("k", "中".repeat(1300))].into_iter().collect();
        let big = big.to_api_string();
        assert_eq!(big.byte_len(), 3900 + 8);
        assert!(check_property_size("p1", Some(&big), None).is_ok());
        let err = check_property_size("p1", Some(&big), Some(&big)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "properties of phone p1 take 7816 bytes, over the limit of 7800"
        );
    }
}
