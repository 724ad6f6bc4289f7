//! The thin gRPC layer: per RPC decode, call the provider, encode. Provider failures become
//! diagnostics in an `Ok` response; panics are caught and become error diagnostics too.
//!
//! Every RPC of protocol 6.10 (Terraform 1.14 and 1.15) is written out here, so that a new proto is a
//! compile error until each of its RPCs is answered on purpose. What the runtime does not serve (resource
//! identity upgrades, moves across types, config generation, functions, state stores) is answered
//! `Unimplemented`, and so are the RPCs of ephemeral resources, list resources and actions when the provider
//! registers none of that kind: Terraform calls those RPCs only for what GetProviderSchema and GetMetadata
//! advertise. A type the provider does not have, of a kind it serves, is an error diagnostic. The two discovery RPCs newer
//! Terraform calls unconditionally, GetResourceIdentitySchemas (1.12+) and GetFunctions, answer "none".

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use futures_util::stream::BoxStream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use crate::codec::{from_json_bytes, from_msgpack, to_msgpack};
use crate::plan::{
    check_apply_result, check_plan_follows_config, mark_computed_unknown, replace_paths,
};
use crate::proto::plugin as gp;
use crate::proto::tfplugin6 as pb;
use crate::provider::{
    ActionEntry, DataSourceEntry, EphemeralEntry, ListResourceEntry, ResourceEntry,
};
use crate::{
    ApplyRequest, ClientCapabilities, ConfigureRequest, Context, Diagnostic, Diagnostics,
    PlanRequest, PlanResponse, Provider, RawState, ReadRequest, Registry, Schema, Type, Value,
};

/// Whether the plan/apply self-checks run (debug builds, like debug assertions).
const SELF_CHECKS: bool = cfg!(debug_assertions);

/// The phases of one RPC and how long each took, logged at debug level when the RPC ends
/// (`TF_LOG_PROVIDER=debug`), e.g. `rpc=PlanResourceChange phases="decode=12.1ms plan=3.0ms
/// modify_plan=40.2ms encode=8.3ms"`: where a provider's time goes with large values.
struct Phases {
    rpc: &'static str,
    last: Instant,
    done: Vec<(&'static str, Duration)>,
}

impl Phases {
    fn start(rpc: &'static str) -> Phases {
        Phases {
            rpc,
            last: Instant::now(),
            done: Vec::new(),
        }
    }

    /// Ends phase `name` (which began when the previous one ended).
    fn mark(&mut self, name: &'static str) {
        let now = Instant::now();
        self.done.push((name, now - self.last));
        self.last = now;
    }
}

impl Drop for Phases {
    fn drop(&mut self) {
        let total: Duration = self.done.iter().map(|(_, d)| *d).sum();
        let phases: Vec<String> = self
            .done
            .iter()
            .map(|(n, d)| format!("{n}={:.1}ms", d.as_secs_f64() * 1000.0))
            .collect();
        tracing::debug!(
            rpc = self.rpc,
            total_ms = total.as_secs_f64() * 1000.0,
            phases = %phases.join(" "),
            "rpc phases"
        );
    }
}

pub(crate) struct ProviderService<P: Provider> {
    provider: P,
    registry: Registry<P::Data>,
    provider_schema: Schema,
    provider_type: Type,
    data: RwLock<Option<Arc<P::Data>>>,
    stop: CancellationToken,
}

impl<P: Provider> ProviderService<P> {
    pub(crate) fn new(provider: P) -> Self {
        let mut registry = Registry::new();
        provider.register(&mut registry);
        let provider_schema = provider.schema();
        let provider_type = provider_schema.value_type();
        Self {
            provider,
            registry,
            provider_schema,
            provider_type,
            data: RwLock::new(None),
            stop: CancellationToken::new(),
        }
    }

    /// The value type of resource `name`'s schema.
    pub(crate) fn resource_type(&self, name: &str) -> Option<Type> {
        self.registry.resources.get(name).map(|e| e.ty.clone())
    }

    /// The value type of the provider's configuration.
    pub(crate) fn provider_value_type(&self) -> Type {
        self.provider_type.clone()
    }

    /// The context of one request: the configured data, the stop signal, and what the calling Terraform
    /// said it can handle (`None` for RPCs that carry no capabilities, and from Terraform before 1.9).
    fn context(&self, capabilities: Option<&pb::ClientCapabilities>) -> Context<P::Data> {
        let data = self
            .data
            .read()
            .map(|d| d.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone());
        Context::new(data, self.stop.clone(), client_capabilities(capabilities))
    }

    fn resource(&self, name: &str) -> Result<&ResourceEntry<P::Data>, Diagnostics> {
        self.registry.resources.get(name).ok_or_else(|| {
            Diagnostic::error(
                "Unknown Resource Type",
                format!("this provider has no resource type {name:?}"),
            )
            .into()
        })
    }

    fn data_source(&self, name: &str) -> Result<&DataSourceEntry<P::Data>, Diagnostics> {
        self.registry.data_sources.get(name).ok_or_else(|| {
            Diagnostic::error(
                "Unknown Data Source Type",
                format!("this provider has no data source type {name:?}"),
            )
            .into()
        })
    }

    /// `Ok` when the provider registered an ephemeral resource, else `rpc` is not served.
    fn serves_ephemeral_resources(&self, rpc: &str) -> Result<(), Status> {
        served(
            !self.registry.ephemeral_resources.is_empty(),
            rpc,
            "ephemeral resources",
        )
    }

    /// `Ok` when the provider registered a list resource, else `rpc` is not served.
    fn serves_list_resources(&self, rpc: &str) -> Result<(), Status> {
        served(
            !self.registry.list_resources.is_empty(),
            rpc,
            "list resources",
        )
    }

    /// `Ok` when the provider registered an action, else `rpc` is not served.
    fn serves_actions(&self, rpc: &str) -> Result<(), Status> {
        served(!self.registry.actions.is_empty(), rpc, "actions")
    }

    fn action(&self, name: &str) -> Result<&ActionEntry<P::Data>, Diagnostics> {
        self.registry.actions.get(name).ok_or_else(|| {
            Diagnostic::error(
                "Unknown Action Type",
                format!("this provider has no action type {name:?}"),
            )
            .into()
        })
    }

    fn list_entry(&self, name: &str) -> Result<&ListResourceEntry<P::Data>, Diagnostics> {
        self.registry.list_resources.get(name).ok_or_else(|| {
            Diagnostic::error(
                "Unknown List Resource Type",
                format!("this provider has no list resource type {name:?}"),
            )
            .into()
        })
    }

