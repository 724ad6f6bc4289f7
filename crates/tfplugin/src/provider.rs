//! The traits a provider implements (provider, resources, data sources), their request and
//! response types, and the type-erased registry the gRPC layer dispatches to.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::docs::{SchemaKind, served_schemas};
use crate::surfaces::{
    Action, EphemeralResource, ErasedAction, ErasedEphemeralResource, ErasedListResource,
    IdentitySchema, ListResource,
};
use crate::{AttributePath, Diagnostic, Diagnostics, Result, Schema, Type, Value};

/// What every operation receives: the configured provider data, the stop signal, and what the calling
/// Terraform can handle.
pub struct Context<D> {
    data: Option<Arc<D>>,
    cancel: CancellationToken,
    client_capabilities: ClientCapabilities,
}

impl<D> Clone for Context<D> {
    fn clone(&self) -> Self {
        Self {
            data: self.data.clone(),
            cancel: self.cancel.clone(),
            client_capabilities: self.client_capabilities,
        }
    }
}

impl<D> Context<D> {
    pub(crate) fn new(
        data: Option<Arc<D>>,
        cancel: CancellationToken,
        client_capabilities: ClientCapabilities,
    ) -> Self {
        Self {
            data,
            cancel,
            client_capabilities,
        }
    }

    /// What the Terraform that sent this request said it can handle: sent with ReadResource,
    /// PlanResourceChange, ImportResourceState and ReadDataSource by Terraform 1.9 and later; nothing
    /// allowed otherwise (older Terraform, and ApplyResourceChange, which carries none).
    pub fn client_capabilities(&self) -> ClientCapabilities {
        self.client_capabilities
    }

    /// The data `Provider::configure` produced, or an error diagnostic when the provider is not configured.
    pub fn data(&self) -> Result<&D, Diagnostic> {
        self.data.as_deref().ok_or_else(|| {
            Diagnostic::error(
                "Provider Not Configured",
                "the provider was used before ConfigureProvider succeeded; check the provider block for errors",
            )
        })
    }

    /// Cancelled when Terraform sends StopProvider (the user pressed Ctrl-C): end waits promptly.
    pub fn cancellation(&self) -> &CancellationToken {
        &self.cancel
    }

    /// Whether StopProvider has been received.
    pub fn is_stopped(&self) -> bool {
        self.cancel.is_cancelled()
    }
}

/// ConfigureProvider's input.
#[derive(Debug, Clone)]
pub struct ConfigureRequest {
    /// The provider configuration (may contain unknowns during validate-only runs).
    pub config: Value,
    /// The Terraform version calling.
    pub terraform_version: String,
    /// What the calling Terraform can handle (nothing from Terraform before 1.9).
    pub client_capabilities: ClientCapabilities,
}

/// What a Terraform client says it can handle, from the `ClientCapabilities` its requests carry (protocol
/// 6.6 on: Terraform 1.9+). An absent message allows nothing: older Terraform sends none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientCapabilities {
    /// The client accepts a deferred answer (a change put off to a later plan because something it needs is
    /// unknown). The runtime never defers.
    pub deferral_allowed: bool,
    /// The client handles write-only attributes (values sent to the provider and never stored in state).
    /// No schema of this runtime has any yet.
    pub write_only_attributes_allowed: bool,
}

/// A provider: its configuration schema, its configure step, and its resources and data sources.
///
/// `configure` produces [`Provider::Data`] (for example an API client) which every resource
/// operation reaches through [`Context::data`].
pub trait Provider: Send + Sync + 'static {
    /// What configure produces and resources use.
    type Data: Send + Sync + 'static;

    /// The schema of the `provider` block.
    fn schema(&self) -> Schema;

    /// Registers the resources and data sources.
    fn register(&self, registry: &mut Registry<Self::Data>);

    /// Validate-time checks of the provider configuration (unknowns possible).
    fn validate(&self, config: &Value) -> Diagnostics {
        let _ = config;
        Diagnostics::new()
    }

    /// Builds the provider data; errors and warnings go to `diags`, `None` means configure failed.
    fn configure(
        &self,
        req: ConfigureRequest,
        diags: &mut Diagnostics,
    ) -> impl Future<Output = Option<Self::Data>> + Send;
}

