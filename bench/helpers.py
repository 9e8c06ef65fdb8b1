#!/usr/bin/env python3
"""Small stdlib-only helpers for bench/run.sh and bench/compression.sh.

Subcommands (all print to stdout, diagnostics to stderr):

  freeports N                   print N distinct free TCP ports on 127.0.0.1 (bound to port 0, then released)
  waitport PORT TIMEOUT [PID]   poll connect() to 127.0.0.1:PORT until it succeeds; exit 1 on timeout or if
                                PID (when given) has exited
  cpu PID                       utime+stime of PID and all its descendants, in clock ticks
  snap PID ORIGIN_PID           CPU snapshot (proxy ticks, origin ticks, per-CPU busy/total) for wrkrow
  idle PID PORT COUNT TIMEOUT   10,000-idle-connections memory test against the proxy PID listening on PORT;
                                prints one JSON object
  wrkrow TEST PROXY RAW SNAP0 SNAP1 WALL HZ
                                one TSV row from a wrk report RAW (with report.lua's BENCH_RESULT line), the
                                `snap` before and after the run, the run's wall seconds and CLK_TCK
  tsvheader [EXTRA...] / row TEST PROXY STATUS [NOTE] / idlerow PROXY JSON
                                results.tsv header (then the EXTRA column names), a row without measurements,
                                a row from `idle` output
  aggregate SLICES TEST PROXY [NOTE]
                                one results row for TEST and PROXY from its measured runs (rounds) in the
                                slices TSV SLICES, with NOTE (e.g. "died during round 2") added to its note
  summarize TSV JSON META       print the comparison tables from the results TSV and write the JSON file

The process-tree helpers sum over PID and its descendants, so a proxy that forks workers (or a master with one
worker) is measured as a whole; nginx, HAProxy and Portico as configured by run.sh are single processes anyway.
"""

import errno
import json
import os
import resource
import selectors
import socket
import sys
import time

HOST = "127.0.0.1"


# ---------------------------------------------------------------------------------------------------------------
# /proc helpers


def _read(path):
    with open(path, "r") as f:
        return f.read()


def _stat_fields(pid):
    """Fields of /proc/PID/stat after the command name (which may contain spaces and parentheses)."""
    data = _read(f"/proc/{pid}/stat")
    return data[data.rindex(")") + 2:].split()


def alive(pid):
    try:
        return _stat_fields(pid)[0] not in ("Z", "X")
    except (OSError, ValueError):
        return False


