//! `cph_phone_property`: phone properties as managed, drift-aware state. It converges per phone like
//! the action resources (only phones whose properties differ from what state says, or whose last
//! update did not succeed, are sent) and its refresh reads each phone's properties back, so drift
//! on a managed key plans an update of that phone alone. A phone whose update did not succeed keeps
//! its prior values in state. Import takes a comma-separated list of phone ids.

use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

use cph_http::WaitOptions;
use cph_types::{
    CPS_NOT_FOUND, PROPERTY_SHOWN_BYTES_MAX, PhoneId, PropertyMap, UpdatePropertyPhone,
    UpdatePropertyRequest,
};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tfplugin::{
    ApplyRequest, ApplyResponse, AttributePath, Block, Context, Diagnostic, Diagnostics, Fields,
    ImportResponse, PlanRequest, PlanResponse, Presence, RawState, ReadRequest, ReadResponse,
    Resource, Schema, Value,
};

use crate::attributes::{self, properties_known, property_map};
use crate::config::ProviderData;
use crate::converge::{self, JOBS, Operation, RESTART_JOBS};
use crate::phones::{PhoneInputs, at, read_phones};
use crate::records::{self, SCHEMA_VERSION};
use crate::rollout::rollout_block;
use crate::timeouts::{TimeoutKind, timeout, timeouts_block};

/// How many ShowCloudPhoneDetail calls a refresh keeps in flight.
const READ_CONCURRENCY: usize = 16;

/// The `cph_phone_property` resource.
pub(crate) struct PhoneProperty;

/// What a phone carries: the properties to keep set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PropertyInputs {
    pub(crate) properties: PropertyMap,
}

impl PhoneInputs for PropertyInputs {
    fn read(element: &Value) -> Option<Self> {
        let properties = element.get("properties");
        properties_known(properties).then(|| PropertyInputs {
            properties: property_map(properties),
        })
    }

    /// Properties are never given by id alone (the resource has no `phone_ids`).
    fn id_only() -> Self {
        PropertyInputs {
            properties: PropertyMap::new(),
        }
    }

    /// A phone needs nothing when every key asked for already has its value; keys the
    /// configuration no longer names are no longer managed (the API cannot unset them).
    fn met_by(&self, prior: &Self) -> bool {
        self.properties
            .iter()
            .all(|(k, v)| prior.properties.get(k) == Some(v))
    }
}

impl Operation for PhoneProperty {
    type Inputs = PropertyInputs;
    type Request = UpdatePropertyRequest;
    const TYPE_NAME: &'static str = "cph_phone_property";
    const VERB: &'static str = "property update";
    const DONE: &'static str = "updated";
    const FOLLOW_UP: Option<&'static str> = Some("restart_after_update");
    const UNRECORDED_NEEDS_WORK: bool = false;

    fn request(
        _resource: &Value,
        phones: Vec<(PhoneId, &PropertyInputs)>,
    ) -> Result<UpdatePropertyRequest, Diagnostic> {
        Ok(UpdatePropertyRequest::new(phones.into_iter().map(
            |(phone_id, inputs)| UpdatePropertyPhone {
                phone_id,
                property: inputs.properties.to_api_string(),
                custom_property: None,
            },
        )))
    }
}

/// What a refresh learned that the next plan needs: the phones the service no longer knows.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Private {
    #[serde(default)]
    gone: BTreeSet<String>,
}

impl Private {
    fn decode(bytes: &[u8]) -> Private {
        serde_json::from_slice(bytes).unwrap_or_default()
    }

    fn encode(&self) -> Vec<u8> {
        if self.gone.is_empty() {
            Vec::new()
        } else {
            serde_json::to_vec(self).unwrap_or_default()
        }
    }
}

impl Resource<ProviderData> for PhoneProperty {
    fn type_name(&self) -> String {
        Self::TYPE_NAME.into()
    }

    fn schema(&self) -> Schema {
        let block = Block::new()
            .description(
                "Sets properties on cloud phones and keeps them: a refresh reads them back and drift on a managed key \
                 plans an update of that phone alone; a change updates only the phones whose properties changed; a \
                 phone whose update did not succeed keeps its prior values in state and is retried. Destroying it \
                 unsets nothing.",
            )
            .attribute(attributes::id())
            .attribute(attributes::phones(
                Presence::Required,
                "The phones and their properties",
                vec![attributes::properties(Presence::Required, "The properties to set.")],
            ))
            .attribute(attributes::restart_after(
                "restart_after_update",
                false,
                "property update",
            ))
            .attribute(attributes::allow_partial_failure())
            .attribute(attributes::request_ids())
            .attribute(attributes::records(
                JOBS,
                "The latest property update of each phone (none for a phone imported and never updated).",
            ))
            .attribute(attributes::restart_records(
                "property update",
                "restart_after_update",
            ))
            .block(rollout_block("property update"))
            .block(timeouts_block());
        Schema::new(SCHEMA_VERSION, block)
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        let _ = read_phones::<PropertyInputs>(config, &mut diags);
        diags
    }

