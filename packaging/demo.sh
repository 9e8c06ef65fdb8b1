#!/usr/bin/env bash
# Installs what is missing, builds Portico, starts two demo origins (127.0.0.1:9001 and :9002) and runs Portico
# in the foreground on the default configuration in conf.d/ (listening on :8080). Ctrl-C stops everything.
# Try it from another terminal:  curl -i http://127.0.0.1:8080/
set -euo pipefail
cd "$(dirname "$0")/.."

packaging/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)"

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT
python3 packaging/demo-origin.py 9001 "origin 1" & pids+=($!)
python3 packaging/demo-origin.py 9002 "origin 2" & pids+=($!)

echo "Portico on http://127.0.0.1:8080/ -> origins 127.0.0.1:9001 and 127.0.0.1:9002 (Ctrl-C to stop)"
build/host/portico -c conf.d
