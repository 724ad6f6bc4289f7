//! Request bodies of the six batch operations, the [`BatchOperation`] route table both client and
//! simulator use, and the [`BatchRequest`] trait that lists a request's phones and splits it into
//! chunks. `None` fields are omitted when serialising.

use std::num::NonZeroUsize;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::export::{ExportPath, check_export_selection};
use crate::ids::{BucketName, ExportObjectPath, ImageId, ObjectPath, PhoneId, ProjectId};
use crate::property::{PropertyString, check_property_size};

/// One of the six batch operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BatchOperation {
    /// ResetCloudPhone (factory reset), [`ResetRequest`].
    Reset,
    /// RestartCloudPhone (restart, or power on a stopped phone), [`RestartRequest`].
    Restart,
    /// StopCloudPhone, [`StopRequest`].
    Stop,
    /// UpdateCloudPhoneProperty, [`UpdatePropertyRequest`].
    UpdateProperty,
    /// Restore phone data from OBS, [`RestoreRequest`].
    Restore,
    /// Export phone data to OBS, [`StorageRequest`].
    Storage,
}

impl BatchOperation {
    /// Every operation.
    pub const ALL: [BatchOperation; 6] = [
        BatchOperation::Reset,
        BatchOperation::Restart,
        BatchOperation::Stop,
        BatchOperation::UpdateProperty,
        BatchOperation::Restore,
        BatchOperation::Storage,
    ];

    /// The route below `/v1/{project_id}/cloud-phone/`, e.g. `phones/batch-reset`.
    pub fn path_suffix(self) -> &'static str {
        match self {
            BatchOperation::Reset => "phones/batch-reset",
            BatchOperation::Restart => "phones/batch-restart",
            BatchOperation::Stop => "phones/batch-stop",
            BatchOperation::UpdateProperty => "phones/batch-update-property",
            BatchOperation::Restore => "phones/batch-restore",
            BatchOperation::Storage => "phones/batch-storage",
        }
    }

    /// The full request path for `project_id`, e.g. `/v1/{project}/cloud-phone/phones/batch-reset`.
    pub fn path(self, project_id: &ProjectId) -> String {
        cloud_phone_path(project_id, self.path_suffix())
    }

    /// The operation behind a [`path_suffix`](Self::path_suffix).
    pub fn from_path_suffix(suffix: &str) -> Option<Self> {
        BatchOperation::ALL
            .into_iter()
            .find(|op| op.path_suffix() == suffix)
    }

    /// The phone statuses the operation moves a phone through, for the operations that show in the
    /// phone's status (reset, restart and power-on, stop): how a client tells, without the job, that
    /// an operation is acting on a phone (the status while it runs) and how it ended. `None` for the
    /// operations that leave the status as it is (update-property, restore, export).
    pub fn status_path(self) -> Option<StatusPath> {
        use crate::status::PhoneStatus as S;
        let path = |during, success, failure| {
            Some(StatusPath {
                during,
                success,
                failure,
            })
        };
        match self {
            BatchOperation::Reset => path(S::Resetting, S::Running, S::ResetFailed),
            BatchOperation::Restart => path(S::Restarting, S::Running, S::RestartFailed),
            BatchOperation::Stop => path(S::Stopping, S::Stopped, S::StopFailed),
            BatchOperation::UpdateProperty | BatchOperation::Restore | BatchOperation::Storage => {
                None
            }
        }
    }

    /// The operation's name in the API reference and the official SDKs, e.g. `ResetCloudPhone`.
    pub fn api_name(self) -> &'static str {
        match self {
            BatchOperation::Reset => "ResetCloudPhone",
            BatchOperation::Restart => "RestartCloudPhone",
            BatchOperation::Stop => "StopCloudPhone",
            BatchOperation::UpdateProperty => "UpdateCloudPhoneProperty",
            BatchOperation::Restore => "BatchImportCloudPhoneData",
            BatchOperation::Storage => "BatchExportCloudPhoneData",
        }
    }
}

