#!/usr/bin/env bash
# Side-by-side benchmark: Portico vs nginx vs HAProxy as HTTP/1.1 reverse proxies, each with ONE worker, in
# front of the same nginx origin, all on 127.0.0.1. See bench/README.md for what is measured and how to read it.
#
# The three proxies run side by side for the whole run, each on its own port (only the one being measured gets
# traffic). Each wrk test is measured in BENCH_ROUNDS rounds that interleave the proxies in ABBA order (round 1:
# nginx, haproxy, portico; round 2: portico, haproxy, nginx; ...), every measured run after its own warm-up, so
# a drift of the machine's speed over minutes falls on all proxies alike; a proxy's row sums up its rounds.
# The idle-memory test runs first, once per proxy, before any load (fresh heaps).
#
#   bench/run.sh                       # all proxies, all tests, 2 x 5 s per test and proxy (~3.5 minutes)
#   BENCH_SECONDS=4 bench/run.sh       # quick run (2 x 2 s)
#   BENCH_ONLY=a,e,portico bench/run.sh
#
# Environment:
#   PORTICO_BIN        Portico binary (default: <repo>/build/host/portico); missing => Portico is skipped
#   BENCH_SECONDS      measured seconds of each wrk test per proxy (default 10), split into BENCH_ROUNDS runs
#   BENCH_ROUNDS       measured wrk runs per test and proxy, interleaved between the proxies in ABBA order
#                      (default 2; BENCH_SECONDS/BENCH_ROUNDS whole seconds each; 1 = one run per proxy)
#   BENCH_WARMUP       warm-up before each measured wrk run, seconds (default 2)
#   BENCH_OUT          output directory for results.tsv/results.json/raw logs (default: a new /tmp dir)
#   BENCH_ONLY         comma-separated subset: tests a b c d e (or ka_1k ka_100k close_1k c1024_1k idle_10k)
#                      and/or proxies nginx haproxy portico; empty = everything
#   BENCH_PIN          1 = proxies on one CPU, wrk + origin on another (default 1 when taskset exists and
#                      >= 2 CPUs are available; the first two CPUs of the script's affinity set, usually 0 and 1)
#   BENCH_WRK_THREADS  wrk -t (default 1 when pinned -- wrk has one CPU -- else 2)
#   BENCH_IDLE_CONNS   connections of the idle-memory test (default 10000)
#   BENCH_KEEP         1 = keep the temporary work directory (configs, process logs)
#   NGINX_BIN, HAPROXY_BIN, WRK_BIN   (default /usr/sbin/nginx, /usr/sbin/haproxy, wrk)
#
# Every process is started by this script, tracked by pid, and stopped by pid on exit (also on error, Ctrl-C
# or SIGTERM). All state lives in a temporary directory, removed on exit (BENCH_KEEP=1 keeps it).

set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$BENCH_DIR/.." && pwd)"

PORTICO_BIN="${PORTICO_BIN:-$REPO_DIR/build/host/portico}"
NGINX_BIN="${NGINX_BIN:-/usr/sbin/nginx}"
HAPROXY_BIN="${HAPROXY_BIN:-/usr/sbin/haproxy}"
WRK_BIN="${WRK_BIN:-wrk}"
BENCH_SECONDS="${BENCH_SECONDS:-10}"
BENCH_WARMUP="${BENCH_WARMUP:-2}"
BENCH_ROUNDS="${BENCH_ROUNDS:-2}"
BENCH_ONLY="${BENCH_ONLY:-}"
BENCH_IDLE_CONNS="${BENCH_IDLE_CONNS:-10000}"
BENCH_KEEP="${BENCH_KEEP:-0}"

ALL_TESTS=(idle_10k ka_1k ka_100k close_1k c1024_1k)   # execution order: idle first, on a fresh heap
ALL_PROXIES=(nginx haproxy portico)

# ------------------------------------------------------------------------------------------------------------
# Small utilities and process bookkeeping: bench/lib.sh (shared with compression.sh)

# shellcheck source=bench/lib.sh
source "$BENCH_DIR/lib.sh"

# ------------------------------------------------------------------------------------------------------------
# Preconditions

