//! `cph_phone_power`: the power state of phones as declared, drift-detected state. A refresh reads
//! every phone's status in bulk (ListCloudPhones pages); a phone not in the declared state is
//! drift, planned as an update of that phone alone; apply stops (batch-stop) or powers on
//! (batch-restart of a stopped phone) exactly those phones, after waiting for phones in a
//! transitional status to settle. Built on the shared per-phone pieces: the phone reader, the
//! planner (observed inputs), the runner, records and rollouts.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use cph_http::{Earlier, PhoneFilter, WaitOptions};
use cph_types::{BatchRequest, PhoneId, PhoneStatus, RestartPhone, RestartRequest, StopRequest};
use tfplugin::{
    ApplyRequest, ApplyResponse, Attribute, AttributePath, Block, Context, Diagnostic, Diagnostics,
    Fields, ImportResponse, PlanRequest, PlanResponse, RawState, ReadRequest, ReadResponse,
    Resource, Schema, Type, Validator, Value,
};

use crate::attributes;
use crate::config::ProviderData;
use crate::converge::JOBS;
use crate::phones::{PhoneInputs, read_phones};
use crate::planner::{self, Policy, Prior, Work};
use crate::records::{self, Record, Records, SCHEMA_VERSION, read_records, records_value};
use crate::report::{self, Context as ReportContext};
use crate::rollout::{RolloutSpec, rollout_block};
use crate::runner::{RunOutcome, Runner, running_job};
use crate::timeouts::{TimeoutKind, timeout, timeouts_block};

/// The `cph_phone_power` resource.
pub(crate) struct PhonePower;

const TYPE_NAME: &str = "cph_phone_power";
/// The status name recorded for a phone the service does not list.
const NOT_FOUND: &str = "not_found";

/// The declared power state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    Running,
    Stopped,
}

impl Want {
    const ALL: [Want; 2] = [Want::Running, Want::Stopped];

    fn name(self) -> &'static str {
        match self {
            Want::Running => "running",
            Want::Stopped => "stopped",
        }
    }

    fn parse(text: &str) -> Option<Want> {
        Want::ALL.into_iter().find(|w| w.name() == text)
    }

    /// What apply does to a phone not in this state, in words.
    fn verb(self) -> &'static str {
        match self {
            Want::Running => "power on",
            Want::Stopped => "stop",
        }
    }

    /// The declared state of a resource value (`None` while unknown or invalid).
    fn of(resource: &Value) -> Option<Want> {
        resource
            .get("state")
            .and_then(Value::as_str)
            .and_then(Want::parse)
    }
}

/// A phone's power as compared with the declared state: the name of its status.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Power(String);

impl PhoneInputs for Power {
    /// Power is never given per phone (the resource names its phones by id).
    fn read(_element: &Value) -> Option<Self> {
        None
    }

