//! The six batch operations: the [`BatchOperation`] route table both client and simulator use,
//! and each operation's per-phone entry (its wire key, its checks) with its request body, a
//! [`Batch`] of those entries. `None` fields are omitted when serialising.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::batch::{Batch, BatchEntry, ImageChoice, RequestDocs};
use crate::error::Error;
use crate::export::{ExportPath, check_export_selection};
use crate::ids::{BucketName, ExportObjectPath, ObjectPath, PhoneId, ProjectId};
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
    pub const fn status_path(self) -> Option<StatusPath> {
        use crate::status::PhoneStatus as S;
        let (during, success, failure) = match self {
            BatchOperation::Reset => (S::Resetting, S::Running, S::ResetFailed),
            BatchOperation::Restart => (S::Restarting, S::Running, S::RestartFailed),
            BatchOperation::Stop => (S::Stopping, S::Stopped, S::StopFailed),
            BatchOperation::UpdateProperty | BatchOperation::Restore | BatchOperation::Storage => {
                return None;
            }
        };
        Some(StatusPath {
            during,
            success,
            failure,
        })
    }

    /// The key of the list of phones in the operation's body ([`BatchEntry::KEY`] of its entry),
    /// e.g. `phones` or `restore_infos`.
    pub fn list_key(self) -> &'static str {
        match self {
            BatchOperation::Reset => ResetPhone::KEY,
            BatchOperation::Restart => RestartPhone::KEY,
            BatchOperation::Stop => PhoneId::KEY,
            BatchOperation::UpdateProperty => UpdatePropertyPhone::KEY,
            BatchOperation::Restore => RestoreInfo::KEY,
            BatchOperation::Storage => StorageInfo::KEY,
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

impl BatchEntry for ResetPhone {
    type Shared = ImageChoice;
    const OPERATION: BatchOperation = BatchOperation::Reset;
    const KEY: &'static str = "phones";
    const DOCS: RequestDocs = RequestDocs {
        name: "ResetRequest",
        description: "Body of ResetCloudPhone (`phones/batch-reset`).",
        entries: "The phones to reset.",
    };

    fn phone_id(&self) -> &PhoneId {
        &self.phone_id
    }

    fn check(&self, problems: &mut Vec<Error>) {
        problems.extend(
            check_property_size(self.phone_id.as_str(), self.property.as_ref(), None).err(),
        );
    }
}

/// Body of ResetCloudPhone (`phones/batch-reset`): an optional `image_id` and the phones.
pub type ResetRequest = Batch<ResetPhone>;

/// One phone of a restart request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RestartPhone {
    /// The phone to restart (or power on when stopped).
    pub phone_id: PhoneId,
    /// Properties to set during the restart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub property: Option<PropertyString>,
}

impl BatchEntry for RestartPhone {
    type Shared = ImageChoice;
    const OPERATION: BatchOperation = BatchOperation::Restart;
    const KEY: &'static str = "phones";
    const DOCS: RequestDocs = RequestDocs {
        name: "RestartRequest",
        description: "Body of RestartCloudPhone (`phones/batch-restart`).",
        entries: "The phones to restart.",
    };

    fn phone_id(&self) -> &PhoneId {
        &self.phone_id
    }

    fn check(&self, problems: &mut Vec<Error>) {
        problems.extend(
            check_property_size(self.phone_id.as_str(), self.property.as_ref(), None).err(),
        );
    }
}

/// Body of RestartCloudPhone (`phones/batch-restart`): an optional `image_id` and the phones.
pub type RestartRequest = Batch<RestartPhone>;

/// A bare phone id is an entry of StopCloudPhone, the one operation with no per-phone settings:
/// `{"phone_ids": [..]}`.
impl BatchEntry for PhoneId {
    type Shared = ();
    const OPERATION: BatchOperation = BatchOperation::Stop;
    const KEY: &'static str = "phone_ids";
    const PHONE_ID_KEY: Option<&'static str> = None;
    const DOCS: RequestDocs = RequestDocs {
        name: "StopRequest",
        description: "Body of StopCloudPhone (`phones/batch-stop`).",
        entries: "The phones to stop.",
    };

    fn phone_id(&self) -> &PhoneId {
        self
    }
}

/// Body of StopCloudPhone (`phones/batch-stop`): the phone ids.
pub type StopRequest = Batch<PhoneId>;

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

impl BatchEntry for UpdatePropertyPhone {
    type Shared = ();
    const OPERATION: BatchOperation = BatchOperation::UpdateProperty;
    const KEY: &'static str = "phones";
    const DOCS: RequestDocs = RequestDocs {
        name: "UpdatePropertyRequest",
        description: "Body of UpdateCloudPhoneProperty (`phones/batch-update-property`).",
        entries: "The phones and their new properties.",
    };

    fn phone_id(&self) -> &PhoneId {
        &self.phone_id
    }

    fn check(&self, problems: &mut Vec<Error>) {
        problems.extend(
            check_property_size(
                self.phone_id.as_str(),
                Some(&self.property),
                self.custom_property.as_ref(),
            )
            .err(),
        );
    }
}

