//! `cph_phone_property`: phone properties as managed, drift-aware state. Create and update send
//! batch-update-property for the phones whose properties differ from the prior state (all on create);
//! refresh reads each phone's current properties and reports drift on the keys it manages; import takes
//! a comma-separated list of phone ids.

use std::collections::BTreeMap;
use std::time::Instant;

use cph_types::{PhoneId, UpdatePropertyPhone, UpdatePropertyRequest};
use futures_util::StreamExt;
use tfplugin::{
    ApplyRequest, ApplyResponse, Attribute, AttributePath, Block, Context, Diagnostic, Diagnostics,
    Fields, ImportResponse, ObjectNesting, PlanRequest, PlanResponse, Presence, RawState,
    ReadRequest, ReadResponse, Resource, Schema, Type, Value,
};

use super::phone_restart::restart_of;
use super::{phone_id_attribute, phone_list, properties_attribute, property_string};
use crate::batch::{self, Operation};
use crate::common::{
    self, JobRecord, TimeoutKind, Timeouts, allow_partial_failure_attribute, id_attribute,
    jobs_attribute, request_ids_attribute, timeouts_block,
};
use crate::provider::ProviderData;
use crate::validate::{self, PhoneFields};

/// How many ShowCloudPhoneDetail calls a refresh keeps in flight.
const READ_CONCURRENCY: usize = 16;

const RESULTS: [&str; 3] = ["request_ids", "jobs", "restart_jobs"];

/// The empty value of one of the [`RESULTS`] attributes (`request_ids` is a list, the jobs are maps).
fn empty_result(name: &str) -> Value {
    if name == "request_ids" {
        Value::List(Vec::new())
    } else {
        common::jobs_value(&[])
    }
}

/// The `cph_phone_property` resource.
pub(crate) struct PhoneProperty;

type Properties = BTreeMap<String, String>;

/// Known `(phone_id, properties)` pairs of a `phones` value; `None` when any part is unknown.
fn known_phones(phones: Option<&Value>) -> Option<Vec<(String, Properties)>> {
    let elements = phones?.as_elements()?;
    elements
        .iter()
        .map(|p| {
            let id = p.get("phone_id")?.as_str()?.to_string();
            let props = match p.get("properties") {
                Some(Value::Map(m)) => m
                    .iter()
                    .map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                    .collect::<Option<_>>()?,
                Some(Value::Null) | None => Properties::new(),
                _ => return None,
            };
            Some((id, props))
        })
        .collect()
}

/// The phone ids of `desired` whose properties differ from `prior` (all of them when there is no prior).
fn changed_phones(
    prior: Option<&[(String, Properties)]>,
    desired: &[(String, Properties)],
) -> Vec<String> {
    let before: BTreeMap<&str, &Properties> = prior
        .unwrap_or_default()
        .iter()
        .map(|(id, p)| (id.as_str(), p))
        .collect();
    desired
        .iter()
        .filter(|(id, props)| before.get(id.as_str()) != Some(&props))
        .map(|(id, _)| id.clone())
        .collect()
}

fn timeouts_of(config: &Value) -> Option<Timeouts> {
    config
        .get("timeouts")
        .and_then(|t| tfplugin::from_value(t).ok())
}

impl Resource<ProviderData> for PhoneProperty {
    fn type_name(&self) -> String {
        "cph_phone_property".into()
    }

    fn schema(&self) -> Schema {
        let phones = Attribute::nested(
            "phones",
            ObjectNesting::List,
            Presence::Required,
            vec![
                phone_id_attribute(),
                properties_attribute(Attribute::required, "The properties to set."),
            ],
        )
        .description("The phones and their properties, at least one, each phone at most once.");
        let block = Block::new()
            .description(
                "Sets properties on a batch of cloud phones and keeps them: refresh reports drift on the managed keys, \
                 a change updates only the phones whose properties changed. Destroying it unsets nothing.",
            )
            .attribute(id_attribute().use_state_for_unknown())
            .attribute(phones)
            .attribute(
                Attribute::optional("restart_after_update", Type::Bool)
                    .description("Restart the updated phones after their properties are set. Default false."),
            )
            .attribute(allow_partial_failure_attribute())
            .attribute(request_ids_attribute("The request ids of the latest apply: updates first, then restarts."))
            .attribute(jobs_attribute("jobs", "The update jobs of the latest apply."))
            .attribute(jobs_attribute("restart_jobs", "The restart jobs of the latest apply."))
            .block(timeouts_block(&[TimeoutKind::Create, TimeoutKind::Update]));
        Schema::new(common::RESULTS_SCHEMA_VERSION, block)
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        validate::phones(
            config,
            PhoneFields {
                properties: true,
                restore_target: false,
                phone_ids: false,
            },
            &mut diags,
        );
        validate::timeouts(config, &mut diags);
        diags
    }