    fn ephemeral(&self, name: &str) -> Result<&EphemeralEntry<P::Data>, Diagnostics> {
        self.registry.ephemeral_resources.get(name).ok_or_else(|| {
            Diagnostic::error(
                "Unknown Ephemeral Resource Type",
                format!("this provider has no ephemeral resource type {name:?}"),
            )
            .into()
        })
    }
}

/// The sending end of a server stream's events.
type EventSender<T> = tokio::sync::mpsc::UnboundedSender<Result<T, Status>>;

/// A channel whose receiving end is a server stream: what a streamed RPC sends, event by event.
fn event_stream<T: Send + 'static>() -> (EventSender<T>, BoxStream<'static, Result<T, Status>>) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    (
        tx,
        Box::pin(tokio_stream::wrappers::UnboundedReceiverStream::new(rx)),
    )
}

/// The identity of `state` for a resource with an identity, encoded; `None` otherwise.
fn identity_of<D>(entry: &ResourceEntry<D>, state: &Value) -> Option<pb::ResourceIdentityData> {
    let (_, ty) = entry.identity.as_ref()?;
    if state.is_null() {
        return None;
    }
    let identity = entry.imp.identity(state)?;
    if !identity.is_wholly_known() {
        return None;
    }
    encode(&identity, ty).ok().map(identity_data)
}

fn identity_data(value: pb::DynamicValue) -> pb::ResourceIdentityData {
    pb::ResourceIdentityData {
        identity_data: Some(value),
    }
}

fn identity_schema_to_proto(schema: &crate::IdentitySchema) -> pb::ResourceIdentitySchema {
    pb::ResourceIdentitySchema {
        version: schema.version,
        identity_attributes: schema
            .attributes
            .iter()
            .map(|a| pb::resource_identity_schema::IdentityAttribute {
                name: a.name.clone(),
                r#type: a.ty.to_json_bytes(),
                required_for_import: a.required_for_import,
                optional_for_import: !a.required_for_import,
                description: a.description.clone(),
            })
            .collect(),
    }
}

fn timestamp(at: std::time::SystemTime) -> prost_types::Timestamp {
    let since = at.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    prost_types::Timestamp {
        seconds: i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
        nanos: i32::try_from(since.subsec_nanos()).unwrap_or(0),
    }
}

/// The capabilities a request carries; an absent message (older Terraform) allows nothing.
fn client_capabilities(capabilities: Option<&pb::ClientCapabilities>) -> ClientCapabilities {
    capabilities.map_or_else(ClientCapabilities::default, |c| ClientCapabilities {
        deferral_allowed: c.deferral_allowed,
        write_only_attributes_allowed: c.write_only_attributes_allowed,
    })
}

/// `Ok` when the provider serves some `what` (it registered at least one), else the
/// [`not_served`] answer for `rpc`.
fn served(any: bool, rpc: &str, what: &str) -> Result<(), Status> {
    if any {
        Ok(())
    } else {
        Err(not_served(rpc, what))
    }
}

/// The answer to an RPC of a feature this runtime serves none of (see the module's documentation).
fn not_served(rpc: &str, what: &str) -> Status {
    Status::unimplemented(format!(
        "{rpc}: this provider serves no {what} (it advertises none in GetProviderSchema)"
    ))
}

fn decode(value: Option<&pb::DynamicValue>, ty: &Type) -> Result<Value, Diagnostics> {
    let Some(dv) = value else {
        return Ok(Value::Null);
    };
    let decoded = if !dv.msgpack.is_empty() {
        from_msgpack(&dv.msgpack, ty)
    } else if !dv.json.is_empty() {
        from_json_bytes(&dv.json, ty)
    } else {
        Ok(Value::Null)
    };
    decoded.map_err(|e| Diagnostic::error("Invalid Value From Terraform", e.to_string()).into())
}

fn encode(value: &Value, ty: &Type) -> Result<pb::DynamicValue, Diagnostics> {
    to_msgpack(value, ty)
        .map(|msgpack| pb::DynamicValue {
            msgpack,
            json: Vec::new(),
        })
        .map_err(|e| {
            Diagnostic::error(
                "Provider Produced Invalid Value",
                format!("{e} (provider bug)"),
            )
            .into()
        })
}

/// Runs `fut`, turning a panic into an error diagnostic so it never crosses the RPC.
async fn guarded<T>(
    fut: impl std::future::Future<Output = T>,
    on_panic: impl FnOnce(Diagnostics) -> T,
) -> T {
    match AssertUnwindSafe(fut).catch_unwind().await {
        Ok(v) => v,
        Err(payload) => {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic payload".to_owned());
            tracing::error!(panic = %msg, "provider panicked");
            on_panic(
                Diagnostic::error(
                    "Provider Panicked",
                    format!("the provider panicked while handling the request: {msg}; please report this bug"),
                )
                .into(),
            )
        }
    }
}

/// The errors of `diags` (warnings were shown when the configuration was validated).
fn errors_only(diags: Diagnostics) -> Diagnostics {
    let mut errors = Diagnostics::new();
    for d in diags {
        if d.severity == crate::Severity::Error {
            errors.push(d);
        }
    }
    errors
}

fn diags_of(r: Result<Diagnostics, Diagnostics>) -> Vec<pb::Diagnostic> {
    match r {
        Ok(d) | Err(d) => d.to_proto(),
    }
}

#[tonic::async_trait]
impl<P: Provider> pb::provider_server::Provider for ProviderService<P> {
    async fn get_metadata(
        &self,
        _request: Request<pb::get_metadata::Request>,
    ) -> Result<Response<pb::get_metadata::Response>, Status> {
        Ok(Response::new(pb::get_metadata::Response {
            server_capabilities: Some(server_capabilities()),
            diagnostics: Vec::new(),
            data_sources: self
                .registry
                .data_sources
                .keys()
                .map(|k| pb::get_metadata::DataSourceMetadata {
                    type_name: k.clone(),
                })
                .collect(),
            resources: self
                .registry
                .resources
                .keys()
                .map(|k| pb::get_metadata::ResourceMetadata {
                    type_name: k.clone(),
                })
                .collect(),
            functions: Vec::new(),
            ephemeral_resources: self
                .registry
                .ephemeral_resources
                .keys()
                .map(|k| pb::get_metadata::EphemeralMetadata {
                    type_name: k.clone(),
                })
                .collect(),
            list_resources: self
                .registry
                .list_resources
                .keys()
                .map(|k| pb::get_metadata::ListResourceMetadata {
                    type_name: k.clone(),
                })
                .collect(),
            state_stores: Vec::new(),
            actions: self
                .registry
                .actions
                .keys()
                .map(|k| pb::get_metadata::ActionMetadata {
                    type_name: k.clone(),
                })
                .collect(),
        }))
    }

