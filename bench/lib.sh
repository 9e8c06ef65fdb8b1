# shellcheck shell=bash
# Shared by bench/run.sh and bench/compression.sh (sourced, not run): logging, the helpers.py wrapper, the
# rounds (slice length, ABBA order), and the process bookkeeping that starts every background process through
# start_bg and stops it by pid on exit.
# The sourcing script sets BENCH_DIR and BENCH_KEEP first, and WORK once it has a work directory.

log()  { printf '%s\n' "$*"; }
warn() { printf 'bench: warning: %s\n' "$*" >&2; }
die()  { printf 'bench: error: %s\n' "$*" >&2; exit 1; }
helper() { "$PYTHON" "$BENCH_DIR/helpers.py" "$@"; }

# show_log FILE: the last 30 lines of a process's log, indented, on stderr.
show_log() {
    local file=$1
    if [[ -s $file ]]; then
        printf -- '----- %s (last 30 lines) -----\n' "$file" >&2
        tail -n 30 "$file" | sed 's/^/    /' >&2
        printf -- '-----\n' >&2
    fi
}

# set_slice_seconds: checks BENCH_SECONDS and BENCH_ROUNDS and sets SLICE, the seconds of each measured wrk run.
# A measured BENCH_SECONDS is split into BENCH_ROUNDS runs; wrk takes whole seconds, so BENCH_SECONDS is rounded
# down to a multiple of the rounds (at least one second each), with a warning.
set_slice_seconds() {
    [[ $BENCH_SECONDS =~ ^[1-9][0-9]*$ ]] || die "BENCH_SECONDS must be a positive integer (got '$BENCH_SECONDS')"
    [[ $BENCH_ROUNDS =~ ^[1-9][0-9]*$ ]] || die "BENCH_ROUNDS must be a positive integer (got '$BENCH_ROUNDS')"
    SLICE=$((BENCH_SECONDS / BENCH_ROUNDS))
    ((SLICE >= 1)) || SLICE=1
    ((SLICE * BENCH_ROUNDS == BENCH_SECONDS)) ||
        warn "BENCH_SECONDS=$BENCH_SECONDS is not a multiple of BENCH_ROUNDS=$BENCH_ROUNDS:" \
             "measuring $BENCH_ROUNDS x $SLICE s"
}