    async fn modify_plan(
        &self,
        _ctx: &Context<ProviderData>,
        req: &PlanRequest,
        plan: &mut PlanResponse,
    ) {
        if req.prior_state.is_null() || plan.planned_state.is_null() {
            return;
        }
        let prior = known_phones(req.prior_state.get("phones"));
        let desired = known_phones(req.config.get("phones"));
        let nothing_to_send = match (&prior, &desired) {
            (Some(prior), Some(desired)) => changed_phones(Some(prior), desired).is_empty(),
            _ => false,
        };
        if nothing_to_send {
            for name in RESULTS {
                plan.keep_prior(req, &AttributePath::root(name));
            }
        }
    }

    async fn create(&self, ctx: &Context<ProviderData>, req: ApplyRequest) -> ApplyResponse {
        self.apply(ctx, req, TimeoutKind::Create).await
    }

    fn upgrade_state(&self, version: i64, raw: RawState) -> Result<Value, Diagnostics> {
        common::upgrade_results_state(version, raw, &self.schema().value_type())
    }

    async fn update(&self, ctx: &Context<ProviderData>, req: ApplyRequest) -> ApplyResponse {
        self.apply(ctx, req, TimeoutKind::Update).await
    }

    async fn read(&self, ctx: &Context<ProviderData>, req: ReadRequest) -> ReadResponse {
        let mut state = req.current_state;
        let mut diags = Diagnostics::new();
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
        let Some(phones) = state
            .get("phones")
            .and_then(Value::as_elements)
            .map(<[Value]>::to_vec)
        else {
            return ReadResponse {
                new_state: state,
                private: req.private,
                diagnostics: diags,
            };
        };
        let ids: Vec<String> = phones
            .iter()
            .map(|p| {
                p.get("phone_id")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            })
            .collect();
        let current = match fetch_properties(data, &ids).await {
            Ok(c) => c,
            Err(diag) => {
                return ReadResponse {
                    new_state: state,
                    private: req.private,
                    diagnostics: diag.into(),
                };
            }
        };
        let mut kept = Vec::with_capacity(phones.len());
        for (phone, (id, actual)) in phones.into_iter().zip(ids.iter().zip(current)) {
            let Some(actual) = actual else {
                diags.push(Diagnostic::warning(
                    "Phone No Longer Exists",
                    format!(
                        "phone {id} was not found; it is removed from cph_phone_property's state"
                    ),
                ));
                continue;
            };
            let mut phone = phone;
            if let Some(Value::Map(managed)) = phone.get("properties").cloned() {
                let refreshed: Fields = managed
                    .keys()
                    .filter_map(|k| actual.get(k).map(|v| (k.clone(), Value::from(v.clone()))))
                    .collect();
                phone.set_path(&AttributePath::root("properties"), Value::Map(refreshed));
            }
            kept.push(phone);
        }
        if kept.is_empty() {
            return ReadResponse {
                new_state: Value::Null,
                private: req.private,
                diagnostics: diags,
            };
        }
        state.set_path(&AttributePath::root("phones"), Value::List(kept));
        ReadResponse {
            new_state: state,
            private: req.private,
            diagnostics: diags,
        }
    }