    async fn get_provider_schema(
        &self,
        _request: Request<pb::get_provider_schema::Request>,
    ) -> Result<Response<pb::get_provider_schema::Response>, Status> {
        Ok(Response::new(pb::get_provider_schema::Response {
            provider: Some(self.provider_schema.to_proto()),
            resource_schemas: self
                .registry
                .resources
                .iter()
                .map(|(k, e)| (k.clone(), e.schema.to_proto()))
                .collect(),
            data_source_schemas: self
                .registry
                .data_sources
                .iter()
                .map(|(k, e)| (k.clone(), e.schema.to_proto()))
                .collect(),
            functions: Default::default(),
            ephemeral_resource_schemas: self
                .registry
                .ephemeral_resources
                .iter()
                .map(|(k, e)| (k.clone(), e.schema.to_proto()))
                .collect(),
            list_resource_schemas: self
                .registry
                .list_resources
                .iter()
                .map(|(k, e)| (k.clone(), e.schema.to_proto()))
                .collect(),
            state_store_schemas: Default::default(),
            action_schemas: self
                .registry
                .actions
                .iter()
                .map(|(k, e)| {
                    (
                        k.clone(),
                        pb::ActionSchema {
                            schema: Some(e.schema.to_proto()),
                        },
                    )
                })
                .collect(),
            diagnostics: Vec::new(),
            provider_meta: None,
            server_capabilities: Some(server_capabilities()),
        }))
    }

    async fn get_resource_identity_schemas(
        &self,
        _request: Request<pb::get_resource_identity_schemas::Request>,
    ) -> Result<Response<pb::get_resource_identity_schemas::Response>, Status> {
        Ok(Response::new(pb::get_resource_identity_schemas::Response {
            identity_schemas: self
                .registry
                .resources
                .iter()
                .filter_map(|(k, e)| {
                    let (schema, _) = e.identity.as_ref()?;
                    Some((k.clone(), identity_schema_to_proto(schema)))
                })
                .collect(),
            diagnostics: Vec::new(),
        }))
    }

    async fn upgrade_resource_identity(
        &self,
        request: Request<pb::upgrade_resource_identity::Request>,
    ) -> Result<Response<pb::upgrade_resource_identity::Response>, Status> {
        let req = request.into_inner();
        let run = async {
            let entry = self.resource(&req.type_name)?;
            let Some((_, ty)) = &entry.identity else {
                return Err(Diagnostics::from(Diagnostic::error(
                    "No Identity",
                    format!("resource type {} has no identity", req.type_name),
                )));
            };
            // Every version so far has the same attributes: stored identity is read with today's type,
            // tolerating attributes added or removed since.
            let json = req.raw_identity.map(|r| r.json).unwrap_or_default();
            let value = from_json_bytes(&json, ty).map_err(Diagnostics::from)?;
            Ok(pb::upgrade_resource_identity::Response {
                upgraded_identity: Some(identity_data(encode(&value, ty)?)),
                diagnostics: Vec::new(),
            })
        };
        let failed = |d: Diagnostics| pb::upgrade_resource_identity::Response {
            upgraded_identity: None,
            diagnostics: d.to_proto(),
        };
        let resp = guarded(async { run.await.unwrap_or_else(&failed) }, &failed).await;
        Ok(Response::new(resp))
    }

    async fn validate_provider_config(
        &self,
        request: Request<pb::validate_provider_config::Request>,
    ) -> Result<Response<pb::validate_provider_config::Response>, Status> {
        let req = request.into_inner();
        let run = async {
            let config = decode(req.config.as_ref(), &self.provider_type)?;
            let mut diags = self.provider_schema.validate(&config);
            diags.extend(self.provider.validate(&config));
            Ok(diags)
        };
        let diagnostics = guarded(async { diags_of(run.await) }, |d| d.to_proto()).await;
        Ok(Response::new(pb::validate_provider_config::Response {
            diagnostics,
        }))
    }

    async fn validate_resource_config(
        &self,
        request: Request<pb::validate_resource_config::Request>,
    ) -> Result<Response<pb::validate_resource_config::Response>, Status> {
        let req = request.into_inner();
        let mut phases = Phases::start("ValidateResourceConfig");
        let run = async {
            let entry = self.resource(&req.type_name)?;
            let config = decode(req.config.as_ref(), &entry.ty)?;
            phases.mark("decode");
            let mut diags = entry.schema.validate(&config);
            diags.extend(entry.imp.validate(&config));
            phases.mark("validate");
            Ok(diags)
        };
        let diagnostics = guarded(async { diags_of(run.await) }, |d| d.to_proto()).await;
        Ok(Response::new(pb::validate_resource_config::Response {
            diagnostics,
        }))
    }

    async fn validate_data_resource_config(
        &self,
        request: Request<pb::validate_data_resource_config::Request>,
    ) -> Result<Response<pb::validate_data_resource_config::Response>, Status> {
        let req = request.into_inner();
        let run = async {
            let entry = self.data_source(&req.type_name)?;
            let config = decode(req.config.as_ref(), &entry.ty)?;
            let mut diags = entry.schema.validate(&config);
            diags.extend(entry.imp.validate(&config));
            Ok(diags)
        };
        let diagnostics = guarded(async { diags_of(run.await) }, |d| d.to_proto()).await;
        Ok(Response::new(pb::validate_data_resource_config::Response {
            diagnostics,
        }))
    }

    async fn upgrade_resource_state(
        &self,
        request: Request<pb::upgrade_resource_state::Request>,
    ) -> Result<Response<pb::upgrade_resource_state::Response>, Status> {
        let req = request.into_inner();
        let mut phases = Phases::start("UpgradeResourceState");
        let run = async {
            let entry = self.resource(&req.type_name)?;
            let raw = req.raw_state.unwrap_or_default();
            let raw = RawState {
                json: raw.json,
                flatmap: raw.flatmap.into_iter().collect(),
            };
            let mut value = entry.imp.upgrade_state(req.version, raw)?;
            phases.mark("upgrade");
            entry.schema.block.normalize(&mut value);
            phases.mark("normalize");
            let encoded = encode(&value, &entry.ty);
            phases.mark("encode");
            encoded
        };
        let resp = guarded(
            async {
                match run.await {
                    Ok(state) => pb::upgrade_resource_state::Response {
                        upgraded_state: Some(state),
                        diagnostics: vec![],
                    },
                    Err(d) => pb::upgrade_resource_state::Response {
                        upgraded_state: None,
                        diagnostics: d.to_proto(),
                    },
                }
            },
            |d| pb::upgrade_resource_state::Response {
                upgraded_state: None,
                diagnostics: d.to_proto(),
            },
        )
        .await;
        Ok(Response::new(resp))
    }

    async fn configure_provider(
        &self,
        request: Request<pb::configure_provider::Request>,
    ) -> Result<Response<pb::configure_provider::Response>, Status> {
        let req = request.into_inner();
        let run = async {
            let config = decode(req.config.as_ref(), &self.provider_type)?;
            let mut diags = Diagnostics::new();
            let data = self
                .provider
                .configure(
                    ConfigureRequest {
                        config,
                        terraform_version: req.terraform_version,
                        client_capabilities: client_capabilities(req.client_capabilities.as_ref()),
                    },
                    &mut diags,
                )
                .await;
            match data {
                Some(d) if !diags.has_errors() => {
                    let mut slot = self.data.write().unwrap_or_else(|p| p.into_inner());
                    *slot = Some(Arc::new(d));
                }
                Some(_) => {}
                None if !diags.has_errors() => diags.error(
                    "Provider Configuration Failed",
                    "the provider declined its configuration without saying why (provider bug)",
                ),
                None => {}
            }
            Ok(diags)
        };
        let diagnostics = guarded(async { diags_of(run.await) }, |d| d.to_proto()).await;
        Ok(Response::new(pb::configure_provider::Response {
            diagnostics,
        }))
    }

