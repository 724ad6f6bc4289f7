//! `cph_phone_reset`: resets phones (optionally to factory state) with batch-reset.

use cph_types::{ResetPhone, ResetRequest};
use tfplugin::{Attribute, Diagnostic, Diagnostics, Type, Value};

use super::{
    image_id_attribute, optional_image_id, phone_id_attribute, phone_list, properties_attribute,
    property_string,
};
use crate::action::Action;
use crate::batch::Operation;
use crate::validate::{self, PhoneFields};

/// The reset action.
pub(crate) struct PhoneReset;

impl Action for PhoneReset {
    const TYPE_NAME: &'static str = "cph_phone_reset";
    const PHONE_IDS: bool = true;
    const VERB: &'static str = "reset";

    fn description() -> &'static str {
        "Resets a batch of cloud phones, optionally to factory state (which also wipes every property set earlier), \
         switching image and setting properties, waits on every job and records each phone's result. Destroying it \
         calls nothing."
    }

    fn phone_attributes() -> Vec<Attribute> {
        vec![
            phone_id_attribute(),
            properties_attribute(Attribute::optional, "Properties to set during the reset."),
            Attribute::optional("factory_reset", Type::Bool).description(
                "Reset to factory state (the API's `factory_reset_enabled`). Default false.",
            ),
        ]
    }

    fn extra_attributes() -> Vec<Attribute> {
        vec![image_id_attribute("resetting")]
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
                Ok(ResetPhone {
                    phone_id: p.phone_id()?,
                    property: property_string(p)?,
                    factory_reset_enabled: p.flag("factory_reset"),
                })
            })
            .collect::<Result<Vec<_>, Diagnostic>>()?;
        Ok(Operation::Reset(ResetRequest {
            image_id: optional_image_id(config)?,
            phones,
        }))
    }
}