    async fn import(&self, ctx: &Context<ProviderData>, id: String) -> ImportResponse {
        let mut diags = Diagnostics::new();
        let ids: Vec<String> = id
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        if ids.is_empty() {
            diags.push(Diagnostic::error(
                "Invalid Import Id",
                format!("import id {id:?} names no phone; use <phone_id>[,<phone_id>...]"),
            ));
            return ImportResponse {
                diagnostics: diags,
                ..ImportResponse::default()
            };
        }
        for (i, phone) in ids.iter().enumerate() {
            if let Err(e) = PhoneId::new(phone.as_str()) {
                diags.push(Diagnostic::error(
                    "Invalid Import Id",
                    format!("phone {} of the import id: {e}", i + 1),
                ));
            }
            if ids[..i].contains(phone) {
                diags.push(Diagnostic::error(
                    "Invalid Import Id",
                    format!("phone {phone} is listed twice"),
                ));
            }
        }
        if diags.has_errors() {
            return ImportResponse {
                diagnostics: diags,
                ..ImportResponse::default()
            };
        }
        let data = match ctx.data() {
            Ok(d) => d,
            Err(diag) => {
                return ImportResponse {
                    diagnostics: diag.into(),
                    ..ImportResponse::default()
                };
            }
        };
        let current = match fetch_properties(data, &ids).await {
            Ok(c) => c,
            Err(diag) => {
                return ImportResponse {
                    diagnostics: diag.into(),
                    ..ImportResponse::default()
                };
            }
        };
        let mut phones = Vec::new();
        for (phone_id, actual) in ids.iter().zip(current) {
            let Some(actual) = actual else {
                diags.push(Diagnostic::error(
                    "Phone Not Found",
                    format!("cannot import phone {phone_id}: it does not exist"),
                ));
                continue;
            };
            phones.push(Value::object([
                ("phone_id", Value::from(phone_id.clone())),
                (
                    "properties",
                    Value::Map(
                        actual
                            .into_iter()
                            .map(|(k, v)| (k, Value::from(v)))
                            .collect(),
                    ),
                ),
            ]));
        }
        if diags.has_errors() {
            return ImportResponse {
                diagnostics: diags,
                ..ImportResponse::default()
            };
        }
        let mut state = Value::Object(Fields::new());
        let ty = self.schema().value_type();
        if let Ok(empty) = tfplugin::from_json(&serde_json::json!({}), &ty) {
            state = empty;
        }
        state.set_path(&AttributePath::root("id"), Value::from(id));
        state.set_path(&AttributePath::root("phones"), Value::List(phones));
        for name in RESULTS {
            state.set_path(&AttributePath::root(name), empty_result(name));
        }
        ImportResponse {
            state,
            private: Vec::new(),
            diagnostics: diags,
        }
    }
}

impl PhoneProperty {
    async fn apply(
        &self,
        ctx: &Context<ProviderData>,
        req: ApplyRequest,
        kind: TimeoutKind,
    ) -> ApplyResponse {
        let prior_state = req.prior_state.clone();
        let fail = |diag: Diagnostic| {
            let keep = if prior_state.is_null() {
                Value::Null
            } else {
                prior_state.clone()
            };
            ApplyResponse::failed(keep, diag)
        };
        let data = match ctx.data() {
            Ok(d) => d,
            Err(diag) => return fail(diag),
        };
        let timeout = match common::timeout(timeouts_of(&req.config).as_ref(), kind) {
            Ok(t) => t,
            Err(diag) => return fail(diag),
        };
        let allow_partial = req
            .config
            .get("allow_partial_failure")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let restart_after = req
            .config
            .get("restart_after_update")
            .and_then(Value::as_bool)
            .unwrap_or(false);

        let prior = known_phones(req.prior_state.get("phones"));
        let Some(desired) = known_phones(req.config.get("phones")) else {
            return fail(Diagnostic::error(
                "Missing Phones",
                "`phones` has no known value at apply time",
            ));
        };
        let changed = changed_phones(prior.as_deref(), &desired);
        let phones = match phone_list(&req.config) {
            Ok(p) => p,
            Err(diag) => return fail(diag),
        };
        let mut update = Vec::new();
        for phone in &phones {
            let Ok(id) = phone.string("phone_id") else {
                continue;
            };
            if !changed.iter().any(|c| c == id) {
                continue;
            }
            let built = phone.phone_id().and_then(|phone_id| {
                let property = property_string(phone)?
                    .unwrap_or_else(|| cph_types::PropertyMap::new().to_api_string());
                Ok(UpdatePropertyPhone {
                    phone_id,
                    property,
                    custom_property: None,
                })
            });
            match built {
                Ok(p) => update.push(p),
                Err(diag) => return fail(diag),
            }
        }

        let mut state = req.planned_state;
        if update.is_empty() {
            // Only reordering, removals or settings changed: nothing to send.
            for name in RESULTS {
                if state.get(name).is_none_or(Value::is_unknown) {
                    let prior_value = req
                        .prior_state
                        .get(name)
                        .cloned()
                        .unwrap_or_else(|| empty_result(name));
                    state.set_path(&AttributePath::root(name), prior_value);
                }
            }
            if state.get("id").is_none_or(Value::is_unknown) {
                state.set_path(&AttributePath::root("id"), Value::from(String::new()));
            }
            return ApplyResponse::ok(state);
        }

        let deadline = Instant::now() + timeout;
        let main = batch::run(
            data,
            ctx.cancellation(),
            Operation::UpdateProperty(UpdatePropertyRequest { phones: update }),
            deadline,
            timeout,
        )
        .await;
        let mut diags = batch::report(&main, "property update", allow_partial);
        let mut request_ids = main.request_ids.clone();
        let mut restart_jobs: Vec<JobRecord> = Vec::new();
        if restart_after && main.interruption.is_none() {
            let ids: Vec<PhoneId> = main
                .jobs
                .iter()
                .filter(|j| j.succeeded())
                .filter_map(|j| PhoneId::new(j.phone_id.as_str()).ok())
                .collect();
            if !ids.is_empty() {
                let outcome =
                    batch::run(data, ctx.cancellation(), restart_of(ids), deadline, timeout).await;
                diags.extend(batch::report(&outcome, "restart", allow_partial));
                request_ids.extend(outcome.request_ids.iter().cloned());
                restart_jobs = outcome.jobs;
            }
        }
        if req.prior_state.is_null()
            && request_ids.is_empty()
            && main.jobs.iter().all(|j| j.job_id.is_empty())
        {
            return ApplyResponse::failed(Value::Null, diags);
        }
        if state.get("id").is_none_or(Value::is_unknown) {
            state.set_path(
                &AttributePath::root("id"),
                Value::from(request_ids.first().cloned().unwrap_or_default()),
            );
        }
        state.set_path(
            &AttributePath::root("request_ids"),
            Value::List(request_ids.into_iter().map(Value::from).collect()),
        );
        state.set_path(&AttributePath::root("jobs"), common::jobs_value(&main.jobs));
        state.set_path(
            &AttributePath::root("restart_jobs"),
            common::jobs_value(&restart_jobs),
        );
        ApplyResponse {
            new_state: state,
            private: Vec::new(),
            diagnostics: diags,
        }
    }
}