    async fn read_resource(
        &self,
        request: Request<pb::read_resource::Request>,
    ) -> Result<Response<pb::read_resource::Response>, Status> {
        let req = request.into_inner();
        let fallback_state = req.current_state.clone();
        let fallback_private = req.private.clone();
        let fallback_identity = req.current_identity.clone();
        let ctx = self.context(req.client_capabilities.as_ref());
        let mut phases = Phases::start("ReadResource");
        let run = async {
            let entry = self.resource(&req.type_name)?;
            let current = decode(req.current_state.as_ref(), &entry.ty)?;
            phases.mark("decode");
            let mut out = entry
                .imp
                .read(
                    &ctx,
                    ReadRequest {
                        current_state: current,
                        private: req.private,
                    },
                )
                .await;
            phases.mark("read");
            entry.schema.block.normalize(&mut out.new_state);
            phases.mark("normalize");
            let mut diags = out.diagnostics;
            let state = match encode(&out.new_state, &entry.ty) {
                Ok(s) => Some(s),
                Err(e) => {
                    diags.extend(e);
                    return Err(diags);
                }
            };
            let new_identity = identity_of(entry, &out.new_state);
            phases.mark("encode");
            Ok(pb::read_resource::Response {
                new_state: state,
                diagnostics: diags.to_proto(),
                private: out.private,
                deferred: None,
                new_identity,
            })
        };
        let failed = |d: Diagnostics| pb::read_resource::Response {
            new_state: fallback_state.clone(),
            diagnostics: d.to_proto(),
            private: fallback_private.clone(),
            deferred: None,
            new_identity: fallback_identity.clone(),
        };
        let resp = guarded(async { run.await.unwrap_or_else(&failed) }, &failed).await;
        Ok(Response::new(resp))
    }

    async fn plan_resource_change(
        &self,
        request: Request<pb::plan_resource_change::Request>,
    ) -> Result<Response<pb::plan_resource_change::Response>, Status> {
        let req = request.into_inner();
        let ctx = self.context(req.client_capabilities.as_ref());
        let prior_identity = req.prior_identity.clone();
        let mut phases = Phases::start("PlanResourceChange");
        let run = async {
            let entry = self.resource(&req.type_name)?;
            let prior = decode(req.prior_state.as_ref(), &entry.ty)?;
            let proposed = decode(req.proposed_new_state.as_ref(), &entry.ty)?;
            let config = decode(req.config.as_ref(), &entry.ty)?;
            phases.mark("decode");
            let block = &entry.schema.block;
            let mut plan = PlanResponse {
                planned_private: req.prior_private.clone(),
                ..PlanResponse::default()
            };
            if proposed.is_null() {
                plan.planned_state = Value::Null;
            } else {
                let changing = prior.is_null() || !proposed.semantically_equals(&prior);
                let mut planned = proposed.clone();
                mark_computed_unknown(block, &mut planned, &config, &prior, changing);
                plan.requires_replace = replace_paths(block, &prior, &planned);
                plan.planned_state = planned;
                // The values move into the request (no copies: plans of thousands of objects are large).
                let plan_req = PlanRequest {
                    prior_state: prior,
                    proposed_new_state: proposed,
                    config,
                    prior_private: req.prior_private,
                };
                phases.mark("plan");
                entry.imp.modify_plan(&ctx, &plan_req, &mut plan).await;
                phases.mark("modify_plan");
                block.normalize(&mut plan.planned_state);
                if SELF_CHECKS {
                    plan.diagnostics.extend(check_plan_follows_config(
                        block,
                        &plan_req.config,
                        &plan.planned_state,
                    ));
                }
                phases.mark("checks");
            }
            let planned_state = encode(&plan.planned_state, &entry.ty)?;
            // The identity the plan leads to; while it is not known yet, the prior one stands (an
            // update must plan a known identity).
            let planned_identity = if plan.planned_state.is_null() {
                None
            } else {
                identity_of(entry, &plan.planned_state).or(prior_identity)
            };
            phases.mark("encode");
            Ok(pb::plan_resource_change::Response {
                planned_state: Some(planned_state),
                requires_replace: plan.requires_replace.iter().map(|p| p.to_proto()).collect(),
                planned_private: plan.planned_private,
                diagnostics: plan.diagnostics.to_proto(),
                legacy_type_system: false,
                deferred: None,
                planned_identity,
            })
        };
        let failed = |d: Diagnostics| pb::plan_resource_change::Response {
            diagnostics: d.to_proto(),
            ..Default::default()
        };
        let resp = guarded(async { run.await.unwrap_or_else(&failed) }, &failed).await;
        Ok(Response::new(resp))
    }

    async fn apply_resource_change(
        &self,
        request: Request<pb::apply_resource_change::Request>,
    ) -> Result<Response<pb::apply_resource_change::Response>, Status> {
        let req = request.into_inner();
        let fallback_state = req.prior_state.clone();
        // ApplyResourceChange carries no client capabilities.
        let ctx = self.context(None);
        let mut phases = Phases::start("ApplyResourceChange");
        let run = async {
            let entry = self.resource(&req.type_name)?;
            let prior = decode(req.prior_state.as_ref(), &entry.ty)?;
            let planned = decode(req.planned_state.as_ref(), &entry.ty)?;
            let config = decode(req.config.as_ref(), &entry.ty)?;
            phases.mark("decode");
            let deleting = planned.is_null();
            let creating = prior.is_null();
            // The values move into the request (no copies: states of thousands of phones are large);
            // the self-check of debug builds keeps the plan.
            let planned_for_check = (SELF_CHECKS && !deleting).then(|| planned.clone());
            let apply = ApplyRequest {
                prior_state: prior,
                planned_state: planned,
                config,
                planned_private: req.planned_private,
            };
            // Values unknown at validate time are known now: judge them before anything is done.
            let invalid = if deleting {
                Diagnostics::new()
            } else {
                errors_only(entry.schema.validate(&apply.config))
            };
            let mut out = if invalid.has_errors() {
                crate::ApplyResponse {
                    new_state: apply.prior_state,
                    private: apply.planned_private,
                    diagnostics: invalid,
                }
            } else if deleting {
                let prior = apply.prior_state.clone();
                let diagnostics = entry.imp.delete(&ctx, apply).await;
                // A failed delete keeps the object in state; a successful one removes it.
                let new_state = if diagnostics.has_errors() {
                    prior
                } else {
                    Value::Null
                };
                crate::ApplyResponse {
                    new_state,
                    private: Vec::new(),
                    diagnostics,
                }
            } else if creating {
                entry.imp.create(&ctx, apply).await
            } else {
                entry.imp.update(&ctx, apply).await
            };
            phases.mark("apply");
            entry.schema.block.normalize(&mut out.new_state);
            if let Some(planned) = planned_for_check.filter(|_| !out.diagnostics.has_errors()) {
                out.diagnostics
                    .extend(check_apply_result(&planned, &out.new_state));
            }
            phases.mark("checks");
            let mut diags = out.diagnostics;
            let new_state = match encode(&out.new_state, &entry.ty) {
                Ok(s) => s,
                Err(e) => {
                    diags.extend(e);
                    return Err(diags);
                }
            };
            let new_identity = identity_of(entry, &out.new_state);
            phases.mark("encode");
            Ok(pb::apply_resource_change::Response {
                new_state: Some(new_state),
                private: out.private,
                diagnostics: diags.to_proto(),
                legacy_type_system: false,
                new_identity,
            })
        };
        let failed = |d: Diagnostics| pb::apply_resource_change::Response {
            new_state: fallback_state.clone(),
            private: Vec::new(),
            diagnostics: d.to_proto(),
            legacy_type_system: false,
            new_identity: None,
        };
        let resp = guarded(async { run.await.unwrap_or_else(&failed) }, &failed).await;
        Ok(Response::new(resp))
    }

