#!/usr/bin/env bash
# Installs what omnimask needs to build and run on a fresh Debian/Ubuntu
# machine: GDAL development files, pkg-config, a C++ compiler, the ONNX
# Runtime 1.24 shared library and the Go modules. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

ORT_VERSION=1.24.3
ORT_DIR=third_party/onnxruntime
ORT_LIB=$ORT_DIR/libonnxruntime.so.1

say() { printf 'deps: %s\n' "$*"; }
die() { printf 'deps: error: %s\n' "$*" >&2; exit 1; }

# 1. System packages.
missing=()
command -v pkg-config >/dev/null || missing+=(pkg-config)
command -v g++ >/dev/null || missing+=(g++)
if ! pkg-config --exists gdal 2>/dev/null; then missing+=(libgdal-dev); fi
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    say "installing ${missing[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    die "missing ${missing[*]}; run: sudo apt-get install -y ${missing[*]}"
  fi
fi
say "GDAL $(pkg-config --modversion gdal)"

# 2. ONNX Runtime: an explicit path first, then a system copy, else the
#    linux-x64 library from the onnxruntime-node npm package.
check_ort() { # path
  local f=$1 size
  [[ -f $f ]] || return 1
  size=$(stat -Lc %s "$f")
  ((size > 10000000)) || { say "$f is only $size bytes"; return 1; }
  head -c 4 "$f" | grep -q ELF || { say "$f is not an ELF library"; return 1; }
  LC_ALL=C grep -aqo "${ORT_VERSION%.*}\.[0-9]" "$f" || { say "$f does not look like ONNX Runtime ${ORT_VERSION%.*}"; return 1; }
}
if [[ -n ${ONNXRUNTIME_LIB:-} ]]; then
  check_ort "$ONNXRUNTIME_LIB" || die "ONNXRUNTIME_LIB=$ONNXRUNTIME_LIB is not a usable ONNX Runtime ${ORT_VERSION%.*} library"
  say "ONNX Runtime from ONNXRUNTIME_LIB=$ONNXRUNTIME_LIB"
elif check_ort "$ORT_LIB" 2>/dev/null; then
  say "ONNX Runtime in $ORT_LIB"
else
  sys=$( (ldconfig -p 2>/dev/null || true) | awk '/libonnxruntime\.so\.1 /{print $NF; exit}')
  if [[ -n $sys ]] && check_ort "$sys"; then
    say "ONNX Runtime from the system: $sys"
  else
    command -v npm >/dev/null || die "npm is needed to fetch ONNX Runtime (apt-get install npm), or set ONNXRUNTIME_LIB"
    [[ $(uname -m) == x86_64 ]] || die "the npm package ships linux-x64 only; set ONNXRUNTIME_LIB to an ONNX Runtime ${ORT_VERSION%.*} library"
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    say "fetching onnxruntime-node@$ORT_VERSION from the npm registry"
    (cd "$tmp" && npm pack --silent "onnxruntime-node@$ORT_VERSION" >/dev/null)
    tar -xzf "$tmp"/onnxruntime-node-*.tgz -C "$tmp" package/bin/napi-v6/linux/x64/libonnxruntime.so.1
    mkdir -p "$ORT_DIR"
    mv "$tmp/package/bin/napi-v6/linux/x64/libonnxruntime.so.1" "$ORT_LIB.part"
    check_ort "$ORT_LIB.part" || die "the downloaded library failed the checks"
    mv "$ORT_LIB.part" "$ORT_LIB"
    say "ONNX Runtime $ORT_VERSION in $ORT_LIB"
  fi
fi

# 3. Go modules.
command -v go >/dev/null || die "Go is not installed (https://go.dev/dl)"
go mod download
say "ok"
