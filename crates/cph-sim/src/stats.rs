//! Counters the simulator keeps as a test and benchmark instrument: requests per API operation,
//! injected faults, and per phone how often a batch operation acted on it or rejected it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What `GET /_sim/stats` and [`crate::Simulator::stats`] report.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Stats {
    /// Requests received per API operation name (e.g. `RestartCloudPhone`, `ListJobs`),
    /// faulted and refused ones included.
    pub requests: BTreeMap<String, u64>,
    /// Injected faults per HTTP status, e.g. `"429"`, `"503"`.
    pub faults_injected: BTreeMap<String, u64>,
    /// Per phone id: how many times a batch operation acted on it (created a job).
    pub submissions: BTreeMap<String, u64>,
    /// Per phone id: how many times a batch operation rejected it inside a 200.
    pub rejected: BTreeMap<String, u64>,
    /// Every `/v1` request received, routed or not.
    pub total_requests: u64,
}

impl Stats {
    /// Counts one request for `operation` (`None` for a path that names no API).
    pub(crate) fn count_request(&mut self, operation: Option<&str>) {
        self.total_requests += 1;
        if let Some(operation) = operation {
            *self.requests.entry(operation.to_owned()).or_default() += 1;
        }
    }

    /// Counts one injected fault answered with `status`.
    pub(crate) fn count_fault(&mut self, status: u16) {
        *self.faults_injected.entry(status.to_string()).or_default() += 1;
    }

    /// Counts a job created on `phone_id`.
    pub(crate) fn count_submission(&mut self, phone_id: &str) {
        *self.submissions.entry(phone_id.to_owned()).or_default() += 1;
    }

    /// Counts a rejection of `phone_id` inside a 200.
    pub(crate) fn count_rejection(&mut self, phone_id: &str) {
        *self.rejected.entry(phone_id.to_owned()).or_default() += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_accumulate_per_key() {
        let mut stats = Stats::default();
        stats.count_request(Some("ListJobs"));
        stats.count_request(Some("ListJobs"));
        stats.count_request(None);
        stats.count_fault(429);
        stats.count_submission("p");
        stats.count_rejection("q");
        assert_eq!(stats.requests.get("ListJobs"), Some(&2));
        assert_eq!(stats.total_requests, 3);
        assert_eq!(stats.faults_injected.get("429"), Some(&1));
        assert_eq!(stats.submissions.get("p"), Some(&1));
        assert_eq!(stats.rejected.get("q"), Some(&1));
    }
}