def tree(pid):
    """PID and all its live descendants."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        if not alive(p):
            continue
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                kids = _read(f"/proc/{p}/task/{task}/children").split()
                todo.extend(int(k) for k in kids)
        except OSError:
            pass
    return out


def cpu_ticks(pid):
    """utime + stime (fields 14 and 15 of /proc/PID/stat; index 11 and 12 after the state field), whole tree."""
    total = 0
    for p in tree(pid):
        try:
            f = _stat_fields(p)
            total += int(f[11]) + int(f[12])
        except (OSError, ValueError, IndexError):
            pass
    return total


def rss_bytes(pid):
    total = 0
    for p in tree(pid):
        try:
            for line in _read(f"/proc/{p}/status").splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def open_fds(pid):
    total = 0
    for p in tree(pid):
        try:
            total += len(os.listdir(f"/proc/{p}/fd"))
        except OSError:
            pass
    return total


# ---------------------------------------------------------------------------------------------------------------
# subcommands


def cmd_freeports(n):
    socks = []
    try:
        for _ in range(int(n)):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((HOST, 0))
            socks.append(s)
        print(" ".join(str(s.getsockname()[1]) for s in socks))
    finally:
        for s in socks:
            s.close()


def cmd_waitport(port, timeout, pid=None):
    deadline = time.monotonic() + float(timeout)
    pid = int(pid) if pid else None
    while time.monotonic() < deadline:
        if pid is not None and not alive(pid):
            print(f"process {pid} exited before listening on port {port}", file=sys.stderr)
            return 1
        try:
            with socket.create_connection((HOST, int(port)), timeout=0.5):
                return 0
        except OSError:
            time.sleep(0.05)
    print(f"timeout: nothing accepted connections on {HOST}:{port} within {timeout}s", file=sys.stderr)
    return 1


def cmd_cpu(pid):
    print(cpu_ticks(int(pid)))


def cpu_busy(cpu):
    """(busy, total, task) clock ticks of CPU number `cpu` from /proc/stat. busy = total - idle - iowait;
    task = user + nice + system + steal, i.e. busy minus interrupt time: the time processes (or the
    hypervisor) had the CPU."""
    for line in _read("/proc/stat").splitlines():
        if line.startswith(f"cpu{cpu} "):
            v = [int(x) for x in line.split()[1:]]
            total = sum(v[:8])  # user nice system idle iowait irq softirq steal (guest is inside user)
            return total - v[3] - v[4], total, v[0] + v[1] + v[2] + v[7]
    return 0, 0, 0


def cmd_snap(pid, origin_pid):
    """One snapshot token: proxyticks,originticks,busy/total/task of the proxy's CPU,same of the load CPU.
    The CPUs are BENCH_PROXY_CPU and BENCH_LOAD_CPU (set by run.sh)."""
    parts = [str(cpu_ticks(int(pid))), str(cpu_ticks(int(origin_pid)))]
    for var in ("BENCH_PROXY_CPU", "BENCH_LOAD_CPU"):
        parts.append("/".join(str(x) for x in cpu_busy(os.environ.get(var, "0"))))
    print(",".join(parts))


def snap_delta(a, b):
    """Between two cmd_snap tokens: proxy ticks, origin ticks, busy % of the proxy's and the load CPU, and
    the % of the proxy's CPU used by other processes (meaningful only when the proxy is pinned there)."""
    a, b = a.split(","), b.split(",")
    proxy = int(b[0]) - int(a[0])
    origin = int(b[1]) - int(a[1])
    if proxy < 0:  # the proxy exited during the run (a gone process reads 0): its CPU time is unknown
        proxy = None
    busy, other = [], None
    for i, (x, y) in enumerate(zip(a[2:], b[2:])):
        (bx, tx, kx), (by, ty, ky) = (map(int, x.split("/")), map(int, y.split("/")))
        if ty <= tx:
            busy.append(None)
            continue
        busy.append(round(100.0 * (by - bx) / (ty - tx), 1))
        if i == 0 and proxy is not None:
            other = round(max(0.0, 100.0 * ((ky - kx) - proxy) / (ty - tx)), 1)
    return proxy, origin, busy, other


def _settled_rss(pid, settle=0.3, limit=3.0):
    """VmRSS once it has stopped changing for `settle` seconds (at most `limit` seconds of waiting)."""
    last = rss_bytes(pid)
    stable_since = time.monotonic()
    deadline = stable_since + limit
    while time.monotonic() < deadline:
        time.sleep(0.1)
        cur = rss_bytes(pid)
        if cur != last:
            last, stable_since = cur, time.monotonic()
        elif time.monotonic() - stable_since >= settle:
            break
    return last


