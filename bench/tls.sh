#!/usr/bin/env bash
# TLS benchmark: Portico (tls plugin) vs nginx vs HAProxy terminating TLS in front of the same plaintext HTTP/1.1
# origin, each with ONE worker, all on 127.0.0.1, all with the same certificate made in this run. See "TLS
# benchmark" in bench/README.md.
#
#   bench/tls.sh                                  # ECDSA P-256, 2 tests x 3 proxies x 2 x 5 s (~2 minutes)
#   BENCH_TLS_KEY=ecdsa,rsa bench/tls.sh          # also an RSA-2048 certificate (~4 minutes)
#   BENCH_SECONDS=4 BENCH_WARMUP=1 bench/tls.sh   # quick check
#   BENCH_ONLY=hs,portico bench/tls.sh            # handshake test, Portico only
#
# Tests, per certificate key type K:
#   hs_K  full handshakes: wrk -c$BENCH_HS_CONNS -H "Connection: close" https://.../1k.bin -- a new TLS connection
#         per request, and no session resumption: wrk would resume (it keeps the SSL object, and with it the
#         session, across reconnects), so it runs with a small LD_PRELOAD shim (built here with cc) that drops the
#         session before each reconnect and counts, client-side, how many handshakes were resumed (must be 0).
#   ka_K  keep-alive TLS: wrk -c$BENCH_KA_CONNS https://.../1k.bin (handshakes only at wrk's start).
#
# Environment:
#   PORTICO_BIN          Portico binary (default <repo>/build/host/portico); missing => Portico is skipped
#   PORTICO_BUILD_DIR    build directory (default <repo>/build); the plugin is taken from plugins/tls/dir in it
#   PORTICO_PLUGIN_DIR   directory holding portico-tls.so (default $PORTICO_BUILD_DIR/plugins/tls/dir); it becomes
#                        Portico's server.plugin_dirs; missing plugin => Portico is skipped
#   BENCH_TLS_KEY        certificate key types, comma- or space-separated: ecdsa (P-256, default), rsa (2048), or
#                        both ("ecdsa,rsa" / "both"); each key type is a separate pair of tests
#   BENCH_SECONDS        measured seconds of each test per proxy (default 10), split into BENCH_ROUNDS wrk runs
#   BENCH_ROUNDS         measured wrk runs per test and proxy, interleaved in ABBA order (default 2)
#   BENCH_WARMUP         warm-up before each measured wrk run, seconds (default 2)
#   BENCH_HS_CONNS       wrk connections of the handshake test (default 64)
#   BENCH_KA_CONNS       wrk connections of the keep-alive test (default 50)
#   BENCH_ONLY           comma-separated subset: tests hs ka (or handshake keepalive) and/or proxies nginx haproxy
#                        portico; empty = everything
#   BENCH_OUT            output directory (default: a new /tmp/portico-bench-tls-out.XXXXXX)
#   BENCH_PIN            1 = proxies on one CPU, wrk + origin on another (default 1 with taskset and >= 2 CPUs)
#   BENCH_WRK_THREADS    wrk -t (default 1 when pinned, else 2)
#   BENCH_KEEP           1 = keep the temporary work directory (certificates, configs, process logs)
#   NGINX_BIN, HAPROXY_BIN, WRK_BIN, OPENSSL_BIN, CC   (default /usr/sbin/nginx, /usr/sbin/haproxy, wrk, openssl, cc)
#
# Every process is started by this script, tracked by pid, and stopped by pid on exit (also on error, Ctrl-C
# or SIGTERM). All state lives in a temporary directory, removed on exit (BENCH_KEEP=1 keeps it).

set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$BENCH_DIR/.." && pwd)"

PORTICO_BIN="${PORTICO_BIN:-$REPO_DIR/build/host/portico}"
PORTICO_BUILD_DIR="${PORTICO_BUILD_DIR:-$REPO_DIR/build}"
PORTICO_PLUGIN_DIR="${PORTICO_PLUGIN_DIR:-$PORTICO_BUILD_DIR/plugins/tls/dir}"
NGINX_BIN="${NGINX_BIN:-/usr/sbin/nginx}"
HAPROXY_BIN="${HAPROXY_BIN:-/usr/sbin/haproxy}"
WRK_BIN="${WRK_BIN:-wrk}"
OPENSSL_BIN="${OPENSSL_BIN:-openssl}"
CC="${CC:-cc}"
BENCH_TLS_KEY="${BENCH_TLS_KEY:-ecdsa}"
BENCH_SECONDS="${BENCH_SECONDS:-10}"
BENCH_WARMUP="${BENCH_WARMUP:-2}"
BENCH_ROUNDS="${BENCH_ROUNDS:-2}"
BENCH_HS_CONNS="${BENCH_HS_CONNS:-64}"
BENCH_KA_CONNS="${BENCH_KA_CONNS:-50}"
BENCH_ONLY="${BENCH_ONLY:-}"
BENCH_KEEP="${BENCH_KEEP:-0}"

ALL_PROXIES=(nginx haproxy portico)

# Mozilla "intermediate" (v5.7) for TLS 1.2, and the TLS 1.3 suites: Portico's defaults (plugins/tls/config.h),
# given to nginx and HAProxy explicitly so that all three offer the same.
TLS12_CIPHERS="ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:\
ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:\
DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305"
TLS13_SUITES="TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
TLS_GROUPS="X25519:prime256v1:secp384r1"