    async fn import_resource_state(
        &self,
        request: Request<pb::import_resource_state::Request>,
    ) -> Result<Response<pb::import_resource_state::Response>, Status> {
        let req = request.into_inner();
        let ctx = self.context(req.client_capabilities.as_ref());
        let run = async {
            let entry = self.resource(&req.type_name)?;
            let by_identity = req
                .identity
                .as_ref()
                .and_then(|i| i.identity_data.as_ref())
                .filter(|_| req.id.is_empty());
            let mut out = match (by_identity, &entry.identity) {
                (Some(data), Some((_, ty))) => {
                    let identity = decode(Some(data), ty)?;
                    entry.imp.import_identity(&ctx, identity).await
                }
                _ => entry.imp.import(&ctx, req.id).await,
            };
            if out.diagnostics.has_errors() {
                return Err(out.diagnostics);
            }
            entry.schema.block.normalize(&mut out.state);
            let state = encode(&out.state, &entry.ty)?;
            Ok(pb::import_resource_state::Response {
                imported_resources: vec![pb::import_resource_state::ImportedResource {
                    type_name: req.type_name.clone(),
                    identity: identity_of(entry, &out.state),
                    state: Some(state),
                    private: out.private,
                }],
                diagnostics: out.diagnostics.to_proto(),
                deferred: None,
            })
        };
        let failed = |d: Diagnostics| pb::import_resource_state::Response {
            imported_resources: Vec::new(),
            diagnostics: d.to_proto(),
            deferred: None,
        };
        let resp = guarded(async { run.await.unwrap_or_else(&failed) }, &failed).await;
        Ok(Response::new(resp))
    }

    async fn read_data_source(
        &self,
        request: Request<pb::read_data_source::Request>,
    ) -> Result<Response<pb::read_data_source::Response>, Status> {
        let req = request.into_inner();
        let ctx = self.context(req.client_capabilities.as_ref());
        let run = async {
            let entry = self.data_source(&req.type_name)?;
            let config = decode(req.config.as_ref(), &entry.ty)?;
            let (mut state, mut diags) = entry.imp.read(&ctx, config).await;
            entry.schema.block.normalize(&mut state);
            if SELF_CHECKS && !diags.has_errors() && !state.is_wholly_known() {
                diags.error(
                    "Provider Produced Invalid Result",
                    "a data source returned unknown values (provider bug)",
                );
            }
            let state = encode(&state, &entry.ty)?;
            Ok(pb::read_data_source::Response {
                state: Some(state),
                diagnostics: diags.to_proto(),
                deferred: None,
            })
        };
        let failed = |d: Diagnostics| pb::read_data_source::Response {
            state: None,
            diagnostics: d.to_proto(),
            deferred: None,
        };
        let resp = guarded(async { run.await.unwrap_or_else(&failed) }, &failed).await;
        Ok(Response::new(resp))
    }

    async fn move_resource_state(
        &self,
        _request: Request<pb::move_resource_state::Request>,
    ) -> Result<Response<pb::move_resource_state::Response>, Status> {
        Err(not_served(
            "MoveResourceState",
            "moves from other resource types",
        ))
    }

    async fn generate_resource_config(
        &self,
        _request: Request<pb::generate_resource_config::Request>,
    ) -> Result<Response<pb::generate_resource_config::Response>, Status> {
        Err(not_served(
            "GenerateResourceConfig",
            "generated configuration",
        ))
    }

    async fn validate_ephemeral_resource_config(
        &self,
        request: Request<pb::validate_ephemeral_resource_config::Request>,
    ) -> Result<Response<pb::validate_ephemeral_resource_config::Response>, Status> {
        self.serves_ephemeral_resources("ValidateEphemeralResourceConfig")?;
        let req = request.into_inner();
        let run = async {
            let entry = self.ephemeral(&req.type_name)?;
            let config = decode(req.config.as_ref(), &entry.ty)?;
            Ok(entry.schema.validate(&config))
        };
        let diagnostics = guarded(async { diags_of(run.await) }, |d| d.to_proto()).await;
        Ok(Response::new(
            pb::validate_ephemeral_resource_config::Response { diagnostics },
        ))
    }

    async fn open_ephemeral_resource(
        &self,
        request: Request<pb::open_ephemeral_resource::Request>,
    ) -> Result<Response<pb::open_ephemeral_resource::Response>, Status> {
        self.serves_ephemeral_resources("OpenEphemeralResource")?;
        let req = request.into_inner();
        let ctx = self.context(req.client_capabilities.as_ref());
        let run = async {
            let entry = self.ephemeral(&req.type_name)?;
            let config = decode(req.config.as_ref(), &entry.ty)?;
            let invalid = errors_only(entry.schema.validate(&config));
            if invalid.has_errors() {
                return Err(invalid);
            }
            let mut out = entry.imp.open(&ctx, config).await;
            if out.diagnostics.has_errors() {
                return Err(out.diagnostics);
            }
            entry.schema.block.normalize(&mut out.result);
            let result = encode(&out.result, &entry.ty)?;
            Ok(pb::open_ephemeral_resource::Response {
                diagnostics: out.diagnostics.to_proto(),
                renew_at: out.renew_at.map(timestamp),
                result: Some(result),
                private: Some(out.private),
                deferred: None,
            })
        };
        let failed = |d: Diagnostics| pb::open_ephemeral_resource::Response {
            diagnostics: d.to_proto(),
            ..Default::default()
        };
        let resp = guarded(async { run.await.unwrap_or_else(&failed) }, &failed).await;
        Ok(Response::new(resp))
    }

