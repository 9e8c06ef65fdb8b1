#!/usr/bin/env bash
# A bounded testssl.sh scan of a Portico TLS listener on 127.0.0.1 (or, to check the scan itself, of nginx or
# HAProxy configured like Portico), with certificates made in this run. Offline: no DNS, no OCSP/CRL fetching.
# See "TLS scan" in bench/README.md.
#
#   bench/testssl.sh                              # Portico, ECDSA + RSA certificates side by side (~3-6 minutes)
#   TESTSSL_SERVER=nginx bench/testssl.sh         # the same scan of nginx set up like Portico
#   TESTSSL_CHECKS="-p -s" bench/testssl.sh       # protocols and cipher categories only (fast)
#
# Exit status: 0 = nothing found; 1 = findings (any of SSLv2, SSLv3, TLS 1.0, TLS 1.1 offered; any NULL, anonymous,
# EXPORT, LOW (DES, RC2/RC4, 64-bit), 3DES/IDEA or obsolete-CBC cipher offered, or a cipher with such a name; any
# other finding of severity MEDIUM, HIGH or CRITICAL, except those about the certificate, which is a throw-away
# test certificate, and the server cipher order, see TESTSSL_STRICT -- they are listed as "not counted");
# 2 = no verdict (the server did not start, testssl.sh was
# missing, failed, or hit TESTSSL_TIMEOUT).
#
# Environment:
#   TESTSSL_SERVER       portico (default), nginx or haproxy
#   PORTICO_BIN          Portico binary (default <repo>/build/host/portico)
#   PORTICO_BUILD_DIR    build directory (default <repo>/build); the plugin is taken from plugins/tls/dir in it
#   PORTICO_PLUGIN_DIR   directory holding portico-tls.so (default $PORTICO_BUILD_DIR/plugins/tls/dir)
#   TESTSSL_KEYS         certificates on the listener: ecdsa, rsa or both (default "ecdsa,rsa": side by side, so
#                        the ECDHE-RSA and DHE-RSA ciphers are scanned too)
#   TESTSSL_CHECKS       testssl.sh checks (default "-p -s -f -P -S -U -e": protocols, cipher categories, forward
#                        secrecy, server preference, server defaults and certificate, all vulnerabilities, every
#                        cipher one by one)
#   TESTSSL_TIMEOUT      seconds before testssl.sh is stopped (default 600)
#   TESTSSL_STRICT       1 = also count cipher_order ("NOT a cipher order configured", rated HIGH by testssl.sh
#                        3.0): Portico, like Mozilla's intermediate profile, leaves the cipher choice to the client,
#                        so by default that finding is listed but not counted
#   TESTSSL_BIN          testssl.sh command (default: testssl, Debian's name for it, else testssl.sh)
#   BENCH_OUT            output directory (default: a new /tmp/portico-testssl-out.XXXXXX): testssl.json (flat
#                        JSON), testssl.log (its text output), findings.txt (the summary printed)
#   TESTSSL_JSON         judge a saved testssl.json again (prints the summary and exits 0/1/2), scanning nothing
#   BENCH_KEEP           1 = keep the temporary work directory (certificates, configs, logs)
#   NGINX_BIN, HAPROXY_BIN, OPENSSL_BIN   (default /usr/sbin/nginx, /usr/sbin/haproxy, openssl)
#
# testssl.sh is Debian's package `testssl.sh` (apt-get install testssl.sh); the script does not install it.
# Every process is started by this script, tracked by pid, and stopped by pid on exit.

set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$BENCH_DIR/.." && pwd)"

TESTSSL_SERVER="${TESTSSL_SERVER:-portico}"
PORTICO_BIN="${PORTICO_BIN:-$REPO_DIR/build/host/portico}"
PORTICO_BUILD_DIR="${PORTICO_BUILD_DIR:-$REPO_DIR/build}"
PORTICO_PLUGIN_DIR="${PORTICO_PLUGIN_DIR:-$PORTICO_BUILD_DIR/plugins/tls/dir}"
TESTSSL_KEYS="${TESTSSL_KEYS:-ecdsa,rsa}"
TESTSSL_CHECKS="${TESTSSL_CHECKS:--p -s -f -P -S -U -e}"
TESTSSL_TIMEOUT="${TESTSSL_TIMEOUT:-600}"
TESTSSL_STRICT="${TESTSSL_STRICT:-0}"
NGINX_BIN="${NGINX_BIN:-/usr/sbin/nginx}"
HAPROXY_BIN="${HAPROXY_BIN:-/usr/sbin/haproxy}"
OPENSSL_BIN="${OPENSSL_BIN:-openssl}"
BENCH_KEEP="${BENCH_KEEP:-0}"