command -v python3 >/dev/null || die "python3 not found"
# The real interpreter, resolved once: a version-manager shim (pyenv) can cost a second per call.
PYTHON=$(python3 -c 'import sys; print(sys.executable)') || die "python3 does not run"
command -v curl >/dev/null || die "curl not found"
command -v "$WRK_BIN" >/dev/null || die "wrk not found ($WRK_BIN)"
[[ -x $NGINX_BIN ]] || die "nginx not found at $NGINX_BIN"
[[ -x $HAPROXY_BIN ]] || die "haproxy not found at $HAPROXY_BIN"
[[ $BENCH_WARMUP =~ ^[0-9]+$ ]] || die "BENCH_WARMUP must be a non-negative integer (got '$BENCH_WARMUP')"
set_slice_seconds   # SLICE: seconds of each measured wrk run (lib.sh)
[[ $BENCH_IDLE_CONNS =~ ^[1-9][0-9]*$ ]] || die "BENCH_IDLE_CONNS must be a positive integer"

# Open files: the proxies hold one fd per client connection (10,000 in the idle test) plus upstream ones, and
# every process inherits this limit. 65536 is the target; when the hard limit is lower and cannot be raised
# (an unprivileged user, or a container without CAP_SYS_RESOURCE) the hard limit is used if it still leaves
# room for the idle test, otherwise the run stops here.
NOFILE_WANT=65536
NOFILE_NEED=$((BENCH_IDLE_CONNS + 2048))
if ! ulimit -n "$NOFILE_WANT" 2>/dev/null; then
    hard=$(ulimit -Hn)
    if [[ $hard != unlimited ]] && ((hard < NOFILE_NEED)); then
        die "cannot raise the open-files limit: wanted $NOFILE_WANT, hard limit is $hard, and at least" \
            "$NOFILE_NEED are needed for $BENCH_IDLE_CONNS idle connections. Raise it (ulimit -Hn / limits.conf /" \
            "docker --ulimit nofile=65536:65536) or lower BENCH_IDLE_CONNS."
    fi
    ulimit -n "$hard" || die "cannot set the open-files limit to the hard limit $hard"
    warn "open-files limit could not be raised to $NOFILE_WANT (hard limit $hard); using $hard, which is" \
         "enough for $BENCH_IDLE_CONNS idle connections"
fi
NOFILE=$(ulimit -n)
[[ $NOFILE == unlimited ]] && NOFILE=1048576

# CPU pinning: the proxies get the first CPU of our affinity set (usually CPU 0), where only the one being
# measured is busy; wrk, the origin and the helpers share the second (usually CPU 1). Unpinned, the two just
# label the busy columns.
setup_pinning   # PROXY_PIN, LOAD_PIN, BENCH_PIN, BENCH_WRK_THREADS (lib.sh)

# Subset selection.
declare -A WANT_TEST=() WANT_PROXY=()
if [[ -n $BENCH_ONLY ]]; then
    for tok in ${BENCH_ONLY//,/ }; do
        case $tok in
            a | ka_1k) WANT_TEST[ka_1k]=1 ;;
            b | ka_100k) WANT_TEST[ka_100k]=1 ;;
            c | close_1k) WANT_TEST[close_1k]=1 ;;
            d | c1024_1k) WANT_TEST[c1024_1k]=1 ;;
            e | idle_10k | idle) WANT_TEST[idle_10k]=1 ;;
            nginx | haproxy | portico) WANT_PROXY[$tok]=1 ;;
            *) die "BENCH_ONLY: unknown token '$tok' (tests: a b c d e, proxies: nginx haproxy portico)" ;;
        esac
    done
