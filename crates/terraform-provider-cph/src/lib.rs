//! The `cph` Terraform provider: batch operations on Huawei Cloud Cloud Phone Host phones, where the
//! unit of truth is the phone, not the batch.
//!
//! Built on [`tfplugin`] (the plugin protocol) and [`cph_http`] (the API client and job waiter):
//!
//! - [`CphProvider`]: the one list of what it serves: the action resources `cph_phone_restart`,
//!   `cph_phone_reset`, `cph_phone_restore` and `cph_phone_backup`, the declared-state resources
//!   `cph_phone_property` and `cph_phone_power` (drift read back and corrected per phone), and the
//!   `cph_phones` data source. Its configuration (settings with environment fallbacks, credentials,
//!   the client) lives apart, in [`ProviderData`]'s module.
//! - Every resource converges per phone through the same pieces: one reader of the phone list, a
//!   pure per-phone planner (which phones need work and why), one runner (submit, wait, resume) and
//!   per-phone records in state (`jobs`, keyed by phone id).
//! - [`PROVIDER_ADDRESS`]: where configurations find it; [`PROVIDER_VERSION`]: what it reports.
//!
//! ```
//! use terraform_provider_cph::CphProvider;
//! // Every schema the provider serves satisfies Terraform's rules.
//! assert_eq!(tfplugin::check_provider_schemas(&CphProvider), Ok(()));
//! ```
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod actions;
mod attributes;
mod config;
mod connection;
mod data_sources;
mod engine;
#[doc(hidden)]
pub mod fuzzing;
mod identity;
mod journal;
mod list_resources;
mod model;
mod phones;
mod planner;
mod provider;
#[doc(hidden)]
pub mod records;
#[doc(hidden)]
pub mod reference_docs;
mod report;
mod resources;
mod rollout;
mod runner;
mod timeouts;

pub use config::ProviderData;
pub use provider::{CphProvider, PROVIDER_ADDRESS, PROVIDER_VERSION};
