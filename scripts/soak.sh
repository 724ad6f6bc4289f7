#!/usr/bin/env bash
# The soak command: 1,000 phones restarted through real Terraform 1.11 against cph-sim (in-process) with
# 20% 429, 10% 503, 5% per-phone job failures and latency jitter injected. Checks that apply converges,
# that every phone's outcome in state matches the simulator's truth, that no phone is submitted twice and
# that the apply ends in bounded time; prints wall time, API calls per route and each check's result, and
# exits non-zero when a check fails. With --ambiguous the faults are 10% 429 and 10% 503 before the service
# acts, 30% of batch requests answered 500 and 20% left without an answer after it acted, and 5% job
# failures; a second apply with the faults off must leave state equal to the simulator, no phone acted on
# more than twice.
#
#   scripts/soak.sh [--phones 1000] [--job-duration 5s] [--batch-size 100] [--max-retries 20]
#                   [--poll-interval 1s] [--seed 1] [--time-bound 300s] [--terraform-version 1.11]
#                   [--ambiguous]
#
# Options are passed to the example crates/terraform-provider-cph/examples/soak.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CHECKPOINT_DISABLE=1

echo "==> installing Terraform into .tools/ (if missing)"
scripts/install-terraform.sh >/dev/null

echo "==> building terraform-provider-cph and the soak example (release)"
cargo build --locked --quiet --release -p terraform-provider-cph --bin terraform-provider-cph --example soak
target="${CARGO_TARGET_DIR:-$(pwd)/target}"

echo "==> soak"
exec "$target/release/examples/soak" --provider "$target/release/terraform-provider-cph" "$@"
