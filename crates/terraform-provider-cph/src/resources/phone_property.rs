//! `cph_phone_property`: phone properties as managed, drift-aware state. It converges per phone on
//! the shared engine (only phones whose properties differ from what state says, or whose last
//! update did not succeed, are sent) and reads each phone's properties back on refresh, so drift on
//! a managed key plans an update of that phone alone. A phone whose update did not succeed keeps its
//! prior values in state. Import takes a comma-separated list of phone ids, optionally followed by
//! `/` and the keys to manage.

use std::collections::{BTreeSet, HashMap};

use cph_http::WaitOptions;
use cph_types::{
    CPS_NOT_FOUND, PROPERTY_SHOWN_BYTES_MAX, PhoneId, PropertyMap, UpdatePropertyPhone,
    UpdatePropertyRequest,
};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tfplugin::{Attribute, Context, Diagnostic, Diagnostics, Maybe, Presence};

use super::phone_restart::{PropertiesPhone, properties_model};
use super::{Import, Kind, PhoneList};
use crate::attributes::{self, Surface};
use crate::config::ProviderData;
use crate::engine::{FollowUp, Operation, Reading};
use crate::model::{OperationModel, StringMap, known_strings, names};
use crate::records::Record;

/// How many ShowCloudPhoneDetail calls a refresh keeps in flight.
const READ_CONCURRENCY: usize = 16;

/// The property-update operation.
pub(crate) struct PhoneProperty;

impl Operation for PhoneProperty {
    type Phone = PropertiesPhone;
    type Request = UpdatePropertyRequest;
    const TYPE_NAME: &'static str = "cph_phone_property";
    const VERB: &'static str = "property update";
    const DONE: &'static str = "updated";
    const FOLLOW_UP: Option<FollowUp> = Some(FollowUp::AfterUpdate);
    const UNRECORDED_NEEDS_WORK: bool = false;
    const READS_BACK: bool = true;

    /// A phone needs nothing when every key asked for already has its value; keys the
    /// configuration no longer names are no longer managed (the API cannot unset them).
    fn met_by(desired: &PropertyMap, prior: &PropertyMap) -> bool {
        desired.iter().all(|(k, v)| prior.get(k) == Some(v))
    }

    fn request(
        _model: &OperationModel<PropertiesPhone>,
        phones: Vec<(PhoneId, &PropertyMap)>,
    ) -> Result<UpdatePropertyRequest, Diagnostic> {
        Ok(UpdatePropertyRequest::new(phones.into_iter().map(
            |(phone_id, properties)| UpdatePropertyPhone {
                phone_id,
                property: properties.to_api_string(),
                custom_property: None,
            },
        )))
    }

    /// A phone a refresh found gone fails the plan at its place in the configuration.
    fn check_plan(
        config: &OperationModel<PropertiesPhone>,
        private: &[u8],
        diags: &mut Diagnostics,
    ) {
        let gone = Private::decode(private).gone;
        if gone.is_empty() {
            return;
        }
        for (i, phone) in config.phones.known().into_iter().flatten().enumerate() {
            if let Some(id) = phone
                .phone_id
                .known()
                .filter(|id| gone.contains(id.as_str()))
            {
                diags.push(crate::report::phone_gone(
                    id,
                    crate::model::path(names::PHONES)
                        .index(i)
                        .attr(names::PHONE_ID),
                    names::PHONES,
                ));
            }
        }
    }

    /// When the apply reports an error, a phone whose update did not succeed keeps its prior
    /// properties in state (or, new, is left out), so that state says what the phone holds and the
    /// next plan shows it still needs work even without a refresh.
    async fn finish(
        _ctx: &Context<ProviderData>,
        prior: &OperationModel<PropertiesPhone>,
        state: &mut OperationModel<PropertiesPhone>,
        acted: &HashMap<String, Record>,
        errors: bool,
    ) {
        if !errors {
            return;
        }
        let prior: HashMap<&str, &PropertiesPhone> = prior
            .phones
            .known()
            .into_iter()
            .flatten()
            .filter_map(|p| Some((p.phone_id.known()?.as_str(), p)))
            .collect();
        if let Maybe::Known(phones) = &mut state.phones {
            let truthful: Vec<PropertiesPhone> = std::mem::take(phones)
                .into_iter()
                .filter_map(|phone| {
                    let id = phone.phone_id.known()?.as_str();
                    match acted.get(id) {
                        Some(record) if !record.succeeded() => prior.get(id).map(|p| (*p).clone()),
                        _ => Some(phone),
                    }
                })
                .collect();
            *phones = truthful;
        }
    }

