//! Diagnostics (errors and warnings shown to the user) and attribute paths that point at configuration.

use std::collections::HashMap;
use std::fmt;

/// One step of an [`AttributePath`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathStep {
    /// An object attribute (or nested block) name.
    Attribute(String),
    /// A map key.
    Key(String),
    /// A list or tuple index.
    Index(i64),
}

impl PathStep {
    /// The step to list element `index`.
    pub fn index(index: usize) -> Self {
        PathStep::Index(i64::try_from(index).unwrap_or(i64::MAX))
    }
}

/// A path into a value, such as `phones[3].properties["key"]`.
///
/// Build one with [`AttributePath::root`] and the chaining methods; it prints in Terraform's syntax.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct AttributePath {
    steps: Vec<PathStep>,
}

impl AttributePath {
    /// The empty path (the whole value).
    pub fn empty() -> Self {
        Self::default()
    }

    /// A path starting at the top-level attribute `name`.
    pub fn root(name: impl Into<String>) -> Self {
        Self {
            steps: vec![PathStep::Attribute(name.into())],
        }
    }

    /// This path followed by attribute `name`.
    pub fn attr(mut self, name: impl Into<String>) -> Self {
        self.steps.push(PathStep::Attribute(name.into()));
        self
    }

    /// This path followed by list index `index`.
    pub fn index(mut self, index: usize) -> Self {
        self.steps
            .push(PathStep::Index(i64::try_from(index).unwrap_or(i64::MAX)));
        self
    }

    /// This path followed by map key `key`.
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.steps.push(PathStep::Key(key.into()));
        self
    }

    /// `step` followed by this path.
    pub fn prefixed(mut self, step: PathStep) -> Self {
        self.steps.insert(0, step);
        self
    }

    /// This path followed by `step`.
    pub fn step(mut self, step: PathStep) -> Self {
        self.steps.push(step);
        self
    }

    /// The steps of the path, outermost first.
    pub fn steps(&self) -> &[PathStep] {
        &self.steps
    }

    /// Whether the path has no steps.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    pub(crate) fn to_proto(&self) -> crate::proto::tfplugin6::AttributePath {
        use crate::proto::tfplugin6::attribute_path::{Step, step::Selector};
        crate::proto::tfplugin6::AttributePath {
            steps: self
                .steps
                .iter()
                .map(|s| Step {
                    selector: Some(match s {
                        PathStep::Attribute(n) => Selector::AttributeName(n.clone()),
                        PathStep::Key(k) => Selector::ElementKeyString(k.clone()),
                        PathStep::Index(i) => Selector::ElementKeyInt(*i),
                    }),
                })
                .collect(),
        }
    }
}

impl fmt::Display for AttributePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.steps.is_empty() {
            return f.write_str("(root)");
        }
        for (i, step) in self.steps.iter().enumerate() {
            match step {
                PathStep::Attribute(n) if i == 0 => f.write_str(n)?,
                PathStep::Attribute(n) => write!(f, ".{n}")?,
                PathStep::Key(k) => write!(f, "[{k:?}]")?,
                PathStep::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// How serious a [`Diagnostic`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The operation failed.
    Error,
    /// The operation went on; the user should look.
    Warning,
}

/// A message for the user: severity, short Title Case summary, detail, and optionally the attribute it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// A short summary line.
    pub summary: String,
    /// What failed and what the user can do.
    pub detail: String,
    /// The attribute the diagnostic is about, if any.
    pub attribute: Option<AttributePath>,
}

impl Diagnostic {
    /// An error diagnostic.
    pub fn error(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            summary: summary.into(),
            detail: detail.into(),
            attribute: None,
        }
    }

    /// A warning diagnostic.
    pub fn warning(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            summary: summary.into(),
            detail: detail.into(),
            attribute: None,
        }
    }

    /// The same diagnostic pointing at `path`.
    pub fn with_attribute(mut self, path: AttributePath) -> Self {
        self.attribute = Some(path);
        self
    }

    pub(crate) fn to_proto(&self) -> crate::proto::tfplugin6::Diagnostic {
        use crate::proto::tfplugin6::diagnostic::Severity as S;
        crate::proto::tfplugin6::Diagnostic {
            severity: match self.severity {
                Severity::Error => S::Error as i32,
                Severity::Warning => S::Warning as i32,
            },
            summary: self.summary.clone(),
            detail: self.detail.clone(),
            attribute: self
                .attribute
                .as_ref()
                .filter(|p| !p.is_empty())
                .map(AttributePath::to_proto),
        }
    }
}

