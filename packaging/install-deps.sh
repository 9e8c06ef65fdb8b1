#!/usr/bin/env bash
# Installs, from Debian 12 packages, whatever is missing to build, test and benchmark Portico. Idempotent.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev  # toolchain; clang for libFuzzer
  libpoco-dev libtomlplusplus-dev libboost-dev libboost-filesystem-dev libssl-dev doctest-dev
  zlib1g-dev libbrotli-dev libzstd-dev abigail-tools                     # compression plugin; ABI check
  brotli zstd                                                            # reference decoders for the tests
  python3 curl openssl                                                   # integration tests (openssl s_client, certificates) and the demo
)
if [ "${1:-}" = "--bench" ]; then
  packages+=(nginx haproxy wrk iproute2 testssl.sh)
fi

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
