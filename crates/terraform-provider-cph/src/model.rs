//! The typed models of what Terraform holds for this provider, decoded once per request with
//! [`tfplugin::from_value`] and encoded back with [`tfplugin::to_value`]: [`OperationModel`], the
//! one model of every resource (and action) that performs a batch operation on phones, with the
//! element models of its `phones`, and the attribute names, each declared once ([`names`]).
//!
//! A field that Terraform may not know yet (plan time) or may leave null is a [`Maybe`]. Ids are
//! typed: a phone id that is not one fails the decoding at its path, e.g. `phones[3].phone_id`.

use std::collections::BTreeMap;
use std::fmt::Debug;

use cph_types::{ImageId, PhoneId, RequestId};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tfplugin::{AttributePath, Diagnostic, Maybe, Value};

use crate::records::Records;

/// The attribute names the provider's code refers to, each written once; the schemas declare their
/// attributes with these, and the models' fields carry the same names (a test checks each schema
/// against its model).
pub(crate) mod names {
    pub(crate) const ID: &str = "id";
    pub(crate) const PHONES: &str = "phones";
    pub(crate) const PHONE_IDS: &str = "phone_ids";
    pub(crate) const PHONE_MAP: &str = "phone_map";
    pub(crate) const PHONE_ID: &str = "phone_id";
    pub(crate) const PROPERTIES: &str = "properties";
    pub(crate) const FACTORY_RESET: &str = "factory_reset";
    pub(crate) const BUCKET_NAME: &str = "bucket_name";
    pub(crate) const OBJECT_PATH: &str = "object_path";
    pub(crate) const INCLUDE_FILES: &str = "include_files";
    pub(crate) const EXCLUDE_FILES: &str = "exclude_files";
    pub(crate) const IMAGE_ID: &str = "image_id";
    pub(crate) const STATE: &str = "state";
    pub(crate) const STATUSES: &str = "statuses";
    pub(crate) const TRIGGERS: &str = "triggers";
    pub(crate) const RESTART_AFTER_RESTORE: &str = "restart_after_restore";
    pub(crate) const RESTART_AFTER_UPDATE: &str = "restart_after_update";
    pub(crate) const ALLOW_PARTIAL_FAILURE: &str = "allow_partial_failure";
    pub(crate) const REQUEST_IDS: &str = "request_ids";
    pub(crate) const JOBS: &str = "jobs";
    pub(crate) const RESTART_JOBS: &str = "restart_jobs";
    pub(crate) const ROLLOUT: &str = "rollout";
    pub(crate) const MAX_IN_FLIGHT: &str = "max_in_flight";
    pub(crate) const MAX_FAILURES: &str = "max_failures";
    pub(crate) const TIMEOUTS: &str = "timeouts";
    pub(crate) const TIMEOUT: &str = "timeout";
    pub(crate) const SERVER_ID: &str = "server_id";
    pub(crate) const STATUS: &str = "status";
    pub(crate) const NAME: &str = "name";
    pub(crate) const NAME_CONTAINS: &str = "name_contains";
}

/// A string map as configured, each value possibly unknown until apply (`properties`, `triggers`).
pub(crate) type StringMap = BTreeMap<String, Maybe<String>>;

/// Everything a resource (or an action) of this provider holds about one batch operation on phones:
/// which phones, with what, how to roll out and how long to wait, and, for resources, what happened
/// to each phone. One model for all of them: a field the schema at hand lacks decodes as null and is
/// left out when encoded (a test checks that every attribute of each schema has its field).
///
/// `P` is the element of `phones` (a phone and its inputs for this operation).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(bound(deserialize = "P: DeserializeOwned", serialize = "P: Serialize"))]
pub(crate) struct OperationModel<P> {
    #[serde(default)]
    pub(crate) id: Maybe<String>,
    #[serde(default)]
    pub(crate) phones: Maybe<Vec<P>>,
    #[serde(default)]
    pub(crate) phone_ids: Maybe<Vec<Maybe<PhoneId>>>,
    /// The phones keyed by id (values are the user's labels, never sent).
    #[serde(default)]
    pub(crate) phone_map: Maybe<BTreeMap<PhoneId, Maybe<String>>>,
    #[serde(default)]
    pub(crate) image_id: Maybe<ImageId>,
    #[serde(default)]
    pub(crate) state: Maybe<PowerState>,
    #[serde(default)]
    pub(crate) triggers: Maybe<StringMap>,
    #[serde(default)]
    pub(crate) restart_after_restore: Maybe<bool>,
    #[serde(default)]
    pub(crate) restart_after_update: Maybe<bool>,
    #[serde(default)]
    pub(crate) allow_partial_failure: Maybe<bool>,
    #[serde(default)]
    pub(crate) statuses: Maybe<BTreeMap<String, Maybe<String>>>,
    #[serde(default)]
    pub(crate) request_ids: Maybe<Vec<RequestId>>,
    #[serde(default)]
    pub(crate) jobs: Maybe<Records>,
    #[serde(default)]
    pub(crate) restart_jobs: Maybe<Records>,
    #[serde(default)]
    pub(crate) rollout: Maybe<RolloutModel>,
    #[serde(default)]
    pub(crate) timeouts: Maybe<TimeoutsModel>,
    #[serde(default)]
    pub(crate) timeout: Maybe<String>,
}

