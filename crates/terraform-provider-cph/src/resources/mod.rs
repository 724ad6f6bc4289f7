//! The provider's resources, and the attribute and configuration helpers they share.

pub(crate) mod phone_property;
pub(crate) mod phone_reset;
pub(crate) mod phone_restart;
pub(crate) mod phone_restore;

use cph_types::{ImageId, PhoneId, PropertyMap, PropertyString};
use tfplugin::{Attribute, AttributePath, Diagnostic, Type, Value};

/// `phones[*].phone_id`.
pub(crate) fn phone_id_attribute() -> Attribute {
    Attribute::required("phone_id", Type::String)
        .description("The phone's id (at most 32 characters of letters, digits, `-` and `_`).")
}

/// `phones[*].properties`, checked against the property catalogue at validate time.
pub(crate) fn properties_attribute(
    presence: fn(String, Type) -> Attribute,
    what: &str,
) -> Attribute {
    presence("properties".to_string(), Type::map(Type::String)).description(format!(
        "{what} Values are checked against the property catalogue when the configuration is validated: a bad value \
         for a known key is an error, an unknown key a warning."
    ))
}

/// `image_id`.
pub(crate) fn image_id_attribute(while_doing: &str) -> Attribute {
    Attribute::optional("image_id", Type::String)
        .requires_replace()
        .description(format!(
            "Switch the phones to this image while {while_doing}."
        ))
}

/// One element of a configuration's `phones` list, or one id of its `phone_ids` list (a phone with
/// nothing but its id set).
pub(crate) struct PhoneConfig<'a> {
    index: usize,
    value: &'a Value,
    id_only: bool,
}

impl PhoneConfig<'_> {
    /// The path of one of the phone's attributes, for diagnostics.
    pub(crate) fn path(&self, attr: &str) -> AttributePath {
        if self.id_only {
            AttributePath::root("phone_ids").index(self.index)
        } else {
            AttributePath::root("phones").index(self.index).attr(attr)
        }
    }

    /// One of the phone's attributes, `None` when it is not set.
    fn get(&self, attr: &str) -> Option<&Value> {
        if self.id_only {
            (attr == "phone_id").then_some(self.value)
        } else {
            self.value.get(attr)
        }
    }

    /// A string attribute of the phone, which must be known at apply time.
    pub(crate) fn string(&self, attr: &str) -> Result<&str, Diagnostic> {
        self.get(attr).and_then(Value::as_str).ok_or_else(|| {
            Diagnostic::error(
                "Missing Value",
                format!("`{attr}` has no known value at apply time"),
            )
            .with_attribute(self.path(attr))
        })
    }

    /// The phone's validated id.
    pub(crate) fn phone_id(&self) -> Result<PhoneId, Diagnostic> {
        PhoneId::new(self.string("phone_id")?).map_err(|e| {
            Diagnostic::error("Invalid Phone Id", e.to_string())
                .with_attribute(self.path("phone_id"))
        })
    }

    /// The phone's `properties` map (empty when unset).
    pub(crate) fn properties(&self) -> PropertyMap {
        let mut map = PropertyMap::new();
        if let Some(Value::Map(entries)) = self.get("properties") {
            for (k, v) in entries {
                if let Some(v) = v.as_str() {
                    map.insert(k.clone(), v);
                }
            }
        }
        map
    }

    /// An optional boolean attribute of the phone.
    pub(crate) fn flag(&self, attr: &str) -> Option<bool> {
        self.get(attr).and_then(Value::as_bool)
    }
}

/// The phones of a configuration: its `phones` list, or its `phone_ids` list when that is set.
pub(crate) fn phone_list(config: &Value) -> Result<Vec<PhoneConfig<'_>>, Diagnostic> {
    let ids = config.get("phone_ids").filter(|v| !v.is_null());
    let name = if ids.is_some() { "phone_ids" } else { "phones" };
    let elements = ids
        .or_else(|| config.get("phones"))
        .and_then(Value::as_elements)
        .ok_or_else(|| {
            Diagnostic::error(
                "Missing Phones",
                format!("`{name}` has no known value at apply time"),
            )
            .with_attribute(AttributePath::root(name))
        })?;
    Ok(elements
        .iter()
        .enumerate()
        .map(|(index, value)| PhoneConfig {
            index,
            value,
            id_only: ids.is_some(),
        })
        .collect())
}

/// The API's property string of a phone, `None` when it sets no property.
pub(crate) fn property_string(
    phone: &PhoneConfig<'_>,
) -> Result<Option<PropertyString>, Diagnostic> {
    let map = phone.properties();
    if map.is_empty() {
        return Ok(None);
    }
    let rendered = map.to_api_string();
    let phone_id = phone.string("phone_id")?;
    cph_types::check_property_size(phone_id, Some(&rendered), None).map_err(|e| {
        Diagnostic::error("Properties Too Large", e.to_string())
            .with_attribute(phone.path("properties"))
    })?;
    Ok(Some(rendered))
}

/// The configuration's optional `image_id`.
pub(crate) fn optional_image_id(config: &Value) -> Result<Option<ImageId>, Diagnostic> {
    match config.get("image_id").and_then(Value::as_str) {
        None => Ok(None),
        Some(id) => ImageId::new(id).map(Some).map_err(|e| {
            Diagnostic::error("Invalid Image Id", e.to_string())
                .with_attribute(AttributePath::root("image_id"))
        }),
    }
}
