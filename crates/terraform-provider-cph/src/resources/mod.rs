//! The provider's resources, each a thin adapter over the one engine ([`crate::engine`]): a
//! resource supplies its operation ([`crate::engine::Operation`]), its description and its
//! attributes beyond the shared ones ([`Kind`]); [`OperationResource`] serves any of them, and
//! `cph_phone_power` ([`phone_power::PhonePower`]) picks its operation (stop or power on) from the
//! declared state.

pub(crate) mod phone_backup;
pub(crate) mod phone_power;
pub(crate) mod phone_property;
pub(crate) mod phone_reset;
pub(crate) mod phone_restart;
pub(crate) mod phone_restore;

use std::marker::PhantomData;

use tfplugin::{
    ApplyRequest, ApplyResponse, Attribute, Block, Context, IdentitySchema, ImportResponse,
    PlanRequest, PlanResponse, Presence, RawState, ReadRequest, ReadResponse, Resource, Schema,
    Value,
};

use crate::attributes::{self, Surface};
use crate::config::ProviderData;
use crate::engine::{self, Operation};
use crate::identity::{self, PhonesIdentity};
use crate::model::names;
use crate::records::{self, SCHEMA_VERSION};
use crate::rollout::rollout_block;
use crate::timeouts::{TimeoutKind, timeouts_block};

/// How a resource names its phones.
pub(crate) enum PhoneList {
    /// `phones` (each with `phone_id` and these attributes), and `phone_ids` as an alternative
    /// when `ids_too`.
    Phones {
        what: &'static str,
        attributes: Vec<Attribute>,
        ids_too: bool,
    },
    /// `phone_ids` alone, described so.
    IdsOnly { description: String },
}

/// How a resource imports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Import {
    /// It does not.
    No,
    /// By a comma-separated list of phone ids, optionally followed by `/` and the property keys to
    /// manage (`keys`).
    ByIds { keys: bool },
}

/// What a resource declares beyond its operation.
pub(crate) trait Kind: Operation {
    /// The resource's description.
    fn description() -> &'static str;
    /// How it names its phones.
    fn phone_list() -> PhoneList;
    /// Arguments and attributes besides the phones, `triggers`, `allow_partial_failure`, the
    /// records and the blocks.
    fn extra_attributes(_surface: Surface) -> Vec<Attribute> {
        Vec::new()
    }
    /// Whether a change of `triggers` replaces it (the operations performed on demand).
    const TRIGGERS: bool = true;
    /// How it imports.
    const IMPORT: Import = Import::No;
    /// What its `id` is, when not the first request id.
    fn id_description() -> Option<&'static str> {
        None
    }
    /// What the resource does to a phone, as its schema says it (its operation's verb by default).
    fn schema_verb() -> &'static str {
        Self::VERB
    }
    /// What `jobs` holds.
    fn jobs_description() -> String {
        format!("The latest {} of each phone.", Self::schema_verb())
    }
}

/// `block` with the attributes that name `K`'s phones: `phones` (each with its inputs), and where
/// the operation takes phones by id alone `phone_ids` and `phone_map` too, exactly one of them.
pub(crate) fn with_phones<K: Kind>(block: Block, surface: Surface) -> Block {
    let mut block = block;
    match K::phone_list() {
        PhoneList::Phones {
            what,
            attributes: inputs,
            ids_too,
        } => {
            let presence = if ids_too {
                Presence::Optional
            } else {
                Presence::Required
            };
            block = block.attribute(attributes::phones(presence, what, inputs, surface));
            if ids_too {
                block
                    .attribute(attributes::phone_ids(
                        Presence::Optional,
                        attributes::phone_ids_besides_phones(K::schema_verb()),
                    ))
                    .attribute(attributes::phone_map(K::schema_verb()))
                    .exactly_one_of(
                        [names::PHONES, names::PHONE_IDS, names::PHONE_MAP],
                        attributes::PHONES_IDS_OR_MAP,
                    )
            } else {
                block
            }
        }
        PhoneList::IdsOnly { description } => {
            block.attribute(attributes::phone_ids(Presence::Required, description))
        }
    }
}

/// The schema of resource `K`.
pub(crate) fn schema<K: Kind>() -> Schema {
    let mut id = attributes::id();
    if let Some(text) = K::id_description() {
        id = id.description(text);
    }
    let mut block = Block::new().description(K::description()).attribute(id);
    block = with_phones::<K>(block, Surface::Resource);
    if K::TRIGGERS {
        block = block.attribute(attributes::triggers(K::schema_verb()));
    }
    for extra in K::extra_attributes(Surface::Resource) {
        block = block.attribute(extra);
    }
    block = block
        .attribute(attributes::allow_partial_failure())
        .attribute(attributes::request_ids())
        .attribute(attributes::records(names::JOBS, &K::jobs_description()));
    if let Some(follow) = K::FOLLOW_UP {
        block = block.attribute(attributes::restart_records(K::schema_verb(), follow.name()));
    }
    Schema::new(
        SCHEMA_VERSION,
        block
            .block(rollout_block(K::schema_verb(), Surface::Resource))
            .block(timeouts_block()),
    )
}

/// The submission journal a plan prunes, when the provider is configured and the journal exists.
pub(crate) fn journal_of(
    ctx: &Context<ProviderData>,
) -> Option<std::sync::Arc<crate::journal::Journal>> {
    ctx.data().ok().and_then(ProviderData::existing_journal)
}

/// A Terraform resource performing `K`'s operation, converging per phone.
pub(crate) struct OperationResource<K>(PhantomData<K>);

impl<K> OperationResource<K> {
    pub(crate) fn new() -> Self {
        Self(PhantomData)
    }
}