/// PlanResourceChange's input.
#[derive(Debug, Clone)]
pub struct PlanRequest {
    /// The state before the change, null on create.
    pub prior_state: Value,
    /// Terraform's proposal: config merged with prior computed values; null on destroy.
    pub proposed_new_state: Value,
    /// The configuration, null on destroy.
    pub config: Value,
    /// Private bytes from the prior state.
    pub prior_private: Vec<u8>,
}

/// The plan a resource answers, pre-filled by the runtime from the schema's plan modifiers.
#[derive(Debug, Clone, Default)]
pub struct PlanResponse {
    /// The planned new state.
    pub planned_state: Value,
    /// Attribute paths whose change forces replacement.
    pub requires_replace: Vec<AttributePath>,
    /// Private bytes carried to apply.
    pub planned_private: Vec<u8>,
    /// Diagnostics.
    pub diagnostics: Diagnostics,
}

impl PlanResponse {
    /// Plans the attribute at `path` as unknown (it will be known after apply).
    pub fn set_unknown(&mut self, path: &AttributePath) -> bool {
        self.planned_state.set_path(path, Value::Unknown)
    }

    /// Keeps the prior state's value for `path`.
    pub fn keep_prior(&mut self, req: &PlanRequest, path: &AttributePath) -> bool {
        match req.prior_state.get_path(path) {
            Some(v) => self.planned_state.set_path(path, v.clone()),
            None => false,
        }
    }

    /// Adds `path` to the requires-replace paths (once).
    pub fn require_replace(&mut self, path: AttributePath) {
        if !self.requires_replace.contains(&path) {
            self.requires_replace.push(path);
        }
    }
}

/// ApplyResourceChange's input (create, update or delete).
#[derive(Debug, Clone)]
pub struct ApplyRequest {
    /// The state before, null on create.
    pub prior_state: Value,
    /// The plan, null on delete.
    pub planned_state: Value,
    /// The configuration, null on delete.
    pub config: Value,
    /// Private bytes from the plan.
    pub planned_private: Vec<u8>,
}

/// What apply returns: the new state (partial on failure) and diagnostics.
#[derive(Debug, Clone, Default)]
pub struct ApplyResponse {
    /// The new state; null after delete. On failure, whatever was done, so nothing is lost.
    pub new_state: Value,
    /// Private bytes stored with the state.
    pub private: Vec<u8>,
    /// Diagnostics; errors mark the operation failed (a failed create is saved as tainted).
    pub diagnostics: Diagnostics,
}

impl ApplyResponse {
    /// A successful result with `new_state`.
    pub fn ok(new_state: Value) -> Self {
        Self {
            new_state,
            ..Self::default()
        }
    }

    /// A failed result keeping the partial `new_state` so nothing already done is lost.
    pub fn failed(new_state: Value, diagnostics: impl Into<Diagnostics>) -> Self {
        Self {
            new_state,
            private: Vec::new(),
            diagnostics: diagnostics.into(),
        }
    }
}

/// ReadResource's input.
#[derive(Debug, Clone)]
pub struct ReadRequest {
    /// The state as stored.
    pub current_state: Value,
    /// Private bytes as stored.
    pub private: Vec<u8>,
}

/// ReadResource's answer: the refreshed state (null when the object is gone).
#[derive(Debug, Clone, Default)]
pub struct ReadResponse {
    /// The refreshed state; null when the remote object no longer exists.
    pub new_state: Value,
    /// Private bytes.
    pub private: Vec<u8>,
    /// Diagnostics.
    pub diagnostics: Diagnostics,
}

/// ImportResourceState's answer.
#[derive(Debug, Clone, Default)]
pub struct ImportResponse {
    /// The imported state; Terraform reads it right after.
    pub state: Value,
    /// Private bytes.
    pub private: Vec<u8>,
    /// Diagnostics.
    pub diagnostics: Diagnostics,
}

