//! The schema model (attributes, nested attributes, nested blocks), its implied value type,
//! conversion to the wire, and the check of Terraform 1.1+'s internal schema rules.

use std::collections::{BTreeMap, BTreeSet};

use crate::proto::tfplugin6 as pb;
use crate::validate::{ExactlyOneOf, Validator};
use crate::{AttributePath, Diagnostics, Fields, Type, Value};

/// Whether the user must, may or cannot set an attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// The user must set it.
    Required,
    /// The user may set it; null when unset.
    Optional,
    /// Only the provider sets it.
    Computed,
    /// The user may set it; otherwise the provider decides.
    OptionalComputed,
}

impl Presence {
    /// Whether the provider may set the value.
    pub fn is_computed(self) -> bool {
        matches!(self, Presence::Computed | Presence::OptionalComputed)
    }

    fn flags(self) -> (bool, bool, bool) {
        match self {
            Presence::Required => (true, false, false),
            Presence::Optional => (false, true, false),
            Presence::Computed => (false, false, true),
            Presence::OptionalComputed => (false, true, true),
        }
    }
}

/// How the objects of a nested attribute are collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectNesting {
    /// One object.
    Single,
    /// `list(object)`
    List,
    /// `set(object)`
    Set,
    /// `map(object)`
    Map,
}

/// The type of an attribute: a plain type, or nested attributes (protocol 6).
#[derive(Debug, Clone, PartialEq)]
pub enum AttributeType {
    /// A plain Terraform type such as `map(string)`.
    Plain(Type),
    /// An object (or collection of objects) described attribute by attribute.
    Nested {
        /// The collection kind.
        nesting: ObjectNesting,
        /// The attributes of each object.
        attributes: Vec<Attribute>,
    },
}

/// One attribute of a block.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    /// The name (`^[a-z0-9_]+$`).
    pub name: String,
    /// The type.
    pub ty: AttributeType,
    /// Required / optional / computed / optional+computed.
    pub presence: Presence,
    /// Terraform hides the value in plan output.
    pub sensitive: bool,
    /// Terraform warns when the attribute is set.
    pub deprecated: bool,
    /// Markdown description for docs and editors.
    pub description: String,
    /// Plan modifier: a change of this attribute replaces the resource.
    pub requires_replace: bool,
    /// Plan modifier: when the resource changes, keep the prior value instead of planning unknown.
    pub use_state_for_unknown: bool,
    /// Checks of the configured value, run at validate time and again before an apply.
    pub validators: Vec<Validator>,
    /// The value planned when the configuration leaves the attribute unset (optional and computed
    /// attributes only); the description ends with it.
    pub default: Option<Value>,
}

impl Attribute {
    /// An attribute of plain type `ty` with `presence`.
    pub fn new(name: impl Into<String>, ty: Type, presence: Presence) -> Self {
        Self {
            name: name.into(),
            ty: AttributeType::Plain(ty),
            presence,
            sensitive: false,
            deprecated: false,
            description: String::new(),
            requires_replace: false,
            use_state_for_unknown: false,
            validators: Vec::new(),
            default: None,
        }
    }

    /// A required attribute.
    pub fn required(name: impl Into<String>, ty: Type) -> Self {
        Self::new(name, ty, Presence::Required)
    }

    /// An optional attribute.
    pub fn optional(name: impl Into<String>, ty: Type) -> Self {
        Self::new(name, ty, Presence::Optional)
    }

    /// A computed attribute.
    pub fn computed(name: impl Into<String>, ty: Type) -> Self {
        Self::new(name, ty, Presence::Computed)
    }

    /// An optional attribute the provider fills when unset.
    pub fn optional_computed(name: impl Into<String>, ty: Type) -> Self {
        Self::new(name, ty, Presence::OptionalComputed)
    }

    /// A nested-attributes attribute (`phones = [{ phone_id = "..." }]`).
    pub fn nested(
        name: impl Into<String>,
        nesting: ObjectNesting,
        presence: Presence,
        attributes: Vec<Attribute>,
    ) -> Self {
        let mut a = Self::new(name, Type::Dynamic, presence);
        a.ty = AttributeType::Nested {
            nesting,
            attributes,
        };
        a
    }

