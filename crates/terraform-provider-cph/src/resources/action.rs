//! The shape every *action* resource shares (`cph_phone_restart`, `cph_phone_reset`,
//! `cph_phone_restore`): applying it performs the operation on the phones that need it (new ones,
//! ones whose own inputs changed, ones whose last attempt did not succeed) and records each phone's
//! result; a resource-wide input (`triggers`, `image_id`) replaces it, performing the operation on
//! every phone; a refresh polls jobs still running; destroying it calls nothing.
//!
//! A resource supplies an [`Action`]: its operation (see [`Operation`]), its description and its
//! attributes beyond the shared ones. [`ActionResource`] does the rest.

use std::marker::PhantomData;

use tfplugin::{
    ApplyRequest, ApplyResponse, Attribute, Block, Context, Diagnostics, PlanRequest, PlanResponse,
    Presence, RawState, ReadRequest, ReadResponse, Resource, Schema, Value,
};

use crate::attributes;
use crate::config::ProviderData;
use crate::converge::{self, JOBS, Operation};
use crate::phones::read_phones;
use crate::records::{self, SCHEMA_VERSION};
use crate::rollout::rollout_block;
use crate::timeouts::{TimeoutKind, timeouts_block};

/// What distinguishes one action resource from another, beyond its operation.
pub(crate) trait Action: Operation {
    /// Whether the phones may be given as `phone_ids` (ids only) instead of `phones`.
    const PHONE_IDS: bool = false;

    /// The resource's description.
    fn description() -> &'static str;
    /// What `phones` is, e.g. "The phones to restart, with per-phone settings".
    fn phones_description() -> &'static str;
    /// The attributes of each `phones` object besides `phone_id`.
    fn phone_attributes() -> Vec<Attribute>;
    /// Arguments besides the phones, `triggers`, `allow_partial_failure` and `timeouts`.
    fn extra_attributes() -> Vec<Attribute> {
        Vec::new()
    }
}

/// A Terraform resource performing `A`.
pub(crate) struct ActionResource<A>(PhantomData<A>);

impl<A> ActionResource<A> {
    pub(crate) fn new() -> Self {
        Self(PhantomData)
    }
}

impl<A: Action> Resource<ProviderData> for ActionResource<A> {
    fn type_name(&self) -> String {
        A::TYPE_NAME.to_string()
    }

    fn schema(&self) -> Schema {
        let presence = if A::PHONE_IDS {
            Presence::Optional
        } else {
            Presence::Required
        };
        let mut block = Block::new()
            .description(A::description())
            .attribute(attributes::id())
            .attribute(attributes::phones(
                presence,
                A::phones_description(),
                A::phone_attributes(),
            ));
        if A::PHONE_IDS {
            block = block
                .attribute(attributes::phone_ids(A::VERB))
                .exactly_one_of(["phones", "phone_ids"], attributes::PHONES_OR_IDS);
        }
        block = block
            .attribute(attributes::triggers(A::VERB))
            .attribute(attributes::allow_partial_failure())
            .attribute(attributes::request_ids())
            .attribute(attributes::records(
                JOBS,
                &format!("The latest {} of each phone.", A::VERB),
            ));
        for extra in A::extra_attributes() {
            block = block.attribute(extra);
        }
        if let Some(setting) = A::FOLLOW_UP {
            block = block.attribute(attributes::restart_records(A::VERB, setting));
        }
        Schema::new(
            SCHEMA_VERSION,
            block.block(rollout_block(A::VERB)).block(timeouts_block()),
        )
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        let _ = read_phones::<A::Inputs>(config, &mut diags);
        diags
    }

    async fn modify_plan(
        &self,
        _ctx: &Context<ProviderData>,
        req: &PlanRequest,
        plan: &mut PlanResponse,
    ) {
        converge::plan::<A>(req, plan);
    }

    async fn create(&self, ctx: &Context<ProviderData>, req: ApplyRequest) -> ApplyResponse {
        converge::apply::<A>(ctx, req, TimeoutKind::Create)
            .await
            .into()
    }

    async fn update(&self, ctx: &Context<ProviderData>, req: ApplyRequest) -> ApplyResponse {
        converge::apply::<A>(ctx, req, TimeoutKind::Update)
            .await
            .into()
    }

    async fn read(&self, ctx: &Context<ProviderData>, req: ReadRequest) -> ReadResponse {
        let mut state = req.current_state;
        let diagnostics = converge::refresh::<A>(ctx, &mut state).await;
        ReadResponse {
            new_state: state,
            private: req.private,
            diagnostics,
        }
    }

    fn upgrade_state(&self, version: i64, raw: RawState) -> Result<Value, Diagnostics> {
        records::upgrade_state(version, raw, &self.schema())
    }
}
