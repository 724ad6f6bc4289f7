//! The `terraform-provider-cph` binary: serves [`CphProvider`] to Terraform (`--debug` for reattach mode).

use std::process::ExitCode;

use terraform_provider_cph::{CphProvider, PROVIDER_ADDRESS};

fn main() -> ExitCode {
    tfplugin::serve(
        CphProvider,
        tfplugin::ServeConfig::from_args(PROVIDER_ADDRESS),
    )
}
