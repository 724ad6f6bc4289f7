//! The serde deserializer over a [`Value`] that typed models decode from: unknown values reach only
//! [`Maybe`](super::Maybe) fields, and the path of a failure is built only when there is one (the
//! path is a chain of borrowed steps on the stack, so decoding ten thousand phones allocates no
//! path at all).

use serde::de::value::StrDeserializer;
use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};

use super::MAYBE;
use crate::{AttributePath, Error, Fields, Value};

/// One step from a value to a part of it.
#[derive(Debug, Clone, Copy)]
enum Step<'a> {
    Attribute(&'a str),
    Key(&'a str),
    Index(usize),
}

/// Where a value sits in the one being decoded: its step and its parent's path.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Path<'a> {
    parent: Option<&'a Path<'a>>,
    step: Option<Step<'a>>,
}

impl<'a> Path<'a> {
    const ROOT: Path<'static> = Path {
        parent: None,
        step: None,
    };

    fn child(&'a self, step: Step<'a>) -> Path<'a> {
        Path {
            parent: Some(self),
            step: Some(step),
        }
    }

    fn to_attribute_path(self) -> AttributePath {
        let mut steps = Vec::new();
        let mut at = Some(&self);
        while let Some(p) = at {
            steps.extend(p.step);
            at = p.parent;
        }
        steps
            .into_iter()
            .rev()
            .fold(AttributePath::empty(), |path, step| match step {
                Step::Attribute(name) => path.attr(name),
                Step::Key(key) => path.key(key),
                Step::Index(i) => path.index(i),
            })
    }

    /// `error` located here, unless a deeper part already located it.
    fn locate(self, error: Error) -> Error {
        match error {
            Error::Model { path, message } if path.is_empty() => Error::Model {
                path: self.to_attribute_path(),
                message,
            },
            Error::Unknown(path) if path.is_empty() => Error::Unknown(self.to_attribute_path()),
            other => other,
        }
    }
}

impl de::Error for Error {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Error::Model {
            path: AttributePath::empty(),
            message: msg.to_string(),
        }
    }
}

/// Deserializes one value at one path.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ValueDeserializer<'a> {
    value: &'a Value,
    path: Path<'a>,
}

impl<'a> ValueDeserializer<'a> {
    pub(crate) fn root(value: &'a Value) -> Self {
        ValueDeserializer {
            value,
            path: Path::ROOT,
        }
    }

    fn unknown(&self) -> Error {
        self.path.locate(Error::Unknown(AttributePath::empty()))
    }

    fn null(&self) -> Error {
        self.path.locate(<Error as de::Error>::custom(
            "a value is required here, not null",
        ))
    }

    /// Refuses null and unknown before a visitor that needs a value sees it.
    fn require_value(&self) -> Result<(), Error> {
        match self.value {
            Value::Null => Err(self.null()),
            Value::Unknown => Err(self.unknown()),
            _ => Ok(()),
        }
    }
}

macro_rules! forward_requiring_a_value {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            self.require_value()?;
            self.deserialize_any(visitor)
        }
    )*};
}

