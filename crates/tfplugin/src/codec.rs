//! Type-driven codecs: msgpack (the wire format of DynamicValue) and JSON (stored state, typed-model bridge).

use rmpv::Value as Mp;
use serde_json::Value as J;

use crate::{AttributePath, Error, Fields, Number, Result, Type, Value};

/// Decodes msgpack `bytes` as a value of type `ty`. Every msgpack extension decodes as unknown.
pub fn from_msgpack(bytes: &[u8], ty: &Type) -> Result<Value> {
    if bytes.is_empty() {
        return Ok(Value::Null);
    }
    let mut reader = bytes;
    let mp = rmpv::decode::read_value(&mut reader).map_err(|e| Error::Msgpack(e.to_string()))?;
    if !reader.is_empty() {
        return Err(Error::Msgpack(format!("{} trailing bytes", reader.len())));
    }
    decode_mp(&mp, ty, &AttributePath::empty())
}

/// Encodes `value` as msgpack for type `ty`. Unknown encodes as `d4 00 00`; objects carry every attribute.
pub fn to_msgpack(value: &Value, ty: &Type) -> Result<Vec<u8>> {
    let mp = encode_mp(value, ty, &AttributePath::empty())?;
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, &mp).map_err(|e| Error::Msgpack(e.to_string()))?;
    Ok(out)
}

fn mismatch(path: &AttributePath, ty: &Type, found: impl Into<String>) -> Error {
    Error::TypeMismatch {
        path: path.clone(),
        expected: ty.to_string(),
        found: found.into(),
    }
}

fn mp_kind(v: &Mp) -> String {
    match v {
        Mp::Nil => "nil".into(),
        Mp::Boolean(_) => "bool".into(),
        Mp::Integer(_) => "integer".into(),
        Mp::F32(_) | Mp::F64(_) => "float".into(),
        Mp::String(_) => "string".into(),
        Mp::Binary(_) => "binary".into(),
        Mp::Array(_) => "array".into(),
        Mp::Map(_) => "map".into(),
        Mp::Ext(t, _) => format!("extension {t}"),
    }
}

fn decode_mp(mp: &Mp, ty: &Type, path: &AttributePath) -> Result<Value> {
    if let Mp::Ext(..) = mp {
        return Ok(Value::Unknown);
    }
    if let Type::Dynamic = ty {
        return decode_dynamic_mp(mp, path);
    }
    if let Mp::Nil = mp {
        return Ok(Value::Null);
    }
    let bad = || mismatch(path, ty, mp_kind(mp));
    Ok(match ty {
        Type::String => match mp {
            Mp::String(s) => Value::String(s.as_str().ok_or_else(bad)?.to_owned()),
            Mp::Binary(b) => Value::String(String::from_utf8(b.clone()).map_err(|_| bad())?),
            _ => return Err(bad()),
        },
        Type::Bool => Value::Bool(mp.as_bool().ok_or_else(bad)?),
        Type::Number => Value::Number(match mp {
            Mp::Integer(i) => match (i.as_i64(), i.as_u64()) {
                (Some(n), _) => n.into(),
                (None, Some(n)) => n.into(),
                _ => return Err(bad()),
            },
            Mp::F32(f) => Number::from_f64(f64::from(*f))?,
            Mp::F64(f) => Number::from_f64(*f)?,
            Mp::String(s) => Number::parse(s.as_str().ok_or_else(bad)?)?,
            _ => return Err(bad()),
        }),
        Type::List(elem) | Type::Set(elem) => {
            let items = mp.as_array().ok_or_else(bad)?;
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                out.push(decode_mp(item, elem, &path.clone().index(i))?);
            }
            if matches!(ty, Type::Set(_)) {
                Value::Set(out)
            } else {
                Value::List(out)
            }
        }
        Type::Tuple(elems) => {
            let items = mp.as_array().ok_or_else(bad)?;
            if items.len() != elems.len() {
                return Err(mismatch(path, ty, format!("array of {}", items.len())));
            }
            let mut out = Vec::with_capacity(items.len());
            for (i, (item, ety)) in items.iter().zip(elems).enumerate() {
                out.push(decode_mp(item, ety, &path.clone().index(i))?);
            }
            Value::Tuple(out)
        }
        Type::Map(elem) => {
            let entries = mp.as_map().ok_or_else(bad)?;
            let mut out = Vec::with_capacity(entries.len());
            for (k, v) in entries {
                let key = k.as_str().ok_or_else(bad)?.to_owned();
                let item = decode_mp(v, elem, &path.clone().key(key.clone()))?;
                out.push((key, item));
            }
            Value::Map(out.into_iter().collect())
        }
        Type::Object(attrs) => {
            let entries = mp.as_map().ok_or_else(bad)?;
            if entries.iter().any(|(k, _)| k.as_str().is_none()) {
                return Err(bad());
            }
            // The type's attributes come in name order, so the fields are built sorted. A name sent twice
            // counts once, its last value winning, as a map would keep it.
            let mut out = Fields::with_capacity(attrs.len());
            for (name, aty) in attrs {
                let sent = entries
                    .iter()
                    .rev()
                    .find(|(k, _)| k.as_str() == Some(name.as_str()));
                let item = match sent {
                    Some((_, v)) => decode_mp(v, aty, &path.clone().attr(name.clone()))?,
                    None => Value::Null,
                };
                out.insert(name.clone(), item);
            }
            Value::Object(out)
        }
        Type::Dynamic => unreachable_dynamic(path)?,
    })
}

