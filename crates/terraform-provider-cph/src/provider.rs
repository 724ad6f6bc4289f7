//! The `cph` provider: its schema and configure step (from [`crate::config`]) and the one list of
//! the resources and data sources it serves.

use tfplugin::{ConfigureRequest, Diagnostic, Diagnostics, Provider, Registry, Schema};

use crate::actions::{OperationAction, PhoneStop};
use crate::config::{self, ProviderData};
use crate::connection::PhoneConnection;
use crate::data_sources::phones::Phones;
use crate::list_resources::{FleetList, Grouping};
use crate::resources::OperationResource;
use crate::resources::phone_backup::PhoneBackup;
use crate::resources::phone_power::PhonePower;
use crate::resources::phone_property::PhoneProperty;
use crate::resources::phone_reset::PhoneReset;
use crate::resources::phone_restart::PhoneRestart;
use crate::resources::phone_restore::PhoneRestore;

/// The provider's registry address.
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/cph-community/cph";

/// The provider's version: Cargo's, the one `scripts/release.sh` names the release artifacts after, the
/// one in the user agent of every API request and in the provider's first log line.
pub const PROVIDER_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The `cph` provider.
#[derive(Debug, Default, Clone, Copy)]
pub struct CphProvider;

impl Provider for CphProvider {
    type Data = ProviderData;

    fn schema(&self) -> Schema {
        Schema::new(0, config::provider_block())
    }

    fn register(&self, registry: &mut Registry<ProviderData>) {
        registry
            .resource(OperationResource::<PhoneRestart>::new())
            .resource(OperationResource::<PhoneReset>::new())
            .resource(OperationResource::<PhoneRestore>::new())
            .resource(OperationResource::<PhoneBackup>::new())
            .resource(OperationResource::<PhoneProperty>::new())
            .resource(PhonePower)
            .data_source(Phones)
            .action(OperationAction::<PhoneRestart>::new())
            .action(OperationAction::<PhoneReset>::new())
            .action(OperationAction::<PhoneRestore>::new())
            .action(OperationAction::<PhoneBackup>::new())
            .action(OperationAction::<PhoneStop>::new())
            .list_resource(FleetList::new(
                OperationResource::<PhoneProperty>::new(),
                Grouping::Server,
            ))
            .list_resource(FleetList::new(PhonePower, Grouping::ServerAndPower))
            .ephemeral_resource(PhoneConnection);
    }

    async fn configure(
        &self,
        req: ConfigureRequest,
        diags: &mut Diagnostics,
    ) -> Option<ProviderData> {
        if !req.config.is_wholly_known() {
            diags.push(Diagnostic::error(
                "Provider Configuration Not Known",
                "the provider configuration depends on values known only after apply; configure the provider from \
                 variables or the environment instead",
            ));
            return None;
        }
        tracing::info!(
            terraform_version = %req.terraform_version,
            "terraform-provider-cph {PROVIDER_VERSION}"
        );
        config::configure(
            &req.config,
            &req.terraform_version,
            |name| std::env::var(name).ok(),
            diags,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_provider_schema_passes_terraforms_rules() {
        assert_eq!(tfplugin::check_provider_schemas(&CphProvider), Ok(()));
    }
}
