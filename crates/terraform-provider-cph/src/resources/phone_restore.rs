//! `cph_phone_restore`: restores phone data from OBS with batch-restore, then (by default) restarts
//! the restored phones, as the vendor advises.

use cph_types::{BucketName, ObjectPath, PhoneId, RestoreInfo, RestoreRequest};
use tfplugin::{Attribute, Diagnostic, Value};

use super::action::Action;
use crate::attributes;
use crate::converge::Operation;
use crate::phones::PhoneInputs;

/// The restore action.
pub(crate) struct PhoneRestore;

/// Where a phone's backup is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RestoreInputs {
    pub(crate) bucket_name: String,
    pub(crate) object_path: String,
}

impl PhoneInputs for RestoreInputs {
    fn read(element: &Value) -> Option<Self> {
        let text = |name: &str| element.get(name).and_then(Value::as_str).map(str::to_owned);
        Some(RestoreInputs {
            bucket_name: text("bucket_name")?,
            object_path: text("object_path")?,
        })
    }

    /// Restores are never given by id alone (the resource has no `phone_ids`).
    fn id_only() -> Self {
        RestoreInputs {
            bucket_name: String::new(),
            object_path: String::new(),
        }
    }
}

impl Operation for PhoneRestore {
    type Inputs = RestoreInputs;
    type Request = RestoreRequest;
    const TYPE_NAME: &'static str = "cph_phone_restore";
    const VERB: &'static str = "restore";
    const DONE: &'static str = "restored";
    const FOLLOW_UP: Option<&'static str> = Some("restart_after_restore");

    fn request(
        _resource: &Value,
        phones: Vec<(PhoneId, &RestoreInputs)>,
    ) -> Result<RestoreRequest, Diagnostic> {
        let invalid =
            |e: cph_types::Error| Diagnostic::error("Invalid Restore Target", e.to_string());
        let restore_infos = phones
            .into_iter()
            .map(|(phone_id, inputs)| {
                Ok(RestoreInfo {
                    phone_id,
                    bucket_name: BucketName::new(inputs.bucket_name.as_str()).map_err(invalid)?,
                    object_path: ObjectPath::new(inputs.object_path.as_str()).map_err(invalid)?,
                })
            })
            .collect::<Result<Vec<_>, Diagnostic>>()?;
        Ok(RestoreRequest::new(restore_infos))
    }
}

impl Action for PhoneRestore {
    fn description() -> &'static str {
        "Restores cloud phones' data from OBS, waits on every job and, unless restart_after_restore is false, restarts \
         each restored phone. A later apply restores only the phones that need it: new ones, ones whose backup \
         changed, ones whose last restore did not succeed; a phone restored but not restarted is only restarted. \
         Destroying it calls nothing."
    }

    fn phones_description() -> &'static str {
        "The phones to restore and their backups"
    }

    fn phone_attributes() -> Vec<Attribute> {
        vec![
            attributes::bucket_name("The OBS bucket holding the backup"),
            attributes::object_path("The backup object's path in the bucket"),
        ]
    }

    fn extra_attributes() -> Vec<Attribute> {
        vec![attributes::restart_after(
            "restart_after_restore",
            true,
            "restore",
        )]
    }
}
