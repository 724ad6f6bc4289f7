//! How a resource converges per phone, shared by every resource: plan (which phones need work,
//! shown as unknown records, with a summary of why), apply (the planned work through the runner:
//! waits on running jobs, submissions, follow-up restarts; every phone's record written back) and
//! refresh (running jobs polled, nothing called when none runs).

use std::collections::{HashMap, HashSet};

use cph_http::{Earlier, Reconciliation, RunningJob, UnsurePhone};
use cph_types::{BatchOperation, BatchRequest, PhoneId, RequestId, RestartPhone, RestartRequest};
use tfplugin::{
    ApplyRequest, ApplyResponse, AttributePath, Context, Diagnostic, Diagnostics, PlanRequest,
    PlanResponse, Value,
};

use crate::config::ProviderData;
use crate::phones::{PhoneInputs, PhoneList, read_phones};
use crate::planner::{self, PhonePlan, Policy, Prior, Reason, Summary, Work};
use crate::records::{Record, Records, Status, read_records, records_value, request_ids};
use crate::report::{self, Context as ReportContext, title};
use crate::rollout::RolloutSpec;
use crate::runner::{Interruption, PhoneResult, RunOutcome, Runner, acting_phone, running_job};
use crate::timeouts::{TimeoutKind, timeout};

/// The attribute holding the main operation's records.
pub(crate) const JOBS: &str = "jobs";
/// The attribute holding the follow-up restarts' records.
pub(crate) const RESTART_JOBS: &str = "restart_jobs";

/// What a resource's operation is, for the shared convergence.
pub(crate) trait Operation: Send + Sync + 'static {
    /// What each phone carries besides its id.
    type Inputs: PhoneInputs;
    /// The batch request the operation sends.
    type Request: BatchRequest + Send + Sync;
    /// The resource type, e.g. `cph_phone_restart`.
    const TYPE_NAME: &'static str;
    /// The operation in words, e.g. `restart`.
    const VERB: &'static str;
    /// Its past participle, e.g. `restarted`.
    const DONE: &'static str;
    /// The switch of the follow-up restart, e.g. `restart_after_restore`, if the resource has one.
    const FOLLOW_UP: Option<&'static str> = None;
    /// Whether a listed phone without a record needs the operation (false where state may come
    /// from reading the service, as after an import).
    const UNRECORDED_NEEDS_WORK: bool = true;

    /// The request for `phones`, taking the resource-wide inputs (such as `image_id`) from the
    /// resource's planned value.
    fn request(
        resource: &Value,
        phones: Vec<(PhoneId, &Self::Inputs)>,
    ) -> Result<Self::Request, Diagnostic>;
}

/// Whether the follow-up restart is on in `resource`: `None` while unknown.
fn follow_up_on<O: Operation>(resource: &Value) -> Option<bool> {
    match O::FOLLOW_UP {
        None => Some(false),
        Some(name) => match resource.get(name) {
            Some(Value::Bool(on)) => Some(*on),
            Some(Value::Unknown) => None,
            _ => Some(false),
        },
    }
}

/// The prior state, read once.
struct PriorState<I> {
    phones: PhoneList<I>,
    main: Records,
    follow: Records,
}

impl<I: PhoneInputs> PriorState<I> {
    fn read(value: &Value) -> Self {
        let mut ignored = Diagnostics::new();
        PriorState {
            phones: if value.is_null() {
                PhoneList::Known(Vec::new())
            } else {
                read_phones(value, &mut ignored)
            },
            main: read_records(value.get(JOBS)),
            follow: read_records(value.get(RESTART_JOBS)),
        }
    }
}

/// The planner's verdict on each desired phone, given the prior state (the same at plan and at
/// apply time, so that apply acts on exactly the phones the plan showed).
fn plan_phones<'a, O: Operation>(
    prior: &'a PriorState<O::Inputs>,
    inputs: &'a HashMap<&'a str, &'a O::Inputs>,
    desired: &[(&'a str, Option<&O::Inputs>)],
    follow_on: bool,
) -> Vec<PhonePlan<'a>> {
    planner::plan(
        Prior {
            inputs,
            main: &prior.main,
            follow: &prior.follow,
        },
        desired,
        Policy {
            unrecorded_needs_work: O::UNRECORDED_NEEDS_WORK,
            follow_up: follow_on,
            observed: false,
        },
        O::Inputs::met_by,
    )
}

/// What a desired phone's record in one map will be.
#[derive(Debug, Clone, Copy)]
enum Slot<'a> {
    /// Its record stands as it is.
    Kept(&'a Record),
    /// It gets a new record from this apply (unknown until then).
    Fresh,
}

/// The records a map will hold, by phone id, in the order of the phones.
type Layout<'a> = Vec<(&'a str, Slot<'a>)>;

