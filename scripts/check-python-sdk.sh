#!/usr/bin/env bash
# Checks that the official Huawei Cloud Python SDK for CPH works against a running simulator:
#
#   HW_ACCESS_KEY=.. HW_SECRET_KEY=.. HW_PROJECT_ID=.. scripts/check-python-sdk.sh http://127.0.0.1:PORT
#
# Installs the SDK, pinned (huaweicloudsdkcph==3.1.219 and the huaweicloudsdkcore of the same version it runs on),
# from PyPI into a venv in the tools directory (.tools/python-sdk/venv, git-ignored; CPH_TOOLS_DIR=/elsewhere
# overrides it), idempotently: only when that venv does not hold exactly these versions yet, with pip's output
# silenced. Then runs scripts/python-sdk-check.py ENDPOINT with the venv's Python, which signs its calls with AK/SK
# as any SDK user does (ListCloudPhones, BatchShowPhoneConnectInfos, the 10-phone limit) and presents the tickets
# to the simulator's stand-in for the phone's access gateway (POST /_sim/connect); it prints a short summary.
# Exits non-zero, saying how to get what is missing, when Python 3 with venv and pip, or PyPI, is not available,
# and with the failed check's message when one fails: never a silent skip. The test suite runs it against an
# in-process simulator (crates/cph-sim/tests/python_sdk.rs).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${CPH_TOOLS_DIR:-$root/.tools}"
python="${PYTHON:-python3}"

SDK_VERSION=3.1.219
REQUIREMENTS=("huaweicloudsdkcph==$SDK_VERSION" "huaweicloudsdkcore==$SDK_VERSION")

fail() {
  echo "check-python-sdk: $*" >&2
  exit 1
}

if [ $# -ne 1 ] || [[ "$1" != http://* && "$1" != https://* ]]; then
  echo "usage: HW_ACCESS_KEY=.. HW_SECRET_KEY=.. HW_PROJECT_ID=.. scripts/check-python-sdk.sh http://HOST:PORT" >&2
  exit 2
fi
endpoint="$1"

mkdir -p "$tools"
tools="$(cd "$tools" && pwd)"
dir="$tools/python-sdk"
venv="$dir/venv"

# Whether the venv holds exactly the pinned SDK and core (and imports them).
installed() {
  [ -x "$venv/bin/python" ] && "$venv/bin/python" -I -c '
import sys
from importlib.metadata import version
import huaweicloudsdkcph.v1, huaweicloudsdkcore.auth.credentials
wanted = sys.argv[1]
sys.exit(0 if version("huaweicloudsdkcph") == wanted and version("huaweicloudsdkcore") == wanted else 1)
' "$SDK_VERSION" >/dev/null 2>&1
}

install_sdk() {
  command -v "$python" >/dev/null 2>&1 ||
    fail "Python 3 (3.8 or newer) with venv and pip is needed to install the Huawei Cloud Python SDK from PyPI and
  $python is not on PATH; install it (Debian/Ubuntu: apt-get install python3 python3-venv python3-pip; elsewhere
  https://www.python.org) or name one with PYTHON=/path/to/python3, then run scripts/check-python-sdk.sh again"
  "$python" -c 'import sys; sys.exit(sys.version_info < (3, 8))' >/dev/null 2>&1 ||
    fail "$python is not Python 3.8 or newer; install one (Debian/Ubuntu: apt-get install python3) or name it with
  PYTHON=/path/to/python3, then run scripts/check-python-sdk.sh again"
  echo "check-python-sdk: installing ${REQUIREMENTS[*]} from PyPI into $venv" >&2
  rm -rf "$venv"
  "$python" -m venv "$venv" >&2 ||
    fail "$python -m venv failed; install the venv module (Debian/Ubuntu: apt-get install python3-venv),
  then run scripts/check-python-sdk.sh again"
  "$venv/bin/python" -m pip --version >/dev/null 2>&1 ||
    fail "the venv $venv has no pip; install it (Debian/Ubuntu: apt-get install python3-pip python3-venv;
  elsewhere $python -m ensurepip --upgrade), then run scripts/check-python-sdk.sh again"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${REQUIREMENTS[@]}" >&2 ||
    fail "pip could not install ${REQUIREMENTS[*]} (is PyPI reachable? behind a mirror, set PIP_INDEX_URL);
  install them by hand into $venv ($venv/bin/python -m pip install ${REQUIREMENTS[*]}), then run
  scripts/check-python-sdk.sh again"
  installed || fail "${REQUIREMENTS[*]} installed into $venv but do not import; remove $venv and run
  scripts/check-python-sdk.sh again"
}

if ! installed; then
  mkdir -p "$dir"
  # One installer at a time (test runs in several worktrees may share the tools directory); the one that waited
  # finds the venv ready.
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$dir/.install.lock"
    flock 9
  fi
  installed || install_sdk
  if command -v flock >/dev/null 2>&1; then
    exec 9>&-
  fi
fi

exec "$venv/bin/python" -I "$root/scripts/python-sdk-check.py" "$endpoint"