    async fn modify_plan(
        &self,
        _ctx: &Context<ProviderData>,
        req: &PlanRequest,
        plan: &mut PlanResponse,
    ) {
        let gone = Private::decode(&req.prior_private).gone;
        if !gone.is_empty() && !plan.planned_state.is_null() {
            let mut ignored = Diagnostics::new();
            if let crate::phones::PhoneList::Known(phones) =
                read_phones::<PropertyInputs>(&req.config, &mut ignored)
            {
                for phone in phones {
                    if let Some(id) = phone.id.as_deref().filter(|id| gone.contains(*id)) {
                        plan.diagnostics.push(at(
                            Diagnostic::error(
                                "Phone No Longer Exists",
                                format!(
                                    "phone {id} was not found when the resource was refreshed (the service answered \
                                     {CPS_NOT_FOUND} or 404): it was deleted or never existed in this project. Remove \
                                     it from `phones`; its record leaves state with it."
                                ),
                            ),
                            phone.path.clone().attr("phone_id"),
                        ));
                    }
                }
            }
        }
        converge::plan::<PhoneProperty>(req, plan);
    }

    async fn create(&self, ctx: &Context<ProviderData>, req: ApplyRequest) -> ApplyResponse {
        apply(ctx, req, TimeoutKind::Create).await
    }

    async fn update(&self, ctx: &Context<ProviderData>, req: ApplyRequest) -> ApplyResponse {
        apply(ctx, req, TimeoutKind::Update).await
    }

    async fn read(&self, ctx: &Context<ProviderData>, req: ReadRequest) -> ReadResponse {
        let mut state = req.current_state;
        let mut diagnostics = converge::refresh::<PhoneProperty>(ctx, &mut state).await;
        let data = match ctx.data() {
            Ok(d) => d,
            Err(diag) => {
                diagnostics.push(diag);
                return ReadResponse {
                    new_state: state,
                    private: req.private,
                    diagnostics,
                };
            }
        };
        let options = WaitOptions::new()
            .deadline(Instant::now() + timeout(&state, TimeoutKind::Read))
            .cancel(ctx.cancellation().clone());
        let private = refresh_properties(data, &options, &mut state, &mut diagnostics).await;
        ReadResponse {
            new_state: state,
            private: private.encode(),
            diagnostics,
        }
    }

    async fn import(&self, ctx: &Context<ProviderData>, id: String) -> ImportResponse {
        let failed = |diagnostics: Diagnostics| ImportResponse {
            diagnostics,
            ..ImportResponse::default()
        };
        let (ids, keys) = match import_ids(&id) {
            Ok(parsed) => parsed,
            Err(diags) => return failed(diags),
        };
        let data = match ctx.data() {
            Ok(d) => d,
            Err(diag) => return failed(diag.into()),
        };
        let options = WaitOptions::new()
            .deadline(Instant::now() + crate::timeouts::DEFAULT_TIMEOUT)
            .cancel(ctx.cancellation().clone());
        let mut diags = Diagnostics::new();
        let mut phones = Vec::new();
        for (phone_id, read) in ids.iter().zip(read_all(data, &options, &ids).await) {
            match read {
                Read::Properties(actual, _) => phones.push(Value::object([
                    ("phone_id", Value::from(phone_id.as_str().to_owned())),
                    (
                        "properties",
                        Value::Map(
                            actual
                                .iter()
                                // Only the named keys come under management, when keys are named.
                                .filter(|(k, _)| {
                                    keys.as_ref().is_none_or(|keys| keys.iter().any(|n| n == k))
                                })
                                .map(|(k, v)| (k, Value::from(v.to_owned())))
                                .collect(),
                        ),
                    ),
                ])),
                Read::Gone => diags.push(Diagnostic::error(
                    "Phone Not Found",
                    format!("cannot import phone {phone_id}: it does not exist"),
                )),
                Read::Failed(e) => diags.push(Diagnostic::error(
                    "Cannot Read Phone",
                    format!("cannot import phone {phone_id}: {e}"),
                )),
            }
        }
        if diags.has_errors() {
            return failed(diags);
        }
        let schema = self.schema();
        let mut state = tfplugin::from_json(&serde_json::json!({}), &schema.value_type())
            .unwrap_or(Value::Object(Fields::new()));
        state.set_path(&AttributePath::root("id"), Value::from(id));
        state.set_path(&AttributePath::root("phones"), Value::List(phones));
        state.set_path(&AttributePath::root("request_ids"), Value::List(Vec::new()));
        for name in [JOBS, RESTART_JOBS] {
            state.set_path(&AttributePath::root(name), Value::Map(Fields::new()));
        }
        schema.block.fill_defaults(&mut state);
        ImportResponse {
            state,
            private: Vec::new(),
            diagnostics: diags,
        }
    }

