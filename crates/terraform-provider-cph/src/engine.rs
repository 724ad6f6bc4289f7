//! The one convergence engine every resource runs on: plan (which phones need work, shown as
//! unknown records, with a summary of why), apply (the planned work through the runner: waits on
//! running jobs, reads phones whose last outcome is unknown, submissions, follow-up restarts; every
//! phone's record written back), refresh (running jobs polled, nothing called when none runs) and
//! import.
//!
//! An [`Operation`] supplies what differs: its request, its phones' model, and hooks for
//! declared-state resources that read the service (`cph_phone_property` reads properties back,
//! `cph_phone_power` reads statuses and acts only on phones not yet in the declared state).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::time::Duration;

use cph_http::{Earlier, RunningJob, UnsurePhone};
use cph_types::{BatchOperation, BatchRequest, PhoneId, RestartPhone, RestartRequest};
use tfplugin::{
    ApplyRequest, ApplyResponse, Context, Diagnostic, Diagnostics, ImportResponse, Maybe,
    PlanRequest, PlanResponse, ReadRequest, ReadResponse, Schema, Value,
};

use std::sync::Arc;

use crate::config::ProviderData;
use crate::journal::{self, Intent, Journal, RunLog};
use crate::model::{self, OperationModel, PhoneModel, names, path};
use crate::phones::{self, Desired};
use crate::planner::{self, PhonePlan, Policy, Prior, Reason, Summary, Work};
use crate::records::{self, Record, Records, Status};
use crate::report::{self, Recorded, RunContext};
use crate::rollout::RolloutSpec;
use crate::runner::{Interruption, PhoneResult, RunOutcome, Runner, acting_phone, running_job};
use crate::timeouts::{TimeoutKind, timeout};

/// The follow-up restart an operation may have, and the switch that turns it on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FollowUp {
    /// `restart_after_restore`, on by default.
    AfterRestore,
    /// `restart_after_update`, off by default.
    AfterUpdate,
}

impl FollowUp {
    pub(crate) fn name(self) -> &'static str {
        match self {
            FollowUp::AfterRestore => names::RESTART_AFTER_RESTORE,
            FollowUp::AfterUpdate => names::RESTART_AFTER_UPDATE,
        }
    }

    pub(crate) fn default(self) -> bool {
        matches!(self, FollowUp::AfterRestore)
    }

    fn switch<P>(self, model: &OperationModel<P>) -> &Maybe<bool> {
        match self {
            FollowUp::AfterRestore => &model.restart_after_restore,
            FollowUp::AfterUpdate => &model.restart_after_update,
        }
    }
}

/// Why the service is read (see [`Operation::read_back`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reading {
    /// A refresh: a phone that cannot be read keeps what state says.
    Refresh,
    /// An import: every phone must be read; `keys` (when named in the import id) narrows what
    /// comes under management.
    Import { keys: Option<Vec<String>> },
}

impl Reading {
    /// The client and the bound of this read of the service: a refresh's `timeouts.read`, an
    /// import's default; the provider's stop signal ends it early.
    pub(crate) fn options<'a, P>(
        &self,
        ctx: &'a Context<ProviderData>,
        state: &OperationModel<P>,
    ) -> Result<(&'a ProviderData, cph_http::WaitOptions), Diagnostics> {
        let data = ctx.data()?;
        let limit = match self {
            Reading::Refresh => timeout(&state.timeouts, TimeoutKind::Read),
            Reading::Import { .. } => READ_TIMEOUT,
        };
        let options = cph_http::WaitOptions::new()
            .deadline(std::time::Instant::now() + limit)
            .cancel(ctx.cancellation().clone());
        Ok((data, options))
    }
}

/// What an operation is, for the shared engine. The hooks have defaults that do nothing: only the
/// declared-state resources read the service.
pub(crate) trait Operation: Send + Sync + Sized + 'static {
    /// The element of `phones`.
    type Phone: PhoneModel;
    /// The batch request the operation sends.
    type Request: BatchRequest + Send + Sync;
    /// The resource type, e.g. `cph_phone_restart`.
    const TYPE_NAME: &'static str;
    /// The operation in words, e.g. `restart`.
    const VERB: &'static str;
    /// Its past participle, e.g. `restarted`.
    const DONE: &'static str;
    /// The follow-up restart, when the resource has one.
    const FOLLOW_UP: Option<FollowUp> = None;
    /// Whether a listed phone without a record needs the operation (false where state may come
    /// from reading the service, as after an import).
    const UNRECORDED_NEEDS_WORK: bool = true;
    /// Whether the prior state's inputs were read back from the service (`cph_phone_property`).
    const READS_BACK: bool = false;
    /// Whether the prior inputs are the service's view of each phone, compared with a declared state
    /// (`cph_phone_power`): a phone that matches needs nothing whatever its last record says.
    const OBSERVED: bool = false;

    /// Whether a phone given `prior` already has what `desired` asks for, so that it needs nothing
    /// (equality, unless the inputs describe state only partly managed).
    fn met_by(
        desired: &<Self::Phone as PhoneModel>::Inputs,
        prior: &<Self::Phone as PhoneModel>::Inputs,
    ) -> bool {
        desired == prior
    }

    /// The request for `phones`, with the resource-wide inputs (such as `image_id`) of `model`.
    fn request(
        model: &OperationModel<Self::Phone>,
        phones: Vec<(PhoneId, &<Self::Phone as PhoneModel>::Inputs)>,
    ) -> Result<Self::Request, Diagnostic>;

    /// The desired phones of `model` (`None` while not known): by default its phone list.
    fn desired(
        model: &OperationModel<Self::Phone>,
    ) -> Option<Vec<Desired<<Self::Phone as PhoneModel>::Inputs>>> {
        phones::desired(model)
    }

    /// What each phone of a stored state had, by phone id: by default its phone list's inputs.
    fn prior_inputs(
        prior: &OperationModel<Self::Phone>,
    ) -> HashMap<String, <Self::Phone as PhoneModel>::Inputs> {
        phones::recorded(prior)
    }

    /// Plans the attributes the operation keeps besides the records (phones whose plan is not
    /// [`Work::Keep`] change).
    fn plan_more(
        _prior: &OperationModel<Self::Phone>,
        _planned: &mut PlanResponse,
        _plans: &[PhonePlan<'_>],
    ) {
    }

    /// Before anything is sent: of the phones the plan showed needing the operation, those that
    /// still do as the service shows them now (waiting for phones in a transitional status to
    /// settle). By default all of them.
    fn settle(
        _ctx: &Context<ProviderData>,
        _model: &OperationModel<Self::Phone>,
        submit: Vec<PhoneId>,
        _runner: &Runner<'_>,
    ) -> impl Future<Output = (Vec<PhoneId>, Diagnostics)> + Send {
        async move { (submit, Diagnostics::new()) }
    }

    /// After an apply: what the operation keeps besides the records (`acted`: the main operation's
    /// record of each phone it acted on).
    fn finish(
        _ctx: &Context<ProviderData>,
        _prior: &OperationModel<Self::Phone>,
        _state: &mut OperationModel<Self::Phone>,
        _acted: &HashMap<String, Record>,
        _errors: bool,
    ) -> impl Future<Output = ()> + Send {
        async {}
    }

    /// Reads the service into `state` (a refresh, or an import); returns what it found worth
    /// saying and the private state the next plan needs. By default nothing is read.
    fn read_back(
        _ctx: &Context<ProviderData>,
        _state: &mut OperationModel<Self::Phone>,
        _reading: &Reading,
    ) -> impl Future<Output = (Diagnostics, Vec<u8>)> + Send {
        async { (Diagnostics::new(), Vec::new()) }
    }

    /// How the plan's summary names a phone that needs work (power: with its status), when it names
    /// them one by one.
    fn describe(_prior: &OperationModel<Self::Phone>, _phone_id: &str) -> Option<String> {
        None
    }

    /// Plan-time checks with the private state a refresh left (e.g. phones that no longer exist).
    fn check_plan(
        _config: &OperationModel<Self::Phone>,
        _private: &[u8],
        _diags: &mut Diagnostics,
    ) {
    }
}