/// An ordered collection of diagnostics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(Vec<Diagnostic>);

impl Diagnostics {
    /// No diagnostics.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a diagnostic.
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.0.push(diagnostic);
    }

    /// Adds an error.
    pub fn error(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Diagnostic::error(summary, detail));
    }

    /// Adds a warning.
    pub fn warning(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Diagnostic::warning(summary, detail));
    }

    /// At most `limit` diagnostics about each top-level attribute (its own, or about any part of it,
    /// as `phone_ids[7]`): the rest of each are replaced by one, of the same severity, saying how
    /// many more there were. A list of ten thousand bad ids then costs twenty diagnostics, not ten
    /// thousand (Terraform prints each with its source line). Diagnostics about no attribute are
    /// all kept.
    pub fn capped_per_attribute(self, limit: usize) -> Diagnostics {
        let mut seen: HashMap<PathStep, (usize, usize, usize)> = HashMap::new();
        let mut kept = Vec::with_capacity(self.0.len().min(64));
        for diag in self.0 {
            let Some(top) = diag.attribute.as_ref().and_then(|p| p.steps().first()) else {
                kept.push(diag);
                continue;
            };
            let entry = seen.entry(top.clone()).or_insert((0, 0, 0));
            entry.0 += 1;
            if entry.0 <= limit {
                kept.push(diag);
            } else if diag.severity == Severity::Error {
                entry.1 += 1;
            } else {
                entry.2 += 1;
            }
        }
        let mut overflows: Vec<(PathStep, usize, usize)> = seen
            .into_iter()
            .filter_map(|(top, (_, errors, warnings))| {
                (errors + warnings > 0).then_some((top, errors, warnings))
            })
            .collect();
        overflows.sort_by_key(|(top, _, _)| format!("{top:?}"));
        for (top, errors, warnings) in overflows {
            let path = AttributePath::empty().step(top);
            for (n, severity) in [(errors, Severity::Error), (warnings, Severity::Warning)] {
                if n == 0 {
                    continue;
                }
                let (summary, kind) = match (severity, n) {
                    (Severity::Error, 1) => ("1 More Error".to_owned(), "error"),
                    (Severity::Error, _) => (format!("{n} More Errors"), "errors"),
                    (_, 1) => ("1 More Warning".to_owned(), "warning"),
                    (_, _) => (format!("{n} More Warnings"), "warnings"),
                };
                kept.push(Diagnostic {
                    severity,
                    summary,
                    detail: format!(
                        "{path}: and {n} more {kind} like the ones above; only the first {limit} about one attribute \
                         are shown."
                    ),
                    attribute: Some(path.clone()),
                });
            }
        }
        Diagnostics(kept)
    }

    /// Adds an error about the attribute at `path`.
    pub fn attribute_error(
        &mut self,
        path: AttributePath,
        summary: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.push(Diagnostic::error(summary, detail).with_attribute(path));
    }

    /// Adds a warning about the attribute at `path`.
    pub fn attribute_warning(
        &mut self,
        path: AttributePath,
        summary: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.push(Diagnostic::warning(summary, detail).with_attribute(path));
    }

    /// Appends all of `other`.
    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }

    /// Whether there are no diagnostics at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The diagnostics in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }

    /// The diagnostics as the wire carries them, at most [`DIAGNOSTICS_PER_ATTRIBUTE`] about each
    /// attribute (see [`Diagnostics::capped_per_attribute`]).
    pub(crate) fn to_proto(&self) -> Vec<crate::proto::tfplugin6::Diagnostic> {
        self.clone()
            .capped_per_attribute(DIAGNOSTICS_PER_ATTRIBUTE)
            .0
            .iter()
            .map(Diagnostic::to_proto)
            .collect()
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Self(vec![d])
    }
}