    fn upgrade_state(&self, version: i64, raw: RawState) -> Result<Value, Diagnostics> {
        records::upgrade_state(version, raw, &self.schema())
    }
}

/// Applies through the shared convergence; when the apply reports an error, a phone whose update
/// did not succeed keeps its prior properties in state (or, new, is left out), so that state says
/// what the phone holds and the next plan shows it still needs work even without a refresh.
async fn apply(ctx: &Context<ProviderData>, req: ApplyRequest, kind: TimeoutKind) -> ApplyResponse {
    let prior_phones = req.prior_state.get("phones").cloned().unwrap_or_default();
    let mut applied = converge::apply::<PhoneProperty>(ctx, req, kind).await;
    if applied.diagnostics.has_errors() && !applied.state.is_null() {
        let prior: HashMap<&str, &Value> = prior_phones
            .as_elements()
            .unwrap_or_default()
            .iter()
            .filter_map(|p| Some((p.get("phone_id")?.as_str()?, p)))
            .collect();
        if let Some(Value::List(phones)) = applied.state.get("phones").cloned() {
            let truthful: Vec<Value> = phones
                .into_iter()
                .filter_map(|phone| {
                    let id = phone.get("phone_id").and_then(Value::as_str)?.to_owned();
                    match applied.acted.get(&id) {
                        Some(record) if !record.succeeded() => {
                            prior.get(id.as_str()).map(|p| (*p).clone())
                        }
                        _ => Some(phone),
                    }
                })
                .collect();
            applied
                .state
                .set_path(&AttributePath::root("phones"), Value::List(truthful));
        }
    }
    applied.into()
}

/// What an import id names: `<phone_id>[,<phone_id>...][/<key>[,<key>...]]`. The phones come back
/// sorted by id, whatever their order in the id (as `cph_phones` lists them, so that a configuration
/// built from it plans no reordering); the keys, when named, are the only ones imported.
fn import_ids(id: &str) -> Result<(Vec<PhoneId>, Option<Vec<String>>), Diagnostics> {
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
        diags.error(
            "Invalid Import Id",
            format!(
                "import id {id:?} names no phone; use <phone_id>[,<phone_id>...], optionally followed by \
                 /<key>[,<key>...] to import only those properties"
            ),
        );
    }
    let mut ids = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        if parts[..i].contains(part) {
            diags.error("Invalid Import Id", format!("phone {part} is listed twice"));
            continue;
        }
        match PhoneId::new(*part) {
            Ok(id) => ids.push(id),
            Err(e) => diags.error(
                "Invalid Import Id",
                format!("phone {} of the import id: {e}", i + 1),
            ),
        }
    }
    let keys = keys_part.map(|keys| {
        let keys: Vec<String> = keys
            .split(',')
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(str::to_owned)
            .collect();
        if keys.is_empty() {
            diags.error(
                "Invalid Import Id",
                format!("import id {id:?} has a `/` but names no property key after it"),
            );
        }
        keys
    });
    if diags.has_errors() {
        Err(diags)
    } else {
        ids.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        Ok((ids, keys))
    }
}

/// What reading one phone gave.
enum Read {
    /// Its properties as shown, and the shown string's size in bytes.
    Properties(PropertyMap, usize),
    Gone,
    Failed(String),
}

/// Room below [`PROPERTY_SHOWN_BYTES_MAX`] within which a shown `property` string counts as full:
/// an entry of this size or less might not have fitted.
const SHOWN_FULL_MARGIN: usize = 256;

