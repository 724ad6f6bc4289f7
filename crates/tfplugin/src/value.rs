//! The value model: Terraform types, arbitrary-precision numbers, and null / unknown / known values.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use crate::Fields;
use std::fmt;

use crate::{AttributePath, Error, PathStep, Result};

/// A Terraform (cty) type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Type {
    /// `string`
    String,
    /// `number` (arbitrary precision)
    Number,
    /// `bool`
    Bool,
    /// `dynamic`: any type, decided per value.
    Dynamic,
    /// `list(T)`
    List(Box<Type>),
    /// `set(T)`
    Set(Box<Type>),
    /// `map(T)`
    Map(Box<Type>),
    /// `object({...})`
    Object(BTreeMap<String, Type>),
    /// `tuple([...])`
    Tuple(Vec<Type>),
}

impl Type {
    /// `list(elem)`.
    pub fn list(elem: Type) -> Self {
        Type::List(Box::new(elem))
    }

    /// `set(elem)`.
    pub fn set(elem: Type) -> Self {
        Type::Set(Box::new(elem))
    }

    /// `map(elem)`.
    pub fn map(elem: Type) -> Self {
        Type::Map(Box::new(elem))
    }

    /// `object({...})` from `(name, type)` pairs.
    pub fn object<I, S>(attrs: I) -> Self
    where
        I: IntoIterator<Item = (S, Type)>,
        S: Into<String>,
    {
        Type::Object(attrs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// The type in Terraform's JSON type syntax (`"string"`, `["list","string"]`, ...).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Type::String => J::from("string"),
            Type::Number => J::from("number"),
            Type::Bool => J::from("bool"),
            Type::Dynamic => J::from("dynamic"),
            Type::List(e) => J::Array(vec!["list".into(), e.to_json()]),
            Type::Set(e) => J::Array(vec!["set".into(), e.to_json()]),
            Type::Map(e) => J::Array(vec!["map".into(), e.to_json()]),
            Type::Object(attrs) => J::Array(vec![
                "object".into(),
                J::Object(
                    attrs
                        .iter()
                        .map(|(k, t)| (k.clone(), t.to_json()))
                        .collect(),
                ),
            ]),
            Type::Tuple(elems) => J::Array(vec![
                "tuple".into(),
                J::Array(elems.iter().map(Type::to_json).collect()),
            ]),
        }
    }

    /// The JSON type syntax as bytes, as the wire carries it.
    pub fn to_json_bytes(&self) -> Vec<u8> {
        self.to_json().to_string().into_bytes()
    }

    /// Parses Terraform's JSON type syntax.
    pub fn from_json(json: &serde_json::Value) -> Result<Self> {
        use serde_json::Value as J;
        let bad = || Error::InvalidType(json.to_string());
        match json {
            J::String(s) => match s.as_str() {
                "string" => Ok(Type::String),
                "number" => Ok(Type::Number),
                "bool" => Ok(Type::Bool),
                "dynamic" => Ok(Type::Dynamic),
                _ => Err(bad()),
            },
            J::Array(parts) => {
                let kind = parts.first().and_then(J::as_str).ok_or_else(bad)?;
                let arg = parts.get(1).ok_or_else(bad)?;
                match kind {
                    "list" => Ok(Type::list(Type::from_json(arg)?)),
                    "set" => Ok(Type::set(Type::from_json(arg)?)),
                    "map" => Ok(Type::map(Type::from_json(arg)?)),
                    "object" => {
                        let attrs = arg.as_object().ok_or_else(bad)?;
                        let mut out = BTreeMap::new();
                        for (k, t) in attrs {
                            out.insert(k.clone(), Type::from_json(t)?);
                        }
                        Ok(Type::Object(out))
                    }
                    "tuple" => {
                        let elems = arg.as_array().ok_or_else(bad)?;
                        Ok(Type::Tuple(
                            elems.iter().map(Type::from_json).collect::<Result<_>>()?,
                        ))
                    }
                    _ => Err(bad()),
                }
            }
            _ => Err(bad()),
        }
    }

    /// Parses the JSON type syntax from bytes.
    pub fn from_json_bytes(bytes: &[u8]) -> Result<Self> {
        let json: serde_json::Value = serde_json::from_slice(bytes)?;
        Type::from_json(&json)
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::String => f.write_str("string"),
            Type::Number => f.write_str("number"),
            Type::Bool => f.write_str("bool"),
            Type::Dynamic => f.write_str("dynamic"),
            Type::List(e) => write!(f, "list({e})"),
            Type::Set(e) => write!(f, "set({e})"),
            Type::Map(e) => write!(f, "map({e})"),
            Type::Object(attrs) => {
                f.write_str("object({")?;
                for (i, (k, t)) in attrs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}={t}")?;
                }
                f.write_str("})")
            }
            Type::Tuple(elems) => {
                f.write_str("tuple([")?;
                for (i, t) in elems.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{t}")?;
                }
                f.write_str("])")
            }
        }
    }
}

