//! Open enums for job and phone status codes. Decoding never fails: unknown codes are kept as
//! `Unknown(code)`, and an unknown, missing or unreadable job status always means "not finished".

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// Reads a status code sent as a JSON number or a numeric string; anything else is `None`.
fn code_from_json(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        }),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    }
}

/// The status of an asynchronous CPH job.
///
/// Only `1` running, `2` success and `-1` failed are documented. Anything else, and a status that
/// is missing, `null` or not a number, is *not finished*: never success.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum JobStatus {
    /// `1`: the job is still running.
    Running,
    /// `2`: the job succeeded.
    Success,
    /// `-1`: the job failed.
    Failed,
    /// An undocumented code; treated as not finished.
    Unknown(i64),
    /// The status was missing, `null` or not a number; treated as not finished.
    /// Serialises as `null`.
    #[default]
    Missing,
}

impl JobStatus {
    /// The status for a wire code.
    pub fn from_code(code: i64) -> Self {
        match code {
            1 => JobStatus::Running,
            2 => JobStatus::Success,
            -1 => JobStatus::Failed,
            other => JobStatus::Unknown(other),
        }
    }

    /// The wire code, or `None` for [`JobStatus::Missing`].
    pub fn code(self) -> Option<i64> {
        match self {
            JobStatus::Running => Some(1),
            JobStatus::Success => Some(2),
            JobStatus::Failed => Some(-1),
            JobStatus::Unknown(code) => Some(code),
            JobStatus::Missing => None,
        }
    }

    /// Whether the job has ended (success or failure). Unknown and missing statuses have not.
    pub fn is_finished(self) -> bool {
        matches!(self, JobStatus::Success | JobStatus::Failed)
    }

    /// Whether the job ended successfully.
    pub fn is_success(self) -> bool {
        self == JobStatus::Success
    }

    /// Lower-case name: `running`, `success`, `failed`, `unknown` or `missing`.
    pub fn name(self) -> &'static str {
        match self {
            JobStatus::Running => "running",
            JobStatus::Success => "success",
            JobStatus::Failed => "failed",
            JobStatus::Unknown(_) => "unknown",
            JobStatus::Missing => "missing",
        }
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JobStatus::Unknown(code) => write!(f, "unknown ({code})"),
            other => f.write_str(other.name()),
        }
    }
}

impl Serialize for JobStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.code() {
            Some(code) => serializer.serialize_i64(code),
            None => serializer.serialize_none(),
        }
    }
}

impl<'de> Deserialize<'de> for JobStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Ok(code_from_json(&value).map_or(JobStatus::Missing, JobStatus::from_code))
    }
}

/// The status of a cloud phone, with every code the API reference lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PhoneStatus {
    /// `0` or `1`: being created. Both codes decode to this variant, which encodes as `1`.
    Creating,
    /// `2`: running.
    Running,
    /// `3`: resetting.
    Resetting,
    /// `4`: restarting.
    Restarting,
    /// `6`: frozen.
    Frozen,
    /// `7`: stopping (shutting down).
    Stopping,
    /// `8`: stopped (shut down).
    Stopped,
    /// `-5`: reset failed.
    ResetFailed,
    /// `-6`: restart failed.
    RestartFailed,
    /// `-7`: abnormal.
    Abnormal,
    /// `-8`: creation failed.
    CreationFailed,
    /// `-9`: stop failed.
    StopFailed,
    /// Any other code.
    Unknown(i64),
}

impl PhoneStatus {
    /// Every documented status, one per variant.
    pub const KNOWN: [PhoneStatus; 12] = [
        PhoneStatus::Creating,
        PhoneStatus::Running,
        PhoneStatus::Resetting,
        PhoneStatus::Restarting,
        PhoneStatus::Frozen,
        PhoneStatus::Stopping,
        PhoneStatus::Stopped,
        PhoneStatus::ResetFailed,
        PhoneStatus::RestartFailed,
        PhoneStatus::Abnormal,
        PhoneStatus::CreationFailed,
        PhoneStatus::StopFailed,
    ];

    /// The status for a wire code.
    pub fn from_code(code: i64) -> Self {
        match code {
            0 | 1 => PhoneStatus::Creating,
            2 => PhoneStatus::Running,
            3 => PhoneStatus::Resetting,
            4 => PhoneStatus::Restarting,
            6 => PhoneStatus::Frozen,
            7 => PhoneStatus::Stopping,
            8 => PhoneStatus::Stopped,
            -5 => PhoneStatus::ResetFailed,
            -6 => PhoneStatus::RestartFailed,
            -7 => PhoneStatus::Abnormal,
            -8 => PhoneStatus::CreationFailed,
            -9 => PhoneStatus::StopFailed,
            other => PhoneStatus::Unknown(other),
        }
    }