/// The managed keys missing from a phone's shown properties that cannot be read back because the
/// shown string is at the service's display limit (ShowCloudPhoneDetail shows at most
/// [`PROPERTY_SHOWN_BYTES_MAX`] bytes): a missing key counts as beyond the limit when the string,
/// with that key's entry or with [`SHOWN_FULL_MARGIN`] bytes added, would not fit. Such keys keep
/// their values in state instead of showing as drift that no apply could ever correct.
fn beyond_display_limit<'a>(
    shown_bytes: usize,
    missing: impl Iterator<Item = (&'a str, Option<&'a str>)>,
) -> Vec<&'a str> {
    let missing: Vec<(&str, usize)> = missing
        .map(|(key, value)| (key, key.len() + value.map_or(0, str::len) + 6))
        .collect();
    let largest = missing.iter().map(|(_, size)| *size).max().unwrap_or(0);
    if shown_bytes + largest.max(SHOWN_FULL_MARGIN) > PROPERTY_SHOWN_BYTES_MAX {
        missing.into_iter().map(|(key, _)| key).collect()
    } else {
        Vec::new()
    }
}

/// Reads every phone of `ids` (16 at a time), each bounded by `options`.
async fn read_all(data: &ProviderData, options: &WaitOptions, ids: &[PhoneId]) -> Vec<Read> {
    let lookups = ids.iter().cloned().map(|id| async move {
        match data.client.show_phone_within(&id, options).await {
            Ok(detail) => match detail.properties() {
                Ok(map) => Read::Properties(map, detail.property.as_deref().map_or(0, str::len)),
                Err(e) => Read::Failed(format!("its properties cannot be read: {e}")),
            },
            Err(e) if e.status() == Some(404) || e.code() == Some(CPS_NOT_FOUND) => Read::Gone,
            Err(e) => Read::Failed(e.to_string()),
        }
    });
    futures_util::stream::iter(lookups)
        .buffered(READ_CONCURRENCY)
        .collect()
        .await
}

