//! `cph_phone_restart`: restarts phones (or powers on stopped ones) with batch-restart.

use cph_types::{ImageId, PhoneId, PropertyMap, RestartPhone, RestartRequest};
use tfplugin::{Attribute, AttributePath, Diagnostic, Presence, Value};

use super::action::Action;
use crate::attributes::{self, properties_known, property_map};
use crate::converge::Operation;
use crate::phones::PhoneInputs;

/// The restart action.
pub(crate) struct PhoneRestart;

/// What a phone of a restart carries: the properties to set on the way (none by default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RestartInputs {
    pub(crate) properties: PropertyMap,
}

impl PhoneInputs for RestartInputs {
    fn read(element: &Value) -> Option<Self> {
        let properties = element.get("properties");
        properties_known(properties).then(|| RestartInputs {
            properties: property_map(properties),
        })
    }

    fn id_only() -> Self {
        RestartInputs {
            properties: PropertyMap::new(),
        }
    }
}

/// The resource's `image_id`, checked when the configuration was validated.
pub(crate) fn image_id(resource: &Value) -> Result<Option<ImageId>, Diagnostic> {
    match resource.get("image_id").and_then(Value::as_str) {
        None => Ok(None),
        Some(id) => ImageId::new(id).map(Some).map_err(|e| {
            Diagnostic::error("Invalid Image Id", e.to_string())
                .with_attribute(AttributePath::root("image_id"))
        }),
    }
}

impl Operation for PhoneRestart {
    type Inputs = RestartInputs;
    type Request = RestartRequest;
    const TYPE_NAME: &'static str = "cph_phone_restart";
    const VERB: &'static str = "restart";
    const DONE: &'static str = "restarted";

    fn request(
        resource: &Value,
        phones: Vec<(PhoneId, &RestartInputs)>,
    ) -> Result<RestartRequest, Diagnostic> {
        let phones = phones.into_iter().map(|(phone_id, inputs)| RestartPhone {
            phone_id,
            property: (!inputs.properties.is_empty()).then(|| inputs.properties.to_api_string()),
        });
        Ok(RestartRequest::new(phones).with_image(image_id(resource)?))
    }
}

impl Action for PhoneRestart {
    const PHONE_IDS: bool = true;

    fn description() -> &'static str {
        "Restarts cloud phones (a stopped phone is powered on), optionally switching image and setting properties, \
         waits on every job and records each phone's result. A later apply acts only on the phones that need it: \
         new ones, ones whose properties changed, ones whose last restart did not succeed. Destroying it calls \
         nothing."
    }

    fn phones_description() -> &'static str {
        "The phones to restart, with per-phone settings"
    }

    fn phone_attributes() -> Vec<Attribute> {
        vec![attributes::properties(
            Presence::Optional,
            "Properties to set during the restart.",
        )]
    }

    fn extra_attributes() -> Vec<Attribute> {
        vec![attributes::image_id("restarting")]
    }
}