/// An arbitrary-precision decimal number, kept in canonical decimal form (no exponent, no redundant zeros).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Number(String);

/// Largest decimal exponent accepted when parsing, to keep canonical strings bounded.
const MAX_EXPONENT: i64 = 4096;

impl Number {
    /// Parses a decimal string such as `-12.5`, `1e400` or `0.000001`.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = || Error::InvalidNumber(text.to_owned());
        let s = text.trim();
        let (neg, s) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s.strip_prefix('+').unwrap_or(s)),
        };
        let (mantissa, exp) = match s.find(['e', 'E']) {
            Some(i) => {
                let e: i64 = s[i + 1..].parse().map_err(|_| bad())?;
                (&s[..i], e)
            }
            None => (s, 0),
        };
        if !(-MAX_EXPONENT..=MAX_EXPONENT).contains(&exp) {
            return Err(bad());
        }
        let (int_part, frac_part) = match mantissa.split_once('.') {
            Some((i, f)) => (i, f),
            None => (mantissa, ""),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(bad());
        }
        if !int_part
            .bytes()
            .chain(frac_part.bytes())
            .all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        // value = digits * 10^(exp - frac_len)
        let mut digits: String = format!("{int_part}{frac_part}");
        let frac_len = i64::try_from(frac_part.len()).map_err(|_| bad())?;
        let mut scale = exp - frac_len;
        let trimmed = digits.trim_start_matches('0');
        digits = trimmed.to_owned();
        if digits.is_empty() {
            return Ok(Number("0".into()));
        }
        while digits.ends_with('0') {
            digits.pop();
            scale += 1;
        }
        let body = if scale >= 0 {
            let zeros = usize::try_from(scale).map_err(|_| bad())?;
            format!("{digits}{}", "0".repeat(zeros))
        } else {
            let frac = usize::try_from(-scale).map_err(|_| bad())?;
            if frac >= digits.len() {
                format!("0.{}{digits}", "0".repeat(frac - digits.len()))
            } else {
                let (i, f) = digits.split_at(digits.len() - frac);
                format!("{i}.{f}")
            }
        };
        Ok(Number(if neg { format!("-{body}") } else { body }))
    }

    /// Converts a finite float; NaN and infinities are not numbers in Terraform.
    pub fn from_f64(f: f64) -> Result<Self> {
        if !f.is_finite() {
            return Err(Error::InvalidNumber(f.to_string()));
        }
        Number::parse(&format!("{f}"))
    }

    /// The canonical decimal text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The value as `i64`, if it is an integer in range.
    pub fn as_i64(&self) -> Option<i64> {
        self.0.parse().ok()
    }

    /// The value as `u64`, if it is a non-negative integer in range.
    pub fn as_u64(&self) -> Option<u64> {
        self.0.parse().ok()
    }

    /// The nearest `f64`.
    pub fn as_f64(&self) -> f64 {
        self.0.parse().unwrap_or(f64::NAN)
    }

    /// The value as `f64` if the float holds it exactly.
    pub fn as_exact_f64(&self) -> Option<f64> {
        let f: f64 = self.0.parse().ok()?;
        Number::from_f64(f).ok().filter(|n| n == self).map(|_| f)
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<i64> for Number {
    fn from(n: i64) -> Self {
        Number(n.to_string())
    }
}

impl From<u64> for Number {
    fn from(n: u64) -> Self {
        Number(n.to_string())
    }
}

impl From<i32> for Number {
    fn from(n: i32) -> Self {
        Number(n.to_string())
    }
}

/// A Terraform value: null, unknown (not yet known during plan), or a known value of some type.
///
/// Values are untyped; a [`Type`] is supplied when encoding and decoding. Sets keep their elements in a `Vec`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Value {
    /// No value.
    #[default]
    Null,
    /// A value that will be known only after apply.
    Unknown,
    /// `bool`
    Bool(bool),
    /// `number`
    Number(Number),
    /// `string`
    String(String),
    /// `list(T)`
    List(Vec<Value>),
    /// `set(T)`
    Set(Vec<Value>),
    /// `map(T)`
    Map(Fields),
    /// `object({...})`: every attribute of the type is present (null where unset).
    Object(Fields),
    /// `tuple([...])`
    Tuple(Vec<Value>),
}

