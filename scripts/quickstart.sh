#!/usr/bin/env bash
# The main job, end to end on a laptop with no cloud account: build the provider and the simulator, start
# cph-sim, apply examples/quickstart with real Terraform (restart a fleet of phones, set properties on three),
# print each phone's result, stop the simulator.
#
#   scripts/quickstart.sh [--phones N] [--job-duration 3s] [--keep]
#
# --keep leaves the Terraform working directory (.tools/quickstart-run) for a look at the state.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$(pwd)"
export CHECKPOINT_DISABLE=1

phones=12
job_duration=3s
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --phones) phones="$2"; shift 2 ;;
    --job-duration) job_duration="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    *) echo "usage: scripts/quickstart.sh [--phones N] [--job-duration 3s] [--keep]" >&2; exit 2 ;;
  esac
done

echo "==> building terraform-provider-cph and cph-sim"
cargo build --locked --quiet -p terraform-provider-cph -p cph-sim
target="${CARGO_TARGET_DIR:-$root/target}"

echo "==> installing Terraform into .tools/ (if missing)"
terraform_bin="$(scripts/install-terraform.sh | tail -n 1)"

access_key=QUICKSTARTACCESSKEY1
secret_key="quickstart-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
project_id=0123456789abcdef0123456789abcdef

run="$root/.tools/quickstart-run"
rm -rf "$run"
mkdir -p "$run/plugins"
sim_out="$run/cph-sim.stdout"
sim_log="$run/cph-sim.log"

echo "==> starting cph-sim with $phones phones (jobs take $job_duration)"
"$target/debug/cph-sim" --listen 127.0.0.1:0 --phones "$phones" --job-duration "$job_duration" \
  --access-key "$access_key" --secret-key "$secret_key" --project-id "$project_id" \
  >"$sim_out" 2>"$sim_log" &
sim_pid=$!
cleanup() {
  kill "$sim_pid" 2>/dev/null || true
  wait "$sim_pid" 2>/dev/null || true
  if [ "$keep" = 0 ]; then rm -rf "$run"; fi
}
trap cleanup EXIT

url=""
for _ in $(seq 1 100); do
  url="$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$sim_out" 2>/dev/null | head -n 1 || true)"
  [ -n "$url" ] && break
  if ! kill -0 "$sim_pid" 2>/dev/null; then
    echo "cph-sim exited early:" >&2; cat "$sim_log" >&2; exit 1
  fi
  sleep 0.1
done
[ -n "$url" ] || { echo "cph-sim did not print its URL" >&2; exit 1; }
echo "    simulator at $url"

cp examples/quickstart/*.tf "$run/"
ln -s "$target/debug/terraform-provider-cph" "$run/plugins/terraform-provider-cph"
cat >"$run/terraformrc" <<RC
provider_installation {
  dev_overrides {
    "registry.terraform.io/cph-community/cph" = "$run/plugins"
  }
  direct {}
}
RC
export TF_CLI_CONFIG_FILE="$run/terraformrc"
export TF_IN_AUTOMATION=1
export CPH_ENDPOINT="$url" HW_PROJECT_ID="$project_id" HW_ACCESS_KEY="$access_key" HW_SECRET_KEY="$secret_key"
export CPH_POLL_INTERVAL=1s

cd "$run"
tf_version="$("$terraform_bin" version 2>/dev/null || true)"
echo "==> ${tf_version%%$'\n'*}: terraform apply examples/quickstart"
"$terraform_bin" apply -auto-approve -input=false -no-color

echo
echo "==> per-phone results"
"$terraform_bin" output -no-color restart_results
"$terraform_bin" output -no-color property_results

echo
echo "==> simulator request counts"
curl -s "$url/_sim/stats" 2>/dev/null | python3 -c '
import json, sys
s = json.load(sys.stdin)
for route, n in sorted(s.get("requests", {}).items()):
    print(f"    {route:28} {n}")
subs = s.get("submissions", {})
print(f"    phones acted on: {len(subs)}, most submissions of one phone: {max(subs.values(), default=0)}")
' || echo "    (stats unavailable)"
