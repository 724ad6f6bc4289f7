//! A faithful local simulator of the Huawei Cloud CPH (Cloud Phone Host) v1 API, to run the
//! provider, the client and benchmarks without a cloud account.
//!
//! It serves the six batch operations, BatchShowPhoneConnectInfos, ShowJob, ListJobs,
//! ListCloudPhones and ShowCloudPhoneDetail with the real wire format; reads each request with cph-types (a batch
//! body checked against the JSON Schema `schemas/` publishes: a structural violation is a 400
//! naming the JSON pointer, a bad value inside one phone's entry that phone's rejection); verifies SDK-HMAC-SHA256 signatures and IAM
//! tokens as the gateway does; moves jobs running -> success/failed after a configurable duration
//! and phone statuses through the documented transitions; and injects faults (job failures, 429,
//! 5xx, latency before the service acts; a 500 or a dropped connection after a batch operation
//! was performed) on demand. An admin API under `/_sim/` exposes the fixture, the faults and the
//! per-route counters. BatchShowPhoneConnectInfos' tickets expire [`cph_types::TICKET_LIFETIME`]
//! (10 minutes) after their issue: `POST /_sim/connect` stands in for the phone's access gateway
//! and accepts a ticket presented for its phone and session until then, while the phone runs
//! ([`Simulator::ticket_is_valid`] asks whether a ticket is still valid, in process). The official Python SDK
//! (huaweicloudsdkcph) works against it: `scripts/check-python-sdk.sh` checks it, and the test
//! suite runs that check (`tests/python_sdk.rs`).
//!
//! Main types: [`SimConfig`] (start-up settings with documented defaults), [`Faults`] (the fault
//! model), [`Simulator`] (a running server and its in-process controls), [`Stats`] (counters),
//! [`SimError`] (every refusal, one variant per CPH code).
//!
//! ```
//! use cph_sim::{Faults, SimConfig, Simulator};
//!
//! # let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
//! # runtime.block_on(async {
//! let sim = Simulator::start(SimConfig { phones: 3, ..SimConfig::default() }).await?;
//! assert!(sim.base_url().starts_with("http://127.0.0.1:"));
//! assert_eq!(sim.phone_ids().len(), 3);
//! sim.set_faults(Faults { throttle_rate: 0.1, ..Faults::default() });
//! assert_eq!(sim.stats().total_requests, 0);
//! sim.shutdown().await;
//! # Ok::<(), std::io::Error>(())
//! # })?;
//! # Ok::<(), std::io::Error>(())
//! ```

mod auth;
mod backend;
mod clock;
mod config;
mod conn;
mod decode;
mod error;
mod ids;
mod lifecycle;
mod routes;
mod server;
mod stats;
mod tickets;

#[doc(hidden)]
pub use auth::fuzz_authenticate;
pub use backend::DETAIL_PROPERTY_BYTES_MAX;
pub use config::{
    DEFAULT_ACCESS_KEY, DEFAULT_AUTH_TOKEN, DEFAULT_JOB_DURATION, DEFAULT_JOB_RETENTION,
    DEFAULT_LISTEN, DEFAULT_PHONES, DEFAULT_PROJECT_ID, DEFAULT_SECRET_KEY, DEFAULT_SEED,
    DEFAULT_SERVER_ERROR_STATUS, Faults, SimConfig,
};
pub use error::{APIGW_API_NOT_FOUND, SIM_JOB_FAILED, SIM_PHONE_BUSY, SimError};
pub use server::Simulator;
pub use stats::Stats;