# Portico's defaults (plugins/tls/config.h), given to nginx and HAProxy explicitly.
TLS12_CIPHERS="ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:\
ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:\
DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305"
TLS13_SUITES="TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
TLS_GROUPS="X25519:prime256v1:secp384r1"

# shellcheck source=bench/lib.sh
source "$BENCH_DIR/lib.sh"
# No verdict is exit 2 here (1 means findings).
die() { printf 'testssl: error: %s\n' "$*" >&2; exit 2; }

command -v python3 >/dev/null || die "python3 not found"
PYTHON=$(python3 -c 'import sys; print(sys.executable)') || die "python3 does not run"

# ------------------------------------------------------------------------------------------------------------
# judge JSON SERVER SECONDS RC: the verdict from testssl.sh's flat JSON ([{"id", "ip", "port", "severity", "cve",
# "cwe", "finding"}, ...]); prints the summary; exits 0 (pass), 1 (findings) or 2 (no verdict).

judge() {
    "$PYTHON" - "$@" "$TESTSSL_STRICT" <<'EOF'
import json, re, sys

path, server, seconds, rc, strict = sys.argv[1:]
with open(path) as f:
    items = json.load(f)
if isinstance(items, dict):  # pretty JSON, in case a newer testssl.sh or --jsonfile-pretty is used
    items = [x for sec in items.get("scanResult", [{}]) for v in sec.values() if isinstance(v, list) for x in v]

SEVERE = {"MEDIUM", "HIGH", "CRITICAL"}
OLD_PROTOCOLS = {"SSLv2": "SSLv2", "SSLv3": "SSLv3", "TLS1": "TLS 1.0", "TLS1_1": "TLS 1.1"}
WEAK_LISTS = {"cipherlist_NULL": "NULL ciphers", "cipherlist_aNULL": "anonymous (aNULL) ciphers",
              "cipherlist_EXPORT": "EXPORT ciphers", "cipherlist_LOW": "LOW ciphers (64 bit, DES, RC2/RC4)",
              "cipherlist_3DES_IDEA": "3DES/IDEA ciphers", "cipherlist_AVERAGE": "obsolete CBC ciphers",
              "RC4": "RC4 ciphers"}
WEAK_NAME = re.compile(r"(NULL|EXP|RC4|RC2|DES-CBC|3DES|DES_CBC|IDEA|SEED|ADH|AECDH|anon|MD5)", re.I)
# About the certificate (a throw-away one from a test CA) or the scan itself: reported, never counted.
NOT_COUNTED = re.compile(r"^(cert|intermediate_cert|chain_of_trust|OCSP|DNS_CAA|CRL|CT$|scanTime|scanProblem|"
                         r"engine_problem|service|pre_|clientsimulation)", re.I)
# A policy, not a vulnerability: no server cipher preference (Mozilla intermediate: "ssl_prefer_server_ciphers
# off"; every cipher offered is strong). testssl.sh 3.0 rates it HIGH. Counted with TESTSSL_STRICT=1.
POLICY = set() if strict == "1" else {"cipher_order"}


def offered(finding):
    f = finding.lower()
    return "offered" in f and "not offered" not in f


counted, uncounted, problems = [], [], []
protocols, lists, ciphers = {}, {}, []
for it in items:
    iid, sev, finding = it.get("id", ""), it.get("severity", ""), it.get("finding", "")
    if iid in ("scanProblem", "engine_problem") or sev == "FATAL":
        problems.append(f"{iid} [{sev}]: {finding}")
    if iid in OLD_PROTOCOLS or iid in ("TLS1_2", "TLS1_3"):
        protocols[iid] = finding
        if iid in OLD_PROTOCOLS and offered(finding):
            counted.append(f"{OLD_PROTOCOLS[iid]} offered ({iid} [{sev}]: {finding})")
        continue
    if iid in WEAK_LISTS:
        lists[iid] = finding
        if offered(finding) or (iid == "RC4" and sev in SEVERE):
            counted.append(f"{WEAK_LISTS[iid]} offered ({iid} [{sev}]: {finding})")
        continue
    if iid.startswith("cipher-") or iid.startswith("cipher_x"):
        ciphers.append(finding)
        m = re.search(r"\bx[0-9a-f]{2,6}\s+(\S+)", finding)
        name = m.group(1) if m else finding
        if WEAK_NAME.search(name):
            counted.append(f"weak cipher offered: {finding} ({iid})")
        elif sev in SEVERE:
            counted.append(f"{iid} [{sev}]: {finding}")
        continue
    if sev in SEVERE:
        (uncounted if NOT_COUNTED.match(iid) or iid in POLICY else counted).append(f"{iid} [{sev}]: {finding}")

print()
print(f"== testssl.sh findings for {server} ({seconds} s, testssl.sh exit {rc})")
print("  protocols: " + ", ".join(f"{k}: {v}" for k, v in protocols.items()))
print("  cipher categories: " + ", ".join(f"{k.replace('cipherlist_', '')}: {v}" for k, v in lists.items()
                                          if k.startswith("cipherlist_")))
if ciphers:
    print(f"  ciphers offered ({len(ciphers)}):")
    for c in ciphers:
        print(f"    {' '.join(c.split())}")
for iid in ("cipher_negotiated", "PFS", "PFS_ECDHE_curves", "FS", "FS_ECDHE_curves", "DH_groups", "TLS_session_ticket", "sessionresumption_ticket", "sessionresumption_ID", "ALPN",
            "secure_renego", "secure_client_renego", "fallback_SCSV", "cert_trust", "cert_chain_of_trust"):
    for it in items:
        if it.get("id", "").split(" ")[0] == iid:
            print(f"  {it['id']} [{it.get('severity')}]: {it.get('finding')}")
if problems:
    print("  scan problems:")
    for p in problems:
        print(f"    {p}")
if uncounted:
    print(f"  not counted (the test certificate, the scan, or the cipher order policy), severity MEDIUM or above: "
          f"{len(uncounted)}")
    for u in uncounted:
        print(f"    {u}")
print()
if counted:
    print(f"FAIL: {len(counted)} finding(s):")
    for c in counted:
        print(f"  {c}")
    sys.exit(1)
if not protocols:
    print("NO VERDICT: the scan reported no protocols (see testssl.log)")
    sys.exit(2)
print("PASS: no old protocol, no weak cipher, no finding of severity MEDIUM or above "
      "(certificate findings and cipher order aside)")
EOF
}