# ------------------------------------------------------------------------------------------------------------
# Small utilities and process bookkeeping: bench/lib.sh (shared with run.sh and compression.sh)

# shellcheck source=bench/lib.sh
source "$BENCH_DIR/lib.sh"

# ------------------------------------------------------------------------------------------------------------
# Preconditions

command -v python3 >/dev/null || die "python3 not found"
PYTHON=$(python3 -c 'import sys; print(sys.executable)') || die "python3 does not run"
command -v curl >/dev/null || die "curl not found"
command -v "$WRK_BIN" >/dev/null || die "wrk not found ($WRK_BIN)"
command -v "$OPENSSL_BIN" >/dev/null || die "openssl not found ($OPENSSL_BIN)"
command -v "$CC" >/dev/null ||
    die "no C compiler ($CC): one is needed to build the shim that keeps wrk from resuming TLS sessions" \
        "(apt-get install gcc, or set CC)"
[[ -x $NGINX_BIN ]] || die "nginx not found at $NGINX_BIN"
[[ -x $HAPROXY_BIN ]] || die "haproxy not found at $HAPROXY_BIN"
[[ $BENCH_WARMUP =~ ^[0-9]+$ ]] || die "BENCH_WARMUP must be a non-negative integer (got '$BENCH_WARMUP')"
set_slice_seconds   # SLICE: seconds of each measured wrk run (lib.sh)
[[ $BENCH_HS_CONNS =~ ^[1-9][0-9]*$ ]] || die "BENCH_HS_CONNS must be a positive integer"
[[ $BENCH_KA_CONNS =~ ^[1-9][0-9]*$ ]] || die "BENCH_KA_CONNS must be a positive integer"
KEYS=()
for k in ${BENCH_TLS_KEY//,/ }; do
    case $k in
        ecdsa | rsa) [[ " ${KEYS[*]-} " == *" $k "* ]] || KEYS+=("$k") ;;
        both | all) KEYS=(ecdsa rsa) ;;
        *) die "BENCH_TLS_KEY: unknown key type '$k' (ecdsa, rsa, both)" ;;
    esac
done
((${#KEYS[@]})) || die "BENCH_TLS_KEY is empty"

# Open files: a few hundred are enough here; HAProxy wants 2 x maxconn, as in run.sh.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE=$(ulimit -n)
[[ $NOFILE == unlimited ]] && NOFILE=1048576

# CPU pinning, as in run.sh: the proxies on the first CPU of our affinity set, wrk + origin on the second.
setup_pinning   # PROXY_PIN, LOAD_PIN, BENCH_PIN, BENCH_WRK_THREADS (lib.sh)

# Subset selection.
declare -A WANT_TEST=() WANT_PROXY=()
if [[ -n $BENCH_ONLY ]]; then
    for tok in ${BENCH_ONLY//,/ }; do
        case $tok in
            hs | handshake | handshakes) WANT_TEST[hs]=1 ;;
            ka | keepalive | keep-alive) WANT_TEST[ka]=1 ;;
            nginx | haproxy | portico) WANT_PROXY[$tok]=1 ;;
            *) die "BENCH_ONLY: unknown token '$tok' (tests: hs ka, proxies: nginx haproxy portico)" ;;
        esac
    done