    /// Sets the description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = text.into();
        self
    }

    /// Marks the value sensitive.
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    /// Marks the attribute deprecated.
    pub fn deprecated(mut self) -> Self {
        self.deprecated = true;
        self
    }

    /// Plan modifier: a change of this attribute forces a new resource.
    pub fn requires_replace(mut self) -> Self {
        self.requires_replace = true;
        self
    }

    /// Plan modifier: keep the prior state's value rather than unknown when the resource is updated.
    pub fn use_state_for_unknown(mut self) -> Self {
        self.use_state_for_unknown = true;
        self
    }

    /// Adds a check of the configured value.
    pub fn validator(mut self, validator: Validator) -> Self {
        self.validators.push(validator);
        self
    }

    /// The value planned when the configuration leaves the attribute unset. Only for optional and
    /// computed attributes ([`Schema::check`] says so otherwise).
    pub fn default(mut self, value: Value) -> Self {
        self.default = Some(value);
        self
    }

    /// The description as served: the text, then `Default ...` rendered from the default.
    pub fn full_description(&self) -> String {
        match &self.default {
            None => self.description.clone(),
            Some(value) => {
                let sep = if self.description.is_empty() { "" } else { " " };
                format!("{}{sep}Default `{}`.", self.description, render(value))
            }
        }
    }

    /// The value type of the attribute.
    pub fn value_type(&self) -> Type {
        match &self.ty {
            AttributeType::Plain(t) => t.clone(),
            AttributeType::Nested {
                nesting,
                attributes,
            } => {
                let obj = Type::Object(
                    attributes
                        .iter()
                        .map(|a| (a.name.clone(), a.value_type()))
                        .collect(),
                );
                match nesting {
                    ObjectNesting::Single => obj,
                    ObjectNesting::List => Type::list(obj),
                    ObjectNesting::Set => Type::set(obj),
                    ObjectNesting::Map => Type::map(obj),
                }
            }
        }
    }

    fn to_proto(&self) -> pb::schema::Attribute {
        let (required, optional, computed) = self.presence.flags();
        let (ty, nested_type) = match &self.ty {
            AttributeType::Plain(t) => (t.to_json_bytes(), None),
            AttributeType::Nested {
                nesting,
                attributes,
            } => {
                use pb::schema::object::NestingMode as N;
                let mode = match nesting {
                    ObjectNesting::Single => N::Single,
                    ObjectNesting::List => N::List,
                    ObjectNesting::Set => N::Set,
                    ObjectNesting::Map => N::Map,
                };
                #[allow(deprecated)]
                let object = pb::schema::Object {
                    attributes: attributes.iter().map(Attribute::to_proto).collect(),
                    nesting: mode as i32,
                    min_items: 0,
                    max_items: 0,
                };
                (Vec::new(), Some(object))
            }
        };
        pb::schema::Attribute {
            name: self.name.clone(),
            r#type: ty,
            nested_type,
            description: self.full_description(),
            required,
            optional,
            computed,
            sensitive: self.sensitive,
            description_kind: pb::StringKind::Markdown as i32,
            deprecated: self.deprecated,
            deprecation_message: String::new(),
            write_only: false,
        }
    }
}

/// How a nested block repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockNesting {
    /// At most one block; null when absent.
    Single,
    /// Exactly one block; its attributes are null when absent.
    Group,
    /// A list of blocks.
    List,
    /// A set of blocks.
    Set,
    /// Labelled blocks, a map of objects.
    Map,
}

/// A nested block (`timeouts { create = "30m" }`).
#[derive(Debug, Clone, PartialEq)]
pub struct NestedBlock {
    /// The block type name.
    pub name: String,
    /// How it repeats.
    pub nesting: BlockNesting,
    /// Its contents.
    pub block: Block,
    /// Minimum count (list and set blocks; 0 or 1 for single blocks).
    pub min_items: i64,
    /// Maximum count, 0 for unlimited.
    pub max_items: i64,
    /// Plan modifier: any change inside the block forces a new resource.
    pub requires_replace: bool,
}

impl NestedBlock {
    /// A block of `nesting` kind with contents `block`.
    pub fn new(name: impl Into<String>, nesting: BlockNesting, block: Block) -> Self {
        Self {
            name: name.into(),
            nesting,
            block,
            min_items: 0,
            max_items: 0,
            requires_replace: false,
        }
    }

    /// A single, optional block (`timeouts { ... }`).
    pub fn single(name: impl Into<String>, block: Block) -> Self {
        Self::new(name, BlockNesting::Single, block)
    }

