//! `cph_phone_restore`: restores phone data from OBS with batch-restore, then (by default) restarts the
//! restored phones, as the vendor advises.

use cph_types::{BucketName, ObjectPath, PhoneId, RestoreInfo, RestoreRequest};
use tfplugin::{Attribute, Diagnostic, PlanRequest, PlanResponse, Type, Value};

use super::phone_restart::restart_of;
use super::{phone_id_attribute, phone_list};
use crate::action::Action;
use crate::batch::Operation;
use crate::common::{self, JobRecord};
use crate::validate::PhoneFields;

/// The restore action.
pub(crate) struct PhoneRestore;

const RESTART_AFTER: &str = "restart_after_restore";

impl Action for PhoneRestore {
    const TYPE_NAME: &'static str = "cph_phone_restore";
    const VERB: &'static str = "restore";
    const HAS_RESTART_JOBS: bool = true;

    fn description() -> &'static str {
        "Restores a batch of cloud phones' data from OBS, waits on every job and, unless restart_after_restore is \
         false, restarts the restored phones. Destroying it calls nothing."
    }

    fn phone_attributes() -> Vec<Attribute> {
        vec![
            phone_id_attribute(),
            Attribute::required("bucket_name", Type::String)
                .description("The OBS bucket holding the backup: 3 to 63 characters of `a-z`, `0-9`, `-` and `.`."),
            Attribute::required("object_path", Type::String)
                .description("The backup object's path in the bucket, 1 to 1024 characters."),
        ]
    }

    fn extra_attributes() -> Vec<Attribute> {
        vec![
            Attribute::optional_computed(RESTART_AFTER, Type::Bool)
                .description("Restart every successfully restored phone afterwards. Default true."),
        ]
    }

    fn phone_fields() -> PhoneFields {
        PhoneFields {
            properties: false,
            restore_target: true,
            phone_ids: false,
        }
    }

    fn plan_defaults(req: &PlanRequest, plan: &mut PlanResponse) {
        common::plan_bool_default(req, plan, RESTART_AFTER, true);
    }

    fn operation(config: &Value) -> Result<Operation, Diagnostic> {
        let infos = phone_list(config)?
            .iter()
            .map(|p| {
                let bad = |attr: &str, e: cph_types::Error| {
                    Diagnostic::error("Invalid Restore Target", e.to_string())
                        .with_attribute(p.path(attr))
                };
                Ok(RestoreInfo {
                    phone_id: p.phone_id()?,
                    bucket_name: BucketName::new(p.string("bucket_name")?)
                        .map_err(|e| bad("bucket_name", e))?,
                    object_path: ObjectPath::new(p.string("object_path")?)
                        .map_err(|e| bad("object_path", e))?,
                })
            })
            .collect::<Result<Vec<_>, Diagnostic>>()?;
        Ok(Operation::Restore(RestoreRequest {
            restore_infos: infos,
        }))
    }

    fn follow_up(
        config: &Value,
        succeeded: &[&JobRecord],
    ) -> Result<Option<Operation>, Diagnostic> {
        let restart = config
            .get(RESTART_AFTER)
            .and_then(Value::as_bool)
            .unwrap_or(true);
        if !restart || succeeded.is_empty() {
            return Ok(None);
        }
        let ids = succeeded
            .iter()
            .map(|j| {
                PhoneId::new(j.phone_id.as_str())
                    .map_err(|e| Diagnostic::error("Invalid Phone Id", e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(restart_of(ids)))
    }
}
