#!/usr/bin/env bash
# Records the live abi.h as the ABI version it declares: sdk/abi/abi-MAJOR.MINOR.sha256 and the kept copy
# sdk/abi/MAJOR.MINOR/portico/abi.h (what the header-hash test and the ABI fixtures use).
#   sdk/abi/update-hash.sh            record a new version (refuses to overwrite a different recorded one)
#   sdk/abi/update-hash.sh --force    re-record the same version: ONLY while that version was never released
# After it: sdk/abi/gen_layout.py, sdk/abi/update-baseline.sh BUILD_DIR, and a line in sdk/abi/HISTORY.md.
set -euo pipefail
cd "$(dirname "$0")/../.."   # the repository root: the record names paths from there, for `sha256sum -c`
header=sdk/include/portico/abi.h
major=$(sed -n 's/^#define PORTICO_ABI_MAJOR \([0-9]*\)$/\1/p' "$header")
minor=$(sed -n 's/^#define PORTICO_ABI_MINOR \([0-9]*\)$/\1/p' "$header")
[ -n "$major" ] && [ -n "$minor" ] || { echo "$header: no PORTICO_ABI_MAJOR/MINOR" >&2; exit 1; }
version=$major.$minor
record=sdk/abi/abi-$version.sha256
kept=sdk/abi/$version/portico/abi.h

if [ -e "$record" ] && ! cmp -s "$header" "$kept" && [ "${1:-}" != "--force" ]; then
  cat >&2 <<MSG
ABI $version is already recorded, with other contents. A released ABI never changes: bump PORTICO_ABI_MINOR for an
append-only change (or MAJOR otherwise) and run this again. If $version was never released, use --force.
MSG
  exit 1
fi
mkdir -p "$(dirname "$kept")"
cp "$header" "$kept"
sha256sum "$kept" > "$record"
echo "recorded ABI $version: $(cut -d' ' -f1 "$record")"
echo "next: sdk/abi/gen_layout.py; sdk/abi/update-baseline.sh BUILD_DIR; a line in sdk/abi/HISTORY.md"