    /// The wire code.
    pub fn code(self) -> i64 {
        match self {
            PhoneStatus::Creating => 1,
            PhoneStatus::Running => 2,
            PhoneStatus::Resetting => 3,
            PhoneStatus::Restarting => 4,
            PhoneStatus::Frozen => 6,
            PhoneStatus::Stopping => 7,
            PhoneStatus::Stopped => 8,
            PhoneStatus::ResetFailed => -5,
            PhoneStatus::RestartFailed => -6,
            PhoneStatus::Abnormal => -7,
            PhoneStatus::CreationFailed => -8,
            PhoneStatus::StopFailed => -9,
            PhoneStatus::Unknown(code) => code,
        }
    }

    /// Lower-case snake-case name, e.g. `running`, `reset_failed`; `unknown` for unknown codes.
    pub fn name(self) -> &'static str {
        match self {
            PhoneStatus::Creating => "creating",
            PhoneStatus::Running => "running",
            PhoneStatus::Resetting => "resetting",
            PhoneStatus::Restarting => "restarting",
            PhoneStatus::Frozen => "frozen",
            PhoneStatus::Stopping => "stopping",
            PhoneStatus::Stopped => "stopped",
            PhoneStatus::ResetFailed => "reset_failed",
            PhoneStatus::RestartFailed => "restart_failed",
            PhoneStatus::Abnormal => "abnormal",
            PhoneStatus::CreationFailed => "creation_failed",
            PhoneStatus::StopFailed => "stop_failed",
            PhoneStatus::Unknown(_) => "unknown",
        }
    }

    /// The known status with this [`name`](Self::name), if any.
    pub fn from_name(name: &str) -> Option<Self> {
        PhoneStatus::KNOWN.into_iter().find(|s| s.name() == name)
    }
}

impl fmt::Display for PhoneStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PhoneStatus::Unknown(code) => write!(f, "unknown ({code})"),
            other => f.write_str(other.name()),
        }
    }
}

impl Serialize for PhoneStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(self.code())
    }
}

impl<'de> Deserialize<'de> for PhoneStatus {
    /// Accepts a number or a numeric string; fails on anything else. Response types use
    /// `Option<PhoneStatus>` with a lenient reader that turns unreadable values into `None`.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        code_from_json(&value)
            .map(PhoneStatus::from_code)
            .ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "invalid phone status {}",
                    crate::error::shown(&value.to_string())
                ))
            })
    }
}

/// Lenient reader for an optional phone status: `null`, `""` and non-numbers become `None`.
pub(crate) fn lenient_phone_status<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<PhoneStatus>, D::Error> {
    let value = Value::deserialize(deserializer)?;
    Ok(code_from_json(&value).map(PhoneStatus::from_code))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn job(json: &str) -> JobStatus {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn job_status_reads_numbers_and_numeric_strings() {
        assert_eq!(job("1"), JobStatus::Running);
        assert_eq!(job("2"), JobStatus::Success);
        assert_eq!(job("-1"), JobStatus::Failed);
        assert_eq!(job("\"2\""), JobStatus::Success);
        assert_eq!(job("\" -1 \""), JobStatus::Failed);
        assert_eq!(job("2.0"), JobStatus::Success);
        assert_eq!(job("7"), JobStatus::Unknown(7));
    }

    #[test]
    fn unreadable_job_status_is_missing_and_not_finished() {
        for json in ["null", "\"\"", "\"done\"", "true", "{}", "[2]", "2.5"] {
            let status = job(json);
            assert_eq!(status, JobStatus::Missing, "{json}");
            assert!(!status.is_finished());
        }
        assert!(!JobStatus::Unknown(3).is_finished());
        assert!(!JobStatus::Running.is_finished());
        assert!(JobStatus::Failed.is_finished());
        assert!(JobStatus::Success.is_success());
    }

    #[test]
    fn job_status_serialises_as_its_number() {
        assert_eq!(serde_json::to_string(&JobStatus::Success).unwrap(), "2");
        assert_eq!(serde_json::to_string(&JobStatus::Failed).unwrap(), "-1");
        assert_eq!(serde_json::to_string(&JobStatus::Unknown(9)).unwrap(), "9");
        assert_eq!(serde_json::to_string(&JobStatus::Missing).unwrap(), "null");
    }

    #[test]
    fn every_known_phone_status_round_trips_its_code() {
        for status in PhoneStatus::KNOWN {
            assert_eq!(PhoneStatus::from_code(status.code()), status);
            assert_eq!(PhoneStatus::from_name(status.name()), Some(status));
        }
        assert_eq!(PhoneStatus::from_code(0), PhoneStatus::Creating);
        assert_eq!(PhoneStatus::from_code(5), PhoneStatus::Unknown(5));
        assert_eq!(PhoneStatus::Unknown(5).code(), 5);
    }

    #[test]
    fn phone_status_reads_strings_and_serialises_numbers() {
        let s: PhoneStatus = serde_json::from_str("\"-7\"").unwrap();
        assert_eq!(s, PhoneStatus::Abnormal);
        assert_eq!(serde_json::to_string(&PhoneStatus::Stopped).unwrap(), "8");
        assert!(serde_json::from_str::<PhoneStatus>("\"x\"").is_err());
    }
}
