//! The serde bridge between [`Value`] and typed Rust models (`#[derive(Serialize, Deserialize)]`).
//!
//! Typed models hold known values: use them for configuration at apply time, state and data
//! source results. Unknown values (plan time) make [`from_value`] fail with the unknown's path.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value as J;

use crate::{AttributePath, Error, Result, Type, Value};

/// Converts a wholly known value into a typed model. Null becomes `None`/missing; sets become sequences.
pub fn from_value<T: DeserializeOwned>(value: &Value) -> Result<T> {
    let json = untyped_json(value, &AttributePath::empty())?;
    serde_json::from_value(json).map_err(|e| Error::Model(e.to_string()))
}

/// Converts a typed model into a value of type `ty` (normally a schema's `value_type()`);
/// attributes the model lacks become null.
pub fn to_value<T: Serialize>(model: &T, ty: &Type) -> Result<Value> {
    let json = serde_json::to_value(model).map_err(|e| Error::Model(e.to_string()))?;
    crate::codec::from_json(&json, ty)
}

fn untyped_json(value: &Value, at: &AttributePath) -> Result<J> {
    Ok(match value {
        Value::Unknown => return Err(Error::Unknown(at.clone())),
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::String(s) => J::String(s.clone()),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                J::from(i)
            } else if let Some(u) = n.as_u64() {
                J::from(u)
            } else {
                serde_json::Number::from_f64(n.as_f64())
                    .map(J::Number)
                    .ok_or_else(|| Error::InvalidNumber(n.to_string()))?
            }
        }
        Value::List(items) | Value::Set(items) | Value::Tuple(items) => J::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| untyped_json(v, &at.clone().index(i)))
                .collect::<Result<_>>()?,
        ),
        Value::Map(m) => J::Object(
            m.iter()
                .map(|(k, v)| Ok((k.clone(), untyped_json(v, &at.clone().key(k.clone()))?)))
                .collect::<Result<_>>()?,
        ),
        Value::Object(m) => J::Object(
            m.iter()
                .map(|(k, v)| Ok((k.clone(), untyped_json(v, &at.clone().attr(k.clone()))?)))
                .collect::<Result<_>>()?,
        ),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Deserialize;

    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Phone {
        phone_id: String,
        #[serde(default)]
        properties: Option<BTreeMap<String, String>>,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Model {
        id: Option<String>,
        phones: Vec<Phone>,
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
    fn models_round_trip_through_values() {
        let model = Model {
            id: None,
            phones: vec![Phone {
                phone_id: "p1".into(),
                properties: Some([("k".into(), "v".into())].into()),
            }],
            restart: true,
            size: 42,
        };
        let value = to_value(&model, &ty()).unwrap();
        assert_eq!(value.get("timeouts"), Some(&Value::Null));
        assert_eq!(value.get("size"), Some(&Value::from(42)));
        let back: Model = from_value(&value).unwrap();
        assert_eq!(back, model);
    }

    #[test]
    fn unknown_values_are_refused_with_their_path() {
        let v = Value::object([(
            "phones",
            Value::List(vec![Value::object([("phone_id", Value::Unknown)])]),
        )]);
        let err = from_value::<serde_json::Value>(&v).unwrap_err();
        assert!(err.to_string().contains("phones[0].phone_id"), "{err}");
    }
}
