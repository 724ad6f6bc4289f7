//! `cph_phone_power`: the power state of phones as declared, drift-detected state, on the shared
//! engine. A refresh reads every phone's status in bulk (ListCloudPhones pages); a phone not in the
//! declared state is drift, planned as work on that phone alone; apply reads the statuses again,
//! waits for phones in a transitional status to settle, and stops (batch-stop) or powers on
//! (batch-restart of a stopped phone) exactly the phones the plan showed that still need it.
//!
//! The declared state picks the operation: [`Power<Stop>`] or [`Power<Start>`], the same resource
//! otherwise; [`PhonePower`] serves both.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::marker::PhantomData;
use std::time::Instant;

use cph_http::{PhoneFilter, WaitOptions};
use cph_types::{BatchRequest, PhoneId, PhoneStatus, RestartPhone, RestartRequest, StopRequest};
use serde::{Deserialize, Serialize};
use tfplugin::{
    ApplyRequest, ApplyResponse, Attribute, Context, Diagnostic, Diagnostics, IdentitySchema,
    ImportResponse, Maybe, PlanRequest, PlanResponse, RawState, ReadRequest, ReadResponse,
    Resource, Schema, Type, Validator, Value,
};

use super::{Import, Kind, PhoneList};
use crate::attributes::Surface;
use crate::config::ProviderData;
use crate::engine::{self, Operation, READ_TIMEOUT, Reading};
use crate::identity::{self, PhonesIdentity};
use crate::model::{self, OperationModel, PhoneModel, PowerState, names, path};
use crate::phones::Desired;
use crate::planner::PhonePlan;
use crate::records::{self, Record};
use crate::report;
use crate::runner::Runner;
use crate::timeouts::TimeoutKind;

/// The status name recorded for a phone the service does not list.
const NOT_FOUND: &str = "not_found";

/// Which way the phones are to go, and the request that takes them there.
pub(crate) trait Direction: Send + Sync + 'static {
    const STATE: PowerState;
    /// What apply does to a phone not in the state, in words.
    const VERB: &'static str;
    const DONE: &'static str;
    type Request: BatchRequest + Send + Sync;
    fn request(phones: Vec<PhoneId>) -> Self::Request;
}

/// Powered off: batch-stop.
pub(crate) struct Stop;
/// Powered on: batch-restart (which powers on a stopped phone).
pub(crate) struct Start;

impl Direction for Stop {
    const STATE: PowerState = PowerState::Stopped;
    const VERB: &'static str = "stop";
    const DONE: &'static str = "stopped";
    type Request = StopRequest;
    fn request(phones: Vec<PhoneId>) -> StopRequest {
        StopRequest::new(phones)
    }
}

impl Direction for Start {
    const STATE: PowerState = PowerState::Running;
    const VERB: &'static str = "power on";
    const DONE: &'static str = "powered on";
    type Request = RestartRequest;
    fn request(phones: Vec<PhoneId>) -> RestartRequest {
        RestartRequest::new(phones.into_iter().map(|phone_id| RestartPhone {
            phone_id,
            property: None,
        }))
    }
}

/// The power operation going `D`'s way.
pub(crate) struct Power<D>(PhantomData<D>);

/// A phone's power as compared with the declared state: the name of its status (`running`,
/// `stopped`, `stop_failed`, ..., or `not_found`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StatusName(String);

/// The phones of this resource are `phone_ids`; this element never appears.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub(crate) struct PowerPhone {
    #[serde(default)]
    phone_id: Maybe<PhoneId>,
}

impl PhoneModel for PowerPhone {
    type Inputs = StatusName;

    fn phone_id(&self) -> &Maybe<PhoneId> {
        &self.phone_id
    }

    fn inputs(&self) -> Option<StatusName> {
        None
    }

    fn bare(phone_id: PhoneId) -> Self {
        PowerPhone {
            phone_id: Maybe::Known(phone_id),
        }
    }
}

