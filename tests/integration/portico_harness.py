"""Shared pieces of the integration tests: real origins on 127.0.0.1, the real `portico` binary, a raw client.

Everything binds port 0 and waits on conditions with deadlines, never on fixed sleeps.
"""
import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

PORTICO_BIN = os.environ.get(
    "PORTICO_BIN", os.path.join(os.path.dirname(__file__), "..", "..", "build", "host", "portico"))
TIMEOUT = 20.0  # generous: CI also runs this under AddressSanitizer on a loaded 2-core machine


def wait_until(condition, timeout=TIMEOUT, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def free_port_refused():
    """A port with nothing listening: bind to get one from the kernel, then close it."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ---- HTTP/1.1 reading helpers (both origin and client side) ----------------------------------------------------

class Reader:
    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()
        self.eof = False

    def fill(self):
        data = self.sock.recv(1 << 20)
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def read_until(self, marker, limit=1 << 20):
        while True:
            i = self.buf.find(marker)
            if i >= 0:
                out = bytes(self.buf[:i + len(marker)])
                del self.buf[:i + len(marker)]
                return out
            if len(self.buf) > limit or not self.fill():
                return None

    def read_exact(self, n, sink=None):
        """Reads n bytes; with a sink (callable) streams them there instead of returning them."""
        out = bytearray() if sink is None else None
        while n > 0:
            if not self.buf and not self.fill():
                raise EOFError("connection closed with %d bytes missing" % n)
            take = min(n, len(self.buf))
            chunk = bytes(self.buf[:take])
            del self.buf[:take]
            if sink is None:
                out += chunk
            else:
                sink(chunk)
            n -= take
        return bytes(out) if out is not None else b""

    def read_to_eof(self, sink=None):
        out = bytearray()
        while True:
            if self.buf:
                chunk = bytes(self.buf)
                self.buf.clear()
                if sink:
                    sink(chunk)
                else:
                    out += chunk
            if not self.fill():
                return bytes(out)


def parse_head(raw):
    lines = raw.decode("latin-1").split("\r\n")
    start = lines[0]
    headers = []
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers.append((name, value.strip()))
    return start, headers


def header(headers, name, default=None):
    for n, v in headers:
        if n.lower() == name.lower():
            return v
    return default


def headers_named(headers, name):
    return [v for n, v in headers if n.lower() == name.lower()]


def read_chunked(reader, sink=None):
    body = bytearray()
    while True:
        line = reader.read_until(b"\r\n")
        if line is None:
            raise EOFError("closed inside chunked body")
        size = int(line.split(b";")[0], 16)
        if size == 0:
            trailers = []
            while True:
                t = reader.read_until(b"\r\n")
                if t is None:
                    raise EOFError("closed inside trailers")
                if t == b"\r\n":
                    return bytes(body), trailers
                name, _, value = t.decode("latin-1").strip().partition(":")
                trailers.append((name, value.strip()))
        data = reader.read_exact(size, sink)
        if sink is None:
            body += data
        if reader.read_exact(2) != b"\r\n":
            raise AssertionError("chunk not followed by CRLF")


class Response:
    def __init__(self, status, headers, body, trailers=(), interim=(), raw_head=b""):
        self.status, self.headers, self.body = status, headers, body
        self.trailers, self.interim, self.raw_head = list(trailers), list(interim), raw_head

    def header(self, name, default=None):
        return header(self.headers, name, default)


def read_response(reader, method="GET", sink=None):
    """Reads one response (skipping 1xx, which are kept in .interim); None if the peer closed first."""
    interim = []
    while True:
        raw = reader.read_until(b"\r\n\r\n")
        if raw is None:
            return None
        start, headers = parse_head(raw)
        status = int(start.split(" ")[1])
        if 100 <= status < 200 and status != 101:
            interim.append(status)
            continue
        break
    te = header(headers, "transfer-encoding")
    cl = header(headers, "content-length")
    trailers = []
    if method == "HEAD" or status in (101, 204, 304):
        body = b""
    elif te and "chunked" in te.lower():
        body, trailers = read_chunked(reader, sink)
    elif cl is not None:
        body = reader.read_exact(int(cl), sink)
    else:
        body = reader.read_to_eof(sink)
    return Response(status, headers, body, trailers, interim, raw)


# ---- origins ----------------------------------------------------------------------------------------------------

class Request:
    def __init__(self, method, target, version, headers, raw_head):
        self.method, self.target, self.version, self.headers, self.raw_head = method, target, version, headers, raw_head
        self.body = b""
        self.body_len = 0
        self.sha256 = hashlib.sha256()
        self.trailers = []

    def header(self, name, default=None):
        return header(self.headers, name, default)


def origin_read_request(reader, keep_body_up_to=1 << 20):
    raw = reader.read_until(b"\r\n\r\n", limit=1 << 20)
    if raw is None:
        return None
    start, headers = parse_head(raw)
    method, target, version = start.split(" ", 2)
    req = Request(method, target, version, headers, raw)
    kept = bytearray()

    def sink(chunk):
        req.body_len += len(chunk)
        req.sha256.update(chunk)
        if len(kept) < keep_body_up_to:
            kept.extend(chunk[:keep_body_up_to - len(kept)])

    te = req.header("transfer-encoding")
    if te and "chunked" in te.lower():
        _, req.trailers = read_chunked(reader, sink)
    elif req.header("content-length"):
        reader.read_exact(int(req.header("content-length")), sink)
    req.body = bytes(kept)
    return req


def respond(conn, status, body=b"", headers=(), reason="OK"):
    head = f"HTTP/1.1 {status} {reason}\r\n"
    for n, v in headers:
        head += f"{n}: {v}\r\n"
    if status not in (204, 304) and not any(n.lower() in ("content-length", "transfer-encoding") for n, _ in headers):
        head += f"Content-Length: {len(body)}\r\n"
    conn.sendall(head.encode("latin-1") + b"\r\n" + body)


def echo_handler(origin, req, conn):
    """200 with a JSON description of what arrived."""
    body = json.dumps({
        "origin": origin.name, "method": req.method, "target": req.target, "version": req.version,
        "headers": req.headers, "body_len": req.body_len, "sha256": req.sha256.hexdigest(),
        "body": req.body.decode("latin-1") if req.body_len < 4096 else None, "trailers": req.trailers,
    }).encode()
    if req.method == "HEAD":
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body))
    else:
        respond(conn, 200, body, [("Content-Type", "application/json")])


class Origin:
    """A threaded HTTP/1.1 origin on 127.0.0.1:0. handler(origin, request, conn) writes the response and may
    return "close" to end the connection."""

    def __init__(self, handler=echo_handler, name="origin"):
        self.handler, self.name = handler, name
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(512)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.requests = []
        self.raw_bytes = 0
        self.lock = threading.Lock()
        self.stopped = False
        self.conns = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
                self.conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        conn.settimeout(60)
        reader = Reader(conn)
        try:
            while True:
                req = origin_read_request(reader)
                if req is None:
                    with self.lock:
                        self.raw_bytes += len(reader.buf)
                    return
                with self.lock:
                    self.requests.append(req)
                if self.handler(self, req, conn) == "close":
                    return
        except (OSError, EOFError, ValueError):
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def stop(self):
        self.stopped = True
        try:
            self.sock.close()
        except OSError:
            pass
        with self.lock:
            for c in self.conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                    c.close()
                except OSError:
                    pass


# ---- portico ----------------------------------------------------------------------------------------------------

def toml_config(upstreams, routes=None, workers=2, server="", timeouts="", limits="", extra=""):
    """upstreams: {name: [port, ...]}; routes: list of (match-inline-table or "", upstream[, extra lines])."""
    text = f"""
[server]
workers = {workers}
access_log = {{ path = "stdout", format = "combined" }}
error_log = {{ path = "stderr", level = "debug" }}
{server}
[timeouts]
{timeouts}
[limits]
{limits}
[listener.http]
bind = "127.0.0.1:0"
"""
    for name, ports in upstreams.items():
        endpoints = ", ".join(f'"127.0.0.1:{p}"' for p in ports)
        text += f"\n[upstream.{name}]\nendpoints = [{endpoints}]\n"
    if routes is None:
        routes = [("", next(iter(upstreams)))]
    for route in routes:
        match, upstream = route[0], route[1]
        text += "\n[[route]]\n"
        if match:
            text += f"match = {match}\n"
        text += f'upstream = "{upstream}"\n'
        if len(route) > 2:
            text += route[2] + "\n"
    return text + extra


class Portico:
    def __init__(self, config_text, check_listening=True):
        self.dir = tempfile.mkdtemp(prefix="portico-test-")
        with open(os.path.join(self.dir, "portico.toml"), "w") as f:
            f.write(config_text)
        self.stdout_lines, self.stderr_lines = [], []
        self.proc = subprocess.Popen([PORTICO_BIN, "-c", self.dir], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.pid = self.proc.pid
        self.pumps = [threading.Thread(target=self._pump, args=(self.proc.stdout, self.stdout_lines), daemon=True),
                      threading.Thread(target=self._pump, args=(self.proc.stderr, self.stderr_lines), daemon=True)]
        for pump in self.pumps:
            pump.start()
        self.port = None
        if check_listening:
            match = self.wait_for_log(r"listener (\S+) listening on (\S+):(\d+)")
            self.port = int(match.group(3))

    @staticmethod
    def _pump(stream, lines):
        for line in iter(stream.readline, b""):
            lines.append(line.decode("utf-8", "replace").rstrip("\n"))

    def stderr_text(self):
        return "\n".join(self.stderr_lines)

    def stdout_text(self):
        return "\n".join(self.stdout_lines)

    def wait_for_log(self, pattern, timeout=TIMEOUT, stream="stderr"):
        regex = re.compile(pattern)
        lines = self.stderr_lines if stream == "stderr" else self.stdout_lines
        found = []

        def seen():
            for line in list(lines):
                m = regex.search(line)
                if m:
                    found.append(m)
                    return True
            if self.proc.poll() is not None:
                raise AssertionError(f"portico exited ({self.proc.returncode}) before logging {pattern!r}:\n"
                                     + self.stderr_text())
            return False
        wait_until(seen, timeout, f"log line {pattern!r}")
        return found[0]

    def rss(self):
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS")

    def stop(self, expect_clean=True):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("portico did not exit within 60 s of SIGTERM")
        for pump in self.pumps:  # the last lines, up to EOF
            pump.join(timeout=10)
        self.proc.stdout.close()
        self.proc.stderr.close()
        if expect_clean:
            text = self.stderr_text()
            assert "AddressSanitizer" not in text and "runtime error:" not in text, text
            assert code == 0, f"portico exited with {code}:\n{text}"
        return code


class ProxyTest(unittest.TestCase):
    """Base class: self.origin(s) and self.portico are stopped after each test."""

    def setUp(self):
        self._origins = []
        self._porticos = []

    def tearDown(self):
        errors = []
        for p in self._porticos:
            try:
                p.stop()
            except AssertionError as e:
                errors.append(str(e))
        for o in self._origins:
            o.stop()
        if errors:
            raise AssertionError("\n".join(errors))

    def start_origin(self, handler=echo_handler, name="origin"):
        o = Origin(handler, name)
        self._origins.append(o)
        return o

    def start_portico(self, config_text):
        p = Portico(config_text)
        self._porticos.append(p)
        return p

    def proxy_for(self, *origins, **kwargs):
        return self.start_portico(toml_config({"app": [o.port for o in origins]}, **kwargs))

    # client side
    def connect(self, portico):
        s = socket.create_connection(("127.0.0.1", portico.port), timeout=TIMEOUT)
        return s

    def exchange(self, portico, raw, method="GET"):
        """Sends raw bytes on a new connection and reads one response."""
        with self.connect(portico) as s:
            s.sendall(raw)
            return read_response(Reader(s), method)

    def get(self, portico, path="/", host="example.com", headers="", method="GET", body=b""):
        extra = f"Content-Length: {len(body)}\r\n" if body else ""
        raw = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\n{headers}{extra}Connection: close\r\n\r\n".encode()
        return self.exchange(portico, raw + body, method)

    def assert_closed(self, sock, timeout=TIMEOUT):
        """The peer closes: recv returns b"" (or a reset) within the timeout, after any pending bytes."""
        sock.settimeout(timeout)
        try:
            while True:
                data = sock.recv(65536)
                if not data:
                    return
        except ConnectionResetError:
            return
        except socket.timeout:
            self.fail("connection was not closed")