/// Whether the follow-up restart is on in `model`: `None` while unknown.
fn follow_up_on<O: Operation>(model: &OperationModel<O::Phone>) -> Option<bool> {
    match O::FOLLOW_UP {
        None => Some(false),
        Some(follow) => (*follow.switch(model)).or_when_null(follow.default()),
    }
}

/// The planner's policy for `O`.
fn policy<O: Operation>(follow_up: bool) -> Policy {
    Policy {
        unrecorded_needs_work: O::UNRECORDED_NEEDS_WORK,
        follow_up,
        observed: O::OBSERVED,
        reads_back: O::READS_BACK,
    }
}

/// The prior state as the planner reads it.
struct PriorState<O: Operation> {
    model: OperationModel<O::Phone>,
    inputs: HashMap<String, <O::Phone as PhoneModel>::Inputs>,
}

impl<O: Operation> PriorState<O> {
    fn read(value: &Value) -> Result<Self, Diagnostic> {
        let model: OperationModel<O::Phone> = if value.is_null() {
            OperationModel::default()
        } else {
            model::decode_state(value)?
        };
        let inputs = O::prior_inputs(&model);
        Ok(PriorState { model, inputs })
    }

    fn main(&self) -> &Records {
        static NONE: Records = BTreeMap::new();
        self.model.jobs.known().unwrap_or(&NONE)
    }

    fn follow(&self) -> &Records {
        static NONE: Records = BTreeMap::new();
        self.model.restart_jobs.known().unwrap_or(&NONE)
    }

    fn main_record(&self, phone_id: &str) -> Option<&Record> {
        self.main().get(phone_id).and_then(Maybe::known)
    }

    fn follow_record(&self, phone_id: &str) -> Option<&Record> {
        self.follow().get(phone_id).and_then(Maybe::known)
    }

    /// The planner's verdict on each desired phone (the same at plan and at apply time, so that
    /// apply acts on exactly the phones the plan showed).
    fn plan<'a>(
        &'a self,
        inputs: &'a HashMap<&'a str, &'a <O::Phone as PhoneModel>::Inputs>,
        desired: &'a [(&'a str, Option<&'a <O::Phone as PhoneModel>::Inputs>)],
        follow_on: bool,
    ) -> Vec<PhonePlan<'a>> {
        planner::plan(
            Prior {
                inputs,
                main: self.main(),
                follow: self.follow(),
            },
            desired,
            policy::<O>(follow_on),
            O::met_by,
        )
    }
}

/// The desired phones borrowed as the planner takes them.
fn borrowed<I>(desired: &[Desired<I>]) -> Vec<(&str, Option<&I>)> {
    desired
        .iter()
        .map(|(id, inputs)| (id.as_str(), inputs.as_ref()))
        .collect()
}

/// What a desired phone's record in one map will be: the record that stands, or a fresh one from
/// this apply (unknown until then).
fn slot<'a>(work: &Work, kept: Option<&'a Record>) -> Option<Maybe<&'a Record>> {
    match work {
        Work::Keep => kept.map(Maybe::Known),
        _ => Some(Maybe::Unknown),
    }
}

/// The records a map will hold, by phone id, in the order of the phones (unknown: written by the
/// apply).
type Layout<'a> = Vec<(&'a str, Maybe<&'a Record>)>;

/// The records each map will hold, by phone id: for the main operation one per desired phone that
/// has one or gets one now; for the follow-up (when the resource has one) the same while it is on,
/// and while it is off only the records of phones whose main operation stands.
fn layout<'a, O: Operation>(
    plans: &[PhonePlan<'a>],
    prior: &'a PriorState<O>,
) -> (Layout<'a>, Layout<'a>) {
    let mut jobs = Vec::with_capacity(plans.len());
    let mut restarts = Vec::new();
    for p in plans {
        jobs.extend(slot(&p.main, prior.main_record(p.phone_id)).map(|s| (p.phone_id, s)));
        let follow = prior.follow_record(p.phone_id);
        match &p.follow {
            Some(work) => restarts.extend(slot(work, follow).map(|s| (p.phone_id, s))),
            None if p.main.is_keep() => {
                restarts.extend(follow.map(|r| (p.phone_id, Maybe::Known(r))));
            }
            None => {}
        }
    }
    (jobs, restarts)
}

/// A records map from a layout.
fn records_of(layout: &[(&str, Maybe<&Record>)]) -> Records {
    layout
        .iter()
        .map(|(id, r)| ((*id).to_owned(), r.map(Record::clone)))
        .collect()
}

/// Sets one attribute of a planned or new state to an encoded part of a model.
fn set<T: serde::Serialize>(
    state: &mut Value,
    schema: &Schema,
    name: &str,
    part: &T,
) -> Result<(), Diagnostic> {
    let ty = schema
        .block
        .attributes
        .iter()
        .find(|a| a.name == name)
        .map(tfplugin::Attribute::value_type)
        .ok_or_else(|| {
            Diagnostic::error(
                "Provider Error",
                format!("the schema has no attribute {name} (provider bug)"),
            )
        })?;
    state.set_path(&path(name), model::encode(part, &ty)?);
    Ok(())
}