/// Stored state handed to [`Resource::upgrade_state`], written with an older schema version.
#[derive(Debug, Clone, Default)]
pub struct RawState {
    /// The JSON bytes (empty when Terraform sent only the legacy flatmap).
    pub json: Vec<u8>,
    /// The legacy flatmap form.
    pub flatmap: BTreeMap<String, String>,
}

impl RawState {
    /// Decodes the JSON with `ty`, tolerating attributes that were added or removed since.
    pub fn decode(&self, ty: &Type) -> Result<Value> {
        crate::codec::from_json_bytes(&self.json, ty)
    }
}

/// A managed resource type. Only the schema, create and the name are mandatory; everything
/// else has a protocol-correct default.
///
/// The default plan marks unset computed attributes unknown when the resource changes, honours
/// `requires_replace` and `use_state_for_unknown` from the schema, then calls [`Resource::modify_plan`].
pub trait Resource<D>: Send + Sync + 'static {
    /// The full type name, e.g. `example_thing`.
    fn type_name(&self) -> String;

    /// The schema.
    fn schema(&self) -> Schema;

    /// Validate-time checks of the configuration (unknowns possible).
    fn validate(&self, config: &Value) -> Diagnostics {
        let _ = config;
        Diagnostics::new()
    }

    /// Adjusts the runtime's plan (pre-filled in `plan`).
    fn modify_plan(
        &self,
        ctx: &Context<D>,
        req: &PlanRequest,
        plan: &mut PlanResponse,
    ) -> impl Future<Output = ()> + Send {
        let _ = (ctx, req, plan);
        async {}
    }

    /// Creates the object; return the partial state with error diagnostics on failure.
    fn create(
        &self,
        ctx: &Context<D>,
        req: ApplyRequest,
    ) -> impl Future<Output = ApplyResponse> + Send;

    /// Updates the object in place. The default refuses: mark every input `requires_replace` or implement it.
    fn update(
        &self,
        ctx: &Context<D>,
        req: ApplyRequest,
    ) -> impl Future<Output = ApplyResponse> + Send {
        let _ = ctx;
        async move {
            ApplyResponse::failed(
                req.prior_state,
                Diagnostic::error(
                    "Update Not Supported",
                    format!(
                        "resource {} cannot be updated in place (provider bug: missing requires_replace)",
                        self.type_name()
                    ),
                ),
            )
        }
    }

    /// Deletes the object. The default just forgets it (the state is removed).
    fn delete(
        &self,
        ctx: &Context<D>,
        req: ApplyRequest,
    ) -> impl Future<Output = Diagnostics> + Send {
        let _ = (ctx, req);
        async { Diagnostics::new() }
    }

    /// Refreshes the state. The default returns it unchanged.
    fn read(
        &self,
        ctx: &Context<D>,
        req: ReadRequest,
    ) -> impl Future<Output = ReadResponse> + Send {
        let _ = ctx;
        async move {
            ReadResponse {
                new_state: req.current_state,
                private: req.private,
                diagnostics: Diagnostics::new(),
            }
        }
    }

    /// Imports by id. The default refuses.
    fn import(&self, ctx: &Context<D>, id: String) -> impl Future<Output = ImportResponse> + Send {
        let _ = ctx;
        async move {
            ImportResponse {
                diagnostics: Diagnostic::error(
                    "Import Not Supported",
                    format!(
                        "resource {} does not support import (id {id:?})",
                        self.type_name()
                    ),
                )
                .into(),
                ..ImportResponse::default()
            }
        }
    }

    /// Upgrades state stored at schema `version`. The default decodes it with the current schema,
    /// tolerating missing and extra attributes.
    fn upgrade_state(&self, version: i64, raw: RawState) -> Result<Value, Diagnostics> {
        let _ = version;
        raw.decode(&self.schema().value_type())
            .map_err(Diagnostics::from)
    }

    /// The identity of the resource type (Terraform 1.12+), when it has one. The runtime then
    /// answers with the identity of every object it reads, plans, applies and imports, as
    /// [`Resource::identity`] derives it from the object.
    fn identity_schema(&self) -> Option<IdentitySchema> {
        None
    }

    /// The identity of the object `state` holds (a value of the identity schema's type); `None`
    /// while not wholly known.
    fn identity(&self, state: &Value) -> Option<Value> {
        let _ = state;
        None
    }

    /// Imports by identity (`import { to = ..., identity = { ... } }`). The default refuses.
    fn import_identity(
        &self,
        ctx: &Context<D>,
        identity: Value,
    ) -> impl Future<Output = ImportResponse> + Send {
        let _ = (ctx, identity);
        async move {
            ImportResponse {
                diagnostics: Diagnostic::error(
                    "Import by Identity Not Supported",
                    format!("resource {} has no identity to import by", self.type_name()),
                )
                .into(),
                ..ImportResponse::default()
            }
        }
    }
}