    async fn renew_ephemeral_resource(
        &self,
        request: Request<pb::renew_ephemeral_resource::Request>,
    ) -> Result<Response<pb::renew_ephemeral_resource::Response>, Status> {
        self.serves_ephemeral_resources("RenewEphemeralResource")?;
        let req = request.into_inner();
        let ctx = self.context(None);
        let run = async {
            let entry = self.ephemeral(&req.type_name)?;
            let out = entry.imp.renew(&ctx, req.private.unwrap_or_default()).await;
            Ok(pb::renew_ephemeral_resource::Response {
                diagnostics: out.diagnostics.to_proto(),
                renew_at: out.renew_at.map(timestamp),
                private: Some(out.private),
            })
        };
        let failed = |d: Diagnostics| pb::renew_ephemeral_resource::Response {
            diagnostics: d.to_proto(),
            ..Default::default()
        };
        let resp = guarded(async { run.await.unwrap_or_else(&failed) }, &failed).await;
        Ok(Response::new(resp))
    }

    async fn close_ephemeral_resource(
        &self,
        request: Request<pb::close_ephemeral_resource::Request>,
    ) -> Result<Response<pb::close_ephemeral_resource::Response>, Status> {
        self.serves_ephemeral_resources("CloseEphemeralResource")?;
        let req = request.into_inner();
        let ctx = self.context(None);
        let run = async {
            let entry = self.ephemeral(&req.type_name)?;
            Ok(entry.imp.close(&ctx, req.private.unwrap_or_default()).await)
        };
        let diagnostics = guarded(async { diags_of(run.await) }, |d| d.to_proto()).await;
        Ok(Response::new(pb::close_ephemeral_resource::Response {
            diagnostics,
        }))
    }

    type ListResourceStream = BoxStream<'static, Result<pb::list_resource::Event, Status>>;

    async fn list_resource(
        &self,
        request: Request<pb::list_resource::Request>,
    ) -> Result<Response<Self::ListResourceStream>, Status> {
        self.serves_list_resources("ListResource")?;
        let req = request.into_inner();
        let ctx = self.context(None);
        let (events, stream) = event_stream();
        let only_diagnostics = |d: Diagnostics| pb::list_resource::Event {
            diagnostic: d.to_proto(),
            ..Default::default()
        };
        let prepared = (|| {
            let entry = self.list_entry(&req.type_name)?;
            let resource = self.resource(&req.type_name)?;
            let Some((_, identity_ty)) = resource.identity.clone() else {
                return Err(Diagnostics::from(Diagnostic::error(
                    "No Identity",
                    format!("resource type {} has no identity to list", req.type_name),
                )));
            };
            let config = decode(req.config.as_ref(), &entry.ty)?;
            let invalid = errors_only(entry.schema.validate(&config));
            if invalid.has_errors() {
                return Err(invalid);
            }
            Ok((
                Arc::clone(&entry.imp),
                config,
                identity_ty,
                resource.ty.clone(),
            ))
        })();
        let (imp, config, identity_ty, object_ty) = match prepared {
            Ok(p) => p,
            Err(diags) => {
                let _ = events.send(Ok(only_diagnostics(diags)));
                return Ok(Response::new(stream));
            }
        };
        let include = req.include_resource_object;
        let limit = u64::try_from(req.limit).unwrap_or(0);
        tokio::spawn(async move {
            let (results_tx, mut results) = tokio::sync::mpsc::unbounded_channel();
            let list_req = crate::ListRequest {
                config,
                include_resource_object: include,
                limit,
            };
            let listing = guarded(
                imp.list(&ctx, list_req, crate::ListResults::new(results_tx)),
                |d| d,
            );
            tokio::pin!(listing);
            let mut sent: u64 = 0;
            let send = |result: crate::ListResult| -> pb::list_resource::Event {
                let mut diags = Diagnostics::new();
                let identity = encode(&result.identity, &identity_ty)
                    .map_err(|e| diags.extend(e))
                    .ok()
                    .map(identity_data);
                let resource_object = result
                    .resource_object
                    .filter(|_| include)
                    .and_then(|o| encode(&o, &object_ty).map_err(|e| diags.extend(e)).ok());
                pb::list_resource::Event {
                    identity,
                    display_name: result.display_name,
                    resource_object,
                    diagnostic: diags.to_proto(),
                }
            };
            let final_diags = loop {
                tokio::select! {
                    Some(result) = results.recv() => {
                        if limit == 0 || sent < limit {
                            sent += 1;
                            if events.send(Ok(send(result))).is_err() {
                                break Diagnostics::new();
                            }
                        }
                    }
                    diags = &mut listing => {
                        while let Ok(result) = results.try_recv() {
                            if limit == 0 || sent < limit {
                                sent += 1;
                                let _ = events.send(Ok(send(result)));
                            }
                        }
                        break diags;
                    }
                }
            };
            if !final_diags.is_empty() {
                let _ = events.send(Ok(only_diagnostics(final_diags)));
            }
        });
        Ok(Response::new(stream))
    }

    async fn validate_list_resource_config(
        &self,
        request: Request<pb::validate_list_resource_config::Request>,
    ) -> Result<Response<pb::validate_list_resource_config::Response>, Status> {
        self.serves_list_resources("ValidateListResourceConfig")?;
        let req = request.into_inner();
        let run = async {
            let entry = self.list_entry(&req.type_name)?;
            let config = decode(req.config.as_ref(), &entry.ty)?;
            Ok(entry.schema.validate(&config))
        };
        let diagnostics = guarded(async { diags_of(run.await) }, |d| d.to_proto()).await;
        Ok(Response::new(pb::validate_list_resource_config::Response {
            diagnostics,
        }))
    }

    async fn get_functions(
        &self,
        _request: Request<pb::get_functions::Request>,
    ) -> Result<Response<pb::get_functions::Response>, Status> {
        // No functions yet.
        Ok(Response::new(pb::get_functions::Response {
            functions: Default::default(),
            diagnostics: Vec::new(),
        }))
    }

    async fn call_function(
        &self,
        _request: Request<pb::call_function::Request>,
    ) -> Result<Response<pb::call_function::Response>, Status> {
        Err(not_served("CallFunction", "functions"))
    }

    async fn validate_state_store_config(
        &self,
        _request: Request<pb::validate_state_store::Request>,
    ) -> Result<Response<pb::validate_state_store::Response>, Status> {
        Err(not_served("ValidateStateStoreConfig", "state stores"))
    }

    async fn configure_state_store(
        &self,
        _request: Request<pb::configure_state_store::Request>,
    ) -> Result<Response<pb::configure_state_store::Response>, Status> {
        Err(not_served("ConfigureStateStore", "state stores"))
    }

    type ReadStateBytesStream = BoxStream<'static, Result<pb::read_state_bytes::Response, Status>>;

    async fn read_state_bytes(
        &self,
        _request: Request<pb::read_state_bytes::Request>,
    ) -> Result<Response<Self::ReadStateBytesStream>, Status> {
        Err(not_served("ReadStateBytes", "state stores"))
    }

