//! `cph_phone_reset`: resets phones (optionally to factory state) with batch-reset.

use cph_types::{PhoneId, PropertyMap, ResetPhone, ResetRequest};
use tfplugin::{Attribute, Diagnostic, Presence, Type, Value};

use super::action::Action;
use super::phone_restart::image_id;
use crate::attributes::{self, properties_known, property_map};
use crate::converge::Operation;
use crate::phones::PhoneInputs;

/// The reset action.
pub(crate) struct PhoneReset;

/// What a phone of a reset carries: properties to set, and whether to reset to factory state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResetInputs {
    pub(crate) properties: PropertyMap,
    pub(crate) factory_reset: bool,
}

impl PhoneInputs for ResetInputs {
    fn read(element: &Value) -> Option<Self> {
        let properties = element.get("properties");
        let factory_reset = match element.get("factory_reset") {
            Some(Value::Unknown) => return None,
            Some(v) => v.as_bool().unwrap_or(false),
            None => false,
        };
        properties_known(properties).then(|| ResetInputs {
            properties: property_map(properties),
            factory_reset,
        })
    }

    fn id_only() -> Self {
        ResetInputs {
            properties: PropertyMap::new(),
            factory_reset: false,
        }
    }
}

impl Operation for PhoneReset {
    type Inputs = ResetInputs;
    type Request = ResetRequest;
    const TYPE_NAME: &'static str = "cph_phone_reset";
    const VERB: &'static str = "reset";
    const DONE: &'static str = "reset";

    fn request(
        resource: &Value,
        phones: Vec<(PhoneId, &ResetInputs)>,
    ) -> Result<ResetRequest, Diagnostic> {
        let phones = phones.into_iter().map(|(phone_id, inputs)| ResetPhone {
            phone_id,
            property: (!inputs.properties.is_empty()).then(|| inputs.properties.to_api_string()),
            factory_reset_enabled: inputs.factory_reset.then_some(true),
        });
        Ok(ResetRequest::new(phones).with_image(image_id(resource)?))
    }
}

impl Action for PhoneReset {
    const PHONE_IDS: bool = true;

    fn description() -> &'static str {
        "Resets cloud phones, optionally to factory state (which also wipes every property set earlier), switching \
         image and setting properties, waits on every job and records each phone's result. A later apply resets \
         only the phones that need it: new ones, ones whose settings changed, ones whose last reset did not \
         succeed; phones already reset are never reset again unless `triggers` or `image_id` change. Destroying it \
         calls nothing."
    }

    fn phones_description() -> &'static str {
        "The phones to reset, with per-phone settings"
    }

    fn phone_attributes() -> Vec<Attribute> {
        vec![
            attributes::properties(Presence::Optional, "Properties to set during the reset."),
            Attribute::optional("factory_reset", Type::Bool).description(
                "Reset to factory state (the API's `factory_reset_enabled`); unset means false.",
            ),
        ]
    }

    fn extra_attributes() -> Vec<Attribute> {
        vec![attributes::image_id("resetting")]
    }
}