/// Plans an update in place: the phones that need work get unknown records, the rest keep theirs,
/// removed phones leave; a warning says how many phones need what and why. A create or a
/// replacement is left as the runtime planned it (everything computed unknown).
pub(crate) fn plan<O: Operation>(
    schema: &Schema,
    journal: Option<&Journal>,
    req: &PlanRequest,
    plan: &mut PlanResponse,
) {
    if plan.planned_state.is_null() {
        return;
    }
    if let Err(diag) = plan_update::<O>(schema, journal, req, plan) {
        plan.diagnostics.push(diag);
    }
}

fn plan_update<O: Operation>(
    schema: &Schema,
    journal: Option<&Journal>,
    req: &PlanRequest,
    plan: &mut PlanResponse,
) -> Result<(), Diagnostic> {
    let config: OperationModel<O::Phone> = model::decode(&req.config, "the configuration")?;
    O::check_plan(&config, &req.prior_private, &mut plan.diagnostics);
    if req.prior_state.is_null() || !plan.requires_replace.is_empty() {
        // A new object: its id too is known only after apply.
        plan.set_unknown(&path(names::ID));
        return Ok(());
    }
    let planned: OperationModel<O::Phone> = model::decode(&plan.planned_state, "the plan")?;
    let (Some(desired), Some(follow_on)) = (O::desired(&planned), follow_up_on::<O>(&planned))
    else {
        // Which phones need work is known only at apply time.
        for name in [
            names::JOBS,
            names::RESTART_JOBS,
            names::REQUEST_IDS,
            names::STATUSES,
        ] {
            plan.set_unknown(&path(name));
        }
        return Ok(());
    };
    let prior = PriorState::<O>::read(&req.prior_state)?;
    // State now holds what earlier submissions did: the journal need not remember them.
    prune_journal::<O>(journal, &prior);
    let inputs: HashMap<&str, &_> = prior.inputs.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let desired = borrowed(&desired);
    let plans = prior.plan(&inputs, &desired, follow_on);
    let (jobs, restarts) = layout(&plans, &prior);
    set(
        &mut plan.planned_state,
        schema,
        names::JOBS,
        &records_of(&jobs),
    )?;
    if O::FOLLOW_UP.is_some() {
        set(
            &mut plan.planned_state,
            schema,
            names::RESTART_JOBS,
            &records_of(&restarts),
        )?;
    }
    O::plan_more(&prior.model, plan, &plans);
    let summary = Summary::of(&plans);
    if summary.any_work() {
        plan.set_unknown(&path(names::REQUEST_IDS));
        let named: Vec<String> = plans
            .iter()
            .filter(|p| !p.main.is_keep())
            .filter_map(|p| O::describe(&prior.model, p.phone_id))
            .collect();
        plan.diagnostics.push(report::plan_summary(
            O::TYPE_NAME,
            O::DONE,
            &summary,
            &named,
        ));
    } else {
        // Nothing is sent: the request ids stay, but for those only phones removed from the list
        // had (state written before records kept their request id has none to tell).
        let kept: HashSet<&str> = jobs
            .iter()
            .chain(&restarts)
            .filter_map(|(_, r)| r.known()?.request_id.as_ref().map(|id| id.as_str()))
            .collect();
        let dropped: HashSet<&str> = prior
            .main()
            .values()
            .chain(prior.follow().values())
            .filter_map(|r| r.known()?.request_id.as_ref().map(|id| id.as_str()))
            .filter(|id| !kept.contains(id))
            .collect();
        let request_ids: Vec<&cph_types::RequestId> = prior
            .model
            .request_ids
            .known()
            .into_iter()
            .flatten()
            .filter(|id| !dropped.contains(id.as_str()))
            .collect();
        set(
            &mut plan.planned_state,
            schema,
            names::REQUEST_IDS,
            &request_ids,
        )?;
    }
    Ok(())
}

/// Applies a create (`kind` [`TimeoutKind::Create`]) or an update: plans again from the prior state
/// and the known plan, waits on running jobs, submits the phones that need it, performs the
/// follow-up restarts, and records every phone. On a create that sent nothing the state is null
/// (nothing to record, nothing tainted).
pub(crate) async fn apply<O: Operation>(
    ctx: &Context<ProviderData>,
    schema: &Schema,
    req: ApplyRequest,
    kind: TimeoutKind,
) -> ApplyResponse {
    let ApplyRequest {
        prior_state,
        planned_state,
        ..
    } = req;
    let creating = kind == TimeoutKind::Create;
    let unchanged = |prior: Value, diagnostics: Diagnostics| ApplyResponse {
        new_state: prior,
        private: Vec::new(),
        diagnostics,
    };
    let planned: OperationModel<O::Phone> = match model::decode(&planned_state, "the plan") {
        Ok(m) => m,
        Err(diag) => return unchanged(prior_state, diag.into()),
    };
    let prior = match PriorState::<O>::read(&prior_state) {
        Ok(p) => p,
        Err(diag) => return unchanged(prior_state, diag.into()),
    };
    let done = match run::<O>(ctx, &prior, &planned, &Mode::Apply(kind)).await {
        Ok(done) => done,
        // Nothing was done: the state stays as it was.
        Err(diagnostics) => return unchanged(prior_state, diagnostics),
    };
    if creating && !done.anything_sent && done.diagnostics.has_errors() {
        // Nothing reached the service: there is nothing to record, and nothing is tainted.
        return unchanged(Value::Null, done.diagnostics);
    }
    let mut state_model = planned;
    state_model.jobs = Maybe::Known(done.jobs);
    if O::FOLLOW_UP.is_some() {
        state_model.restart_jobs = Maybe::Known(done.restarts);
    }
    // Known in the plan when nothing was to be sent: the plan's value stands.
    if !state_model.request_ids.is_known() {
        state_model.request_ids = Maybe::Known(done.request_ids);
    }
    if !state_model.id.is_known() {
        state_model.id = Maybe::Known(done.id);
    }
    let errors = done.diagnostics.has_errors();
    O::finish(ctx, &prior.model, &mut state_model, &done.acted, errors).await;
    let mut diagnostics = done.diagnostics;
    let new_state = match write_computed(planned_state, schema, &state_model) {
        Ok(state) => state,
        Err(diag) => {
            diagnostics.push(diag);
            return unchanged(prior_state, diagnostics);
        }
    };
    ApplyResponse {
        new_state,
        private: Vec::new(),
        diagnostics,
    }
}