/// Body of UpdateCloudPhoneProperty (`phones/batch-update-property`): the phones.
pub type UpdatePropertyRequest = Batch<UpdatePropertyPhone>;

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

impl BatchEntry for RestoreInfo {
    type Shared = ();
    const OPERATION: BatchOperation = BatchOperation::Restore;
    const KEY: &'static str = "restore_infos";
    const DOCS: RequestDocs = RequestDocs {
        name: "RestoreRequest",
        description: "Body of the restore operation (`phones/batch-restore`).",
        entries: "The phones and their backups.",
    };

    fn phone_id(&self) -> &PhoneId {
        &self.phone_id
    }
}

/// Body of the restore operation (`phones/batch-restore`): the phones and their backups.
pub type RestoreRequest = Batch<RestoreInfo>;

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

impl BatchEntry for StorageInfo {
    type Shared = ();
    const OPERATION: BatchOperation = BatchOperation::Storage;
    const KEY: &'static str = "storage_infos";
    const DOCS: RequestDocs = RequestDocs {
        name: "StorageRequest",
        description: "Body of the export operation (`phones/batch-storage`).",
        entries: "The phones and where their data goes.",
    };

    fn phone_id(&self) -> &PhoneId {
        &self.phone_id
    }

    fn check(&self, problems: &mut Vec<Error>) {
        let phone = || format!("phone {}", self.phone_id);
        if self.include_files.is_empty() {
            problems.push(Error::InvalidValue {
                what: "include_files",
                value: phone(),
                rule: "at least one file or directory to export".to_owned(),
            });
        }
        let exclude = self.exclude_files.as_deref().unwrap_or_default();
        for issue in check_export_selection(&self.include_files, exclude) {
            problems.push(Error::InvalidValue {
                what: issue.list,
                value: phone(),
                rule: issue.message,
            });
        }
    }
}

/// Body of the export operation (`phones/batch-storage`): the phones and where their data goes.
pub type StorageRequest = Batch<StorageInfo>;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::BatchRequest;
    use crate::property::{PROPERTY_BYTES_MAX, PropertyMap};

    fn phone(id: &str) -> PhoneId {
        PhoneId::new(id).unwrap()
    }

    #[test]
    fn none_fields_are_omitted() {
        let req = ResetRequest::new([ResetPhone {
            phone_id: phone("p1"),
            property: None,
            factory_reset_enabled: None,
        }]);
        assert_eq!(
            serde_json::to_string(&req).unwrap(),
            r#"{"phones":[{"phone_id":"p1"}]}"#
        );
    }

    #[test]
    fn update_property_body_carries_the_json_string() {
        let map: PropertyMap = [("com.cph.mainkeys", "1")].into_iter().collect();
        let req = UpdatePropertyRequest::new([UpdatePropertyPhone {
            phone_id: phone("p1"),
            property: map.to_api_string(),
            custom_property: None,
        }]);
        assert_eq!(
            serde_json::to_string(&req).unwrap(),
            r#"{"phones":[{"phone_id":"p1","property":"{\"com.cph.mainkeys\":\"1\"}"}]}"#
        );
    }

    #[test]
    fn stop_lists_bare_phone_ids() {
        let req = StopRequest::new([phone("a"), phone("b")]);
        assert_eq!(
            serde_json::to_string(&req).unwrap(),
            r#"{"phone_ids":["a","b"]}"#
        );
        assert_eq!(req.phone_ids(), [&phone("a"), &phone("b")]);
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
        let req = UpdatePropertyRequest::new([entry("a"), entry("b")]);
        assert_eq!(req.check().unwrap_err().len(), 2);
        let small = UpdatePropertyRequest::new([UpdatePropertyPhone {
            custom_property: None,
            ..entry("c")
        }]);
        assert!(small.check().is_ok());
    }

    #[test]
    fn export_check_names_every_problem_of_every_phone() {
        let path = |p: &str| ExportPath::new(p).unwrap();
        let info = |id: &str, include: Vec<ExportPath>| StorageInfo {
            phone_id: phone(id),
            include_files: include,
            exclude_files: None,
            bucket_name: BucketName::new("bkt").unwrap(),
            object_path: ExportObjectPath::new("o.tar").unwrap(),
        };
        let req = StorageRequest::new([
            info("a", vec![]),
            info("b", vec![path("/data/misc")]),
            info("c", vec![path("/data/app")]),
        ]);
        let problems = req.check().unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].to_string().contains("phone a"));
        assert!(problems[1].to_string().contains("phone b"));
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

    #[test]
    fn each_entry_is_the_list_of_its_own_operation() {
        fn pair<E: BatchEntry>() -> (BatchOperation, &'static str) {
            (E::OPERATION, E::KEY)
        }
        let entries = [
            pair::<ResetPhone>(),
            pair::<RestartPhone>(),
            pair::<PhoneId>(),
            pair::<UpdatePropertyPhone>(),
            pair::<RestoreInfo>(),
            pair::<StorageInfo>(),
        ];
        for (op, (entry_op, key)) in BatchOperation::ALL.into_iter().zip(entries) {
            assert_eq!((op, op.list_key()), (entry_op, key));
        }
    }
}
