//! `cph_phone_backup`: exports phone data to OBS with batch-storage, one object per phone, so that
//! `cph_phone_restore` has backups to restore.

use cph_types::{BucketName, ExportObjectPath, ExportPath, PhoneId, StorageInfo, StorageRequest};
use tfplugin::{Attribute, Diagnostic, Value};

use super::action::Action;
use crate::attributes;
use crate::converge::Operation;
use crate::phones::PhoneInputs;

/// The backup action.
pub(crate) struct PhoneBackup;

/// What a phone of a backup carries: where its object goes and which files it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BackupInputs {
    pub(crate) bucket_name: String,
    pub(crate) object_path: String,
    pub(crate) include_files: Vec<String>,
    pub(crate) exclude_files: Vec<String>,
}

/// The strings of a list attribute (`None` while any is unknown; an unset list is empty).
fn strings(element: &Value, name: &str) -> Option<Vec<String>> {
    match element.get(name) {
        None | Some(Value::Null) => Some(Vec::new()),
        Some(list) => list
            .as_elements()?
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect(),
    }
}

impl PhoneInputs for BackupInputs {
    fn read(element: &Value) -> Option<Self> {
        let text = |name: &str| element.get(name).and_then(Value::as_str).map(str::to_owned);
        Some(BackupInputs {
            bucket_name: text("bucket_name")?,
            object_path: text("object_path")?,
            include_files: strings(element, "include_files")?,
            exclude_files: strings(element, "exclude_files")?,
        })
    }

    /// Backups are never given by id alone (the resource has no `phone_ids`).
    fn id_only() -> Self {
        BackupInputs {
            bucket_name: String::new(),
            object_path: String::new(),
            include_files: Vec::new(),
            exclude_files: Vec::new(),
        }
    }
}

impl Operation for PhoneBackup {
    type Inputs = BackupInputs;
    type Request = StorageRequest;
    const TYPE_NAME: &'static str = "cph_phone_backup";
    const VERB: &'static str = "backup";
    const DONE: &'static str = "backed up";

    fn request(
        _resource: &Value,
        phones: Vec<(PhoneId, &BackupInputs)>,
    ) -> Result<StorageRequest, Diagnostic> {
        let invalid = |e: cph_types::Error| Diagnostic::error("Invalid Backup", e.to_string());
        let paths = |list: &[String]| -> Result<Vec<ExportPath>, Diagnostic> {
            list.iter()
                .map(|p| ExportPath::new(p.as_str()).map_err(invalid))
                .collect()
        };
        let storage_infos = phones
            .into_iter()
            .map(|(phone_id, inputs)| {
                Ok(StorageInfo {
                    phone_id,
                    include_files: paths(&inputs.include_files)?,
                    exclude_files: (!inputs.exclude_files.is_empty())
                        .then(|| paths(&inputs.exclude_files))
                        .transpose()?,
                    bucket_name: BucketName::new(inputs.bucket_name.as_str()).map_err(invalid)?,
                    object_path: ExportObjectPath::new(inputs.object_path.as_str())
                        .map_err(invalid)?,
                })
            })
            .collect::<Result<Vec<_>, Diagnostic>>()?;
        Ok(StorageRequest::new(storage_infos))
    }
}

impl Action for PhoneBackup {
    fn description() -> &'static str {
        "Backs cloud phones' data up to OBS (the export API), one object per phone, waits on every job and records \
         each phone's result. A later apply backs up only the phones that need it: new ones, ones whose object or \
         files changed, ones whose last backup did not succeed; change `triggers` to back every phone up again. \
         Destroying it calls nothing and deletes no object."
    }

    fn phones_description() -> &'static str {
        "The phones to back up, each with its object and files"
    }

    fn phone_attributes() -> Vec<Attribute> {
        vec![
            attributes::bucket_name("The OBS bucket to write the backup to"),
            attributes::export_object_path("The backup object's path in the bucket"),
            attributes::include_files(),
            attributes::exclude_files(),
        ]
    }
}
