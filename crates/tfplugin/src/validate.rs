//! Validators and cross-attribute rules: the checks a schema declares with its attributes and
//! blocks ([`crate::Schema::validate`] walks a configuration and runs them).

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use crate::{AttributePath, Diagnostic, Diagnostics, Value, shown};

type CheckFn = dyn Fn(&Value, &AttributePath, &mut Diagnostics) + Send + Sync;

/// A check of one attribute's value, declared with the attribute
/// ([`Attribute::validator`](crate::Attribute::validator)).
///
/// The runtime calls it only with known, non-null values, and for each diagnostic it reports
/// points the diagnostic at the attribute (unless the check chose a deeper path, such as a map
/// key) and names that path at the start of the detail, since Terraform 1.0 shows a diagnostic
/// about a nested attribute at its resource's first line.
#[derive(Clone)]
pub struct Validator {
    description: String,
    check: Arc<CheckFn>,
}

impl Validator {
    /// A validator described by `description` (what a valid value is, for docs and tests) that
    /// reports problems with the value at the given path into the diagnostics.
    pub fn new(
        description: impl Into<String>,
        check: impl Fn(&Value, &AttributePath, &mut Diagnostics) + Send + Sync + 'static,
    ) -> Self {
        Self {
            description: description.into(),
            check: Arc::new(check),
        }
    }

    /// A check of a string value: `Err(detail)` becomes an error titled `summary`.
    pub fn string(
        summary: &'static str,
        description: impl Into<String>,
        check: impl Fn(&str) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        Self::new(description, move |value, _path, diags| {
            if let Value::String(s) = value {
                if let Err(detail) = check(s) {
                    diags.error(summary, detail);
                }
            }
        })
    }

    /// A check of every known string element of a list or set (diagnostics point at `name[i]`).
    pub fn each_string(
        summary: &'static str,
        description: impl Into<String>,
        check: impl Fn(&str) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        Self::new(description, move |value, path, diags| {
            for (i, element) in value.as_elements().unwrap_or_default().iter().enumerate() {
                if let Value::String(s) = element {
                    if let Err(detail) = check(s) {
                        diags.push(
                            Diagnostic::error(summary, detail)
                                .with_attribute(path.clone().index(i)),
                        );
                    }
                }
            }
        })
    }

    /// A string that must be one of `allowed`.
    pub fn one_of(summary: &'static str, allowed: &'static [&'static str]) -> Self {
        let listed = allowed
            .iter()
            .map(|a| format!("`{a}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let description = format!("one of {listed}");
        let words = description.clone();
        Self::string(summary, description, move |text| {
            if allowed.contains(&text) {
                Ok(())
            } else {
                Err(format!("{} is not {words}", shown(text)))
            }
        })
    }

    /// A list or set of at least `least` elements: an error titled `summary` saying `detail`.
    pub fn min_items(summary: &'static str, least: usize, detail: impl Into<String>) -> Self {
        let detail = detail.into();
        Self::new(
            format!("at least {least} elements"),
            move |value, _path, diags| {
                if value.as_elements().is_some_and(|items| items.len() < least) {
                    diags.error(summary, detail.clone());
                }
            },
        )
    }

    /// A list whose elements (their attribute `key` for objects, the elements themselves for
    /// strings) are each given at most once. A repeat is an error titled `summary` at the later
    /// element (at its `key`), worded by `describe(value, first path, repeat path)`. Linear in the
    /// length of the list; unknown and null elements are skipped.
    pub fn unique(
        summary: &'static str,
        key: Option<&'static str>,
        describe: impl Fn(&str, &AttributePath, &AttributePath) -> String + Send + Sync + 'static,
    ) -> Self {
        let what = key.map_or("each element at most once".to_owned(), |k| {
            format!("each `{k}` at most once")
        });
        Self::new(what, move |value, path, diags| {
            let Some(items) = value.as_elements() else {
                return;
            };
            let mut first: HashMap<&str, usize> = HashMap::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let element = match key {
                    Some(k) => item.get(k),
                    None => Some(item),
                };
                let Some(Value::String(text)) = element else {
                    continue;
                };
                if let Some(&earlier) = first.get(text.as_str()) {
                    let at = |n: usize| {
                        let p = path.clone().index(n);
                        match key {
                            Some(k) => p.attr(k),
                            None => p,
                        }
                    };
                    let this = at(i);
                    diags.push(
                        Diagnostic::error(summary, describe(text, &at(earlier), &this))
                            .with_attribute(this),
                    );
                } else {
                    first.insert(text.as_str(), i);
                }
            }
        })
    }

    /// What a valid value is.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// Runs the check on `value` (known and non-null) at `path`, adding what it finds to `diags`.
    pub(crate) fn run(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let mut found = Diagnostics::new();
        (self.check)(value, path, &mut found);
        for diag in found {
            diags.push(at_path(diag, path));
        }
    }
}

impl fmt::Debug for Validator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Validator").field(&self.description).finish()
    }
}

