#!/usr/bin/env bash
# Compression benchmark: Portico's compression plugin (gzip) against nginx's gzip module at the same level, in
# the same run. Both are reverse proxies with ONE worker in front of the same nginx origin serving a 100 KiB
# text/html page, all on 127.0.0.1. See "Compression benchmark" in bench/README.md.
#
#   bench/compression.sh                          # levels 1 and 6, 10 s measured per proxy and level (~1 min)
#   BENCH_SECONDS=3 BENCH_LEVELS=6 bench/compression.sh
#   PORTICO_BIN=/work/b/host/portico PORTICO_BUILD_DIR=/work/b bench/compression.sh
#
# Environment:
#   PORTICO_BIN        Portico binary (default: <repo>/build/host/portico)
#   PORTICO_BUILD_DIR  build directory holding plugins/compression/dir/portico-compression.so (default <repo>/build)
#   BENCH_LEVELS       gzip levels to compare, space- or comma-separated, 1-9 (default "1 6")
#   BENCH_SECONDS      measured seconds per proxy and level (default 10), split into BENCH_ROUNDS wrk runs
#   BENCH_ROUNDS       measured wrk runs per proxy and level, alternating between the proxies in ABBA order
#                      (default 2: nginx, Portico, Portico, nginx, BENCH_SECONDS/2 s each)
#   BENCH_WARMUP       warm-up of each proxy before its first measured run, seconds (default 2)
#   BENCH_CONNS        wrk connections (default 64)
#   BENCH_OUT          output directory for results.tsv, summary.txt, raw/ (default: a new /tmp dir)
#   BENCH_PIN          1 = proxy alone on one CPU, wrk + origin on another (default 1 with taskset and >= 2 CPUs)
#   BENCH_WRK_THREADS  wrk -t (default 1 when pinned, else 2)
#   BENCH_PERF         1 = also `perf record -g` each proxy during its measured runs (raw/perf.*; perturbs the
#                      numbers by a few %, use for profiling, not for the ratios)
#   BENCH_KEEP         1 = keep the temporary work directory (configs, logs, the test page)
#   NGINX_BIN, WRK_BIN, PERF_BIN   (default /usr/sbin/nginx, wrk, perf)
#
# Every process is started by this script, tracked by pid, and stopped by pid on exit (also on error, Ctrl-C
# or SIGTERM). All state lives in a temporary directory, removed on exit unless BENCH_KEEP=1.

set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$BENCH_DIR/.." && pwd)"

PORTICO_BIN="${PORTICO_BIN:-$REPO_DIR/build/host/portico}"
PORTICO_BUILD_DIR="${PORTICO_BUILD_DIR:-$REPO_DIR/build}"
PLUGIN_DIR="$PORTICO_BUILD_DIR/plugins/compression/dir"
NGINX_BIN="${NGINX_BIN:-/usr/sbin/nginx}"
WRK_BIN="${WRK_BIN:-wrk}"
PERF_BIN="${PERF_BIN:-perf}"
BENCH_LEVELS="${BENCH_LEVELS:-1 6}"
BENCH_SECONDS="${BENCH_SECONDS:-10}"
BENCH_WARMUP="${BENCH_WARMUP:-2}"
BENCH_ROUNDS="${BENCH_ROUNDS:-2}"
BENCH_CONNS="${BENCH_CONNS:-64}"
BENCH_PERF="${BENCH_PERF:-0}"
BENCH_KEEP="${BENCH_KEEP:-0}"

PAGE=page.html
PAGE_SIZE=102400
PROXIES=(nginx portico)

# ------------------------------------------------------------------------------------------------------------
# Small utilities and process bookkeeping: bench/lib.sh (shared with run.sh)

# shellcheck source=bench/lib.sh
source "$BENCH_DIR/lib.sh"

# ------------------------------------------------------------------------------------------------------------
# Preconditions