    /// A list of blocks.
    pub fn list(name: impl Into<String>, block: Block) -> Self {
        Self::new(name, BlockNesting::List, block)
    }

    /// A set of blocks.
    pub fn set(name: impl Into<String>, block: Block) -> Self {
        Self::new(name, BlockNesting::Set, block)
    }

    /// Sets the item count limits.
    pub fn items(mut self, min: i64, max: i64) -> Self {
        self.min_items = min;
        self.max_items = max;
        self
    }

    /// Plan modifier: any change in the block forces a new resource.
    pub fn requires_replace(mut self) -> Self {
        self.requires_replace = true;
        self
    }

    /// The value type of the block.
    pub fn value_type(&self) -> Type {
        let obj = self.block.value_type();
        match self.nesting {
            BlockNesting::Single | BlockNesting::Group => obj,
            BlockNesting::List => Type::list(obj),
            BlockNesting::Set => Type::set(obj),
            BlockNesting::Map => Type::map(obj),
        }
    }

    fn to_proto(&self) -> pb::schema::NestedBlock {
        use pb::schema::nested_block::NestingMode as N;
        let nesting = match self.nesting {
            BlockNesting::Single => N::Single,
            BlockNesting::Group => N::Group,
            BlockNesting::List => N::List,
            BlockNesting::Set => N::Set,
            BlockNesting::Map => N::Map,
        };
        pb::schema::NestedBlock {
            type_name: self.name.clone(),
            block: Some(self.block.to_proto(0)),
            nesting: nesting as i32,
            min_items: self.min_items,
            max_items: self.max_items,
        }
    }
}

/// A block: attributes and nested blocks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Block {
    /// The attributes.
    pub attributes: Vec<Attribute>,
    /// The nested blocks.
    pub blocks: Vec<NestedBlock>,
    /// Markdown description.
    pub description: String,
    /// Whether the whole block is deprecated.
    pub deprecated: bool,
    /// Rules that exactly one of some attributes is set.
    pub exactly_one_of: Vec<ExactlyOneOf>,
}

impl Block {
    /// An empty block.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an attribute.
    pub fn attribute(mut self, attribute: Attribute) -> Self {
        self.attributes.push(attribute);
        self
    }

    /// Adds a nested block.
    pub fn block(mut self, block: NestedBlock) -> Self {
        self.blocks.push(block);
        self
    }