/// The planned value with the attributes an apply decides (records, request ids, id, statuses and
/// the phones a declared-state resource rewrote) taken from `state`; the rest stays as planned,
/// byte for byte.
fn write_computed<P: PhoneModel>(
    mut planned: Value,
    schema: &Schema,
    state: &OperationModel<P>,
) -> Result<Value, Diagnostic> {
    let has = |name: &str| schema.block.attributes.iter().any(|a| a.name == name);
    set(&mut planned, schema, names::ID, &state.id)?;
    set(&mut planned, schema, names::JOBS, &state.jobs)?;
    set(&mut planned, schema, names::REQUEST_IDS, &state.request_ids)?;
    if has(names::RESTART_JOBS) {
        set(
            &mut planned,
            schema,
            names::RESTART_JOBS,
            &state.restart_jobs,
        )?;
    }
    if has(names::STATUSES) {
        set(&mut planned, schema, names::STATUSES, &state.statuses)?;
    }
    if has(names::PHONES) && state.phones.is_known() {
        set(&mut planned, schema, names::PHONES, &state.phones)?;
    }
    Ok(planned)
}

/// What runs the operation: a resource's create or update, or an action's invocation.
pub(crate) enum Mode {
    /// A resource's apply, bounded by `timeouts`, journalled, its diagnostics those of state it leaves.
    Apply(TimeoutKind),
    /// An action's invocation, bounded by `timeout`, reporting its progress; nothing is kept in
    /// state (nor journalled: each invocation is a new intent), and the action words its outcome.
    Invoke(tfplugin::ActionProgress),
}

/// What an apply (or an invocation) did, ready to be written to state.
pub(crate) struct Done {
    jobs: Records,
    restarts: Records,
    request_ids: Vec<cph_types::RequestId>,
    /// The id of a new resource: its first request id (or its first phone's id).
    id: String,
    anything_sent: bool,
    pub(crate) diagnostics: Diagnostics,
    acted: HashMap<String, Record>,
    /// Why the run ended before every phone finished, if it did.
    pub(crate) interruption: Option<Interruption>,
}

impl Done {
    /// The records of the main operation, then those of the follow-up restarts (each with
    /// whether it is a follow-up restart).
    pub(crate) fn records(&self) -> impl Iterator<Item = (bool, &Record)> {
        let main = self
            .jobs
            .values()
            .filter_map(Maybe::known)
            .map(|r| (false, r));
        let follow = self
            .restarts
            .values()
            .filter_map(Maybe::known)
            .map(|r| (true, r));
        main.chain(follow)
    }
}

/// Invokes `O` on the phones of an action's `config`: the operation as an apply performs it on a
/// resource with no records yet, reporting progress, with nothing kept.
pub(crate) async fn invoke<O: Operation>(
    ctx: &Context<ProviderData>,
    config: &OperationModel<O::Phone>,
    progress: tfplugin::ActionProgress,
) -> Result<Done, Diagnostics> {
    let prior = PriorState::<O> {
        model: OperationModel::default(),
        inputs: HashMap::new(),
    };
    run::<O>(ctx, &prior, config, &Mode::Invoke(progress)).await
}

/// The phases of an apply; `Err` when nothing was done (the apply is refused before any call).
async fn run<O: Operation>(
    ctx: &Context<ProviderData>,
    prior: &PriorState<O>,
    planned: &OperationModel<O::Phone>,
    mode: &Mode,
) -> Result<Done, Diagnostics> {
    let data = ctx.data()?;
    let not_known = |what: &str| {
        Diagnostics::from(Diagnostic::error(
            "Plan Not Known",
            format!("{what} has no known value at apply time (provider bug)"),
        ))
    };
    let desired = O::desired(planned).ok_or_else(|| not_known("the phone list"))?;
    let follow_on = follow_up_on::<O>(planned).ok_or_else(|| not_known("the follow-up switch"))?;
    let inputs: HashMap<&str, &_> = prior.inputs.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let wanted = borrowed(&desired);
    let plans = prior.plan(&inputs, &wanted, follow_on);
    let (limit, kind) = match mode {
        Mode::Apply(kind) => (timeout(&planned.timeouts, *kind), *kind),
        Mode::Invoke(_) => (
            crate::timeouts::action_timeout(&planned.timeout),
            TimeoutKind::Create,
        ),
    };
    let mut runner = Runner::new(&data.client, ctx.cancellation(), limit);
    if let Mode::Invoke(progress) = mode {
        let progress = progress.clone();
        runner = runner.reporting(move |p| progress.report(report::progress(O::VERB, &p)));
    }
    let invoking = matches!(mode, Mode::Invoke(_));
    let allow_partial = planned.allow_partial_failure.known() == Some(&true);
    // What the diagnostics advise depends on what state the apply leaves: on a create, Terraform
    // taints what it records, and a create that sent nothing records nothing.
    let report_ctx = |verb, sent: bool| RunContext {
        type_name: O::TYPE_NAME,
        verb,
        recorded: match kind {
            TimeoutKind::Create if sent => Recorded::Tainted,
            TimeoutKind::Create => Recorded::Nothing,
            _ => Recorded::Updated,
        },
        allow_partial,
    };
    let sent = |records: &HashMap<String, Record>| {
        records.values().any(|r| r.status != Status::NotSubmitted)
    };
    let rollout = RolloutSpec::of(&planned.rollout);
    let wanted: HashMap<&str, Option<&_>> = wanted.iter().copied().collect();

    let apply = Apply {
        ctx,
        runner: &runner,
        rollout,
        planned,
        prior,
        journal: !invoking,
    };
    let main = main_phases::<O>(&apply, &wanted, &plans).await?;
    let mut diagnostics = main.notes;
    let main_sent = sent(&main.records);
    if !invoking {
        diagnostics.extend(report::run(&main.outcome, report_ctx(O::VERB, main_sent)));
    }
    let mut interruption = main.outcome.interruption.clone();
    let mut follow_records = HashMap::new();
    if follow_on {
        let (records, outcome, notes) = follow_up_phase::<O>(
            &apply,
            &plans,
            &main.records,
            main.outcome.interruption.as_ref(),
        )
        .await;
        let any_sent = main_sent || sent(&records);
        follow_records = records;
        diagnostics.extend(notes);
        if !invoking {
            diagnostics.extend(report::run(&outcome, report_ctx("restart", any_sent)));
        }
        interruption = interruption.or(outcome.interruption);
    }
    let id = main
        .outcome
        .results
        .iter()
        .find_map(|r| r.request_id.as_ref().map(|r| r.as_str().to_owned()))
        .or_else(|| desired.first().map(|(id, _)| id.as_str().to_owned()))
        .unwrap_or_default();
    let mut done = assemble::<O>(&plans, prior, main.records, follow_records, id, diagnostics);
    done.interruption = interruption;
    Ok(done)
}

