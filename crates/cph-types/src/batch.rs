//! The one shape of every batch request body, [`Batch`]: fields shared by all its phones (such as
//! `image_id`) beside one list of per-phone entries, whose type ([`BatchEntry`]) names the
//! operation, the list's key on the wire and its own checks. Its wire form, JSON Schema, chunking
//! and checks are written here once, for the six operations of `requests.rs`.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::num::NonZeroUsize;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, DeserializeOwned, IgnoredAny, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Error;
use crate::ids::{ImageId, PhoneId};
use crate::requests::BatchOperation;

/// One phone's entry in a batch request: the type says which operation it belongs to, under
/// which key the body lists it, and what it checks beyond its types.
pub trait BatchEntry:
    Clone + fmt::Debug + PartialEq + Eq + Serialize + DeserializeOwned + JsonSchema
{
    /// The fields the body shares among all its phones: `()` for none, or [`ImageChoice`].
    type Shared: SharedFields;

    /// The operation whose body lists this entry.
    const OPERATION: BatchOperation;

    /// The key of the list of entries in the body, e.g. `phones` or `restore_infos`.
    const KEY: &'static str;

    /// The key of the phone id inside an entry on the wire: `phone_id`, or `None` for an entry
    /// that is the bare id (StopCloudPhone's `phone_ids`).
    const PHONE_ID_KEY: Option<&'static str> = Some("phone_id");

    /// The body's name and descriptions, for its JSON Schema and for decoding errors.
    const DOCS: RequestDocs;

    /// The phone this entry is for.
    fn phone_id(&self) -> &PhoneId;

    /// Adds to `problems` what the types alone cannot check (e.g. the size of `property` plus
    /// `custom_property`). Nothing by default.
    fn check(&self, problems: &mut Vec<Error>) {
        let _ = problems;
    }
}

/// How a batch request body describes itself in its JSON Schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestDocs {
    /// The schema's title and the name decoding errors use, e.g. `RestartRequest`.
    pub name: &'static str,
    /// What the body is, e.g. ``Body of RestartCloudPhone (`phones/batch-restart`).``
    pub description: &'static str,
    /// What its list of entries holds, e.g. `The phones to restart.`
    pub entries: &'static str,
}

/// The request-wide fields of a batch body, written beside its list of entries: none (`()`) or
/// [`ImageChoice`]. Absent fields decode to their default.
pub trait SharedFields: Clone + fmt::Debug + Default + PartialEq + Eq {
    /// The fields' keys on the wire.
    const FIELDS: &'static [&'static str];

    /// Writes the fields that are set into the body being serialised.
    fn serialize_fields<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error>;

    /// Reads the value of `field` (one of [`Self::FIELDS`], met once) from the body being decoded.
    fn deserialize_field<'de, A: MapAccess<'de>>(
        &mut self,
        field: &'static str,
        map: &mut A,
    ) -> Result<(), A::Error>;

    /// The fields' JSON Schemas, by key in wire order, for the body of `operation`.
    fn schema_properties(
        generator: &mut SchemaGenerator,
        operation: BatchOperation,
    ) -> Vec<(&'static str, Schema)>;
}

impl SharedFields for () {
    const FIELDS: &'static [&'static str] = &[];

    fn serialize_fields<M: SerializeMap>(&self, _map: &mut M) -> Result<(), M::Error> {
        Ok(())
    }

    fn deserialize_field<'de, A: MapAccess<'de>>(
        &mut self,
        _field: &'static str,
        _map: &mut A,
    ) -> Result<(), A::Error> {
        Ok(())
    }

    fn schema_properties(
        _generator: &mut SchemaGenerator,
        _operation: BatchOperation,
    ) -> Vec<(&'static str, Schema)> {
        Vec::new()
    }
}

/// The shared field of reset and restart: `image_id`, the image to switch every phone to
/// (`None`: keep each phone's image).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageChoice {
    /// Switches the phones to this image during the operation.
    pub image_id: Option<ImageId>,
}

