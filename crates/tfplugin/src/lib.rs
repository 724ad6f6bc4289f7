#![cfg_attr(test, allow(clippy::unwrap_used))]
#![warn(missing_docs)]
//! A Terraform plugin runtime (protocol 6) for providers written in Rust; nothing in it is specific
//! to any cloud.
//!
//! It launches the way Terraform expects (magic cookie, protocol negotiation, unix socket in a
//! private directory, one handshake line on stdout, automatic mutual TLS pinned to the certificate
//! Terraform passes), serves `tfplugin6.Provider`, go-plugin's controller and the health service,
//! and turns the protocol's rules into types:
//!
//! - [`Value`] / [`Type`] / [`Number`]: null, unknown and known values of every Terraform type, with a
//!   type-driven msgpack codec ([`to_msgpack`], [`from_msgpack`]) and a tolerant JSON codec for stored
//!   state ([`from_json`], [`to_json`]); [`from_value`] / [`to_value`] bridge to serde models.
//! - [`Schema`] / [`Block`] / [`Attribute`] / [`NestedBlock`]: schemas as data, with plan modifiers
//!   (`requires_replace`, `use_state_for_unknown`), defaults, [`Validator`]s and cross-attribute rules
//!   ([`Block::exactly_one_of`]) declared with the attribute, and [`Schema::check`] for Terraform's
//!   schema rules; [`check_provider_schemas`] checks everything a provider serves. The runtime runs
//!   the validators at validate time and again before every create and update, when every value is
//!   known, so a value that was unknown at plan time is judged before anything is done with it.
//! - [`Provider`] / [`Resource`] / [`DataSource`]: the traits a provider implements. The runtime plans
//!   from the schema (unknown computed values, requires-replace paths, kept prior values), dispatches
//!   apply to create / update / delete, carries private state, catches panics as error diagnostics and,
//!   in debug builds, checks the plan and apply invariants Terraform enforces.
//! - [`Diagnostics`] with [`AttributePath`]s such as `phones[3].properties["key"]`.
//! - [`serve`] (and [`serve_async`]) with a [`ServeConfig`]; `--debug` gives reattach mode.
//!
//! ```
//! use tfplugin::{
//!     ApplyRequest, ApplyResponse, Attribute, Block, ConfigureRequest, Context, Diagnostics, Provider,
//!     Registry, Resource, Schema, Type, Value,
//! };
//!
//! struct Example;
//! struct Greeting;
//!
//! impl Resource<()> for Greeting {
//!     fn type_name(&self) -> String {
//!         "example_greeting".into()
//!     }
//!     fn schema(&self) -> Schema {
//!         Schema::new(0, Block::new()
//!             .attribute(Attribute::required("name", Type::String).requires_replace())
//!             .attribute(Attribute::computed("text", Type::String)))
//!     }
//!     async fn create(&self, _ctx: &Context<()>, req: ApplyRequest) -> ApplyResponse {
//!         let mut state = req.planned_state;
//!         let name = state.get("name").and_then(Value::as_str).unwrap_or_default().to_owned();
//!         state.set_path(&tfplugin::AttributePath::root("text"), Value::from(format!("hello {name}")));
//!         ApplyResponse::ok(state)
//!     }
//! }
//!
//! impl Provider for Example {
//!     type Data = ();
//!     fn schema(&self) -> Schema {
//!         Schema::default()
//!     }
//!     fn register(&self, registry: &mut Registry<()>) {
//!         registry.resource(Greeting);
//!     }
//!     async fn configure(&self, _req: ConfigureRequest, _diags: &mut Diagnostics) -> Option<()> {
//!         Some(())
//!     }
//! }
//!
//! assert_eq!(tfplugin::check_provider_schemas(&Example), Ok(()));
//! // In `main`: `tfplugin::serve(Example, tfplugin::ServeConfig::from_args("registry.terraform.io/example/example"))`
//! ```

#[allow(
    dead_code,
    missing_docs,
    unreachable_pub,
    clippy::all,
    clippy::pedantic
)]
pub(crate) mod proto {
    pub(crate) mod tfplugin6 {
        tonic::include_proto!("tfplugin6");
    }
    pub(crate) mod plugin {
        tonic::include_proto!("plugin");
    }
}

mod codec;
mod diag;
pub mod docs;
mod error;
mod fields;
mod grpc;
#[doc(hidden)]
pub mod inprocess;
mod log;
mod model;
mod plan;
mod provider;
mod schema;
mod serve;
mod surfaces;
mod tls;
mod validate;
mod value;

pub use codec::{from_json, from_json_bytes, from_msgpack, to_json, to_msgpack};
pub use diag::{
    AttributePath, DIAGNOSTICS_PER_ATTRIBUTE, Diagnostic, Diagnostics, PathStep, SHOWN_CHARS_MAX,
    Severity, shown,
};
pub use error::{Error, Result};
pub use fields::Fields;
pub use model::{Maybe, field_names, from_value, to_value};
pub use provider::{
    ApplyRequest, ApplyResponse, ClientCapabilities, ConfigureRequest, Context, DataSource,
    ImportResponse, PlanRequest, PlanResponse, Provider, RawState, ReadRequest, ReadResponse,
    Registry, Resource, check_provider_schemas,
};
pub use schema::{
    Attribute, AttributeType, Block, BlockNesting, NestedBlock, ObjectNesting, Presence, Schema,
};
pub use serve::{
    DANGER_ALLOW_PLAINTEXT, MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE, ServeConfig, serve, serve_async,
};
pub use surfaces::{
    Action, ActionProgress, EphemeralResource, IdentityAttribute, IdentitySchema, ListRequest,
    ListResource, ListResult, ListResults, OpenResponse, RenewResponse,
};
pub use tokio_util::sync::CancellationToken;
pub use validate::{ExactlyOneOf, Validator};
pub use value::{Number, Type, Value};