/// Reads back the managed keys of every phone in `state`. One phone's failed read is a warning and
/// keeps that phone's prior values; a phone the service no longer knows keeps its state and is
/// named in the private state, so the next plan can say to remove it.
async fn refresh_properties(
    data: &ProviderData,
    options: &WaitOptions,
    state: &mut Value,
    diags: &mut Diagnostics,
) -> Private {
    let mut private = Private::default();
    let Some(Value::List(phones)) = state.get("phones").cloned() else {
        return private;
    };
    let ids: Vec<Option<PhoneId>> = phones
        .iter()
        .map(|p| {
            p.get("phone_id")
                .and_then(Value::as_str)
                .and_then(|id| PhoneId::new(id).ok())
        })
        .collect();
    let readable: Vec<PhoneId> = ids.iter().flatten().cloned().collect();
    let mut reads = read_all(data, options, &readable).await.into_iter();
    let mut failed: Vec<String> = Vec::new();
    let mut beyond: Vec<String> = Vec::new();
    let mut refreshed = Vec::with_capacity(phones.len());
    for (mut phone, id) in phones.into_iter().zip(ids) {
        let Some(id) = id else {
            refreshed.push(phone);
            continue;
        };
        match reads.next() {
            Some(Read::Properties(actual, shown_bytes)) => {
                if let Some(Value::Map(managed)) = phone.get("properties").cloned() {
                    let unreadable = beyond_display_limit(
                        shown_bytes,
                        managed
                            .iter()
                            .filter(|(k, _)| actual.get(k).is_none())
                            .map(|(k, v)| (k.as_str(), v.as_str())),
                    );
                    let current: Fields = managed
                        .iter()
                        .filter_map(|(k, recorded)| match actual.get(k) {
                            Some(v) => Some((k.clone(), Value::from(v.to_owned()))),
                            None if unreadable.contains(&k.as_str()) => {
                                Some((k.clone(), recorded.clone()))
                            }
                            None => None,
                        })
                        .collect();
                    if !unreadable.is_empty() {
                        beyond.push(format!("  phone {id}: {}", unreadable.join(", ")));
                    }
                    phone.set_path(&AttributePath::root("properties"), Value::Map(current));
                }
            }
            Some(Read::Gone) => {
                private.gone.insert(id.as_str().to_owned());
            }
            Some(Read::Failed(e)) => failed.push(format!("  phone {id}: {e}")),
            None => {}
        }
        refreshed.push(phone);
    }
    state.set_path(&AttributePath::root("phones"), Value::List(refreshed));
    if !failed.is_empty() {
        let n = failed.len();
        failed.truncate(20);
        diags.push(Diagnostic::warning(
            format!("{n} Phones Not Refreshed"),
            format!(
                "cph_phone_property could not read these phones; they keep the properties recorded in state, so \
                 drift on them is not seen until a later refresh reads them:\n{}",
                failed.join("\n")
            ),
        ));
    }
    if !beyond.is_empty() {
        let n = beyond.len();
        beyond.truncate(20);
        diags.push(Diagnostic::warning(
            format!("Properties of {n} Phones Beyond the Display Limit"),
            format!(
                "cph_phone_property: ShowCloudPhoneDetail shows at most {PROPERTY_SHOWN_BYTES_MAX} bytes of a phone's \
                 properties, and these phones' are at that limit. The managed keys missing from what it shows cannot \
                 be read back: their values in state are kept, and drift on them is not seen:\n{}",
                beyond.join("\n")
            ),
        ));
    }
    if !private.gone.is_empty() {
        let listed: Vec<&str> = private.gone.iter().map(String::as_str).collect();
        diags.push(Diagnostic::warning(
            "Phones No Longer Exist",
            format!(
                "cph_phone_property: the service does not know {}; remove them from `phones`.",
                listed.join(", ")
            ),
        ));
    }
    private
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_missing_from_a_full_display_are_unreadable_not_drift() {
        // A short listing: a missing key is truly gone (drift).
        assert!(
            beyond_display_limit(
                120,
                [("sys.prop.writeimsi", Some("460001234567890"))].into_iter()
            )
            .is_empty()
        );
        // A listing at the limit: every missing key might lie beyond it.
        assert_eq!(
            beyond_display_limit(
                PROPERTY_SHOWN_BYTES_MAX - 100,
                [("a.key", Some("1")), ("b.key", None)].into_iter()
            ),
            vec!["a.key", "b.key"]
        );
        // Short of the margin, but the missing entry itself could not have fitted.
        let long = "x".repeat(400);
        assert_eq!(
            beyond_display_limit(1700, [("big", Some(long.as_str()))].into_iter()),
            vec!["big"]
        );
        assert!(beyond_display_limit(1700, [("small", Some("1"))].into_iter()).is_empty());
    }

    #[test]
    fn import_ids_are_valid_listed_once_sorted_and_may_name_the_keys() {
        let a = "0123456789abcdef0123456789abcdef";
        let b = "00000000000000000000000000000001";
        assert_eq!(import_ids(&format!(" {a} ,")).unwrap().0.len(), 1);
        // Sorted by id whatever the order given; no keys named: every key is imported.
        let (ids, keys) = import_ids(&format!("{a},{b}")).unwrap();
        assert_eq!(ids.iter().map(PhoneId::as_str).collect::<Vec<_>>(), [b, a]);
        assert_eq!(keys, None);
        let (_, keys) = import_ids(&format!(
            "{a}/sys.prop.writephonenum, sys.prop.writewifissid"
        ))
        .unwrap();
        assert_eq!(
            keys,
            Some(vec![
                "sys.prop.writephonenum".to_owned(),
                "sys.prop.writewifissid".to_owned()
            ])
        );
        for bad in [
            String::new(),
            ",,".into(),
            format!("{a},{a}"),
            "not a phone!".into(),
            format!("{a}/"),
            format!("/{a}"),
        ] {
            let diags = import_ids(&bad).unwrap_err();
            assert_eq!(
                diags.iter().next().unwrap().summary,
                "Invalid Import Id",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn private_state_round_trips_and_is_empty_without_gone_phones() {
        assert!(Private::default().encode().is_empty());
        let mut p = Private::default();
        p.gone.insert("x".into());
        assert_eq!(Private::decode(&p.encode()).gone, p.gone);
        assert!(Private::decode(b"not json").gone.is_empty());
    }

    #[test]
    fn a_phone_holding_every_asked_value_needs_nothing_whatever_else_it_holds() {
        let inputs = |pairs: &[(&str, &str)]| PropertyInputs {
            properties: pairs.iter().map(|(k, v)| (*k, *v)).fold(
                PropertyMap::new(),
                |mut m, (k, v)| {
                    m.insert(k, v);
                    m
                },
            ),
        };
        let asked = inputs(&[("a", "1"), ("b", "2")]);
        assert!(asked.met_by(&inputs(&[("a", "1"), ("b", "2"), ("imported", "x")])));
        assert!(!asked.met_by(&inputs(&[("a", "1")])), "a key missing");
        assert!(
            !asked.met_by(&inputs(&[("a", "1"), ("b", "drifted")])),
            "a value drifted"
        );
        assert!(
            inputs(&[("a", "1")]).met_by(&asked),
            "a key no longer managed"
        );
    }

    #[test]
    fn properties_unknown_until_apply_give_no_inputs() {
        let phone = Value::object([
            ("phone_id", Value::from("p")),
            (
                "properties",
                Value::Map([("k".to_owned(), Value::Unknown)].into_iter().collect()),
            ),
        ]);
        assert_eq!(PropertyInputs::read(&phone), None);
    }
}
