//! `cph_phone_restore`: restores phone data from OBS with batch-restore, then (by default) restarts
//! the restored phones, as the vendor advises.

use cph_types::{BucketName, ObjectPath, PhoneId, RestoreInfo, RestoreRequest};
use serde::{Deserialize, Serialize};
use tfplugin::{Attribute, Diagnostic, Maybe};

use super::{Kind, PhoneList};
use crate::attributes::{self, Surface};
use crate::engine::{FollowUp, Operation};
use crate::model::{OperationModel, PhoneModel};

/// The restore operation.
pub(crate) struct PhoneRestore;

/// A phone of a restore: where its backup is.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub(crate) struct RestorePhoneModel {
    #[serde(default)]
    pub(crate) phone_id: Maybe<PhoneId>,
    #[serde(default)]
    pub(crate) bucket_name: Maybe<BucketName>,
    #[serde(default)]
    pub(crate) object_path: Maybe<ObjectPath>,
}

/// Where a phone's backup is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RestoreInputs {
    pub(crate) bucket_name: BucketName,
    pub(crate) object_path: ObjectPath,
}

impl PhoneModel for RestorePhoneModel {
    type Inputs = RestoreInputs;

    fn phone_id(&self) -> &Maybe<PhoneId> {
        &self.phone_id
    }

    fn inputs(&self) -> Option<RestoreInputs> {
        Some(RestoreInputs {
            bucket_name: self.bucket_name.known()?.clone(),
            object_path: self.object_path.known()?.clone(),
        })
    }

    fn bare(phone_id: PhoneId) -> Self {
        RestorePhoneModel {
            phone_id: Maybe::Known(phone_id),
            ..RestorePhoneModel::default()
        }
    }
}

impl Operation for PhoneRestore {
    type Phone = RestorePhoneModel;
    type Request = RestoreRequest;
    const TYPE_NAME: &'static str = "cph_phone_restore";
    const VERB: &'static str = "restore";
    const DONE: &'static str = "restored";
    const FOLLOW_UP: Option<FollowUp> = Some(FollowUp::AfterRestore);

    fn request(
        _model: &OperationModel<RestorePhoneModel>,
        phones: Vec<(PhoneId, &RestoreInputs)>,
    ) -> Result<RestoreRequest, Diagnostic> {
        Ok(RestoreRequest::new(phones.into_iter().map(
            |(phone_id, inputs)| RestoreInfo {
                phone_id,
                bucket_name: inputs.bucket_name.clone(),
                object_path: inputs.object_path.clone(),
            },
        )))
    }
}

impl Kind for PhoneRestore {
    fn description() -> &'static str {
        "Restores cloud phones' data from OBS, waits on every job and, unless restart_after_restore is false, restarts \
         each restored phone. A later apply restores only the phones that need it: new ones, ones whose backup \
         changed, ones whose last restore did not succeed; a phone restored but not restarted is only restarted. \
         Destroying it calls nothing."
    }

    fn phone_list() -> PhoneList {
        PhoneList::Phones {
            what: "The phones to restore and their backups",
            attributes: vec![
                attributes::bucket_name("The OBS bucket holding the backup"),
                attributes::object_path("The backup object's path in the bucket"),
            ],
            ids_too: false,
        }
    }

    fn extra_attributes(surface: Surface) -> Vec<Attribute> {
        vec![attributes::restart_after(
            FollowUp::AfterRestore.name(),
            FollowUp::AfterRestore.default(),
            "restore",
            surface,
        )]
    }
}