/// One apply as its phases share it: the provider, the runner, the rollout, the plan and the
/// prior state.
struct Apply<'a, O: Operation> {
    ctx: &'a Context<ProviderData>,
    runner: &'a Runner<'a>,
    rollout: RolloutSpec,
    planned: &'a OperationModel<O::Phone>,
    prior: &'a PriorState<O>,
    /// Whether submissions are written to the journal (an apply's are; an invocation's are not).
    journal: bool,
}

impl<O: Operation> Clone for Apply<'_, O> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<O: Operation> Copy for Apply<'_, O> {}

/// What the main operation did: a record per phone it acted on, the run to report, and what
/// reading the service about `unknown` phones found.
struct MainOutcome {
    records: HashMap<String, Record>,
    outcome: RunOutcome,
    notes: Diagnostics,
}

/// A phone recorded `unknown` that is to be acted on again: the client reads it first (a job of
/// its earlier request, or the phone in the operation's in-progress status, means that request was
/// performed and the phone is waited on; no sign of it, and it is sent once more; a service that
/// cannot be read, and it is held, still `unknown`).
fn unsure_phone(record: &Record) -> UnsurePhone {
    UnsurePhone {
        phone_id: record.phone_id.clone(),
        request_id: record.request_id.clone(),
    }
}

/// Whether `work` is a retry of a phone recorded `unknown`.
fn retries_unknown(work: &Work) -> bool {
    *work == Work::Submit(Reason::Retry(Status::Unknown))
}

