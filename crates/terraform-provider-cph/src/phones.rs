//! The one reader of a resource's phones (`phones`, or `phone_ids` where the resource accepts it),
//! used alike on configurations at validate time, on plans at plan and apply time and on state: it
//! yields each phone's id and typed per-phone inputs, with unknown values explicit, and reports the
//! rules that concern the list as a whole (at least one phone, each at most once).

use std::collections::HashMap;
use std::fmt;

use tfplugin::{AttributePath, Diagnostic, Diagnostics, Value};

/// What one phone of an operation carries besides its id (its properties, its backup, ...); two
/// phones with equal inputs need the same request.
pub(crate) trait PhoneInputs:
    Clone + PartialEq + fmt::Debug + Send + Sync + 'static
{
    /// The inputs of one `phones` element; `None` while any of them is unknown.
    fn read(element: &Value) -> Option<Self>;

    /// The inputs of a phone named in `phone_ids` (nothing but its id).
    fn id_only() -> Self;

    /// Whether a phone that was last given `prior` already has what `self` asks for, so that it
    /// needs nothing (equality, unless the inputs describe state only partly managed).
    fn met_by(&self, prior: &Self) -> bool {
        self == prior
    }
}

/// One phone of the list.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Phone<I> {
    /// Where it is written: `phones[3]` or `phone_ids[3]`.
    pub(crate) path: AttributePath,
    /// Its id; `None` while unknown.
    pub(crate) id: Option<String>,
    /// Its inputs; `None` while some are unknown.
    pub(crate) inputs: Option<I>,
}

/// The phones of a resource value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PhoneList<I> {
    /// The list itself is not known yet.
    Unknown,
    /// The phones, in the order written.
    Known(Vec<Phone<I>>),
}

impl<I> PhoneList<I> {
    /// `(id, inputs)` of every phone when every id is known: what the planner works on.
    pub(crate) fn with_known_ids(&self) -> Option<Vec<(&str, Option<&I>)>> {
        match self {
            PhoneList::Unknown => None,
            PhoneList::Known(phones) => phones
                .iter()
                .map(|p| Some((p.id.as_deref()?, p.inputs.as_ref())))
                .collect(),
        }
    }

    /// The phones with known ids and inputs, by id (a prior state's, which is always known).
    pub(crate) fn by_id(&self) -> HashMap<&str, &I> {
        match self {
            PhoneList::Unknown => HashMap::new(),
            PhoneList::Known(phones) => phones
                .iter()
                .filter_map(|p| Some((p.id.as_deref()?, p.inputs.as_ref()?)))
                .collect(),
        }
    }
}

/// Reads the phones of `resource` (a configuration, plan or state object). `phone_ids` wins when
/// set (the schema requires exactly one of the two). List-wide problems go to `diags`, each at its
/// element's path: an empty list, a null id, a phone listed twice.
pub(crate) fn read_phones<I: PhoneInputs>(
    resource: &Value,
    diags: &mut Diagnostics,
) -> PhoneList<I> {
    let ids = resource.get("phone_ids").filter(|v| !v.is_null());
    let (name, list) = match ids {
        Some(ids) => ("phone_ids", ids),
        None => ("phones", resource.get("phones").unwrap_or(&Value::Null)),
    };
    let root = AttributePath::root(name);
    let elements = match list {
        Value::Unknown => return PhoneList::Unknown,
        Value::Null => return PhoneList::Known(Vec::new()),
        other => other.as_elements().unwrap_or_default(),
    };
    if elements.is_empty() {
        diags.push(at(
            Diagnostic::error(
                "No Phones",
                format!("`{name}` must list at least one phone to act on."),
            ),
            root.clone(),
        ));
    }
    let mut first_index: HashMap<&str, usize> = HashMap::with_capacity(elements.len());
    let mut phones = Vec::with_capacity(elements.len());
    for (i, element) in elements.iter().enumerate() {
        let path = root.clone().index(i);
        let (id_value, inputs) = if ids.is_some() {
            (element, Some(I::id_only()))
        } else {
            (
                element.get("phone_id").unwrap_or(&Value::Null),
                I::read(element),
            )
        };
        let id = match id_value {
            Value::String(id) => Some(id.as_str()),
            Value::Null if element.is_null() || ids.is_some() => {
                diags.push(at(
                    Diagnostic::error("Missing Phone Id", "a phone id must not be null."),
                    path.clone(),
                ));
                None
            }
            _ => None,
        };
        if let Some(id) = id {
            if let Some(first) = first_index.get(id) {
                diags.push(at(
                    Diagnostic::error(
                        "Duplicate Phone Id",
                        format!(
                            "phone {id} is listed twice, at {name}[{first}] and {name}[{i}]; each phone may appear \
                             once per resource, so that it is submitted once."
                        ),
                    ),
                    if ids.is_some() {
                        path.clone()
                    } else {
                        path.clone().attr("phone_id")
                    },
                ));
            } else {
                first_index.insert(id, i);
            }
        }
        phones.push(Phone {
            path,
            id: id.map(str::to_owned),
            inputs,
        });
    }
    PhoneList::Known(phones)
}