# TESTSSL_JSON: judge a saved scan again, without running anything.
if [[ -n ${TESTSSL_JSON:-} ]]; then
    [[ -s $TESTSSL_JSON ]] || die "TESTSSL_JSON: no such file: $TESTSSL_JSON"
    set +e
    judge "$TESTSSL_JSON" "$TESTSSL_SERVER" "?" "?"
    exit $?
fi

command -v curl >/dev/null || die "curl not found"
command -v "$OPENSSL_BIN" >/dev/null || die "openssl not found ($OPENSSL_BIN)"
command -v timeout >/dev/null || die "timeout (coreutils) not found"
if [[ -z ${TESTSSL_BIN:-} ]]; then
    TESTSSL_BIN=$(command -v testssl || command -v testssl.sh || true)
fi
if [[ -z $TESTSSL_BIN ]] || ! command -v "$TESTSSL_BIN" >/dev/null; then
    die "testssl.sh not found: apt-get install testssl.sh (Debian's command is 'testssl'), or set TESTSSL_BIN"
fi
[[ -x $NGINX_BIN ]] || die "nginx not found at $NGINX_BIN (needed for the origin)"
[[ $TESTSSL_TIMEOUT =~ ^[1-9][0-9]*$ ]] || die "TESTSSL_TIMEOUT must be a positive integer"
case $TESTSSL_SERVER in
    portico)
        [[ -x $PORTICO_BIN ]] || die "Portico binary not found at $PORTICO_BIN (set PORTICO_BIN)"
        [[ -f $PORTICO_PLUGIN_DIR/portico-tls.so ]] ||
            die "plugin not found: $PORTICO_PLUGIN_DIR/portico-tls.so (set PORTICO_PLUGIN_DIR or PORTICO_BUILD_DIR)"
        PORTICO_PLUGIN_DIR=$(cd "$PORTICO_PLUGIN_DIR" && pwd) ;;
    nginx) ;;
    haproxy) [[ -x $HAPROXY_BIN ]] || die "haproxy not found at $HAPROXY_BIN" ;;
    *) die "TESTSSL_SERVER must be portico, nginx or haproxy (got '$TESTSSL_SERVER')" ;;
