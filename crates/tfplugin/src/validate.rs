//! Validators and cross-attribute rules as schema data, and the walk that runs them over a
//! configuration: at validate time on whatever is known (unknown values are skipped), and again
//! before an apply, when everything is known.

use std::fmt;
use std::sync::Arc;

use crate::schema::{AttributeType, BlockNesting, ObjectNesting};
use crate::{Attribute, AttributePath, Block, Diagnostic, Diagnostics, NestedBlock, Value};

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

    /// What a valid value is.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// Runs the check on `value` (known and non-null) at `path`, adding what it finds to `diags`.
    fn run(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
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

    fn check(&self, object: &Value, at: &AttributePath, diags: &mut Diagnostics) {
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

/// Runs every validator and rule of `block` over `config`; unknown values are skipped, so
/// configurations waiting on other resources are judged on what is known.
pub(crate) fn validate_block(block: &Block, config: &Value, diags: &mut Diagnostics) {
    validate_object(
        &block.attributes,
        &block.blocks,
        &block.exactly_one_of,
        config,
        &AttributePath::empty(),
        diags,
    );
}

fn validate_object(
    attributes: &[Attribute],
    blocks: &[NestedBlock],
    rules: &[ExactlyOneOf],
    object: &Value,
    at: &AttributePath,
    diags: &mut Diagnostics,
) {
    if !matches!(object, Value::Object(_)) {
        return;
    }
    for rule in rules {
        rule.check(object, at, diags);
    }
    for attr in attributes {
        let value = object.get(&attr.name).unwrap_or(&Value::Null);
        if value.is_null() || value.is_unknown() {
            continue;
        }
        let path = at.clone().attr(attr.name.clone());
        for validator in &attr.validators {
            validator.run(value, &path, diags);
        }
        if let AttributeType::Nested {
            nesting,
            attributes: inner,
        } = &attr.ty
        {
            for_each_object(*nesting == ObjectNesting::Single, value, &path, |v, p| {
                validate_object(inner, &[], &[], v, p, diags)
            });
        }
    }
    for nb in blocks {
        let value = object.get(&nb.name).unwrap_or(&Value::Null);
        let path = at.clone().attr(nb.name.clone());
        let single = matches!(nb.nesting, BlockNesting::Single | BlockNesting::Group);
        for_each_object(single, value, &path, |v, p| {
            validate_object(
                &nb.block.attributes,
                &nb.block.blocks,
                &nb.block.exactly_one_of,
                v,
                p,
                diags,
            )
        });
    }
}

/// Visits the known objects of a nested attribute or block value with their paths.
fn for_each_object(
    single: bool,
    value: &Value,
    path: &AttributePath,
    mut visit: impl FnMut(&Value, &AttributePath),
) {
    if single {
        visit(value, path);
        return;
    }
    match value {
        Value::List(items) | Value::Tuple(items) => {
            for (i, item) in items.iter().enumerate() {
                visit(item, &path.clone().index(i));
            }
        }
        // Set elements have no stable path; the set itself is named.
        Value::Set(items) => items.iter().for_each(|item| visit(item, path)),
        Value::Map(items) => {
            for (k, item) in items.iter() {
                visit(item, &path.clone().key(k.clone()));
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Schema, Type};

    fn id_check(s: &str) -> Result<(), String> {
        if s.chars().all(|c| c.is_ascii_alphanumeric()) {
            Ok(())
        } else {
            Err(format!("{s:?} is not alphanumeric"))
        }
    }

    fn schema() -> Schema {
        Schema::new(
            0,
            Block::new()
                .attribute(
                    Attribute::optional("name", Type::String).validator(Validator::string(
                        "Invalid Name",
                        "letters and digits",
                        id_check,
                    )),
                )
                .attribute(
                    Attribute::optional("ids", Type::list(Type::String)).validator(
                        Validator::each_string("Invalid Id", "letters and digits", id_check),
                    ),
                )
                .attribute(Attribute::nested(
                    "items",
                    ObjectNesting::List,
                    crate::Presence::Optional,
                    vec![
                        Attribute::required("id", Type::String).validator(Validator::string(
                            "Invalid Id",
                            "letters and digits",
                            id_check,
                        )),
                    ],
                ))
                .exactly_one_of(["ids", "items"], "`ids` lists ids, `items` objects."),
        )
    }

    fn paths(diags: &Diagnostics) -> Vec<String> {
        diags
            .iter()
            .map(|d| {
                d.attribute
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default()
            })
            .collect()
    }

    #[test]
    fn validators_point_at_attributes_elements_and_nested_attributes_and_name_them() {
        let config = Value::object([
            ("name", Value::from("bad name")),
            (
                "ids",
                Value::List(vec![Value::from("ok"), Value::from("no!")]),
            ),
            (
                "items",
                Value::List(vec![
                    Value::object([("id", Value::from("fine"))]),
                    Value::object([("id", Value::from("x-y"))]),
                ]),
            ),
        ]);
        let diags = schema().validate(&config);
        assert_eq!(
            paths(&diags),
            vec!["items", "name", "ids[1]", "items[1].id"],
            "{diags:?}"
        );
        let nested = diags.iter().nth(3).unwrap();
        assert!(
            nested.detail.starts_with("items[1].id: "),
            "{}",
            nested.detail
        );
        assert_eq!(nested.summary, "Invalid Id");
        let conflict = diags.iter().next().unwrap();
        assert_eq!(conflict.summary, "Conflicting Attributes");
        assert!(
            conflict.detail.contains("`ids` or `items`"),
            "{}",
            conflict.detail
        );
    }

    #[test]
    fn unknown_values_are_skipped_but_count_as_set() {
        let config = Value::object([
            ("name", Value::Unknown),
            ("ids", Value::Unknown),
            ("items", Value::Null),
        ]);
        assert!(schema().validate(&config).is_empty());
        let partly = Value::object([
            ("name", Value::Null),
            ("ids", Value::List(vec![Value::Unknown, Value::from("a b")])),
            ("items", Value::Null),
        ]);
        assert_eq!(paths(&schema().validate(&partly)), vec!["ids[1]"]);
    }

    #[test]
    fn exactly_one_of_reports_neither_without_a_path_and_mentions_the_hint() {
        let config = Value::object([
            ("name", Value::Null),
            ("ids", Value::Null),
            ("items", Value::Null),
        ]);
        let diags = schema().validate(&config);
        let d = diags.iter().next().unwrap();
        assert_eq!(d.summary, "Missing Attribute");
        assert!(d.attribute.is_none());
        assert!(d.detail.contains("`ids` lists ids"), "{}", d.detail);
    }
}