impl Value {
    /// An object from `(name, value)` pairs.
    pub fn object<I, S>(attrs: I) -> Self
    where
        I: IntoIterator<Item = (S, Value)>,
        S: Into<String>,
    {
        Value::Object(attrs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A string value.
    pub fn string(s: impl Into<String>) -> Self {
        Value::String(s.into())
    }

    /// Whether the value is null.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Whether the value itself is unknown (its parts are not inspected).
    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown)
    }

    /// Whether no part of the value is unknown.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown => false,
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => {
                v.iter().all(Value::is_wholly_known)
            }
            Value::Map(m) | Value::Object(m) => m.values().all(Value::is_wholly_known),
            _ => true,
        }
    }

    /// The attribute `name` of an object (or entry of a map); `None` for other values.
    pub fn get(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Object(m) | Value::Map(m) => m.get(name),
            _ => None,
        }
    }

    /// The string, if this is a known string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The bool, if this is a known bool.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The number, if this is a known number.
    pub fn as_number(&self) -> Option<&Number> {
        match self {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    /// The elements of a list, set or tuple.
    pub fn as_elements(&self) -> Option<&[Value]> {
        match self {
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => Some(v),
            _ => None,
        }
    }

    /// The entries of a map or the attributes of an object.
    pub fn as_entries(&self) -> Option<&Fields> {
        match self {
            Value::Map(m) | Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// The value at `path`, if every step exists.
    pub fn get_path(&self, path: &AttributePath) -> Option<&Value> {
        let mut cur = self;
        for step in path.steps() {
            cur = match (step, cur) {
                (PathStep::Attribute(n), Value::Object(m)) => m.get(n)?,
                (PathStep::Key(k), Value::Map(m)) => m.get(k)?,
                (PathStep::Index(i), Value::List(v) | Value::Tuple(v)) => {
                    v.get(usize::try_from(*i).ok()?)?
                }
                _ => return None,
            };
        }
        Some(cur)
    }

    /// A mutable reference to the value at `path`, if every step exists.
    pub fn get_path_mut(&mut self, path: &AttributePath) -> Option<&mut Value> {
        let mut cur = self;
        for step in path.steps() {
            cur = match (step, cur) {
                (PathStep::Attribute(n), Value::Object(m)) => m.get_mut(n)?,
                (PathStep::Key(k), Value::Map(m)) => m.get_mut(k)?,
                (PathStep::Index(i), Value::List(v) | Value::Tuple(v)) => {
                    v.get_mut(usize::try_from(*i).ok()?)?
                }
                _ => return None,
            };
        }
        Some(cur)
    }

    /// Replaces the value at `path`; returns false (and changes nothing) when the path does not exist.
    pub fn set_path(&mut self, path: &AttributePath, value: Value) -> bool {
        match self.get_path_mut(path) {
            Some(slot) => {
                *slot = value;
                true
            }
            None => false,
        }
    }

    /// Equality where sets compare without regard to order. Sets are compared sorted (see
    /// [`Value::canonical_cmp`]), in time that grows as n log n with their size: comparing every
    /// element of one with every element of the other took seconds for sets of 10,000 strings.
    pub fn semantically_equals(&self, other: &Value) -> bool {
        self.canonical_cmp(other) == Ordering::Equal
    }

    /// A total order of values in which two values are equal exactly when they are semantically equal
    /// (sets compare as their elements sorted by this order; an object never equals a map, nor a list
    /// a tuple). Values of different kinds order by kind: null, unknown, bool, number, string, list,
    /// set, map, object, tuple.
    pub fn canonical_cmp(&self, other: &Value) -> Ordering {
        #[cfg(test)]
        tests::COMPARISONS.with(|c| c.set(c.get() + 1));
        fn rank(v: &Value) -> u8 {
            match v {
                Value::Null => 0,
                Value::Unknown => 1,
                Value::Bool(_) => 2,
                Value::Number(_) => 3,
                Value::String(_) => 4,
                Value::List(_) => 5,
                Value::Set(_) => 6,
                Value::Map(_) => 7,
                Value::Object(_) => 8,
                Value::Tuple(_) => 9,
            }
        }
        fn sorted(items: &[Value]) -> Vec<&Value> {
            let mut refs: Vec<&Value> = items.iter().collect();
            refs.sort_by(|a, b| a.canonical_cmp(b));
            refs
        }
        fn elements<'a>(
            a: impl ExactSizeIterator<Item = &'a Value>,
            b: impl ExactSizeIterator<Item = &'a Value>,
        ) -> Ordering {
            let (la, lb) = (a.len(), b.len());
            for (x, y) in a.zip(b) {
                let o = x.canonical_cmp(y);
                if o != Ordering::Equal {
                    return o;
                }
            }
            la.cmp(&lb)
        }
        match (self, other) {
            (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
            (Value::Number(a), Value::Number(b)) => a.cmp(b),
            (Value::String(a), Value::String(b)) => a.cmp(b),
            (Value::List(a), Value::List(b)) | (Value::Tuple(a), Value::Tuple(b)) => {
                elements(a.iter(), b.iter())
            }
            (Value::Set(a), Value::Set(b)) => {
                // Different sizes differ without sorting anything.
                a.len()
                    .cmp(&b.len())
                    .then_with(|| elements(sorted(a).into_iter(), sorted(b).into_iter()))
            }
            (Value::Map(a), Value::Map(b)) | (Value::Object(a), Value::Object(b)) => {
                let (la, lb) = (a.len(), b.len());
                for ((ka, va), (kb, vb)) in a.iter().zip(b.iter()) {
                    let o = ka.cmp(kb).then_with(|| va.canonical_cmp(vb));
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                la.cmp(&lb)
            }
            _ => rank(self).cmp(&rank(other)),
        }
    }

    /// A type that describes this value, used to encode values of `dynamic` type.
    pub fn infer_type(&self) -> Type {
        match self {
            Value::Null | Value::Unknown => Type::Dynamic,
            Value::Bool(_) => Type::Bool,
            Value::Number(_) => Type::Number,
            Value::String(_) => Type::String,
            Value::List(v) => Type::list(element_type(v)),
            Value::Set(v) => Type::set(element_type(v)),
            Value::Map(m) => Type::map(element_type(m.values())),
            Value::Object(m) => {
                Type::Object(m.iter().map(|(k, v)| (k.clone(), v.infer_type())).collect())
            }
            Value::Tuple(v) => Type::Tuple(v.iter().map(Value::infer_type).collect()),
        }
    }

    /// A short description of the value's kind, for error messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Unknown => "unknown",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::Map(_) => "map",
            Value::Object(_) => "object",
            Value::Tuple(_) => "tuple",
        }
    }
}

/// The element type of a collection: the type every element that is neither null nor unknown
/// infers (those two fit any type), or `dynamic` when they disagree, so that each element then
/// carries its own type. Taking the first element's type instead made collections of mixed
/// elements (as a `list(dynamic)` can hold) impossible to encode.
fn element_type<'a>(elements: impl IntoIterator<Item = &'a Value>) -> Type {
    let mut found: Option<Type> = None;
    for element in elements {
        if element.is_null() || element.is_unknown() {
            continue;
        }
        let ty = element.infer_type();
        match &found {
            None => found = Some(ty),
            Some(first) if *first == ty => {}
            Some(_) => return Type::Dynamic,
        }
    }
    found.unwrap_or(Type::Dynamic)
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Number(n.into())
    }
}

