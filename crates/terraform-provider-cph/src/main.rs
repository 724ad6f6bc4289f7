//! The `terraform-provider-cph` binary: serves [`CphProvider`] to Terraform (`--debug` for reattach mode,
//! `--version` to print the version and exit).

use std::io::Write;
use std::process::ExitCode;

use terraform_provider_cph::{CphProvider, PROVIDER_ADDRESS, PROVIDER_VERSION};

fn main() -> ExitCode {
    if std::env::args()
        .skip(1)
        .any(|a| a == "--version" || a == "-version")
    {
        // stdout is the handshake's channel when Terraform starts the provider; here nobody handshakes.
        let line = format!(
            "terraform-provider-cph {PROVIDER_VERSION} ({PROVIDER_ADDRESS}, plugin protocol 6)\n"
        );
        return match std::io::stdout().write_all(line.as_bytes()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(_) => ExitCode::FAILURE,
        };
    }
    tfplugin::serve(
        CphProvider,
        tfplugin::ServeConfig::from_args(PROVIDER_ADDRESS),
    )
}
