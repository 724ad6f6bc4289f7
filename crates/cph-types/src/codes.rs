//! Error codes and list limits that client and simulator must agree on.

/// `CPS.0003`: internal error of the service (HTTP 500).
pub const CPS_INTERNAL_ERROR: &str = "CPS.0003";
/// `CPS.0004`: a parameter is invalid, e.g. `Parameter: phone_id is invalid.` (HTTP 400, or a
/// rejected phone in a batch answer).
pub const CPS_INVALID_PARAMETER: &str = "CPS.0004";
/// `CPS.0005`: the phone (or other resource) does not exist: `Parameter: Phone not found.`.
pub const CPS_NOT_FOUND: &str = "CPS.0005";
/// `APIG.0308`: the API gateway's flow control (throttling), usually with HTTP 429.
pub const APIG_THROTTLED: &str = "APIG.0308";
/// `APIG.0301`: the API gateway rejected the credentials (token or signature), HTTP 401.
pub const APIG_AUTH_FAILED: &str = "APIG.0301";
/// `APIGW.0301`: the same authentication failure, as newer gateways spell it.
pub const APIGW_AUTH_FAILED: &str = "APIGW.0301";

/// The message of [`CPS_INVALID_PARAMETER`] for a malformed phone id.
pub const MSG_PHONE_ID_INVALID: &str = "Parameter: phone_id is invalid.";
/// The message of [`CPS_NOT_FOUND`] for an unknown phone.
pub const MSG_PHONE_NOT_FOUND: &str = "Parameter: Phone not found.";

/// ListJobs: the most request ids one call may name in `request_ids`.
pub const LIST_JOBS_MAX_REQUEST_IDS: usize = 20;
/// ListJobs: the largest `limit` (and the default).
pub const LIST_JOBS_MAX_LIMIT: u32 = 100;
/// ListCloudPhones: the largest `limit`.
pub const LIST_PHONES_MAX_LIMIT: u32 = 200;
/// ListCloudPhones: the default `limit`.
pub const LIST_PHONES_DEFAULT_LIMIT: u32 = 100;
/// The client's default number of phones per batch request (the service documents no maximum).
pub const DEFAULT_BATCH_SIZE: usize = 100;

/// Whether `code` is one of the gateway's authentication failures.
pub fn is_auth_failure(code: &str) -> bool {
    code == APIG_AUTH_FAILED || code == APIGW_AUTH_FAILED
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_gateway_spellings_are_auth_failures() {
        assert!(is_auth_failure("APIG.0301"));
        assert!(is_auth_failure("APIGW.0301"));
        assert!(!is_auth_failure(APIG_THROTTLED));
    }
}