impl From<Number> for Value {
    fn from(n: Number) -> Self {
        Value::Number(n)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(o: Option<T>) -> Self {
        o.map_or(Value::Null, Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_canonical_decimals() {
        let cases = [
            ("1", "1"),
            ("-0", "0"),
            ("001.2500", "1.25"),
            ("1e3", "1000"),
            ("1.5E-3", "0.0015"),
            ("-12.0", "-12"),
            (
                "123456789012345678901234567890",
                "123456789012345678901234567890",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(Number::parse(input).unwrap().as_str(), want, "{input}");
        }
        for bad in ["", "abc", "1.2.3", "--1", "1e99999", "."] {
            assert!(Number::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn number_conversions_respect_range_and_exactness() {
        assert_eq!(
            Number::parse("9223372036854775807").unwrap().as_i64(),
            Some(i64::MAX)
        );
        assert_eq!(Number::parse("9223372036854775808").unwrap().as_i64(), None);
        assert_eq!(Number::from_f64(0.5).unwrap().as_str(), "0.5");
        assert_eq!(Number::parse("0.1").unwrap().as_exact_f64(), Some(0.1));
        assert_eq!(
            Number::parse("0.10000000000000000001")
                .unwrap()
                .as_exact_f64(),
            None
        );
        assert!(Number::from_f64(f64::NAN).is_err());
    }

    #[test]
    fn type_json_round_trips() {
        let ty = Type::object([
            ("a", Type::list(Type::String)),
            ("b", Type::map(Type::Number)),
            ("c", Type::Tuple(vec![Type::Bool, Type::Dynamic])),
            ("d", Type::set(Type::object([("x", Type::String)]))),
        ]);
        let bytes = ty.to_json_bytes();
        assert_eq!(Type::from_json_bytes(&bytes).unwrap(), ty);
        assert!(Type::from_json_bytes(br#"["list"]"#).is_err());
        assert!(Type::from_json_bytes(br#""float""#).is_err());
    }

    #[test]
    fn paths_get_and_set_nested_values() {
        let mut v = Value::object([(
            "phones",
            Value::List(vec![Value::object([(
                "properties",
                Value::Map([("k".to_owned(), Value::from("v"))].into()),
            )])]),
        )]);
        let p = AttributePath::root("phones")
            .index(0)
            .attr("properties")
            .key("k");
        assert_eq!(v.get_path(&p), Some(&Value::from("v")));
        assert!(v.set_path(&p, Value::Unknown));
        assert!(!v.is_wholly_known());
        assert!(!v.set_path(&AttributePath::root("phones").index(5), Value::Null));
    }

    #[test]
    fn collections_of_mixed_elements_infer_a_dynamic_element_type() {
        let mixed = Value::List(vec![Value::from("a"), Value::from(1)]);
        assert_eq!(mixed.infer_type(), Type::list(Type::Dynamic));
        let with_null = Value::Map(
            [
                ("a".to_owned(), Value::Null),
                ("b".to_owned(), Value::from(true)),
                ("c".to_owned(), Value::Unknown),
            ]
            .into(),
        );
        assert_eq!(with_null.infer_type(), Type::map(Type::Bool));
        let same = Value::Set(vec![Value::from(1), Value::from(2)]);
        assert_eq!(same.infer_type(), Type::set(Type::Number));
        assert_eq!(Value::List(vec![]).infer_type(), Type::list(Type::Dynamic));
    }

    thread_local! {
        /// How many comparisons [`Value::canonical_cmp`] made on this thread.
        pub(super) static COMPARISONS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    }

    fn comparisons_of(f: impl FnOnce()) -> u64 {
        COMPARISONS.with(|c| c.set(0));
        f();
        COMPARISONS.with(std::cell::Cell::get)
    }

    #[test]
    fn sets_compare_without_order() {
        let a = Value::Set(vec![Value::from("x"), Value::from("y")]);
        let b = Value::Set(vec![Value::from("y"), Value::from("x")]);
        assert!(a.semantically_equals(&b));
        assert!(!a.semantically_equals(&Value::Set(vec![Value::from("x")])));
        assert!(!a.semantically_equals(&Value::Set(vec![Value::from("x"), Value::from("z")])));
        // Repeated elements count: {x, x, y} is not {x, y, y}.
        let xxy = Value::Set(vec![Value::from("x"), Value::from("x"), Value::from("y")]);
        let xyy = Value::Set(vec![Value::from("x"), Value::from("y"), Value::from("y")]);
        assert!(!xxy.semantically_equals(&xyy));
        // Sets inside lists, objects and sets compare without order too.
        let nested = |inner: Value| {
            Value::object([
                ("s", Value::Set(vec![inner.clone(), Value::Set(vec![])])),
                ("l", Value::List(vec![inner])),
            ])
        };
        assert!(nested(a.clone()).semantically_equals(&nested(b.clone())));
        assert!(!nested(a.clone()).semantically_equals(&nested(xxy)));
        // Kinds never mix: a map is not an object, a list not a tuple, null not unknown.
        let fields: Fields = [("k", Value::from("v"))].into();
        assert!(!Value::Map(fields.clone()).semantically_equals(&Value::Object(fields)));
        assert!(!Value::List(vec![]).semantically_equals(&Value::Tuple(vec![])));
        assert!(!Value::Null.semantically_equals(&Value::Unknown));
        assert!(Value::from(1).semantically_equals(&Value::Number(Number::parse("1.0").unwrap())));
    }

    #[test]
    fn comparing_large_sets_takes_n_log_n_comparisons_not_n_squared() {
        let n: u64 = 2_000;
        let ids: Vec<Value> = (0..n)
            .map(|i| Value::from(format!("phone-{i:05}")))
            .collect();
        let a = Value::Set(ids.clone());
        let b = Value::Set(ids.into_iter().rev().collect());
        let mut equal = false;
        let made = comparisons_of(|| equal = a.semantically_equals(&b));
        assert!(equal);
        // Sorting both sides and one pass: about 2 n log2 n + n (some 46,000 here); comparing every
        // element with every other would take n^2 / 2 = 2,000,000.
        let bound = 3 * n * (n as f64).log2().ceil() as u64 + n;
        assert!(
            made <= bound,
            "{made} comparisons for sets of {n} (bound {bound})"
        );
    }
}