/// The records each map will hold: for the main operation one per desired phone that has one or
/// gets one now; for the follow-up (when the resource has one) the same while it is on, and while
/// it is off only the records of phones whose main operation stands.
fn layout<'a>(
    plans: &[PhonePlan<'a>],
    main: &'a Records,
    follow: &'a Records,
) -> (Layout<'a>, Layout<'a>) {
    let mut jobs = Vec::with_capacity(plans.len());
    let mut restarts = Vec::new();
    for p in plans {
        let slot = |work: &Work, records: &'a Records| match work {
            Work::Keep => records.get(p.phone_id).map(Slot::Kept),
            _ => Some(Slot::Fresh),
        };
        jobs.extend(slot(&p.main, main).map(|s| (p.phone_id, s)));
        match &p.follow {
            Some(work) => restarts.extend(slot(work, follow).map(|s| (p.phone_id, s))),
            None if p.main.is_keep() => {
                restarts.extend(follow.get(p.phone_id).map(|r| (p.phone_id, Slot::Kept(r))));
            }
            None => {}
        }
    }
    (jobs, restarts)
}

/// A map value from a layout, fresh records as unknown values.
fn layout_value(layout: &Layout<'_>) -> Value {
    Value::Map(
        layout
            .iter()
            .map(|(id, slot)| {
                let value = match slot {
                    Slot::Kept(record) => record.to_value(),
                    Slot::Fresh => Value::Unknown,
                };
                ((*id).to_owned(), value)
            })
            .collect(),
    )
}

/// Plans the records of an update in place: the phones that need work are unknown, the rest keep
/// their records, removed phones leave; a warning says how many phones need what and why. A create
/// or replacement is left as the runtime planned it (everything computed unknown).
pub(crate) fn plan<O: Operation>(req: &PlanRequest, plan: &mut PlanResponse) {
    if plan.planned_state.is_null() {
        return;
    }
    if req.prior_state.is_null() || !plan.requires_replace.is_empty() {
        // A new object: its id too is known only after apply.
        plan.set_unknown(&AttributePath::root("id"));
        return;
    }
    let has_follow = O::FOLLOW_UP.is_some();
    let mut ignored = Diagnostics::new();
    let desired = read_phones::<O::Inputs>(&plan.planned_state, &mut ignored);
    let follow_on = follow_up_on::<O>(&plan.planned_state);
    let (Some(desired), Some(follow_on)) = (desired.with_known_ids(), follow_on) else {
        // Which phones need work is known only at apply time.
        for name in [JOBS, RESTART_JOBS, "request_ids"] {
            if name != RESTART_JOBS || has_follow {
                plan.set_unknown(&AttributePath::root(name));
            }
        }
        return;
    };
    let prior = PriorState::<O::Inputs>::read(&req.prior_state);
    let inputs = prior.phones.by_id();
    let plans = plan_phones::<O>(&prior, &inputs, &desired, follow_on);
    let (jobs, restarts) = layout(&plans, &prior.main, &prior.follow);
    plan.planned_state
        .set_path(&AttributePath::root(JOBS), layout_value(&jobs));
    if has_follow {
        plan.planned_state
            .set_path(&AttributePath::root(RESTART_JOBS), layout_value(&restarts));
    }
    let summary = Summary::of(&plans);
    if summary.any_work() {
        plan.set_unknown(&AttributePath::root("request_ids"));
        let sentences = summary.sentences(O::DONE, "restart");
        let working = plans
            .iter()
            .filter(|p| !p.main.is_keep() || p.follow.as_ref().is_some_and(|f| !f.is_keep()))
            .count();
        plan.diagnostics.push(Diagnostic::warning(
            format!("{working} of {} Phones Need Work", summary.total),
            format!(
                "{}: {}. The other phones keep their records and are not called.",
                O::TYPE_NAME,
                sentences.join("; ")
            ),
        ));
    } else {
        plan.keep_prior(req, &AttributePath::root("request_ids"));
    }
}

/// What an apply produced: the new state (null when nothing reached the service on a create), its
/// diagnostics, and the main operation's record of each phone it acted on.
pub(crate) struct Applied {
    pub(crate) state: Value,
    pub(crate) diagnostics: Diagnostics,
    pub(crate) acted: HashMap<String, Record>,
}

impl From<Applied> for ApplyResponse {
    fn from(applied: Applied) -> ApplyResponse {
        ApplyResponse {
            new_state: applied.state,
            private: Vec::new(),
            diagnostics: applied.diagnostics,
        }
    }
}

impl Applied {
    fn failed(state: Value, diagnostics: impl Into<Diagnostics>) -> Applied {
        Applied {
            state,
            diagnostics: diagnostics.into(),
            acted: HashMap::new(),
        }
    }
}