impl SharedFields for ImageChoice {
    const FIELDS: &'static [&'static str] = &["image_id"];

    fn serialize_fields<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        match &self.image_id {
            Some(image_id) => map.serialize_entry("image_id", image_id),
            None => Ok(()),
        }
    }

    fn deserialize_field<'de, A: MapAccess<'de>>(
        &mut self,
        _field: &'static str,
        map: &mut A,
    ) -> Result<(), A::Error> {
        self.image_id = map.next_value()?;
        Ok(())
    }

    fn schema_properties(
        generator: &mut SchemaGenerator,
        operation: BatchOperation,
    ) -> Vec<(&'static str, Schema)> {
        // "reset" or "restart", as the route names the operation.
        let during = operation.path_suffix().trim_start_matches("phones/batch-");
        let description = format!("Switches the phones to this image during the {during}.");
        vec![(
            "image_id",
            described(&description, generator.subschema_for::<Option<ImageId>>()),
        )]
    }
}

/// `schema` with `description` put first, as schemars' derive writes a field's doc comment.
fn described(description: &str, schema: Schema) -> Schema {
    let mut out = json_schema!({ "description": description });
    if let (Some(out), Some(fields)) = (out.as_object_mut(), schema.as_object()) {
        out.extend(fields.clone());
    }
    out
}

/// A batch request body: the request-wide fields and one entry per phone, in order (a phone
/// listed twice appears twice). `ResetRequest`, `RestartRequest`, `StopRequest` and the others
/// are this type for their entry.
///
/// On the wire: the shared fields that are set, then the entries under [`BatchEntry::KEY`], e.g.
/// `{"image_id":"img","phones":[{"phone_id":"p1"}]}` or `{"phone_ids":["p1"]}`. Decoding
/// ignores unknown keys and requires the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch<E: BatchEntry> {
    /// The fields shared by every phone, such as `image_id`.
    pub shared: E::Shared,
    /// One entry per phone.
    pub phones: Vec<E>,
}

impl<E: BatchEntry> Batch<E> {
    /// A request for `phones`, with the request-wide fields unset.
    pub fn new(phones: impl IntoIterator<Item = E>) -> Self {
        Batch {
            shared: E::Shared::default(),
            phones: phones.into_iter().collect(),
        }
    }

    /// The same request-wide fields for other phones.
    fn with_phones(&self, phones: &[E]) -> Self {
        Batch {
            shared: self.shared.clone(),
            phones: phones.to_vec(),
        }
    }
}

impl<E: BatchEntry<Shared = ImageChoice>> Batch<E> {
    /// Switches every phone to `image_id` (when `Some`) during the operation.
    pub fn with_image(mut self, image_id: Option<ImageId>) -> Self {
        self.shared.image_id = image_id;
        self
    }

    /// The image every phone is switched to, when one is.
    pub fn image_id(&self) -> Option<&ImageId> {
        self.shared.image_id.as_ref()
    }
}

/// What every batch request body offers: its operation, its phones, and splitting into chunks.
pub trait BatchRequest: Sized + Clone + Serialize {
    /// The operation this body is for.
    const OPERATION: BatchOperation;

    /// The phone of every entry, in order (a phone listed twice appears twice).
    fn phone_ids(&self) -> Vec<&PhoneId>;

    /// Number of phone entries.
    fn len(&self) -> usize;

    /// Whether there are no phone entries.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Splits into requests of at most `size` phones each, in order, sharing the request-wide
    /// fields (such as `image_id`). An empty request gives no chunks.
    fn chunks(&self, size: NonZeroUsize) -> Vec<Self>;

    /// The first `n` phone entries (all when there are fewer) and the rest, both sharing the
    /// request-wide fields: how a rollout takes its next window.
    fn split_at(&self, n: usize) -> (Self, Self);

    /// The same request with only the phone entries `keep` accepts, in order: how a run leaves
    /// out phones it found need no sending.
    fn keep_phones(&self, keep: impl FnMut(&PhoneId) -> bool) -> Self;