command -v python3 >/dev/null || die "python3 not found"
PYTHON=$(python3 -c 'import sys; print(sys.executable)') || die "python3 does not run"
command -v curl >/dev/null || die "curl not found"
command -v gzip >/dev/null || die "gzip not found"
command -v cmp >/dev/null || die "cmp not found (diffutils)"
command -v "$WRK_BIN" >/dev/null || die "wrk not found ($WRK_BIN)"
[[ -x $NGINX_BIN ]] || die "nginx not found at $NGINX_BIN"
[[ -x $PORTICO_BIN ]] || die "Portico binary not found at $PORTICO_BIN (set PORTICO_BIN)"
[[ -f $PLUGIN_DIR/portico-compression.so ]] ||
    die "compression plugin not found at $PLUGIN_DIR/portico-compression.so (set PORTICO_BUILD_DIR)"
[[ $BENCH_WARMUP =~ ^[0-9]+$ ]] || die "BENCH_WARMUP must be a non-negative integer (got '$BENCH_WARMUP')"
set_slice_seconds   # SLICE: seconds of each measured wrk run (lib.sh)
[[ $BENCH_CONNS =~ ^[1-9][0-9]*$ ]] || die "BENCH_CONNS must be a positive integer (got '$BENCH_CONNS')"
LEVELS=()
for l in ${BENCH_LEVELS//,/ }; do
    [[ $l =~ ^[1-9]$ ]] || die "BENCH_LEVELS: '$l' is not a gzip level 1-9"
    LEVELS+=("$l")
done
((${#LEVELS[@]})) || die "BENCH_LEVELS is empty"
if [[ $BENCH_PERF == 1 ]]; then
    command -v "$PERF_BIN" >/dev/null || die "BENCH_PERF=1 but perf not found ($PERF_BIN)"
fi

# Open files: a few hundred are enough here (64 client + 64 upstream connections per proxy); ask for 4096.
ulimit -n 4096 2>/dev/null || true
NOFILE=$(ulimit -n)
[[ $NOFILE == unlimited ]] && NOFILE=1048576

# CPU pinning, as in run.sh: the proxy under test alone on the first CPU of our affinity set, wrk, the origin
# and the helpers on the second.
setup_pinning   # PROXY_PIN, LOAD_PIN, BENCH_PIN, BENCH_WRK_THREADS (lib.sh)

# ------------------------------------------------------------------------------------------------------------
# Work and output directories, ports

WORK=$(mktemp -d "${TMPDIR:-/tmp}/portico-bench-gzip.XXXXXX")
if [[ -z ${BENCH_OUT:-} ]]; then
    BENCH_OUT=$(mktemp -d "${TMPDIR:-/tmp}/portico-bench-gzip-out.XXXXXX")
fi
mkdir -p "$BENCH_OUT/raw"
BENCH_OUT=$(cd "$BENCH_OUT" && pwd)
RESULTS_TSV="$BENCH_OUT/results.tsv"
# run.sh's columns (helpers.py tsvheader, so the rows come from helpers.py wrkrow), then this script's own.
EXTRA_COLUMNS=$'level\tbody_bytes\tpage_bytes\twire_bytes_per_resp\tminflt_per_req\trounds'
printf '%s\t%s\n' "$(helper tsvheader)" "$EXTRA_COLUMNS" >"$RESULTS_TSV"
# One row per measured wrk run (round) of each proxy; results.tsv sums them up per proxy and level.
SLICES_TSV="$BENCH_OUT/raw/slices.tsv"
printf '%s\t%s\n' "$(helper tsvheader)" $'round\tlevel\tbody_bytes\tpage_bytes\twrk_bytes\tminflt' >"$SLICES_TSV"

read -r ORIGIN_PORT NGINX_PORT PORTICO_PORT < <(helper freeports 3)

CLK_TCK=$(getconf CLK_TCK)
FINAL_RC=0

# ------------------------------------------------------------------------------------------------------------
# The page: 100 KiB of HTML (a product table), deterministic. Numbers come from a fixed 64-bit LCG, so the
# file is byte-identical on every run and every Python 3; it compresses about like real markup does
# (gzip -1: ~5x, gzip -6: ~6.7x), unlike random bytes (incompressible) or one repeated line (~100x).

make_page() {
    "$PYTHON" - "$PAGE_SIZE" >"$1" <<'EOF'
import sys
size = int(sys.argv[1])
state = 0x5EED
def rnd(n):
    global state
    state = (state * 6364136223846793005 + 1442695040888963407) & 0xFFFFFFFFFFFFFFFF
    return (state >> 33) % n
words = ["alpha", "bravo", "cobalt", "delta", "ember", "falcon", "granite", "harbor", "indigo", "juniper",
         "kestrel", "lumen", "meadow", "nimbus", "onyx", "prairie", "quartz", "raven", "sierra", "tundra"]
status = ["in stock", "backordered", "ships in 2-3 days", "discontinued", "pre-order"]
head = ('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Catalogue - page 1</title>\n'
        '<link rel="stylesheet" href="/static/site.css">\n</head>\n<body>\n<main id="catalogue">\n'
        '<table class="items">\n<thead><tr><th>id</th><th>name</th><th>updated</th><th>price</th><th>stock</th>'
        '<th>status</th></tr></thead>\n<tbody>\n')
foot = '</tbody>\n</table>\n</main>\n</body>\n</html>\n'
rows, total, i = [], len(head) + len(foot), 0
while total < size:
    i += 1
    item = 10000 + rnd(90000)
    name = f"{words[rnd(20)].capitalize()} {words[rnd(20)]} {rnd(1000)}"
    row = (f'<tr class="{"odd" if i % 2 else "even"}" data-id="{item}"><td>{item}</td>'
           f'<td><a href="/items/{item}?ref=list&amp;page=1">{name}</a></td>'
           f'<td><time datetime="2024-{1 + rnd(12):02d}-{1 + rnd(28):02d}T{rnd(24):02d}:{rnd(60):02d}:{rnd(60):02d}Z">'
           f'{1 + rnd(28)} days ago</time></td><td class="num">{rnd(5000)}.{rnd(100):02d}</td>'
           f'<td class="num">{rnd(500)}</td><td>{status[rnd(5)]}</td></tr>\n')
    rows.append(row)
    total += len(row)
sys.stdout.write(head + "".join(rows)[:size - len(head) - len(foot)] + foot)
EOF
}

# ------------------------------------------------------------------------------------------------------------
# Origin: nginx serving the page as text/html, uncompressed, with keep-alive

start_origin() {
    local dir="$WORK/origin"
    mkdir -p "$dir/www" "$dir/tmp"
    make_page "$dir/www/$PAGE"
    PAGE_FILE="$dir/www/$PAGE"
    [[ $(stat -c %s "$PAGE_FILE") == "$PAGE_SIZE" ]] || die "generated page is not $PAGE_SIZE bytes"
    cat >"$dir/nginx.conf" <<EOF
# Origin server for the compression benchmark (generated by bench/compression.sh). It never compresses.
daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile $NOFILE;
pid $dir/nginx.pid;
error_log stderr warn;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
    open_file_cache max=16 inactive=600s;
    gzip off;
    types { text/html html; }
    default_type application/octet-stream;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    server {
        listen 127.0.0.1:$ORIGIN_PORT backlog=4096;
        root $dir/www;
    }
}
EOF
    if ! "$NGINX_BIN" -t -q -p "$dir" -e stderr -c "$dir/nginx.conf" >"$dir/check.log" 2>&1; then
        show_log "$dir/check.log"
        die "origin nginx configuration rejected"
    fi
    start_bg "$dir/nginx.log" "${LOAD_PIN[@]}" "$NGINX_BIN" -p "$dir" -e stderr -c "$dir/nginx.conf"
    ORIGIN_PID=$STARTED_PID
    if ! helper waitport "$ORIGIN_PORT" 15 "$ORIGIN_PID"; then
        show_log "$dir/nginx.log"
        die "origin nginx did not start"
    fi
    local got
    got=$(curl -sS -o /dev/null -H 'Accept-Encoding: gzip' -w '%{http_code} %{size_download} %{content_type}' \
        --max-time 5 "http://127.0.0.1:$ORIGIN_PORT/$PAGE" 2>&1) || true
    [[ $got == "200 $PAGE_SIZE text/html" ]] || { show_log "$dir/nginx.log"; die "origin check failed: $got"; }
}

# ------------------------------------------------------------------------------------------------------------
# Proxies. write_config_X DIR LEVEL creates the configuration for gzip level LEVEL.

# shellcheck disable=SC2317  # called as "write_config_$name"
write_config_nginx() {
    local dir=$1 level=$2
    mkdir -p "$dir/tmp"
    cat >"$dir/nginx.conf" <<EOF
# nginx as a compressing reverse proxy, one worker, gzip level $level (generated by bench/compression.sh).
# The proxy settings are bench/run.sh's; the gzip ones mirror Portico's compression filter: same level, same
# minimum length, zlib's defaults for window (gzip_window 32k = windowBits 15) and memLevel (gzip_hash 8 = 8),
# and Vary: Accept-Encoding as Portico adds it. text/html is always in gzip_types (listing it again only draws
# a "duplicate MIME type" warning). gzip_proxied concerns requests that arrive through another proxy (with a
# Via header); wrk sends none, so it changes nothing here, and "any" makes sure of it.
daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile $NOFILE;
pid $dir/nginx.pid;
error_log stderr warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    gzip on;
    gzip_comp_level $level;
    gzip_types text/plain text/css application/json application/javascript text/xml application/xml;
    gzip_min_length 256;
    gzip_proxied any;
    gzip_vary on;
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
write_config_portico() {
    local dir=$1 level=$2
    mkdir -p "$dir/conf"
    cat >"$dir/conf/portico.toml" <<EOF
# Portico, one worker, compression filter with gzip level $level (generated by bench/compression.sh).
[server]
workers = 1
access_log = { path = "off" }
error_log = { path = "stderr", level = "warning" }
plugin_dirs = ["$PLUGIN_DIR"]

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
filters = [ { use = "compression", codings = ["gzip"], gzip_level = $level } ]
EOF
    PROXY_CHECK=()
    PROXY_CMD=("$PORTICO_BIN" -c "$dir/conf")
    PROXY_PORT=$PORTICO_PORT
}

# verify NAME LEVEL: the page comes through the proxy gzip-encoded and decodes to the origin's bytes.
# Sets BODY_BYTES (the compressed body: curl without --compressed, after de-chunking). Returns 1 on a mismatch.
verify() {
    local name=$1 level=$2 dir="$WORK/$1.$2" url="http://127.0.0.1:$PROXY_PORT/$PAGE" got
    local hdr="$BENCH_OUT/raw/headers.l$level.$name.txt"
    got=$(curl -sS --max-time 5 -H 'Accept-Encoding: gzip' -D "$hdr" -o "$dir/body.gz" \
        -w '%{http_code} %{size_download}' "$url" 2>&1) || true
    if [[ $got != "200 "* ]]; then
        warn "$name: GET /$PAGE with Accept-Encoding: gzip gave '$got'"
        return 1
    fi
    BODY_BYTES=${got#200 }
    if ! grep -qi '^content-encoding:[[:space:]]*gzip[[:space:]]*$' "$hdr"; then
        sed 's/^/    /' "$hdr" >&2
        warn "$name: the response has no Content-Encoding: gzip"
        return 1
    fi
    if ! gzip -dc <"$dir/body.gz" | cmp -s - "$PAGE_FILE"; then
        warn "$name: the gzip body does not decode (gzip -dc) to the origin's page"
        return 1
    fi
    got=$(curl -sS --max-time 5 --compressed -o "$dir/decoded" -w '%{http_code}' "$url" 2>&1) || true
    if [[ $got != 200 ]] || ! cmp -s "$dir/decoded" "$PAGE_FILE"; then
        warn "$name: curl --compressed gave '$got' and a body different from the origin's page"
        return 1
    fi
    # For reference in the log line: GNU gzip's own deflate at the same level (not zlib; close, not equal).
    gzip "-$level" -nc <"$PAGE_FILE" >"$dir/ref.gz"
    REF_BYTES=$(stat -c %s "$dir/ref.gz")
}

# start_proxy NAME LEVEL: writes the config, starts the proxy (pinned), waits for its port, verifies it.
start_proxy() {
    local name=$1 level=$2 dir="$WORK/$1.$2"
    mkdir -p "$dir"
    PROXY_PID=""
    "write_config_$name" "$dir" "$level"
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
    if ! verify "$name" "$level"; then
        show_log "$PROXY_LOG"
        return 1
    fi
    log "  $name: pid $PROXY_PID on 127.0.0.1:$PROXY_PORT; verified: Content-Encoding: gzip, $BODY_BYTES body" \
        "bytes, decodes to the page (for reference, gzip(1) -$level of the page: $REF_BYTES bytes)"
}

# minflt PID: minor page faults of the process (all its threads), field 10 of /proc/PID/stat.
minflt() {
    local line
    read -r line 2>/dev/null <"/proc/$1/stat" || { echo 0; return; }
    line=${line##*) }
    read -r _ _ _ _ _ _ _ f _ <<<"$line"   # state ppid pgrp session tty tpgid flags minflt
    echo "${f:-0}"
}

# warm_up NAME LEVEL: one unmeasured wrk run of BENCH_WARMUP seconds against the proxy.
warm_up() {
    local name=$1 level=$2
    ((BENCH_WARMUP > 0)) || return 0
    run_tracked "$BENCH_OUT/raw/gzip_l$level.$name.warmup.txt" timeout -k 5 "$((BENCH_WARMUP + 30))" \
        "${LOAD_PIN[@]}" "$WRK_BIN" -t "$BENCH_WRK_THREADS" -c "$BENCH_CONNS" -H "Accept-Encoding: gzip" \
        -d "${BENCH_WARMUP}s" "http://127.0.0.1:${P_PORT[$name]}/$PAGE" || true
}

# measure_slice NAME LEVEL ROUND: one measured wrk run of SLICE seconds, with the proxy's CPU time and page
# faults read just before and after. Appends a row to raw/slices.tsv. Returns 1 if the proxy died.
measure_slice() {
    local name=$1 level=$2 round=$3
    local pid=${P_PID[$name]} tag="gzip_l$2.$1.r$3" test="gzip_l$2"
    local raw="$BENCH_OUT/raw/$tag.txt" url="http://127.0.0.1:${P_PORT[$name]}/$PAGE"
    local snap0 snap1 t0 t1 wall perf_pid="" flt0 flt1
    flt0=$(minflt "$pid")
    snap0=$(helper snap "$pid" "$ORIGIN_PID")
    if [[ $BENCH_PERF == 1 ]]; then
        # Sampling stops with the sleep (the measured duration); timeout bounds perf itself.
        start_bg "$BENCH_OUT/raw/perf.$tag.log" "${LOAD_PIN[@]}" timeout -k 5 "$((SLICE + 30))" \
            "$PERF_BIN" record -F 999 -g -p "$pid" -o "$BENCH_OUT/raw/perf.$tag.data" -- sleep "$SLICE"
        perf_pid=$STARTED_PID
    fi
    t0=$EPOCHREALTIME
    run_tracked "$raw" timeout -k 5 "$((SLICE + 30))" "${LOAD_PIN[@]}" "$WRK_BIN" -t "$BENCH_WRK_THREADS" \
        -c "$BENCH_CONNS" -H "Accept-Encoding: gzip" -d "${SLICE}s" --latency -s "$BENCH_DIR/report.lua" "$url" ||
        true
    t1=$EPOCHREALTIME
    snap1=$(helper snap "$pid" "$ORIGIN_PID")
    flt1=$(minflt "$pid")
    wall=$("$PYTHON" -c "print($t1 - $t0)")
    if [[ -n $perf_pid ]]; then
        wait "$perf_pid" 2>/dev/null || true
        forget_pid "$perf_pid"
        run_tracked "$BENCH_OUT/raw/perf.$tag.txt" timeout -k 5 120 "$PERF_BIN" report --stdio \
            --no-children --sort dso,sym -i "$BENCH_OUT/raw/perf.$tag.data" || true
    fi
    local row bytes="-" res
    row=$(helper wrkrow "$test" "$name" "$raw" "$snap0" "$snap1" "$wall" "$CLK_TCK") || true
    [[ -n $row ]] || row=$(helper row "$test" "$name" no-wrk-result)
    res=$(grep '^BENCH_RESULT ' "$raw" || true)
    [[ $res =~ \"bytes\":([0-9]+) ]] && bytes=${BASH_REMATCH[1]}
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$row" "$round" "$level" "${P_BODY[$name]}" "$PAGE_SIZE" "$bytes" \
        "$((flt1 - flt0))" >>"$SLICES_TSV"
    # Progress line: rps, p50, p99, CPU/req, CPU%, busy P/L, status (columns of results.tsv), faults/req.
    awk -F'\t' -v p="$name" -v r="$round" -v f="$((flt1 - flt0))" '{
        printf "  round %s %-8s %8s req/s  p50 %7s ms  p99 %7s ms  CPU %7s us/req (%s%%)  busy P/L %s/%s%%  %s faults/req  %s %s\n",
               r, p, $4, $5, $7, $9, $10, $20, $21, ($11 > 0 ? sprintf("%.2f", f / $11) : "-"), $3,
               ($18 == "-" ? "" : $18) }' <<<"$row"
    if [[ $row != *$'\tok\t'* ]] && [[ -z $res ]]; then
        sed 's/^/    wrk: /' "$raw" | tail -n 5 >&2
    fi
    if ! is_running "$pid"; then
        show_log "${P_LOG[$name]}"
        warn "$name died during round $round at level $level"
        return 1
    fi
}

# aggregate NAME LEVEL [NOTE]: the results.tsv row of one proxy at one level, from its rounds in slices.tsv
# (helpers.py aggregate: requests, bytes, CPU time and faults summed over the rounds, percentiles weighted by
# requests; see "Compression benchmark" in README.md).
aggregate() {
    helper aggregate "$SLICES_TSV" "gzip_l$2" "$1" "${3:-}" >>"$RESULTS_TSV"
}

# ------------------------------------------------------------------------------------------------------------
# Main

nginx_version=$("$NGINX_BIN" -v 2>&1 | sed 's/^nginx version: //') || true
wrk_version=$("$WRK_BIN" -v 2>&1 | awk 'NR==1 {print $2}') || true
portico_version=$(timeout 5 "$PORTICO_BIN" --version 2>&1 | sed -n 1p) || portico_version="(unknown)"
zlib_nginx=$(ldd "$NGINX_BIN" 2>/dev/null | awk '/libz\.so/ {print $3}') || true
zlib_portico=$(ldd "$PLUGIN_DIR/portico-compression.so" 2>/dev/null | awk '/libz\.so/ {print $3}') || true

perf_note=""
[[ $BENCH_PERF == 1 ]] && perf_note="; perf record ON (numbers perturbed by sampling)"
{
log "Portico compression benchmark: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(uname -r), $ncpu CPUs"
log "  nginx $nginx_version | wrk $wrk_version | portico: $PORTICO_BIN $portico_version"
log "  plugin: $PLUGIN_DIR/portico-compression.so"
log "  zlib: nginx ${zlib_nginx:-?} | plugin ${zlib_portico:-?}"
log "  gzip levels: ${LEVELS[*]}; per proxy and level: ${BENCH_WARMUP} s warm-up, then $BENCH_ROUNDS x $SLICE s" \
    "measured (rounds alternate between the proxies); wrk -t$BENCH_WRK_THREADS" \
    "-c$BENCH_CONNS, keep-alive, Accept-Encoding: gzip; pinning:" \
    "$([[ $BENCH_PIN == 1 ]] && echo "proxy CPU $BENCH_PROXY_CPU, wrk+origin CPU $BENCH_LOAD_CPU" || echo off)$perf_note"
log "  output: $BENCH_OUT"
} | tee "$BENCH_OUT/summary.txt"
# The allocator's settings decide whether a proxy's ~256 KiB of zlib state per response is kept or handed back
# to the kernel and faulted in again (see faults/req in README.md). Setting any MALLOC_*_ variable turns off
# glibc's adaptive mmap threshold: nginx then mmaps and unmaps its gzip memory on every response (~63 page
# faults and 2-3x the CPU per request at level 1).
malloc_env=$(env | grep -E '^(GLIBC_TUNABLES|MALLOC_[A-Z_]+_)=' | cut -d= -f1 | tr '\n' ' ' || true)
if [[ -n $malloc_env ]]; then
    warn "allocator settings in the environment ($malloc_env): both proxies inherit them and the results are" \
         "not comparable with runs without them"
fi
read -r load1 _ </proc/loadavg
if "$PYTHON" -c "import sys; sys.exit(0 if float('$load1') > 0.8 else 1)"; then
    warn "load average is $load1 before starting: other processes are using the CPUs; expect noisy results"
fi

start_origin
log "origin: nginx on 127.0.0.1:$ORIGIN_PORT (pid $ORIGIN_PID), /$PAGE: $PAGE_SIZE bytes of text/html," \
    "sha256 $(sha256sum "$PAGE_FILE" | cut -c1-16)…"

for level in "${LEVELS[@]}"; do
    log ""
    log "gzip level $level"
    declare -A P_PID=() P_PORT=() P_LOG=() P_BODY=() P_NOTE=()
    LIVE=()
    for proxy in "${PROXIES[@]}"; do
        BODY_BYTES="-"
        if ! start_proxy "$proxy" "$level"; then
            warn "$proxy: failed to start or to compress correctly at level $level; no numbers for it"
            [[ -n $PROXY_PID ]] && stop_pid "$PROXY_PID"
            helper row "gzip_l$level" "$proxy" failed "did not start or verify" |
                sed "s/\$/\t$level\t-\t$PAGE_SIZE\t-\t-\t0/" >>"$RESULTS_TSV"
            FINAL_RC=1
            continue
        fi
        P_PID[$proxy]=$PROXY_PID P_PORT[$proxy]=$PROXY_PORT P_LOG[$proxy]=$PROXY_LOG P_BODY[$proxy]=$BODY_BYTES
        LIVE+=("$proxy")
    done
    for proxy in "${LIVE[@]+"${LIVE[@]}"}"; do warm_up "$proxy" "$level"; done
    # Rounds in ABBA order (nginx, portico, portico, nginx, ...): both proxies are measured close together in
    # time, so a slow drift of the machine's speed falls on both alike.
    for ((round = 1; round <= BENCH_ROUNDS; round++)); do
        round_order "$round" "${LIVE[@]+"${LIVE[@]}"}"
        for proxy in "${ROUND_ORDER[@]+"${ROUND_ORDER[@]}"}"; do
            [[ -z ${P_NOTE[$proxy]:-} ]] || continue
            measure_slice "$proxy" "$level" "$round" || { P_NOTE[$proxy]="died during round $round"; FINAL_RC=1; }
        done
    done
    for proxy in "${LIVE[@]+"${LIVE[@]}"}"; do
        aggregate "$proxy" "$level" "${P_NOTE[$proxy]:-}"
        # nginx logs (at warn) when it buffers an upstream response to a temporary file; it costs CPU.
        if grep -q 'buffered to a temporary file' "${P_LOG[$proxy]}" 2>/dev/null; then
            warn "$proxy: some upstream responses were buffered to temporary files (see ${P_LOG[$proxy]})"
        fi
        stop_pid "${P_PID[$proxy]}"
    done
done

stop_pid "$ORIGIN_PID"

# ------------------------------------------------------------------------------------------------------------
# Tables: one per level, with the Portico/nginx ratios.

"$PYTHON" - "$RESULTS_TSV" <<'EOF' | tee -a "$BENCH_OUT/summary.txt"
import sys

rows = []
with open(sys.argv[1]) as f:
    header = f.readline().rstrip("\n").split("\t")
    for line in f:
        if line.strip():
            rows.append(dict(zip(header, line.rstrip("\n").split("\t"))))

def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None

def fmt(v, digits=1):
    v = num(v)
    if v is None:
        return "-"
    return f"{v:,.0f}" if abs(v) >= 1000 or digits == 0 else f"{v:.{digits}f}"

def ratio(a, b):
    a, b = num(a), num(b)
    return f"{a / b:.2f}" if a is not None and b else "n/a"

print()
print("Results (ratios Portico/nginx: > 1 is better for Portico in req/s, worse in CPU/req, p99 and bytes)")
levels = []
for r in rows:
    if r["level"] not in levels:
        levels.append(r["level"])
cols = ["proxy", "req/s", "p50 ms", "p99 ms", "CPU us/req", "proxy CPU%", "busy P/L %", "body bytes",
        "ratio", "wire B/resp", "faults/req", "errors", "status"]
line = "{:<8} {:>8} {:>7} {:>7} {:>10} {:>10} {:>10} {:>10} {:>6} {:>11} {:>10} {:>6}  {}"
for level in levels:
    by = {r["proxy"]: r for r in rows if r["level"] == level}
    page = next((r["page_bytes"] for r in by.values()), "-")
    print()
    print(f"== gzip level {level}: {fmt(page, 0)}-byte text/html page, keep-alive")
    print(line.format(*cols))
    for p in ("nginx", "portico"):
        if p not in by:
            continue
        d = by[p]
        busy = "-"
        if num(d.get("proxy_core_busy_pct")) is not None and num(d.get("load_core_busy_pct")) is not None:
            busy = f"{num(d['proxy_core_busy_pct']):.0f}/{num(d['load_core_busy_pct']):.0f}"
        cr = f"{num(page) / num(d['body_bytes']):.2f}x" if num(d.get("body_bytes")) and num(page) else "-"
        print(line.format(p, fmt(d["rps"], 0), fmt(d["p50_ms"], 2), fmt(d["p99_ms"], 2),
                          fmt(d["cpu_us_per_req"], 1), fmt(d["cpu_pct"], 0), busy, fmt(d["body_bytes"], 0),
                          cr, fmt(d["wire_bytes_per_resp"], 0), fmt(d.get("minflt_per_req"), 1),
                          fmt(d["errors"], 0),
                          d["status"] + (f" ({d['note']})" if d.get("note") not in (None, "", "-") else "")))
    n, q = by.get("nginx", {}), by.get("portico", {})
    print("  Portico/nginx: " + ", ".join(f"{label} {ratio(q.get(k), n.get(k))}" for k, label in (
        ("rps", "req/s"), ("cpu_us_per_req", "CPU/req"), ("p99_ms", "p99"), ("body_bytes", "body bytes"),
        ("wire_bytes_per_resp", "wire bytes"))))
noisy = [f"level {r['level']}/{r['proxy']}" for r in rows if r["status"] == "noisy"]
if noisy:
    print()
    print("noisy: other processes used more than 10% of the proxy's CPU during " + ", ".join(noisy) +
          " (proxy_core_other_pct in results.tsv); rerun on a quiet machine.")
EOF
log ""
log "results: $BENCH_OUT/results.tsv  $BENCH_OUT/summary.txt  (wrk reports and response headers in $BENCH_OUT/raw/)"
exit "$FINAL_RC"