fn unreachable_dynamic(path: &AttributePath) -> Result<Value> {
    Err(mismatch(
        path,
        &Type::Dynamic,
        "dynamic value handled elsewhere",
    ))
}

fn decode_dynamic_mp(mp: &Mp, path: &AttributePath) -> Result<Value> {
    match mp {
        Mp::Nil => Ok(Value::Null),
        Mp::Array(pair) if pair.len() == 2 => {
            let ty_bytes: &[u8] = match &pair[0] {
                Mp::Binary(b) => b,
                Mp::String(s) => s.as_bytes(),
                other => {
                    return Err(mismatch(
                        path,
                        &Type::Dynamic,
                        format!("type description of {}", mp_kind(other)),
                    ));
                }
            };
            let ty = Type::from_json_bytes(ty_bytes)?;
            decode_mp(&pair[1], &ty, path)
        }
        other => Err(mismatch(path, &Type::Dynamic, mp_kind(other))),
    }
}

fn unknown_mp() -> Mp {
    Mp::Ext(0, vec![0])
}

fn encode_mp(value: &Value, ty: &Type, path: &AttributePath) -> Result<Mp> {
    if let Type::Dynamic = ty {
        return match value {
            Value::Null => Ok(Mp::Nil),
            Value::Unknown => Ok(unknown_mp()),
            v => {
                let actual = v.infer_type();
                Ok(Mp::Array(vec![
                    Mp::Binary(actual.to_json_bytes()),
                    encode_mp(v, &actual, path)?,
                ]))
            }
        };
    }
    let bad = || mismatch(path, ty, value.kind());
    Ok(match (value, ty) {
        (Value::Null, _) => Mp::Nil,
        (Value::Unknown, _) => unknown_mp(),
        (Value::String(s), Type::String) => Mp::from(s.as_str()),
        (Value::Bool(b), Type::Bool) => Mp::Boolean(*b),
        (Value::Number(n), Type::Number) => {
            if let Some(i) = n.as_i64() {
                Mp::from(i)
            } else if let Some(u) = n.as_u64() {
                Mp::from(u)
            } else if let Some(f) = n.as_exact_f64() {
                Mp::F64(f)
            } else {
                Mp::from(n.as_str())
            }
        }
        (Value::List(items), Type::List(elem)) | (Value::Set(items), Type::Set(elem)) => Mp::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| encode_mp(v, elem, &path.clone().index(i)))
                .collect::<Result<_>>()?,
        ),
        (Value::Tuple(items), Type::Tuple(elems)) => {
            if items.len() != elems.len() {
                return Err(mismatch(path, ty, format!("tuple of {}", items.len())));
            }
            Mp::Array(
                items
                    .iter()
                    .zip(elems)
                    .enumerate()
                    .map(|(i, (v, t))| encode_mp(v, t, &path.clone().index(i)))
                    .collect::<Result<_>>()?,
            )
        }
        (Value::Map(m), Type::Map(elem)) => Mp::Map(
            m.iter()
                .map(|(k, v)| {
                    Ok((
                        Mp::from(k.as_str()),
                        encode_mp(v, elem, &path.clone().key(k.clone()))?,
                    ))
                })
                .collect::<Result<_>>()?,
        ),
        (Value::Object(m), Type::Object(attrs)) => {
            if let Some(extra) = m.keys().find(|k| !attrs.contains_key(*k)) {
                return Err(mismatch(
                    path,
                    ty,
                    format!("object with unexpected attribute {extra:?}"),
                ));
            }
            Mp::Map(
                attrs
                    .iter()
                    .map(|(name, aty)| {
                        let v = m.get(name).unwrap_or(&Value::Null);
                        Ok((
                            Mp::from(name.as_str()),
                            encode_mp(v, aty, &path.clone().attr(name.clone()))?,
                        ))
                    })
                    .collect::<Result<_>>()?,
            )
        }
        _ => return Err(bad()),
    })
}

