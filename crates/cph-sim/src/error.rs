//! The simulator's one error type: one variant per CPH or gateway error code it answers, each
//! knowing its code, its HTTP status and its message in the API's words. Routes turn it into the
//! wire envelope in one place; per-phone rejections inside a 200 reuse the same variants.

use cph_types::{
    APIG_THROTTLED, APIGW_AUTH_FAILED, CPS_INTERNAL_ERROR, CPS_INVALID_PARAMETER, CPS_NOT_FOUND,
    MSG_PHONE_ID_INVALID, MSG_PHONE_NOT_FOUND,
};

/// The code the simulator gives a phone that already has an unfinished job, or whose status does
/// not allow the operation. The real code is undocumented: this one is the simulator's choice.
pub const SIM_PHONE_BUSY: &str = "CPS.0009";
/// The gateway's code for a path that names no API (HTTP 404).
pub const APIGW_API_NOT_FOUND: &str = "APIGW.0101";
/// The code a job fails with when fault injection fails it.
pub const SIM_JOB_FAILED: &str = CPS_INTERNAL_ERROR;
/// The code a restore job fails with when its backup was exported from a newer Android version
/// than the phone's. The vendor documents the rule but not the code: this one is the simulator's
/// choice.
pub const SIM_RESTORE_NEWER_VERSION: &str = "CPS.0025";

/// Everything the simulator refuses, with the input that caused it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// `CPS.0004` (400): a parameter or the body is invalid.
    #[error("invalid parameter {field}: {reason}")]
    InvalidParameter {
        /// The parameter, e.g. `limit` or `body`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `CPS.0004` inside a 200: a phone id that is not of the service-issued form.
    #[error("invalid phone id {phone_id:?}")]
    PhoneIdInvalid {
        /// The rejected id, as sent.
        phone_id: String,
    },
    /// `CPS.0005` (404, or inside a 200): no such phone.
    #[error("phone {phone_id} not found")]
    PhoneNotFound {
        /// The unknown id.
        phone_id: String,
    },
    /// `CPS.0005` (404): no such job.
    #[error("job {job_id} not found")]
    JobNotFound {
        /// The unknown id.
        job_id: String,
    },
    /// [`SIM_PHONE_BUSY`] inside a 200: the phone has an unfinished job.
    #[error("phone {phone_id} is busy with job {job_id}")]
    PhoneBusy {
        /// The busy phone.
        phone_id: String,
        /// Its unfinished job.
        job_id: String,
    },
    /// [`SIM_PHONE_BUSY`] inside a 200: the phone's status does not allow the operation.
    #[error("phone {phone_id} in status {status} does not allow {operation}")]
    StatusForbids {
        /// The phone.
        phone_id: String,
        /// Its status name.
        status: &'static str,
        /// The refused operation's API name.
        operation: &'static str,
    },
    /// `APIGW.0301` (401): missing, malformed or wrong credentials.
    #[error("authentication failed: {reason}")]
    AuthFailed {
        /// Why, without any secret.
        reason: String,
    },
    /// `APIGW.0301` (403): the path or `X-Project-Id` names a project the credentials do not own.
    #[error("project {project_id} is not accessible with these credentials")]
    ProjectMismatch {
        /// The project named by the request.
        project_id: String,
    },
    /// `APIG.0308` (429): flow control.
    #[error("request throttled")]
    Throttled,
    /// `CPS.0003` with the given 5xx status: an (injected) server error.
    #[error("server error {status}")]
    ServerError {
        /// The HTTP status.
        status: u16,
    },
    /// `CPS.0003` (500) answered AFTER the service performed a batch (an injected acted error):
    /// the jobs exist under the request id of this answer, as after a gateway timeout.
    #[error("server error 500 after the service acted")]
    ServerErrorAfterActing,
    /// `APIGW.0101` (404): no API at this method and path.
    #[error("no api at {method} {path}")]
    ApiNotFound {
        /// The request method.
        method: String,
        /// The request path.
        path: String,
    },
    /// `CPS.0004` (400) from the admin API: a fault setting out of range.
    #[error("invalid fault setting {name} {value}: rates are 0..=1 and statuses 5xx")]
    InvalidFault {
        /// The setting.
        name: &'static str,
        /// Its rejected value.
        value: String,
    },
}