/// Applies a create (`kind` [`TimeoutKind::Create`]) or an update: plans again from the prior state
/// and the known plan, waits on running jobs, submits the phones that need it, performs the
/// follow-up restarts, and records every phone. Nothing of the (large) states is copied: the plan
/// becomes the new state.
pub(crate) async fn apply<O: Operation>(
    ctx: &Context<ProviderData>,
    req: ApplyRequest,
    kind: TimeoutKind,
) -> Applied {
    let ApplyRequest {
        prior_state,
        planned_state,
        config,
        ..
    } = req;
    let done = match run_phases::<O>(ctx, &prior_state, &planned_state, &config, kind).await {
        Ok(done) => done,
        // Nothing was done: the state stays as it was.
        Err(diagnostics) => return Applied::failed(prior_state, diagnostics),
    };
    if kind == TimeoutKind::Create && !done.anything_sent {
        // Nothing reached the service: there is nothing to record, and nothing is tainted.
        return Applied::failed(Value::Null, done.diagnostics);
    }
    let mut state = planned_state;
    state.set_path(&AttributePath::root(JOBS), done.jobs);
    if let Some(restarts) = done.restarts {
        state.set_path(&AttributePath::root(RESTART_JOBS), restarts);
    }
    if done.any_work || !state.get("request_ids").is_some_and(Value::is_wholly_known) {
        state.set_path(&AttributePath::root("request_ids"), done.request_ids);
    }
    if !matches!(state.get("id"), Some(Value::String(_))) {
        state.set_path(&AttributePath::root("id"), Value::from(done.id));
    }
    Applied {
        state,
        diagnostics: done.diagnostics,
        acted: done.acted,
    }
}

/// What the phases of an apply did, ready to be written to state.
struct Done {
    jobs: Value,
    restarts: Option<Value>,
    request_ids: Value,
    /// The id of a new resource: its first request id (or its first phone's id).
    id: String,
    any_work: bool,
    anything_sent: bool,
    diagnostics: Diagnostics,
    acted: HashMap<String, Record>,
}

/// The phases of an apply; `Err` when nothing was done (the apply is refused before any call).
async fn run_phases<O: Operation>(
    ctx: &Context<ProviderData>,
    prior_state: &Value,
    planned: &Value,
    config: &Value,
    kind: TimeoutKind,
) -> Result<Done, Diagnostics> {
    let data = ctx.data()?;
    // Values unknown at validate time are known now: the list-wide rules are judged again first.
    let mut problems = Diagnostics::new();
    let desired = read_phones::<O::Inputs>(planned, &mut problems);
    if problems.has_errors() {
        return Err(problems);
    }
    let Some(desired) = desired.with_known_ids() else {
        return Err(Diagnostic::error(
            "Phones Not Known",
            "the phone list has no known value at apply time (provider bug)",
        )
        .into());
    };
    let prior = PriorState::<O::Inputs>::read(prior_state);
    let inputs = prior.phones.by_id();
    let follow_on = follow_up_on::<O>(planned).unwrap_or(false);
    let plans = plan_phones::<O>(&prior, &inputs, &desired, follow_on);
    let runner = Runner::new(&data.client, ctx.cancellation(), timeout(config, kind));
    let report_ctx = |verb| ReportContext {
        type_name: O::TYPE_NAME,
        verb,
        creating: kind == TimeoutKind::Create,
        allow_partial: planned
            .get("allow_partial_failure")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    };

    let rollout = RolloutSpec::read(planned);
    let main = main_phases::<O>(&runner, rollout, planned, &desired, &plans, &prior).await?;
    let mut diagnostics = main.notes;
    diagnostics.extend(report::report(&main.outcome, report_ctx(O::VERB)));
    let mut follow_records = HashMap::new();
    if follow_on {
        let (records, outcome, notes) = follow_up_phase::<O>(
            &runner,
            rollout,
            &plans,
            &prior,
            &main.records,
            main.outcome.interruption.as_ref(),
        )
        .await;
        follow_records = records;
        diagnostics.extend(notes);
        diagnostics.extend(report::report(&outcome, report_ctx("restart")));
    }
    let id = main
        .outcome
        .results
        .iter()
        .find_map(|r| r.request_id.as_ref().map(|r| r.as_str().to_owned()))
        .or_else(|| desired.first().map(|(id, _)| (*id).to_owned()))
        .unwrap_or_default();
    Ok(assemble::<O>(
        &plans,
        &prior,
        main.records,
        follow_records,
        id,
        diagnostics,
    ))
}

/// What the main operation did: a record per phone it acted on, the run to report, and what
/// reading the service about `unknown` phones found.
struct MainOutcome {
    records: HashMap<String, Record>,
    outcome: RunOutcome,
    notes: Diagnostics,
}

