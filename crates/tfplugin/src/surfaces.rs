//! What a provider serves besides resources and data sources, as protocol 6.10 (Terraform 1.10 to
//! 1.15) added them: [`Action`]s (on-demand operations, Terraform 1.14+), [`ListResource`]s (the
//! objects of a managed resource type that `terraform query` finds, 1.14+), [`EphemeralResource`]s
//! (values that never reach state, 1.10+), and the identity of managed resources
//! ([`IdentitySchema`], 1.12+). Older Terraform ignores all of them.

use std::future::Future;
use std::time::SystemTime;

use tokio::sync::mpsc;

use crate::provider::BoxFuture;
use crate::{Context, Diagnostics, Schema, Type, Value};

/// The identity of a managed resource type: a versioned object that names one object of the type,
/// so that `import { identity = {...} }` and `terraform query` can refer to it.
#[derive(Debug, Clone, PartialEq)]
pub struct IdentitySchema {
    /// Incremented whenever the attributes change.
    pub version: i64,
    /// The identity's attributes.
    pub attributes: Vec<IdentityAttribute>,
}

/// One attribute of an identity.
#[derive(Debug, Clone, PartialEq)]
pub struct IdentityAttribute {
    /// The name.
    pub name: String,
    /// The type.
    pub ty: Type,
    /// Whether an import by identity must give it.
    pub required_for_import: bool,
    /// Markdown description.
    pub description: String,
}

impl IdentitySchema {
    /// The object type of the identity.
    pub fn value_type(&self) -> Type {
        Type::object(
            self.attributes
                .iter()
                .map(|a| (a.name.clone(), a.ty.clone())),
        )
    }
}

/// Where an action sends its progress: each message is streamed to Terraform, which prints it while
/// the action runs.
#[derive(Debug, Clone)]
pub struct ActionProgress {
    tx: mpsc::UnboundedSender<String>,
}

impl ActionProgress {
    pub(crate) fn new(tx: mpsc::UnboundedSender<String>) -> Self {
        ActionProgress { tx }
    }

    /// Sends `message` to Terraform (dropped when Terraform no longer listens).
    pub fn report(&self, message: impl Into<String>) {
        let _ = self.tx.send(message.into());
    }
}

/// An action (Terraform 1.14+): an operation invoked on demand with `terraform apply
/// -invoke=action.TYPE.NAME`, or by a resource's lifecycle (`action_trigger`). It keeps nothing in
/// state: what it did is its progress and its final diagnostics.
pub trait Action<D>: Send + Sync + 'static {
    /// The action type, e.g. `example_restart`.
    fn type_name(&self) -> String;

    /// The schema of its `config` block.
    fn schema(&self) -> Schema;

    /// Plan-time checks of the configuration (unknown values possible); the schema's validators
    /// have run.
    fn plan(&self, ctx: &Context<D>, config: &Value) -> impl Future<Output = Diagnostics> + Send {
        let _ = (ctx, config);
        async { Diagnostics::new() }
    }

    /// Performs the action on a wholly known configuration (the validators ran again on it),
    /// reporting progress as it goes; any error diagnostic makes the invocation fail.
    fn invoke(
        &self,
        ctx: &Context<D>,
        config: Value,
        progress: ActionProgress,
    ) -> impl Future<Output = Diagnostics> + Send;
}

/// What `terraform query` asks of a list resource.
#[derive(Debug, Clone)]
pub struct ListRequest {
    /// The `config` block of the `list` block.
    pub config: Value,
    /// Whether each result should carry the whole resource object.
    pub include_resource_object: bool,
    /// The most results Terraform wants (0: no limit given).
    pub limit: u64,
}

/// One object a list resource found.
#[derive(Debug, Clone)]
pub struct ListResult {
    /// A name a person recognises.
    pub display_name: String,
    /// Its identity (a value of the managed resource's identity schema).
    pub identity: Value,
    /// The whole object, as the managed resource's state would hold it, when asked for.
    pub resource_object: Option<Value>,
}

/// Where a list resource sends what it finds, one result at a time.
#[derive(Debug, Clone)]
pub struct ListResults {
    tx: mpsc::UnboundedSender<ListResult>,
}

impl ListResults {
    pub(crate) fn new(tx: mpsc::UnboundedSender<ListResult>) -> Self {
        ListResults { tx }
    }

    /// Sends `result`; false when Terraform no longer listens (stop listing).
    pub fn push(&self, result: ListResult) -> bool {
        self.tx.send(result).is_ok()
    }
}

/// A list resource (`terraform query`, Terraform 1.14+): finds the objects of the managed resource
/// type of the same name, by the filters of its `config`.
pub trait ListResource<D>: Send + Sync + 'static {
    /// The type name: that of the managed resource whose objects it lists.
    fn type_name(&self) -> String;

    /// The schema of its `config` block.
    fn schema(&self) -> Schema;

    /// Lists, sending each result to `results`; the diagnostics end the listing.
    fn list(
        &self,
        ctx: &Context<D>,
        req: ListRequest,
        results: ListResults,
    ) -> impl Future<Output = Diagnostics> + Send;
}

