//! Diagnostics (errors and warnings shown to the user) and attribute paths that point at configuration.

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

    pub(crate) fn to_proto(&self) -> Vec<crate::proto::tfplugin6::Diagnostic> {
        self.0.iter().map(Diagnostic::to_proto).collect()
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