/// Whether a phone in `status` is on its way somewhere: waited on, never acted on.
fn transitional(status: PhoneStatus) -> bool {
    matches!(
        status,
        PhoneStatus::Creating
            | PhoneStatus::Resetting
            | PhoneStatus::Restarting
            | PhoneStatus::Stopping
    )
}

/// Every phone's status as the service lists it now (all pages of ListCloudPhones).
async fn observe(
    data: &ProviderData,
    options: &WaitOptions,
) -> Result<HashMap<String, PhoneStatus>, Diagnostic> {
    let phones = data
        .client
        .list_phones_within(&PhoneFilter::default(), options)
        .await
        .map_err(|e| report::statuses_unread(&report::api_failure(&e)))?;
    Ok(phones
        .into_iter()
        .filter_map(|p| Some((p.phone_id?, p.status?)))
        .collect())
}

/// The status name of `id` in `observed`.
fn name_of(id: &str, observed: &HashMap<String, PhoneStatus>) -> String {
    observed.get(id).map_or(NOT_FOUND, |s| s.name()).to_owned()
}

/// The known phone ids of a model.
fn ids_of<P>(model: &OperationModel<P>) -> Vec<PhoneId> {
    model
        .phone_ids
        .known()
        .into_iter()
        .flatten()
        .filter_map(Maybe::known)
        .cloned()
        .collect()
}

/// The phones a refresh found the service does not list: the next plan fails on them.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Private {
    #[serde(default)]
    gone: BTreeSet<String>,
}

impl<D: Direction> Operation for Power<D> {
    type Phone = PowerPhone;
    type Request = D::Request;
    const TYPE_NAME: &'static str = "cph_phone_power";
    const VERB: &'static str = D::VERB;
    const DONE: &'static str = D::DONE;
    const UNRECORDED_NEEDS_WORK: bool = false;
    const OBSERVED: bool = true;

    fn request(
        _model: &OperationModel<PowerPhone>,
        phones: Vec<(PhoneId, &StatusName)>,
    ) -> Result<D::Request, Diagnostic> {
        Ok(D::request(phones.into_iter().map(|(id, _)| id).collect()))
    }

    /// Every phone wants the declared state.
    fn desired(model: &OperationModel<PowerPhone>) -> Option<Vec<Desired<StatusName>>> {
        let want = model.state.known()?;
        let ids = model.phone_ids.known()?;
        ids.iter()
            .map(|id| {
                Some((
                    id.known()?.clone(),
                    Some(StatusName(want.name().to_owned())),
                ))
            })
            .collect()
    }

    /// Each phone's status as last read.
    fn prior_inputs(prior: &OperationModel<PowerPhone>) -> HashMap<String, StatusName> {
        prior
            .statuses
            .known()
            .into_iter()
            .flatten()
            .filter_map(|(id, s)| Some((id.clone(), StatusName(s.known()?.clone()))))
            .collect()
    }