impl<K: Kind> Resource<ProviderData> for OperationResource<K> {
    fn type_name(&self) -> String {
        K::TYPE_NAME.to_string()
    }

    fn schema(&self) -> Schema {
        schema::<K>()
    }

    async fn modify_plan(
        &self,
        ctx: &Context<ProviderData>,
        req: &PlanRequest,
        plan: &mut PlanResponse,
    ) {
        let journal = journal_of(ctx);
        engine::plan::<K>(&schema::<K>(), journal.as_deref(), req, plan);
    }

    async fn create(&self, ctx: &Context<ProviderData>, req: ApplyRequest) -> ApplyResponse {
        engine::apply::<K>(ctx, &schema::<K>(), req, TimeoutKind::Create).await
    }

    async fn update(&self, ctx: &Context<ProviderData>, req: ApplyRequest) -> ApplyResponse {
        engine::apply::<K>(ctx, &schema::<K>(), req, TimeoutKind::Update).await
    }

    async fn read(&self, ctx: &Context<ProviderData>, req: ReadRequest) -> ReadResponse {
        engine::refresh::<K>(ctx, &schema::<K>(), req).await
    }

    async fn import(&self, ctx: &Context<ProviderData>, id: String) -> ImportResponse {
        match K::IMPORT {
            Import::No => ImportResponse {
                diagnostics: tfplugin::Diagnostic::error(
                    "Import Not Supported",
                    format!(
                        "{} records what was done to phones; there is nothing to import. Declare it, and the first \
                         apply performs the {} on its phones.",
                        K::TYPE_NAME,
                        K::VERB
                    ),
                )
                .into(),
                ..ImportResponse::default()
            },
            Import::ByIds { keys } => {
                let by_ids = matches!(K::phone_list(), PhoneList::IdsOnly { .. });
                engine::import::<K>(ctx, &schema::<K>(), id, by_ids, keys).await
            }
        }
    }

    fn upgrade_state(&self, version: i64, raw: RawState) -> Result<Value, tfplugin::Diagnostics> {
        records::upgrade_state(version, raw, &schema::<K>())
    }

    /// The resources that import by phone ids are identified by them.
    fn identity_schema(&self) -> Option<IdentitySchema> {
        matches!(K::IMPORT, Import::ByIds { .. }).then(identity::schema)
    }

    fn identity(&self, state: &Value) -> Option<Value> {
        match K::IMPORT {
            Import::ByIds { .. } => PhonesIdentity::of_state::<K>(state),
            Import::No => None,
        }
    }

    async fn import_identity(
        &self,
        ctx: &Context<ProviderData>,
        identity: Value,
    ) -> ImportResponse {
        PhonesIdentity::import(&identity, |id| self.import(ctx, id)).await
    }
}

#[cfg(test)]
mod tests {
    use tfplugin::{AttributeType, field_names};

    use super::phone_backup::PhoneBackup;
    use super::phone_power::{Power, Start, Stop};
    use super::phone_property::PhoneProperty;
    use super::phone_reset::PhoneReset;
    use super::phone_restart::PhoneRestart;
    use super::phone_restore::PhoneRestore;
    use super::*;
    use crate::model::{OperationModel, PhoneModel};

    /// Every attribute and block of `K`'s schema is a field of the model it decodes into, and every
    /// attribute of a phone is a field of the phone's model: nothing is lost between a value and
    /// its model.
    fn schema_and_model_agree<K: Kind>() {
        let schema = schema::<K>();
        let fields = field_names::<OperationModel<K::Phone>>();
        let names = schema
            .block
            .attributes
            .iter()
            .map(|a| a.name.as_str())
            .chain(schema.block.blocks.iter().map(|b| b.name.as_str()));
        for name in names {
            assert!(
                fields.contains(&name),
                "{}: no model field {name}",
                K::TYPE_NAME
            );
        }
        let phone_fields = field_names::<K::Phone>();
        for attr in &schema.block.attributes {
            if let AttributeType::Nested { attributes, .. } = &attr.ty {
                for inner in attributes {
                    assert!(
                        phone_fields.contains(&inner.name.as_str()),
                        "{}: no phone model field {}",
                        K::TYPE_NAME,
                        inner.name
                    );
                }
            }
        }
        let _ = <K::Phone as PhoneModel>::id_only();
    }

    #[test]
    fn every_schema_agrees_with_its_model() {
        schema_and_model_agree::<PhoneRestart>();
        schema_and_model_agree::<PhoneReset>();
        schema_and_model_agree::<PhoneRestore>();
        schema_and_model_agree::<PhoneBackup>();
        schema_and_model_agree::<PhoneProperty>();
        schema_and_model_agree::<Power<Stop>>();
        schema_and_model_agree::<Power<Start>>();
    }

    #[test]
    fn the_provider_reads_no_attribute_by_a_string_key_outside_declarations() {
        // Attribute names are written once (`model::names`, the models' fields); code reads values
        // through the models, never with `.get("...")`.
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut found = Vec::new();
        let mut dirs = vec![src];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                // Unit tests build values by hand; what they read is not the provider's code.
                let code = text.split("#[cfg(test)]").next().unwrap_or_default();
                let is_test_file = path.file_name().is_some_and(|n| n == "tests.rs");
                for (i, line) in code.lines().enumerate() {
                    if !is_test_file && line.contains(".get(\"") {
                        found.push(format!("{}:{}: {}", path.display(), i + 1, line.trim()));
                    }
                }
            }
        }
        assert!(
            found.is_empty(),
            "string-keyed reads:\n{}",
            found.join("\n")
        );
    }
}