/// A data source type.
pub trait DataSource<D>: Send + Sync + 'static {
    /// The full type name, e.g. `example_items`.
    fn type_name(&self) -> String;

    /// The schema.
    fn schema(&self) -> Schema;

    /// Validate-time checks (unknowns possible).
    fn validate(&self, config: &Value) -> Diagnostics {
        let _ = config;
        Diagnostics::new()
    }

    /// Reads the data; return the full object (config plus computed values) and diagnostics.
    fn read(
        &self,
        ctx: &Context<D>,
        config: Value,
    ) -> impl Future<Output = (Value, Diagnostics)> + Send;
}

pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Object-safe form of [`Resource`] the runtime stores.
pub(crate) trait ErasedResource<D>: Send + Sync {
    fn validate(&self, config: &Value) -> Diagnostics;
    fn modify_plan<'a>(
        &'a self,
        ctx: &'a Context<D>,
        req: &'a PlanRequest,
        plan: &'a mut PlanResponse,
    ) -> BoxFuture<'a, ()>;
    fn create<'a>(&'a self, ctx: &'a Context<D>, req: ApplyRequest)
    -> BoxFuture<'a, ApplyResponse>;
    fn update<'a>(&'a self, ctx: &'a Context<D>, req: ApplyRequest)
    -> BoxFuture<'a, ApplyResponse>;
    fn delete<'a>(&'a self, ctx: &'a Context<D>, req: ApplyRequest) -> BoxFuture<'a, Diagnostics>;
    fn read<'a>(&'a self, ctx: &'a Context<D>, req: ReadRequest) -> BoxFuture<'a, ReadResponse>;
    fn import<'a>(&'a self, ctx: &'a Context<D>, id: String) -> BoxFuture<'a, ImportResponse>;
    fn import_identity<'a>(
        &'a self,
        ctx: &'a Context<D>,
        identity: Value,
    ) -> BoxFuture<'a, ImportResponse>;
    fn upgrade_state(&self, version: i64, raw: RawState) -> Result<Value, Diagnostics>;
    fn identity(&self, state: &Value) -> Option<Value>;
}

impl<D: Send + Sync + 'static, R: Resource<D>> ErasedResource<D> for R {
    fn validate(&self, config: &Value) -> Diagnostics {
        Resource::validate(self, config)
    }
    fn modify_plan<'a>(
        &'a self,
        ctx: &'a Context<D>,
        req: &'a PlanRequest,
        plan: &'a mut PlanResponse,
    ) -> BoxFuture<'a, ()> {
        Box::pin(Resource::modify_plan(self, ctx, req, plan))
    }
    fn create<'a>(
        &'a self,
        ctx: &'a Context<D>,
        req: ApplyRequest,
    ) -> BoxFuture<'a, ApplyResponse> {
        Box::pin(Resource::create(self, ctx, req))
    }
    fn update<'a>(
        &'a self,
        ctx: &'a Context<D>,
        req: ApplyRequest,
    ) -> BoxFuture<'a, ApplyResponse> {
        Box::pin(Resource::update(self, ctx, req))
    }
    fn delete<'a>(&'a self, ctx: &'a Context<D>, req: ApplyRequest) -> BoxFuture<'a, Diagnostics> {
        Box::pin(Resource::delete(self, ctx, req))
    }
    fn read<'a>(&'a self, ctx: &'a Context<D>, req: ReadRequest) -> BoxFuture<'a, ReadResponse> {
        Box::pin(Resource::read(self, ctx, req))
    }
    fn import<'a>(&'a self, ctx: &'a Context<D>, id: String) -> BoxFuture<'a, ImportResponse> {
        Box::pin(Resource::import(self, ctx, id))
    }
    fn import_identity<'a>(
        &'a self,
        ctx: &'a Context<D>,
        identity: Value,
    ) -> BoxFuture<'a, ImportResponse> {
        Box::pin(Resource::import_identity(self, ctx, identity))
    }
    fn upgrade_state(&self, version: i64, raw: RawState) -> Result<Value, Diagnostics> {
        Resource::upgrade_state(self, version, raw)
    }
    fn identity(&self, state: &Value) -> Option<Value> {
        Resource::identity(self, state)
    }
}

