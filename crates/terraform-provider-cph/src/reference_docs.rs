//! The argument and attribute lists of the pages in `docs/`, rendered from the schemas the provider
//! serves (see [`tfplugin::docs`]): `cargo run -p terraform-provider-cph --example
//! write-reference-docs` writes them, and a test checks that the pages hold what it would write.

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

/// One page of `docs/` with a generated reference.
pub struct ReferencePage {
    /// Its path, relative to the repository's root.
    pub path: String,
    /// What it documents.
    pub kind: SchemaKind,
    /// The schema it documents.
    pub schema: Schema,
}

/// Every page with a generated reference: `docs/index.md` for the provider, `docs/resources/<type
/// without cph_>.md` for each resource and `docs/data-sources/<type without cph_>.md` for each data
/// source.
pub fn reference_pages() -> Vec<ReferencePage> {
    served_schemas(&CphProvider)
        .into_iter()
        .map(|(kind, name, schema)| {
            let short = name.strip_prefix("cph_").unwrap_or(&name);
            let path = match kind {
                SchemaKind::Provider => "docs/index.md".to_owned(),
                SchemaKind::Resource => format!("docs/resources/{short}.md"),
                SchemaKind::DataSource => format!("docs/data-sources/{short}.md"),
            };
            ReferencePage { path, kind, schema }
        })
        .collect()
}

impl ReferencePage {
    /// `text` (the page as it is) with its generated lists as the schema gives them.
    pub fn render(&self, text: &str) -> Result<String, String> {
        let text = replace_generated(
            text,
            ARGUMENTS_MARKER,
            &arguments_markdown(&self.schema.block),
        )
        .map_err(|e| format!("{}: {e}", self.path))?;
        if self.kind == SchemaKind::Provider {
            return Ok(text);
        }
        replace_generated(
            &text,
            ATTRIBUTES_MARKER,
            &attributes_markdown(&self.schema.block),
        )
        .map_err(|e| format!("{}: {e}", self.path))
    }
}