esac
KEYS=()
for k in ${TESTSSL_KEYS//,/ }; do
    case $k in
        ecdsa | rsa) [[ " ${KEYS[*]-} " == *" $k "* ]] || KEYS+=("$k") ;;
        both | all) KEYS=(ecdsa rsa) ;;
        *) die "TESTSSL_KEYS: unknown key type '$k' (ecdsa, rsa, both)" ;;
    esac
done
((${#KEYS[@]})) || die "TESTSSL_KEYS is empty"
read -r -a CHECKS <<<"$TESTSSL_CHECKS"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/portico-testssl.XXXXXX")
if [[ -z ${BENCH_OUT:-} ]]; then
    BENCH_OUT=$(mktemp -d "${TMPDIR:-/tmp}/portico-testssl-out.XXXXXX")
fi
mkdir -p "$BENCH_OUT"
BENCH_OUT=$(cd "$BENCH_OUT" && pwd)
read -r ORIGIN_PORT TLS_PORT < <(helper freeports 2)

# ------------------------------------------------------------------------------------------------------------
# Certificates: a test CA (ECDSA P-256) and a leaf per key type for localhost / 127.0.0.1, as bench/tls.sh makes
# (valid 90 days here, so that testssl.sh has no "expires soon" to report).

D="$WORK/certs"
mkdir -p "$D"
"$OPENSSL_BIN" req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 90 \
    -keyout "$D/ca.key" -out "$D/ca.pem" -subj "/O=Portico bench/CN=Portico bench test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    >"$D/ca.log" 2>&1 || { show_log "$D/ca.log"; die "cannot make the test CA"; }
for kt in "${KEYS[@]}"; do
    newkey=(-newkey ec -pkeyopt ec_paramgen_curve:P-256)
    [[ $kt == rsa ]] && newkey=(-newkey rsa:2048)
    printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "basicConstraints=critical,CA:FALSE" \
        "keyUsage=critical,digitalSignature$([[ $kt == rsa ]] && echo ,keyEncipherment)" \
        "extendedKeyUsage=serverAuth" >"$D/$kt.ext"
    { "$OPENSSL_BIN" req "${newkey[@]}" -nodes -sha256 -keyout "$D/$kt.key" -out "$D/$kt.csr" \
            -subj "/O=Portico bench/CN=localhost" &&
        "$OPENSSL_BIN" x509 -req -sha256 -days 90 -in "$D/$kt.csr" -CA "$D/ca.pem" -CAkey "$D/ca.key" \
            -CAcreateserial -extfile "$D/$kt.ext" -out "$D/$kt.pem"; } >"$D/$kt.log" 2>&1 ||
        { show_log "$D/$kt.log"; die "cannot make the $kt certificate"; }
    cat "$D/$kt.pem" "$D/$kt.key" >"$D/$kt.bundle.pem"
done
# RFC 7919 ffdhe2048 for nginx's DHE-RSA ciphers (Portico and HAProxy pick their DH group automatically).
"$OPENSSL_BIN" genpkey -genparam -algorithm DH -pkeyopt group:ffdhe2048 -out "$D/dhparam.pem" >/dev/null 2>&1 ||
    die "cannot write the ffdhe2048 parameters"

# ------------------------------------------------------------------------------------------------------------
# Origin (plain HTTP nginx, one page at /) and the TLS server in front of it.

O="$WORK/origin"
mkdir -p "$O/www" "$O/tmp"
printf '<!doctype html><title>Portico testssl origin</title><p>hello\n' >"$O/www/index.html"
cat >"$O/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $O/nginx.pid;
error_log stderr warn;
events { worker_connections 1024; }
http {
    access_log off;
    types { text/html html; }
    client_body_temp_path $O/tmp/body;
    proxy_temp_path $O/tmp/proxy;
    fastcgi_temp_path $O/tmp/fastcgi;
    uwsgi_temp_path $O/tmp/uwsgi;
    scgi_temp_path $O/tmp/scgi;
    server { listen 127.0.0.1:$ORIGIN_PORT; root $O/www; }
}
EOF
start_bg "$O/nginx.log" "$NGINX_BIN" -p "$O" -e stderr -c "$O/nginx.conf"
ORIGIN_PID=$STARTED_PID
helper waitport "$ORIGIN_PORT" 15 "$ORIGIN_PID" || { show_log "$O/nginx.log"; die "origin nginx did not start"; }

S="$WORK/$TESTSSL_SERVER"
mkdir -p "$S/tmp" "$S/conf"
case $TESTSSL_SERVER in
    portico)
        certs=""
        for kt in "${KEYS[@]}"; do certs+="{ cert = \"$D/$kt.pem\", key = \"$D/$kt.key\" }, "; done
        cat >"$S/conf/portico.toml" <<EOF
# Portico with the tls plugin's defaults (generated by bench/testssl.sh).
[server]
workers = 1
plugin_dirs = ["$PORTICO_PLUGIN_DIR"]
access_log = { path = "off" }
error_log = { path = "stderr", level = "warning" }

[listener.tls]
bind = "127.0.0.1:$TLS_PORT"
transport = { use = "tls", certificates = [ ${certs%, } ] }

[upstream.origin]
endpoints = ["127.0.0.1:$ORIGIN_PORT"]

[[route]]
match = { prefix = "/" }
upstream = "origin"
EOF
        SERVER_CMD=("$PORTICO_BIN" -c "$S/conf")
        SERVER_VERSION=$(timeout 5 "$PORTICO_BIN" --version 2>&1 | sed -n 1p) || true
        ;;
    nginx)
        certs=""
        for kt in "${KEYS[@]}"; do
            certs+="        ssl_certificate $D/$kt.pem;"$'\n'"        ssl_certificate_key $D/$kt.key;"$'\n'
        done
        cat >"$S/nginx.conf" <<EOF
# nginx configured like Portico's tls plugin defaults (generated by bench/testssl.sh).
daemon off;
master_process off;
worker_processes 1;
pid $S/nginx.pid;
error_log stderr warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $S/tmp/body;
    proxy_temp_path $S/tmp/proxy;
    fastcgi_temp_path $S/tmp/fastcgi;
    uwsgi_temp_path $S/tmp/uwsgi;
    scgi_temp_path $S/tmp/scgi;
    server {
        listen 127.0.0.1:$TLS_PORT ssl;
$certs        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_ciphers $TLS12_CIPHERS;
        ssl_conf_command Ciphersuites $TLS13_SUITES;
        ssl_ecdh_curve $TLS_GROUPS;
        ssl_dhparam $D/dhparam.pem;
        ssl_prefer_server_ciphers off;
        ssl_session_cache builtin:20480;
        ssl_session_timeout 1h;
        ssl_session_tickets on;
        location / { proxy_pass http://127.0.0.1:$ORIGIN_PORT; }
    }
}
EOF
        "$NGINX_BIN" -t -q -p "$S" -e stderr -c "$S/nginx.conf" >"$S/check.log" 2>&1 ||
            { show_log "$S/check.log"; die "nginx configuration rejected"; }
        SERVER_CMD=("$NGINX_BIN" -p "$S" -e stderr -c "$S/nginx.conf")
        SERVER_VERSION=$("$NGINX_BIN" -v 2>&1 | sed 's/^nginx version: //') || true
        ;;
    haproxy)
        crts=""
        for kt in "${KEYS[@]}"; do crts+="crt $D/$kt.bundle.pem "; done
        cat >"$S/haproxy.cfg" <<EOF
