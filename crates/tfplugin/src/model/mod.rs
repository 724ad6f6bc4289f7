//! Typed models: a resource, data source or action decodes a Terraform [`Value`] (configuration,
//! plan, prior state) once into a `#[derive(Deserialize, Serialize)]` struct whose fields carry the
//! attribute names, and encodes it back the same way, as the plugin framework's
//! `req.Plan.Get(ctx, &model)` does.
//!
//! - [`Maybe<T>`]: a value that may be unknown (plan time), null or known. Any field that can be
//!   unknown or null is a `Maybe`; a plain `T` field requires a known, non-null value and an
//!   `Option<T>` a known one.
//! - [`from_value`] decodes (serde's derive, so ids validate on construction with `try_from`, and
//!   attributes a model does not name are ignored); a failure names the attribute path, e.g.
//!   `phones[3].phone_id`. [`to_value`] encodes with a schema's value type, attributes the model
//!   lacks becoming null.
//! - [`field_names`] lists a model's attributes, for the test that a model and its schema agree.

mod de;
mod ser;

use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{Result, Type, Value};

/// The name under which [`Maybe`] meets this crate's deserializer (any other deserializer sees an
/// optional value).
pub(crate) const MAYBE: &str = "$tfplugin::Maybe";
/// The name under which an unknown [`Maybe`] meets this crate's serializer (any other serializer
/// writes null).
pub(crate) const UNKNOWN: &str = "$tfplugin::Unknown";

/// A value that Terraform may not know yet (during plan), may leave null, or knows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Maybe<T> {
    /// Known only after apply.
    Unknown,
    /// Not set.
    #[default]
    Null,
    /// Known.
    Known(T),
}

impl<T> Maybe<T> {
    /// Whether the value is known (not null, not unknown).
    pub fn is_known(&self) -> bool {
        matches!(self, Maybe::Known(_))
    }

    /// Whether the value is unknown.
    pub fn is_unknown(&self) -> bool {
        matches!(self, Maybe::Unknown)
    }

    /// Whether the value is null.
    pub fn is_null(&self) -> bool {
        matches!(self, Maybe::Null)
    }

    /// The known value, by reference.
    pub fn known(&self) -> Option<&T> {
        match self {
            Maybe::Known(v) => Some(v),
            _ => None,
        }
    }

    /// The known value.
    pub fn into_known(self) -> Option<T> {
        match self {
            Maybe::Known(v) => Some(v),
            _ => None,
        }
    }

    /// A reference to the value inside.
    pub fn as_ref(&self) -> Maybe<&T> {
        match self {
            Maybe::Unknown => Maybe::Unknown,
            Maybe::Null => Maybe::Null,
            Maybe::Known(v) => Maybe::Known(v),
        }
    }

    /// Maps the known value.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Maybe<U> {
        match self {
            Maybe::Unknown => Maybe::Unknown,
            Maybe::Null => Maybe::Null,
            Maybe::Known(v) => Maybe::Known(f(v)),
        }
    }

    /// `None` while unknown; otherwise the value, null as `None` inside: what a value that may be
    /// unset is once it is known.
    pub fn settled(self) -> Option<Option<T>> {
        match self {
            Maybe::Unknown => None,
            Maybe::Null => Some(None),
            Maybe::Known(v) => Some(Some(v)),
        }
    }

    /// The known value, `default` when null; `None` while unknown.
    pub fn or_when_null(self, default: T) -> Option<T> {
        self.settled().map(|v| v.unwrap_or(default))
    }
}

impl<T> From<Option<T>> for Maybe<T> {
    fn from(o: Option<T>) -> Self {
        o.map_or(Maybe::Null, Maybe::Known)
    }
}

impl<T: Serialize> Serialize for Maybe<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Maybe::Unknown => serializer.serialize_unit_struct(UNKNOWN),
            Maybe::Null => serializer.serialize_none(),
            Maybe::Known(v) => serializer.serialize_some(v),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Maybe<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        deserializer.deserialize_newtype_struct(MAYBE, MaybeVisitor(std::marker::PhantomData))
    }
}

struct MaybeVisitor<T>(std::marker::PhantomData<T>);

impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for MaybeVisitor<T> {
    type Value = Maybe<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value that may be unknown or null")
    }

    // This crate's deserializer says "unknown" with a unit.
    fn visit_unit<E: serde::de::Error>(self) -> std::result::Result<Self::Value, E> {
        Ok(Maybe::Unknown)
    }

    fn visit_none<E: serde::de::Error>(self) -> std::result::Result<Self::Value, E> {
        Ok(Maybe::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Self::Value, D::Error> {
        T::deserialize(d).map(Maybe::Known)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(
        self,
        d: D,
    ) -> std::result::Result<Self::Value, D::Error> {
        d.deserialize_option(self)
    }
}

/// Decodes `value` into a typed model. Unknown values are accepted only where the model has a
/// [`Maybe`]; the error of anything else names the attribute path.
pub fn from_value<T: DeserializeOwned>(value: &Value) -> Result<T> {
    T::deserialize(de::ValueDeserializer::root(value))
}

/// Encodes a typed model as a value of type `ty` (normally a schema's `value_type()`): attributes
/// the model lacks become null, fields the type lacks are left out, and [`Maybe::Unknown`] is
/// unknown.
pub fn to_value<T: Serialize>(model: &T, ty: &Type) -> Result<Value> {
    let untyped = model.serialize(ser::ValueSerializer)?;
    ser::conform(untyped, ty)
}

/// The attribute names a model reads, in declaration order (serde's field names): for a test that
/// a model and the schema it decodes agree.
pub fn field_names<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    de::field_names::<T>()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Deserialize;

    use super::*;
    use crate::{AttributePath, Error};

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Phone {
        phone_id: Maybe<String>,
        #[serde(default)]
        properties: Maybe<BTreeMap<String, Maybe<String>>>,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Model {
        id: Option<String>,
        phones: Maybe<Vec<Phone>>,
        restart: bool,
        size: i64,
    }

    fn ty() -> Type {
        Type::object([
            ("id", Type::String),
            (
                "phones",
                Type::list(Type::object([
                    ("phone_id", Type::String),
                    ("properties", Type::map(Type::String)),
                ])),
            ),
            ("restart", Type::Bool),
            ("size", Type::Number),
            ("timeouts", Type::object([("create", Type::String)])),
        ])
    }

    #[test]
    fn models_round_trip_through_values_with_unknowns_where_the_model_allows_them() {
        let model = Model {
            id: None,
            phones: Maybe::Known(vec![
                Phone {
                    phone_id: Maybe::Known("p1".into()),
                    properties: Maybe::Known([("k".into(), Maybe::Unknown)].into()),
                },
                Phone {
                    phone_id: Maybe::Unknown,
                    properties: Maybe::Null,
                },
            ]),
            restart: true,
            size: 42,
        };
        let value = to_value(&model, &ty()).unwrap();
        assert_eq!(value.get("timeouts"), Some(&Value::Null));
        assert_eq!(value.get("size"), Some(&Value::from(42)));
        let phones = value.get("phones").unwrap().as_elements().unwrap();
        assert_eq!(phones[1].get("phone_id"), Some(&Value::Unknown));
        assert_eq!(
            phones[0].get("properties").unwrap().get("k"),
            Some(&Value::Unknown)
        );
        let back: Model = from_value(&value).unwrap();
        assert_eq!(back, model);
        let unknown_list = Value::object([
            ("id", Value::Null),
            ("phones", Value::Unknown),
            ("restart", Value::Bool(false)),
            ("size", Value::from(1)),
        ]);
        let back: Model = from_value(&unknown_list).unwrap();
        assert_eq!(back.phones, Maybe::Unknown);
    }

    #[test]
    fn unknown_values_outside_a_maybe_are_refused_with_their_path() {
        let v = Value::object([
            ("id", Value::Unknown),
            ("phones", Value::Null),
            ("restart", Value::Bool(true)),
            ("size", Value::from(1)),
        ]);
        let err = from_value::<Model>(&v).unwrap_err();
        assert!(
            matches!(&err, Error::Unknown(path) if *path == AttributePath::root("id")),
            "{err}"
        );
    }

    #[test]
    fn a_value_that_fails_its_type_names_its_path() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Even(#[serde(deserialize_with = "even")] u32);
        fn even<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<u32, D::Error> {
            let n = u32::deserialize(d)?;
            if n % 2 == 0 {
                Ok(n)
            } else {
                Err(serde::de::Error::custom(format!("{n} is odd")))
            }
        }
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Numbers {
            items: Vec<BTreeMap<String, Even>>,
        }
        let v = Value::object([(
            "items",
            Value::List(vec![
                Value::Map([("a", Value::from(2))].into()),
                Value::Map([("b", Value::from(3))].into()),
            ]),
        )]);
        let err = from_value::<Numbers>(&v).unwrap_err();
        assert_eq!(err.to_string(), "items[1][\"b\"]: 3 is odd");
        let null = Value::object([("items", Value::Null)]);
        let err = from_value::<Numbers>(&null).unwrap_err();
        assert!(err.to_string().starts_with("items: "), "{err}");
    }

    #[test]
    fn field_names_are_the_attributes_a_model_reads() {
        assert_eq!(
            field_names::<Model>(),
            ["id", "phones", "restart", "size"].as_slice()
        );
    }

    #[test]
    fn a_maybe_in_json_is_an_optional_value() {
        let m: Maybe<String> = serde_json::from_str("null").unwrap();
        assert_eq!(m, Maybe::Null);
        let m: Maybe<String> = serde_json::from_str("\"x\"").unwrap();
        assert_eq!(m, Maybe::Known("x".into()));
        assert_eq!(
            serde_json::to_string(&Maybe::Known(1)).unwrap(),
            "1".to_owned()
        );
    }
}
