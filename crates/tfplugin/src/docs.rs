//! Markdown reference lists rendered from schemas, so that a provider's pages say what it serves.
//!
//! [`arguments_markdown`] lists what a configuration sets (required and optional attributes and
//! the nested blocks), [`attributes_markdown`] what only the provider sets; each item gives the
//! name, whether it is required, the type and the schema's description (which ends with the
//! default, when there is one). [`replace_generated`] puts a rendering between two marker lines of
//! a page, and [`served_schemas`] gives every schema a provider serves.

use std::fmt::Write as _;

use crate::provider::Registry;
use crate::schema::{AttributeType, BlockNesting, ObjectNesting, Presence};
use crate::{Attribute, Block, NestedBlock, Provider, Schema, Type};

/// What a schema describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaKind {
    /// The provider's own configuration.
    Provider,
    /// A resource type.
    Resource,
    /// A data source.
    DataSource,
    /// An action (Terraform 1.14+).
    Action,
    /// A list resource (Terraform 1.14+).
    ListResource,
    /// An ephemeral resource (Terraform 1.10+).
    EphemeralResource,
}

/// Every schema `provider` serves: the provider's first, then its resources, data sources, actions,
/// list resources and ephemeral resources, each kind by type name.
pub fn served_schemas<P: Provider>(provider: &P) -> Vec<(SchemaKind, String, Schema)> {
    let mut registry = Registry::new();
    provider.register(&mut registry);
    let mut out = vec![(SchemaKind::Provider, String::new(), provider.schema())];
    out.extend(
        registry
            .resource_schemas()
            .map(|(name, schema)| (SchemaKind::Resource, name.to_owned(), schema.clone())),
    );
    out.extend(
        registry
            .data_source_schemas()
            .map(|(name, schema)| (SchemaKind::DataSource, name.to_owned(), schema.clone())),
    );
    out.extend(
        registry
            .action_schemas()
            .map(|(name, schema)| (SchemaKind::Action, name.to_owned(), schema.clone())),
    );
    out.extend(
        registry
            .list_resource_schemas()
            .map(|(name, schema)| (SchemaKind::ListResource, name.to_owned(), schema.clone())),
    );
    out.extend(registry.ephemeral_resource_schemas().map(|(name, schema)| {
        (
            SchemaKind::EphemeralResource,
            name.to_owned(),
            schema.clone(),
        )
    }));
    out
}

/// The arguments of `block` as a Markdown list: its required, then optional attributes (each in
/// the order of the schema), then its nested blocks, each block with its own arguments indented
/// under it. Nested attributes list their fields the same way.
pub fn arguments_markdown(block: &Block) -> String {
    let mut out = String::new();
    write_arguments(block, 0, &mut out);
    out
}

/// The attributes of `block` only the provider sets (computed and not optional), as a Markdown
/// list; empty when there are none.
pub fn attributes_markdown(block: &Block) -> String {
    let mut out = String::new();
    for attribute in block
        .attributes
        .iter()
        .filter(|a| a.presence == Presence::Computed)
    {
        write_attribute(attribute, 0, false, &mut out);
    }
    out
}

/// `page` with the lines between `<!-- {marker}:begin ... -->` and `<!-- {marker}:end -->`
/// replaced by `content` (the marker lines kept). An error says which marker is missing or out of
/// order.
pub fn replace_generated(page: &str, marker: &str, content: &str) -> Result<String, String> {
    let begin = format!("<!-- {marker}:begin");
    let end = format!("<!-- {marker}:end -->");
    let start = page
        .find(&begin)
        .ok_or_else(|| format!("no line starting `{begin}`"))?;
    let body = start
        + page[start..]
            .find('\n')
            .ok_or_else(|| format!("nothing after `{begin}`"))?
        + 1;
    let stop = page[body..]
        .find(&end)
        .map(|i| body + i)
        .ok_or_else(|| format!("no `{end}` after `{begin}`"))?;
    let mut out = String::with_capacity(page.len() + content.len());
    out.push_str(&page[..body]);
    out.push_str(content);
    if !content.is_empty() && !content.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&page[stop..]);
    Ok(out)
}

fn write_arguments(block: &Block, depth: usize, out: &mut String) {
    for wanted in [Presence::Required, Presence::Optional] {
        for attribute in block.attributes.iter().filter(|a| {
            a.presence == wanted
                || (wanted == Presence::Optional && a.presence == Presence::OptionalComputed)
        }) {
            write_attribute(attribute, depth, true, out);
        }
    }
    for nested in &block.blocks {
        write_block(nested, depth, out);
    }
}

