//! `cph_phone_restart`: restarts phones (or powers on stopped ones) with batch-restart.

use cph_types::{PhoneId, RestartPhone, RestartRequest};
use tfplugin::{Attribute, Diagnostic, Diagnostics, Value};

use super::{
    image_id_attribute, optional_image_id, phone_id_attribute, phone_list, properties_attribute,
    property_string,
};
use crate::action::Action;
use crate::batch::Operation;
use crate::validate::{self, PhoneFields};

/// The restart action.
pub(crate) struct PhoneRestart;

impl Action for PhoneRestart {
    const TYPE_NAME: &'static str = "cph_phone_restart";
    const PHONE_IDS: bool = true;
    const VERB: &'static str = "restart";

    fn description() -> &'static str {
        "Restarts a batch of cloud phones (a stopped phone is powered on), optionally switching image and setting \
         properties, waits on every job and records each phone's result. Destroying it calls nothing."
    }

    fn phone_attributes() -> Vec<Attribute> {
        vec![
            phone_id_attribute(),
            properties_attribute(Attribute::optional, "Properties to set during the restart."),
        ]
    }

    fn extra_attributes() -> Vec<Attribute> {
        vec![image_id_attribute("restarting")]
    }

    fn phone_fields() -> PhoneFields {
        PhoneFields {
            properties: true,
            restore_target: false,
            phone_ids: true,
        }
    }

    fn validate_extra(config: &Value, diags: &mut Diagnostics) {
        validate::image_id(config, diags);
    }

    fn operation(config: &Value) -> Result<Operation, Diagnostic> {
        let phones = phone_list(config)?
            .iter()
            .map(|p| {
                Ok(RestartPhone {
                    phone_id: p.phone_id()?,
                    property: property_string(p)?,
                })
            })
            .collect::<Result<Vec<_>, Diagnostic>>()?;
        Ok(Operation::Restart(RestartRequest {
            image_id: optional_image_id(config)?,
            phones,
        }))
    }
}

/// A restart of `phones` (restore's and property's follow-up).
pub(crate) fn restart_of(phones: Vec<PhoneId>) -> Operation {
    Operation::Restart(RestartRequest {
        image_id: None,
        phones: phones
            .into_iter()
            .map(|phone_id| RestartPhone {
                phone_id,
                property: None,
            })
            .collect(),
    })
}
