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