    fn id_only() -> Self {
        Power(String::new())
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

/// The phone ids of a resource value, when every one is known.
fn phone_ids(resource: &Value) -> Option<Vec<String>> {
    let mut ignored = Diagnostics::new();
    read_phones::<Power>(resource, &mut ignored)
        .with_known_ids()
        .map(|phones| phones.into_iter().map(|(id, _)| id.to_owned()).collect())
}

/// The statuses recorded in a resource value, by phone id.
fn recorded_statuses(resource: &Value) -> BTreeMap<String, String> {
    resource
        .get("statuses")
        .and_then(Value::as_entries)
        .map(|entries| {
            entries
                .iter()
                .filter_map(|(id, v)| Some((id.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

fn statuses_value(statuses: &BTreeMap<String, String>) -> Value {
    Value::Map(
        statuses
            .iter()
            .map(|(id, s)| (id.clone(), Value::from(s.clone())))
            .collect(),
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
        .map_err(|e| Diagnostic::error("Cannot Read Phone Statuses", e.to_string()))?;
    Ok(phones
        .into_iter()
        .filter_map(|p| Some((p.phone_id?, p.status?)))
        .collect())
}

/// The status names of `ids` in `observed` (`not_found` for a phone the service does not list).
fn names_of(ids: &[String], observed: &HashMap<String, PhoneStatus>) -> BTreeMap<String, String> {
    ids.iter()
        .map(|id| {
            let name = observed.get(id).map_or(NOT_FOUND, |s| s.name());
            (id.clone(), name.to_owned())
        })
        .collect()
}

/// Per phone, whether it needs work to reach `want` given its observed status names: the shared
/// planner, with the observations as the prior inputs.
fn plan_work<'a>(
    ids: &'a [String],
    statuses: &'a BTreeMap<String, String>,
    records: &'a Records,
    want: Want,
) -> Vec<(&'a str, Work)> {
    let observed: Vec<(String, Power)> = ids
        .iter()
        .map(|id| {
            let name = statuses.get(id).cloned().unwrap_or_default();
            (id.clone(), Power(name))
        })
        .collect();
    let inputs: HashMap<&str, &Power> = observed.iter().map(|(id, p)| (id.as_str(), p)).collect();
    let wanted = Power(want.name().to_owned());
    let desired: Vec<(&str, Option<&Power>)> =
        ids.iter().map(|id| (id.as_str(), Some(&wanted))).collect();
    let follow = Records::new();
    planner::plan(
        Prior {
            inputs: &inputs,
            main: records,
            follow: &follow,
        },
        &desired,
        Policy {
            unrecorded_needs_work: false,
            follow_up: false,
            observed: true,
        },
        Power::met_by,
    )
    .into_iter()
    .map(|p| (p.phone_id, p.main))
    .zip(ids)
    .map(|((_, work), id)| (id.as_str(), work))
    .collect()
}

impl Resource<ProviderData> for PhonePower {
    fn type_name(&self) -> String {
        TYPE_NAME.into()
    }

    fn schema(&self) -> Schema {
        let block = Block::new()
            .description(
                "Keeps phones powered on or off as declared. A refresh reads every phone's status; a phone not in \
                 the declared state is drift, and apply stops (or powers on) exactly those phones. Phones in a \
                 transitional status (restarting, stopping, ...) are waited on, never acted on twice. Destroying it \
                 calls nothing and leaves the phones as they are.",
            )
            .attribute(attributes::id().description(
                "The request id of the first batch request the resource sent, or the first phone's id when no \
                 request was needed; kept for the resource's life.",
            ))
            .attribute(
                Attribute::required("phone_ids", Type::list(Type::String))
                    .description(
                        "The ids of the phones, at least one, each at most once. Adding a phone acts on it alone \
                         (when it is not in the declared state); removing one or reordering calls nothing.",
                    )
                    .validator(Validator::each_string("Invalid Phone Id", "phone ids", |id| {
                        PhoneId::new(id).map(drop).map_err(|e| e.to_string())
                    })),
            )
            .attribute(
                Attribute::required("state", Type::String)
                    .description(
                        "`running` (a stopped or failed phone is powered on with batch-restart) or `stopped` (a \
                         running or failed phone is stopped with batch-stop).",
                    )
                    .validator(Validator::string(
                        "Invalid Power State",
                        "running or stopped",
                        |text| {
                            Want::parse(text).map(drop).ok_or_else(|| {
                                format!("{text:?} is not a power state; use \"running\" or \"stopped\"")
                            })
                        },
                    )),
            )
            .attribute(attributes::allow_partial_failure())
            .attribute(
                Attribute::computed("statuses", Type::map(Type::String)).description(
                    "Each phone's status as last read, keyed by phone id: `running`, `stopped`, `restarting`, \
                     `stopping`, `restart_failed`, `stop_failed`, ... (the names of the `cph_phones` data source's \
                     `status` filter), or `not_found` for a phone the service does not list.",
                ),
            )
            .attribute(attributes::request_ids())
            .attribute(attributes::records(
                JOBS,
                "The latest stop or power-on of each phone this resource acted on.",
            ))
            .block(rollout_block("power change"))
            .block(timeouts_block());
        Schema::new(SCHEMA_VERSION, block)
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        let _ = read_phones::<Power>(config, &mut diags);
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
        if req.prior_state.is_null() {
            plan.set_unknown(&AttributePath::root("id"));
            return;
        }
        let (Some(ids), Some(want)) = (
            phone_ids(&plan.planned_state),
            Want::of(&plan.planned_state),
        ) else {
            for name in ["statuses", JOBS, "request_ids"] {
                plan.set_unknown(&AttributePath::root(name));
            }
            return;
        };
        let statuses = recorded_statuses(&req.prior_state);
        let records = read_records(req.prior_state.get(JOBS));
        let work = plan_work(&ids, &statuses, &records, want);
        let mut planned_statuses = Fields::new();
        let mut planned_jobs = Fields::new();
        let mut acting: Vec<String> = Vec::new();
        for (id, w) in &work {
            if w.is_keep() {
                if let Some(status) = statuses.get(*id) {
                    planned_statuses.insert((*id).to_owned(), Value::from(status.clone()));
                }
                if let Some(record) = records.get(*id) {
                    planned_jobs.insert((*id).to_owned(), record.to_value());
                }
            } else {
                planned_statuses.insert((*id).to_owned(), Value::Unknown);
                planned_jobs.insert((*id).to_owned(), Value::Unknown);
                acting.push(format!(
                    "{id} ({})",
                    statuses.get(*id).map_or("not read yet", String::as_str)
                ));
            }
        }
        plan.planned_state.set_path(
            &AttributePath::root("statuses"),
            Value::Map(planned_statuses),
        );
        plan.planned_state
            .set_path(&AttributePath::root(JOBS), Value::Map(planned_jobs));
        if acting.is_empty() {
            plan.keep_prior(req, &AttributePath::root("request_ids"));
            return;
        }
        plan.set_unknown(&AttributePath::root("request_ids"));
        let listed = acting.len().min(20);
        let more = if acting.len() > listed {
            format!(" and {} more", acting.len() - listed)
        } else {
            String::new()
        };
        plan.diagnostics.push(Diagnostic::warning(
            format!("{} of {} Phones Need Work", acting.len(), ids.len()),
            format!(
                "{TYPE_NAME}: these phones are not {} and will be {} (phones in a transitional status are waited \
                 on first): {}{more}. The other phones are not called.",
                want.name(),
                match want {
                    Want::Running => "powered on",
                    Want::Stopped => "stopped",
                },
                acting[..listed].join(", ")
            ),
        ));
    }

    async fn create(&self, ctx: &Context<ProviderData>, req: ApplyRequest) -> ApplyResponse {
        apply(ctx, req, TimeoutKind::Create).await
    }

    async fn update(&self, ctx: &Context<ProviderData>, req: ApplyRequest) -> ApplyResponse {
        apply(ctx, req, TimeoutKind::Update).await
    }

    async fn read(&self, ctx: &Context<ProviderData>, req: ReadRequest) -> ReadResponse {
        let mut state = req.current_state;
        let mut diagnostics = Diagnostics::new();
        let data = match ctx.data() {
            Ok(d) => d,
            Err(diag) => {
                return ReadResponse {
                    new_state: state,
                    private: req.private,
                    diagnostics: diag.into(),
                };
            }
        };
        let options = WaitOptions::new()
            .deadline(Instant::now() + timeout(&state, TimeoutKind::Read))
            .cancel(ctx.cancellation().clone());
        // Jobs still running are polled (one round); then every phone's status is read.
        let running: Vec<_> = read_records(state.get(JOBS))
            .values()
            .filter_map(running_job)
            .collect();
        if !running.is_empty() {
            let runner = Runner::new(
                &data.client,
                ctx.cancellation(),
                timeout(&state, TimeoutKind::Read),
            );
            let operation = match Want::of(&state) {
                Some(Want::Stopped) => StopRequest::OPERATION,
                _ => RestartRequest::OPERATION,
            };
            let outcome = runner.refresh(operation, running).await;
            diagnostics.extend(report::lost_in_refresh(TYPE_NAME, &outcome));
            let mut records = read_records(state.get(JOBS));
            for result in &outcome.results {
                if let Some(slot) = records.get_mut(result.phone_id.as_str()) {
                    *slot = result.to_record();
                }
            }
            state.set_path(&AttributePath::root(JOBS), records_value(&records));
        }
        if let Some(ids) = phone_ids(&state) {
            match observe(data, &options).await {
                Ok(observed) => {
                    state.set_path(
                        &AttributePath::root("statuses"),
                        statuses_value(&names_of(&ids, &observed)),
                    );
                }
                Err(diag) => diagnostics.push(Diagnostic::warning(
                    "Phone Statuses Not Refreshed",
                    format!(
                        "{TYPE_NAME}: {}; the statuses recorded in state are kept.",
                        diag.detail
                    ),
                )),
            }
        }
        ReadResponse {
            new_state: state,
            private: req.private,
            diagnostics,
        }
    }

    async fn import(&self, ctx: &Context<ProviderData>, id: String) -> ImportResponse {
        let failed = |diagnostics: Diagnostics| ImportResponse {
            diagnostics,
            ..ImportResponse::default()
        };
        let ids: Vec<String> = id
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        let mut diags = Diagnostics::new();
        if ids.is_empty() {
            diags.error(
                "Invalid Import Id",
                format!("import id {id:?} names no phone; use <phone_id>[,<phone_id>...]"),
            );
        }
        for (i, phone) in ids.iter().enumerate() {
            if let Err(e) = PhoneId::new(phone.as_str()) {
                diags.error(
                    "Invalid Import Id",
                    format!("phone {} of the import id: {e}", i + 1),
                );
            } else if ids[..i].contains(phone) {
                diags.error(
                    "Invalid Import Id",
                    format!("phone {phone} is listed twice"),
                );
            }
        }
        if diags.has_errors() {
            return failed(diags);
        }
        let data = match ctx.data() {
            Ok(d) => d,
            Err(diag) => return failed(diag.into()),
        };
        let options = WaitOptions::new()
            .deadline(Instant::now() + crate::timeouts::DEFAULT_TIMEOUT)
            .cancel(ctx.cancellation().clone());
        let observed = match observe(data, &options).await {
            Ok(o) => o,
            Err(diag) => return failed(diag.into()),
        };
        let missing: Vec<&str> = ids
            .iter()
            .filter(|id| !observed.contains_key(*id))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            return failed(
                Diagnostic::error(
                    "Phone Not Found",
                    format!(
                        "cannot import phones {}: the service does not list them",
                        missing.join(", ")
                    ),
                )
                .into(),
            );
        }
        let statuses = names_of(&ids, &observed);
        // The declared state read from the service: stopped when every phone is stopped.
        let want = if ids
            .iter()
            .all(|id| observed.get(id) == Some(&PhoneStatus::Stopped))
        {
            Want::Stopped
        } else {
            Want::Running
        };
        let schema = self.schema();
        let mut state = tfplugin::from_json(&serde_json::json!({}), &schema.value_type())
            .unwrap_or(Value::Object(Fields::new()));
        state.set_path(&AttributePath::root("id"), Value::from(id));
        state.set_path(
            &AttributePath::root("phone_ids"),
            Value::List(ids.iter().map(|i| Value::from(i.clone())).collect()),
        );
        state.set_path(&AttributePath::root("state"), Value::from(want.name()));
        state.set_path(&AttributePath::root("statuses"), statuses_value(&statuses));
        state.set_path(&AttributePath::root(JOBS), Value::Map(Fields::new()));
        state.set_path(&AttributePath::root("request_ids"), Value::List(Vec::new()));
        schema.block.fill_defaults(&mut state);
        ImportResponse {
            state,
            private: Vec::new(),
            diagnostics: Diagnostics::new(),
        }
    }

    fn upgrade_state(&self, version: i64, raw: RawState) -> Result<Value, Diagnostics> {
        records::upgrade_state(version, raw, &self.schema())
    }
}

/// Applies a create or an update: reads the phones' statuses, waits for transitional ones to
/// settle, stops or powers on the phones not in the declared state (only among those the plan
/// showed as changing), and records statuses and jobs.
async fn apply(ctx: &Context<ProviderData>, req: ApplyRequest, kind: TimeoutKind) -> ApplyResponse {
    let unchanged = |diags: Diagnostics| {
        ApplyResponse::failed(
            if req.prior_state.is_null() {
                Value::Null
            } else {
                req.prior_state.clone()
            },
            diags,
        )
    };
    let data = match ctx.data() {
        Ok(d) => d,
        Err(diag) => return unchanged(diag.into()),
    };
    let planned = &req.planned_state;
    let mut problems = Diagnostics::new();
    let _ = read_phones::<Power>(planned, &mut problems);
    if problems.has_errors() {
        return unchanged(problems);
    }
    let (Some(ids), Some(want)) = (phone_ids(planned), Want::of(planned)) else {
        return unchanged(
            Diagnostic::error(
                "Phones Not Known",
                "the phones or the state have no known value at apply time (provider bug)",
            )
            .into(),
        );
    };
    let limit = timeout(&req.config, kind);
    let deadline = Instant::now() + limit;
    let options = WaitOptions::new()
        .deadline(deadline)
        .cancel(ctx.cancellation().clone());
    let creating = kind == TimeoutKind::Create;
    // The phones the plan left as they are keep their recorded status and job, whatever happens
    // meanwhile (the next refresh sees any change); the others are candidates.
    let planned_statuses = planned.get("statuses");
    let candidate = |id: &str| {
        creating
            || planned_statuses
                .and_then(|s| s.get(id))
                .is_none_or(Value::is_unknown)
    };
    let prior_records = read_records(req.prior_state.get(JOBS));

    // Settle: phones on their way somewhere are waited on, never acted on.
    let poll = data.client.settings().poll_interval;
    let mut observed = match observe(data, &options).await {
        Ok(o) => o,
        Err(diag) => return unchanged(diag.into()),
    };
    let mut diagnostics = Diagnostics::new();
    loop {
        let moving = ids
            .iter()
            .filter(|id| candidate(id))
            .filter(|id| observed.get(*id).copied().is_some_and(transitional))
            .count();
        if moving == 0 {
            break;
        }
        tracing::info!(
            phones = moving,
            "{TYPE_NAME}: waiting for {moving} phones in a transitional status"
        );
        let wait = poll.min(deadline.saturating_duration_since(Instant::now()));
        tokio::select! {
            () = ctx.cancellation().cancelled() => {}
            () = tokio::time::sleep(wait) => {}
        }
        if ctx.is_stopped() || Instant::now() >= deadline {
            diagnostics.error(
                "Phones Still Changing State",
                format!(
                    "{moving} phones were still in a transitional status (restarting, stopping, ...) when the wait \
                     ended ({}); nothing was sent to them. The next apply waits on them again.",
                    if ctx.is_stopped() {
                        "Terraform asked the provider to stop".to_owned()
                    } else {
                        format!("timeout of {}", humantime::format_duration(limit))
                    }
                ),
            );
            break;
        }
        observed = match observe(data, &options).await {
            Ok(o) => o,
            Err(diag) => return unchanged(diag.into()),
        };
    }

    let names = names_of(&ids, &observed);
    let work = plan_work(&ids, &names, &prior_records, want);
    let acting: Vec<&str> = work
        .iter()
        .filter(|(id, w)| !w.is_keep() && candidate(id))
        .filter(|(id, _)| !observed.get(*id).copied().is_some_and(transitional))
        .map(|(id, _)| *id)
        .collect();
    let runner = Runner::new(
        &data.client,
        ctx.cancellation(),
        deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1)),
    );
    let rollout = RolloutSpec::read(planned).resolve(acting.len());
    let typed: Vec<PhoneId> = acting
        .iter()
        .filter_map(|id| PhoneId::new(*id).ok())
        .collect();
    let outcome: RunOutcome = if typed.is_empty() {
        RunOutcome::default()
    } else {
        match want {
            Want::Stopped => {
                let request = StopRequest::new(typed);
                runner
                    .run(Some(&request), Earlier::default(), rollout)
                    .await
            }
            Want::Running => {
                let request = RestartRequest::new(typed.into_iter().map(|phone_id| RestartPhone {
                    phone_id,
                    property: None,
                }));
                runner
                    .run(Some(&request), Earlier::default(), rollout)
                    .await
            }
        }
    };
    let allow_partial = planned
        .get("allow_partial_failure")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    diagnostics.extend(report::report(
        &outcome,
        ReportContext {
            type_name: TYPE_NAME,
            verb: want.verb(),
            creating,
            allow_partial,
        },
    ));
    let fresh: HashMap<String, Record> = outcome
        .results
        .iter()
        .map(|r| (r.phone_id.as_str().to_owned(), r.to_record()))
        .collect();
    if creating
        && fresh
            .values()
            .all(|r| r.status == records::Status::NotSubmitted)
        && diagnostics.has_errors()
    {
        return ApplyResponse::failed(Value::Null, diagnostics);
    }
    // The statuses after the work: read again when anything was sent.
    let after = if fresh.is_empty() {
        observed
    } else {
        observe(data, &WaitOptions::new().cancel(ctx.cancellation().clone()))
            .await
            .unwrap_or(observed)
    };
    let after_names = names_of(&ids, &after);
    let prior_statuses = recorded_statuses(&req.prior_state);
    let mut statuses = BTreeMap::new();
    let mut jobs = Records::new();
    for id in &ids {
        let kept = !candidate(id);
        let status = if kept {
            prior_statuses.get(id).cloned()
        } else {
            after_names.get(id).cloned()
        };
        if let Some(status) = status {
            statuses.insert(id.clone(), status);
        }
        let record = match fresh.get(id) {
            Some(r) if !kept => Some(r.clone()),
            _ => prior_records.get(id).cloned(),
        };
        if let Some(record) = record {
            jobs.insert(id.clone(), record);
        }
    }
    let mut state = req.planned_state.clone();
    state.set_path(&AttributePath::root("statuses"), statuses_value(&statuses));
    state.set_path(&AttributePath::root(JOBS), records_value(&jobs));
    state.set_path(
        &AttributePath::root("request_ids"),
        records::request_ids(jobs.values()),
    );
    if !matches!(state.get("id"), Some(Value::String(_))) {
        let id = outcome
            .results
            .iter()
            .find_map(|r| r.request_id.as_ref().map(|r| r.as_str().to_owned()))
            .or_else(|| ids.first().cloned())
            .unwrap_or_default();
        state.set_path(&AttributePath::root("id"), Value::from(id));
    }
    ApplyResponse {
        new_state: state,
        private: Vec::new(),
        diagnostics,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::Status;

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn only_phones_not_in_the_declared_state_need_work_whatever_their_records_say() {
        let ids = ids(&["a", "b", "c", "d"]);
        let statuses: BTreeMap<String, String> =
            [("a", "stopped"), ("b", "running"), ("c", "stop_failed")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
        let mut failed = Record::not_submitted("a", "");
        failed.status = Status::Failed;
        let records: Records = [("a".to_owned(), failed)].into_iter().collect();
        let work = plan_work(&ids, &statuses, &records, Want::Stopped);
        let needing: Vec<&str> = work
            .iter()
            .filter(|(_, w)| !w.is_keep())
            .map(|(id, _)| *id)
            .collect();
        // a is stopped (its failed record does not matter); d was never read.
        assert_eq!(needing, ["b", "c", "d"]);
        let work = plan_work(&ids, &statuses, &records, Want::Running);
        let needing: Vec<&str> = work
            .iter()
            .filter(|(_, w)| !w.is_keep())
            .map(|(id, _)| *id)
            .collect();
        assert_eq!(needing, ["a", "c", "d"]);
    }

    #[test]
    fn states_parse_and_transitional_statuses_are_waited_on() {
        assert_eq!(Want::parse("stopped"), Some(Want::Stopped));
        assert_eq!(Want::parse("off"), None);
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
        let names = names_of(&ids(&["a", "b"]), &observed);
        assert_eq!(names["a"], "stop_failed");
        assert_eq!(names["b"], NOT_FOUND);
    }
}