/// Points `diag` at `path` and names the path in the detail (Terraform 1.0 shows diagnostics about
/// nested attributes at the resource's first line).
pub(crate) fn at(diag: Diagnostic, path: AttributePath) -> Diagnostic {
    let detail = format!("{path}: {}", diag.detail);
    Diagnostic { detail, ..diag }.with_attribute(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inputs of a test operation: an optional `note`.
    #[derive(Debug, Clone, PartialEq)]
    struct Note(Option<String>);

    impl PhoneInputs for Note {
        fn read(element: &Value) -> Option<Self> {
            match element.get("note") {
                Some(Value::Unknown) => None,
                Some(Value::String(s)) => Some(Note(Some(s.clone()))),
                _ => Some(Note(None)),
            }
        }
        fn id_only() -> Self {
            Note(None)
        }
    }

    const A: &str = "0123456789abcdef0123456789abcdef";
    const B: &str = "fedcba9876543210fedcba9876543210";

    fn phone(id: Value, note: Value) -> Value {
        Value::object([("phone_id", id), ("note", note)])
    }

    fn read(resource: &Value) -> (PhoneList<Note>, Vec<String>) {
        let mut diags = Diagnostics::new();
        let list = read_phones(resource, &mut diags);
        let paths = diags
            .iter()
            .map(|d| d.attribute.as_ref().unwrap().to_string())
            .collect();
        (list, paths)
    }

    #[test]
    fn phones_give_ids_and_inputs_with_unknowns_explicit() {
        let resource = Value::object([
            (
                "phones",
                Value::List(vec![
                    phone(Value::from(A), Value::from("x")),
                    phone(Value::Unknown, Value::Null),
                    phone(Value::from(B), Value::Unknown),
                ]),
            ),
            ("phone_ids", Value::Null),
        ]);
        let (list, problems) = read(&resource);
        assert!(problems.is_empty(), "{problems:?}");
        let PhoneList::Known(phones) = &list else {
            panic!("{list:?}")
        };
        assert_eq!(phones[0].id.as_deref(), Some(A));
        assert_eq!(phones[0].inputs, Some(Note(Some("x".into()))));
        assert_eq!(phones[1].id, None);
        assert_eq!(phones[2].inputs, None);
        assert_eq!(phones[2].path.to_string(), "phones[2]");
        assert_eq!(list.with_known_ids(), None, "one id is unknown");
        assert_eq!(list.by_id().len(), 1);
    }

    #[test]
    fn phone_ids_are_phones_with_nothing_but_an_id() {
        let resource = Value::object([
            ("phones", Value::Null),
            (
                "phone_ids",
                Value::List(vec![Value::from(A), Value::from(B)]),
            ),
        ]);
        let (list, problems) = read(&resource);
        assert!(problems.is_empty());
        assert_eq!(
            list.with_known_ids(),
            Some(vec![(A, Some(&Note(None))), (B, Some(&Note(None)))])
        );
        let unknown = Value::object([("phones", Value::Null), ("phone_ids", Value::Unknown)]);
        assert_eq!(read(&unknown).0, PhoneList::Unknown);
    }

    #[test]
    fn duplicates_null_ids_and_empty_lists_point_at_their_elements() {
        let ids = Value::object([
            ("phones", Value::Null),
            (
                "phone_ids",
                Value::List(vec![
                    Value::from(A),
                    Value::Null,
                    Value::Unknown,
                    Value::from(A),
                ]),
            ),
        ]);
        let mut diags = Diagnostics::new();
        let _: PhoneList<Note> = read_phones(&ids, &mut diags);
        let found: Vec<(String, String)> = diags
            .iter()
            .map(|d| (d.summary.clone(), d.attribute.as_ref().unwrap().to_string()))
            .collect();
        assert_eq!(
            found,
            vec![
                ("Missing Phone Id".to_string(), "phone_ids[1]".to_string()),
                ("Duplicate Phone Id".to_string(), "phone_ids[3]".to_string()),
            ]
        );
        let dup = diags.iter().nth(1).unwrap();
        assert!(
            dup.detail.contains("phone_ids[0] and phone_ids[3]"),
            "{}",
            dup.detail
        );
        assert!(dup.detail.starts_with("phone_ids[3]: "), "{}", dup.detail);

        let phones = Value::object([
            (
                "phones",
                Value::List(vec![
                    phone(Value::from(B), Value::Null),
                    phone(Value::from(B), Value::Null),
                ]),
            ),
            ("phone_ids", Value::Null),
        ]);
        assert_eq!(read(&phones).1, vec!["phones[1].phone_id"]);
        let empty = Value::object([("phones", Value::List(vec![])), ("phone_ids", Value::Null)]);
        assert_eq!(read(&empty).1, vec!["phones"]);
    }

    #[test]
    fn ten_thousand_phones_are_read_in_the_order_written() {
        let ids: Vec<String> = (0..10_000).rev().map(|i| format!("{i:032x}")).collect();
        let resource = Value::object([
            ("phones", Value::Null),
            (
                "phone_ids",
                Value::List(ids.iter().cloned().map(Value::from).collect()),
            ),
        ]);
        let (list, problems) = read(&resource);
        assert!(problems.is_empty());
        let read: Vec<&str> = list
            .with_known_ids()
            .unwrap()
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        assert_eq!(read, ids);
    }
}
