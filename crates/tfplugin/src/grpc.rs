//! The thin gRPC layer: per RPC decode, call the provider, encode. Provider failures become
//! diagnostics in an `Ok` response; panics are caught and become error diagnostics too.

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use crate::codec::{from_json_bytes, from_msgpack, to_msgpack};
use crate::plan::{
    check_apply_result, check_plan_follows_config, mark_computed_unknown, replace_paths,
};
use crate::proto::plugin as gp;
use crate::proto::tfplugin6 as pb;
use crate::provider::{DataSourceEntry, ResourceEntry};
use crate::{
    ApplyRequest, ConfigureRequest, Context, Diagnostic, Diagnostics, PlanRequest, PlanResponse,
    Provider, RawState, ReadRequest, Registry, Schema, Type, Value,
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

    fn context(&self) -> Context<P::Data> {
        let data = self
            .data
            .read()
            .map(|d| d.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone());
        Context::new(data, self.stop.clone())
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
            server_capabilities: Some(pb::ServerCapabilities::default()),
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
            diagnostics: Vec::new(),
            provider_meta: None,
            server_capabilities: Some(pb::ServerCapabilities::default()),
        }))
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
        let ctx = self.context();
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
            phases.mark("encode");
            Ok(pb::read_resource::Response {
                new_state: state,
                diagnostics: diags.to_proto(),
                private: out.private,
                deferred: None,
            })
        };
        let failed = |d: Diagnostics| pb::read_resource::Response {
            new_state: fallback_state.clone(),
            diagnostics: d.to_proto(),
            private: fallback_private.clone(),
            deferred: None,
        };
        let resp = guarded(async { run.await.unwrap_or_else(&failed) }, &failed).await;
        Ok(Response::new(resp))
    }

    async fn plan_resource_change(
        &self,
        request: Request<pb::plan_resource_change::Request>,
    ) -> Result<Response<pb::plan_resource_change::Response>, Status> {
        let req = request.into_inner();
        let ctx = self.context();
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
            phases.mark("encode");
            Ok(pb::plan_resource_change::Response {
                planned_state: Some(planned_state),
                requires_replace: plan.requires_replace.iter().map(|p| p.to_proto()).collect(),
                planned_private: plan.planned_private,
                diagnostics: plan.diagnostics.to_proto(),
                legacy_type_system: false,
                deferred: None,
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
        let ctx = self.context();
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
            phases.mark("encode");
            Ok(pb::apply_resource_change::Response {
                new_state: Some(new_state),
                private: out.private,
                diagnostics: diags.to_proto(),
                legacy_type_system: false,
            })
        };
        let failed = |d: Diagnostics| pb::apply_resource_change::Response {
            new_state: fallback_state.clone(),
            private: Vec::new(),
            diagnostics: d.to_proto(),
            legacy_type_system: false,
        };
        let resp = guarded(async { run.await.unwrap_or_else(&failed) }, &failed).await;
        Ok(Response::new(resp))
    }

    async fn import_resource_state(
        &self,
        request: Request<pb::import_resource_state::Request>,
    ) -> Result<Response<pb::import_resource_state::Response>, Status> {
        let req = request.into_inner();
        let ctx = self.context();
        let run = async {
            let entry = self.resource(&req.type_name)?;
            let mut out = entry.imp.import(&ctx, req.id).await;
            if out.diagnostics.has_errors() {
                return Err(out.diagnostics);
            }
            entry.schema.block.normalize(&mut out.state);
            let state = encode(&out.state, &entry.ty)?;
            Ok(pb::import_resource_state::Response {
                imported_resources: vec![pb::import_resource_state::ImportedResource {
                    type_name: req.type_name.clone(),
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
        let ctx = self.context();
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