/// The statuses a phone shows while an operation acts on it and when the operation ended (see
/// [`BatchOperation::status_path`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusPath {
    /// While the operation runs, e.g. `4` restarting.
    pub during: crate::status::PhoneStatus,
    /// When it succeeded, e.g. `2` running.
    pub success: crate::status::PhoneStatus,
    /// When it failed, e.g. `-6` restart failed.
    pub failure: crate::status::PhoneStatus,
}

/// `/v1/{project_id}/cloud-phone/{suffix}`: the prefix every CPH path starts with.
pub fn cloud_phone_path(project_id: &ProjectId, suffix: &str) -> String {
    format!("/v1/{project_id}/cloud-phone/{suffix}")
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

    /// Checks what the types alone cannot: each phone's `property` plus `custom_property` fit
    /// in [`crate::PROPERTY_BYTES_MAX`]. Returns every problem.
    fn check(&self) -> Result<(), Vec<Error>> {
        Ok(())
    }
}

fn split<T: Clone>(items: &[T], size: NonZeroUsize) -> impl Iterator<Item = Vec<T>> + '_ {
    items.chunks(size.get()).map(<[T]>::to_vec)
}

fn halves<T: Clone>(items: &[T], n: usize) -> (Vec<T>, Vec<T>) {
    let (front, back) = items.split_at(n.min(items.len()));
    (front.to_vec(), back.to_vec())
}

fn collect_errors(errors: impl Iterator<Item = Result<(), Error>>) -> Result<(), Vec<Error>> {
    let errors: Vec<Error> = errors.filter_map(Result::err).collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// One phone of a reset request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ResetPhone {
    /// The phone to reset.
    pub phone_id: PhoneId,
    /// Properties to set during the reset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub property: Option<PropertyString>,
    /// `true` also wipes every property set earlier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub factory_reset_enabled: Option<bool>,
}

/// Body of ResetCloudPhone (`phones/batch-reset`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ResetRequest {
    /// Switches the phones to this image during the reset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_id: Option<ImageId>,
    /// The phones to reset.
    pub phones: Vec<ResetPhone>,
}

impl BatchRequest for ResetRequest {
    const OPERATION: BatchOperation = BatchOperation::Reset;

    fn phone_ids(&self) -> Vec<&PhoneId> {
        self.phones.iter().map(|p| &p.phone_id).collect()
    }

    fn len(&self) -> usize {
        self.phones.len()
    }

    fn chunks(&self, size: NonZeroUsize) -> Vec<Self> {
        split(&self.phones, size)
            .map(|phones| ResetRequest {
                image_id: self.image_id.clone(),
                phones,
            })
            .collect()
    }

    fn split_at(&self, n: usize) -> (Self, Self) {
        let (front, back) = halves(&self.phones, n);
        (
            ResetRequest {
                image_id: self.image_id.clone(),
                phones: front,
            },
            ResetRequest {
                image_id: self.image_id.clone(),
                phones: back,
            },
        )
    }

    fn check(&self) -> Result<(), Vec<Error>> {
        collect_errors(
            self.phones
                .iter()
                .map(|p| check_property_size(p.phone_id.as_str(), p.property.as_ref(), None)),
        )
    }
}

/// One phone of a restart request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RestartPhone {
    /// The phone to restart (or power on when stopped).
    pub phone_id: PhoneId,
    /// Properties to set during the restart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub property: Option<PropertyString>,
}

/// Body of RestartCloudPhone (`phones/batch-restart`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RestartRequest {
    /// Switches the phones to this image during the restart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_id: Option<ImageId>,
    /// The phones to restart.
    pub phones: Vec<RestartPhone>,
}

impl BatchRequest for RestartRequest {
    const OPERATION: BatchOperation = BatchOperation::Restart;

    fn phone_ids(&self) -> Vec<&PhoneId> {
        self.phones.iter().map(|p| &p.phone_id).collect()
    }

    fn len(&self) -> usize {
        self.phones.len()
    }

    fn chunks(&self, size: NonZeroUsize) -> Vec<Self> {
        split(&self.phones, size)
            .map(|phones| RestartRequest {
                image_id: self.image_id.clone(),
                phones,
            })
            .collect()
    }

