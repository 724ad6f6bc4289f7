#!/usr/bin/env bash
# Builds the release artifacts of terraform-provider-cph in the Terraform Registry's format, into dist/:
#
#   terraform-provider-cph_<version>_<os>_<arch>.zip    the executable terraform-provider-cph_v<version>
#   terraform-provider-cph_<version>_manifest.json      {"version": 1, "metadata": {"protocol_versions": ["6.0"]}}
#   terraform-provider-cph_<version>_SHA256SUMS         sha256sum of the zips and the manifest
#   terraform-provider-cph_<version>_SHA256SUMS.sig     detached GPG signature, when CPH_RELEASE_GPG_KEY names a key
#
#   scripts/release.sh [--snapshot] [--binary PATH] [--dist DIR] [--mirror DIR]
#
# The version is Cargo's (the terraform-provider-cph package), the one the binary reports. A release needs a
# clean work tree and a CHANGELOG.md entry for the version; --snapshot builds without either (for trying the
# installation path, not for publishing). --binary PATH packs an already built executable (it must report the
# same version) instead of running `cargo build --release`. --mirror DIR also lays the zips out as a Terraform
# filesystem mirror (DIR/registry.terraform.io/cph-community/cph/<zip>), for `terraform init -plugin-dir=DIR`
# or a `provider_installation { filesystem_mirror { path = "DIR" } }` CLI block. Running it again is harmless.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

usage() {
  echo "usage: scripts/release.sh [--snapshot] [--binary PATH] [--dist DIR] [--mirror DIR]" >&2
  exit 2
}
fail() {
  echo "release: $*" >&2
  exit 1
}

# The platforms to release, one per line: Terraform's <os>_<arch> and the Rust target that builds it. Only
# linux_amd64 can be built on the project's machines (no cross linkers): to add one, install its Rust target
# (`rustup target add aarch64-unknown-linux-gnu`) and a linker for it, then add a line here.
PLATFORMS=(
  "linux_amd64 x86_64-unknown-linux-gnu"
)
NAME=terraform-provider-cph
HOSTNAME_NS_TYPE=registry.terraform.io/cph-community/cph
PROTOCOL_VERSIONS='["6.0"]'

snapshot=0
binary=""
dist="$root/dist"
mirror=""
while [ $# -gt 0 ]; do
  case "$1" in
    --snapshot) snapshot=1; shift ;;
    --binary) [ $# -ge 2 ] || usage; binary="$2"; shift 2 ;;
    --dist) [ $# -ge 2 ] || usage; dist="$2"; shift 2 ;;
    --mirror) [ $# -ge 2 ] || usage; mirror="$2"; shift 2 ;;
    -h|--help) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) usage ;;
  esac
done
for tool in cargo python3 sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || fail "$tool is needed and is not on PATH"
done

# The version and the target directory, as Cargo sees them (CARGO_TARGET_DIR and .cargo/config included).
metadata="$(cargo metadata --no-deps --format-version 1 --locked)" || fail "cargo metadata failed"
read -r version target_dir < <(python3 -c '
import json, sys
m = json.load(sys.stdin)
versions = [p["version"] for p in m["packages"] if p["name"] == sys.argv[1]]
if len(versions) != 1:
    sys.exit(f"release: no single package named {sys.argv[1]} in the workspace")
print(versions[0], m["target_directory"])
' "$NAME" <<<"$metadata")
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] || fail "Cargo's version '$version' is not semver"

# A release is made from committed work whose CHANGELOG says what it is.
problems=()
if ! git -C "$root" rev-parse --git-dir >/dev/null 2>&1; then
  problems+=("$root is not a git work tree, so what was built cannot be named")
elif [ -n "$(git -C "$root" status --porcelain --untracked-files=normal)" ]; then
  problems+=("the work tree has uncommitted changes (see git status)")
fi
if ! grep -Eq "^## \[$(printf '%s' "$version" | sed 's/\./\\./g')\]" CHANGELOG.md 2>/dev/null; then
  problems+=("CHANGELOG.md has no entry '## [$version] - <date>' for version $version")