    /// Statuses of the phones with work are unknown until apply; the rest keep theirs.
    fn plan_more(
        prior: &OperationModel<PowerPhone>,
        planned: &mut PlanResponse,
        plans: &[PhonePlan<'_>],
    ) {
        let statuses = prior.statuses.known();
        let planned_statuses: BTreeMap<String, Maybe<String>> = plans
            .iter()
            .filter_map(|p| {
                let status = if p.main.is_keep() {
                    statuses?.get(p.phone_id)?.clone()
                } else {
                    Maybe::Unknown
                };
                Some((p.phone_id.to_owned(), status))
            })
            .collect();
        let ty = Type::map(Type::String);
        match model::encode(&planned_statuses, &ty) {
            Ok(v) => {
                planned.planned_state.set_path(&path(names::STATUSES), v);
            }
            Err(diag) => planned.diagnostics.push(diag),
        }
    }

    fn describe(prior: &OperationModel<PowerPhone>, phone_id: &str) -> Option<String> {
        let status = prior
            .statuses
            .known()
            .and_then(|s| s.get(phone_id))
            .and_then(Maybe::known)
            .map_or("not read yet", String::as_str);
        Some(format!("{phone_id} ({status})"))
    }

    fn check_plan(config: &OperationModel<PowerPhone>, private: &[u8], diags: &mut Diagnostics) {
        let gone = serde_json::from_slice::<Private>(private)
            .unwrap_or_default()
            .gone;
        for (i, id) in config.phone_ids.known().into_iter().flatten().enumerate() {
            if let Some(id) = id.known().filter(|id| gone.contains(id.as_str())) {
                diags.push(report::phone_gone(
                    id,
                    path(names::PHONE_IDS).index(i),
                    names::PHONE_IDS,
                ));
            }
        }
    }

    /// Reads the statuses, waits for phones in a transitional status to settle, and keeps the
    /// phones still not in the declared state (a phone the service does not list is not sent).
    async fn settle(
        ctx: &Context<ProviderData>,
        _model: &OperationModel<PowerPhone>,
        submit: Vec<PhoneId>,
        runner: &Runner<'_>,
    ) -> (Vec<PhoneId>, Diagnostics) {
        let mut diags = Diagnostics::new();
        if submit.is_empty() {
            return (submit, diags);
        }
        let Ok(data) = ctx.data() else {
            return (submit, diags);
        };
        let options = runner.options();
        let poll = data.client.settings().poll_interval;
        loop {
            let observed = match observe(data, options).await {
                Ok(o) => o,
                Err(diag) => {
                    diags.push(diag);
                    return (Vec::new(), diags);
                }
            };
            let moving = submit
                .iter()
                .filter(|id| observed.get(id.as_str()).copied().is_some_and(transitional))
                .count();
            if moving == 0 || runner.is_over() {
                if moving > 0 {
                    diags.push(report::still_changing(moving, runner.why_over()));
                }
                let (missing, still): (Vec<PhoneId>, Vec<PhoneId>) = submit
                    .into_iter()
                    .filter(|id| {
                        let status = observed.get(id.as_str()).copied();
                        !status.is_some_and(transitional)
                            && status.is_none_or(|s| s.name() != D::STATE.name())
                    })
                    .partition(|id| !observed.contains_key(id.as_str()));
                if !missing.is_empty() {
                    diags.push(report::phones_not_listed(&missing, D::VERB));
                }
                return (still, diags);
            }
            tracing::info!(
                phones = moving,
                "cph_phone_power: waiting for {moving} phones in a transitional status"
            );
            runner.pause(poll).await;
        }
    }

    /// The statuses after the work: read again when anything was sent; phones the plan kept keep
    /// theirs.
    async fn finish(
        ctx: &Context<ProviderData>,
        prior: &OperationModel<PowerPhone>,
        state: &mut OperationModel<PowerPhone>,
        acted: &HashMap<String, Record>,
        _errors: bool,
    ) {
        let ids = ids_of(state);
        let planned = state.statuses.known().cloned().unwrap_or_default();
        let prior_statuses = prior.statuses.known().cloned().unwrap_or_default();
        let kept = |id: &str| planned.get(id).is_some_and(Maybe::is_known);
        let observed = match ctx.data() {
            Ok(data) if ids.iter().any(|id| !kept(id.as_str())) => {
                let options = WaitOptions::new()
                    .deadline(Instant::now() + READ_TIMEOUT)
                    .cancel(ctx.cancellation().clone());
                observe(data, &options).await.ok()
            }
            _ => None,
        };
        let _ = acted;
        let statuses: BTreeMap<String, Maybe<String>> = ids
            .iter()
            .filter_map(|id| {
                let id = id.as_str();
                let status = if kept(id) {
                    planned.get(id).cloned()
                } else {
                    match &observed {
                        Some(o) => Some(Maybe::Known(name_of(id, o))),
                        None => prior_statuses.get(id).cloned(),
                    }
                };
                Some((id.to_owned(), status?))
            })
            .collect();
        state.statuses = Maybe::Known(statuses);
    }

    async fn read_back(
        ctx: &Context<ProviderData>,
        state: &mut OperationModel<PowerPhone>,
        reading: &Reading,
    ) -> (Diagnostics, Vec<u8>) {
        let (data, options) = match reading.options(ctx, state) {
            Ok(read) => read,
            Err(diags) => return (diags, Vec::new()),
        };
        let ids = ids_of(state);
        let observed = match observe(data, &options).await {
            Ok(o) => o,
            Err(diag) => {
                let diag = match reading {
                    Reading::Refresh => report::statuses_kept(diag),
                    Reading::Import { .. } => diag,
                };
                return (diag.into(), Vec::new());
            }
        };
        let gone: BTreeSet<String> = ids
            .iter()
            .filter(|id| !observed.contains_key(id.as_str()))
            .map(|id| id.as_str().to_owned())
            .collect();
        if let Reading::Import { .. } = reading {
            if !gone.is_empty() {
                return (report::import_not_listed(&gone).into(), Vec::new());
            }
            // The declared state read from the service: stopped when every phone is stopped.
            let all_stopped = ids
                .iter()
                .all(|id| observed.get(id.as_str()) == Some(&PhoneStatus::Stopped));
            state.state = Maybe::Known(if all_stopped {
                PowerState::Stopped
            } else {
                PowerState::Running
            });
        }
        state.statuses = Maybe::Known(
            ids.iter()
                .map(|id| {
                    (
                        id.as_str().to_owned(),
                        Maybe::Known(name_of(id.as_str(), &observed)),
                    )
                })
                .collect(),
        );
        let mut diags = Diagnostics::new();
        if !gone.is_empty() {
            diags.push(report::phones_gone_warning(
                "cph_phone_power",
                &gone,
                names::PHONE_IDS,
            ));
        }
        let private = if gone.is_empty() {
            Vec::new()
        } else {
            serde_json::to_vec(&Private { gone }).unwrap_or_default()
        };
        (diags, private)
    }
}

impl<D: Direction> Kind for Power<D> {
    fn description() -> &'static str {
        "Keeps phones powered on or off as declared. A refresh reads every phone's status; a phone not in the \
         declared state is drift, and apply stops (or powers on) exactly those phones. Phones in a transitional \
         status (restarting, stopping, ...) are waited on, never acted on twice. Destroying it calls nothing and \
         leaves the phones as they are."
    }

