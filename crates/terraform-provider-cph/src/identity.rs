//! The identity of the resources that keep a declared state, `cph_phone_property` and
//! `cph_phone_power` (Terraform 1.12+): the ids of their phones, `phone_ids`. Terraform keeps it
//! beside the state (the provider derives it from the state on every read, plan, apply and import,
//! so state written by earlier versions gains it on the next refresh), `import { identity = {...} }`
//! imports by it as the comma-separated import id does, and the list resources answer with it.

use cph_types::PhoneId;
use serde::{Deserialize, Serialize};
use tfplugin::{
    Diagnostic, Diagnostics, IdentityAttribute, IdentitySchema, ImportResponse, Type, Value,
};

use crate::engine::Operation;
use crate::model::{self, OperationModel};

/// The one identity attribute.
const PHONE_IDS: &str = "phone_ids";

/// The identity as Terraform holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PhonesIdentity {
    pub(crate) phone_ids: Vec<PhoneId>,
}

/// The identity schema (version 0).
pub(crate) fn schema() -> IdentitySchema {
    IdentitySchema {
        version: 0,
        attributes: vec![IdentityAttribute {
            name: PHONE_IDS.to_owned(),
            ty: Type::list(Type::String),
            required_for_import: true,
            description:
                "The ids of the phones the resource manages, in the order of its configuration."
                    .to_owned(),
        }],
    }
}

impl PhonesIdentity {
    /// The identity as a value of the schema's type.
    pub(crate) fn to_value(&self) -> Option<Value> {
        model::encode(self, &schema().value_type()).ok()
    }

    /// The identity of the object `state` holds (`None` while its phones are not known).
    pub(crate) fn of_state<O: Operation>(state: &Value) -> Option<Value> {
        let model: OperationModel<O::Phone> = model::decode(state, "the state").ok()?;
        let phone_ids = O::desired(&model)?.into_iter().map(|(id, _)| id).collect();
        PhonesIdentity { phone_ids }.to_value()
    }

    /// The import id an identity stands for: its phone ids, comma-separated.
    pub(crate) fn import_id(identity: &Value) -> Result<String, Diagnostics> {
        let identity: PhonesIdentity = model::decode(identity, "the identity")?;
        if identity.phone_ids.is_empty() {
            return Err(Diagnostic::error(
                "Invalid Identity",
                "`phone_ids` must name at least one phone to import.",
            )
            .with_attribute(model::path(PHONE_IDS))
            .into());
        }
        Ok(identity
            .phone_ids
            .iter()
            .map(PhoneId::as_str)
            .collect::<Vec<_>>()
            .join(","))
    }

    /// Imports by identity through the resource's import by id: the identity's phone ids as the
    /// comma-separated id, or the identity's own diagnostics when it names no phone or a bad one.
    pub(crate) async fn import<F, Fut>(identity: &Value, import_by_id: F) -> ImportResponse
    where
        F: FnOnce(String) -> Fut,
        Fut: Future<Output = ImportResponse>,
    {
        match Self::import_id(identity) {
            Ok(id) => import_by_id(id).await,
            Err(diagnostics) => ImportResponse {
                diagnostics,
                ..ImportResponse::default()
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::phone_property::PhoneProperty;

    #[test]
    fn an_identity_is_the_phone_ids_and_imports_as_the_comma_separated_id() {
        let identity = PhonesIdentity {
            phone_ids: vec![PhoneId::new("p1").unwrap(), PhoneId::new("p2").unwrap()],
        }
        .to_value()
        .unwrap();
        assert_eq!(PhonesIdentity::import_id(&identity).unwrap(), "p1,p2");
        let none = PhonesIdentity { phone_ids: vec![] }.to_value().unwrap();
        let diags = PhonesIdentity::import_id(&none).unwrap_err();
        assert!(diags.has_errors());
        let bad = Value::object([(PHONE_IDS, Value::List(vec![Value::from("not a phone id!")]))]);
        assert!(PhonesIdentity::import_id(&bad).is_err());
        // Unknown phones: no identity yet.
        let state = Value::object([("phones", Value::Unknown)]);
        assert_eq!(PhonesIdentity::of_state::<PhoneProperty>(&state), None);
    }
}