/// What reading the service said about phones recorded `unknown` that need the operation again
/// (their last request may have been performed): see [`reconcile_unknown`].
#[derive(Default)]
struct Reconciled {
    /// Jobs of their earlier requests: waited on, not sent again.
    jobs: Vec<RunningJob>,
    /// Phones found in the operation's in-progress status: waited on by their status.
    acting: Vec<PhoneId>,
    /// Records of the phones the service could not be read about: not sent.
    held: HashMap<String, Record>,
    /// Phones not to be sent (acted on, or held).
    settled: HashSet<String>,
    /// Phones that showed no sign of the earlier request: sent once more.
    resent: usize,
}

impl Reconciled {
    fn settled(&self, phone_id: &str) -> bool {
        self.settled.contains(phone_id)
    }

    /// A warning saying what was read and what follows from it, when anything was read.
    fn note(&self, type_name: &str, operation: BatchOperation) -> Option<Diagnostic> {
        let read = self.jobs.len() + self.acting.len() + self.held.len() + self.resent;
        if read == 0 {
            return None;
        }
        let phones = |n: usize| {
            if n == 1 {
                "1 phone".to_owned()
            } else {
                format!("{n} phones")
            }
        };
        let mut parts = Vec::new();
        let acted = self.jobs.len() + self.acting.len();
        if acted > 0 {
            let mut how = Vec::new();
            if !self.jobs.is_empty() {
                how.push(format!(
                    "{} with a job of the earlier request",
                    self.jobs.len()
                ));
            }
            if let (false, Some(path)) = (self.acting.is_empty(), operation.status_path()) {
                how.push(format!(
                    "{} found {}",
                    self.acting.len(),
                    path.during.name()
                ));
            }
            parts.push(format!(
                "{} had been acted on ({}) and {} waited on instead of being sent again",
                phones(acted),
                how.join(", "),
                if acted == 1 { "was" } else { "were" }
            ));
        }
        if self.resent > 0 {
            parts.push(format!(
                "{} showed no sign of it and {} sent once more",
                phones(self.resent),
                if self.resent == 1 { "was" } else { "were" }
            ));
        }
        if !self.held.is_empty() {
            parts.push(format!(
                "{} could not be read and {} not sent (still `unknown`)",
                phones(self.held.len()),
                if self.held.len() == 1 { "was" } else { "were" }
            ));
        }
        Some(Diagnostic::warning(
            format!("{} Recorded Unknown Read First", phones(read)),
            format!(
                "{type_name}: {} recorded `unknown` (an earlier {} request may have been performed) {} read before \
                 anything was sent: {}.",
                phones(read),
                operation.api_name(),
                if read == 1 { "was" } else { "were" },
                parts.join("; ")
            ),
        ))
    }
}

/// Reads the service about `unsure` phones (recorded `unknown`, to be acted on again): a job of
/// their earlier request, or the phone in `operation`'s in-progress status, means the request was
/// performed, and the phone is waited on instead of sent again; no sign of it, and it is sent once
/// more; a service that cannot be read, and it is not sent.
async fn reconcile_unknown(
    runner: &Runner<'_>,
    operation: BatchOperation,
    unsure: &[(&str, &Record)],
) -> Reconciled {
    let mut reconciled = Reconciled::default();
    let phones: Vec<UnsurePhone> = unsure
        .iter()
        .filter_map(|(id, record)| {
            Some(UnsurePhone {
                phone_id: PhoneId::new(*id).ok()?,
                request_id: RequestId::new(record.request_id.as_str()).ok(),
            })
        })
        .collect();
    let records: HashMap<&str, &Record> = unsure.iter().copied().collect();
    for verdict in runner.reconcile(operation, &phones).await {
        let id = verdict.phone_id().as_str().to_owned();
        match verdict {
            Reconciliation::Job(job) => {
                reconciled.settled.insert(id);
                reconciled.jobs.push(job);
            }
            Reconciliation::Acting { phone_id, .. } => {
                reconciled.settled.insert(id);
                reconciled.acting.push(phone_id);
            }
            Reconciliation::NoSign { .. } => reconciled.resent += 1,
            Reconciliation::Unreadable { error, .. } => {
                let mut record = records
                    .get(id.as_str())
                    .map(|r| (*r).clone())
                    .unwrap_or_else(|| Record::not_submitted(&id, ""));
                record.status = Status::Unknown;
                record.error_msg = format!(
                    "not sent again: the earlier request may have been performed, and reading the service to find \
                     out failed: {error}"
                );
                reconciled.held.insert(id.clone(), record);
                reconciled.settled.insert(id);
            }
        }
    }
    reconciled
}