impl<'de, 'a> de::Deserializer<'de> for ValueDeserializer<'a> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let path = self.path;
        let result = match self.value {
            Value::Null => visitor.visit_unit(),
            Value::Unknown => return Err(self.unknown()),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    visitor.visit_i64(i)
                } else if let Some(u) = n.as_u64() {
                    visitor.visit_u64(u)
                } else {
                    visitor.visit_f64(n.as_f64())
                }
            }
            Value::String(s) => visitor.visit_str(s),
            Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
                visitor.visit_seq(Elements {
                    items: items.iter(),
                    index: 0,
                    path: &path,
                })
            }
            Value::Map(fields) => visitor.visit_map(Entries::new(fields, &path, Step::Key)),
            Value::Object(fields) => {
                visitor.visit_map(Entries::new(fields, &path, Step::Attribute))
            }
        };
        result.map_err(|e| path.locate(e))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Value::Null => visitor.visit_none(),
            Value::Unknown => Err(self.unknown()),
            _ => visitor.visit_some(self),
        }
        .map_err(|e| self.path.locate(e))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.value {
            // Only a Maybe asks for this name: it takes unknown as a unit.
            Value::Unknown if name == MAYBE => visitor.visit_unit(),
            _ => visitor.visit_newtype_struct(self),
        }
        .map_err(|e| self.path.locate(e))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.require_value()?;
        match self.value {
            Value::String(s) => {
                let variant: StrDeserializer<'_, Error> = s.as_str().into_deserializer();
                visitor.visit_enum(variant)
            }
            other => Err(<Error as de::Error>::custom(format!(
                "expected a string naming a variant, found {}",
                other.kind()
            ))),
        }
        .map_err(|e| self.path.locate(e))
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Value::Null => visitor.visit_unit(),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.require_value()?;
        self.deserialize_any(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.require_value()?;
        self.deserialize_any(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.require_value()?;
        self.deserialize_any(visitor)
    }

    forward_requiring_a_value! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_i128
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128
        deserialize_f32 deserialize_f64 deserialize_char deserialize_str deserialize_string
        deserialize_bytes deserialize_byte_buf deserialize_seq deserialize_map deserialize_identifier
    }
}

/// The elements of a list, set or tuple.
struct Elements<'a> {
    items: std::slice::Iter<'a, Value>,
    index: usize,
    path: &'a Path<'a>,
}

impl<'de, 'a> de::SeqAccess<'de> for Elements<'a> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        let Some(value) = self.items.next() else {
            return Ok(None);
        };
        let path = self.path.child(Step::Index(self.index));
        self.index += 1;
        seed.deserialize(ValueDeserializer { value, path })
            .map(Some)
            .map_err(|e| path.locate(e))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

/// The attributes of an object or the entries of a map.
struct Entries<'a> {
    fields: Box<dyn ExactSizeIterator<Item = (&'a String, &'a Value)> + 'a>,
    pending: Option<(&'a str, &'a Value)>,
    path: &'a Path<'a>,
    step: fn(&'a str) -> Step<'a>,
}

impl<'a> Entries<'a> {
    fn new(fields: &'a Fields, path: &'a Path<'a>, step: fn(&'a str) -> Step<'a>) -> Self {
        Entries {
            fields: Box::new(fields.iter()),
            pending: None,
            path,
            step,
        }
    }
}

impl<'de, 'a> de::MapAccess<'de> for Entries<'a> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some((name, value)) = self.fields.next() else {
            return Ok(None);
        };
        self.pending = Some((name.as_str(), value));
        let key: StrDeserializer<'_, Error> = name.as_str().into_deserializer();
        let path = self.path.child((self.step)(name.as_str()));
        seed.deserialize(key).map(Some).map_err(|e| path.locate(e))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let (name, value) = self.pending.take().ok_or_else(|| {
            <Error as de::Error>::custom("a map value was asked for before its key")
        })?;
        let path = self.path.child((self.step)(name));
        seed.deserialize(ValueDeserializer { value, path })
            .map_err(|e| path.locate(e))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.fields.len())
    }
}

/// What [`FieldNames`] ends with: the field names it was shown, or why there were none.
#[derive(Debug)]
enum Captured {
    Fields(&'static [&'static str]),
    NotAStruct(String),
}

impl std::fmt::Display for Captured {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Captured::Fields(fields) => write!(f, "fields {fields:?}"),
            Captured::NotAStruct(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for Captured {}

impl de::Error for Captured {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Captured::NotAStruct(msg.to_string())
    }
}

/// A deserializer that only learns which fields a struct asks for.
struct FieldNames;

impl<'de> de::Deserializer<'de> for FieldNames {
    type Error = Captured;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Captured> {
        Err(Captured::NotAStruct("the model is not a struct".into()))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Captured> {
        Err(Captured::Fields(fields))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
        unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}

pub(crate) fn field_names<'de, T: de::Deserialize<'de>>() -> &'static [&'static str] {
    match T::deserialize(FieldNames) {
        Err(Captured::Fields(fields)) => fields,
        _ => &[],
    }
}
