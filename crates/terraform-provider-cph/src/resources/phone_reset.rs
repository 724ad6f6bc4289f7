//! `cph_phone_reset`: resets phones (optionally to factory state) with batch-reset.

use cph_types::{PhoneId, PropertyMap, ResetPhone, ResetRequest};
use serde::{Deserialize, Serialize};
use tfplugin::{Attribute, Diagnostic, Maybe, Presence, Type};

use super::phone_restart::{property_map, property_string};
use super::{Kind, PhoneList};
use crate::attributes::{self, Surface};
use crate::engine::Operation;
use crate::model::{OperationModel, PhoneModel, StringMap, known_strings, names};

/// The reset operation.
pub(crate) struct PhoneReset;

/// A phone of a reset: properties to set, and whether to reset to factory state.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub(crate) struct ResetPhoneModel {
    #[serde(default)]
    pub(crate) phone_id: Maybe<PhoneId>,
    #[serde(default)]
    pub(crate) properties: Maybe<StringMap>,
    #[serde(default)]
    pub(crate) factory_reset: Maybe<bool>,
}

/// What a phone of a reset asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ResetInputs {
    pub(crate) properties: PropertyMap,
    pub(crate) factory_reset: bool,
}

impl PhoneModel for ResetPhoneModel {
    type Inputs = ResetInputs;

    fn phone_id(&self) -> &Maybe<PhoneId> {
        &self.phone_id
    }

    fn inputs(&self) -> Option<ResetInputs> {
        Some(ResetInputs {
            properties: property_map(known_strings(&self.properties)?),
            factory_reset: self.factory_reset.or_when_null(false)?,
        })
    }

    fn bare(phone_id: PhoneId) -> Self {
        ResetPhoneModel {
            phone_id: Maybe::Known(phone_id),
            ..ResetPhoneModel::default()
        }
    }

    fn id_only() -> Option<ResetInputs> {
        Some(ResetInputs::default())
    }
}

impl Operation for PhoneReset {
    type Phone = ResetPhoneModel;
    type Request = ResetRequest;
    const TYPE_NAME: &'static str = "cph_phone_reset";
    const VERB: &'static str = "reset";
    const DONE: &'static str = "reset";

    fn request(
        model: &OperationModel<ResetPhoneModel>,
        phones: Vec<(PhoneId, &ResetInputs)>,
    ) -> Result<ResetRequest, Diagnostic> {
        Ok(
            ResetRequest::new(phones.into_iter().map(|(phone_id, inputs)| ResetPhone {
                phone_id,
                property: property_string(&inputs.properties),
                factory_reset_enabled: inputs.factory_reset.then_some(true),
            }))
            .with_image(model.image_id.known().cloned()),
        )
    }
}

impl Kind for PhoneReset {
    fn description() -> &'static str {
        "Resets cloud phones, optionally to factory state (which also wipes every property set earlier), switching \
         image and setting properties, waits on every job and records each phone's result. A later apply resets \
         only the phones that need it: new ones, ones whose settings changed, ones whose last reset did not \
         succeed; phones already reset are never reset again unless `triggers` or `image_id` change. Destroying it \
         calls nothing."
    }

    fn phone_list() -> PhoneList {
        PhoneList::Phones {
            what: "The phones to reset, with per-phone settings",
            attributes: vec![
                attributes::properties(Presence::Optional, "Properties to set during the reset."),
                Attribute::optional(names::FACTORY_RESET, Type::Bool).description(
                    "Reset to factory state (the API's `factory_reset_enabled`); unset means false.",
                ),
            ],
            ids_too: true,
        }
    }

    fn extra_attributes(surface: Surface) -> Vec<Attribute> {
        vec![attributes::image_id("resetting", surface)]
    }
}