/// Object-safe form of [`DataSource`].
pub(crate) trait ErasedDataSource<D>: Send + Sync {
    fn validate(&self, config: &Value) -> Diagnostics;
    fn read<'a>(
        &'a self,
        ctx: &'a Context<D>,
        config: Value,
    ) -> BoxFuture<'a, (Value, Diagnostics)>;
}

impl<D: Send + Sync + 'static, S: DataSource<D>> ErasedDataSource<D> for S {
    fn validate(&self, config: &Value) -> Diagnostics {
        DataSource::validate(self, config)
    }
    fn read<'a>(
        &'a self,
        ctx: &'a Context<D>,
        config: Value,
    ) -> BoxFuture<'a, (Value, Diagnostics)> {
        Box::pin(DataSource::read(self, ctx, config))
    }
}

/// A registered resource with its schema computed once.
pub(crate) struct ResourceEntry<D> {
    pub(crate) imp: Box<dyn ErasedResource<D>>,
    pub(crate) schema: Schema,
    pub(crate) ty: Type,
    /// Its identity schema and the identity's type, when it has one.
    pub(crate) identity: Option<(IdentitySchema, Type)>,
}

/// A registered action with its schema computed once.
pub(crate) struct ActionEntry<D> {
    pub(crate) imp: Arc<dyn ErasedAction<D>>,
    pub(crate) schema: Schema,
    pub(crate) ty: Type,
}

/// A registered list resource with its schema computed once.
pub(crate) struct ListResourceEntry<D> {
    pub(crate) imp: Arc<dyn ErasedListResource<D>>,
    pub(crate) schema: Schema,
    pub(crate) ty: Type,
}

/// A registered ephemeral resource with its schema computed once.
pub(crate) struct EphemeralEntry<D> {
    pub(crate) imp: Box<dyn ErasedEphemeralResource<D>>,
    pub(crate) schema: Schema,
    pub(crate) ty: Type,
}

/// A registered data source with its schema computed once.
pub(crate) struct DataSourceEntry<D> {
    pub(crate) imp: Box<dyn ErasedDataSource<D>>,
    pub(crate) schema: Schema,
    pub(crate) ty: Type,
}

/// Where a provider lists its resources and data sources (see [`Provider::register`]).
pub struct Registry<D> {
    pub(crate) resources: BTreeMap<String, ResourceEntry<D>>,
    pub(crate) data_sources: BTreeMap<String, DataSourceEntry<D>>,
    pub(crate) actions: BTreeMap<String, ActionEntry<D>>,
    pub(crate) list_resources: BTreeMap<String, ListResourceEntry<D>>,
    pub(crate) ephemeral_resources: BTreeMap<String, EphemeralEntry<D>>,
}

