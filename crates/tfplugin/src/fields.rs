//! [`Fields`]: the attributes of an object value or the entries of a map value, kept as a vector
//! sorted by name. Objects in Terraform values are small (a handful of attributes) and numerous (one per
//! element of a list of thousands), so a sorted vector costs a fraction of a `BTreeMap`'s node per object
//! while keeping the same deterministic order and a map-like API.

use std::fmt;

use crate::Value;

/// Name-sorted, name-unique `(name, value)` pairs: an object's attributes or a map's entries.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Fields(Vec<(String, Value)>);

impl Fields {
    /// No fields.
    pub fn new() -> Self {
        Fields(Vec::new())
    }

    /// Room for `n` fields.
    pub fn with_capacity(n: usize) -> Self {
        Fields(Vec::with_capacity(n))
    }

    /// How many fields there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn position(&self, name: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(name))
    }

    /// The value of field `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.position(name).ok().map(|i| &self.0[i].1)
    }

    /// The value of field `name`, mutably.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut Value> {
        match self.position(name) {
            Ok(i) => Some(&mut self.0[i].1),
            Err(_) => None,
        }
    }

    /// Whether field `name` exists.
    pub fn contains_key(&self, name: &str) -> bool {
        self.position(name).is_ok()
    }

    /// Sets field `name`, returning its previous value.
    pub fn insert(&mut self, name: String, value: Value) -> Option<Value> {
        match self.position(&name) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, value)),
            Err(i) => {
                self.0.insert(i, (name, value));
                None
            }
        }
    }

    /// The value of field `name`, inserting `default()` first when it is missing.
    pub fn get_or_insert_with(
        &mut self,
        name: &str,
        default: impl FnOnce() -> Value,
    ) -> &mut Value {
        let i = match self.position(name) {
            Ok(i) => i,
            Err(i) => {
                self.0.insert(i, (name.to_owned(), default()));
                i
            }
        };
        &mut self.0[i].1
    }

    /// Removes field `name`, returning its value.
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        self.position(name).ok().map(|i| self.0.remove(i).1)
    }

    /// The fields in name order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&String, &Value)> + ExactSizeIterator {
        self.0.iter().map(|(k, v)| (k, v))
    }

    /// The fields in name order, values mutable.
    pub fn iter_mut(
        &mut self,
    ) -> impl DoubleEndedIterator<Item = (&String, &mut Value)> + ExactSizeIterator {
        self.0.iter_mut().map(|(k, v)| (&*k, v))
    }

    /// The names in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &String> + ExactSizeIterator {
        self.0.iter().map(|(k, _)| k)
    }

    /// The values in name order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &Value> + ExactSizeIterator {
        self.0.iter().map(|(_, v)| v)
    }

    /// The values in name order, mutable.
    pub fn values_mut(
        &mut self,
    ) -> impl DoubleEndedIterator<Item = &mut Value> + ExactSizeIterator {
        self.0.iter_mut().map(|(_, v)| v)
    }
}

impl fmt::Debug for Fields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<S: Into<String>> FromIterator<(S, Value)> for Fields {
    /// Collects pairs in any order; for a name given twice, the last value wins (as with a map).
    fn from_iter<I: IntoIterator<Item = (S, Value)>>(iter: I) -> Self {
        let mut pairs: Vec<(String, Value)> =
            iter.into_iter().map(|(k, v)| (k.into(), v)).collect();
        // Stable sort keeps the input order among equal names, so the last one is the one to keep.
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out: Vec<(String, Value)> = Vec::with_capacity(pairs.len());
        for (k, v) in pairs {
            match out.last_mut() {
                Some(last) if last.0 == k => last.1 = v,
                _ => out.push((k, v)),
            }
        }
        out.shrink_to_fit();
        Fields(out)
    }
}

impl<S: Into<String>, const N: usize> From<[(S, Value); N]> for Fields {
    fn from(pairs: [(S, Value); N]) -> Self {
        pairs.into_iter().collect()
    }
}

impl IntoIterator for Fields {
    type Item = (String, Value);
    type IntoIter = std::vec::IntoIter<(String, Value)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a Fields {
    type Item = (&'a String, &'a Value);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (String, Value)>,
        fn(&'a (String, Value)) -> (&'a String, &'a Value),
    >;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl<'a> IntoIterator for &'a mut Fields {
    type Item = (&'a String, &'a mut Value);
    type IntoIter = std::iter::Map<
        std::slice::IterMut<'a, (String, Value)>,
        fn(&'a mut (String, Value)) -> (&'a String, &'a mut Value),
    >;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter_mut().map(|(k, v)| (&*k, v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_stay_sorted_and_unique_whatever_the_insertion_order() {
        let mut f = Fields::new();
        assert_eq!(f.insert("b".into(), Value::from(2)), None);
        assert_eq!(f.insert("a".into(), Value::from(1)), None);
        assert_eq!(f.insert("c".into(), Value::from(3)), None);
        assert_eq!(f.insert("b".into(), Value::from(20)), Some(Value::from(2)));
        assert_eq!(
            f.keys().map(String::as_str).collect::<Vec<_>>(),
            ["a", "b", "c"]
        );
        assert_eq!(f.get("b"), Some(&Value::from(20)));
        assert_eq!(f.remove("a"), Some(Value::from(1)));
        assert!(!f.contains_key("a"));
        assert_eq!(f.len(), 2);
    }

    #[test]
    fn collecting_sorts_and_keeps_the_last_value_of_a_repeated_name() {
        let f: Fields = [
            ("z", Value::from(1)),
            ("a", Value::from(2)),
            ("z", Value::from(3)),
        ]
        .into_iter()
        .collect();
        let pairs: Vec<(&str, &Value)> = f.iter().map(|(k, v)| (k.as_str(), v)).collect();
        assert_eq!(pairs, vec![("a", &Value::from(2)), ("z", &Value::from(3))]);
    }

    #[test]
    fn get_or_insert_with_inserts_once_in_order() {
        let mut f: Fields = [("b", Value::Null)].into();
        *f.get_or_insert_with("a", || Value::from(1)) = Value::from(5);
        assert_eq!(
            f.get_or_insert_with("a", || Value::from(9)),
            &Value::from(5)
        );
        assert_eq!(f.keys().map(String::as_str).collect::<Vec<_>>(), ["a", "b"]);
    }
}