# round_order ROUND NAME...: sets ROUND_ORDER to the NAMEs in the order they are measured in round ROUND (from
# 1): as given in odd rounds, reversed in even ones (ABBA: A B C, C B A, A B C, ...), so that over an even number
# of rounds every name has the same average position and a slow drift of the machine's speed falls on all alike.
round_order() {
    local round=$1 i
    shift
    ROUND_ORDER=("$@")
    if ((round % 2 == 0)); then
        ROUND_ORDER=()
        for ((i = $#; i >= 1; i--)); do ROUND_ORDER+=("${!i}"); done
    fi
}

PIDS=()

# is_running PID: true while PID exists and is not a zombie.
is_running() {
    local line state
    read -r line 2>/dev/null <"/proc/$1/stat" || return 1
    state=${line##*) }
    state=${state%% *}
    [[ $state != Z && $state != X ]]
}

# start_bg LOGFILE CMD...: CMD in the background, stdout+stderr to LOGFILE; sets STARTED_PID (CMD's own pid:
# the forked shell execs a simple command, and taskset execs its command).
start_bg() {
    local logfile=$1
    shift
    "$@" >"$logfile" 2>&1 </dev/null &
    STARTED_PID=$!
    PIDS+=("$STARTED_PID")
}

forget_pid() {
    local kept=() p
    for p in "${PIDS[@]}"; do [[ $p == "$1" ]] || kept+=("$p"); done
    PIDS=("${kept[@]+"${kept[@]}"}")
}

# stop_pid PID [SIGNAL]: SIGNAL (default TERM), up to 5 s grace, then SIGKILL; reaps it.
stop_pid() {
    local pid=$1 sig=${2:-TERM} i
    if is_running "$pid"; then
        kill "-$sig" "$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
            is_running "$pid" || break
            sleep 0.1
        done
        if is_running "$pid"; then
            warn "pid $pid did not exit on SIG$sig; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    wait "$pid" 2>/dev/null || true
    forget_pid "$pid"
}

# run_tracked OUTFILE CMD...: runs CMD to completion as a tracked background job (so Ctrl-C interrupts the
# wait at once and the cleanup trap stops CMD by pid); returns its status.
run_tracked() {
    local outfile=$1 pid rc=0
    shift
    start_bg "$outfile" "$@"
    pid=$STARTED_PID
    wait "$pid" || rc=$?
    forget_pid "$pid"
    return "$rc"
}

WORK=""
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    local i
    for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
        stop_pid "${PIDS[i]}" || true
    done
    if [[ -n $WORK && -d $WORK ]]; then
        if [[ $BENCH_KEEP == 1 ]]; then
            log "bench: kept work dir $WORK"
        else
            rm -rf "$WORK"
        fi
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# CPU pinning: the proxies get the first CPU of our affinity set (usually CPU 0), where only the one being
# measured is busy; wrk, the origin and the helpers share the second (usually CPU 1). Sets and exports
# BENCH_PROXY_CPU, BENCH_LOAD_CPU and BENCH_PIN (helpers.py wrkrow flags runs where other processes used the
# proxy's CPU); sets ncpu, the arrays PROXY_PIN and LOAD_PIN (command prefixes) and BENCH_WRK_THREADS.
setup_pinning() {
    ncpu=$(nproc 2>/dev/null || echo 1)
    read -r BENCH_PROXY_CPU BENCH_LOAD_CPU < <("$PYTHON" -c \
        'import os; c = sorted(os.sched_getaffinity(0)); print(c[0], c[1] if len(c) > 1 else c[0])')
    export BENCH_PROXY_CPU BENCH_LOAD_CPU
    if [[ -z ${BENCH_PIN:-} ]]; then
        if command -v taskset >/dev/null && ((ncpu >= 2)); then BENCH_PIN=1; else BENCH_PIN=0; fi
    fi
    if [[ $BENCH_PIN == 1 ]]; then
        command -v taskset >/dev/null || die "BENCH_PIN=1 but taskset is not installed"
        ((ncpu >= 2)) || die "BENCH_PIN=1 needs at least 2 CPUs"
        PROXY_PIN=(taskset -c "$BENCH_PROXY_CPU")
        LOAD_PIN=(taskset -c "$BENCH_LOAD_CPU")
    else
        PROXY_PIN=()
        LOAD_PIN=()
    fi
    export BENCH_PIN
    BENCH_WRK_THREADS="${BENCH_WRK_THREADS:-$([[ $BENCH_PIN == 1 ]] && echo 1 || echo 2)}"
    [[ $BENCH_WRK_THREADS =~ ^[1-9][0-9]*$ ]] || die "BENCH_WRK_THREADS must be a positive integer"
}

# The origin both run.sh and tls.sh put behind the proxies: nginx serving 1k.bin and 100k.bin on $ORIGIN_PORT,
# pinned with LOAD_PIN. Sets ORIGIN_PID. Needs WORK, NOFILE, NGINX_BIN, ORIGIN_PORT, LOAD_PIN.
start_origin() {
    local dir="$WORK/origin"
    mkdir -p "$dir/www" "$dir/tmp"
    head -c 1024 /dev/urandom >"$dir/www/1k.bin"
    head -c 102400 /dev/urandom >"$dir/www/100k.bin"
    cat >"$dir/nginx.conf" <<EOF
# Origin server for the benchmarks (generated by bench/lib.sh).
daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile $NOFILE;
pid $dir/nginx.pid;
error_log stderr warn;
events { worker_connections 8192; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
    open_file_cache max=16 inactive=600s;
    types { }
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
    got=$(curl -sS -o /dev/null -w '%{http_code} %{size_download}' --max-time 5 \
        "http://127.0.0.1:$ORIGIN_PORT/100k.bin" 2>&1) || true
    [[ $got == "200 102400" ]] || { show_log "$dir/nginx.log"; die "origin check failed: $got"; }
}
