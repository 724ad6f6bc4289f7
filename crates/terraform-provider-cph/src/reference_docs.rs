//! The generated parts of the pages in `docs/`: the argument and attribute lists, rendered from the
//! schemas the provider serves (see [`tfplugin::docs`]), and the property catalogue of the
//! `cph_phone_property` page, rendered from cph-types' catalogue. `cargo run -p
//! terraform-provider-cph --example write-reference-docs` writes them, and a test checks that the
//! pages hold what it would write.

use tfplugin::Schema;
use tfplugin::docs::{
    SchemaKind, arguments_markdown, attributes_markdown, replace_generated, served_schemas,
};

use crate::CphProvider;

/// The marker of the generated arguments list (`<!-- arguments:begin ... -->` to
/// `<!-- arguments:end -->`).
pub const ARGUMENTS_MARKER: &str = "arguments";
/// The marker of the generated list of attributes only the provider sets.
pub const ATTRIBUTES_MARKER: &str = "attributes";
/// The marker of the property catalogue table, in the page of the resource named
/// [`CATALOGUE_RESOURCE`].
pub const CATALOGUE_MARKER: &str = "property-catalogue";
/// The marker of the table of what each record status holds, in `docs/index.md`.
pub const RECORD_FIELDS_MARKER: &str = "record-fields";
/// The resource whose page shows the property catalogue.
pub const CATALOGUE_RESOURCE: &str = "cph_phone_property";

/// One page of `docs/` with generated parts.
pub struct ReferencePage {
    /// Its path, relative to the repository's root.
    pub path: String,
    /// What it documents.
    pub kind: SchemaKind,
    /// The type name it documents (empty for the provider).
    pub name: String,
    /// The schema it documents.
    pub schema: Schema,
}

/// Every page with generated parts: `docs/index.md` for the provider, and for each resource, data
/// source, action, list resource and ephemeral resource `docs/<resources, data-sources, actions,
/// list-resources or ephemeral-resources>/<type without cph_>.md`.
pub fn reference_pages() -> Vec<ReferencePage> {
    served_schemas(&CphProvider)
        .into_iter()
        .map(|(kind, name, schema)| {
            let short = name.strip_prefix("cph_").unwrap_or(&name);
            let path = match kind {
                SchemaKind::Provider => "docs/index.md".to_owned(),
                SchemaKind::Resource => format!("docs/resources/{short}.md"),
                SchemaKind::DataSource => format!("docs/data-sources/{short}.md"),
                SchemaKind::Action => format!("docs/actions/{short}.md"),
                SchemaKind::ListResource => format!("docs/list-resources/{short}.md"),
                SchemaKind::EphemeralResource => format!("docs/ephemeral-resources/{short}.md"),
            };
            ReferencePage {
                path,
                kind,
                name,
                schema,
            }
        })
        .collect()
}

impl ReferencePage {
    /// Each generated part of the page: its marker and its text.
    fn generated(&self) -> Vec<(&'static str, String)> {
        let mut parts = vec![(ARGUMENTS_MARKER, arguments_markdown(&self.schema.block))];
        match self.kind {
            SchemaKind::Provider => {
                parts.push((RECORD_FIELDS_MARKER, crate::records::fields_markdown()));
            }
            // Arguments only: an action keeps nothing, a list resource's results are resources.
            SchemaKind::Action | SchemaKind::ListResource => {}
            SchemaKind::Resource | SchemaKind::DataSource | SchemaKind::EphemeralResource => {
                parts.push((ATTRIBUTES_MARKER, attributes_markdown(&self.schema.block)));
            }
        }
        if self.kind == SchemaKind::Resource && self.name == CATALOGUE_RESOURCE {
            parts.push((CATALOGUE_MARKER, cph_types::catalogue_markdown()));
        }
        parts
    }

    /// `text` (the page as it is) with its generated parts as the schema and the catalogue give
    /// them.
    pub fn render(&self, text: &str) -> Result<String, String> {
        let mut text = text.to_owned();
        for (marker, content) in self.generated() {
            text = replace_generated(&text, marker, &content)
                .map_err(|e| format!("{}: {e}", self.path))?;
        }
        Ok(text)
    }
}