/// The request of `phones` (none when the list is empty).
fn build_request<O: Operation>(
    model: &OperationModel<O::Phone>,
    phones: &[&PhonePlan<'_>],
    wanted: &HashMap<&str, Option<&<O::Phone as PhoneModel>::Inputs>>,
    ids: &HashMap<&str, &PhoneId>,
) -> Result<Option<O::Request>, Diagnostics> {
    if phones.is_empty() {
        return Ok(None);
    }
    let mut typed = Vec::with_capacity(phones.len());
    for p in phones {
        let (Some(inputs), Some(id)) = (
            wanted.get(p.phone_id).copied().flatten(),
            ids.get(p.phone_id),
        ) else {
            return Err(Diagnostic::error(
                "Plan Not Known",
                format!(
                    "phone {} has inputs with no known value at apply time (provider bug)",
                    p.phone_id
                ),
            )
            .into());
        };
        typed.push(((*id).clone(), inputs));
    }
    O::request(model, typed)
        .map(Some)
        .map_err(Diagnostics::from)
}

/// Phase 1 submits the phones that need the main operation and are free, and waits on them
/// together with every job still running (main jobs to finish, and jobs that keep a phone busy);
/// phase 2 submits the phones that were busy, now free.
async fn main_phases<O: Operation>(
    apply: &Apply<'_, O>,
    wanted: &HashMap<&str, Option<&<O::Phone as PhoneModel>::Inputs>>,
    plans: &[PhonePlan<'_>],
) -> Result<MainOutcome, Diagnostics> {
    let Apply {
        ctx,
        runner,
        rollout,
        planned,
        prior,
        journal: journalled,
    } = *apply;
    let operation = <O::Request as BatchRequest>::OPERATION;
    let submits = |p: &&PhonePlan<'_>| matches!(p.main, Work::Submit(_));
    let ids: HashMap<&str, &PhoneId> = planned_ids(planned);
    // Declared-state resources look at the phones once more: one already as declared is left alone.
    let candidates: Vec<PhoneId> = plans
        .iter()
        .filter(submits)
        .filter_map(|p| ids.get(p.phone_id).map(|id| (*id).clone()))
        .collect();
    let (still, mut notes) = O::settle(ctx, planned, candidates, runner).await;
    let still: HashSet<&str> = still.iter().map(PhoneId::as_str).collect();
    let free: Vec<&PhonePlan<'_>> = plans
        .iter()
        .filter(|p| submits(p) && p.busy.is_empty() && still.contains(p.phone_id))
        .collect();
    let busy: Vec<&PhonePlan<'_>> = plans
        .iter()
        .filter(|p| submits(p) && !p.busy.is_empty() && still.contains(p.phone_id))
        .collect();
    // The journal: an earlier submission of a phone for this very intent that state does not hold
    // is waited on (it got a job) or read first (no answer was written down), never sent blindly.
    let shared = shared_intent(planned, false);
    let to_send: Vec<(PhoneId, String)> = free
        .iter()
        .chain(&busy)
        .filter_map(|p| {
            let id = (*ids.get(p.phone_id)?).clone();
            Some((id, format!("{:?}", wanted.get(p.phone_id)?)))
        })
        .collect();
    let journal = if journalled {
        JournalRun::open::<O>(
            ctx,
            operation,
            &shared,
            &to_send,
            &recorded_requests(prior.main()),
        )?
    } else {
        JournalRun::default()
    };
    let free: Vec<&PhonePlan<'_>> = free
        .into_iter()
        .filter(|p| !journal.has_job(p.phone_id))
        .collect();
    // Phones recorded `unknown` are read first (by the client): sent again only when nothing
    // shows that their earlier request was performed.
    let mut unsure: Vec<UnsurePhone> = free
        .iter()
        .filter(|p| retries_unknown(&p.main))
        .filter_map(|p| prior.main_record(p.phone_id))
        .map(unsure_phone)
        .collect();
    for phone in &journal.unsure {
        let listed = unsure.iter().any(|u| u.phone_id == phone.phone_id);
        if !listed && free.iter().any(|p| p.phone_id == phone.phone_id.as_str()) {
            unsure.push(phone.clone());
        }
    }
    let waiting: HashSet<&str> = plans
        .iter()
        .filter(|p| p.main == Work::Wait || journal.has_job(p.phone_id))
        .map(|p| p.phone_id)
        .collect();
    let mut resumed = journal.jobs.clone();
    let mut acting = Vec::new();
    for p in plans {
        if p.main == Work::Wait {
            resumed.extend(prior.main_record(p.phone_id).and_then(running_job));
            acting.extend(prior.main_record(p.phone_id).and_then(acting_phone));
        }
        resumed.extend(p.busy.iter().filter_map(|r| running_job(r)));
    }

    // The rollout's percentages are of the phones that need the main operation in this apply.
    let needing = plans.iter().filter(|p| !p.main.is_keep()).count();
    let request = build_request::<O>(planned, &free, wanted, &ids)?;
    let resumed_count = resumed.len();
    let earlier = Earlier {
        jobs: resumed,
        acting,
        unsure,
    };
    let first = runner
        .run(
            request.as_ref(),
            earlier,
            rollout.resolve(needing),
            journal.log.clone(),
        )
        .await;
    let mut results: HashMap<String, PhoneResult> = HashMap::new();
    // Resumed jobs come first: of those, the waited-on main jobs stand, while those of busy phones
    // only freed the phone; then the submitted phones, in request order.
    for (i, result) in first.results.into_iter().enumerate() {
        if i >= resumed_count || waiting.contains(result.phone_id.as_str()) {
            results.insert(result.phone_id.as_str().to_owned(), result);
        }
    }
    let mut interruption = first.interruption;
    if !busy.is_empty() && interruption.is_none() {
        let request = build_request::<O>(planned, &busy, wanted, &ids)?;
        let second = runner
            .run(
                request.as_ref(),
                Earlier::default(),
                rollout.resolve(busy.len()),
                journal.log.clone(),
            )
            .await;
        interruption = second.interruption;
        for result in second.results {
            results.insert(result.phone_id.as_str().to_owned(), result);
        }
    }

    let mut records: HashMap<String, Record> = results
        .iter()
        .map(|(id, r)| (id.clone(), r.to_record()))
        .collect();
    for held in &first.held {
        records
            .entry(held.phone_id.as_str().to_owned())
            .or_insert_with(|| held.to_record());
    }
    for p in &busy {
        if let Some(id) = ids.get(p.phone_id) {
            records
                .entry(p.phone_id.to_owned())
                .or_insert_with(|| Record::not_submitted(id, report::still_busy(&p.busy)));
        }
    }
    let outcome = RunOutcome {
        results: plans
            .iter()
            .filter_map(|p| results.remove(p.phone_id))
            .collect(),
        interruption,
        ..RunOutcome::default()
    };
    notes.extend(report::reconciled(
        O::TYPE_NAME,
        operation,
        &first.reconciled,
    ));
    notes.extend(report::journal_found(
        O::TYPE_NAME,
        journal.jobs.len(),
        journal.unsure.len(),
    ));
    Ok(MainOutcome {
        records,
        outcome,
        notes,
    })
}

/// The journal's part in one run: what it says of earlier submissions, for the same intents, of
/// the phones about to be sent that state does not hold (a crash, an interrupted apply, a tainted
/// resource replaced), and the log the run writes each request to before it goes out.
#[derive(Default)]
struct JournalRun {
    log: Option<Arc<dyn cph_http::SubmissionLog>>,
    /// Phones whose earlier submission got a job: waited on, not sent again.
    jobs: Vec<RunningJob>,
    /// Phones whose earlier submission went out, or may have, with no answer written down: read
    /// first, sent again only with no sign of it.
    unsure: Vec<UnsurePhone>,
}

impl JournalRun {
    /// Consults the journal for `phones` (each with a rendering of its own inputs) about to be sent
    /// by `operation` of resource type `O`, where `shared` renders the resource-wide inputs and
    /// `recorded` is each phone's request id in state.
    fn open<O: Operation>(
        ctx: &Context<ProviderData>,
        operation: BatchOperation,
        shared: &str,
        phones: &[(PhoneId, String)],
        recorded: &HashMap<&str, &cph_types::RequestId>,
    ) -> Result<JournalRun, Diagnostics> {
        if phones.is_empty() {
            return Ok(JournalRun::default());
        }
        let journal = ctx
            .data()?
            .journal()
            .map_err(|e| Diagnostics::from(report::journal_unavailable(&e)))?;
        let intents: HashMap<PhoneId, Intent> = phones
            .iter()
            .map(|(id, inputs)| {
                let intent = Intent::of(O::TYPE_NAME, operation.api_name(), id, inputs, shared);
                (id.clone(), intent)
            })
            .collect();
        let wanted: Vec<(PhoneId, Intent)> = intents
            .iter()
            .map(|(id, i)| (id.clone(), i.clone()))
            .collect();
        let mut run = JournalRun::default();
        let mut found: Vec<_> = journal
            .earlier(O::TYPE_NAME, operation.api_name(), &wanted, recorded)
            .into_values()
            .collect();
        found.sort_by(|a, b| journal_phone(a).cmp(journal_phone(b)));
        for earlier in found {
            match earlier {
                journal::Earlier::Job(job) => run.jobs.push(job),
                journal::Earlier::Unsure(phone) => run.unsure.push(phone),
            }
        }
        run.log = Some(RunLog::new(journal, O::TYPE_NAME, intents));
        Ok(run)
    }

    /// Whether the journal found an earlier submission of `phone_id` with a job.
    fn has_job(&self, phone_id: &str) -> bool {
        self.jobs.iter().any(|j| j.phone_id.as_str() == phone_id)
    }
}

fn journal_phone(earlier: &journal::Earlier) -> &str {
    match earlier {
        journal::Earlier::Job(job) => job.phone_id.as_str(),
        journal::Earlier::Unsure(phone) => phone.phone_id.as_str(),
    }
}

/// The resource-wide inputs of an intent: what acting again for a change of them means.
fn shared_intent<P>(model: &OperationModel<P>, follow_up: bool) -> String {
    format!(
        "{:?}|{:?}|{:?}|{}",
        model.image_id,
        model.triggers,
        model.state,
        if follow_up { "follow-up" } else { "main" }
    )
}

/// Each phone's request id in `records`.
fn recorded_requests(records: &Records) -> HashMap<&str, &cph_types::RequestId> {
    records
        .iter()
        .filter_map(|(id, r)| Some((id.as_str(), r.known()?.request_id.as_ref()?)))
        .collect()
}

/// Drops from the journal what the prior state of a plan now holds (its submissions' outcomes).
fn prune_journal<O: Operation>(journal: Option<&Journal>, prior: &PriorState<O>) {
    let Some(journal) = journal else { return };
    for records in [prior.main(), prior.follow()] {
        let recorded = recorded_requests(records);
        if recorded.is_empty() {
            continue;
        }
        if let Err(e) = journal.prune(O::TYPE_NAME, &recorded) {
            tracing::warn!(error = %e, "the submission journal could not be pruned");
        }
    }
}

/// The typed ids of the desired phones, by id.
fn planned_ids<P: PhoneModel>(model: &OperationModel<P>) -> HashMap<&str, &PhoneId> {
    let from_ids = model
        .phone_ids
        .known()
        .into_iter()
        .flatten()
        .filter_map(Maybe::known);
    let from_phones = model
        .phones
        .known()
        .into_iter()
        .flatten()
        .filter_map(|p| p.phone_id().known());
    let from_map = model.phone_map.known().into_iter().flat_map(|m| m.keys());
    from_ids
        .chain(from_phones)
        .chain(from_map)
        .map(|id| (id.as_str(), id))
        .collect()
}

/// Phase 3: the follow-up restarts of the phones whose main operation stands (or that still need
/// theirs), waits on restarts still running, and a record for every phone that needs one.
async fn follow_up_phase<O: Operation>(
    apply: &Apply<'_, O>,
    plans: &[PhonePlan<'_>],
    main_records: &HashMap<String, Record>,
    interruption: Option<&Interruption>,
) -> (HashMap<String, Record>, RunOutcome, Diagnostics) {
    let Apply {
        ctx,
        runner,
        rollout,
        planned,
        prior,
        journal: journalled,
    } = *apply;
    let interrupted = interruption.is_some();
    let main_ok = |phone_id: &str| match main_records.get(phone_id) {
        Some(r) => r.succeeded(),
        None => prior.main_record(phone_id).is_some_and(Record::succeeded),
    };
    let mut records: HashMap<String, Record> = HashMap::new();
    let mut restart = Vec::new();
    // Restarts recorded `unknown` are read first (by the client), as the main operation's are.
    let mut unsure = Vec::new();
    let mut resumed = Vec::new();
    let mut acting = Vec::new();
    for p in plans {
        let Some(work) = &p.follow else { continue };
        let Some(phone_id) = prior_or_main_id(p.phone_id, main_records, prior) else {
            continue;
        };
        let mut not_restarted = |why: String| {
            records.insert(p.phone_id.to_owned(), Record::not_submitted(&phone_id, why))
        };
        match work {
            Work::Keep => {}
            // Still running as recorded when the run ended first; the next apply waits on it.
            Work::Wait if interrupted => {}
            Work::Wait => {
                resumed.extend(prior.follow_record(p.phone_id).and_then(running_job));
                acting.extend(prior.follow_record(p.phone_id).and_then(acting_phone));
            }
            Work::Submit(_) if interrupted => {
                not_restarted(report::follow_up_cut_short(interruption));
            }
            Work::Submit(_) if !main_ok(p.phone_id) => {
                not_restarted(report::follow_up_after_failure(O::VERB));
            }
            Work::Submit(_) => {
                if retries_unknown(work) {
                    unsure.extend(prior.follow_record(p.phone_id).map(unsure_phone));
                }
                restart.push(RestartPhone {
                    phone_id,
                    property: None,
                });
            }
        }
    }
    let to_send: Vec<(PhoneId, String)> = restart
        .iter()
        .map(|r| (r.phone_id.clone(), String::new()))
        .collect();
    let opened = if journalled {
        JournalRun::open::<O>(
            ctx,
            BatchOperation::Restart,
            &shared_intent(planned, true),
            &to_send,
            &recorded_requests(prior.follow()),
        )
    } else {
        Ok(JournalRun::default())
    };
    let journal = match opened {
        Ok(journal) => journal,
        Err(diags) => {
            for r in restart {
                records.insert(
                    r.phone_id.as_str().to_owned(),
                    Record::not_submitted(&r.phone_id, report::journal_blocked()),
                );
            }
            return (records, RunOutcome::default(), diags);
        }
    };
    restart.retain(|r| !journal.has_job(r.phone_id.as_str()));
    resumed.extend(journal.jobs.iter().cloned());
    for phone in &journal.unsure {
        if restart.iter().any(|r| r.phone_id == phone.phone_id)
            && !unsure
                .iter()
                .any(|u: &UnsurePhone| u.phone_id == phone.phone_id)
        {
            unsure.push(phone.clone());
        }
    }
    let needing = restart.len() + resumed.len() + acting.len();
    let request = RestartRequest::new(restart);
    let earlier = Earlier {
        jobs: resumed,
        acting,
        unsure,
    };
    let outcome = runner
        .run(
            Some(&request),
            earlier,
            rollout.resolve(needing),
            journal.log.clone(),
        )
        .await;
    for result in outcome.results.iter().chain(&outcome.held) {
        records.insert(result.phone_id.as_str().to_owned(), result.to_record());
    }
    let mut notes = report::reconciled(O::TYPE_NAME, BatchOperation::Restart, &outcome.reconciled);
    notes.extend(report::journal_found(
        O::TYPE_NAME,
        journal.jobs.len(),
        journal.unsure.len(),
    ));
    (records, outcome, notes)
}

/// The typed id of a phone that has a main record of this apply or of the prior state.
fn prior_or_main_id<O: Operation>(
    phone_id: &str,
    main_records: &HashMap<String, Record>,
    prior: &PriorState<O>,
) -> Option<PhoneId> {
    main_records
        .get(phone_id)
        .or_else(|| prior.main_record(phone_id))
        .or_else(|| prior.follow_record(phone_id))
        .map(|r| r.phone_id.clone())
        .or_else(|| PhoneId::new(phone_id).ok())
}

/// The records of the apply, ready for state: kept ones as they were, fresh ones from this apply.
fn assemble<O: Operation>(
    plans: &[PhonePlan<'_>],
    prior: &PriorState<O>,
    mut main_records: HashMap<String, Record>,
    mut follow_records: HashMap<String, Record>,
    id: String,
    diagnostics: Diagnostics,
) -> Done {
    let (jobs, restarts) = layout(plans, prior);
    // Every phone with work got a record above, except one that a declared-state resource found
    // already as declared (its prior record stands, or it has none).
    let finish = |layout: &[(&str, Maybe<&Record>)], fresh: &mut HashMap<String, Record>| {
        let mut out = Records::new();
        for (id, slot) in layout {
            let record = match slot {
                Maybe::Known(r) => Some((*r).clone()),
                _ => fresh.get(*id).cloned(),
            };
            if let Some(record) = record {
                out.insert((*id).to_owned(), Maybe::Known(record));
            }
        }
        out
    };
    let jobs = finish(&jobs, &mut main_records);
    let restarts = finish(&restarts, &mut follow_records);
    let anything_sent = main_records
        .values()
        .chain(follow_records.values())
        .any(|r| r.status != Status::NotSubmitted);
    let request_ids = records::request_ids(
        jobs.values()
            .chain(restarts.values())
            .filter_map(Maybe::known),
    );
    Done {
        jobs,
        restarts,
        request_ids,
        id,
        anything_sent,
        diagnostics,
        acted: main_records,
        interruption: None,
    }
}

/// Refreshes the records of jobs still running (main and follow-up) with one polling round (no call
/// when none is running), then lets the operation read the service. Problems are warnings: the
/// records stay as they were.
pub(crate) async fn refresh<O: Operation>(
    ctx: &Context<ProviderData>,
    schema: &Schema,
    req: ReadRequest,
) -> ReadResponse {
    let mut diags = Diagnostics::new();
    let mut state: OperationModel<O::Phone> = match model::decode_state(&req.current_state) {
        Ok(m) => m,
        Err(diag) => {
            return ReadResponse {
                new_state: req.current_state,
                private: req.private,
                diagnostics: diag.into(),
            };
        }
    };
    let data = match ctx.data() {
        Ok(d) => d,
        Err(diag) => {
            return ReadResponse {
                new_state: req.current_state,
                private: req.private,
                diagnostics: diag.into(),
            };
        }
    };
    let limit = timeout(&state.timeouts, TimeoutKind::Read);
    let runner = Runner::new(&data.client, ctx.cancellation(), limit);
    let operation = <O::Request as BatchRequest>::OPERATION;
    for (records, operation) in [
        (&mut state.jobs, operation),
        (&mut state.restart_jobs, BatchOperation::Restart),
    ] {
        diags.extend(refresh_running::<O>(&runner, operation, records).await);
    }
    let (read, private) = O::read_back(ctx, &mut state, &Reading::Refresh).await;
    diags.extend(read);
    let new_state = match write_computed(req.current_state.clone(), schema, &state) {
        Ok(v) => v,
        Err(diag) => {
            diags.push(diag);
            req.current_state
        }
    };
    ReadResponse {
        new_state,
        private,
        diagnostics: diags,
    }
}

/// One polling round over the running jobs of `records`, written back into them.
async fn refresh_running<O: Operation>(
    runner: &Runner<'_>,
    operation: BatchOperation,
    records: &mut Maybe<Records>,
) -> Diagnostics {
    let Maybe::Known(records) = records else {
        return Diagnostics::new();
    };
    let running: Vec<RunningJob> = records
        .values()
        .filter_map(Maybe::known)
        .filter_map(running_job)
        .collect();
    if running.is_empty() {
        return Diagnostics::new();
    }
    let outcome = runner.refresh(operation, running).await;
    let mut diags = report::lost_in_refresh(O::TYPE_NAME, &outcome);
    for result in &outcome.results {
        if let Some(slot) = records.get_mut(result.phone_id.as_str()) {
            *slot = Maybe::Known(result.to_record());
        }
    }
    if let Some(interruption) = &outcome.interruption {
        diags.push(report::refresh_cut_short(
            O::TYPE_NAME,
            O::VERB,
            interruption,
        ));
    }
    diags
}

/// What an import id names: `<phone_id>[,<phone_id>...][/<key>[,<key>...]]` (keys where the
/// resource takes them). The phones come back sorted by id, whatever their order in the id (as
/// `cph_phones` lists them, so that a configuration built from it plans no reordering).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ImportId {
    pub(crate) phones: Vec<PhoneId>,
    pub(crate) keys: Option<Vec<String>>,
}

impl ImportId {
    pub(crate) fn parse(id: &str, takes_keys: bool) -> Result<ImportId, Diagnostics> {
        let mut diags = Diagnostics::new();
        let (phones_part, keys_part) = match id.split_once('/') {
            Some((phones, keys)) => (phones, Some(keys)),
            None => (id, None),
        };
        let parts: Vec<&str> = phones_part
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        if parts.is_empty() {
            diags.error("Invalid Import Id", report::import_id_form(id, takes_keys));
        }
        let mut seen = HashSet::new();
        let mut phones = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            if !seen.insert(*part) {
                diags.error(
                    "Invalid Import Id",
                    format!("phone {} is listed twice", tfplugin::shown(part)),
                );
                continue;
            }
            match PhoneId::new(*part) {
                Ok(id) => phones.push(id),
                Err(e) => diags.error(
                    "Invalid Import Id",
                    format!("phone {} of the import id: {e}", i + 1),
                ),
            }
        }
        let keys = match keys_part {
            None => None,
            Some(_) if !takes_keys => {
                diags.error("Invalid Import Id", report::import_id_form(id, takes_keys));
                None
            }
            Some(keys) => {
                let keys: Vec<String> = keys
                    .split(',')
                    .map(str::trim)
                    .filter(|k| !k.is_empty())
                    .map(str::to_owned)
                    .collect();
                if keys.is_empty() {
                    diags.error(
                        "Invalid Import Id",
                        format!(
                            "import id {} has a `/` but names no property key after it",
                            tfplugin::shown(id)
                        ),
                    );
                }
                Some(keys)
            }
        };
        if diags.has_errors() {
            return Err(diags);
        }
        phones.sort();
        Ok(ImportId { phones, keys })
    }
}

/// Imports the phones an import id names: the state of a resource that has acted on none of them
/// yet, with what the operation reads from the service (properties, statuses).
pub(crate) async fn import<O: Operation>(
    ctx: &Context<ProviderData>,
    schema: &Schema,
    id: String,
    by_ids: bool,
    takes_keys: bool,
) -> ImportResponse {
    let failed = |diagnostics: Diagnostics| ImportResponse {
        diagnostics,
        ..ImportResponse::default()
    };
    let parsed = match ImportId::parse(&id, takes_keys) {
        Ok(p) => p,
        Err(diags) => return failed(diags),
    };
    let mut state: OperationModel<O::Phone> = OperationModel {
        id: Maybe::Known(id),
        jobs: Maybe::Known(Records::new()),
        request_ids: Maybe::Known(Vec::new()),
        ..OperationModel::default()
    };
    if O::FOLLOW_UP.is_some() {
        state.restart_jobs = Maybe::Known(Records::new());
    }
    if by_ids {
        state.phone_ids = Maybe::Known(parsed.phones.iter().cloned().map(Maybe::Known).collect());
    } else {
        state.phones = Maybe::Known(
            parsed
                .phones
                .iter()
                .map(|id| O::Phone::bare(id.clone()))
                .collect(),
        );
    }
    let (diagnostics, private) = O::read_back(
        ctx,
        &mut state,
        &Reading::Import {
            keys: parsed.keys.clone(),
        },
    )
    .await;
    if diagnostics.has_errors() {
        return failed(diagnostics);
    }
    let mut value = match model::encode(&state, &schema.value_type()) {
        Ok(v) => v,
        Err(diag) => return failed(diag.into()),
    };
    schema.block.fill_defaults(&mut value);
    ImportResponse {
        state: value,
        private,
        diagnostics,
    }
}

/// How long an import or a read without `timeouts` may take.
pub(crate) const READ_TIMEOUT: Duration = crate::timeouts::DEFAULT_TIMEOUT;

#[cfg(test)]
mod tests;