    fn split_at(&self, n: usize) -> (Self, Self) {
        let (front, back) = halves(&self.phones, n);
        (
            RestartRequest {
                image_id: self.image_id.clone(),
                phones: front,
            },
            RestartRequest {
                image_id: self.image_id.clone(),
                phones: back,
            },
        )
    }

    fn check(&self) -> Result<(), Vec<Error>> {
        collect_errors(
            self.phones
                .iter()
                .map(|p| check_property_size(p.phone_id.as_str(), p.property.as_ref(), None)),
        )
    }
}

/// Body of StopCloudPhone (`phones/batch-stop`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StopRequest {
    /// The phones to stop.
    pub phone_ids: Vec<PhoneId>,
}

impl BatchRequest for StopRequest {
    const OPERATION: BatchOperation = BatchOperation::Stop;

    fn phone_ids(&self) -> Vec<&PhoneId> {
        self.phone_ids.iter().collect()
    }

    fn len(&self) -> usize {
        self.phone_ids.len()
    }

    fn chunks(&self, size: NonZeroUsize) -> Vec<Self> {
        split(&self.phone_ids, size)
            .map(|phone_ids| StopRequest { phone_ids })
            .collect()
    }

    fn split_at(&self, n: usize) -> (Self, Self) {
        let (front, back) = halves(&self.phone_ids, n);
        (
            StopRequest { phone_ids: front },
            StopRequest { phone_ids: back },
        )
    }
}

/// One phone of an update-property request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct UpdatePropertyPhone {
    /// The phone to update.
    pub phone_id: PhoneId,
    /// The properties to set.
    pub property: PropertyString,
    /// Custom properties, counted with `property` against the 7800-byte limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_property: Option<PropertyString>,
}

/// Body of UpdateCloudPhoneProperty (`phones/batch-update-property`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct UpdatePropertyRequest {
    /// The phones and their new properties.
    pub phones: Vec<UpdatePropertyPhone>,
}

impl BatchRequest for UpdatePropertyRequest {
    const OPERATION: BatchOperation = BatchOperation::UpdateProperty;

    fn phone_ids(&self) -> Vec<&PhoneId> {
        self.phones.iter().map(|p| &p.phone_id).collect()
    }

    fn len(&self) -> usize {
        self.phones.len()
    }

    fn chunks(&self, size: NonZeroUsize) -> Vec<Self> {
        split(&self.phones, size)
            .map(|phones| UpdatePropertyRequest { phones })
            .collect()
    }

    fn split_at(&self, n: usize) -> (Self, Self) {
        let (front, back) = halves(&self.phones, n);
        (
            UpdatePropertyRequest { phones: front },
            UpdatePropertyRequest { phones: back },
        )
    }

    fn check(&self) -> Result<(), Vec<Error>> {
        collect_errors(self.phones.iter().map(|p| {
            check_property_size(
                p.phone_id.as_str(),
                Some(&p.property),
                p.custom_property.as_ref(),
            )
        }))
    }
}

/// One phone of a restore request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RestoreInfo {
    /// The phone to restore data onto.
    pub phone_id: PhoneId,
    /// The OBS bucket holding the backup.
    pub bucket_name: BucketName,
    /// The backup's object path in the bucket.
    pub object_path: ObjectPath,
}

/// Body of the restore operation (`phones/batch-restore`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RestoreRequest {
    /// The phones and their backups.
    pub restore_infos: Vec<RestoreInfo>,
}

impl BatchRequest for RestoreRequest {
    const OPERATION: BatchOperation = BatchOperation::Restore;

    fn phone_ids(&self) -> Vec<&PhoneId> {
        self.restore_infos.iter().map(|p| &p.phone_id).collect()
    }

    fn len(&self) -> usize {
        self.restore_infos.len()
    }

    fn chunks(&self, size: NonZeroUsize) -> Vec<Self> {
        split(&self.restore_infos, size)
            .map(|restore_infos| RestoreRequest { restore_infos })
            .collect()
    }