impl<D: Send + Sync + 'static> Registry<D> {
    pub(crate) fn new() -> Self {
        Self {
            resources: BTreeMap::new(),
            data_sources: BTreeMap::new(),
            actions: BTreeMap::new(),
            list_resources: BTreeMap::new(),
            ephemeral_resources: BTreeMap::new(),
        }
    }

    /// Registers a resource type.
    pub fn resource(&mut self, resource: impl Resource<D>) -> &mut Self {
        let schema = Resource::schema(&resource);
        let ty = schema.value_type();
        let identity = Resource::identity_schema(&resource).map(|s| {
            let ty = s.value_type();
            (s, ty)
        });
        self.resources.insert(
            Resource::type_name(&resource),
            ResourceEntry {
                imp: Box::new(resource),
                schema,
                ty,
                identity,
            },
        );
        self
    }

    /// Registers an action type (Terraform 1.14+).
    pub fn action(&mut self, action: impl Action<D>) -> &mut Self {
        let schema = Action::schema(&action);
        let ty = schema.value_type();
        self.actions.insert(
            Action::type_name(&action),
            ActionEntry {
                imp: Arc::new(action),
                schema,
                ty,
            },
        );
        self
    }

    /// Registers a list resource (Terraform 1.14+): the objects of the managed resource type of
    /// the same name, which must have an identity.
    pub fn list_resource(&mut self, list: impl ListResource<D>) -> &mut Self {
        let schema = ListResource::schema(&list);
        let ty = schema.value_type();
        self.list_resources.insert(
            ListResource::type_name(&list),
            ListResourceEntry {
                imp: Arc::new(list),
                schema,
                ty,
            },
        );
        self
    }

    /// Registers an ephemeral resource type (Terraform 1.10+).
    pub fn ephemeral_resource(&mut self, resource: impl EphemeralResource<D>) -> &mut Self {
        let schema = EphemeralResource::schema(&resource);
        let ty = schema.value_type();
        self.ephemeral_resources.insert(
            EphemeralResource::type_name(&resource),
            EphemeralEntry {
                imp: Box::new(resource),
                schema,
                ty,
            },
        );
        self
    }

    /// Registers a data source type.
    pub fn data_source(&mut self, data_source: impl DataSource<D>) -> &mut Self {
        let schema = DataSource::schema(&data_source);
        let ty = schema.value_type();
        self.data_sources.insert(
            DataSource::type_name(&data_source),
            DataSourceEntry {
                imp: Box::new(data_source),
                schema,
                ty,
            },
        );
        self
    }

    /// The registered resource type names and schemas.
    pub fn resource_schemas(&self) -> impl Iterator<Item = (&str, &Schema)> {
        self.resources.iter().map(|(k, e)| (k.as_str(), &e.schema))
    }

    /// The registered data source type names and schemas.
    pub fn data_source_schemas(&self) -> impl Iterator<Item = (&str, &Schema)> {
        self.data_sources
            .iter()
            .map(|(k, e)| (k.as_str(), &e.schema))
    }

    /// The registered action type names and schemas.
    pub fn action_schemas(&self) -> impl Iterator<Item = (&str, &Schema)> {
        self.actions.iter().map(|(k, e)| (k.as_str(), &e.schema))
    }

    /// The registered list resource type names and schemas.
    pub fn list_resource_schemas(&self) -> impl Iterator<Item = (&str, &Schema)> {
        self.list_resources
            .iter()
            .map(|(k, e)| (k.as_str(), &e.schema))
    }

    /// The registered ephemeral resource type names and schemas.
    pub fn ephemeral_resource_schemas(&self) -> impl Iterator<Item = (&str, &Schema)> {
        self.ephemeral_resources
            .iter()
            .map(|(k, e)| (k.as_str(), &e.schema))
    }
}

/// Checks every schema a provider serves against Terraform's rules; use it in a unit test.
///
/// Returns each problem prefixed with the schema it was found in.
pub fn check_provider_schemas<P: Provider>(provider: &P) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    for (kind, name, schema) in served_schemas(provider) {
        let (checked, what) = match kind {
            SchemaKind::Provider => (schema.check_provider(), "provider".to_owned()),
            SchemaKind::Resource => (schema.check_resource(), format!("resource {name}")),
            SchemaKind::DataSource => (schema.check_resource(), format!("data source {name}")),
            SchemaKind::Action => (schema.check_resource(), format!("action {name}")),
            SchemaKind::ListResource => (schema.check_resource(), format!("list resource {name}")),
            SchemaKind::EphemeralResource => (
                schema.check_resource(),
                format!("ephemeral resource {name}"),
            ),
        };
        if let Err(p) = checked {
            problems.extend(p.into_iter().map(|p| format!("{what}: {p}")));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}
