#!/usr/bin/env bash
# The whole test suite, as CI runs it: install what is missing, then build and test three ways:
#   1. a release build: unit and integration tests;
#   2. an AddressSanitizer + UndefinedBehaviorSanitizer build: the same tests;
#   3. the libFuzzer targets (clang), each for a bounded time from the committed seed corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

packaging/install-deps.sh

jobs=$(nproc)
build() {  # build DIR [cmake options...]
  local dir=$1; shift
  cmake -S "$top" -B "$dir" -G Ninja "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
}

started=$SECONDS
echo "== release build"
build build -DCMAKE_BUILD_TYPE=RelWithDebInfo
(cd build && ctest --output-on-failure -j 2)

echo "== sanitizer build (ASan + UBSan)"
build build-asan -DCMAKE_BUILD_TYPE=Debug -DPORTICO_SANITIZE=ON
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --output-on-failure -j 2 -E '^fuzz\.')

echo "== fuzzing (libFuzzer, ASan + UBSan)"
CC=clang CXX=clang++ build build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPORTICO_FUZZ=ON
(cd build-fuzz && ctest --output-on-failure -j 2 -R '^fuzz\.')

echo "== all suites passed in $((SECONDS - started)) s"
