//! `cph_phone_backup`: exports phone data to OBS with batch-storage, one object per phone, so that
//! `cph_phone_restore` has backups to restore.

use cph_types::{BucketName, ExportObjectPath, ExportPath, PhoneId, StorageInfo, StorageRequest};
use serde::{Deserialize, Serialize};
use tfplugin::{Diagnostic, Maybe};

use super::{Kind, PhoneList};
use crate::attributes;
use crate::engine::Operation;
use crate::model::{OperationModel, PhoneModel};

/// The backup operation.
pub(crate) struct PhoneBackup;

/// A phone of a backup: where its object goes and which files it holds.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub(crate) struct BackupPhoneModel {
    #[serde(default)]
    pub(crate) phone_id: Maybe<PhoneId>,
    #[serde(default)]
    pub(crate) bucket_name: Maybe<BucketName>,
    #[serde(default)]
    pub(crate) object_path: Maybe<ExportObjectPath>,
    #[serde(default)]
    pub(crate) include_files: Maybe<Vec<Maybe<ExportPath>>>,
    #[serde(default)]
    pub(crate) exclude_files: Maybe<Vec<Maybe<ExportPath>>>,
}

/// What a phone of a backup asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BackupInputs {
    pub(crate) bucket_name: BucketName,
    pub(crate) object_path: ExportObjectPath,
    pub(crate) include_files: Vec<ExportPath>,
    pub(crate) exclude_files: Vec<ExportPath>,
}

/// The known paths of a list, `None` while any is unknown (null is none).
fn known_paths(list: &Maybe<Vec<Maybe<ExportPath>>>) -> Option<Vec<ExportPath>> {
    match list {
        Maybe::Unknown => None,
        Maybe::Null => Some(Vec::new()),
        Maybe::Known(items) => items.iter().map(|p| p.known().cloned()).collect(),
    }
}

impl PhoneModel for BackupPhoneModel {
    type Inputs = BackupInputs;

    fn phone_id(&self) -> &Maybe<PhoneId> {
        &self.phone_id
    }

    fn inputs(&self) -> Option<BackupInputs> {
        Some(BackupInputs {
            bucket_name: self.bucket_name.known()?.clone(),
            object_path: self.object_path.known()?.clone(),
            include_files: known_paths(&self.include_files)?,
            exclude_files: known_paths(&self.exclude_files)?,
        })
    }

    fn bare(phone_id: PhoneId) -> Self {
        BackupPhoneModel {
            phone_id: Maybe::Known(phone_id),
            ..BackupPhoneModel::default()
        }
    }
}

impl Operation for PhoneBackup {
    type Phone = BackupPhoneModel;
    type Request = StorageRequest;
    const TYPE_NAME: &'static str = "cph_phone_backup";
    const VERB: &'static str = "backup";
    const DONE: &'static str = "backed up";

    fn request(
        _model: &OperationModel<BackupPhoneModel>,
        phones: Vec<(PhoneId, &BackupInputs)>,
    ) -> Result<StorageRequest, Diagnostic> {
        Ok(StorageRequest::new(phones.into_iter().map(
            |(phone_id, inputs)| StorageInfo {
                phone_id,
                include_files: inputs.include_files.clone(),
                exclude_files:
                    (!inputs.exclude_files.is_empty()).then(|| inputs.exclude_files.clone()),
                bucket_name: inputs.bucket_name.clone(),
                object_path: inputs.object_path.clone(),
            },
        )))
    }
}

impl Kind for PhoneBackup {
    fn description() -> &'static str {
        "Backs cloud phones' data up to OBS (the export API), one object per phone, waits on every job and records \
         each phone's result. A later apply backs up only the phones that need it: new ones, ones whose object or \
         files changed, ones whose last backup did not succeed; change `triggers` to back every phone up again. \
         Destroying it calls nothing and deletes no object."
    }

    fn phone_list() -> PhoneList {
        PhoneList::Phones {
            what: "The phones to back up, each with its object and files",
            attributes: vec![
                attributes::bucket_name("The OBS bucket to write the backup to"),
                attributes::export_object_path("The backup object's path in the bucket"),
                attributes::include_files(),
                attributes::exclude_files(),
            ],
            ids_too: false,
        }
    }
}