/// Whether `work` is a retry of a phone recorded `unknown`.
fn retries_unknown(work: &Work) -> bool {
    *work == Work::Submit(Reason::Retry(Status::Unknown))
}

/// Phase 1 submits the phones that need the main operation and are free, and waits on them
/// together with every job still running (main jobs to finish, and jobs that keep a phone busy);
/// phase 2 submits the phones that were busy, now free.
async fn main_phases<O: Operation>(
    runner: &Runner<'_>,
    rollout: RolloutSpec,
    planned: &Value,
    desired: &[(&str, Option<&O::Inputs>)],
    plans: &[PhonePlan<'_>],
    prior: &PriorState<O::Inputs>,
) -> Result<MainOutcome, Diagnostics> {
    let wanted: HashMap<&str, Option<&O::Inputs>> = desired.iter().copied().collect();
    let submits = |p: &&PhonePlan<'_>| matches!(p.main, Work::Submit(_));
    // Phones recorded `unknown` are read first: sent again only when nothing shows that their
    // earlier request was performed.
    let unsure: Vec<(&str, &Record)> = plans
        .iter()
        .filter(|p| retries_unknown(&p.main) && p.busy.is_empty())
        .filter_map(|p| prior.main.get(p.phone_id).map(|r| (p.phone_id, r)))
        .collect();
    let reconciled = reconcile_unknown(runner, O::Request::OPERATION, &unsure).await;
    let free: Vec<&PhonePlan<'_>> = plans
        .iter()
        .filter(|p| submits(p) && p.busy.is_empty() && !reconciled.settled(p.phone_id))
        .collect();
    let busy: Vec<&PhonePlan<'_>> = plans
        .iter()
        .filter(|p| submits(p) && !p.busy.is_empty())
        .collect();
    let waiting: HashSet<&str> = plans
        .iter()
        .filter(|p| p.main == Work::Wait || reconciled.settled(p.phone_id))
        .map(|p| p.phone_id)
        .collect();
    let mut resumed = Vec::new();
    let mut acting = reconciled.acting.clone();
    for p in plans {
        if p.main == Work::Wait {
            resumed.extend(prior.main.get(p.phone_id).and_then(running_job));
            acting.extend(prior.main.get(p.phone_id).and_then(acting_phone));
        }
        resumed.extend(p.busy.iter().filter_map(|r| running_job(r)));
    }

    // The rollout's percentages are of the phones that need the main operation in this apply.
    let needing = plans.iter().filter(|p| !p.main.is_keep()).count();
    let request = build_request::<O>(planned, &free, &wanted)?;
    resumed.extend(reconciled.jobs.iter().cloned());
    let resumed_count = resumed.len();
    let earlier = Earlier {
        jobs: resumed,
        acting,
    };
    let first = runner
        .run(request.as_ref(), earlier, rollout.resolve(needing))
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
        let request = build_request::<O>(planned, &busy, &wanted)?;
        let second = runner
            .run(
                request.as_ref(),
                Earlier::default(),
                rollout.resolve(busy.len()),
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
    for (id, record) in &reconciled.held {
        records.entry(id.clone()).or_insert_with(|| record.clone());
    }
    for p in &busy {
        records.entry(p.phone_id.to_owned()).or_insert_with(|| {
            let earlier = p
                .busy
                .iter()
                .map(|r| r.job_id.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            Record::not_submitted(
                p.phone_id,
                format!(
                    "not sent: the phone's earlier job {earlier} was still running when the run ended; it is \
                     submitted once that job has finished"
                ),
            )
        });
    }
    let outcome = RunOutcome {
        results: plans
            .iter()
            .filter_map(|p| results.remove(p.phone_id))
            .collect(),
        interruption,
    };
    let mut notes = Diagnostics::new();
    if let Some(note) = reconciled.note(O::TYPE_NAME, O::Request::OPERATION) {
        notes.push(note);
    }
    Ok(MainOutcome {
        records,
        outcome,
        notes,
    })
}

/// Phase 3: the follow-up restarts of the phones whose main operation stands (or that still need
/// theirs), waits on restarts still running, and a record for every phone that needs one.
async fn follow_up_phase<O: Operation>(
    runner: &Runner<'_>,
    rollout: RolloutSpec,
    plans: &[PhonePlan<'_>],
    prior: &PriorState<O::Inputs>,
    main_records: &HashMap<String, Record>,
    interruption: Option<&Interruption>,
) -> (HashMap<String, Record>, RunOutcome, Diagnostics) {
    let interrupted = interruption.is_some();
    let cut_short = match interruption {
        Some(Interruption::BudgetExceeded { .. }) => "not restarted: the rollout stopped first",
        _ => "not restarted: the run ended first",
    };
    let main_ok = |phone_id: &str| match main_records.get(phone_id) {
        Some(r) => r.succeeded(),
        None => prior.main.get(phone_id).is_some_and(Record::succeeded),
    };
    // Restarts recorded `unknown` are read first, as the main operation's are.
    let unsure: Vec<(&str, &Record)> = if interrupted {
        Vec::new()
    } else {
        plans
            .iter()
            .filter(|p| p.follow.as_ref().is_some_and(retries_unknown) && main_ok(p.phone_id))
            .filter_map(|p| prior.follow.get(p.phone_id).map(|r| (p.phone_id, r)))
            .collect()
    };
    let reconciled = reconcile_unknown(runner, BatchOperation::Restart, &unsure).await;
    let mut records: HashMap<String, Record> = reconciled.held.clone();
    let mut restart = Vec::new();
    let mut resumed = reconciled.jobs.clone();
    let mut acting = reconciled.acting.clone();
    let mut not_restarted = |id: &str, why: String| {
        records.insert(id.to_owned(), Record::not_submitted(id, why));
    };
    for p in plans {
        let Some(work) = &p.follow else { continue };
        if reconciled.settled(p.phone_id) {
            continue;
        }
        let main_ok = main_ok(p.phone_id);
        match work {
            Work::Keep => {}
            // Still running as recorded when the run ended first; the next apply waits on it.
            Work::Wait if interrupted => {}
            Work::Wait => {
                resumed.extend(prior.follow.get(p.phone_id).and_then(running_job));
                acting.extend(prior.follow.get(p.phone_id).and_then(acting_phone));
            }
            Work::Submit(_) if interrupted => not_restarted(p.phone_id, cut_short.to_owned()),
            Work::Submit(_) if !main_ok => not_restarted(
                p.phone_id,
                format!("not restarted: the {} did not succeed", O::VERB),
            ),
            Work::Submit(_) => match PhoneId::new(p.phone_id) {
                Ok(id) => restart.push(RestartPhone {
                    phone_id: id,
                    property: None,
                }),
                Err(e) => not_restarted(p.phone_id, format!("not restarted: {e}")),
            },
        }
    }
    let needing = restart.len() + resumed.len() + acting.len();
    let request = RestartRequest::new(restart);
    let earlier = Earlier {
        jobs: resumed,
        acting,
    };
    let outcome = runner
        .run(Some(&request), earlier, rollout.resolve(needing))
        .await;
    for result in &outcome.results {
        records.insert(result.phone_id.as_str().to_owned(), result.to_record());
    }
    let mut notes = Diagnostics::new();
    if let Some(note) = reconciled.note(O::TYPE_NAME, BatchOperation::Restart) {
        notes.push(note);
    }
    (records, outcome, notes)
}

/// The records of the apply, ready for state: kept ones as they were, fresh ones from this apply.
fn assemble<O: Operation>(
    plans: &[PhonePlan<'_>],
    prior: &PriorState<O::Inputs>,
    mut main_records: HashMap<String, Record>,
    mut follow_records: HashMap<String, Record>,
    id: String,
    diagnostics: Diagnostics,
) -> Done {
    let (jobs, restarts) = layout(plans, &prior.main, &prior.follow);
    // Every phone with work got a record above; should one be missing, its record says so rather
    // than a planned entry being left out. A follow-up still running when the run ended keeps its
    // record.
    for (id, slot) in &jobs {
        if matches!(slot, Slot::Fresh) && !main_records.contains_key(*id) {
            main_records.insert(
                (*id).to_owned(),
                Record::not_submitted(id, "not sent: the apply ended before reaching it"),
            );
        }
    }
    for (id, slot) in &restarts {
        if matches!(slot, Slot::Fresh) && !follow_records.contains_key(*id) {
            let record = match prior.follow.get(*id) {
                Some(running) if running.status == Status::Running => running.clone(),
                _ => Record::not_submitted(id, "not restarted: the apply ended before reaching it"),
            };
            follow_records.insert((*id).to_owned(), record);
        }
    }
    let finish = |layout: &Layout<'_>, fresh: &HashMap<String, Record>| -> Value {
        Value::Map(
            layout
                .iter()
                .map(|(id, _)| (*id).to_owned())
                .zip(recorded(layout, fresh).map(Record::to_value))
                .collect(),
        )
    };
    let anything_sent = main_records
        .values()
        .chain(follow_records.values())
        .any(|r| r.status != Status::NotSubmitted);
    Done {
        jobs: finish(&jobs, &main_records),
        restarts: O::FOLLOW_UP.map(|_| finish(&restarts, &follow_records)),
        request_ids: request_ids(
            recorded(&jobs, &main_records).chain(recorded(&restarts, &follow_records)),
        ),
        id,
        any_work: plans
            .iter()
            .any(|p| !p.main.is_keep() || p.follow.as_ref().is_some_and(|f| !f.is_keep())),
        anything_sent,
        diagnostics,
        acted: main_records,
    }
}

/// The record each slot of `layout` ends with: the kept one, or the fresh one of this apply.
fn recorded<'r>(
    layout: &'r Layout<'r>,
    fresh: &'r HashMap<String, Record>,
) -> impl Iterator<Item = &'r Record> + 'r {
    layout.iter().filter_map(|(id, slot)| match slot {
        Slot::Kept(r) => Some(*r),
        Slot::Fresh => fresh.get(*id),
    })
}

/// The request of `phones` (none when the list is empty).
fn build_request<O: Operation>(
    resource: &Value,
    phones: &[&PhonePlan<'_>],
    wanted: &HashMap<&str, Option<&O::Inputs>>,
) -> Result<Option<O::Request>, Diagnostic> {
    if phones.is_empty() {
        return Ok(None);
    }
    let mut typed = Vec::with_capacity(phones.len());
    for p in phones {
        let inputs = wanted.get(p.phone_id).copied().flatten().ok_or_else(|| {
            Diagnostic::error(
                "Inputs Not Known",
                format!(
                    "phone {} has inputs with no known value at apply time (provider bug)",
                    p.phone_id
                ),
            )
        })?;
        let id = PhoneId::new(p.phone_id)
            .map_err(|e| Diagnostic::error("Invalid Phone Id", e.to_string()))?;
        typed.push((id, inputs));
    }
    O::request(resource, typed).map(Some)
}

/// Refreshes the records of jobs still running (main and follow-up) with one polling round;
/// makes no call when none is running. Problems are warnings: the records stay as they were.
pub(crate) async fn refresh<O: Operation>(
    ctx: &Context<ProviderData>,
    state: &mut Value,
) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let running = |name: &str| -> Vec<cph_http::RunningJob> {
        read_records(state.get(name))
            .values()
            .filter_map(running_job)
            .collect()
    };
    let main = running(JOBS);
    let follow = running(RESTART_JOBS);
    if main.is_empty() && follow.is_empty() {
        return diags;
    }
    let data = match ctx.data() {
        Ok(d) => d,
        Err(diag) => {
            diags.push(diag);
            return diags;
        }
    };
    let runner = Runner::new(
        &data.client,
        ctx.cancellation(),
        timeout(state, TimeoutKind::Read),
    );
    for (name, operation, jobs) in [
        (JOBS, O::Request::OPERATION, main),
        (RESTART_JOBS, BatchOperation::Restart, follow),
    ] {
        if jobs.is_empty() {
            continue;
        }
        let outcome = runner.refresh(operation, jobs).await;
        diags.extend(report::lost_in_refresh(O::TYPE_NAME, &outcome));
        let mut records = read_records(state.get(name));
        for result in &outcome.results {
            if let Some(slot) = records.get_mut(result.phone_id.as_str()) {
                *slot = result.to_record();
            }
        }
        state.set_path(&AttributePath::root(name), records_value(&records));
        if let Some(interruption) = outcome.interruption {
            let why = match interruption {
                Interruption::Timeout(t) => {
                    format!(
                        "the refresh timed out after {}",
                        humantime::format_duration(t)
                    )
                }
                Interruption::Cancelled => "Terraform asked the provider to stop".to_owned(),
                Interruption::Failed(e) => e,
                Interruption::BudgetExceeded { .. } => "a refresh has no failure budget".to_owned(),
            };
            diags.push(Diagnostic::warning(
                format!("Running {} Jobs Not Refreshed", title(O::VERB)),
                format!(
                    "{}: {why}; phones whose jobs were not seen finished stay recorded as running, and the next apply \
                     waits on them.",
                    O::TYPE_NAME
                ),
            ));
        }
    }
    diags
}

#[cfg(test)]
mod tests {
    use tfplugin::Fields;

    use super::*;
    use crate::resources::phone_property::PhoneProperty;
    use crate::resources::phone_restart::PhoneRestart;

    fn record(phone: &str, status: Status) -> Value {
        Record {
            job_id: format!("job-{phone}"),
            request_id: "req-1".into(),
            status,
            ..Record::not_submitted(phone, "")
        }
        .to_value()
    }

    fn restart(ids: &[&str], jobs: Value, request_ids: Value) -> Value {
        Value::object([
            ("id", Value::from("req-1")),
            ("phones", Value::Null),
            (
                "phone_ids",
                Value::List(ids.iter().map(|id| Value::from(*id)).collect()),
            ),
            ("allow_partial_failure", Value::Bool(false)),
            ("jobs", jobs),
            ("request_ids", request_ids),
        ])
    }

    fn jobs(entries: &[(&str, Value)]) -> Value {
        Value::Map(
            entries
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect::<Fields>(),
        )
    }

    fn planned(
        prior: Value,
        proposed: Value,
        operation: fn(&PlanRequest, &mut PlanResponse),
    ) -> PlanResponse {
        let req = PlanRequest {
            prior_state: prior,
            proposed_new_state: proposed.clone(),
            config: proposed.clone(),
            prior_private: Vec::new(),
        };
        let mut plan = PlanResponse {
            planned_state: proposed,
            ..PlanResponse::default()
        };
        operation(&req, &mut plan);
        plan
    }

    #[test]
    fn an_update_plans_unknown_records_for_the_phones_with_work_and_keeps_the_rest() {
        let prior = restart(
            &["a", "b", "c"],
            jobs(&[
                ("a", record("a", Status::Success)),
                ("b", record("b", Status::Failed)),
                ("c", record("c", Status::Success)),
            ]),
            Value::List(vec![Value::from("req-1")]),
        );
        // The runtime marked the computed attributes unknown: the plan decides them.
        let proposed = restart(&["d", "b", "a"], Value::Unknown, Value::Unknown);
        let plan = planned(prior.clone(), proposed, plan::<PhoneRestart>);
        let planned_jobs = plan.planned_state.get("jobs").unwrap();
        assert_eq!(planned_jobs.get("a"), prior.get("jobs").unwrap().get("a"));
        assert_eq!(planned_jobs.get("b"), Some(&Value::Unknown));
        assert_eq!(planned_jobs.get("d"), Some(&Value::Unknown));
        assert_eq!(planned_jobs.get("c"), None, "a removed phone leaves state");
        assert_eq!(plan.planned_state.get("request_ids"), Some(&Value::Unknown));
        let warning = plan.diagnostics.iter().next().unwrap();
        assert_eq!(warning.summary, "2 of 3 Phones Need Work");
        assert!(
            warning
                .detail
                .contains("1 phone failed last time and will be retried")
                && warning
                    .detail
                    .contains("1 phone is new and will be restarted"),
            "{}",
            warning.detail
        );
    }

    #[test]
    fn with_nothing_to_do_the_plan_keeps_every_record_and_says_nothing() {
        let prior = restart(
            &["a", "b"],
            jobs(&[
                ("a", record("a", Status::Success)),
                ("b", record("b", Status::Success)),
            ]),
            Value::List(vec![Value::from("req-1")]),
        );
        let proposed = restart(&["b", "a"], Value::Unknown, Value::Unknown);
        let plan = planned(prior.clone(), proposed, plan::<PhoneRestart>);
        assert_eq!(plan.planned_state.get("jobs"), prior.get("jobs"));
        assert_eq!(
            plan.planned_state.get("request_ids"),
            prior.get("request_ids")
        );
        assert!(plan.diagnostics.is_empty());
    }

    #[test]
    fn an_imported_phone_without_a_record_that_holds_its_values_gets_no_record() {
        let phone = |id: &str, value: &str| {
            Value::object([
                ("phone_id", Value::from(id)),
                (
                    "properties",
                    Value::Map([("k".to_owned(), Value::from(value))].into_iter().collect()),
                ),
            ])
        };
        let state = |phones: Vec<Value>, jobs: Value| {
            Value::object([
                ("id", Value::from("imported")),
                ("phones", Value::List(phones)),
                ("restart_after_update", Value::Bool(false)),
                ("allow_partial_failure", Value::Bool(false)),
                ("jobs", jobs),
                ("restart_jobs", Value::Map(Fields::new())),
                ("request_ids", Value::List(Vec::new())),
            ])
        };
        let prior = state(
            vec![phone("a", "1"), phone("b", "1")],
            Value::Map(Fields::new()),
        );
        let proposed = state(vec![phone("a", "1"), phone("b", "2")], Value::Unknown);
        let plan = planned(prior, proposed, plan::<PhoneProperty>);
        let planned_jobs = plan.planned_state.get("jobs").unwrap();
        assert_eq!(planned_jobs.get("a"), None);
        assert_eq!(planned_jobs.get("b"), Some(&Value::Unknown));
        assert_eq!(
            plan.planned_state.get("restart_jobs"),
            Some(&Value::Map(Fields::new())),
            "the follow-up restart is off"
        );
    }

    #[test]
    fn a_create_or_a_replacement_leaves_every_record_unknown() {
        let proposed = restart(&["a"], Value::Unknown, Value::Unknown);
        let plan = planned(Value::Null, proposed, plan::<PhoneRestart>);
        assert_eq!(plan.planned_state.get("id"), Some(&Value::Unknown));
        assert!(plan.diagnostics.is_empty());
    }
}