    async fn write_state_bytes(
        &self,
        _request: Request<tonic::Streaming<pb::write_state_bytes::RequestChunk>>,
    ) -> Result<Response<pb::write_state_bytes::Response>, Status> {
        Err(not_served("WriteStateBytes", "state stores"))
    }

    async fn lock_state(
        &self,
        _request: Request<pb::lock_state::Request>,
    ) -> Result<Response<pb::lock_state::Response>, Status> {
        Err(not_served("LockState", "state stores"))
    }

    async fn unlock_state(
        &self,
        _request: Request<pb::unlock_state::Request>,
    ) -> Result<Response<pb::unlock_state::Response>, Status> {
        Err(not_served("UnlockState", "state stores"))
    }

    async fn get_states(
        &self,
        _request: Request<pb::get_states::Request>,
    ) -> Result<Response<pb::get_states::Response>, Status> {
        Err(not_served("GetStates", "state stores"))
    }

    async fn delete_state(
        &self,
        _request: Request<pb::delete_state::Request>,
    ) -> Result<Response<pb::delete_state::Response>, Status> {
        Err(not_served("DeleteState", "state stores"))
    }

    async fn plan_action(
        &self,
        request: Request<pb::plan_action::Request>,
    ) -> Result<Response<pb::plan_action::Response>, Status> {
        self.serves_actions("PlanAction")?;
        let req = request.into_inner();
        let ctx = self.context(req.client_capabilities.as_ref());
        let run = async {
            let entry = self.action(&req.action_type)?;
            let config = decode(req.config.as_ref(), &entry.ty)?;
            let mut diags = errors_only(entry.schema.validate(&config));
            if !diags.has_errors() {
                diags.extend(entry.imp.plan(&ctx, &config).await);
            }
            Ok(diags)
        };
        let diagnostics = guarded(async { diags_of(run.await) }, |d| d.to_proto()).await;
        Ok(Response::new(pb::plan_action::Response {
            diagnostics,
            deferred: None,
        }))
    }

    type InvokeActionStream = BoxStream<'static, Result<pb::invoke_action::Event, Status>>;

    async fn invoke_action(
        &self,
        request: Request<pb::invoke_action::Request>,
    ) -> Result<Response<Self::InvokeActionStream>, Status> {
        self.serves_actions("InvokeAction")?;
        use pb::invoke_action::event::{Completed, Progress, Type as Kind};
        let req = request.into_inner();
        let ctx = self.context(req.client_capabilities.as_ref());
        let (events, stream) = event_stream();
        let completed = |d: Diagnostics| pb::invoke_action::Event {
            r#type: Some(Kind::Completed(Completed {
                diagnostics: d.to_proto(),
            })),
        };
        let prepared = (|| {
            let entry = self.action(&req.action_type)?;
            let config = decode(req.config.as_ref(), &entry.ty)?;
            // Values unknown when the action was planned are known now: judge them first.
            let invalid = errors_only(entry.schema.validate(&config));
            if invalid.has_errors() {
                return Err(invalid);
            }
            Ok((Arc::clone(&entry.imp), config))
        })();
        let (imp, config) = match prepared {
            Ok(p) => p,
            Err(diags) => {
                let _ = events.send(Ok(completed(diags)));
                return Ok(Response::new(stream));
            }
        };
        tokio::spawn(async move {
            let (progress_tx, mut progress) = tokio::sync::mpsc::unbounded_channel::<String>();
            let invocation = guarded(
                imp.invoke(&ctx, config, crate::ActionProgress::new(progress_tx)),
                |d| d,
            );
            tokio::pin!(invocation);
            let progress_event = |message: String| pb::invoke_action::Event {
                r#type: Some(Kind::Progress(Progress { message })),
            };
            let diags = loop {
                tokio::select! {
                    Some(message) = progress.recv() => {
                        let _ = events.send(Ok(progress_event(message)));
                    }
                    diags = &mut invocation => {
                        while let Ok(message) = progress.try_recv() {
                            let _ = events.send(Ok(progress_event(message)));
                        }
                        break diags;
                    }
                }
            };
            let _ = events.send(Ok(completed(diags)));
        });
        Ok(Response::new(stream))
    }

    async fn validate_action_config(
        &self,
        request: Request<pb::validate_action_config::Request>,
    ) -> Result<Response<pb::validate_action_config::Response>, Status> {
        self.serves_actions("ValidateActionConfig")?;
        let req = request.into_inner();
        let run = async {
            let entry = self.action(&req.type_name)?;
            let config = decode(req.config.as_ref(), &entry.ty)?;
            Ok(entry.schema.validate(&config))
        };
        let diagnostics = guarded(async { diags_of(run.await) }, |d| d.to_proto()).await;
        Ok(Response::new(pb::validate_action_config::Response {
            diagnostics,
        }))
    }

    async fn stop_provider(
        &self,
        _request: Request<pb::stop_provider::Request>,
    ) -> Result<Response<pb::stop_provider::Response>, Status> {
        tracing::info!("StopProvider received: cancelling in-flight operations");
        self.stop.cancel();
        Ok(Response::new(pb::stop_provider::Response {
            error: String::new(),
        }))
    }
}

/// What the provider tells Terraform of itself, the same in GetMetadata and GetProviderSchema: none of the
/// optional behaviours (planning destroys, a cacheable schema, moves across types, config generation), so
/// every Terraform from 1.0 on drives it the same way.
fn server_capabilities() -> pb::ServerCapabilities {
    pb::ServerCapabilities {
        plan_destroy: false,
        get_provider_schema_optional: false,
        move_resource_state: false,
        generate_resource_config: false,
    }
}

/// go-plugin's controller: Shutdown ends the process.
pub(crate) struct Controller {
    pub(crate) shutdown: CancellationToken,
}

