//! Validators and cross-attribute rules: the checks a schema declares with its attributes and
//! blocks ([`crate::Schema::validate`] walks a configuration and runs them).

use std::fmt;
use std::sync::Arc;

use crate::{AttributePath, Diagnostic, Diagnostics, Value};

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