    async fn read_back(
        ctx: &Context<ProviderData>,
        state: &mut OperationModel<PropertiesPhone>,
        reading: &Reading,
    ) -> (Diagnostics, Vec<u8>) {
        let (data, options) = match reading.options(ctx, state) {
            Ok(read) => read,
            Err(diags) => return (diags, Vec::new()),
        };
        match reading {
            Reading::Refresh => {
                let mut diags = Diagnostics::new();
                let private = refresh_properties(data, &options, state, &mut diags).await;
                (diags, private.encode())
            }
            Reading::Import { keys } => (
                import_properties(data, &options, state, keys.as_deref()).await,
                Vec::new(),
            ),
        }
    }
}

impl Kind for PhoneProperty {
    fn description() -> &'static str {
        "Sets properties on cloud phones and keeps them: a refresh reads them back and drift on a managed key \
         plans an update of that phone alone; a change updates only the phones whose properties changed; a \
         phone whose update did not succeed keeps its prior values in state and is retried. Destroying it \
         unsets nothing."
    }

    fn phone_list() -> PhoneList {
        PhoneList::Phones {
            what: "The phones and their properties",
            attributes: vec![attributes::properties(
                Presence::Required,
                "The properties to set.",
            )],
            ids_too: false,
        }
    }

    fn extra_attributes(surface: Surface) -> Vec<Attribute> {
        vec![attributes::restart_after(
            FollowUp::AfterUpdate.name(),
            FollowUp::AfterUpdate.default(),
            "property update",
            surface,
        )]
    }

    const TRIGGERS: bool = false;
    const IMPORT: Import = Import::ByIds { keys: true };

    fn jobs_description() -> String {
        "The latest property update of each phone (none for a phone imported and never updated)."
            .to_owned()
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
            Err(e) => Read::Failed(crate::report::api_failure(&e)),
        }
    });
    futures_util::stream::iter(lookups)
        .buffered(READ_CONCURRENCY)
        .collect()
        .await
}

/// The known ids of the phones of `state`.
fn phone_ids(state: &OperationModel<PropertiesPhone>) -> Vec<PhoneId> {
    state
        .phones
        .known()
        .into_iter()
        .flatten()
        .filter_map(|p| p.phone_id.known().cloned())
        .collect()
}

