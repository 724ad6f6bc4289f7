//! Counters the simulator keeps as a test and benchmark instrument: requests per API operation,
//! injected faults, and per phone how often a batch operation acted on it or rejected it.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// What `GET /_sim/stats` and [`crate::Simulator::stats`] report.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Stats {
    /// Requests received per API operation name (e.g. `RestartCloudPhone`, `ListJobs`),
    /// faulted and refused ones included; also `SimConnect`, the requests to the access
    /// gateway's stand-in `POST /_sim/connect` (refused ones included), which is no `/v1` route
    /// and so not in `total_requests`.
    pub requests: BTreeMap<String, u64>,
    /// Injected faults: those answered before the service acts per HTTP status (`"429"`,
    /// `"500"`, `"503"`, ...), those after a batch operation was performed as `"acted_500"`
    /// (answered 500) and `"acted_drop"` (connection closed without an answer).
    pub faults_injected: BTreeMap<String, u64>,
    /// Per phone id: how many times a batch operation acted on it (created a job).
    pub submissions: BTreeMap<String, u64>,
    /// Per phone id: how many times a batch operation rejected it inside a 200.
    pub rejected: BTreeMap<String, u64>,
    /// Every `/v1` request received, routed or not.
    pub total_requests: u64,
    /// The most jobs unfinished at one moment (observed whenever a job is created).
    #[serde(default)]
    pub peak_running_jobs: u64,
    /// The most `/v1` requests received within one wall-clock second.
    #[serde(default)]
    pub busiest_second_requests: u64,
    /// Connections the access gateway's stand-in (`POST /_sim/connect`) accepted: a ticket
    /// presented for its phone and session while valid. Each use of a ticket counts.
    #[serde(default)]
    pub connections_accepted: u64,
    /// The second being counted and its requests so far (for `busiest_second_requests`).
    #[serde(skip)]
    second: (u64, u64),
}

impl Stats {
    /// Counts one request for `operation` (`None` for a path that names no API), received at `now`.
    pub(crate) fn count_request(&mut self, operation: Option<&str>, now: SystemTime) {
        self.total_requests += 1;
        if let Some(operation) = operation {
            *self.requests.entry(operation.to_owned()).or_default() += 1;
        }
        let second = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        self.second = match self.second {
            (s, n) if s == second => (s, n + 1),
            _ => (second, 1),
        };
        self.busiest_second_requests = self.busiest_second_requests.max(self.second.1);
    }

    /// Counts one request to a simulator route outside `/v1` under `name` in `requests` (not in
    /// `total_requests` nor the busiest second, which count `/v1` requests).
    pub(crate) fn count_sim_request(&mut self, name: &str) {
        *self.requests.entry(name.to_owned()).or_default() += 1;
    }

    /// Counts one connection the access gateway's stand-in accepted.
    pub(crate) fn count_connection(&mut self) {
        self.connections_accepted += 1;
    }

    /// Notes how many jobs are unfinished right now.
    pub(crate) fn note_running_jobs(&mut self, running: usize) {
        let running = u64::try_from(running).unwrap_or(u64::MAX);
        self.peak_running_jobs = self.peak_running_jobs.max(running);
    }

    /// Counts one injected fault answered with `status`.
    pub(crate) fn count_fault(&mut self, status: u16) {
        self.count_fault_named(&status.to_string());
    }

    /// Counts one injected fault under `key` (e.g. `acted_drop`).
    pub(crate) fn count_fault_named(&mut self, key: &str) {
        *self.faults_injected.entry(key.to_owned()).or_default() += 1;
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
        let t0 = UNIX_EPOCH + std::time::Duration::from_millis(1_700_000_000_900);
        stats.count_request(Some("ListJobs"), t0);
        stats.count_request(Some("ListJobs"), t0 + std::time::Duration::from_millis(200));
        stats.count_request(None, t0 + std::time::Duration::from_millis(300));
        stats.note_running_jobs(5);
        stats.note_running_jobs(3);
        stats.count_fault(429);
        stats.count_fault_named("acted_drop");
        stats.count_submission("p");
        stats.count_rejection("q");
        stats.count_sim_request("SimConnect");
        stats.count_connection();
        assert_eq!(stats.requests.get("ListJobs"), Some(&2));
        assert_eq!(stats.requests.get("SimConnect"), Some(&1));
        assert_eq!(stats.total_requests, 3, "SimConnect is no /v1 request");
        assert_eq!(stats.connections_accepted, 1);
        assert_eq!(stats.faults_injected.get("429"), Some(&1));
        assert_eq!(stats.faults_injected.get("acted_drop"), Some(&1));
        assert_eq!(stats.submissions.get("p"), Some(&1));
        assert_eq!(stats.rejected.get("q"), Some(&1));
        // 0.9 s into one second, then 0.1 and 0.2 s into the next.
        assert_eq!(stats.busiest_second_requests, 2);
        assert_eq!(stats.peak_running_jobs, 5);
    }
}