fi
KINDS=()
for t in hs ka; do
    if ((${#WANT_TEST[@]} == 0)) || [[ -n ${WANT_TEST[$t]:-} ]]; then KINDS+=("$t"); fi
done
PROXIES=()
for p in "${ALL_PROXIES[@]}"; do
    if ((${#WANT_PROXY[@]} == 0)) || [[ -n ${WANT_PROXY[$p]:-} ]]; then PROXIES+=("$p"); fi
done

# Portico needs its binary and the plugin; without either it is skipped (the others are still compared).
PORTICO_SKIP=""
if [[ ! -x $PORTICO_BIN ]]; then
    PORTICO_SKIP="binary not found: $PORTICO_BIN"
elif [[ ! -f $PORTICO_PLUGIN_DIR/portico-tls.so ]]; then
    PORTICO_SKIP="plugin not found: $PORTICO_PLUGIN_DIR/portico-tls.so (set PORTICO_PLUGIN_DIR or PORTICO_BUILD_DIR)"
fi
[[ -d $PORTICO_PLUGIN_DIR ]] && PORTICO_PLUGIN_DIR=$(cd "$PORTICO_PLUGIN_DIR" && pwd)

# ------------------------------------------------------------------------------------------------------------
# Work and output directories

WORK=$(mktemp -d "${TMPDIR:-/tmp}/portico-bench-tls.XXXXXX")
if [[ -z ${BENCH_OUT:-} ]]; then
    BENCH_OUT=$(mktemp -d "${TMPDIR:-/tmp}/portico-bench-tls-out.XXXXXX")
fi
mkdir -p "$BENCH_OUT/raw"
BENCH_OUT=$(cd "$BENCH_OUT" && pwd)
RESULTS_TSV="$BENCH_OUT/results.tsv"
helper tsvheader rounds >"$RESULTS_TSV"
SLICES_TSV="$BENCH_OUT/raw/slices.tsv"
helper tsvheader round >"$SLICES_TSV"
# Client-side resumption counts of the handshake test, one row per wrk run (warm-ups included).
RESUME_TSV="$BENCH_OUT/raw/resumption.tsv"
printf 'test\tproxy\trun\thandshakes\tresumed\n' >"$RESUME_TSV"
# What each proxy negotiates with a default OpenSSL client (as wrk is), per key type.
NEGOTIATED_TSV="$BENCH_OUT/negotiated.tsv"
printf 'key\tproxy\tprotocol\tcipher\tgroup\tsignature\tresumes\n' >"$NEGOTIATED_TSV"

read -r ORIGIN_PORT < <(helper freeports 1)
CLK_TCK=$(getconf CLK_TCK)
FINAL_RC=0

# ------------------------------------------------------------------------------------------------------------
# The certificates: one test CA (ECDSA P-256) and, per key type, a leaf for localhost / 127.0.0.1 signed by it.
# Every proxy gets the same files: cert (leaf only; the CA is the trust anchor, not sent), key, and for HAProxy
# one PEM with both.

make_ca() {
    local d="$WORK/certs"
    mkdir -p "$d"
    "$OPENSSL_BIN" req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 2 \
        -keyout "$d/ca.key" -out "$d/ca.pem" -subj "/O=Portico bench/CN=Portico bench test CA" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        >"$d/ca.log" 2>&1 || { show_log "$d/ca.log"; die "cannot make the test CA"; }
    CA_PEM="$d/ca.pem"
}

# make_leaf KEYTYPE: sets CERT_PEM, KEY_PEM, BUNDLE_PEM (cert + key, for HAProxy).
make_leaf() {
    local kt=$1 d="$WORK/certs"
    local newkey=(-newkey ec -pkeyopt ec_paramgen_curve:P-256)
    [[ $kt == rsa ]] && newkey=(-newkey rsa:2048)
    printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "basicConstraints=critical,CA:FALSE" \
        "keyUsage=critical,digitalSignature$([[ $kt == rsa ]] && echo ,keyEncipherment)" \
        "extendedKeyUsage=serverAuth" >"$d/$kt.ext"
    { "$OPENSSL_BIN" req "${newkey[@]}" -nodes -sha256 -keyout "$d/$kt.key" -out "$d/$kt.csr" \
            -subj "/O=Portico bench/CN=localhost" &&
        "$OPENSSL_BIN" x509 -req -sha256 -days 2 -in "$d/$kt.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
            -CAcreateserial -extfile "$d/$kt.ext" -out "$d/$kt.pem"; } >"$d/$kt.log" 2>&1 ||
        { show_log "$d/$kt.log"; die "cannot make the $kt certificate"; }
    cat "$d/$kt.pem" "$d/$kt.key" >"$d/$kt.bundle.pem"
    CERT_PEM="$d/$kt.pem" KEY_PEM="$d/$kt.key" BUNDLE_PEM="$d/$kt.bundle.pem"
}

# ------------------------------------------------------------------------------------------------------------
# The no-resumption shim for wrk (handshake test). wrk makes one SSL object per connection slot and, on reconnect,
# calls SSL_shutdown + SSL_clear on it; SSL_clear after a clean shutdown keeps the session, so the next
# SSL_connect resumes it (checked: against nginx with tickets on, 2050 of 2054 "Connection: close" requests were
# resumed). The shim wraps SSL_clear to drop the session (SSL_set_session(s, NULL)) so that every handshake is a
# full one, and SSL_connect to count, client-side, the handshakes completed and how many of them were resumptions
# (SSL_session_reused); the counts are written to $BENCH_TLS_STATS at exit. No OpenSSL headers needed: the
# symbols come from wrk's libssl.

build_shim() {
    cat >"$WORK/noresume.c" <<'EOF'
/* LD_PRELOAD shim for wrk (bench/tls.sh): no TLS session resumption, and counts of the handshakes. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
typedef struct ssl_st SSL;
typedef struct ssl_session_st SSL_SESSION;
int SSL_set_session(SSL *s, SSL_SESSION *session);
int SSL_session_reused(const SSL *s);
static unsigned long n_handshakes, n_resumed;
int SSL_clear(SSL *s) {
    static int (*real)(SSL *);
    if (!real) real = (int (*)(SSL *))dlsym(RTLD_NEXT, "SSL_clear");
    SSL_set_session(s, NULL);
    return real(s);
}
int SSL_connect(SSL *s) {
    static int (*real)(SSL *);
    if (!real) real = (int (*)(SSL *))dlsym(RTLD_NEXT, "SSL_connect");
    int r = real(s);
    if (r == 1) {
        __atomic_add_fetch(&n_handshakes, 1, __ATOMIC_RELAXED);
        if (SSL_session_reused(s)) __atomic_add_fetch(&n_resumed, 1, __ATOMIC_RELAXED);
    }
    return r;
}
__attribute__((destructor)) static void report(void) {
    const char *path = getenv("BENCH_TLS_STATS");
    FILE *f = path ? fopen(path, "w") : NULL;
    if (f) { fprintf(f, "%lu %lu\n", n_handshakes, n_resumed); fclose(f); }
}
EOF
    "$CC" -shared -fPIC -O2 -o "$WORK/noresume.so" "$WORK/noresume.c" -ldl >"$WORK/noresume.log" 2>&1 ||
        { show_log "$WORK/noresume.log"; die "cannot build the no-resumption shim with $CC"; }
    SHIM="$WORK/noresume.so"
}

# ------------------------------------------------------------------------------------------------------------
# Origin: nginx serving two static files (the same origin as run.sh)

# start_origin is in lib.sh (shared with run.sh).

# ------------------------------------------------------------------------------------------------------------
# Proxies terminating TLS. write_config_X DIR PORT creates the configuration (for the current CERT_PEM/KEY_PEM).

# shellcheck disable=SC2317  # called as "write_config_$name"
write_config_nginx() {
    local dir=$1 port=$2
    mkdir -p "$dir/tmp"
    cat >"$dir/nginx.conf" <<EOF
# nginx terminating TLS, one worker (generated by bench/tls.sh). Session cache and tickets as Portico's defaults:
# OpenSSL's built-in cache of 20480 sessions per worker (Portico: session_cache = 20480 per listener), tickets
# on with keys of its own, 1 h lifetime. Server cipher preference off, as Portico.
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
        listen 127.0.0.1:$port ssl backlog=4096;
        ssl_certificate $CERT_PEM;
        ssl_certificate_key $KEY_PEM;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_ciphers $TLS12_CIPHERS;
        ssl_conf_command Ciphersuites $TLS13_SUITES;
        ssl_ecdh_curve $TLS_GROUPS;
        ssl_prefer_server_ciphers off;
        ssl_session_cache builtin:20480;
        ssl_session_timeout 1h;
        ssl_session_tickets on;
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
}

# shellcheck disable=SC2317  # called as "write_config_$name"
write_config_haproxy() {
    local dir=$1 port=$2
    local strict="# (open-files limit $NOFILE is enough: strict-limits left at its default)"
    ((NOFILE < 40100)) && strict="no strict-limits   # open-files limit is only $NOFILE"
    cat >"$dir/haproxy.cfg" <<EOF
# HAProxy terminating TLS, one thread (generated by bench/tls.sh). No "log" lines. Session cache (20480 entries)
# and tickets (on by default) as Portico's defaults; client cipher preference, as Portico.
global
    nbthread 1
    maxconn 20000
    $strict
    ssl-default-bind-ciphers $TLS12_CIPHERS
    ssl-default-bind-ciphersuites $TLS13_SUITES
    ssl-default-bind-options ssl-min-ver TLSv1.2 prefer-client-ciphers
    tune.ssl.cachesize 20480
    tune.ssl.lifetime 3600

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
    bind 127.0.0.1:$port ssl crt $BUNDLE_PEM curves $TLS_GROUPS backlog 4096
    default_backend origin

backend origin
    server origin 127.0.0.1:$ORIGIN_PORT
EOF
    PROXY_CHECK=("$HAPROXY_BIN" -c -q -f "$dir/haproxy.cfg")
    PROXY_CMD=("$HAPROXY_BIN" -db -f "$dir/haproxy.cfg")
}

# shellcheck disable=SC2317  # called as "write_config_$name"
write_config_portico() {
    local dir=$1 port=$2
    mkdir -p "$dir/conf"
    cat >"$dir/conf/portico.toml" <<EOF
# Portico terminating TLS, one worker (generated by bench/tls.sh). The tls plugin's defaults otherwise:
# TLS 1.2-1.3, Mozilla intermediate, session tickets on, session cache 20480, 1 h sessions.
[server]
workers = 1
plugin_dirs = ["$PORTICO_PLUGIN_DIR"]
access_log = { path = "off" }
error_log = { path = "stderr", level = "warning" }

[limits]
max_connections = 0

[listener.bench]
bind = "127.0.0.1:$port"
transport = { use = "tls", certificates = [ { cert = "$CERT_PEM", key = "$KEY_PEM" } ] }

[upstream.origin]
endpoints = ["127.0.0.1:$ORIGIN_PORT"]
keepalive = 64

[[route]]
match = { prefix = "/" }
upstream = "origin"
EOF
    PROXY_CHECK=()
    PROXY_CMD=("$PORTICO_BIN" -c "$dir/conf")
}

# negotiated NAME PORT: what a default OpenSSL client (wrk is one) gets: protocol, cipher, group, signature; and
# whether the proxy resumes a session (a ticket or session id from a first connection offered in a second).
# Appends a row to negotiated.tsv and sets NEGOTIATED (one line for the log).
negotiated() {
    local name=$1 port=$2 out
    local sess="$WORK/$name.$KEY.sess"
    out=$( (sleep 0.3) | timeout 10 "$OPENSSL_BIN" s_client -connect "127.0.0.1:$port" -CAfile "$CA_PEM" \
        -sess_out "$sess" 2>&1) || true
    local proto cipher group sig resumes=no
    proto=$(sed -n 's/^ *Protocol *: *//p' <<<"$out" | tail -n 1)
    [[ -n $proto ]] || proto=$(sed -n 's/^New, \(TLSv[0-9.]*\), .*/\1/p' <<<"$out" | head -n 1)
    cipher=$(sed -n 's/^New, [^,]*, Cipher is //p' <<<"$out" | head -n 1)
    group=$(sed -n 's/^Server Temp Key: //p' <<<"$out" | head -n 1)
    sig=$(sed -n 's/^Peer signature type: //p' <<<"$out" | head -n 1)
    if [[ -s $sess ]]; then
        out=$( (sleep 0.3) | timeout 10 "$OPENSSL_BIN" s_client -connect "127.0.0.1:$port" -CAfile "$CA_PEM" \
            -sess_in "$sess" 2>&1) || true
        grep -q '^Reused, ' <<<"$out" && resumes=yes
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$KEY" "$name" "${proto:--}" "${cipher:--}" "${group:--}" "${sig:--}" \
        "$resumes" >>"$NEGOTIATED_TSV"
    NEGOTIATED="${proto:-?} ${cipher:-?}, key exchange ${group:-?}, signature ${sig:-?}, resumes a session: $resumes"
}

# start_proxy NAME: writes its config and starts it on a free port; sets PROXY_PID, PROXY_PORT, PROXY_LOG.
# Returns 1 (with the error output shown) when it does not come up or does not proxy correctly over TLS.
start_proxy() {
    local name=$1
    local dir="$WORK/$KEY/$name"
    mkdir -p "$dir"
    PROXY_PID=""
    read -r PROXY_PORT < <(helper freeports 1)
    "write_config_$name" "$dir" "$PROXY_PORT"
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
    # Sanity: both files come through intact over TLS, the certificate verifying against the test CA.
    local f want got
    for f in 1k.bin:1024 100k.bin:102400; do
        want="200 ${f#*:}"
        got=$(curl -sS -o /dev/null -w '%{http_code} %{size_download}' --max-time 5 --cacert "$CA_PEM" \
            "https://127.0.0.1:$PROXY_PORT/${f%%:*}" 2>&1) || true
        if [[ $got != "$want" ]]; then
            show_log "$PROXY_LOG"
            warn "$name: GET https://127.0.0.1:$PROXY_PORT/${f%%:*} gave '$got', expected '$want'"
            return 1
        fi
    done
    negotiated "$name" "$PROXY_PORT"
    log "$name: listening on 127.0.0.1:$PROXY_PORT (pid $PROXY_PID): $NEGOTIATED"
}

# ------------------------------------------------------------------------------------------------------------
# Tests

# wrk_args KIND: connections, extra wrk arguments and path; WRK_SHIM=1: wrk runs with the no-resumption shim.
wrk_args() {
    case $1 in
        hs) WRK_CONNS=$BENCH_HS_CONNS WRK_EXTRA=(-H "Connection: close") WRK_PATH=/1k.bin WRK_SHIM=1 ;;
        ka) WRK_CONNS=$BENCH_KA_CONNS WRK_EXTRA=() WRK_PATH=/1k.bin WRK_SHIM=0 ;;
        *) die "unknown test kind $1" ;;
    esac
}

put_row() {
    printf '%s\t%s\n' "$1" "$2" >>"$RESULTS_TSV"
}

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

# resumption_row TEST PROXY RUN STATSFILE: appends the shim's counts to resumption.tsv; sets RESUMED_DESC.
resumption_row() {
    local hs=- resumed=-
    [[ -s $4 ]] && read -r hs resumed <"$4"
    printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$hs" "$resumed" >>"$RESUME_TSV"
    RESUMED_DESC="resumed $resumed/$hs"
}

# run_slice TEST KIND PROXY ROUND: a warm-up run, then one measured run of SLICE seconds with the proxy's CPU time
# read just before and after. Appends a row to raw/slices.tsv. Returns 1 if the proxy died.
run_slice() {
    local test=$1 kind=$2 proxy=$3 round=$4
    local pid=${P_PID[$proxy]} raw="$BENCH_OUT/raw/$test.$proxy.r$round.txt"
    local stats="$WORK/$test.$proxy.r$round.stats"
    wrk_args "$kind"
    local url="https://127.0.0.1:${P_PORT[$proxy]}$WRK_PATH"
    # wrk (pinned; with the shim: under env, which sets LD_PRELOAD for wrk alone, not for timeout or taskset).
    local wrk=("${LOAD_PIN[@]}") wrk_warm
    ((WRK_SHIM)) && wrk+=(env "LD_PRELOAD=$SHIM")
    wrk_warm=("${wrk[@]}")
    ((WRK_SHIM)) && wrk_warm+=("BENCH_TLS_STATS=$stats.warmup") && wrk+=("BENCH_TLS_STATS=$stats")
    local args=("$WRK_BIN" -t "$BENCH_WRK_THREADS" -c "$WRK_CONNS" "${WRK_EXTRA[@]+"${WRK_EXTRA[@]}"}")
    wrk+=("${args[@]}")
    wrk_warm+=("${args[@]}")
    if ((BENCH_WARMUP > 0)); then
        run_tracked "$BENCH_OUT/raw/$test.$proxy.r$round.warmup.txt" \
            timeout -k 5 "$((BENCH_WARMUP + 30))" "${wrk_warm[@]}" -d "${BENCH_WARMUP}s" "$url" || true
        ((WRK_SHIM)) && resumption_row "$test" "$proxy" "r$round.warmup" "$stats.warmup"
    fi
    local snap0 snap1 t0 t1 wall
    snap0=$(helper snap "$pid" "$ORIGIN_PID")
    t0=$EPOCHREALTIME
    run_tracked "$raw" timeout -k 5 "$((SLICE + 30))" "${wrk[@]}" -d "${SLICE}s" \
        --latency -s "$BENCH_DIR/report.lua" "$url" || true
    t1=$EPOCHREALTIME
    snap1=$(helper snap "$pid" "$ORIGIN_PID")
    wall=$("$PYTHON" -c "print($t1 - $t0)")
    RESUMED_DESC=""
    ((WRK_SHIM)) && resumption_row "$test" "$proxy" "r$round" "$stats"
    local row
    row=$(helper wrkrow "$test" "$proxy" "$raw" "$snap0" "$snap1" "$wall" "$CLK_TCK") || true
    if [[ -z $row ]]; then row=$(helper row "$test" "$proxy" no-wrk-result); fi
    printf '%s\t%s\n' "$row" "$round" >>"$SLICES_TSV"
    awk -F'\t' -v p="$proxy" -v r="$round" -v x="$RESUMED_DESC" '{
        printf "  round %s %-8s %10s req/s  p50 %7s ms  p99 %7s ms  CPU %7s us/req (%s%%)  busy P/L %s/%s%%  %s %s%s\n",
               r, p, $4, $5, $7, $9, $10, $20, $21, $3, ($18 == "-" ? "" : $18 " "), (x == "" ? "" : " " x) }' <<<"$row"
    if [[ $row != *$'\tok\t'* ]] && ! grep -q '^BENCH_RESULT' "$raw"; then
        sed 's/^/    wrk: /' "$raw" | tail -n 5 >&2
    fi
    if ! is_running "$pid"; then
        show_log "${P_LOG[$proxy]}"
        warn "$proxy died during $test, round $round"
        return 1
    fi
}

# ------------------------------------------------------------------------------------------------------------
# Main

nginx_version=$("$NGINX_BIN" -v 2>&1 | sed 's/^nginx version: //') || true
haproxy_version=$("$HAPROXY_BIN" -v 2>&1 | sed -n 1p) || true
wrk_version=$("$WRK_BIN" -v 2>&1 | awk 'NR==1 {print $2}') || true
openssl_version=$("$OPENSSL_BIN" version 2>&1) || true
portico_version="(not found)"
if [[ -x $PORTICO_BIN ]]; then
    portico_version=$(timeout 5 "$PORTICO_BIN" --version 2>&1 | sed -n 1p) || portico_version="(unknown)"
fi

log "Portico TLS benchmark: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(uname -r), $ncpu CPUs, $openssl_version"
log "  nginx $nginx_version | $haproxy_version | wrk $wrk_version"
log "  portico: $PORTICO_BIN $portico_version; plugin dir $PORTICO_PLUGIN_DIR${PORTICO_SKIP:+ ($PORTICO_SKIP)}"
WARMUP_DESC=$( ((BENCH_WARMUP > 0)) && echo "each after a $BENCH_WARMUP s warm-up" || echo "no warm-up")
log "  per test and proxy: $BENCH_ROUNDS x $SLICE s measured, $WARMUP_DESC, proxies interleaved in ABBA order;" \
    "wrk -t$BENCH_WRK_THREADS;" \
    "pinning: $([[ $BENCH_PIN == 1 ]] && echo "proxy CPU $BENCH_PROXY_CPU, wrk+origin CPU $BENCH_LOAD_CPU" || echo off)"
log "  certificates: ${KEYS[*]}; tests: ${KINDS[*]}; proxies: ${PROXIES[*]}"
log "  output: $BENCH_OUT"
read -r load1 _ </proc/loadavg
if "$PYTHON" -c "import sys; sys.exit(0 if float('$load1') > 0.8 else 1)"; then
    warn "load average is $load1 before starting: other processes are using the CPUs; expect noisy results"
fi

BENCH_META_JSON="$BENCH_OUT/meta.json" \
    NGINX_V="$nginx_version" HAPROXY_V="$haproxy_version" WRK_V="$wrk_version" PORTICO_V="$portico_version" \
    OPENSSL_V="$openssl_version" PIN="$BENCH_PIN" PCPU="$BENCH_PROXY_CPU" LCPU="$BENCH_LOAD_CPU" \
    THREADS="$BENCH_WRK_THREADS" NCPU="$ncpu" PORTICO_BIN="$PORTICO_BIN" PLUGIN_DIR="$PORTICO_PLUGIN_DIR" \
    BENCH_ROUNDS="$BENCH_ROUNDS" SLICE="$SLICE" BENCH_WARMUP="$BENCH_WARMUP" KEYS="${KEYS[*]}" \
    HS_CONNS="$BENCH_HS_CONNS" KA_CONNS="$BENCH_KA_CONNS" LOAD1="$load1" \
    KINDS="${KINDS[*]}" PROXIES="${PROXIES[*]}" "$PYTHON" - <<'EOF'
import json, os, platform, time
e = os.environ
json.dump({
    "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    "kernel": platform.release(), "cpus": int(e["NCPU"]), "load_average_1m_at_start": float(e["LOAD1"]),
    "versions": {"nginx": e["NGINX_V"], "haproxy": e["HAPROXY_V"], "wrk": e["WRK_V"], "portico": e["PORTICO_V"],
                 "openssl": e["OPENSSL_V"]},
    "portico_bin": e["PORTICO_BIN"], "portico_plugin_dir": e["PLUGIN_DIR"],
    "seconds": int(e["SLICE"]) * int(e["BENCH_ROUNDS"]), "rounds": int(e["BENCH_ROUNDS"]),
    "round_seconds": int(e["SLICE"]), "warmup_seconds": int(e["BENCH_WARMUP"]),
    "wrk_threads": int(e["THREADS"]), "pinned": e["PIN"] == "1",
    "proxy_cpu": int(e["PCPU"]), "load_cpu": int(e["LCPU"]),
    "key_types": e["KEYS"].split(), "handshake_connections": int(e["HS_CONNS"]),
    "keepalive_connections": int(e["KA_CONNS"]),
    "tests": e["KINDS"].split(), "proxies": e["PROXIES"].split(),
}, open(e["BENCH_META_JSON"], "w"), indent=2)
EOF

make_ca
[[ " ${KINDS[*]} " == *" hs "* ]] && build_shim
start_origin
log "origin: nginx on 127.0.0.1:$ORIGIN_PORT (pid $ORIGIN_PID)"

declare -A P_PID=() P_PORT=() P_LOG=() P_STATUS=() P_NOTE=() P_DIED=() ROUND_DIED=()
for KEY in "${KEYS[@]}"; do
    make_leaf "$KEY"
    log ""
    log "== $KEY certificate: $("$OPENSSL_BIN" x509 -in "$CERT_PEM" -noout -subject 2>/dev/null | sed 's/^subject=//')," \
        "$("$OPENSSL_BIN" x509 -in "$CERT_PEM" -noout -text 2>/dev/null |
            sed -n 's/^ *Public Key Algorithm: //p; s/^ *Public-Key: //p' | paste -sd ' ')"
    # The three proxies run side by side for this key type, each on its own port; only the measured one gets
    # traffic. A proxy that does not start or dies is not restarted (its rows say so).
    P_PID=() P_PORT=() P_LOG=() P_STATUS=() P_NOTE=() P_DIED=()
    LIVE=()
    for proxy in "${PROXIES[@]}"; do
        if [[ $proxy == portico && -n $PORTICO_SKIP ]]; then
            log "portico: skipped ($PORTICO_SKIP)"
            P_STATUS[portico]=skipped P_NOTE[portico]=$PORTICO_SKIP
            continue
        fi
        if ! start_proxy "$proxy"; then
            if [[ $proxy == portico ]]; then
                warn "portico: failed to start with TLS; its results are missing"
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

    for kind in "${KINDS[@]}"; do
        test="${kind}_$KEY"
        wrk_args "$kind"
        log ""
        log "$test: $BENCH_ROUNDS x $SLICE s per proxy, $WARMUP_DESC;" \
            "wrk -c$WRK_CONNS ${WRK_EXTRA[*]+"${WRK_EXTRA[*]@Q} "}https://...$WRK_PATH" \
            "$([[ $kind == hs ]] && echo "(no resumption: LD_PRELOAD shim)")"
        ROUND_DIED=()
        for ((round = 1; round <= BENCH_ROUNDS; round++)); do
            round_order "$round" "${LIVE[@]+"${LIVE[@]}"}"
            for proxy in "${ROUND_ORDER[@]+"${ROUND_ORDER[@]}"}"; do
                [[ -z ${P_DIED[$proxy]:-} ]] || continue
                if ! run_slice "$test" "$kind" "$proxy" "$round"; then
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
done
stop_pid "$ORIGIN_PID"

# A resumed handshake in the handshake test would make its numbers meaningless: say so loudly.
RESUMED_TOTAL=$(awk -F'\t' 'NR > 1 && $5 ~ /^[0-9]+$/ { s += $5 } END { print s + 0 }' "$RESUME_TSV")
if ((RESUMED_TOTAL > 0)); then
    warn "$RESUMED_TOTAL handshake(s) of the handshake test were resumed (raw/resumption.tsv): the shim did not work"
    FINAL_RC=1
fi

log ""
log "Results ($((BENCH_ROUNDS * SLICE)) s per test and proxy in $BENCH_ROUNDS rounds, wrk -t$BENCH_WRK_THREADS," \
    "proxy CPU% = share of one core; ratios > 1 mean Portico is higher: good for req/s, bad for CPU/req and p99)"
log "  hs_*: one full TLS handshake per request (req/s = handshakes/s); wrk's latency starts after the handshake"
"$PYTHON" - "$BENCH_DIR" "$RESULTS_TSV" "$BENCH_OUT/results.json" "$BENCH_OUT/meta.json" "$RESUME_TSV" \
    "$NEGOTIATED_TSV" "$BENCH_HS_CONNS" "$BENCH_KA_CONNS" "$SLICES_TSV" <<'EOF' | tee "$BENCH_OUT/summary.txt"
import csv, json, sys
bench_dir, tsv, out_json, meta, resume_tsv, neg_tsv, hs_c, ka_c, slices_tsv = sys.argv[1:]
sys.path.insert(0, bench_dir)
import helpers

KEYS = {"ecdsa": "ECDSA P-256", "rsa": "RSA-2048"}
# Targets for Portico/nginx req/s.
TARGETS = {"hs": 0.9, "ka": 1.0}
helpers.TEST_TITLES = {}
for k, name in KEYS.items():
    helpers.TEST_TITLES[f"hs_{k}"] = f"full TLS 1.3 handshakes, {name}: new connection per request, no resumption, " \
                                     f"{hs_c} connections, 1 KiB"
    helpers.TEST_TITLES[f"ka_{k}"] = f"keep-alive TLS 1.3, {name}: {ka_c} connections, 1 KiB"
helpers.cmd_summarize(tsv, out_json, meta)

with open(out_json) as f:
    doc = json.load(f)
with open(resume_tsv) as f:
    rows = list(csv.DictReader(f, delimiter="\t"))
resumption = {}
for r in rows:
    d = resumption.setdefault(r["test"], {}).setdefault(r["proxy"], {"handshakes": 0, "resumed": 0})
    for key in ("handshakes", "resumed"):
        if r[key].isdigit():
            d[key] += int(r[key])
with open(neg_tsv) as f:
    negotiated = list(csv.DictReader(f, delimiter="\t"))
doc["client_resumption"] = resumption
doc["negotiated"] = negotiated
doc["targets"] = {}

print()
print("== negotiated with a default OpenSSL client (what wrk gets)")
for n in negotiated:
    print(f"  {n['key']:<6} {n['proxy']:<8} {n['protocol']} {n['cipher']}, {n['group']}, {n['signature']}; "
          f"resumes a session when offered one: {n['resumes']}")
for key in KEYS:
    sets = {(n["protocol"], n["cipher"], n["group"]) for n in negotiated if n["key"] == key}
    if len(sets) > 1:
        print(f"  WARNING: the proxies negotiate different parameters with the {key} certificate")
if resumption:
    print("  handshake test, client side (all wrk runs, warm-ups included): " + "; ".join(
        f"{t} {p} {d['resumed']} of {d['handshakes']} resumed" for t, by in resumption.items() for p, d in by.items()))

print()
print("== targets (Portico/nginx req/s; CPU-bound estimate = nginx CPU us/req / Portico CPU us/req)")
res = doc["results"]
with open(slices_tsv) as f:
    slices = list(csv.DictReader(f, delimiter="\t"))


def clean(test, proxy):
    """req/s and CPU us/req over the rounds of TEST/PROXY whose status is ok (not noisy, no errors); the
    number of such rounds and of all rounds."""
    rows = [r for r in slices if r["test"] == test and r["proxy"] == proxy]
    ok = [r for r in rows if r["status"] == "ok" and helpers._float(r["requests"])
          and helpers._float(r["cpu_us_per_req"]) is not None]
    if not ok:
        return None, None, 0, len(rows)
    req = sum(float(r["requests"]) for r in ok)
    dur = sum(float(r["duration_s"]) for r in ok)
    cpu = sum(float(r["cpu_us_per_req"]) * float(r["requests"]) for r in ok) / req
    return req / dur, cpu, len(ok), len(rows)


for test in [t for t in helpers.TEST_TITLES if t in res]:
    kind = test.split("_")[0]
    target = TARGETS[kind]
    p, n = res[test].get("portico", {}), res[test].get("nginx", {})
    r = helpers._ratio(p.get("rps"), n.get("rps"))
    est = helpers._ratio(n.get("cpu_us_per_req"), p.get("cpu_us_per_req"))
    verdict = "n/a" if r is None else ("met" if r >= target else "NOT met")
    doc["targets"][test] = {"target": target, "portico/nginx:rps": None if r is None else round(r, 3),
                            "cpu_bound_estimate": None if est is None else round(est, 3), "verdict": verdict}
    rs = "n/a" if r is None else f"{r:.2f}"
    es = "n/a" if est is None else f"{est:.2f}"
    label = "handshakes/s" if kind == "hs" else "keep-alive req/s"
    print(f"  {test:<9} {label:<16} Portico/nginx {rs} (target >= {target:.1f}: {verdict}); "
          f"CPU-bound estimate {es}")
    # The same from the clean rounds only, when some were noisy (other processes on the proxy's CPU).
    cp, cn = clean(test, "portico"), clean(test, "nginx")
    if cp[2] < cp[3] or cn[2] < cn[3]:
        cr = helpers._ratio(cp[0], cn[0])
        ce = helpers._ratio(cn[1], cp[1])
        doc["targets"][test]["clean_rounds"] = {
            "portico/nginx:rps": None if cr is None else round(cr, 3),
            "cpu_bound_estimate": None if ce is None else round(ce, 3),
            "rounds": {"portico": f"{cp[2]}/{cp[3]}", "nginx": f"{cn[2]}/{cn[3]}"}}
        print(f"  {'':<9} {'':<16} clean rounds only (portico {cp[2]}/{cp[3]}, nginx {cn[2]}/{cn[3]}): "
              f"Portico/nginx {'n/a' if cr is None else f'{cr:.2f}'}, "
              f"CPU-bound estimate {'n/a' if ce is None else f'{ce:.2f}'}")
with open(out_json, "w") as f:
    json.dump(doc, f, indent=2, sort_keys=True)
    f.write("\n")
EOF
log ""
log "results: $BENCH_OUT/results.json  $BENCH_OUT/results.tsv  $BENCH_OUT/summary.txt  (wrk reports in $BENCH_OUT/raw/)"
exit "$FINAL_RC"
