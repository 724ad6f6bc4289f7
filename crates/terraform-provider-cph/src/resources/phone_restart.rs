//! `cph_phone_restart`: restarts phones (or powers on stopped ones) with batch-restart.

use std::collections::BTreeMap;

use cph_types::{PhoneId, PropertyMap, RestartPhone, RestartRequest};
use serde::{Deserialize, Serialize};
use tfplugin::{Attribute, Diagnostic, Maybe, Presence};

use super::{Kind, PhoneList};
use crate::attributes::{self, Surface};
use crate::engine::Operation;
use crate::model::{OperationModel, PhoneModel, StringMap, known_strings};

/// The restart operation.
pub(crate) struct PhoneRestart;

/// A phone and properties: what to set on it during a restart (none by default), or the properties
/// `cph_phone_property` keeps set.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub(crate) struct PropertiesPhone {
    #[serde(default)]
    pub(crate) phone_id: Maybe<PhoneId>,
    #[serde(default)]
    pub(crate) properties: Maybe<StringMap>,
}

impl PhoneModel for PropertiesPhone {
    type Inputs = PropertyMap;

    fn phone_id(&self) -> &Maybe<PhoneId> {
        &self.phone_id
    }

    fn inputs(&self) -> Option<PropertyMap> {
        known_strings(&self.properties).map(property_map)
    }

    fn bare(phone_id: PhoneId) -> Self {
        PropertiesPhone {
            phone_id: Maybe::Known(phone_id),
            properties: Maybe::Null,
        }
    }

    fn id_only() -> Option<PropertyMap> {
        Some(PropertyMap::new())
    }
}

/// A known string map as the API's property map.
pub(crate) fn property_map(map: BTreeMap<String, String>) -> PropertyMap {
    map.into_iter().fold(PropertyMap::new(), |mut m, (k, v)| {
        m.insert(k, v);
        m
    })
}

/// A property map as the model holds it (null when empty).
pub(crate) fn properties_model(map: &PropertyMap) -> Maybe<StringMap> {
    if map.is_empty() {
        return Maybe::Null;
    }
    Maybe::Known(
        map.iter()
            .map(|(k, v)| (k.to_owned(), Maybe::Known(v.to_owned())))
            .collect(),
    )
}

/// The API's `property` string of a phone's properties (none when there are none).
pub(crate) fn property_string(map: &PropertyMap) -> Option<cph_types::PropertyString> {
    (!map.is_empty()).then(|| map.to_api_string())
}

impl Operation for PhoneRestart {
    type Phone = PropertiesPhone;
    type Request = RestartRequest;
    const TYPE_NAME: &'static str = "cph_phone_restart";
    const VERB: &'static str = "restart";
    const DONE: &'static str = "restarted";

    fn request(
        model: &OperationModel<PropertiesPhone>,
        phones: Vec<(PhoneId, &PropertyMap)>,
    ) -> Result<RestartRequest, Diagnostic> {
        Ok(RestartRequest::new(
            phones
                .into_iter()
                .map(|(phone_id, properties)| RestartPhone {
                    phone_id,
                    property: property_string(properties),
                }),
        )
        .with_image(model.image_id.known().cloned()))
    }
}

impl Kind for PhoneRestart {
    fn description() -> &'static str {
        "Restarts cloud phones (a stopped phone is powered on), optionally switching image and setting properties, \
         waits on every job and records each phone's result. A later apply acts only on the phones that need it: \
         new ones, ones whose properties changed, ones whose last restart did not succeed. Destroying it calls \
         nothing."
    }

    fn phone_list() -> PhoneList {
        PhoneList::Phones {
            what: "The phones to restart, with per-phone settings",
            attributes: vec![attributes::properties(
                Presence::Optional,
                "Properties to set during the restart.",
            )],
            ids_too: true,
        }
    }

    fn extra_attributes(surface: Surface) -> Vec<Attribute> {
        vec![attributes::image_id("restarting", surface)]
    }
}