    /// Sets the description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = text.into();
        self
    }

    /// Requires exactly one of the optional attributes `names` to be set; `hint` (may be empty)
    /// says what each is for in the diagnostics.
    pub fn exactly_one_of<const N: usize>(mut self, names: [&str; N], hint: &str) -> Self {
        self.exactly_one_of.push(ExactlyOneOf {
            names: names.iter().map(|n| (*n).to_owned()).collect(),
            hint: hint.to_owned(),
        });
        self
    }

    /// Sets the attributes that the configuration leaves null and that have a default to the
    /// default (for state written before the default existed).
    pub fn fill_defaults(&self, value: &mut Value) {
        let Value::Object(fields) = value else { return };
        for attr in &self.attributes {
            if let Some(default) = &attr.default {
                let slot = fields.get_or_insert_with(&attr.name, || Value::Null);
                if slot.is_null() {
                    *slot = default.clone();
                }
            }
        }
    }

    /// The object type a value of this block has.
    pub fn value_type(&self) -> Type {
        let mut attrs: BTreeMap<String, Type> = self
            .attributes
            .iter()
            .map(|a| (a.name.clone(), a.value_type()))
            .collect();
        for b in &self.blocks {
            attrs.insert(b.name.clone(), b.value_type());
        }
        Type::Object(attrs)
    }

    /// Replaces null list/set/map blocks by empty collections inside a non-null object, recursively,
    /// as Terraform requires (block collections are never null).
    pub fn normalize(&self, value: &mut Value) {
        let Value::Object(attrs) = value else { return };
        for nb in &self.blocks {
            let slot = attrs.get_or_insert_with(&nb.name, || Value::Null);
            match nb.nesting {
                BlockNesting::List | BlockNesting::Set | BlockNesting::Map if slot.is_null() => {
                    *slot = match nb.nesting {
                        BlockNesting::List => Value::List(Vec::new()),
                        BlockNesting::Set => Value::Set(Vec::new()),
                        _ => Value::Map(Fields::new()),
                    };
                }
                BlockNesting::Single | BlockNesting::Group => nb.block.normalize(slot),
                _ => match slot {
                    Value::List(items) | Value::Set(items) => {
                        items.iter_mut().for_each(|v| nb.block.normalize(v))
                    }
                    Value::Map(items) => items.values_mut().for_each(|v| nb.block.normalize(v)),
                    _ => {}
                },
            }
        }
    }

    pub(crate) fn to_proto(&self, version: i64) -> pb::schema::Block {
        pb::schema::Block {
            version,
            attributes: self.attributes.iter().map(Attribute::to_proto).collect(),
            block_types: self.blocks.iter().map(NestedBlock::to_proto).collect(),
            description: self.description.clone(),
            description_kind: pb::StringKind::Markdown as i32,
            deprecated: self.deprecated,
            deprecation_message: String::new(),
        }
    }

    fn check_into(&self, at: &str, problems: &mut Vec<String>) {
        for rule in &self.exactly_one_of {
            for name in &rule.names {
                match self.attributes.iter().find(|a| &a.name == name) {
                    None => problems.push(format!(
                        "{at}{name}: named by exactly_one_of but not an attribute of the block"
                    )),
                    Some(a) if a.presence == Presence::Required => problems.push(format!(
                        "{at}{name}: named by exactly_one_of, so it must be optional"
                    )),
                    Some(_) => {}
                }
            }
        }
        let mut seen = BTreeSet::new();
        for a in &self.attributes {
            check_attribute(a, at, problems);
            if !seen.insert(a.name.as_str()) {
                problems.push(format!("{at}{}: attribute declared twice", a.name));
            }
        }
        for b in &self.blocks {
            let here = format!("{at}{}", b.name);
            if !valid_name(&b.name) {
                problems.push(format!("{here}: block name must match ^[a-z0-9_]+$"));
            }
            if !seen.insert(b.name.as_str()) {
                problems.push(format!(
                    "{here}: name used for both an attribute and a block, or twice"
                ));
            }
            match b.nesting {
                BlockNesting::Single | BlockNesting::Group => {
                    if !(0..=1).contains(&b.min_items) || !(0..=1).contains(&b.max_items) {
                        problems.push(format!(
                            "{here}: single blocks need min_items and max_items of 0 or 1"
                        ));
                    }
                    if b.nesting == BlockNesting::Group && (b.min_items != 0 || b.max_items != 0) {
                        problems.push(format!(
                            "{here}: group blocks need min_items and max_items of 0"
                        ));
                    }
                }
                BlockNesting::List | BlockNesting::Set => {
                    if b.min_items < 0 || b.max_items < 0 {
                        problems.push(format!(
                            "{here}: min_items and max_items must not be negative"
                        ));
                    }
                    if b.max_items != 0 && b.min_items > b.max_items {
                        problems.push(format!(
                            "{here}: min_items {} exceeds max_items {}",
                            b.min_items, b.max_items
                        ));
                    }
                }
                BlockNesting::Map => {
                    if b.min_items != 0 || b.max_items != 0 {
                        problems.push(format!(
                            "{here}: map blocks need min_items and max_items of 0"
                        ));
                    }
                }
            }
            b.block.check_into(&format!("{here}."), problems);
        }
    }
}

/// A default as its description shows it: strings bare, other values in Terraform syntax.
fn render(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.as_str().to_owned(),
        Value::Null => "null".to_owned(),
        other => other.kind().to_owned(),
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn check_attribute(a: &Attribute, at: &str, problems: &mut Vec<String>) {
    let here = format!("{at}{}", a.name);
    if !valid_name(&a.name) {
        problems.push(format!("{here}: attribute name must match ^[a-z0-9_]+$"));
    }
    if a.default.is_some() && a.presence != Presence::OptionalComputed {
        problems.push(format!(
            "{here}: a default needs an optional and computed attribute"
        ));
    }
    if a.use_state_for_unknown && !a.presence.is_computed() {
        problems.push(format!(
            "{here}: use_state_for_unknown needs a computed attribute"
        ));
    }
    if let AttributeType::Nested { attributes, .. } = &a.ty {
        if attributes.is_empty() {
            problems.push(format!(
                "{here}: nested attributes need at least one attribute"
            ));
        }
        let mut seen = BTreeSet::new();
        for inner in attributes {
            if !seen.insert(inner.name.as_str()) {
                problems.push(format!("{here}.{}: attribute declared twice", inner.name));
            }
            if a.presence == Presence::Computed && !matches!(inner.presence, Presence::Computed) {
                problems.push(format!(
                    "{here}.{}: attributes inside a computed attribute must be computed",
                    inner.name
                ));
            }
            check_attribute(inner, &format!("{here}."), problems);
        }
    }
}

/// Names Terraform reserves at the top level of resource and data source configurations.
const RESERVED_RESOURCE_NAMES: [&str; 7] = [
    "connection",
    "count",
    "depends_on",
    "for_each",
    "lifecycle",
    "provider",
    "provisioner",
];

/// Names Terraform reserves at the top level of provider configurations.
const RESERVED_PROVIDER_NAMES: [&str; 2] = ["alias", "version"];

/// A versioned schema of a provider configuration, resource or data source.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Schema {
    /// The state version; bump it when stored state must be upgraded.
    pub version: i64,
    /// The top-level block.
    pub block: Block,
}

