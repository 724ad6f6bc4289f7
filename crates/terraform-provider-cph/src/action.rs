//! The shape every *action* resource shares (`cph_phone_restart`, `cph_phone_reset`,
//! `cph_phone_restore`): creating one performs a batch operation and records each phone's result;
//! changing an input that defines the action performs it again (replacement); changing
//! `allow_partial_failure` or `timeouts` only updates state; destroying one calls nothing.
//!
//! A resource supplies an [`Action`]: its name, its `phones` object attributes, its extra arguments
//! and how to turn its configuration into batch operations. [`ActionResource`] does the rest.

use std::marker::PhantomData;
use std::time::Instant;

use tfplugin::{
    ApplyRequest, ApplyResponse, Attribute, AttributePath, Block, Context, Diagnostic, Diagnostics,
    ObjectNesting, PlanRequest, PlanResponse, Presence, RawState, Resource, Schema, Type, Value,
};

use crate::batch::{self, Operation, Outcome};
use crate::common::{
    self, JobRecord, TimeoutKind, Timeouts, allow_partial_failure_attribute, id_attribute,
    jobs_attribute, request_ids_attribute, timeouts_block, triggers_attribute,
};
use crate::provider::ProviderData;
use crate::validate::{self, PhoneFields};

/// What distinguishes one action resource from another.
pub(crate) trait Action: Send + Sync + 'static {
    /// The resource type name, e.g. `cph_phone_restart`.
    const TYPE_NAME: &'static str;
    /// The action in words, e.g. `restart`.
    const VERB: &'static str;
    /// Whether the resource records a follow-up restart in `restart_jobs`.
    const HAS_RESTART_JOBS: bool = false;
    /// Whether the phones may be given as `phone_ids` (ids only) instead of `phones`: true when every
    /// per-phone attribute besides `phone_id` is optional.
    const PHONE_IDS: bool = false;

    /// The resource's description.
    fn description() -> &'static str;
    /// The attributes of each `phones` object (all replace the resource when changed).
    fn phone_attributes() -> Vec<Attribute>;
    /// Arguments besides `phones`, `triggers`, `allow_partial_failure` and `timeouts`.
    fn extra_attributes() -> Vec<Attribute> {
        Vec::new()
    }
    /// Which per-phone fields validation checks.
    fn phone_fields() -> PhoneFields;
    /// Validation of the extra arguments.
    fn validate_extra(config: &Value, diags: &mut Diagnostics) {
        let _ = (config, diags);
    }
    /// Plans defaults of the extra arguments.
    fn plan_defaults(req: &PlanRequest, plan: &mut PlanResponse) {
        let _ = (req, plan);
    }
    /// The batch operation the configuration asks for.
    fn operation(config: &Value) -> Result<Operation, Diagnostic>;
    /// An operation to run on the phones whose main job succeeded (restore's restart), if any.
    fn follow_up(
        config: &Value,
        succeeded: &[&JobRecord],
    ) -> Result<Option<Operation>, Diagnostic> {
        let _ = (config, succeeded);
        Ok(None)
    }
}

/// A Terraform resource performing `A`.
pub(crate) struct ActionResource<A>(PhantomData<A>);

impl<A> ActionResource<A> {
    pub(crate) fn new() -> Self {
        Self(PhantomData)
    }
}