fi
if [ ${#problems[@]} -gt 0 ]; then
  if [ "$snapshot" = 0 ]; then
    for p in "${problems[@]}"; do echo "release: $p" >&2; done
    echo "release: fix that for a release, or pass --snapshot for a build to try (not for publishing)" >&2
    exit 1
  fi
  for p in "${problems[@]}"; do echo "release: snapshot build (not for publishing): $p" >&2; done
fi

host="$(rustc -vV | sed -n 's/^host: //p')"
if [ -n "$binary" ] && [ ${#PLATFORMS[@]} -ne 1 ]; then
  fail "--binary packs one executable, but ${#PLATFORMS[@]} platforms are listed"
fi

mkdir -p "$dist"
dist="$(cd "$dist" && pwd)"
prefix="${NAME}_${version}"
# The zip's timestamps: the commit's time, so that the same binary gives the same zip (and checksum).
epoch="$(git -C "$root" log -1 --format=%ct 2>/dev/null || echo 315532800)"

zips=()
for entry in "${PLATFORMS[@]}"; do
  read -r platform rust_target <<<"$entry"
  exe="$binary"
  if [ -z "$exe" ]; then
    if [ "$rust_target" = "$host" ]; then
      echo "==> cargo build --release -p $NAME ($platform)" >&2
      cargo build --release --locked -p "$NAME" >&2
      exe="$target_dir/release/$NAME"
    else
      rustup target list --installed 2>/dev/null | grep -qx "$rust_target" ||
        fail "$platform needs the Rust target $rust_target: rustup target add $rust_target (and a linker for it)"
      echo "==> cargo build --release --target $rust_target -p $NAME ($platform)" >&2
      cargo build --release --locked --target "$rust_target" -p "$NAME" >&2
      exe="$target_dir/$rust_target/release/$NAME"
    fi
  fi
  [ -x "$exe" ] || fail "$exe is not an executable"
  if [ "$rust_target" = "$host" ]; then
    reported="$("$exe" --version 2>/dev/null || true)"
    [ "${reported#"$NAME $version "}" != "$reported" ] ||
      fail "$exe reports '${reported:-nothing}', not $NAME $version: build it again"
  fi
  zip="${prefix}_${platform}.zip"
  python3 - "$exe" "$dist/$zip.tmp" "${NAME}_v${version}" "$epoch" <<'PY'
import sys, time, zipfile
exe, out, name, epoch = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
info = zipfile.ZipInfo(name, date_time=time.gmtime(max(epoch, 315532800))[:6])
info.external_attr = (0o100755 << 16)
info.create_system = 3  # Unix, so that the mode bits above are honoured
info.compress_type = zipfile.ZIP_DEFLATED
with open(exe, "rb") as f, zipfile.ZipFile(out, "w") as z:
    z.writestr(info, f.read(), compresslevel=9)
PY
  mv "$dist/$zip.tmp" "$dist/$zip"
  zips+=("$zip")
done

manifest="${prefix}_manifest.json"
printf '{"version": 1, "metadata": {"protocol_versions": %s}}\n' "$PROTOCOL_VERSIONS" >"$dist/$manifest"

sums="${prefix}_SHA256SUMS"
(cd "$dist" && sha256sum "${zips[@]}" "$manifest" >"$sums.tmp" && mv "$sums.tmp" "$sums")
# A signature of an earlier SHA256SUMS would not match the new one.
rm -f "$dist/$sums.sig"
if [ -n "${CPH_RELEASE_GPG_KEY:-}" ]; then
  command -v gpg >/dev/null 2>&1 || fail "CPH_RELEASE_GPG_KEY is set but gpg is not on PATH (apt-get install gnupg)"
  gpg --batch --yes --local-user "$CPH_RELEASE_GPG_KEY" --detach-sign --output "$dist/$sums.sig" "$dist/$sums" ||
    fail "gpg could not sign $sums with the key $CPH_RELEASE_GPG_KEY"
  signed="signed with $CPH_RELEASE_GPG_KEY: $sums.sig"
else
  signed="not signed: set CPH_RELEASE_GPG_KEY=<key id> to write $sums.sig, which the Terraform Registry requires"
fi

echo "$NAME $version$([ "$snapshot" = 1 ] && echo " (snapshot)") in $dist:"
for f in "${zips[@]}" "$manifest" "$sums"; do echo "  $f"; done
echo "  $signed"

if [ -n "$mirror" ]; then
  mkdir -p "$mirror/$HOSTNAME_NS_TYPE"
  mirror="$(cd "$mirror" && pwd)"
  for zip in "${zips[@]}"; do
    dest="$mirror/$HOSTNAME_NS_TYPE/$zip"
    if [ -f "$dest" ] && ! cmp -s "$dist/$zip" "$dest"; then
      echo "release: replacing a different $zip in the mirror: lock files that recorded the old one will refuse it" >&2
    fi
    cp "$dist/$zip" "$dest.tmp"
    mv "$dest.tmp" "$dest"
  done
  echo "filesystem mirror $mirror:"
  for zip in "${zips[@]}"; do echo "  $HOSTNAME_NS_TYPE/$zip"; done
  echo "  install with: terraform init -plugin-dir=$mirror"
fi
