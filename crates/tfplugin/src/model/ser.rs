//! The serde serializer that turns a typed model into a [`Value`], and the conversion of that
//! untyped value to a schema's type (every attribute of an object present, sets and maps as the
//! type says).

use serde::ser::{self, Serialize};

use super::UNKNOWN;
use crate::{AttributePath, Error, Fields, Number, PathStep, Type, Value};

impl ser::Error for Error {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Error::Model {
            path: AttributePath::empty(),
            message: msg.to_string(),
        }
    }
}

fn unsupported(what: &str) -> Error {
    <Error as ser::Error>::custom(format!("a model cannot hold {what}"))
}

/// Serializes into an untyped value: sequences become lists, maps and structs become maps and
/// objects, enum unit variants their names, [`Maybe::Unknown`](super::Maybe) unknown.
pub(crate) struct ValueSerializer;

type Done = Result<Value, Error>;

impl ser::Serializer for ValueSerializer {
    type Ok = Value;
    type Error = Error;
    type SerializeSeq = Elements;
    type SerializeTuple = Elements;
    type SerializeTupleStruct = Elements;
    type SerializeTupleVariant = ser::Impossible<Value, Error>;
    type SerializeMap = Entries;
    type SerializeStruct = Entries;
    type SerializeStructVariant = ser::Impossible<Value, Error>;