impl From<crate::Error> for Diagnostic {
    fn from(e: crate::Error) -> Self {
        let attribute = match &e {
            crate::Error::TypeMismatch { path, .. }
            | crate::Error::MissingAttribute { path, .. }
            | crate::Error::Model { path, .. }
            | crate::Error::Unknown(path) => Some(path.clone()).filter(|p| !p.is_empty()),
            _ => None,
        };
        Diagnostic {
            severity: Severity::Error,
            summary: "Invalid Value".into(),
            detail: e.to_string(),
            attribute,
        }
    }
}

impl From<crate::Error> for Diagnostics {
    fn from(e: crate::Error) -> Self {
        Diagnostic::from(e).into()
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a Diagnostics {
    type Item = &'a Diagnostic;
    type IntoIter = std::slice::Iter<'a, Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_prints_in_terraform_syntax() {
        let p = AttributePath::root("phones")
            .index(3)
            .attr("properties")
            .key("key");
        assert_eq!(p.to_string(), r#"phones[3].properties["key"]"#);
    }

    #[test]
    fn warnings_alone_are_not_errors() {
        let mut d = Diagnostics::new();
        d.warning("Unknown Key", "x");
        assert!(!d.has_errors());
        d.attribute_error(AttributePath::root("a"), "Bad", "y");
        assert!(d.has_errors());
        let wire = d.to_proto();
        assert_eq!(wire.len(), 2);
        assert!(wire[0].attribute.is_none());
        assert_eq!(wire[1].attribute.as_ref().map(|a| a.steps.len()), Some(1));
    }
}

/// How many diagnostics about one attribute reach Terraform; the rest are counted in one more.
pub const DIAGNOSTICS_PER_ATTRIBUTE: usize = 20;

/// How many characters of a value [`shown`] prints before cutting it.
pub const SHOWN_CHARS_MAX: usize = 64;

/// A value as a diagnostic quotes it: in double quotes, every character outside printable ASCII
/// escaped (`\u{430}`, so a Cyrillic `а` never passes for a Latin `a`), and cut after
/// [`SHOWN_CHARS_MAX`] characters with the length said, so that a huge value is not echoed whole.
pub fn shown(text: &str) -> String {
    let total = text.chars().count();
    let mut out = String::with_capacity(text.len().min(SHOWN_CHARS_MAX * 2) + 2);
    out.push('"');
    for c in text.chars().take(SHOWN_CHARS_MAX) {
        match c {
            ' '..='~' if c != '"' && c != '\\' => out.push(c),
            _ => out.extend(c.escape_default()),
        }
    }
    out.push('"');
    if total > SHOWN_CHARS_MAX {
        out.push_str(&format!("... ({total} characters)"));
    }
    out
}

#[cfg(test)]
mod cap_tests {
    use super::*;

    #[test]
    fn diagnostics_are_capped_per_top_level_attribute_with_the_rest_counted() {
        let mut diags = Diagnostics::new();
        for i in 0..1000 {
            diags.push(
                Diagnostic::error("Invalid Phone Id", format!("bad {i}"))
                    .with_attribute(AttributePath::root("phone_ids").index(i)),
            );
        }
        diags.push(
            Diagnostic::warning("Unknown Key", "w")
                .with_attribute(AttributePath::root("phones").index(0)),
        );
        diags.error("General", "no attribute");
        let capped = diags.capped_per_attribute(20);
        let summaries: Vec<&str> = capped.iter().map(|d| d.summary.as_str()).collect();
        assert_eq!(capped.iter().count(), 20 + 1 + 1 + 1, "{summaries:?}");
        let more = capped.iter().last().unwrap();
        assert_eq!(more.summary, "980 More Errors");
        assert_eq!(more.attribute, Some(AttributePath::root("phone_ids")));
        assert!(
            more.detail.starts_with("phone_ids: and 980 more errors"),
            "{}",
            more.detail
        );
    }

    #[test]
    fn shown_values_are_quoted_escaped_and_cut() {
        assert_eq!(shown("abc"), "\"abc\"");
        assert_eq!(shown("\u{430}b\n\"c"), "\"\\u{430}b\\n\\\"c\"");
        let long = "x".repeat(100_000);
        let s = shown(&long);
        assert!(s.ends_with("... (100000 characters)"), "{s}");
        assert!(s.len() < 100, "{s}");
    }
}