/// Each phone's current properties (`None` for a phone that does not exist), in the order of `ids`.
async fn fetch_properties(
    data: &ProviderData,
    ids: &[String],
) -> Result<Vec<Option<Properties>>, Diagnostic> {
    let lookups = ids.iter().cloned().map(|id| async move {
        let phone_id =
            PhoneId::new(id).map_err(|e| Diagnostic::error("Invalid Phone Id", e.to_string()))?;
        batch::phone_properties(data, &phone_id).await
    });
    let results: Vec<Result<Option<Properties>, Diagnostic>> = futures_util::stream::iter(lookups)
        .buffered(READ_CONCURRENCY)
        .collect()
        .await;
    results.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phones(list: &[(&str, &[(&str, &str)])]) -> Vec<(String, Properties)> {
        list.iter()
            .map(|(id, props)| {
                (
                    id.to_string(),
                    props
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                )
            })
            .collect()
    }

    #[test]
    fn only_phones_whose_properties_changed_or_that_are_new_are_updated() {
        let prior = phones(&[
            ("a", &[("k", "1")]),
            ("b", &[("k", "2")]),
            ("c", &[("k", "3")]),
        ]);
        let desired = phones(&[
            ("c", &[("k", "3")]),
            ("a", &[("k", "9")]),
            ("d", &[("k", "4")]),
        ]);
        assert_eq!(
            changed_phones(Some(&prior), &desired),
            vec!["a".to_string(), "d".to_string()]
        );
    }

    #[test]
    fn on_create_every_phone_is_updated() {
        let desired = phones(&[("a", &[("k", "1")]), ("b", &[])]);
        assert_eq!(
            changed_phones(None, &desired),
            vec!["a".to_string(), "b".to_string()]
        );
    }

    #[test]
    fn unknown_phone_lists_are_not_compared() {
        let v = Value::List(vec![Value::object([
            ("phone_id", Value::Unknown),
            ("properties", Value::Null),
        ])]);
        assert_eq!(known_phones(Some(&v)), None);
        assert_eq!(known_phones(Some(&Value::Unknown)), None);
    }
}