/// What opening an ephemeral resource gives.
#[derive(Debug, Clone, Default)]
pub struct OpenResponse {
    /// The value (never stored in state or in a plan).
    pub result: Value,
    /// When Terraform should renew it, if it needs renewing while in use.
    pub renew_at: Option<SystemTime>,
    /// Bytes handed back to renew and close.
    pub private: Vec<u8>,
    /// Diagnostics.
    pub diagnostics: Diagnostics,
}

/// What renewing an ephemeral resource gives.
#[derive(Debug, Clone, Default)]
pub struct RenewResponse {
    /// When to renew it again, if at all.
    pub renew_at: Option<SystemTime>,
    /// The private bytes from now on.
    pub private: Vec<u8>,
    /// Diagnostics.
    pub diagnostics: Diagnostics,
}

/// An ephemeral resource (Terraform 1.10+): opened while Terraform needs its value (during plan and
/// apply), renewed when it says so, closed after; its value never reaches state or a plan file.
pub trait EphemeralResource<D>: Send + Sync + 'static {
    /// The type name.
    fn type_name(&self) -> String;

    /// The schema (configuration and result).
    fn schema(&self) -> Schema;

    /// Opens it with `config` (wholly known).
    fn open(&self, ctx: &Context<D>, config: Value) -> impl Future<Output = OpenResponse> + Send;

    /// Renews it. The default keeps it as it is, with no further renewal.
    fn renew(
        &self,
        ctx: &Context<D>,
        private: Vec<u8>,
    ) -> impl Future<Output = RenewResponse> + Send {
        let _ = ctx;
        async move {
            RenewResponse {
                renew_at: None,
                private,
                diagnostics: Diagnostics::new(),
            }
        }
    }

    /// Closes it. The default does nothing.
    fn close(
        &self,
        ctx: &Context<D>,
        private: Vec<u8>,
    ) -> impl Future<Output = Diagnostics> + Send {
        let _ = (ctx, private);
        async { Diagnostics::new() }
    }
}

/// Object-safe form of [`Action`].
pub(crate) trait ErasedAction<D>: Send + Sync {
    fn plan<'a>(&'a self, ctx: &'a Context<D>, config: &'a Value) -> BoxFuture<'a, Diagnostics>;
    fn invoke<'a>(
        &'a self,
        ctx: &'a Context<D>,
        config: Value,
        progress: ActionProgress,
    ) -> BoxFuture<'a, Diagnostics>;
}

impl<D: Send + Sync + 'static, A: Action<D>> ErasedAction<D> for A {
    fn plan<'a>(&'a self, ctx: &'a Context<D>, config: &'a Value) -> BoxFuture<'a, Diagnostics> {
        Box::pin(Action::plan(self, ctx, config))
    }
    fn invoke<'a>(
        &'a self,
        ctx: &'a Context<D>,
        config: Value,
        progress: ActionProgress,
    ) -> BoxFuture<'a, Diagnostics> {
        Box::pin(Action::invoke(self, ctx, config, progress))
    }
}

/// Object-safe form of [`ListResource`].
pub(crate) trait ErasedListResource<D>: Send + Sync {
    fn list<'a>(
        &'a self,
        ctx: &'a Context<D>,
        req: ListRequest,
        results: ListResults,
    ) -> BoxFuture<'a, Diagnostics>;
}

impl<D: Send + Sync + 'static, L: ListResource<D>> ErasedListResource<D> for L {
    fn list<'a>(
        &'a self,
        ctx: &'a Context<D>,
        req: ListRequest,
        results: ListResults,
    ) -> BoxFuture<'a, Diagnostics> {
        Box::pin(ListResource::list(self, ctx, req, results))
    }
}

/// Object-safe form of [`EphemeralResource`].
pub(crate) trait ErasedEphemeralResource<D>: Send + Sync {
    fn open<'a>(&'a self, ctx: &'a Context<D>, config: Value) -> BoxFuture<'a, OpenResponse>;
    fn renew<'a>(&'a self, ctx: &'a Context<D>, private: Vec<u8>) -> BoxFuture<'a, RenewResponse>;
    fn close<'a>(&'a self, ctx: &'a Context<D>, private: Vec<u8>) -> BoxFuture<'a, Diagnostics>;
}

impl<D: Send + Sync + 'static, E: EphemeralResource<D>> ErasedEphemeralResource<D> for E {
    fn open<'a>(&'a self, ctx: &'a Context<D>, config: Value) -> BoxFuture<'a, OpenResponse> {
        Box::pin(EphemeralResource::open(self, ctx, config))
    }
    fn renew<'a>(&'a self, ctx: &'a Context<D>, private: Vec<u8>) -> BoxFuture<'a, RenewResponse> {
        Box::pin(EphemeralResource::renew(self, ctx, private))
    }
    fn close<'a>(&'a self, ctx: &'a Context<D>, private: Vec<u8>) -> BoxFuture<'a, Diagnostics> {
        Box::pin(EphemeralResource::close(self, ctx, private))
    }
}