fi
TESTS=()
for t in "${ALL_TESTS[@]}"; do
    if ((${#WANT_TEST[@]} == 0)) || [[ -n ${WANT_TEST[$t]:-} ]]; then TESTS+=("$t"); fi
done
PROXIES=()
for p in "${ALL_PROXIES[@]}"; do
    if ((${#WANT_PROXY[@]} == 0)) || [[ -n ${WANT_PROXY[$p]:-} ]]; then PROXIES+=("$p"); fi
done

# ------------------------------------------------------------------------------------------------------------
# Work and output directories, ports

WORK=$(mktemp -d "${TMPDIR:-/tmp}/portico-bench.XXXXXX")
if [[ -z ${BENCH_OUT:-} ]]; then
    BENCH_OUT=$(mktemp -d "${TMPDIR:-/tmp}/portico-bench-out.XXXXXX")
fi
mkdir -p "$BENCH_OUT/raw"
BENCH_OUT=$(cd "$BENCH_OUT" && pwd)
RESULTS_TSV="$BENCH_OUT/results.tsv"
helper tsvheader rounds >"$RESULTS_TSV"
# One row per measured wrk run (round) of each test and proxy; results.tsv sums them up per test and proxy.
SLICES_TSV="$BENCH_OUT/raw/slices.tsv"
helper tsvheader round >"$SLICES_TSV"

# Free ports, chosen by the kernel (bind to port 0), for the origin and each proxy.
read -r ORIGIN_PORT NGINX_PORT HAPROXY_PORT PORTICO_PORT < <(helper freeports 4)

CLK_TCK=$(getconf CLK_TCK)
FINAL_RC=0

# ------------------------------------------------------------------------------------------------------------
# Origin: nginx serving two static files

# start_origin is in lib.sh (shared with tls.sh).

# ------------------------------------------------------------------------------------------------------------
# Proxies. write_config_X creates the configuration; start_proxy starts the proxy (pinned, with BENCH_PIN=1).

# shellcheck disable=SC2317  # called as "write_config_$name"
write_config_nginx() {
    local dir=$1
    mkdir -p "$dir/tmp"
    cat >"$dir/nginx.conf" <<EOF
# nginx as a reverse proxy, one worker (generated by bench/run.sh). master_process off: the single process is
# the worker (a production master process only supervises and does no request work).
daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile $NOFILE;
pid $dir/nginx.pid;
error_log stderr warn;
events { worker_connections 20000; }
http {
    access_log off;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    upstream origin {
        server 127.0.0.1:$ORIGIN_PORT;
        keepalive 64;
    }
    server {
        listen 127.0.0.1:$NGINX_PORT backlog=4096;
        location / {
            proxy_pass http://origin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
EOF
    PROXY_CHECK=("$NGINX_BIN" -t -q -p "$dir" -e stderr -c "$dir/nginx.conf")
    PROXY_CMD=("$NGINX_BIN" -p "$dir" -e stderr -c "$dir/nginx.conf")
    PROXY_PORT=$NGINX_PORT
}

# shellcheck disable=SC2317  # called as "write_config_$name"
write_config_haproxy() {
    local dir=$1
    # maxconn 20000 makes HAProxy want ~40,000 fds (one client + one server fd per connection). When the
    # open-files limit is lower (see the ulimit step), "no strict-limits" turns its startup failure into a
    # warning; the idle test needs only one fd per idle client connection.
    local strict="# (open-files limit $NOFILE is enough: strict-limits left at its default)"
    ((NOFILE < 40100)) && strict="no strict-limits   # open-files limit is only $NOFILE"
    cat >"$dir/haproxy.cfg" <<EOF
# HAProxy as a reverse proxy, one thread (generated by bench/run.sh). No "log" lines: nothing is logged.
global
    nbthread 1
    maxconn 20000
    $strict

defaults
    mode http
    option http-keep-alive
    http-reuse always
    maxconn 20000
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout http-request 60s
    timeout http-keep-alive 300s

frontend bench
    bind 127.0.0.1:$HAPROXY_PORT backlog 4096
    default_backend origin

backend origin
    server origin 127.0.0.1:$ORIGIN_PORT
EOF
    PROXY_CHECK=("$HAPROXY_BIN" -c -q -f "$dir/haproxy.cfg")
    PROXY_CMD=("$HAPROXY_BIN" -db -f "$dir/haproxy.cfg")
    PROXY_PORT=$HAPROXY_PORT
}

# shellcheck disable=SC2317  # called as "write_config_$name"
write_config_portico() {
    local dir=$1
    mkdir -p "$dir/conf"
    cat >"$dir/conf/portico.toml" <<EOF
# Portico, one worker (generated by bench/run.sh).
[server]
workers = 1
access_log = { path = "off" }
error_log = { path = "stderr", level = "warning" }

[limits]
max_connections = 0

[listener.bench]
bind = "127.0.0.1:$PORTICO_PORT"

[upstream.origin]
endpoints = ["127.0.0.1:$ORIGIN_PORT"]
keepalive = 64

[[route]]
match = { prefix = "/" }
upstream = "origin"
EOF
    PROXY_CHECK=()
    PROXY_CMD=("$PORTICO_BIN" -c "$dir/conf")
    PROXY_PORT=$PORTICO_PORT
}

# start_proxy NAME: writes its config and starts it; sets PROXY_PID, PROXY_PORT, PROXY_LOG. Returns 1 (with
# the error output shown) when it does not come up or does not proxy correctly.
start_proxy() {
    local name=$1
    local dir="$WORK/$name"
    mkdir -p "$dir"
    PROXY_PID=""
    "write_config_$name" "$dir"
    PROXY_LOG="$dir/$name.log"
    if ((${#PROXY_CHECK[@]})) && ! "${PROXY_CHECK[@]}" >"$dir/check.log" 2>&1; then
        show_log "$dir/check.log"
        warn "$name: configuration rejected"
        return 1
    fi
    start_bg "$PROXY_LOG" "${PROXY_PIN[@]}" "${PROXY_CMD[@]}"
    PROXY_PID=$STARTED_PID
    if ! helper waitport "$PROXY_PORT" 15 "$PROXY_PID"; then
        show_log "$PROXY_LOG"
        warn "$name: did not start listening on 127.0.0.1:$PROXY_PORT"
        return 1
    fi
    # Sanity: both files come through the proxy intact (status and size).
    local f want got
    for f in 1k.bin:1024 100k.bin:102400; do
        want="200 ${f#*:}"
        got=$(curl -sS -o /dev/null -w '%{http_code} %{size_download}' --max-time 5 \
            "http://127.0.0.1:$PROXY_PORT/${f%%:*}" 2>&1) || true
        if [[ $got != "$want" ]]; then
            show_log "$PROXY_LOG"
            warn "$name: GET /${f%%:*} through the proxy gave '$got', expected '$want'"
            return 1
        fi
    done
    log "$name: listening on 127.0.0.1:$PROXY_PORT (pid $PROXY_PID)"
}

# ------------------------------------------------------------------------------------------------------------
# Tests

# wrk_args TEST: connections, extra wrk arguments and path for a throughput test.
wrk_args() {
    case $1 in
        ka_1k) WRK_CONNS=64 WRK_EXTRA=() WRK_PATH=/1k.bin ;;
        ka_100k) WRK_CONNS=64 WRK_EXTRA=() WRK_PATH=/100k.bin ;;
        close_1k) WRK_CONNS=32 WRK_EXTRA=(-H "Connection: close") WRK_PATH=/1k.bin ;;
        c1024_1k) WRK_CONNS=1024 WRK_EXTRA=() WRK_PATH=/1k.bin ;;
        *) die "unknown test $1" ;;
    esac
}

# put_row ROW ROUNDS: appends ROW (helpers.py's results columns) and the rounds count to results.tsv.
put_row() {
    printf '%s\t%s\n' "$1" "$2" >>"$RESULTS_TSV"
}

# row_if_unmeasured TEST PROXY: for a proxy that did not start, or died in an earlier test, writes its row for
# TEST and returns 0; returns 1 for a proxy that is (or was, in this test) running.
row_if_unmeasured() {
    local test=$1 proxy=$2
    if [[ -n ${P_STATUS[$proxy]:-} ]]; then
        put_row "$(helper row "$test" "$proxy" "${P_STATUS[$proxy]}" "${P_NOTE[$proxy]}")" 0
    elif [[ -n ${P_DIED[$proxy]:-} && ${P_DIED[$proxy]} != "$test" ]]; then
        put_row "$(helper row "$test" "$proxy" skipped "proxy died earlier")" 0
    else
        return 1
    fi
}

# run_slice TEST PROXY ROUND: one warm-up run, then one measured run of SLICE seconds with the proxy's CPU time
# read just before and after. Appends a row to raw/slices.tsv. Returns 1 if the proxy died.
run_slice() {
    local test=$1 proxy=$2 round=$3
    local pid=${P_PID[$proxy]} raw="$BENCH_OUT/raw/$1.$2.r$3.txt"
    wrk_args "$test"
    local url="http://127.0.0.1:${P_PORT[$proxy]}$WRK_PATH"
    local wrk=("${LOAD_PIN[@]}" "$WRK_BIN" -t "$BENCH_WRK_THREADS" -c "$WRK_CONNS"
        "${WRK_EXTRA[@]+"${WRK_EXTRA[@]}"}")
    # timeout bounds a wedged wrk (e.g. against a proxy that stops answering).
    if ((BENCH_WARMUP > 0)); then
        run_tracked "$BENCH_OUT/raw/$test.$proxy.r$round.warmup.txt" timeout -k 5 "$((BENCH_WARMUP + 30))" \
            "${wrk[@]}" -d "${BENCH_WARMUP}s" "$url" || true
    fi
    # CPU snapshots (proxy and origin utime+stime, per-CPU busy time) just before and after the measured run.
    local snap0 snap1 t0 t1 wall
    snap0=$(helper snap "$pid" "$ORIGIN_PID")
    t0=$EPOCHREALTIME
    run_tracked "$raw" timeout -k 5 "$((SLICE + 30))" "${wrk[@]}" -d "${SLICE}s" --latency \
        -s "$BENCH_DIR/report.lua" "$url" || true
    t1=$EPOCHREALTIME
    snap1=$(helper snap "$pid" "$ORIGIN_PID")
    wall=$("$PYTHON" -c "print($t1 - $t0)")
    local row
    row=$(helper wrkrow "$test" "$proxy" "$raw" "$snap0" "$snap1" "$wall" "$CLK_TCK") || true
    if [[ -z $row ]]; then row=$(helper row "$test" "$proxy" no-wrk-result); fi
    printf '%s\t%s\n' "$row" "$round" >>"$SLICES_TSV"
    # Progress line: rps, p50, p99, CPU/req, CPU%, busy P/L, status (columns of results.tsv).
    awk -F'\t' -v p="$proxy" -v r="$round" '{
        printf "  round %s %-8s %10s req/s  p50 %7s ms  p99 %7s ms  CPU %7s us/req (%s%%)  busy P/L %s/%s%%  %s %s\n",
               r, p, $4, $5, $7, $9, $10, $20, $21, $3, ($18 == "-" ? "" : $18) }' <<<"$row"
    if [[ $row != *$'\tok\t'* ]] && ! grep -q '^BENCH_RESULT' "$raw"; then
        sed 's/^/    wrk: /' "$raw" | tail -n 5 >&2
    fi
    if ! is_running "$pid"; then
        show_log "${P_LOG[$proxy]}"
        warn "$proxy died during $test, round $round"
        return 1
    fi
}

# run_idle PROXY: the 10,000-idle-connections memory test. Appends its row to results.tsv. Returns 1 if the
# proxy died.
run_idle() {
    local proxy=$1 out row rounds=1
    local pid=${P_PID[$proxy]}
    run_tracked "$WORK/idle.$proxy.out" "${LOAD_PIN[@]}" "$PYTHON" "$BENCH_DIR/helpers.py" idle "$pid" \
        "${P_PORT[$proxy]}" "$BENCH_IDLE_CONNS" 60 || true
    out=$(grep '^{' "$WORK/idle.$proxy.out" || true)
    grep -v '^{' "$WORK/idle.$proxy.out" | sed 's/^/    idle: /' >&2 || true
    if [[ $out == \{* ]]; then
        printf '%s\n' "$out" >"$BENCH_OUT/raw/idle_10k.$proxy.json"
        row=$(helper idlerow "$proxy" "$out")
    else
        row=$(helper row idle_10k "$proxy" failed "idle helper failed")
        rounds=0
    fi
    put_row "$row" "$rounds"
    awk -F'\t' -v p="$proxy" '{
        printf "  %-8s idle_10k  %s accepted, RSS %s -> %s bytes, %s bytes/conn  %s %s\n",
               p, $14, $15, $16, $17, $3, ($18 == "-" ? "" : $18) }' <<<"$row"
    if ! is_running "$pid"; then
        show_log "${P_LOG[$proxy]}"
        warn "$proxy died during idle_10k"
        return 1
    fi
}

# ------------------------------------------------------------------------------------------------------------
# Main

nginx_version=$("$NGINX_BIN" -v 2>&1 | sed 's/^nginx version: //') || true
haproxy_version=$("$HAPROXY_BIN" -v 2>&1 | sed -n 1p) || true
wrk_version=$("$WRK_BIN" -v 2>&1 | awk 'NR==1 {print $2}') || true
portico_version="(not found)"
if [[ -x $PORTICO_BIN ]]; then
    portico_version=$(timeout 5 "$PORTICO_BIN" --version 2>&1 | sed -n 1p) || portico_version="(unknown)"
fi

log "Portico benchmark: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(uname -r), $ncpu CPUs"
log "  nginx $nginx_version | $haproxy_version | wrk $wrk_version"
log "  portico: $PORTICO_BIN $portico_version"
WARMUP_DESC=$( ((BENCH_WARMUP > 0)) && echo "each after a $BENCH_WARMUP s warm-up" || echo "no warm-up")
log "  per test and proxy: $BENCH_ROUNDS x $SLICE s measured, $WARMUP_DESC, proxies interleaved in ABBA order;" \
    "wrk -t$BENCH_WRK_THREADS;" \
    "pinning: $([[ $BENCH_PIN == 1 ]] && echo "proxy CPU $BENCH_PROXY_CPU, wrk+origin CPU $BENCH_LOAD_CPU" || echo off);" \
    "open files $NOFILE"
log "  tests: ${TESTS[*]}; proxies: ${PROXIES[*]}"
log "  output: $BENCH_OUT"
# Other work on the machine skews everything; say so up front.
read -r load1 _ </proc/loadavg
if "$PYTHON" -c "import sys; sys.exit(0 if float('$load1') > 0.8 else 1)"; then
    warn "load average is $load1 before starting: other processes are using the CPUs; expect noisy results"
fi

BENCH_META_JSON="$BENCH_OUT/meta.json" \
    NGINX_V="$nginx_version" HAPROXY_V="$haproxy_version" WRK_V="$wrk_version" PORTICO_V="$portico_version" \
    PIN="$BENCH_PIN" PCPU="$BENCH_PROXY_CPU" LCPU="$BENCH_LOAD_CPU" THREADS="$BENCH_WRK_THREADS" NOFILE="$NOFILE" NCPU="$ncpu" PORTICO_BIN="$PORTICO_BIN" \
    BENCH_SECONDS="$BENCH_SECONDS" BENCH_ROUNDS="$BENCH_ROUNDS" SLICE="$SLICE" BENCH_WARMUP="$BENCH_WARMUP" \
    IDLE="$BENCH_IDLE_CONNS" \
    TESTS="${TESTS[*]}" PROXIES="${PROXIES[*]}" "$PYTHON" - <<'EOF'
import json, os, platform, time
e = os.environ
json.dump({
    "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    "kernel": platform.release(), "cpus": int(e["NCPU"]),
    "versions": {"nginx": e["NGINX_V"], "haproxy": e["HAPROXY_V"], "wrk": e["WRK_V"], "portico": e["PORTICO_V"]},
    "portico_bin": e["PORTICO_BIN"],
    "seconds": int(e["SLICE"]) * int(e["BENCH_ROUNDS"]), "rounds": int(e["BENCH_ROUNDS"]),
    "round_seconds": int(e["SLICE"]), "warmup_seconds": int(e["BENCH_WARMUP"]),
    "wrk_threads": int(e["THREADS"]), "pinned": e["PIN"] == "1",
    "proxy_cpu": int(e["PCPU"]), "load_cpu": int(e["LCPU"]), "open_files_limit": int(e["NOFILE"]),
    "idle_connections": int(e["IDLE"]),
    "tests": e["TESTS"].split(), "proxies": e["PROXIES"].split(),
}, open(e["BENCH_META_JSON"], "w"), indent=2)
EOF

start_origin
log "origin: nginx on 127.0.0.1:$ORIGIN_PORT (pid $ORIGIN_PID)"

# All selected proxies run side by side from here to the end, each on its own port; only the one being measured
# gets traffic, the others sit idle (on the same CPU when pinned). P_STATUS/P_NOTE: the row of a proxy that is
# not running (skipped, failed to start); P_DIED: the test in which a proxy died (it is not restarted).
declare -A P_PID=() P_PORT=() P_LOG=() P_STATUS=() P_NOTE=() P_DIED=() ROUND_DIED=()
LIVE=()
log ""
for proxy in "${PROXIES[@]}"; do
    if [[ $proxy == portico && ! -x $PORTICO_BIN ]]; then
        log "portico: skipped (binary not found)"
        P_STATUS[portico]=skipped P_NOTE[portico]="binary not found: $PORTICO_BIN"
        continue
    fi
    if ! start_proxy "$proxy"; then
        if [[ $proxy == portico ]]; then
            warn "portico: failed to start; its results are missing"
            [[ -n $PROXY_PID ]] && stop_pid "$PROXY_PID"
            P_STATUS[portico]=failed P_NOTE[portico]="did not start"
            FINAL_RC=1
            continue
        fi
        die "$proxy failed to start (see its output above)"
    fi
    P_PID[$proxy]=$PROXY_PID P_PORT[$proxy]=$PROXY_PORT P_LOG[$proxy]=$PROXY_LOG
    LIVE+=("$proxy")
done

for test in "${TESTS[@]}"; do
    log ""
    if [[ $test == idle_10k ]]; then
        # Memory: once per proxy, before any load, so each proxy's heap is fresh.
        log "idle_10k: $BENCH_IDLE_CONNS idle client connections per proxy"
        for proxy in "${PROXIES[@]}"; do
            row_if_unmeasured "$test" "$proxy" && continue
            run_idle "$proxy" || { P_DIED[$proxy]=$test; FINAL_RC=1; }
        done
        continue
    fi
    wrk_args "$test"
    log "$test: $BENCH_ROUNDS x $SLICE s per proxy, $WARMUP_DESC;" \
        "wrk -c$WRK_CONNS ${WRK_EXTRA[*]+"${WRK_EXTRA[*]@Q} "}$WRK_PATH"
    # Rounds in ABBA order (nginx haproxy portico, then portico haproxy nginx, ...).
    ROUND_DIED=()
    for ((round = 1; round <= BENCH_ROUNDS; round++)); do
        round_order "$round" "${LIVE[@]+"${LIVE[@]}"}"
        for proxy in "${ROUND_ORDER[@]+"${ROUND_ORDER[@]}"}"; do
            [[ -z ${P_DIED[$proxy]:-} ]] || continue
            if ! run_slice "$test" "$proxy" "$round"; then
                P_DIED[$proxy]=$test ROUND_DIED[$proxy]=$round
                FINAL_RC=1
            fi
        done
    done
    for proxy in "${PROXIES[@]}"; do
        row_if_unmeasured "$test" "$proxy" && continue
        helper aggregate "$SLICES_TSV" "$test" "$proxy" \
            "${ROUND_DIED[$proxy]:+died during round ${ROUND_DIED[$proxy]}}" >>"$RESULTS_TSV"
    done
done

for proxy in "${LIVE[@]+"${LIVE[@]}"}"; do stop_pid "${P_PID[$proxy]}"; done
stop_pid "$ORIGIN_PID"

log ""
log "Results ($((BENCH_ROUNDS * SLICE)) s per test and proxy in $BENCH_ROUNDS rounds, wrk -t$BENCH_WRK_THREADS," \
    "proxy CPU% = share of one core;" \
    "ratios > 1 mean Portico is higher: good for req/s, bad for CPU/req, p99 and bytes/conn)"
helper summarize "$RESULTS_TSV" "$BENCH_OUT/results.json" "$BENCH_OUT/meta.json"
log ""
log "results: $BENCH_OUT/results.json  $BENCH_OUT/results.tsv  (wrk reports in $BENCH_OUT/raw/)"
exit "$FINAL_RC"