# HAProxy configured like Portico's tls plugin defaults (generated by bench/testssl.sh).
global
    nbthread 1
    maxconn 1000
    ssl-default-bind-ciphers $TLS12_CIPHERS
    ssl-default-bind-ciphersuites $TLS13_SUITES
    ssl-default-bind-options ssl-min-ver TLSv1.2 prefer-client-ciphers
    tune.ssl.default-dh-param 2048
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend tls
    bind 127.0.0.1:$TLS_PORT ssl ${crts}curves $TLS_GROUPS
    default_backend origin
backend origin
    server origin 127.0.0.1:$ORIGIN_PORT
EOF
        "$HAPROXY_BIN" -c -q -f "$S/haproxy.cfg" >"$S/check.log" 2>&1 ||
            { show_log "$S/check.log"; die "haproxy configuration rejected"; }
        SERVER_CMD=("$HAPROXY_BIN" -db -f "$S/haproxy.cfg")
        SERVER_VERSION=$("$HAPROXY_BIN" -v 2>&1 | sed -n 1p) || true
        ;;
esac
start_bg "$S/server.log" "${SERVER_CMD[@]}"
SERVER_PID=$STARTED_PID
helper waitport "$TLS_PORT" 15 "$SERVER_PID" ||
    { show_log "$S/server.log"; die "$TESTSSL_SERVER did not start listening on 127.0.0.1:$TLS_PORT"; }