#[tonic::async_trait]
impl gp::grpc_controller_server::GrpcController for Controller {
    async fn shutdown(&self, _request: Request<gp::Empty>) -> Result<Response<gp::Empty>, Status> {
        tracing::debug!("shutdown requested by terraform");
        self.shutdown.cancel();
        Ok(Response::new(gp::Empty {}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Attribute, Block, DataSource, Registry, Resource};
    use pb::provider_server::Provider as _;

    /// Configure keeps the capabilities it was given; the data source reads its context's.
    struct Probe;
    struct Seen(ClientCapabilities);
    struct Echo;
    struct Thing;

    impl Provider for Probe {
        type Data = Seen;
        fn schema(&self) -> Schema {
            Schema::default()
        }
        fn register(&self, registry: &mut Registry<Seen>) {
            registry.data_source(Echo).resource(Thing);
        }
        async fn configure(&self, req: ConfigureRequest, _: &mut Diagnostics) -> Option<Seen> {
            Some(Seen(req.client_capabilities))
        }
    }

    impl DataSource<Seen> for Echo {
        fn type_name(&self) -> String {
            "probe_echo".into()
        }
        fn schema(&self) -> Schema {
            Schema::new(
                0,
                Block::new()
                    .attribute(Attribute::computed("configured", Type::String))
                    .attribute(Attribute::computed("this_request", Type::String)),
            )
        }
        async fn read(&self, ctx: &Context<Seen>, _config: Value) -> (Value, Diagnostics) {
            let show = |c: ClientCapabilities| {
                Value::from(format!(
                    "deferral={} write_only={}",
                    c.deferral_allowed, c.write_only_attributes_allowed
                ))
            };
            let configured = ctx.data().map(|seen| show(seen.0)).unwrap();
            let mut state = Value::object([
                ("configured".to_owned(), configured),
                ("this_request".to_owned(), show(ctx.client_capabilities())),
            ]);
            self.schema().block.normalize(&mut state);
            (state, Diagnostics::new())
        }
    }

    impl Resource<Seen> for Thing {
        fn type_name(&self) -> String {
            "probe_thing".into()
        }
        fn schema(&self) -> Schema {
            Schema::new(
                0,
                Block::new().attribute(Attribute::required("name", Type::String)),
            )
        }
        async fn create(&self, _: &Context<Seen>, req: ApplyRequest) -> crate::ApplyResponse {
            crate::ApplyResponse::ok(req.planned_state)
        }
    }

    fn capabilities(deferral: bool, write_only: bool) -> Option<pb::ClientCapabilities> {
        Some(pb::ClientCapabilities {
            deferral_allowed: deferral,
            write_only_attributes_allowed: write_only,
        })
    }

    async fn read_echo(
        service: &ProviderService<Probe>,
        caps: Option<pb::ClientCapabilities>,
    ) -> Value {
        let ty = Echo.schema().value_type();
        let config = to_msgpack(&Value::Null, &ty).unwrap();
        let read = service
            .read_data_source(Request::new(pb::read_data_source::Request {
                type_name: "probe_echo".into(),
                config: Some(pb::DynamicValue {
                    msgpack: config,
                    json: Vec::new(),
                }),
                provider_meta: None,
                client_capabilities: caps,
            }))
            .await
            .unwrap()
            .into_inner();
        assert!(read.diagnostics.is_empty(), "{:?}", read.diagnostics);
        from_msgpack(&read.state.unwrap().msgpack, &ty).unwrap()
    }

    #[tokio::test]
    async fn client_capabilities_reach_configure_and_the_context_of_each_request() {
        let service = ProviderService::new(Probe);
        service
            .configure_provider(Request::new(pb::configure_provider::Request {
                terraform_version: "1.15.5".into(),
                config: Some(encode(&Value::Null, &Probe.schema().value_type()).unwrap()),
                client_capabilities: capabilities(true, false),
            }))
            .await
            .unwrap();
        let state = read_echo(&service, capabilities(false, true)).await;
        assert_eq!(
            state.get("configured").and_then(Value::as_str),
            Some("deferral=true write_only=false")
        );
        assert_eq!(
            state.get("this_request").and_then(Value::as_str),
            Some("deferral=false write_only=true")
        );
        // Terraform before 1.9 sends none: nothing is allowed.
        let state = read_echo(&service, None).await;
        assert_eq!(
            state.get("this_request").and_then(Value::as_str),
            Some("deferral=false write_only=false")
        );
    }

    #[tokio::test]
    async fn only_what_is_served_is_advertised_and_the_rest_is_unimplemented() {
        let service = ProviderService::new(Probe);
        let metadata = service
            .get_metadata(Request::new(pb::get_metadata::Request {}))
            .await
            .unwrap()
            .into_inner();
        let names = |v: &[pb::get_metadata::ResourceMetadata]| -> Vec<String> {
            v.iter().map(|r| r.type_name.clone()).collect()
        };
        assert_eq!(names(&metadata.resources), ["probe_thing"]);
        assert_eq!(metadata.data_sources.len(), 1);
        assert!(metadata.functions.is_empty());
        assert!(metadata.ephemeral_resources.is_empty());
        assert!(metadata.list_resources.is_empty());
        assert!(metadata.state_stores.is_empty());
        assert!(metadata.actions.is_empty());
        assert_eq!(
            metadata.server_capabilities,
            Some(pb::ServerCapabilities::default())
        );

        let schema = service
            .get_provider_schema(Request::new(pb::get_provider_schema::Request {}))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            schema.resource_schemas.keys().collect::<Vec<_>>(),
            ["probe_thing"]
        );
        assert_eq!(
            schema.data_source_schemas.keys().collect::<Vec<_>>(),
            ["probe_echo"]
        );
        assert!(schema.functions.is_empty());
        assert!(schema.ephemeral_resource_schemas.is_empty());
        assert!(schema.list_resource_schemas.is_empty());
        assert!(schema.state_store_schemas.is_empty());
        assert!(schema.action_schemas.is_empty());

        // What Terraform 1.12+ asks of every provider: no identities, no functions.
        let identities = service
            .get_resource_identity_schemas(Request::new(
                pb::get_resource_identity_schemas::Request {},
            ))
            .await
            .unwrap()
            .into_inner();
        assert!(identities.identity_schemas.is_empty() && identities.diagnostics.is_empty());
        let functions = service
            .get_functions(Request::new(pb::get_functions::Request {}))
            .await
            .unwrap()
            .into_inner();
        assert!(functions.functions.is_empty() && functions.diagnostics.is_empty());

        let unimplemented = |status: Status, rpc: &str| {
            assert_eq!(
                status.code(),
                tonic::Code::Unimplemented,
                "{rpc}: {status:?}"
            );
            assert!(status.message().starts_with(rpc), "{rpc}: {status:?}");
        };
        let list = service
            .list_resource(Request::new(pb::list_resource::Request::default()))
            .await;
        unimplemented(list.err().unwrap(), "ListResource");
        let invoke = service
            .invoke_action(Request::new(pb::invoke_action::Request::default()))
            .await;
        unimplemented(invoke.err().unwrap(), "InvokeAction");
        let plan_action = service
            .plan_action(Request::new(pb::plan_action::Request::default()))
            .await;
        unimplemented(plan_action.unwrap_err(), "PlanAction");
        let open = service
            .open_ephemeral_resource(Request::new(pb::open_ephemeral_resource::Request::default()))
            .await;
        unimplemented(open.unwrap_err(), "OpenEphemeralResource");
        let call = service
            .call_function(Request::new(pb::call_function::Request::default()))
            .await;
        unimplemented(call.unwrap_err(), "CallFunction");
        let moved = service
            .move_resource_state(Request::new(pb::move_resource_state::Request::default()))
            .await;
        unimplemented(moved.unwrap_err(), "MoveResourceState");
        let store = service
            .configure_state_store(Request::new(pb::configure_state_store::Request::default()))
            .await;
        unimplemented(store.unwrap_err(), "ConfigureStateStore");
    }
}
