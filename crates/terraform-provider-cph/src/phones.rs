//! The phones of an operation as the model holds them: `phone_ids` (ids alone) when the resource
//! has it and it is set, else `phones` (each with its inputs). The rules of the list as a whole (at
//! least one phone, each at most once, no null id) are validators of the schema
//! ([`crate::attributes`]), judged before any plan or apply; here the list is only read.

use std::collections::HashMap;

use cph_types::PhoneId;
use tfplugin::Maybe;

use crate::model::{OperationModel, PhoneModel};

/// One desired phone: its id and, once known, its inputs.
pub(crate) type Desired<I> = (PhoneId, Option<I>);

/// The phones of `model` in the order written, when the list and every id in it are known; a phone
/// whose inputs are not known yet has `None` for them. `None` while the list or an id is unknown
/// (which phones need work is then known only at apply time).
pub(crate) fn desired<P: PhoneModel>(model: &OperationModel<P>) -> Option<Vec<Desired<P::Inputs>>> {
    match &model.phone_map {
        Maybe::Known(map) => {
            return map
                .keys()
                .map(|id| Some((id.clone(), P::id_only())))
                .collect();
        }
        Maybe::Unknown => return None,
        Maybe::Null => {}
    }
    match &model.phone_ids {
        Maybe::Known(ids) => {
            return ids
                .iter()
                .filter(|id| !id.is_null())
                .map(|id| Some((id.known()?.clone(), P::id_only())))
                .collect();
        }
        Maybe::Unknown => return None,
        Maybe::Null => {}
    }
    match &model.phones {
        Maybe::Unknown => None,
        Maybe::Null => Some(Vec::new()),
        Maybe::Known(phones) => phones
            .iter()
            .filter(|p| !p.phone_id().is_null())
            .map(|p| Some((p.phone_id().known()?.clone(), p.inputs())))
            .collect(),
    }
}

/// The phones of a stored state with their inputs, by id: what the planner compares the desired
/// phones with.
pub(crate) fn recorded<P: PhoneModel>(model: &OperationModel<P>) -> HashMap<String, P::Inputs> {
    desired(model)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(id, inputs)| Some((id.into_string(), inputs?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    use super::*;

    /// A phone of a test operation: an optional `note`.
    #[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
    struct Noted {
        #[serde(default)]
        phone_id: Maybe<PhoneId>,
        #[serde(default)]
        note: Maybe<String>,
    }

    impl PhoneModel for Noted {
        type Inputs = Option<String>;
        fn phone_id(&self) -> &Maybe<PhoneId> {
            &self.phone_id
        }
        fn inputs(&self) -> Option<Option<String>> {
            self.note.clone().settled()
        }
        fn bare(phone_id: PhoneId) -> Self {
            Noted {
                phone_id: Maybe::Known(phone_id),
                note: Maybe::Null,
            }
        }
        fn id_only() -> Option<Option<String>> {
            Some(None)
        }
    }

    const A: &str = "0123456789abcdef0123456789abcdef";
    const B: &str = "fedcba9876543210fedcba9876543210";

    fn id(s: &str) -> PhoneId {
        PhoneId::new(s).unwrap()
    }

    #[test]
    fn phones_give_typed_ids_and_inputs_with_unknown_inputs_explicit() {
        let model = OperationModel {
            phones: Maybe::Known(vec![
                Noted {
                    phone_id: Maybe::Known(id(A)),
                    note: Maybe::Known("x".into()),
                },
                Noted {
                    phone_id: Maybe::Known(id(B)),
                    note: Maybe::Unknown,
                },
            ]),
            ..OperationModel::default()
        };
        assert_eq!(
            desired(&model),
            Some(vec![(id(A), Some(Some("x".into()))), (id(B), None)])
        );
        assert_eq!(recorded(&model).len(), 1);
        let unknown_id = OperationModel {
            phones: Maybe::Known(vec![Noted {
                phone_id: Maybe::Unknown,
                note: Maybe::Null,
            }]),
            ..OperationModel::default()
        };
        assert_eq!(desired(&unknown_id), None);
    }

    #[test]
    fn phone_ids_win_and_are_phones_with_nothing_but_an_id() {
        let model: OperationModel<Noted> = OperationModel {
            phone_ids: Maybe::Known(vec![Maybe::Known(id(A)), Maybe::Known(id(B))]),
            ..OperationModel::default()
        };
        assert_eq!(
            desired(&model),
            Some(vec![(id(A), Some(None)), (id(B), Some(None))])
        );
        let unknown: OperationModel<Noted> = OperationModel {
            phone_ids: Maybe::Unknown,
            phones: Maybe::Null,
            ..OperationModel::default()
        };
        assert_eq!(desired(&unknown), None);
    }

    #[test]
    fn phone_map_keys_are_phones_with_nothing_but_an_id_in_id_order() {
        let model: OperationModel<Noted> = OperationModel {
            phone_map: Maybe::Known(
                [(id(B), Maybe::Known("b".into())), (id(A), Maybe::Null)]
                    .into_iter()
                    .collect(),
            ),
            ..OperationModel::default()
        };
        assert_eq!(
            desired(&model),
            Some(vec![(id(A), Some(None)), (id(B), Some(None))])
        );
        let unknown: OperationModel<Noted> = OperationModel {
            phone_map: Maybe::Unknown,
            ..OperationModel::default()
        };
        assert_eq!(desired(&unknown), None);
    }

    #[test]
    fn ten_thousand_phones_are_read_in_the_order_written() {
        let ids: Vec<PhoneId> = (0..10_000)
            .rev()
            .map(|i| id(&format!("{i:032x}")))
            .collect();
        let model: OperationModel<Noted> = OperationModel {
            phone_ids: Maybe::Known(ids.iter().cloned().map(Maybe::Known).collect()),
            ..OperationModel::default()
        };
        let read: Vec<PhoneId> = desired(&model)
            .unwrap()
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        assert_eq!(read, ids);
    }
}