def cmd_idle(pid, port, count, timeout):
    """Open COUNT connections that send nothing, wait until the proxy holds COUNT more fds (i.e. has accepted
    them all), and report the growth of its resident memory per connection."""
    pid, port, count, timeout = int(pid), int(port), int(count), float(timeout)
    # This process needs COUNT sockets plus a few.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = count + 256
    if soft < want:
        new_soft = want if hard == resource.RLIM_INFINITY else min(hard, want)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new_soft, hard))
        if new_soft < want:
            print(f"idle: RLIMIT_NOFILE hard limit {hard} < {want}; cannot open {count} sockets", file=sys.stderr)
            return 1

    fds_before = open_fds(pid)
    rss_before = _settled_rss(pid)
    t0 = time.monotonic()
    deadline = t0 + timeout

    sel = selectors.DefaultSelector()
    socks = []
    pending = 0
    failed = 0
    try:
        # Non-blocking connects, at most a few hundred in flight so the listen backlog is never overrun
        # (an overrun SYN is retried only after a 1 s timeout, which would make the test slow, not wrong).
        next_i = 0
        while (next_i < count or pending) and time.monotonic() < deadline:
            while next_i < count and pending < 256:
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setblocking(False)
                err = s.connect_ex((HOST, port))
                next_i += 1
                socks.append(s)
                if err in (0,):
                    continue
                if err in (errno.EINPROGRESS, errno.EAGAIN):
                    sel.register(s, selectors.EVENT_WRITE)
                    pending += 1
                else:
                    failed += 1
            for key, _ in sel.select(timeout=0.5):
                s = key.fileobj
                sel.unregister(s)
                pending -= 1
                if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
                    failed += 1
        connect_seconds = time.monotonic() - t0

        # Wait until the proxy has accept()ed them all: its fd count grows by one per client connection.
        accepted = open_fds(pid) - fds_before
        while accepted < count - failed and time.monotonic() < deadline:
            time.sleep(0.1)
            accepted = open_fds(pid) - fds_before
        rss_after = _settled_rss(pid)
        # Connections the proxy may have closed meanwhile (e.g. a short header timeout) show up here.
        fds_end = open_fds(pid) - fds_before
        result = {
            "connections": count,
            "connect_failed": failed,
            "accepted": accepted,
            "held_at_end": fds_end,
            "connect_seconds": round(connect_seconds, 3),
            "rss_before": rss_before,
            "rss_after": rss_after,
            "bytes_per_conn": round((rss_after - rss_before) / accepted, 1) if accepted > 0 else None,
            "complete": accepted >= count,
        }
        print(json.dumps(result))
        return 0 if accepted > 0 else 1
    finally:
        for s in socks:
            s.close()


# ---------------------------------------------------------------------------------------------------------------
# results

# Columns of results.tsv, shared by the wrk tests and the idle-memory test ("-" where not applicable).
TSV_COLUMNS = ["test", "proxy", "status", "rps", "p50_ms", "p90_ms", "p99_ms", "max_ms", "cpu_us_per_req",
               "cpu_pct", "requests", "errors", "duration_s", "accepted", "rss_before", "rss_after",
               "bytes_per_conn", "note", "origin_cpu_pct", "proxy_core_busy_pct", "load_core_busy_pct",
               "proxy_core_other_pct"]

# With the proxy pinned to its own CPU, other processes taking more than this % of that CPU during a run mark the
# run "noisy".
NOISY_PCT = 10.0


def cmd_tsvheader(*extra):
    print("\t".join(TSV_COLUMNS + list(extra)))


def tsv_row(values):
    return "\t".join("-" if values.get(c) is None else str(values[c]) for c in TSV_COLUMNS)


def cmd_row(test, proxy, status, note=""):
    """A row with no measurements (skipped / failed)."""
    print(tsv_row({"test": test, "proxy": proxy, "status": status, "note": note.replace("\t", " ") or None}))


def cmd_wrkrow(test, proxy, raw, snap0, snap1, wall, hz):
    res = None
    with open(raw) as f:
        for line in f:
            if line.startswith("BENCH_RESULT "):
                res = json.loads(line[len("BENCH_RESULT "):])
    if res is None:
        print(tsv_row({"test": test, "proxy": proxy, "status": "no-wrk-result"}))
        return 1
    ticks, origin_ticks, busy, other0 = snap_delta(snap0, snap1)
    pinned = os.environ.get("BENCH_PIN") == "1"
    wall, hz = float(wall), float(hz)
    cpu_s = ticks / hz if ticks is not None else None
    dur = res["duration_us"] / 1e6
    reqs = res["requests"]
    errors = res["err_connect"] + res["err_read"] + res["err_write"] + res["err_status"] + res["err_timeout"]
    detail = ",".join(f"{k[4:]}={res[k]}" for k in
                      ("err_connect", "err_read", "err_write", "err_status", "err_timeout") if res[k])
    status = "ok" if errors == 0 and reqs > 0 else ("errors" if reqs > 0 else "no-requests")
    if pinned and other0 is not None and other0 > NOISY_PCT:
        detail = ",".join(x for x in (detail, f"other processes used {other0:.0f}% of the proxy's CPU") if x)
        if status == "ok":
            status = "noisy"
    print(tsv_row({
        "test": test, "proxy": proxy,
        "status": status,
        "rps": round(reqs / dur, 1) if dur > 0 else None,
        "p50_ms": round(res["p50_us"] / 1000, 3),
        "p90_ms": round(res["p90_us"] / 1000, 3),
        "p99_ms": round(res["p99_us"] / 1000, 3),
        "max_ms": round(res["max_us"] / 1000, 3),
        "cpu_us_per_req": round(cpu_s * 1e6 / reqs, 2) if reqs and cpu_s is not None else None,
        "cpu_pct": round(100 * cpu_s / wall, 1) if wall > 0 and cpu_s is not None else None,
        "requests": reqs,
        "errors": errors,
        "duration_s": round(dur, 3),
        "note": detail or None,
        "origin_cpu_pct": round(100 * origin_ticks / hz / wall, 1) if wall > 0 else None,
        "proxy_core_busy_pct": busy[0] if len(busy) > 0 else None,
        "load_core_busy_pct": busy[1] if len(busy) > 1 else None,
        "proxy_core_other_pct": other0 if pinned else None,
    }))
    return 0