impl Schema {
    /// A schema of `version` with top-level `block`.
    pub fn new(version: i64, block: Block) -> Self {
        Self { version, block }
    }

    /// The object type of values of this schema.
    pub fn value_type(&self) -> Type {
        self.block.value_type()
    }

    /// Runs every validator and cross-attribute rule over `config`. Unknown values are skipped;
    /// the runtime calls this at validate time and again, with everything known, before an apply.
    pub fn validate(&self, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        validate_block(&self.block, config, &mut diags);
        diags
    }

    /// Checks Terraform 1.1+'s internal schema rules; returns every problem found.
    pub fn check(&self) -> Result<(), Vec<String>> {
        let mut problems = Vec::new();
        if self.version < 0 {
            problems.push(format!("schema version {} is negative", self.version));
        }
        self.block.check_into("", &mut problems);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// [`Schema::check`] plus the names Terraform reserves in resource and data source blocks.
    pub fn check_resource(&self) -> Result<(), Vec<String>> {
        self.check_with_reserved(&RESERVED_RESOURCE_NAMES)
    }

    /// [`Schema::check`] plus the names Terraform reserves in provider blocks.
    pub fn check_provider(&self) -> Result<(), Vec<String>> {
        self.check_with_reserved(&RESERVED_PROVIDER_NAMES)
    }

    fn check_with_reserved(&self, reserved: &[&str]) -> Result<(), Vec<String>> {
        let mut problems = self.check().err().unwrap_or_default();
        let names = self
            .block
            .attributes
            .iter()
            .map(|a| &a.name)
            .chain(self.block.blocks.iter().map(|b| &b.name));
        for name in names {
            if reserved.contains(&name.as_str()) {
                problems.push(format!("{name}: name is reserved by terraform"));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    pub(crate) fn to_proto(&self) -> pb::Schema {
        pb::Schema {
            version: self.version,
            block: Some(self.block.to_proto(self.version)),
        }
    }
}

/// Runs every validator and rule of `block` over `config`; unknown values are skipped, so
/// configurations waiting on other resources are judged on what is known.
fn validate_block(block: &Block, config: &Value, diags: &mut Diagnostics) {
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

    fn phones_schema() -> Schema {
        Schema::new(
            1,
            Block::new()
                .attribute(Attribute::computed("id", Type::String).use_state_for_unknown())
                .attribute(Attribute::nested(
                    "phones",
                    ObjectNesting::List,
                    Presence::Required,
                    vec![
                        Attribute::required("phone_id", Type::String),
                        Attribute::optional("properties", Type::map(Type::String)),
                    ],
                ))
                .attribute(Attribute::optional("secret", Type::String).sensitive())
                .block(NestedBlock::single(
                    "timeouts",
                    Block::new().attribute(Attribute::optional("create", Type::String)),
                ))
                .block(NestedBlock::list(
                    "jobs",
                    Block::new().attribute(Attribute::computed("job_id", Type::String)),
                )),
        )
    }

    #[test]
    fn a_well_formed_schema_passes_the_check() {
        assert_eq!(phones_schema().check_resource(), Ok(()));
    }

    #[test]
    fn implied_type_covers_attributes_nested_attributes_and_blocks() {
        let ty = phones_schema().value_type();
        let Type::Object(attrs) = ty else {
            panic!("not an object")
        };
        assert_eq!(attrs["id"], Type::String);
        assert_eq!(
            attrs["phones"],
            Type::list(Type::object([
                ("phone_id", Type::String),
                ("properties", Type::map(Type::String))
            ]))
        );
        assert_eq!(attrs["timeouts"], Type::object([("create", Type::String)]));
        assert_eq!(
            attrs["jobs"],
            Type::list(Type::object([("job_id", Type::String)]))
        );
    }

    #[test]
    fn check_rejects_bad_names_duplicates_and_block_limits() {
        let bad = Schema::new(
            0,
            Block::new()
                .attribute(Attribute::optional("Bad-Name", Type::String))
                .attribute(Attribute::optional("dup", Type::String))
                .block(NestedBlock::list("dup", Block::new()))
                .block(NestedBlock::single("one", Block::new()).items(0, 2))
                .block(NestedBlock::list("range", Block::new()).items(3, 2))
                .attribute(Attribute::optional("keep", Type::String).use_state_for_unknown()),
        );
        let problems = bad.check().unwrap_err();
        let text = problems.join("\n");
        for needle in [
            "Bad-Name",
            "dup: name used",
            "one: single blocks",
            "range: min_items 3",
            "keep: use_state",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in {text}");
        }
    }

    #[test]
    fn defaults_need_optional_computed_attributes_and_end_the_description() {
        let good = Attribute::optional_computed("flag", Type::Bool)
            .default(Value::Bool(true))
            .description("A flag.");
        assert_eq!(good.full_description(), "A flag. Default `true`.");
        let wire = good.to_proto();
        assert_eq!(wire.description, "A flag. Default `true`.");
        let bad = Schema::new(
            0,
            Block::new()
                .attribute(Attribute::optional("flag", Type::Bool).default(Value::Bool(true)))
                .exactly_one_of(["flag", "missing"], ""),
        );
        let text = bad.check().unwrap_err().join("\n");
        assert!(
            text.contains("flag: a default needs an optional and computed"),
            "{text}"
        );
        assert!(text.contains("missing: named by exactly_one_of"), "{text}");
        let mut state = Value::object([("flag", Value::Null)]);
        Block::new().attribute(good).fill_defaults(&mut state);
        assert_eq!(state.get("flag"), Some(&Value::Bool(true)));
    }

    #[test]
    fn reserved_names_are_rejected_per_schema_kind() {
        let s = Schema::new(
            0,
            Block::new().attribute(Attribute::optional("count", Type::Number)),
        );
        assert!(s.check_resource().is_err());
        assert!(s.check_provider().is_ok());
        let p = Schema::new(
            0,
            Block::new().attribute(Attribute::optional("alias", Type::String)),
        );
        assert!(p.check_provider().is_err());
    }

    #[test]
    fn computed_nested_attribute_requires_computed_children() {
        let s = Schema::new(
            0,
            Block::new().attribute(Attribute::nested(
                "jobs",
                ObjectNesting::List,
                Presence::Computed,
                vec![Attribute::optional("x", Type::String)],
            )),
        );
        assert!(s.check().unwrap_err()[0].contains("jobs.x"));
    }

    #[test]
    fn normalize_turns_null_block_collections_into_empty_ones() {
        let schema = phones_schema();
        let mut v = Value::object([
            ("id", Value::Null),
            ("jobs", Value::Null),
            ("timeouts", Value::Null),
        ]);
        schema.block.normalize(&mut v);
        assert_eq!(v.get("jobs"), Some(&Value::List(vec![])));
        assert_eq!(v.get("timeouts"), Some(&Value::Null));
        let mut null = Value::Null;
        schema.block.normalize(&mut null);
        assert!(null.is_null());
    }

    #[test]
    fn wire_form_sets_presence_flags_and_nesting() {
        let wire = phones_schema().to_proto();
        let block = wire.block.unwrap();
        let id = &block.attributes[0];
        assert!(id.computed && !id.optional && !id.required);
        let phones = &block.attributes[1];
        assert!(phones.r#type.is_empty());
        assert_eq!(phones.nested_type.as_ref().unwrap().attributes.len(), 2);
        assert!(block.attributes[2].sensitive);
        assert_eq!(block.block_types.len(), 2);
        assert_eq!(block.version, 1);
    }
}

#[cfg(test)]
mod validation_tests {
    use super::*;
    use crate::Presence;

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
                    Presence::Optional,
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
