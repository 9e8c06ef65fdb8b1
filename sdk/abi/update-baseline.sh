#!/usr/bin/env bash
# Writes the abidiff baseline sdk/abi/abi-MAJOR.MINOR.xml from the probe of a build tree (sdk/tests/abi_probe.c).
#   sdk/abi/update-baseline.sh BUILD_DIR
# Only for a new ABI version (after update-hash.sh), never to silence the sdk.abi_abidiff test. Paths, locations
# and the build directory are left out so the file depends on the header alone.
set -euo pipefail
build=${1:?usage: $0 BUILD_DIR}
cd "$(dirname "$0")/../.."
header=sdk/include/portico/abi.h
major=$(sed -n 's/^#define PORTICO_ABI_MAJOR \([0-9]*\)$/\1/p' "$header")
minor=$(sed -n 's/^#define PORTICO_ABI_MINOR \([0-9]*\)$/\1/p' "$header")
probe=$build/sdk/tests/libportico_abi_probe.so
cmake --build "$build" --target portico_abi_probe
out=sdk/abi/abi-$major.$minor.xml
abidw --no-corpus-path --no-comp-dir-path --no-show-locs --type-id-style hash --out-file "$out" "$probe"
echo "wrote $out; review it with: abidiff <previous baseline> $out"