    fn split_at(&self, n: usize) -> (Self, Self) {
        let (front, back) = halves(&self.restore_infos, n);
        (
            RestoreRequest {
                restore_infos: front,
            },
            RestoreRequest {
                restore_infos: back,
            },
        )
    }
}

/// One phone of an export (storage) request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StorageInfo {
    /// The phone to export data from.
    pub phone_id: PhoneId,
    /// Files or directories to include in the export (at least one).
    pub include_files: Vec<ExportPath>,
    /// Files or directories to leave out (winning over `include_files`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_files: Option<Vec<ExportPath>>,
    /// The OBS bucket to write to.
    pub bucket_name: BucketName,
    /// The object path to write.
    pub object_path: ExportObjectPath,
}

/// Body of the export operation (`phones/batch-storage`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StorageRequest {
    /// The phones and where their data goes.
    pub storage_infos: Vec<StorageInfo>,
}

impl BatchRequest for StorageRequest {
    const OPERATION: BatchOperation = BatchOperation::Storage;

    fn phone_ids(&self) -> Vec<&PhoneId> {
        self.storage_infos.iter().map(|p| &p.phone_id).collect()
    }

    fn len(&self) -> usize {
        self.storage_infos.len()
    }

    fn chunks(&self, size: NonZeroUsize) -> Vec<Self> {
        split(&self.storage_infos, size)
            .map(|storage_infos| StorageRequest { storage_infos })
            .collect()
    }

    fn split_at(&self, n: usize) -> (Self, Self) {
        let (front, back) = halves(&self.storage_infos, n);
        (
            StorageRequest {
                storage_infos: front,
            },
            StorageRequest {
                storage_infos: back,
            },
        )
    }

