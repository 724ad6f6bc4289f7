//! A provider's RPCs called in-process, through the same code as over gRPC (decoding, the runtime's
//! plan, the provider, encoding), with the bytes Terraform would send and without Terraform, a socket or
//! TLS: for benchmarks of the runtime's and a provider's own cost at scale, and for tests that count
//! what one RPC does. Not part of the runtime's API proper (hidden from the docs).

use tonic::Request;

use crate::grpc::ProviderService;
use crate::proto::tfplugin6 as pb;
use crate::proto::tfplugin6::provider_server::Provider as _;
use crate::{Provider, Type, Value, to_msgpack};

/// One provider served in-process.
pub struct InProcess<P: Provider> {
    service: ProviderService<P>,
}

/// What an RPC answered: its value (msgpack, as Terraform receives it) and the summaries of its error
/// diagnostics, `severity: summary: detail` each.
#[derive(Debug, Clone, Default)]
pub struct Answer {
    /// The value returned (upgraded, read or planned state), msgpack; empty when none.
    pub msgpack: Vec<u8>,
    /// The error diagnostics.
    pub errors: Vec<String>,
    /// The warnings.
    pub warnings: Vec<String>,
}

fn dv(msgpack: Vec<u8>) -> Option<pb::DynamicValue> {
    Some(pb::DynamicValue {
        msgpack,
        json: Vec::new(),
    })
}

fn answer(value: Option<pb::DynamicValue>, diagnostics: &[pb::Diagnostic]) -> Answer {
    let text = |d: &pb::Diagnostic| format!("{}: {}", d.summary, d.detail);
    Answer {
        msgpack: value.map(|v| v.msgpack).unwrap_or_default(),
        errors: diagnostics
            .iter()
            .filter(|d| d.severity == pb::diagnostic::Severity::Error as i32)
            .map(text)
            .collect(),
        warnings: diagnostics
            .iter()
            .filter(|d| d.severity == pb::diagnostic::Severity::Warning as i32)
            .map(text)
            .collect(),
    }
}

fn status(e: &tonic::Status) -> Answer {
    Answer {
        errors: vec![e.to_string()],
        ..Answer::default()
    }
}

impl<P: Provider> InProcess<P> {
    /// Serves `provider` (its registry and schemas built as at start-up).
    pub fn new(provider: P) -> Self {
        InProcess {
            service: ProviderService::new(provider),
        }
    }

    /// The value type of resource `type_name`'s schema.
    pub fn resource_type(&self, type_name: &str) -> Option<Type> {
        self.service.resource_type(type_name)
    }

    /// The value type of the provider's configuration.
    pub fn provider_type(&self) -> Type {
        self.service.provider_value_type()
    }

    /// ConfigureProvider with `config` (an object of the provider schema's type).
    pub async fn configure(&self, config: &Value) -> Answer {
        let Ok(msgpack) = to_msgpack(config, &self.service.provider_value_type()) else {
            return Answer {
                errors: vec!["the configuration does not fit the provider schema".into()],
                ..Answer::default()
            };
        };
        let request = pb::configure_provider::Request {
            terraform_version: "1.11.4".into(),
            config: dv(msgpack),
            client_capabilities: None,
        };
        match self.service.configure_provider(Request::new(request)).await {
            Ok(r) => answer(None, &r.into_inner().diagnostics),
            Err(e) => status(&e),
        }
    }

    /// ValidateResourceConfig of a msgpack configuration.
    pub async fn validate_resource_config(&self, type_name: &str, config: Vec<u8>) -> Answer {
        let request = pb::validate_resource_config::Request {
            type_name: type_name.into(),
            config: dv(config),
            client_capabilities: None,
        };
        match self
            .service
            .validate_resource_config(Request::new(request))
            .await
        {
            Ok(r) => answer(None, &r.into_inner().diagnostics),
            Err(e) => status(&e),
        }
    }

    /// UpgradeResourceState of stored JSON written with schema `version`.
    pub async fn upgrade_resource_state(
        &self,
        type_name: &str,
        version: i64,
        json: Vec<u8>,
    ) -> Answer {
        let request = pb::upgrade_resource_state::Request {
            type_name: type_name.into(),
            version,
            raw_state: Some(pb::RawState {
                json,
                flatmap: Default::default(),
            }),
        };
        match self
            .service
            .upgrade_resource_state(Request::new(request))
            .await
        {
            Ok(r) => {
                let r = r.into_inner();
                answer(r.upgraded_state, &r.diagnostics)
            }
            Err(e) => status(&e),
        }
    }

    /// ReadResource of a msgpack state.
    pub async fn read_resource(&self, type_name: &str, state: Vec<u8>) -> Answer {
        let request = pb::read_resource::Request {
            type_name: type_name.into(),
            current_state: dv(state),
            private: Vec::new(),
            provider_meta: None,
            client_capabilities: None,
            current_identity: None,
        };
        match self.service.read_resource(Request::new(request)).await {
            Ok(r) => {
                let r = r.into_inner();
                answer(r.new_state, &r.diagnostics)
            }
            Err(e) => status(&e),
        }
    }

    /// PlanResourceChange of msgpack prior state, proposed new state and configuration.
    pub async fn plan_resource_change(
        &self,
        type_name: &str,
        prior: Vec<u8>,
        proposed: Vec<u8>,
        config: Vec<u8>,
    ) -> Answer {
        let request = pb::plan_resource_change::Request {
            type_name: type_name.into(),
            prior_state: dv(prior),
            proposed_new_state: dv(proposed),
            config: dv(config),
            prior_private: Vec::new(),
            provider_meta: None,
            client_capabilities: None,
            prior_identity: None,
        };
        match self
            .service
            .plan_resource_change(Request::new(request))
            .await
        {
            Ok(r) => {
                let r = r.into_inner();
                answer(r.planned_state, &r.diagnostics)
            }
            Err(e) => status(&e),
        }
    }
}