    /// Checks what the types alone cannot (see [`BatchEntry::check`]), e.g. that each phone's
    /// `property` plus `custom_property` fit in [`crate::PROPERTY_BYTES_MAX`]. Returns every
    /// problem.
    fn check(&self) -> Result<(), Vec<Error>>;
}

impl<E: BatchEntry> BatchRequest for Batch<E> {
    const OPERATION: BatchOperation = E::OPERATION;

    fn phone_ids(&self) -> Vec<&PhoneId> {
        self.phones.iter().map(E::phone_id).collect()
    }

    fn len(&self) -> usize {
        self.phones.len()
    }

    fn chunks(&self, size: NonZeroUsize) -> Vec<Self> {
        self.phones
            .chunks(size.get())
            .map(|phones| self.with_phones(phones))
            .collect()
    }

    fn split_at(&self, n: usize) -> (Self, Self) {
        let (front, back) = self.phones.split_at(n.min(self.phones.len()));
        (self.with_phones(front), self.with_phones(back))
    }

    fn keep_phones(&self, mut keep: impl FnMut(&PhoneId) -> bool) -> Self {
        Batch {
            shared: self.shared.clone(),
            phones: self
                .phones
                .iter()
                .filter(|e| keep(E::phone_id(e)))
                .cloned()
                .collect(),
        }
    }

    fn check(&self) -> Result<(), Vec<Error>> {
        let mut problems = Vec::new();
        for entry in &self.phones {
            entry.check(&mut problems);
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

impl<E: BatchEntry> Serialize for Batch<E> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        self.shared.serialize_fields(&mut map)?;
        map.serialize_entry(E::KEY, &self.phones)?;
        map.end()
    }
}

impl<'de, E: BatchEntry> Deserialize<'de> for Batch<E> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let (shared, phones) = deserializer.deserialize_map(BatchVisitor::<E, E>(PhantomData))?;
        Ok(Batch { shared, phones })
    }
}

/// A batch body as a server reads it: the request-wide fields decoded (one that does not decode
/// refuses the whole body), each entry kept as it was sent, to be decoded on its own
/// ([`RawBatch::decode`]) so that a bad entry is answered for its phone alone, as the service
/// answers it. [`Batch`] refuses the whole body instead. Decoding follows [`Batch`]'s rules.
#[derive(Debug, Clone, PartialEq)]
pub struct RawBatch<E: BatchEntry> {
    /// The fields shared by every phone, such as `image_id`.
    pub shared: E::Shared,
    /// Every entry as sent, in order.
    pub entries: Vec<serde_json::Value>,
}

impl<E: BatchEntry> RawBatch<E> {
    /// Decodes one of [`RawBatch::entries`].
    pub fn decode(entry: serde_json::Value) -> Result<E, serde_json::Error> {
        serde_json::from_value(entry)
    }

    /// The phone id an entry names, as sent (`None` when it is not a string), to answer an entry
    /// that does not decode.
    pub fn phone_id_as_sent(entry: &serde_json::Value) -> Option<&str> {
        match E::PHONE_ID_KEY {
            Some(key) => entry.get(key)?.as_str(),
            None => entry.as_str(),
        }
    }
}

impl<'de, E: BatchEntry> Deserialize<'de> for RawBatch<E> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let (shared, entries) = deserializer.deserialize_map(BatchVisitor::<E, _>(PhantomData))?;
        Ok(RawBatch { shared, entries })
    }
}

/// Reads a batch body of `E` into its shared fields and its list of `L`s (`E` itself, or the
/// entries as sent).
struct BatchVisitor<E, L>(PhantomData<(E, L)>);