/// The `rollout` block.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub(crate) struct RolloutModel {
    #[serde(default)]
    pub(crate) max_in_flight: Maybe<String>,
    #[serde(default)]
    pub(crate) max_failures: Maybe<String>,
}

/// The `timeouts` block.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub(crate) struct TimeoutsModel {
    #[serde(default)]
    pub(crate) create: Maybe<String>,
    #[serde(default)]
    pub(crate) update: Maybe<String>,
    #[serde(default)]
    pub(crate) read: Maybe<String>,
}

/// The declared power state of `cph_phone_power`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum PowerState {
    Running,
    Stopped,
}

impl PowerState {
    pub(crate) const NAMES: &'static [&'static str] = &["running", "stopped"];

    pub(crate) fn name(self) -> &'static str {
        match self {
            PowerState::Running => "running",
            PowerState::Stopped => "stopped",
        }
    }
}

/// The element of a resource's `phones`: a phone and what this operation does to it.
pub(crate) trait PhoneModel:
    DeserializeOwned + Serialize + Clone + Debug + Default + Send + Sync + 'static
{
    /// What the phone asks for once every value is known; two phones with equal inputs need the
    /// same request.
    type Inputs: Clone + PartialEq + Debug + Send + Sync + 'static;

    /// The phone's id.
    fn phone_id(&self) -> &Maybe<PhoneId>;

    /// Its inputs; `None` while some are unknown.
    fn inputs(&self) -> Option<Self::Inputs>;

    /// The element of `phone_id` with nothing else set (what an import starts from).
    fn bare(phone_id: PhoneId) -> Self;

    /// The inputs of a phone named in `phone_ids` (its id alone), where the resource has that list.
    fn id_only() -> Option<Self::Inputs> {
        None
    }
}

/// A phone with nothing but its id (an operation with no per-phone inputs).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub(crate) struct BarePhone {
    #[serde(default)]
    pub(crate) phone_id: Maybe<PhoneId>,
}

impl PhoneModel for BarePhone {
    type Inputs = ();

    fn phone_id(&self) -> &Maybe<PhoneId> {
        &self.phone_id
    }

    fn inputs(&self) -> Option<()> {
        Some(())
    }

    fn bare(phone_id: PhoneId) -> Self {
        BarePhone {
            phone_id: Maybe::Known(phone_id),
        }
    }

    fn id_only() -> Option<()> {
        Some(())
    }
}

/// The known values of a string map, `None` while any is unknown (null is an empty map).
pub(crate) fn known_strings(map: &Maybe<StringMap>) -> Option<BTreeMap<String, String>> {
    match map {
        Maybe::Unknown => None,
        Maybe::Null => Some(BTreeMap::new()),
        Maybe::Known(entries) => entries
            .iter()
            .map(|(k, v)| Some((k.clone(), v.known()?.clone())))
            .collect(),
    }
}

/// Decodes a value Terraform sent (`what`: "the plan", "the configuration") into a model; a failure
/// is an error diagnostic at the attribute that did not decode.
pub(crate) fn decode<M: DeserializeOwned>(value: &Value, what: &str) -> Result<M, Diagnostic> {
    tfplugin::from_value(value).map_err(|e| {
        let attribute = match &e {
            tfplugin::Error::Model { path, .. } | tfplugin::Error::Unknown(path) => {
                Some(path.clone()).filter(|p| !p.is_empty())
            }
            _ => None,
        };
        let diag = Diagnostic::error("Invalid Value", format!("{what}: {e}"));
        match attribute {
            Some(path) => diag.with_attribute(path),
            None => diag,
        }
    })
}

/// Decodes a stored state into a model; a failure names the attribute and says what to do (state is
/// written by this provider, so a value it cannot read was edited by hand or by another tool).
pub(crate) fn decode_state<M: DeserializeOwned>(value: &Value) -> Result<M, Diagnostic> {
    tfplugin::from_value(value).map_err(|e| {
        Diagnostic::error(
            "Unreadable State",
            format!(
                "the resource's state holds a value this provider cannot read ({e}). State is written by the \
                 provider; a value it cannot read was edited by hand or by another tool. Restore it from a backup \
                 (`terraform.tfstate.backup`), or remove the resource from state (`terraform state rm`) and import it \
                 again where the resource supports import."
            ),
        )
    })
}

/// Encodes a model with a schema's value type; a failure is a provider bug, said as such.
pub(crate) fn encode<M: Serialize>(model: &M, ty: &tfplugin::Type) -> Result<Value, Diagnostic> {
    tfplugin::to_value(model, ty).map_err(|e| {
        Diagnostic::error(
            "Provider Error",
            format!(
                "the provider could not encode its state ({e}); this is a bug, please report it"
            ),
        )
    })
}

/// The path of a top-level attribute.
pub(crate) fn path(name: &str) -> AttributePath {
    AttributePath::root(name)
}