    fn serialize_bool(self, v: bool) -> Done {
        Ok(Value::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> Done {
        Ok(Value::from(i64::from(v)))
    }
    fn serialize_i16(self, v: i16) -> Done {
        Ok(Value::from(i64::from(v)))
    }
    fn serialize_i32(self, v: i32) -> Done {
        Ok(Value::from(i64::from(v)))
    }
    fn serialize_i64(self, v: i64) -> Done {
        Ok(Value::from(v))
    }
    fn serialize_u8(self, v: u8) -> Done {
        Ok(Value::from(i64::from(v)))
    }
    fn serialize_u16(self, v: u16) -> Done {
        Ok(Value::from(i64::from(v)))
    }
    fn serialize_u32(self, v: u32) -> Done {
        Ok(Value::from(i64::from(v)))
    }
    fn serialize_u64(self, v: u64) -> Done {
        Ok(Value::Number(Number::from(v)))
    }
    fn serialize_f32(self, v: f32) -> Done {
        self.serialize_f64(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Done {
        Ok(Value::Number(Number::from_f64(v)?))
    }
    fn serialize_char(self, v: char) -> Done {
        Ok(Value::String(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Done {
        Ok(Value::String(v.to_owned()))
    }
    fn serialize_bytes(self, _v: &[u8]) -> Done {
        Err(unsupported("bytes"))
    }
    fn serialize_none(self) -> Done {
        Ok(Value::Null)
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Done {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Done {
        Ok(Value::Null)
    }
    fn serialize_unit_struct(self, name: &'static str) -> Done {
        Ok(if name == UNKNOWN {
            Value::Unknown
        } else {
            Value::Null
        })
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Done {
        Ok(Value::String(variant.to_owned()))
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Done {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Done {
        Err(unsupported("an enum variant with data"))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Elements, Error> {
        Ok(Elements(Vec::with_capacity(len.unwrap_or(0))))
    }
    fn serialize_tuple(self, len: usize) -> Result<Elements, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Elements, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(unsupported("an enum variant with data"))
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Entries, Error> {
        Ok(Entries {
            pairs: Vec::with_capacity(len.unwrap_or(0)),
            key: None,
            object: false,
        })
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Entries, Error> {
        Ok(Entries {
            pairs: Vec::with_capacity(len),
            key: None,
            object: true,
        })
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(unsupported("an enum variant with data"))
    }
}

pub(crate) struct Elements(Vec<Value>);

impl ser::SerializeSeq for Elements {
    type Ok = Value;
    type Error = Error;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        self.0.push(value.serialize(ValueSerializer)?);
        Ok(())
    }
    fn end(self) -> Done {
        Ok(Value::List(self.0))
    }
}

impl ser::SerializeTuple for Elements {
    type Ok = Value;
    type Error = Error;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Done {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleStruct for Elements {
    type Ok = Value;
    type Error = Error;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Done {
        ser::SerializeSeq::end(self)
    }
}

pub(crate) struct Entries {
    pairs: Vec<(String, Value)>,
    key: Option<String>,
    object: bool,
}

impl ser::SerializeMap for Entries {
    type Ok = Value;
    type Error = Error;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<(), Error> {
        match key.serialize(ValueSerializer)? {
            Value::String(k) => {
                self.key = Some(k);
                Ok(())
            }
            other => Err(<Error as ser::Error>::custom(format!(
                "map keys must be strings, found {}",
                other.kind()
            ))),
        }
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        let key = self
            .key
            .take()
            .ok_or_else(|| <Error as ser::Error>::custom("a map value came before its key"))?;
        self.pairs.push((key, value.serialize(ValueSerializer)?));
        Ok(())
    }
    fn end(self) -> Done {
        let fields: Fields = self.pairs.into_iter().collect();
        Ok(if self.object {
            Value::Object(fields)
        } else {
            Value::Map(fields)
        })
    }
}

impl ser::SerializeStruct for Entries {
    type Ok = Value;
    type Error = Error;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.pairs
            .push((key.to_owned(), value.serialize(ValueSerializer)?));
        Ok(())
    }
    fn end(self) -> Done {
        ser::SerializeMap::end(self)
    }
}

fn mismatch(ty: &Type, found: &Value) -> Error {
    Error::TypeMismatch {
        path: AttributePath::empty(),
        expected: ty.to_string(),
        found: found.kind().to_owned(),
    }
}

/// `error` of a part at `step` of the value being conformed, its path made whole.
fn under(step: PathStep, error: Error) -> Error {
    match error {
        Error::TypeMismatch {
            path,
            expected,
            found,
        } => Error::TypeMismatch {
            path: path.prefixed(step),
            expected,
            found,
        },
        other => other,
    }
}

/// `value` as a value of type `ty`: objects get every attribute of the type (null where the value
/// has none) and lose those the type lacks; lists become sets where the type says so. Null and
/// unknown fit every type.
pub(crate) fn conform(value: Value, ty: &Type) -> Result<Value, Error> {
    if matches!(value, Value::Null | Value::Unknown) {
        return Ok(value);
    }
    let elements = |items: Vec<Value>, elem: &Type| -> Result<Vec<Value>, Error> {
        items
            .into_iter()
            .enumerate()
            .map(|(i, v)| conform(v, elem).map_err(|e| under(PathStep::index(i), e)))
            .collect()
    };
    Ok(match (ty, value) {
        (Type::Dynamic, v) => v,
        (Type::String, v @ Value::String(_))
        | (Type::Bool, v @ Value::Bool(_))
        | (Type::Number, v @ Value::Number(_)) => v,
        (Type::List(elem), Value::List(items) | Value::Set(items)) => {
            Value::List(elements(items, elem)?)
        }
        (Type::Set(elem), Value::List(items) | Value::Set(items)) => {
            Value::Set(elements(items, elem)?)
        }
        (Type::Tuple(types), Value::List(items) | Value::Tuple(items))
            if items.len() == types.len() =>
        {
            Value::Tuple(
                items
                    .into_iter()
                    .zip(types)
                    .enumerate()
                    .map(|(i, (v, t))| conform(v, t).map_err(|e| under(PathStep::index(i), e)))
                    .collect::<Result<_, _>>()?,
            )
        }
        (Type::Map(elem), Value::Map(fields) | Value::Object(fields)) => Value::Map(
            fields
                .into_iter()
                .map(|(k, v)| match conform(v, elem) {
                    Ok(v) => Ok((k, v)),
                    Err(e) => Err(under(PathStep::Key(k), e)),
                })
                .collect::<Result<Fields, Error>>()?,
        ),
        (Type::Object(attrs), Value::Map(mut fields) | Value::Object(mut fields)) => {
            let mut out = Fields::with_capacity(attrs.len());
            for (name, aty) in attrs {
                let v = fields.remove(name).unwrap_or(Value::Null);
                let v = conform(v, aty).map_err(|e| under(PathStep::Attribute(name.clone()), e))?;
                out.insert(name.clone(), v);
            }
            Value::Object(out)
        }
        (ty, other) => return Err(mismatch(ty, &other)),
    })
}