fn write_attribute(attribute: &Attribute, depth: usize, argument: bool, out: &mut String) {
    let mut traits = Vec::new();
    if argument {
        traits.push(match attribute.presence {
            Presence::Required => "Required",
            _ => "Optional",
        });
    }
    let ty = type_words(&attribute.ty);
    let mut tags = traits.join(", ");
    if !tags.is_empty() {
        tags.push_str(", ");
    }
    tags.push_str(&ty);
    if attribute.sensitive {
        tags.push_str(", Sensitive");
    }
    if attribute.deprecated {
        tags.push_str(", Deprecated");
    }
    item(
        depth,
        &attribute.name,
        &tags,
        &attribute.full_description(),
        out,
    );
    if let AttributeType::Nested { attributes, .. } = &attribute.ty {
        for field in attributes {
            write_attribute(field, depth + 1, argument, out);
        }
    }
}

fn write_block(nested: &NestedBlock, depth: usize, out: &mut String) {
    let kind = match nested.nesting {
        BlockNesting::Single | BlockNesting::Group => "Block",
        BlockNesting::List => "Block List",
        BlockNesting::Set => "Block Set",
        BlockNesting::Map => "Block Map",
    };
    let presence = if nested.min_items > 0 {
        "Required"
    } else {
        "Optional"
    };
    let mut tags = format!("{presence}, {kind}");
    if nested.max_items > 0 && !matches!(nested.nesting, BlockNesting::Single | BlockNesting::Group)
    {
        let _ = write!(tags, ", Max: {}", nested.max_items);
    }
    item(depth, &nested.name, &tags, &nested.block.description, out);
    write_arguments(&nested.block, depth + 1, out);
}

fn item(depth: usize, name: &str, tags: &str, description: &str, out: &mut String) {
    let indent = "  ".repeat(depth);
    let _ = write!(out, "{indent}* `{name}` ({tags})");
    let description = description.split_whitespace().collect::<Vec<_>>().join(" ");
    if !description.is_empty() {
        out.push(' ');
        out.push_str(&description);
    }
    out.push('\n');
}

fn type_words(ty: &AttributeType) -> String {
    match ty {
        AttributeType::Plain(ty) => plain_words(ty),
        AttributeType::Nested { nesting, .. } => match nesting {
            ObjectNesting::Single => "Object".to_owned(),
            ObjectNesting::List => "List of Object".to_owned(),
            ObjectNesting::Set => "Set of Object".to_owned(),
            ObjectNesting::Map => "Map of Object".to_owned(),
        },
    }
}

fn plain_words(ty: &Type) -> String {
    match ty {
        Type::String => "String".to_owned(),
        Type::Number => "Number".to_owned(),
        Type::Bool => "Bool".to_owned(),
        Type::Dynamic => "Dynamic".to_owned(),
        Type::List(t) => format!("List of {}", plain_words(t)),
        Type::Set(t) => format!("Set of {}", plain_words(t)),
        Type::Map(t) => format!("Map of {}", plain_words(t)),
        Type::Object(_) => "Object".to_owned(),
        Type::Tuple(_) => "Tuple".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Value;

    fn block() -> Block {
        Block::new()
            .attribute(
                Attribute::optional_computed("flag", Type::Bool)
                    .description("A flag,\n  on two lines.")
                    .default(Value::Bool(false)),
            )
            .attribute(
                Attribute::required("names", Type::List(Box::new(Type::String)))
                    .description("The names."),
            )
            .attribute(Attribute::computed("id", Type::String).description("The id."))
            .block(NestedBlock::single(
                "timeouts",
                Block::new()
                    .description("How long.")
                    .attribute(Attribute::optional("create", Type::String).description("Create.")),
            ))
    }

    #[test]
    fn arguments_list_required_then_optional_then_blocks_with_their_types() {
        assert_eq!(
            arguments_markdown(&block()),
            "* `names` (Required, List of String) The names.\n\
             * `flag` (Optional, Bool) A flag, on two lines. Default `false`.\n\
             * `timeouts` (Optional, Block) How long.\n  \
               * `create` (Optional, String) Create.\n"
        );
        assert_eq!(attributes_markdown(&block()), "* `id` (String) The id.\n");
    }

    #[test]
    fn generated_text_goes_between_the_markers() {
        let page = "# T\n<!-- args:begin (generated) -->\nold\nlines\n<!-- args:end -->\nafter\n";
        assert_eq!(
            replace_generated(page, "args", "new\n").unwrap(),
            "# T\n<!-- args:begin (generated) -->\nnew\n<!-- args:end -->\nafter\n"
        );
        assert!(
            replace_generated("x", "args", "")
                .unwrap_err()
                .contains("args:begin")
        );
        assert!(
            replace_generated("<!-- args:begin -->\n", "args", "")
                .unwrap_err()
                .contains("args:end")
        );
    }
}