/// Reads back the managed keys of every phone in `state`. One phone's failed read is a warning and
/// keeps that phone's prior values; a phone the service no longer knows keeps its state and is
/// named in the private state, so the next plan can say to remove it.
async fn refresh_properties(
    data: &ProviderData,
    options: &WaitOptions,
    state: &mut OperationModel<PropertiesPhone>,
    diags: &mut Diagnostics,
) -> Private {
    let mut private = Private::default();
    let ids = phone_ids(state);
    let reads: HashMap<String, Read> = ids
        .iter()
        .map(|id| id.as_str().to_owned())
        .zip(read_all(data, options, &ids).await)
        .collect();
    let mut failed: Vec<String> = Vec::new();
    let mut beyond: Vec<String> = Vec::new();
    let Maybe::Known(phones) = &mut state.phones else {
        return private;
    };
    for phone in phones.iter_mut() {
        let Some(id) = phone.phone_id.known().cloned() else {
            continue;
        };
        match reads.get(id.as_str()) {
            Some(Read::Properties(actual, shown_bytes)) => {
                let Some(managed) = known_strings(&phone.properties) else {
                    continue;
                };
                let unreadable = beyond_display_limit(
                    *shown_bytes,
                    managed
                        .iter()
                        .filter(|(k, _)| actual.get(k).is_none())
                        .map(|(k, v)| (k.as_str(), Some(v.as_str()))),
                );
                let mut current = PropertyMap::new();
                for (k, recorded) in &managed {
                    match actual.get(k) {
                        Some(v) => {
                            current.insert(k.clone(), v);
                        }
                        None if unreadable.contains(&k.as_str()) => {
                            current.insert(k.clone(), recorded.clone());
                        }
                        None => {}
                    }
                }
                if !unreadable.is_empty() {
                    beyond.push(format!("  phone {id}: {}", unreadable.join(", ")));
                }
                phone.properties = Maybe::Known(
                    current
                        .iter()
                        .map(|(k, v)| (k.to_owned(), Maybe::Known(v.to_owned())))
                        .collect(),
                );
            }
            Some(Read::Gone) => {
                private.gone.insert(id.as_str().to_owned());
            }
            Some(Read::Failed(e)) => failed.push(format!("  phone {id}: {e}")),
            None => {}
        }
    }
    diags.extend(crate::report::property_refresh(
        &failed,
        &beyond,
        &private.gone,
    ));
    private
}

/// Fills the phones of an imported `state` with their properties as the service shows them (only
/// `keys` when named); a phone that cannot be read fails the import.
async fn import_properties(
    data: &ProviderData,
    options: &WaitOptions,
    state: &mut OperationModel<PropertiesPhone>,
    keys: Option<&[String]>,
) -> Diagnostics {
    let ids = phone_ids(state);
    let mut diags = Diagnostics::new();
    let mut phones = Vec::with_capacity(ids.len());
    for (phone_id, read) in ids.iter().zip(read_all(data, options, &ids).await) {
        match read {
            Read::Properties(actual, _) => {
                let managed = actual
                    .iter()
                    .filter(|(k, _)| keys.is_none_or(|keys| keys.iter().any(|n| n == k)));
                let map = managed.fold(PropertyMap::new(), |mut m, (k, v)| {
                    m.insert(k, v);
                    m
                });
                phones.push(PropertiesPhone {
                    phone_id: Maybe::Known(phone_id.clone()),
                    properties: match properties_model(&map) {
                        Maybe::Null => Maybe::Known(StringMap::new()),
                        other => other,
                    },
                });
            }
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
    state.phones = Maybe::Known(phones);
    diags
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::PhoneModel;

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
    fn private_state_round_trips_and_is_empty_without_gone_phones() {
        assert!(Private::default().encode().is_empty());
        let mut p = Private::default();
        p.gone.insert("x".into());
        assert_eq!(Private::decode(&p.encode()).gone, p.gone);
        assert!(Private::decode(b"not json").gone.is_empty());
    }

    #[test]
    fn a_phone_holding_every_asked_value_needs_nothing_whatever_else_it_holds() {
        let inputs = |pairs: &[(&str, &str)]| {
            pairs.iter().fold(PropertyMap::new(), |mut m, (k, v)| {
                m.insert(*k, *v);
                m
            })
        };
        let asked = inputs(&[("a", "1"), ("b", "2")]);
        let met = PhoneProperty::met_by;
        assert!(met(
            &asked,
            &inputs(&[("a", "1"), ("b", "2"), ("imported", "x")])
        ));
        assert!(!met(&asked, &inputs(&[("a", "1")])), "a key missing");
        assert!(
            !met(&asked, &inputs(&[("a", "1"), ("b", "drifted")])),
            "a value drifted"
        );
        assert!(
            met(&inputs(&[("a", "1")]), &asked),
            "a key no longer managed"
        );
    }

    #[test]
    fn properties_unknown_until_apply_give_no_inputs() {
        let phone = PropertiesPhone {
            phone_id: Maybe::Known(PhoneId::new("p").unwrap()),
            properties: Maybe::Known([("k".to_owned(), Maybe::Unknown)].into()),
        };
        assert_eq!(phone.inputs(), None);
    }
}