const RESULT_ATTRIBUTES: [&str; 4] = ["id", "request_ids", "jobs", "restart_jobs"];

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
        let phones = Attribute::nested(
            "phones",
            ObjectNesting::List,
            presence,
            A::phone_attributes(),
        )
        .requires_replace()
        .description(if A::PHONE_IDS {
            format!(
                "The phones to {}, at least one, each at most once, with per-phone settings. Set this or `phone_ids`.",
                A::VERB
            )
        } else {
            format!("The phones to {}, at least one, each at most once.", A::VERB)
        });
        let mut block = Block::new()
            .description(A::description())
            .attribute(id_attribute())
            .attribute(phones);
        if A::PHONE_IDS {
            block = block.attribute(
                Attribute::optional("phone_ids", Type::list(Type::String))
                    .requires_replace()
                    .description(format!(
                        "The ids of the phones to {}, at least one, each at most once, with no per-phone settings. \
                         Set this or `phones`. For thousands of phones Terraform plans this much faster than \
                         `phones`, e.g. `phone_ids = data.cph_phones.fleet.phones[*].phone_id`.",
                        A::VERB
                    )),
            );
        }
        block = block
            .attribute(triggers_attribute(A::VERB))
            .attribute(allow_partial_failure_attribute())
            .attribute(request_ids_attribute(
                "The request id of every batch request, in the order they were sent.",
            ))
            .attribute(jobs_attribute(
                "jobs",
                if A::PHONE_IDS {
                    "One result per phone of `phones` or `phone_ids`."
                } else {
                    "One result per phone of `phones`."
                },
            ));
        for extra in A::extra_attributes() {
            block = block.attribute(extra);
        }
        if A::HAS_RESTART_JOBS {
            block = block.attribute(jobs_attribute(
                "restart_jobs",
                "The restart jobs that followed, one per successfully handled phone.",
            ));
        }
        Schema::new(
            common::RESULTS_SCHEMA_VERSION,
            block.block(timeouts_block(&[TimeoutKind::Create])),
        )
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        validate::phones(config, A::phone_fields(), &mut diags);
        validate::timeouts(config, &mut diags);
        A::validate_extra(config, &mut diags);
        diags
    }

    async fn modify_plan(
        &self,
        _ctx: &Context<ProviderData>,
        req: &PlanRequest,
        plan: &mut PlanResponse,
    ) {
        if plan.planned_state.is_null() {
            return;
        }
        A::plan_defaults(req, plan);
        common::keep_results_unless_replacing(req, plan, &RESULT_ATTRIBUTES);
    }

    async fn create(&self, ctx: &Context<ProviderData>, req: ApplyRequest) -> ApplyResponse {
        let data = match ctx.data() {
            Ok(d) => d,
            Err(diag) => return ApplyResponse::failed(Value::Null, diag),
        };
        let timeouts: Option<Timeouts> = req
            .config
            .get("timeouts")
            .and_then(|t| tfplugin::from_value(t).ok());
        let timeout = match common::timeout(timeouts.as_ref(), TimeoutKind::Create) {
            Ok(t) => t,
            Err(diag) => return ApplyResponse::failed(Value::Null, diag),
        };
        let operation = match A::operation(&req.config) {
            Ok(op) => op,
            Err(diag) => return ApplyResponse::failed(Value::Null, diag),
        };
        let allow_partial = req
            .config
            .get("allow_partial_failure")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let deadline = Instant::now() + timeout;

        let main = batch::run(data, ctx.cancellation(), operation, deadline, timeout).await;
        let mut diags = batch::report(&main, A::VERB, allow_partial);
        let mut request_ids = main.request_ids.clone();
        let mut restart: Option<Outcome> = None;
        if A::HAS_RESTART_JOBS && main.interruption.is_none() {
            let succeeded: Vec<&JobRecord> = main.jobs.iter().filter(|j| j.succeeded()).collect();
            match A::follow_up(&req.config, &succeeded) {
                Ok(Some(op)) => {
                    let outcome = batch::run(data, ctx.cancellation(), op, deadline, timeout).await;
                    diags.extend(batch::report(&outcome, "restart", allow_partial));
                    request_ids.extend(outcome.request_ids.iter().cloned());
                    restart = Some(outcome);
                }
                Ok(None) => {}
                Err(diag) => diags.push(diag),
            }
        }

        if request_ids.is_empty() && main.jobs.iter().all(|j| j.job_id.is_empty()) {
            // Nothing reached the service: there is nothing to record.
            return ApplyResponse::failed(Value::Null, diags);
        }
        let mut state = req.planned_state;
        let id = request_ids.first().cloned().unwrap_or_default();
        state.set_path(&AttributePath::root("id"), Value::from(id));
        state.set_path(
            &AttributePath::root("request_ids"),
            Value::List(request_ids.into_iter().map(Value::from).collect()),
        );
        state.set_path(&AttributePath::root("jobs"), common::jobs_value(&main.jobs));
        if A::HAS_RESTART_JOBS {
            let jobs = restart.map(|o| o.jobs).unwrap_or_default();
            state.set_path(
                &AttributePath::root("restart_jobs"),
                common::jobs_value(&jobs),
            );
        }
        ApplyResponse {
            new_state: state,
            private: Vec::new(),
            diagnostics: diags,
        }
    }

    fn upgrade_state(&self, version: i64, raw: RawState) -> Result<Value, Diagnostics> {
        common::upgrade_results_state(version, raw, &self.schema().value_type())
    }

    async fn update(&self, _ctx: &Context<ProviderData>, req: ApplyRequest) -> ApplyResponse {
        // Only attributes that record how results are judged changed (replacement covers the rest):
        // the plan kept the results, so the planned state is the new state.
        ApplyResponse::ok(req.planned_state)
    }
}
