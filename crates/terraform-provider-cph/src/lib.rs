//! The `cph` Terraform provider: batch operations on Huawei Cloud Cloud Phone Host phones.
//!
//! Built on [`tfplugin`] (the plugin protocol) and [`cph_http`] (the API client and job waiter):
//!
//! - [`CphProvider`]: the provider configuration (with environment fallbacks) and the one list of
//!   what it serves: the action resources `cph_phone_restart`, `cph_phone_reset` and
//!   `cph_phone_restore` (creating one performs the batch operation and records each phone's
//!   result), the drift-aware `cph_phone_property`, and the `cph_phones` data source.
//! - [`PROVIDER_ADDRESS`]: where configurations find it.
//!
//! ```
//! use terraform_provider_cph::CphProvider;
//! // Every schema the provider serves satisfies Terraform's rules.
//! assert_eq!(tfplugin::check_provider_schemas(&CphProvider), Ok(()));
//! ```
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod action;
mod batch;
mod common;
mod data_sources;
mod provider;
mod resources;
mod validate;

pub use provider::{CphProvider, PROVIDER_ADDRESS, ProviderData};