    fn phone_list() -> PhoneList {
        PhoneList::IdsOnly {
            description: "The ids of the phones, at least one, each at most once. Adding a phone acts on it alone \
                          (when it is not in the declared state); removing one or reordering calls nothing."
                .to_owned(),
        }
    }

    fn extra_attributes(_surface: Surface) -> Vec<Attribute> {
        vec![
            Attribute::required(names::STATE, Type::String)
                .description(
                    "`running` (a stopped or failed phone is powered on with batch-restart) or `stopped` (a \
                     running or failed phone is stopped with batch-stop).",
                )
                .validator(Validator::one_of(
                    "Invalid Power State",
                    PowerState::NAMES,
                )),
            Attribute::computed(names::STATUSES, Type::map(Type::String)).description(
                "Each phone's status as last read, keyed by phone id: `running`, `stopped`, `restarting`, \
                 `stopping`, `restart_failed`, `stop_failed`, ... (the names of the `cph_phones` data source's \
                 `status` filter), or `not_found` for a phone the service does not list.",
            ),
        ]
    }

    const TRIGGERS: bool = false;
    const IMPORT: Import = Import::ByIds { keys: false };

    fn schema_verb() -> &'static str {
        "power change"
    }

    fn jobs_description() -> String {
        "The latest stop or power-on of each phone this resource acted on.".to_owned()
    }

    fn id_description() -> Option<&'static str> {
        Some(
            "The request id of the first batch request the resource sent, or the first phone's id when no \
             request was needed; kept for the resource's life.",
        )
    }
}

/// The `cph_phone_power` resource: [`Power<Stop>`] or [`Power<Start>`] by the declared state.
pub(crate) struct PhonePower;