    fn check(&self) -> Result<(), Vec<Error>> {
        collect_errors(self.storage_infos.iter().flat_map(|info| {
            let mut problems = Vec::new();
            if info.include_files.is_empty() {
                problems.push(Err(Error::InvalidValue {
                    what: "include_files",
                    value: format!("phone {}", info.phone_id),
                    rule: "at least one file or directory to export".to_owned(),
                }));
            }
            let exclude = info.exclude_files.as_deref().unwrap_or_default();
            for issue in check_export_selection(&info.include_files, exclude) {
                problems.push(Err(Error::InvalidValue {
                    what: issue.list,
                    value: format!("phone {}", info.phone_id),
                    rule: issue.message,
                }));
            }
            problems
        }))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::property::{PROPERTY_BYTES_MAX, PropertyMap};

    fn phone(id: &str) -> PhoneId {
        PhoneId::new(id).unwrap()
    }

    fn size(n: usize) -> NonZeroUsize {
        NonZeroUsize::new(n).unwrap()
    }

    #[test]
    fn none_fields_are_omitted() {
        let req = ResetRequest {
            image_id: None,
            phones: vec![ResetPhone {
                phone_id: phone("p1"),
                property: None,
                factory_reset_enabled: None,
            }],
        };
        assert_eq!(
            serde_json::to_string(&req).unwrap(),
            r#"{"phones":[{"phone_id":"p1"}]}"#
        );
    }

    #[test]
    fn update_property_body_carries_the_json_string() {
        let map: PropertyMap = [("com.cph.mainkeys", "1")].into_iter().collect();
        let req = UpdatePropertyRequest {
            phones: vec![UpdatePropertyPhone {
                phone_id: phone("p1"),
                property: map.to_api_string(),
                custom_property: None,
            }],
        };
        assert_eq!(
            serde_json::to_string(&req).unwrap(),
            r#"{"phones":[{"phone_id":"p1","property":"{\"com.cph.mainkeys\":\"1\"}"}]}"#
        );
    }

    #[test]
    fn chunks_keep_order_and_shared_fields() {
        let req = RestartRequest {
            image_id: Some(ImageId::new("img").unwrap()),
            phones: (0..5)
                .map(|i| RestartPhone {
                    phone_id: phone(&format!("p{i}")),
                    property: None,
                })
                .collect(),
        };
        let chunks = req.chunks(size(2));
        let sizes: Vec<usize> = chunks.iter().map(BatchRequest::len).collect();
        assert_eq!(sizes, [2, 2, 1]);
        assert!(chunks.iter().all(|c| c.image_id == req.image_id));
        let ids: Vec<&str> = chunks
            .iter()
            .flat_map(|c| c.phone_ids())
            .map(PhoneId::as_str)
            .collect();
        assert_eq!(ids, ["p0", "p1", "p2", "p3", "p4"]);
    }

    #[test]
    fn split_at_takes_a_window_from_the_front_keeping_shared_fields() {
        let req = RestartRequest {
            image_id: Some(ImageId::new("img").unwrap()),
            phones: (0..5)
                .map(|i| RestartPhone {
                    phone_id: phone(&format!("p{i}")),
                    property: None,
                })
                .collect(),
        };
        let (front, back) = req.split_at(2);
        let ids = |r: &RestartRequest| -> Vec<String> {
            r.phone_ids()
                .iter()
                .map(|p| p.as_str().to_owned())
                .collect()
        };
        assert_eq!(ids(&front), ["p0", "p1"]);
        assert_eq!(ids(&back), ["p2", "p3", "p4"]);
        assert!(front.image_id == req.image_id && back.image_id == req.image_id);
        let (all, none) = req.split_at(9);
        assert_eq!((all.len(), none.len()), (5, 0));
        let stop = StopRequest {
            phone_ids: vec![phone("a"), phone("b")],
        };
        let (a, b) = stop.split_at(1);
        assert_eq!(
            (a.phone_ids[0].as_str(), b.phone_ids[0].as_str()),
            ("a", "b")
        );
    }

    #[test]
    fn empty_request_gives_no_chunks() {
        let req = StopRequest { phone_ids: vec![] };
        assert!(req.chunks(size(100)).is_empty());
        assert!(req.is_empty());
    }

    #[test]
    fn invalid_phone_id_fails_deserialisation() {
        let err =
            serde_json::from_str::<StopRequest>(r#"{"phone_ids":["ok","not ok"]}"#).unwrap_err();
        assert!(err.to_string().contains("invalid phone id \"not ok\""));
    }

    #[test]
    fn restore_body_validates_bucket_and_path() {
        let ok = r#"{"restore_infos":[{"phone_id":"p","bucket_name":"bkt","object_path":"a/b"}]}"#;
        let req: RestoreRequest = serde_json::from_str(ok).unwrap();
        assert_eq!(req.phone_ids(), [&phone("p")]);
        let bad = r#"{"restore_infos":[{"phone_id":"p","bucket_name":"B","object_path":"a"}]}"#;
        assert!(serde_json::from_str::<RestoreRequest>(bad).is_err());
    }

    #[test]
    fn check_reports_every_oversized_phone() {
        let big: PropertyMap = [("k", "x".repeat(PROPERTY_BYTES_MAX / 2))]
            .into_iter()
            .collect();
        let entry = |id: &str| UpdatePropertyPhone {
            phone_id: phone(id),
            property: big.to_api_string(),
            custom_property: Some(big.to_api_string()),
        };
        let req = UpdatePropertyRequest {
            phones: vec![entry("a"), entry("b")],
        };
        assert_eq!(req.check().unwrap_err().len(), 2);
        let small = UpdatePropertyRequest {
            phones: vec![UpdatePropertyPhone {
                custom_property: None,
                ..entry("c")
            }],
        };
        assert!(small.check().is_ok());
    }

    #[test]
    fn operations_map_to_distinct_routes() {
        let project = ProjectId::new("proj1").unwrap();
        assert_eq!(
            BatchOperation::Reset.path(&project),
            "/v1/proj1/cloud-phone/phones/batch-reset"
        );
        for op in BatchOperation::ALL {
            assert_eq!(BatchOperation::from_path_suffix(op.path_suffix()), Some(op));
        }
        assert_eq!(ResetRequest::OPERATION, BatchOperation::Reset);
        assert_eq!(
            StorageRequest::OPERATION.path_suffix(),
            "phones/batch-storage"
        );
    }
}
