//! The provider's actions (Terraform 1.14+): every batch operation invocable on demand with
//! `terraform apply -invoke=action.TYPE.NAME`, or from a resource's lifecycle (`action_trigger`).
//! An action takes the inputs of the matching resource and runs on the same engine (chunked batch
//! requests, bulk job waits, rollout windows and failure budget, the shared request-rate cap, the
//! reading of ambiguous answers), streams its progress, and keeps nothing in state: its outcome is
//! its final diagnostics, an error naming every phone that did not succeed.

use std::marker::PhantomData;

use cph_types::{PhoneId, StopRequest};
use tfplugin::{
    Action, ActionProgress, Attribute, Block, Context, Diagnostic, Diagnostics, Presence, Schema,
    Type, Value,
};

use crate::attributes::Surface;
use crate::config::ProviderData;
use crate::engine::{self, Operation};
use crate::model::{self, BarePhone, OperationModel, names};
use crate::report;
use crate::resources::phone_backup::PhoneBackup;
use crate::resources::phone_reset::PhoneReset;
use crate::resources::phone_restart::PhoneRestart;
use crate::resources::phone_restore::PhoneRestore;
use crate::resources::{self, Kind, PhoneList};
use crate::rollout::rollout_block;
use crate::timeouts::{DEFAULT_TIMEOUT, duration_validator};

/// What an operation is as an action, beyond its resource's declarations.
pub(crate) trait Invocable: Kind {
    /// The action's description.
    fn action_description() -> &'static str;
}

/// The action performing `K`'s operation.
pub(crate) struct OperationAction<K>(PhantomData<K>);

impl<K> OperationAction<K> {
    pub(crate) fn new() -> Self {
        Self(PhantomData)
    }
}

/// The schema of `K`'s action: the phones and inputs of the matching resource, its `rollout` block
/// and a `timeout`; arguments only (an action keeps nothing).
pub(crate) fn action_schema<K: Invocable>() -> Schema {
    let mut block = resources::with_phones::<K>(
        Block::new().description(K::action_description()),
        Surface::Action,
    );
    for extra in K::extra_attributes(Surface::Action) {
        if extra.presence == Presence::Computed {
            continue;
        }
        block = block.attribute(argument(extra));
    }
    block = block.attribute(
        Attribute::optional(names::TIMEOUT, Type::String)
            .description(format!(
                "How long the invocation may take, submitting and waiting on every phone's job, as a duration such \
                 as `30s`, `10m` or `1h30m` (at most 7 days). When it passes, nothing more is submitted and the \
                 phones still running are named with their jobs. Default `{}`.",
                humantime::format_duration(DEFAULT_TIMEOUT)
            ))
            .validator(duration_validator("Invalid Timeout")),
    );
    Schema::new(
        0,
        block.block(rollout_block(K::schema_verb(), Surface::Action)),
    )
}

/// A resource argument as an action argument: optional (a default is taken when it is left out, as
/// the description says), with no plan modifier.
fn argument(mut attribute: Attribute) -> Attribute {
    if attribute.default.is_some() {
        attribute.description = attribute.full_description();
        attribute.default = None;
    }
    if attribute.presence == Presence::OptionalComputed {
        attribute.presence = Presence::Optional;
    }
    attribute.requires_replace = false;
    attribute.use_state_for_unknown = false;
    attribute
}

impl<K: Invocable> Action<ProviderData> for OperationAction<K> {
    fn type_name(&self) -> String {
        K::TYPE_NAME.to_owned()
    }

    fn schema(&self) -> Schema {
        action_schema::<K>()
    }

    /// Values known now are judged (the validators ran); unknown ones are judged before anything is
    /// sent, when the action is invoked.
    async fn plan(&self, _ctx: &Context<ProviderData>, config: &Value) -> Diagnostics {
        match model::decode::<OperationModel<K::Phone>>(config, "the action's configuration") {
            Ok(_) => Diagnostics::new(),
            Err(diag) => diag.into(),
        }
    }

    async fn invoke(
        &self,
        ctx: &Context<ProviderData>,
        config: Value,
        progress: ActionProgress,
    ) -> Diagnostics {
        let config: OperationModel<K::Phone> =
            match model::decode(&config, "the action's configuration") {
                Ok(c) => c,
                Err(diag) => return diag.into(),
            };
        let phones = K::desired(&config).map_or(0, |d| d.len());
        progress.report(format!(
            "{}: {} to {}",
            K::VERB,
            report::phones(phones),
            K::VERB
        ));
        match engine::invoke::<K>(ctx, &config, progress).await {
            Ok(done) => {
                let mut diags = done.diagnostics.clone();
                diags.extend(report::invocation(
                    K::TYPE_NAME,
                    K::VERB,
                    done.records(),
                    done.interruption.as_ref(),
                ));
                diags
            }
            Err(diags) => diags,
        }
    }
}

/// The stop operation, as an action only (`cph_phone_power` keeps phones stopped as state).
pub(crate) struct PhoneStop;

impl Operation for PhoneStop {
    type Phone = BarePhone;
    type Request = StopRequest;
    const TYPE_NAME: &'static str = "cph_phone_stop";
    const VERB: &'static str = "stop";
    const DONE: &'static str = "stopped";

    fn request(
        _model: &OperationModel<BarePhone>,
        phones: Vec<(PhoneId, &())>,
    ) -> Result<StopRequest, Diagnostic> {
        Ok(StopRequest::new(phones.into_iter().map(|(id, _)| id)))
    }
}

impl Kind for PhoneStop {
    fn description() -> &'static str {
        Self::action_description()
    }

    fn phone_list() -> PhoneList {
        PhoneList::IdsOnly {
            description: "The ids of the phones to stop, at least one, each at most once."
                .to_owned(),
        }
    }
}

impl Invocable for PhoneStop {
    fn action_description() -> &'static str {
        "Stops cloud phones now (StopCloudPhone), waits on every job and reports each phone that did not stop. \
         Nothing is kept in state; `cph_phone_power` keeps phones stopped as declared state instead."
    }
}

impl Invocable for PhoneRestart {
    fn action_description() -> &'static str {
        "Restarts cloud phones now (a stopped phone is powered on), optionally switching image and setting \
         properties, waits on every job, streams progress and reports each phone that did not succeed. Nothing is \
         kept in state: invoke it again to restart again."
    }
}

impl Invocable for PhoneReset {
    fn action_description() -> &'static str {
        "Resets cloud phones now, optionally to factory state (which also wipes every property set earlier), \
         switching image and setting properties; waits on every job, streams progress and reports each phone that \
         did not succeed. Nothing is kept in state."
    }
}

impl Invocable for PhoneRestore {
    fn action_description() -> &'static str {
        "Restores cloud phones' data from OBS now and, unless restart_after_restore is false, restarts each \
         restored phone; streams progress and reports each phone that did not succeed. Nothing is kept in state."
    }
}

impl Invocable for PhoneBackup {
    fn action_description() -> &'static str {
        "Backs cloud phones' data up to OBS now (the export API), one object per phone; streams progress and reports \
         each phone that did not succeed. Nothing is kept in state."
    }
}