impl PartialEq for Validator {
    fn eq(&self, other: &Self) -> bool {
        self.description == other.description
    }
}

/// Points `diag` at `path` unless it already points somewhere, and names the path in the detail.
fn at_path(diag: Diagnostic, path: &AttributePath) -> Diagnostic {
    let path = diag.attribute.clone().unwrap_or_else(|| path.clone());
    let detail = format!("{path}: {}", diag.detail);
    Diagnostic { detail, ..diag }.with_attribute(path)
}

/// A rule across a block's attributes: exactly one of them must be set
/// ([`Block::exactly_one_of`](crate::Block::exactly_one_of)).
#[derive(Debug, Clone, PartialEq)]
pub struct ExactlyOneOf {
    /// The attribute names, in the order they are named to the user.
    pub names: Vec<String>,
    /// What each is for, appended to the diagnostics (may be empty).
    pub hint: String,
}

impl ExactlyOneOf {
    fn listed(&self) -> String {
        let quoted: Vec<String> = self.names.iter().map(|n| format!("`{n}`")).collect();
        match quoted.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
            Some((last, _)) => last.clone(),
            None => String::new(),
        }
    }

    pub(crate) fn check(&self, object: &Value, at: &AttributePath, diags: &mut Diagnostics) {
        let set: Vec<&String> = self
            .names
            .iter()
            .filter(|n| object.get(n).is_some_and(|v| !v.is_null()))
            .collect();
        let hint = if self.hint.is_empty() {
            String::new()
        } else {
            format!(" {}", self.hint)
        };
        match set.as_slice() {
            [] => {
                let mut diag = Diagnostic::error(
                    "Missing Attribute",
                    format!("set exactly one of {}.{hint}", self.listed()),
                );
                if !at.is_empty() {
                    diag = diag.with_attribute(at.clone());
                }
                diags.push(diag);
            }
            [_] => {}
            [first, rest @ ..] => {
                for name in rest {
                    diags.push(at_path(
                        Diagnostic::error(
                            "Conflicting Attributes",
                            format!(
                                "`{first}` and `{name}` are both set; set exactly one of {}.{hint}",
                                self.listed()
                            ),
                        ),
                        &at.clone().attr(name.as_str()),
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(v: &Validator, value: Value) -> Vec<(String, String)> {
        let mut diags = Diagnostics::new();
        v.run(&value, &AttributePath::root("ids"), &mut diags);
        diags
            .iter()
            .map(|d| (d.attribute.as_ref().unwrap().to_string(), d.detail.clone()))
            .collect()
    }

    fn strings(items: &[&str]) -> Value {
        Value::List(items.iter().map(|s| Value::from(*s)).collect())
    }

    #[test]
    fn one_of_names_the_allowed_values_and_escapes_the_given_one() {
        let v = Validator::one_of("Invalid State", &["running", "stopped"]);
        assert!(run(&v, Value::from("running")).is_empty());
        let found = run(&v, Value::from("runnin\u{433}"));
        assert_eq!(
            found,
            [(
                "ids".to_owned(),
                "ids: \"runnin\\u{433}\" is not one of `running`, `stopped`".to_owned()
            )]
        );
    }

    #[test]
    fn min_items_counts_the_elements() {
        let v = Validator::min_items("No Phones", 1, "list at least one phone");
        assert_eq!(run(&v, strings(&[])).len(), 1);
        assert!(run(&v, strings(&["a"])).is_empty());
    }

    #[test]
    fn unique_points_at_each_repeat_and_names_the_first_in_linear_time() {
        let describe = |v: &str, first: &AttributePath, this: &AttributePath| {
            format!("{v} at {first} and {this}")
        };
        let v = Validator::unique("Duplicate", None, describe);
        let found = run(&v, strings(&["a", "b", "a", "a"]));
        assert_eq!(
            found,
            [
                (
                    "ids[2]".to_owned(),
                    "ids[2]: a at ids[0] and ids[2]".to_owned()
                ),
                (
                    "ids[3]".to_owned(),
                    "ids[3]: a at ids[0] and ids[3]".to_owned()
                ),
            ]
        );
        let objects = Value::List(vec![
            Value::object([("phone_id", Value::from("p"))]),
            Value::object([("phone_id", Value::Unknown)]),
            Value::object([("phone_id", Value::from("p"))]),
        ]);
        let by_id = Validator::unique("Duplicate", Some("phone_id"), describe);
        let found = run(&by_id, objects);
        assert_eq!(found[0].0, "ids[2].phone_id");
        // 100,000 distinct elements: one hash look-up each.
        let many: Vec<String> = (0..100_000).map(|i| format!("{i:032x}")).collect();
        let value = Value::List(many.iter().map(|s| Value::from(s.as_str())).collect());
        assert!(run(&v, value).is_empty());
    }
}