def cmd_idlerow(proxy, json_text):
    d = json.loads(json_text)
    note = []
    if not d["complete"]:
        note.append(f"only {d['accepted']}/{d['connections']} accepted")
    if d["held_at_end"] < d["accepted"]:
        note.append(f"{d['accepted'] - d['held_at_end']} closed by proxy during test")
    if d["connect_failed"]:
        note.append(f"{d['connect_failed']} connects failed")
    print(tsv_row({
        "test": "idle_10k", "proxy": proxy, "status": "ok" if d["complete"] else "incomplete",
        "accepted": d["accepted"], "rss_before": d["rss_before"], "rss_after": d["rss_after"],
        "bytes_per_conn": d["bytes_per_conn"], "note": "; ".join(note) or None,
    }))
    return 0


# ---------------------------------------------------------------------------------------------------------------
# rounds: a test's measured time is split into several wrk runs (slices), alternated between the proxies; the
# results row of a proxy sums its slices up.

# Columns a slices TSV may have after "round" that are counts over one slice: `aggregate` turns each into a
# per-request figure (the sum over the rounds / requests), under another name, with this many decimals. Any
# other column after "round" is a constant of the test and proxy (e.g. compression.sh's level, body_bytes) and
# is copied from the first slice.
PER_REQUEST_COLUMNS = {"wrk_bytes": ("wire_bytes_per_resp", 0), "minflt": ("minflt_per_req", 2)}