/// Decodes JSON (as in stored state) as type `ty`. Missing object attributes become null; extra ones are ignored.
pub fn from_json(json: &J, ty: &Type) -> Result<Value> {
    decode_json(json, ty, &AttributePath::empty())
}

/// Decodes JSON bytes as type `ty`, tolerating missing and extra attributes.
pub fn from_json_bytes(bytes: &[u8], ty: &Type) -> Result<Value> {
    let json: J = serde_json::from_slice(bytes)?;
    from_json(&json, ty)
}

/// Encodes a wholly known value as JSON (dynamic values as `{"value":..,"type":..}`).
pub fn to_json(value: &Value, ty: &Type) -> Result<J> {
    encode_json(value, ty, &AttributePath::empty())
}

fn json_kind(j: &J) -> &'static str {
    match j {
        J::Null => "null",
        J::Bool(_) => "bool",
        J::Number(_) => "number",
        J::String(_) => "string",
        J::Array(_) => "array",
        J::Object(_) => "object",
    }
}

fn decode_json(json: &J, ty: &Type, path: &AttributePath) -> Result<Value> {
    if json.is_null() {
        return Ok(Value::Null);
    }
    let bad = || mismatch(path, ty, json_kind(json));
    Ok(match ty {
        Type::Dynamic => {
            let obj = json.as_object().ok_or_else(bad)?;
            let actual = Type::from_json(obj.get("type").ok_or_else(bad)?)?;
            decode_json(obj.get("value").unwrap_or(&J::Null), &actual, path)?
        }
        Type::String => match json {
            J::String(s) => Value::String(s.clone()),
            J::Number(n) => Value::String(n.to_string()),
            J::Bool(b) => Value::String(b.to_string()),
            _ => return Err(bad()),
        },
        Type::Bool => match json {
            J::Bool(b) => Value::Bool(*b),
            J::String(s) if s == "true" || s == "false" => Value::Bool(s == "true"),
            _ => return Err(bad()),
        },
        Type::Number => match json {
            J::Number(n) => Value::Number(Number::parse(&n.to_string())?),
            J::String(s) => Value::Number(Number::parse(s)?),
            _ => return Err(bad()),
        },
        Type::List(elem) | Type::Set(elem) => {
            let items = json.as_array().ok_or_else(bad)?;
            let out = items
                .iter()
                .enumerate()
                .map(|(i, j)| decode_json(j, elem, &path.clone().index(i)))
                .collect::<Result<Vec<_>>>()?;
            if matches!(ty, Type::Set(_)) {
                Value::Set(out)
            } else {
                Value::List(out)
            }
        }
        Type::Tuple(elems) => {
            let items = json.as_array().ok_or_else(bad)?;
            if items.len() != elems.len() {
                return Err(mismatch(path, ty, format!("array of {}", items.len())));
            }
            Value::Tuple(
                items
                    .iter()
                    .zip(elems)
                    .enumerate()
                    .map(|(i, (j, t))| decode_json(j, t, &path.clone().index(i)))
                    .collect::<Result<_>>()?,
            )
        }
        Type::Map(elem) => Value::Map(
            json.as_object()
                .ok_or_else(bad)?
                .iter()
                .map(|(k, j)| {
                    Ok((
                        k.clone(),
                        decode_json(j, elem, &path.clone().key(k.clone()))?,
                    ))
                })
                .collect::<Result<_>>()?,
        ),
        Type::Object(attrs) => {
            let obj = json.as_object().ok_or_else(bad)?;
            Value::Object(
                attrs
                    .iter()
                    .map(|(name, aty)| {
                        let v = match obj.get(name) {
                            Some(j) => decode_json(j, aty, &path.clone().attr(name.clone()))?,
                            None => Value::Null,
                        };
                        Ok((name.clone(), v))
                    })
                    .collect::<Result<_>>()?,
            )
        }
    })
}