impl<'de, E: BatchEntry, L: Deserialize<'de>> Visitor<'de> for BatchVisitor<E, L> {
    type Value = (E::Shared, Vec<L>);

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        write!(formatter, "struct {}", E::DOCS.name)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut shared = E::Shared::default();
        let mut seen: Vec<&'static str> = Vec::new();
        let mut phones = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == E::KEY {
                if phones.is_some() {
                    return Err(de::Error::duplicate_field(E::KEY));
                }
                phones = Some(map.next_value()?);
            } else if let Some(&field) = E::Shared::FIELDS.iter().find(|f| **f == key) {
                if seen.contains(&field) {
                    return Err(de::Error::duplicate_field(field));
                }
                seen.push(field);
                shared.deserialize_field(field, &mut map)?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        let phones = phones.ok_or_else(|| de::Error::missing_field(E::KEY))?;
        Ok((shared, phones))
    }
}

impl<E: BatchEntry> JsonSchema for Batch<E> {
    fn schema_name() -> Cow<'static, str> {
        E::DOCS.name.into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let mut properties = serde_json::Map::new();
        for (key, schema) in E::Shared::schema_properties(generator, E::OPERATION) {
            properties.insert(key.to_owned(), schema.into());
        }
        let entries = json_schema!({
            "type": "array",
            "items": generator.subschema_for::<E>(),
        });
        properties.insert(
            E::KEY.to_owned(),
            described(E::DOCS.entries, entries).into(),
        );
        json_schema!({
            "description": E::DOCS.description,
            "type": "object",
            "properties": properties,
            "required": [E::KEY],
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::requests::{RestartPhone, RestartRequest, StopRequest};

    fn phone(id: &str) -> PhoneId {
        PhoneId::new(id).unwrap()
    }

    fn size(n: usize) -> NonZeroUsize {
        NonZeroUsize::new(n).unwrap()
    }

    fn restart(n: usize) -> RestartRequest {
        RestartRequest::new((0..n).map(|i| RestartPhone {
            phone_id: phone(&format!("p{i}")),
            property: None,
        }))
        .with_image(Some(ImageId::new("img").unwrap()))
    }

    fn ids<E: BatchEntry>(request: &Batch<E>) -> Vec<&str> {
        request
            .phone_ids()
            .into_iter()
            .map(PhoneId::as_str)
            .collect()
    }

    #[test]
    fn chunks_keep_order_and_shared_fields() {
        let req = restart(5);
        let chunks = req.chunks(size(2));
        let sizes: Vec<usize> = chunks.iter().map(BatchRequest::len).collect();
        assert_eq!(sizes, [2, 2, 1]);
        assert!(chunks.iter().all(|c| c.image_id() == req.image_id()));
        let all: Vec<&str> = chunks.iter().flat_map(ids).collect();
        assert_eq!(all, ["p0", "p1", "p2", "p3", "p4"]);
    }

    #[test]
    fn split_at_takes_a_window_from_the_front_keeping_shared_fields() {
        let req = restart(5);
        let (front, back) = req.split_at(2);
        assert_eq!(ids(&front), ["p0", "p1"]);
        assert_eq!(ids(&back), ["p2", "p3", "p4"]);
        assert!(front.image_id() == req.image_id() && back.image_id() == req.image_id());
        let (all, none) = req.split_at(9);
        assert_eq!((all.len(), none.len()), (5, 0));
        let (a, b) = StopRequest::new([phone("a"), phone("b")]).split_at(1);
        assert_eq!((ids(&a), ids(&b)), (vec!["a"], vec!["b"]));
    }

    #[test]
    fn keep_phones_leaves_the_others_out_in_order_keeping_shared_fields() {
        let req = restart(5);
        let kept = req.keep_phones(|id| id.as_str() != "p1" && id.as_str() != "p3");
        assert_eq!(ids(&kept), ["p0", "p2", "p4"]);
        assert!(kept.image_id() == req.image_id());
        assert!(req.keep_phones(|_| false).is_empty());
    }

    #[test]
    fn empty_request_gives_no_chunks() {
        let req = StopRequest::new([]);
        assert!(req.chunks(size(100)).is_empty());
        assert!(req.is_empty());
    }

    #[test]
    fn shared_fields_come_first_and_only_when_set() {
        let req = restart(1);
        assert_eq!(
            serde_json::to_string(&req).unwrap(),
            r#"{"image_id":"img","phones":[{"phone_id":"p0"}]}"#
        );
        assert_eq!(
            serde_json::to_string(&req.with_image(None)).unwrap(),
            r#"{"phones":[{"phone_id":"p0"}]}"#
        );
    }

    #[test]
    fn decoding_reads_shared_fields_ignores_unknown_keys_and_needs_the_list() {
        let req: RestartRequest = serde_json::from_str(
            r#"{"extra":{"x":[1]},"phones":[{"phone_id":"p0"}],"image_id":"img"}"#,
        )
        .unwrap();
        assert_eq!(req, restart(1));
        let null_image: RestartRequest =
            serde_json::from_str(r#"{"image_id":null,"phones":[]}"#).unwrap();
        assert_eq!(null_image.image_id(), None);
        // A key that is another body's shared field is unknown here.
        let stop: StopRequest =
            serde_json::from_str(r#"{"image_id":"img","phone_ids":["a"]}"#).unwrap();
        assert_eq!(ids(&stop), ["a"]);

        let missing = serde_json::from_str::<StopRequest>(r#"{"phones":["a"]}"#).unwrap_err();
        assert!(missing.to_string().contains("missing field `phone_ids`"));
        let twice = serde_json::from_str::<RestartRequest>(
            r#"{"image_id":null,"image_id":"i","phones":[]}"#,
        )
        .unwrap_err();
        assert!(twice.to_string().contains("duplicate field `image_id`"));
        let twice =
            serde_json::from_str::<StopRequest>(r#"{"phone_ids":[],"phone_ids":[]}"#).unwrap_err();
        assert!(twice.to_string().contains("duplicate field `phone_ids`"));
        let bad_image = serde_json::from_str::<RestartRequest>(r#"{"image_id":"a b","phones":[]}"#)
            .unwrap_err();
        assert!(
            bad_image.to_string().contains("invalid image id"),
            "{bad_image}"
        );
        let not_object = serde_json::from_str::<StopRequest>("[]").unwrap_err();
        assert!(
            not_object
                .to_string()
                .contains("expected struct StopRequest")
        );
    }

    #[test]
    fn a_raw_batch_keeps_each_entry_as_sent_for_decoding_on_its_own() {
        let raw: RawBatch<RestartPhone> = serde_json::from_str(
            r#"{"image_id":"img","phones":[{"phone_id":"p0"},{"phone_id":"a b"},{"phone_id":7}]}"#,
        )
        .unwrap();
        assert_eq!(raw.shared.image_id, Some(ImageId::new("img").unwrap()));
        let sent: Vec<Option<&str>> = raw
            .entries
            .iter()
            .map(RawBatch::<RestartPhone>::phone_id_as_sent)
            .collect();
        assert_eq!(sent, [Some("p0"), Some("a b"), None]);
        let decoded: Vec<bool> = raw
            .entries
            .into_iter()
            .map(|e| RawBatch::<RestartPhone>::decode(e).is_ok())
            .collect();
        assert_eq!(decoded, [true, false, false]);
        let stop: RawBatch<PhoneId> = serde_json::from_str(r#"{"phone_ids":["a"]}"#).unwrap();
        assert_eq!(
            RawBatch::<PhoneId>::phone_id_as_sent(&stop.entries[0]),
            Some("a")
        );
        assert!(serde_json::from_str::<RawBatch<PhoneId>>(r#"{"image_id":"x"}"#).is_err());
        let bad_image =
            serde_json::from_str::<RawBatch<RestartPhone>>(r#"{"image_id":"a b","phones":[]}"#);
        assert!(bad_image.is_err());
        let not_object = serde_json::from_str::<StopRequest>("[]").unwrap_err();
        assert!(
            not_object
                .to_string()
                .contains("expected struct StopRequest")
        );
    }
}