got=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$D/ca.pem" "https://127.0.0.1:$TLS_PORT/" 2>&1) ||
    true
[[ $got == 200 ]] || { show_log "$S/server.log"; die "GET https://127.0.0.1:$TLS_PORT/ gave '$got', expected 200"; }

testssl_version=$("$TESTSSL_BIN" --version 2>/dev/null | sed -n 's/.*testssl.sh *\(version \)\?\([0-9][^ ]*\).*/\2/p' |
    head -n 1) || true
log "testssl scan: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $TESTSSL_SERVER ${SERVER_VERSION:-} on 127.0.0.1:$TLS_PORT" \
    "(pid $SERVER_PID), certificates: ${KEYS[*]}"
log "  $TESTSSL_BIN ${testssl_version:-} with $("$OPENSSL_BIN" version 2>&1); checks: ${CHECKS[*]};" \
    "bounded to $TESTSSL_TIMEOUT s"
log "  output: $BENCH_OUT"

# ------------------------------------------------------------------------------------------------------------
# The scan. Offline: --nodns none (the target is an IP address: no DNS at all), no --phone-out (no OCSP/CRL
# fetching); --add-ca so that the chain of trust is judged against the test CA; --warnings batch (never ask);
# connect and openssl timeouts so a stuck handshake cannot hold the scan.

JSON="$BENCH_OUT/testssl.json"
TLOG="$BENCH_OUT/testssl.log"
rm -f "$JSON" "$TLOG"
t0=$EPOCHREALTIME
rc=0
run_tracked "$WORK/testssl.out" timeout -k 10 "$TESTSSL_TIMEOUT" "$TESTSSL_BIN" --quiet --color 0 --warnings batch \
    --nodns none --connect-timeout 10 --openssl-timeout 10 --add-ca "$D/ca.pem" --openssl "$(command -v "$OPENSSL_BIN")" \
    --jsonfile "$JSON" --logfile "$TLOG" "${CHECKS[@]}" "127.0.0.1:$TLS_PORT" || rc=$?
t1=$EPOCHREALTIME
SECONDS_TAKEN=$("$PYTHON" -c "print(round($t1 - $t0, 1))")
log "  testssl.sh exited $rc after $SECONDS_TAKEN s"
if ! is_running "$SERVER_PID"; then
    show_log "$S/server.log"
    die "$TESTSSL_SERVER died during the scan"
fi
stop_pid "$SERVER_PID"
stop_pid "$ORIGIN_PID"
if ((rc == 124 || rc == 137)); then
    tail -n 20 "$WORK/testssl.out" | sed 's/^/    /' >&2
    die "testssl.sh did not finish within $TESTSSL_TIMEOUT s (TESTSSL_TIMEOUT); partial output in $TLOG"
fi
[[ -s $JSON ]] || { tail -n 20 "$WORK/testssl.out" | sed 's/^/    /' >&2; die "testssl.sh wrote no JSON (exit $rc)"; }

set +e
judge "$JSON" "$TESTSSL_SERVER" "$SECONDS_TAKEN" "$rc" | tee "$BENCH_OUT/findings.txt"
verdict=${PIPESTATUS[0]}
set -e
log ""
log "testssl.sh took $SECONDS_TAKEN s; files: $JSON  $TLOG  $BENCH_OUT/findings.txt"
exit "$verdict"