fn number_to_json(n: &Number) -> J {
    if let Some(i) = n.as_i64() {
        J::from(i)
    } else if let Some(u) = n.as_u64() {
        J::from(u)
    } else {
        serde_json::Number::from_f64(n.as_f64()).map_or(J::Null, J::Number)
    }
}

fn encode_json(value: &Value, ty: &Type, path: &AttributePath) -> Result<J> {
    if let Value::Unknown = value {
        return Err(Error::Unknown(path.clone()));
    }
    if let Type::Dynamic = ty {
        if value.is_null() {
            return Ok(J::Null);
        }
        let actual = value.infer_type();
        let inner = encode_json(value, &actual, path)?;
        return Ok(serde_json::json!({ "value": inner, "type": actual.to_json() }));
    }
    let bad = || mismatch(path, ty, value.kind());
    Ok(match (value, ty) {
        (Value::Null, _) => J::Null,
        (Value::String(s), Type::String) => J::String(s.clone()),
        (Value::Bool(b), Type::Bool) => J::Bool(*b),
        (Value::Number(n), Type::Number) => number_to_json(n),
        (Value::List(items), Type::List(elem)) | (Value::Set(items), Type::Set(elem)) => J::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| encode_json(v, elem, &path.clone().index(i)))
                .collect::<Result<_>>()?,
        ),
        (Value::Tuple(items), Type::Tuple(elems)) if items.len() == elems.len() => J::Array(
            items
                .iter()
                .zip(elems)
                .enumerate()
                .map(|(i, (v, t))| encode_json(v, t, &path.clone().index(i)))
                .collect::<Result<_>>()?,
        ),
        (Value::Map(m), Type::Map(elem)) => J::Object(
            m.iter()
                .map(|(k, v)| {
                    Ok((
                        k.clone(),
                        encode_json(v, elem, &path.clone().key(k.clone()))?,
                    ))
                })
                .collect::<Result<_>>()?,
        ),
        (Value::Object(m), Type::Object(attrs)) => J::Object(
            attrs
                .iter()
                .map(|(name, aty)| {
                    let v = m.get(name).unwrap_or(&Value::Null);
                    Ok((
                        name.clone(),
                        encode_json(v, aty, &path.clone().attr(name.clone()))?,
                    ))
                })
                .collect::<Result<_>>()?,
        ),
        _ => return Err(bad()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phones_type() -> Type {
        Type::object([
            ("id", Type::String),
            (
                "phones",
                Type::list(Type::object([
                    ("phone_id", Type::String),
                    ("properties", Type::map(Type::String)),
                ])),
            ),
            ("count", Type::Number),
            ("tags", Type::set(Type::String)),
            ("flag", Type::Bool),
            ("pair", Type::Tuple(vec![Type::String, Type::Number])),
            ("any", Type::Dynamic),
        ])
    }

    fn sample() -> Value {
        Value::object([
            ("id", Value::Unknown),
            (
                "phones",
                Value::List(vec![Value::object([
                    ("phone_id", Value::from("p1")),
                    (
                        "properties",
                        Value::Map([("k".to_owned(), Value::from("v"))].into()),
                    ),
                ])]),
            ),
            ("count", Value::from(3)),
            ("tags", Value::Set(vec![Value::from("a"), Value::from("b")])),
            ("flag", Value::Null),
            (
                "pair",
                Value::Tuple(vec![
                    Value::from("x"),
                    Value::Number(Number::parse("1.5").unwrap()),
                ]),
            ),
            ("any", Value::object([("inner", Value::from(true))])),
        ])
    }

    #[test]
    fn msgpack_round_trips_every_kind() {
        let ty = phones_type();
        let bytes = to_msgpack(&sample(), &ty).unwrap();
        assert_eq!(from_msgpack(&bytes, &ty).unwrap(), sample());
    }

    #[test]
    fn unknown_encodes_as_fixext1_type_zero() {
        assert_eq!(
            to_msgpack(&Value::Unknown, &Type::String).unwrap(),
            vec![0xd4, 0, 0]
        );
        assert_eq!(
            to_msgpack(&Value::Unknown, &Type::Dynamic).unwrap(),
            vec![0xd4, 0, 0]
        );
    }

    #[test]
    fn every_extension_decodes_as_unknown_including_refined() {
        // fixext1 type 0 (Terraform 1.0), refined unknown type 12 with a payload (ext8), fixext4.
        let refined = [0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc3];
        for bytes in [
            &[0xd4, 0, 0][..],
            &refined[..],
            &[0xd6, 0x05, 1, 2, 3, 4][..],
        ] {
            assert_eq!(from_msgpack(bytes, &Type::String).unwrap(), Value::Unknown);
            assert_eq!(
                from_msgpack(bytes, &Type::list(Type::Number)).unwrap(),
                Value::Unknown
            );
            assert_eq!(from_msgpack(bytes, &Type::Dynamic).unwrap(), Value::Unknown);
        }
    }

    #[test]
    fn numbers_decode_from_int_float_and_decimal_string() {
        let big = "123456789012345678901234567890.125";
        let mut s = Vec::new();
        rmpv::encode::write_value(&mut s, &Mp::from(big)).unwrap();
        assert_eq!(
            from_msgpack(&s, &Type::Number).unwrap(),
            Value::Number(Number::parse(big).unwrap())
        );
        let mut f = Vec::new();
        rmpv::encode::write_value(&mut f, &Mp::F64(2.5)).unwrap();
        assert_eq!(
            from_msgpack(&f, &Type::Number).unwrap(),
            Value::Number(Number::parse("2.5").unwrap())
        );
        let mut u = Vec::new();
        rmpv::encode::write_value(&mut u, &Mp::from(u64::MAX)).unwrap();
        assert_eq!(
            from_msgpack(&u, &Type::Number).unwrap(),
            Value::Number(u64::MAX.into())
        );
    }

    #[test]
    fn big_numbers_encode_as_decimal_strings_and_round_trip() {
        let big = Value::Number(Number::parse("-98765432109876543210987654321").unwrap());
        let bytes = to_msgpack(&big, &Type::Number).unwrap();
        let decoded = rmpv::decode::read_value(&mut &bytes[..]).unwrap();
        assert_eq!(decoded.as_str(), Some("-98765432109876543210987654321"));
        assert_eq!(from_msgpack(&bytes, &Type::Number).unwrap(), big);
        let small = to_msgpack(&Value::from(7), &Type::Number).unwrap();
        assert_eq!(small, vec![0x07]);
    }

    #[test]
    fn objects_are_encoded_with_every_attribute() {
        let ty = Type::object([("a", Type::String), ("b", Type::list(Type::String))]);
        let bytes = to_msgpack(&Value::object([("a", Value::from("x"))]), &ty).unwrap();
        let mp = rmpv::decode::read_value(&mut &bytes[..]).unwrap();
        let keys: Vec<_> = mp
            .as_map()
            .unwrap()
            .iter()
            .map(|(k, _)| k.as_str().unwrap().to_owned())
            .collect();
        assert_eq!(keys, ["a", "b"]);
        let err = to_msgpack(&Value::object([("zzz", Value::Null)]), &ty).unwrap_err();
        assert!(err.to_string().contains("zzz"), "{err}");
    }

    #[test]
    fn dynamic_values_carry_their_type() {
        let v = Value::List(vec![Value::from("a")]);
        let bytes = to_msgpack(&v, &Type::Dynamic).unwrap();
        let mp = rmpv::decode::read_value(&mut &bytes[..]).unwrap();
        let pair = mp.as_array().unwrap();
        assert_eq!(pair[0], Mp::Binary(br#"["list","string"]"#.to_vec()));
        assert_eq!(from_msgpack(&bytes, &Type::Dynamic).unwrap(), v);
    }

    /// Found by the `tfplugin_msgpack` fuzz target: a dynamic value whose type is `list(dynamic)`
    /// decoded, but re-encoding took the first element's type for the whole list and failed.
    #[test]
    fn dynamic_list_of_mixed_elements_round_trips_through_msgpack_and_json() {
        let mut bytes = Vec::new();
        let wire = Mp::Array(vec![
            Mp::Binary(br#"["list","dynamic"]"#.to_vec()),
            Mp::Array(vec![
                Mp::Array(vec![Mp::Binary(br#""string""#.to_vec()), Mp::from("a")]),
                Mp::Array(vec![Mp::Binary(br#""number""#.to_vec()), Mp::from(1)]),
                Mp::Nil,
            ]),
        ]);
        rmpv::encode::write_value(&mut bytes, &wire).unwrap();
        let value = from_msgpack(&bytes, &Type::Dynamic).unwrap();
        let want = Value::List(vec![Value::from("a"), Value::from(1), Value::Null]);
        assert_eq!(value, want);
        let again = to_msgpack(&value, &Type::Dynamic).unwrap();
        assert_eq!(from_msgpack(&again, &Type::Dynamic).unwrap(), want);
        let json = to_json(&value, &Type::Dynamic).unwrap();
        assert_eq!(from_json(&json, &Type::Dynamic).unwrap(), want);
    }

    #[test]
    fn type_mismatch_names_the_path() {
        let ty = Type::object([(
            "phones",
            Type::list(Type::object([("phone_id", Type::String)])),
        )]);
        let mut bytes = Vec::new();
        let bad = Mp::Map(vec![(
            Mp::from("phones"),
            Mp::Array(vec![Mp::Map(vec![(
                Mp::from("phone_id"),
                Mp::Boolean(true),
            )])]),
        )]);
        rmpv::encode::write_value(&mut bytes, &bad).unwrap();
        let err = from_msgpack(&bytes, &ty).unwrap_err();
        assert!(err.to_string().contains("phones[0].phone_id"), "{err}");
    }

    #[test]
    fn json_state_tolerates_missing_and_extra_attributes() {
        let ty = Type::object([
            ("id", Type::String),
            ("size", Type::Number),
            ("new_attr", Type::list(Type::String)),
        ]);
        let json = br#"{"id":"x","size":12345678901234567890,"removed_attr":true}"#;
        let v = from_json_bytes(json, &ty).unwrap();
        assert_eq!(v.get("id"), Some(&Value::from("x")));
        assert_eq!(
            v.get("size"),
            Some(&Value::Number(
                Number::parse("12345678901234567890").unwrap()
            ))
        );
        assert_eq!(v.get("new_attr"), Some(&Value::Null));
        assert_eq!(v.get("removed_attr"), None);
    }

    #[test]
    fn json_round_trips_known_values_and_rejects_unknown() {
        let ty = phones_type();
        let mut v = sample();
        v.set_path(&AttributePath::root("id"), Value::from("r-1"));
        let json = to_json(&v, &ty).unwrap();
        assert_eq!(from_json(&json, &ty).unwrap(), v);
        assert!(matches!(to_json(&sample(), &ty), Err(Error::Unknown(_))));
    }
}