/// The declared state of a value (plan or state), when known.
fn declared(value: &Value) -> Option<PowerState> {
    model::decode::<OperationModel<PowerPhone>>(value, "the value")
        .ok()?
        .state
        .into_known()
}

/// The schema (the same whichever way the phones go).
fn power_schema() -> Schema {
    super::schema::<Power<Stop>>()
}

impl Resource<ProviderData> for PhonePower {
    fn type_name(&self) -> String {
        <Power<Stop> as Operation>::TYPE_NAME.into()
    }

    fn schema(&self) -> Schema {
        power_schema()
    }

    async fn modify_plan(
        &self,
        ctx: &Context<ProviderData>,
        req: &PlanRequest,
        plan: &mut PlanResponse,
    ) {
        let schema = power_schema();
        let journal = super::journal_of(ctx);
        let journal = journal.as_deref();
        match declared(&plan.planned_state) {
            Some(PowerState::Stopped) => engine::plan::<Power<Stop>>(&schema, journal, req, plan),
            _ => engine::plan::<Power<Start>>(&schema, journal, req, plan),
        }
    }

    async fn create(&self, ctx: &Context<ProviderData>, req: ApplyRequest) -> ApplyResponse {
        apply(ctx, req, TimeoutKind::Create).await
    }

    async fn update(&self, ctx: &Context<ProviderData>, req: ApplyRequest) -> ApplyResponse {
        apply(ctx, req, TimeoutKind::Update).await
    }

    async fn read(&self, ctx: &Context<ProviderData>, req: ReadRequest) -> ReadResponse {
        let schema = power_schema();
        match declared(&req.current_state) {
            Some(PowerState::Stopped) => engine::refresh::<Power<Stop>>(ctx, &schema, req).await,
            _ => engine::refresh::<Power<Start>>(ctx, &schema, req).await,
        }
    }

    async fn import(&self, ctx: &Context<ProviderData>, id: String) -> ImportResponse {
        engine::import::<Power<Start>>(ctx, &power_schema(), id, true, false).await
    }

    fn upgrade_state(&self, version: i64, raw: RawState) -> Result<Value, Diagnostics> {
        records::upgrade_state(version, raw, &power_schema())
    }

    fn identity_schema(&self) -> Option<IdentitySchema> {
        Some(identity::schema())
    }

    fn identity(&self, state: &Value) -> Option<Value> {
        PhonesIdentity::of_state::<Power<Start>>(state)
    }

    async fn import_identity(
        &self,
        ctx: &Context<ProviderData>,
        identity: Value,
    ) -> ImportResponse {
        PhonesIdentity::import(&identity, |id| self.import(ctx, id)).await
    }
}

async fn apply(ctx: &Context<ProviderData>, req: ApplyRequest, kind: TimeoutKind) -> ApplyResponse {
    let schema = power_schema();
    match declared(&req.planned_state) {
        Some(PowerState::Stopped) => engine::apply::<Power<Stop>>(ctx, &schema, req, kind).await,
        _ => engine::apply::<Power<Start>>(ctx, &schema, req, kind).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitional_statuses_are_waited_on_and_settled_ones_are_not() {
        for status in [
            PhoneStatus::Restarting,
            PhoneStatus::Stopping,
            PhoneStatus::Creating,
            PhoneStatus::Resetting,
        ] {
            assert!(transitional(status), "{status:?}");
        }
        for status in [
            PhoneStatus::Running,
            PhoneStatus::Stopped,
            PhoneStatus::StopFailed,
            PhoneStatus::RestartFailed,
        ] {
            assert!(!transitional(status), "{status:?}");
        }
        let observed: HashMap<String, PhoneStatus> = [("a".to_owned(), PhoneStatus::StopFailed)]
            .into_iter()
            .collect();
        assert_eq!(name_of("a", &observed), "stop_failed");
        assert_eq!(name_of("b", &observed), NOT_FOUND);
    }
}