def _float(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def cmd_aggregate(slices_path, test, proxy, extra_note=""):
    """Print the results row of TEST/PROXY from its rows in SLICES_PATH: a TSV whose header is TSV_COLUMNS, then
    "round", then optional extra columns (see PER_REQUEST_COLUMNS); one row per measured wrk run (wrkrow's
    output plus those columns). The row printed is TSV_COLUMNS, then one column per extra column of SLICES (the
    per-request ones renamed), then "rounds": how many slices had requests.

    Requests, errors, measured seconds, CPU time and the per-request columns are summed over the slices
    (req/s = requests / measured seconds, CPU us/req = CPU time / requests); CPU% and the busy/other % of the
    two CPUs are averaged weighted by duration; p50/p90/p99 are the slices' values weighted by their requests
    (wrk's histograms cannot be merged), max_ms is the largest."""
    with open(slices_path) as f:
        header = f.readline().rstrip("\n").split("\t")
        rows = [dict(zip(header, line.rstrip("\n").split("\t"))) for line in f if line.strip()]
    rows = [r for r in rows if r.get("test") == test and r.get("proxy") == proxy]
    extras = header[header.index("round") + 1:]
    valid = [r for r in rows if _float(r.get("requests")) and _float(r.get("duration_s"))]
    out = {"test": test, "proxy": proxy}
    # The slices' notes (wrk error details), without wrkrow's per-slice "other processes used N%" (summed up
    # below); then the caller's note.
    notes = [n for r in rows if r.get("note") not in (None, "", "-") for n in r["note"].split(",")
             if not n.startswith("other processes used")] + ([extra_note] if extra_note else [])
    tail = []
    if valid:
        req = sum(_float(r["requests"]) for r in valid)
        dur = sum(_float(r["duration_s"]) for r in valid)

        def wavg(key, weight):
            pairs = [(_float(r[key]), _float(r[weight])) for r in valid if _float(r.get(key)) is not None]
            w = sum(b for _, b in pairs)
            return round(sum(a * b for a, b in pairs) / w, 3) if w else None

        out.update(
            rps=round(req / dur, 1), requests=int(req), duration_s=round(dur, 3),
            errors=int(sum(_float(r["errors"]) or 0 for r in valid)),
            cpu_us_per_req=wavg("cpu_us_per_req", "requests"),
            p50_ms=wavg("p50_ms", "requests"), p90_ms=wavg("p90_ms", "requests"),
            p99_ms=wavg("p99_ms", "requests"),
            max_ms=max(_float(r["max_ms"]) or 0 for r in valid),
            cpu_pct=wavg("cpu_pct", "duration_s"), origin_cpu_pct=wavg("origin_cpu_pct", "duration_s"),
            proxy_core_busy_pct=wavg("proxy_core_busy_pct", "duration_s"),
            load_core_busy_pct=wavg("load_core_busy_pct", "duration_s"),
            proxy_core_other_pct=wavg("proxy_core_other_pct", "duration_s"))
        statuses = {r["status"] for r in rows}
        out["status"] = ("errors" if out["errors"] or extra_note or len(valid) < len(rows) or "errors" in statuses
                         else "noisy" if "noisy" in statuses else "ok")
        if "noisy" in statuses and out["proxy_core_other_pct"] is not None:
            notes.append(f"other processes used {out['proxy_core_other_pct']:.0f}% of the proxy's CPU"
                         + (" (average of the rounds)" if len(valid) > 1 else ""))
    else:
        # Nothing measured: the slices' own status when they all agree (e.g. no-wrk-result), else "failed".
        statuses = {r["status"] for r in rows}
        out["status"] = statuses.pop() if len(statuses) == 1 and not extra_note else "failed"
    out["note"] = "; ".join(dict.fromkeys(n.replace("\t", " ") for n in notes)) or None
    for col in extras:
        if col in PER_REQUEST_COLUMNS:
            digits = PER_REQUEST_COLUMNS[col][1]
            vals = [_float(r.get(col)) for r in valid]
            v = None
            if valid and all(x is not None for x in vals):
                v = sum(vals) / req
                v = round(v) if digits == 0 else round(v, digits)
            tail.append(v)
        else:
            tail.append(rows[0].get(col) if rows else None)
    tail.append(len(valid))
    print("\t".join([tsv_row(out)] + ["-" if v in (None, "") else str(v) for v in tail]))
    return 0


# ---------------------------------------------------------------------------------------------------------------
# summary


TEST_TITLES = {
    "ka_1k": "a. keep-alive, 64 connections, 1 KiB",
    "ka_100k": "b. keep-alive, 64 connections, 100 KiB",
    "close_1k": "c. new connection per request (Connection: close), 1 KiB",
    "c1024_1k": "d. keep-alive, 1024 connections, 1 KiB",
    "idle_10k": "e. memory of 10,000 idle client connections",
}
PROXIES = ["nginx", "haproxy", "portico"]


def _num(v):
    if v in ("", "-", None):
        return None
    try:
        return int(v)
    except ValueError:
        pass
    try:
        return float(v)
    except ValueError:
        return v


def _fmt(v, digits=1):
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    if isinstance(v, int) or abs(v) >= 1000:
        return f"{v:,.0f}"  # thousands separators, no decimals
    return f"{v:.{digits}f}"


def _ratio(a, b):
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b != 0:
        return a / b
    return None


def cmd_summarize(tsv_path, json_path, meta_path):
    rows = []
    with open(tsv_path) as f:
        header = f.readline().rstrip("\n").split("\t")
        for line in f:
            if line.strip():
                rows.append(dict(zip(header, line.rstrip("\n").split("\t"))))
    meta = {}
    if os.path.exists(meta_path):
        with open(meta_path) as f:
            meta = json.load(f)

    results = {}  # test -> proxy -> dict
    for r in rows:
        rec = {k: _num(v) for k, v in r.items() if k not in ("test", "proxy", "status", "note")}
        rec["status"] = r.get("status", "")
        if r.get("note") not in (None, "", "-"):
            rec["note"] = r["note"]
        results.setdefault(r["test"], {})[r["proxy"]] = rec

    ratios = {}
    for test in [t for t in TEST_TITLES if t in results]:
        by = results[test]
        print()
        print(f"== {TEST_TITLES[test]}")
        if test == "idle_10k":
            cols = ["proxy", "accepted", "RSS before", "RSS after", "bytes/conn", "status"]
            fmt = "{:<9} {:>9} {:>12} {:>12} {:>11}  {}"
            print(fmt.format(*cols))
            for p in PROXIES:
                if p not in by:
                    continue
                d = by[p]
                print(fmt.format(p, _fmt(d.get("accepted"), 0), _fmt(d.get("rss_before"), 0),
                                 _fmt(d.get("rss_after"), 0), _fmt(d.get("bytes_per_conn"), 0), d["status"]))
            keys = [("bytes_per_conn", "bytes/conn")]
        else:
            cols = ["proxy", "req/s", "p50 ms", "p99 ms", "CPU us/req", "proxy CPU%", "busy P/L %",
                    "errors", "status"]
            fmt = "{:<9} {:>10} {:>8} {:>8} {:>11} {:>10} {:>13} {:>7}  {}"
            print(fmt.format(*cols))
            for p in PROXIES:
                if p not in by:
                    continue
                d = by[p]
                busy = "-"
                if d.get("proxy_core_busy_pct") is not None and d.get("load_core_busy_pct") is not None:
                    busy = f"{d['proxy_core_busy_pct']:.0f}/{d['load_core_busy_pct']:.0f}"
                print(fmt.format(p, _fmt(d.get("rps"), 0), _fmt(d.get("p50_ms"), 2), _fmt(d.get("p99_ms"), 2),
                                 _fmt(d.get("cpu_us_per_req"), 1), _fmt(d.get("cpu_pct"), 0), busy,
                                 _fmt(d.get("errors"), 0), d["status"]))
            keys = [("rps", "req/s"), ("cpu_us_per_req", "CPU/req"), ("p99_ms", "p99")]
        port = by.get("portico", {})
        ratios[test] = {}
        parts = []
        for other in ("nginx", "haproxy"):
            o = by.get(other, {})
            for key, label in keys:
                r = _ratio(port.get(key), o.get(key))
                ratios[test][f"portico/{other}:{key}"] = round(r, 3) if r is not None else None
                parts.append(f"{label} {r:.2f}" if r is not None else f"{label} n/a")
        n = len(keys)
        print(f"  Portico/nginx:   " + ", ".join(parts[:n]))
        print(f"  Portico/HAProxy: " + ", ".join(parts[n:]))

    noisy = sorted({f"{t}/{p}" for t, by in results.items() for p, d in by.items() if d["status"] == "noisy"})
    if noisy:
        print()
        print(f"noisy: other processes used more than {NOISY_PCT:.0f}% of the proxy's CPU during "
              f"{', '.join(noisy)} (proxy_core_other_pct in results.tsv); rerun on a quiet machine.")

    with open(json_path, "w") as f:
        json.dump({"meta": meta, "results": results, "ratios": ratios}, f, indent=2, sort_keys=True)
        f.write("\n")
    return 0


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[1], argv[2:]
    fn = {
        "freeports": cmd_freeports,
        "waitport": cmd_waitport,
        "cpu": cmd_cpu,
        "snap": cmd_snap,
        "idle": cmd_idle,
        "summarize": cmd_summarize,
        "tsvheader": cmd_tsvheader,
        "row": cmd_row,
        "wrkrow": cmd_wrkrow,
        "idlerow": cmd_idlerow,
        "aggregate": cmd_aggregate,
    }.get(cmd)
    if fn is None:
        print(f"unknown subcommand {cmd!r}\n{__doc__}", file=sys.stderr)
        return 2
    return fn(*args) or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