impl SimError {
    /// The error code of the wire envelope, e.g. `CPS.0004`.
    pub fn error_code(&self) -> &'static str {
        match self {
            SimError::InvalidParameter { .. }
            | SimError::PhoneIdInvalid { .. }
            | SimError::InvalidFault { .. } => CPS_INVALID_PARAMETER,
            SimError::PhoneNotFound { .. } | SimError::JobNotFound { .. } => CPS_NOT_FOUND,
            SimError::PhoneBusy { .. } | SimError::StatusForbids { .. } => SIM_PHONE_BUSY,
            SimError::AuthFailed { .. } | SimError::ProjectMismatch { .. } => APIGW_AUTH_FAILED,
            SimError::Throttled => APIG_THROTTLED,
            SimError::ServerError { .. } | SimError::ServerErrorAfterActing => CPS_INTERNAL_ERROR,
            SimError::ApiNotFound { .. } => APIGW_API_NOT_FOUND,
        }
    }

    /// The message of the wire envelope, in the API's words.
    pub fn error_msg(&self) -> String {
        match self {
            SimError::InvalidParameter { field, reason } => {
                format!("Parameter: {field} is invalid. {reason}")
            }
            SimError::PhoneIdInvalid { .. } => MSG_PHONE_ID_INVALID.to_owned(),
            SimError::PhoneNotFound { .. } => MSG_PHONE_NOT_FOUND.to_owned(),
            SimError::JobNotFound { .. } => "Parameter: Job not found.".to_owned(),
            SimError::PhoneBusy { job_id, .. } => {
                format!("The phone is busy: job {job_id} is still running.")
            }
            SimError::StatusForbids {
                status, operation, ..
            } => format!("The phone status {status} does not allow {operation}."),
            SimError::AuthFailed { reason } => {
                format!("Incorrect IAM authentication information: {reason}")
            }
            SimError::ProjectMismatch { project_id } => format!(
                "Incorrect IAM authentication information: project {project_id} does not match the credentials"
            ),
            SimError::Throttled => "The throttling threshold has been reached.".to_owned(),
            SimError::ServerError { .. } => "Internal error.".to_owned(),
            SimError::ServerErrorAfterActing => {
                "Internal error: the gateway timed out waiting for the service.".to_owned()
            }
            SimError::ApiNotFound { .. } => {
                "The API does not exist or has not been published in the environment".to_owned()
            }
            SimError::InvalidFault { name, value } => {
                format!("Parameter: {name} is invalid. {value} is out of range.")
            }
        }
    }

    /// The HTTP status when the error answers the whole request.
    pub fn http_status(&self) -> u16 {
        match self {
            SimError::InvalidParameter { .. }
            | SimError::PhoneIdInvalid { .. }
            | SimError::InvalidFault { .. }
            | SimError::PhoneBusy { .. }
            | SimError::StatusForbids { .. } => 400,
            SimError::PhoneNotFound { .. }
            | SimError::JobNotFound { .. }
            | SimError::ApiNotFound { .. } => 404,
            SimError::AuthFailed { .. } => 401,
            SimError::ProjectMismatch { .. } => 403,
            SimError::Throttled => 429,
            SimError::ServerError { status } => *status,
            SimError::ServerErrorAfterActing => 500,
        }
    }

    /// A cph-types rule a request broke, as the `CPS.0004` the service answers: for the query
    /// parameter it names, or the entry field (`include_files`, `property`, ...).
    pub(crate) fn from_rule(error: cph_types::Error) -> Self {
        match error {
            cph_types::Error::QueryParameter { key, source } => {
                SimError::invalid(key, format!("{source}."))
            }
            cph_types::Error::InvalidValue { what, .. } => {
                SimError::invalid(what, format!("{error}."))
            }
            cph_types::Error::PropertiesTooLarge { .. }
            | cph_types::Error::InvalidPropertyString { .. } => {
                SimError::invalid("property", format!("{error}."))
            }
            other => SimError::invalid("body", format!("{other}.")),
        }
    }

    /// An [`SimError::InvalidParameter`] for `field`.
    pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        SimError::InvalidParameter {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_phone_rejections_use_the_api_words() {
        let invalid = SimError::PhoneIdInvalid {
            phone_id: "x".into(),
        };
        assert_eq!(invalid.error_code(), "CPS.0004");
        assert_eq!(invalid.error_msg(), "Parameter: phone_id is invalid.");
        let missing = SimError::PhoneNotFound {
            phone_id: "y".into(),
        };
        assert_eq!(missing.error_code(), "CPS.0005");
        assert_eq!(missing.error_msg(), "Parameter: Phone not found.");
    }

    #[test]
    fn gateway_errors_carry_gateway_codes_and_statuses() {
        assert_eq!(SimError::Throttled.error_code(), "APIG.0308");
        assert_eq!(SimError::Throttled.http_status(), 429);
        let auth = SimError::AuthFailed { reason: "r".into() };
        assert_eq!((auth.error_code(), auth.http_status()), ("APIGW.0301", 401));
        let project = SimError::ProjectMismatch {
            project_id: "p".into(),
        };
        assert_eq!(project.http_status(), 403);
        assert_eq!(SimError::ServerError { status: 500 }.http_status(), 500);
        let acted = SimError::ServerErrorAfterActing;
        assert_eq!((acted.error_code(), acted.http_status()), ("CPS.0003", 500));
        assert!(acted.error_msg().starts_with("Internal error"));
    }

    #[test]
    fn messages_are_lowercase_and_name_the_value() {
        let err = SimError::PhoneBusy {
            phone_id: "p1".into(),
            job_id: "j1".into(),
        };
        assert_eq!(err.to_string(), "phone p1 is busy with job j1");
    }
}
