"""Shared machinery for Portico's integration tests (python3 stdlib only).

* `Origin`: a threaded HTTP/1.1 origin on 127.0.0.1:0 with a pluggable handler. It counts the connections it
  accepted, records every raw byte and every request it received, and has built-in behaviours (echo, fixed or big
  bodies, chunked with trailers, hold until released, close mid-response, 101 + tunnel, ...).
* `Portico`: writes a TOML configuration into a temporary directory, runs `PORTICO_BIN -c DIR`, learns the port
  from the `listener NAME listening on ADDR:PORT` line (or from /proc when the error log hides that line), and on
  stop checks that the process exited 0 after SIGTERM without a sanitizer report.
* `RawClient`: exact bytes out, strict response parsing in (status line, headers, body by CL / chunked / close).
* `PorticoCase`: a unittest.TestCase whose helpers start the above and stop them in reverse order on cleanup.

Rules kept everywhere: only 127.0.0.1, ports from the kernel, every socket operation has a timeout, and waits are
on conditions with a deadline, never on a fixed sleep.
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

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PORTICO_BIN = os.environ.get("PORTICO_BIN") or os.path.join(REPO, "build", "host", "portico")

# Everything is slower under sanitizers on a loaded 2-core machine: waits are generous, but bounded.
SCALE = float(os.environ.get("PORTICO_TEST_TIMEOUT_SCALE", "1"))
IO_TIMEOUT = 20.0 * SCALE      # any single socket operation
WAIT_TIMEOUT = 20.0 * SCALE    # waiting for a condition (log line, connection count, process exit)
START_TIMEOUT = 30.0 * SCALE   # portico printing its listener line

SANITIZER_MARKERS = ("AddressSanitizer", "LeakSanitizer", "ThreadSanitizer", "MemorySanitizer", "runtime error:")
LISTENING_RE = re.compile(r"listener (\S+) listening on (\S+):(\d+)")

KEEP_BODY_LIMIT = 16 << 20  # an origin keeps request bodies up to this size; beyond, only length and hash


def wait_until(predicate, timeout=WAIT_TIMEOUT, interval=0.01, what="condition"):
    """Polls `predicate` until it returns a true value (returned) or the deadline passes (AssertionError)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.1f}s waiting for {what}")
        time.sleep(interval)


def build_path(*parts):
    """A path in the build tree (PORTICO_BUILD_DIR, as ctest sets it, else <repo>/build)."""
    return os.path.join(os.environ.get("PORTICO_BUILD_DIR") or os.path.join(REPO, "build"), *parts)


def refused_port():
    """A port on 127.0.0.1 with nothing listening: bind, learn the port, close."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def header_values(headers, name):
    name = name.lower()
    return [v for (n, v) in headers if n.lower() == name]


def header_tokens(headers, name):
    """Comma-separated tokens of every field `name`, lower-cased."""
    tokens = []
    for value in header_values(headers, name):
        tokens += [t.strip().lower() for t in value.split(",") if t.strip()]
    return tokens


# ---------------------------------------------------------------------------------------------------------------
# Origin side
# ---------------------------------------------------------------------------------------------------------------

class BadMessage(Exception):
    """The bytes the origin received are not a well-formed HTTP/1.1 request (or ended early)."""


class HeaderAccess:
    """Look-ups over self.headers, a [(name, value)] list, shared by requests and responses."""

    def header(self, name, default=None):
        values = header_values(self.headers, name)
        return values[0] if values else default

    def headers_named(self, name):
        return header_values(self.headers, name)

    def tokens(self, name):
        return header_tokens(self.headers, name)


class Request(HeaderAccess):
    """A request as the origin received it."""

    def __init__(self, conn_index, method, target, version, headers, raw_head):
        self.conn_index = conn_index
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers          # [(name, value)] in received order
        self.raw_head = raw_head        # bytes, including the final CRLFCRLF
        self.chunked = False            # body arrived chunked
        self.body = b""                 # None when longer than KEEP_BODY_LIMIT
        self.body_length = 0
        self.body_sha256 = hashlib.sha256(b"").hexdigest()
        self.trailers = []
        self.complete = False           # whole body read per its framing


    def wants_keep_alive(self):
        connection = self.tokens("connection")
        if self.version == "HTTP/1.0":
            return "keep-alive" in connection
        return "close" not in connection

    def to_json(self):
        return {
            "method": self.method,
            "target": self.target,
            "version": self.version,
            "headers": [[n, v] for (n, v) in self.headers],
            "body_length": self.body_length,
            "body_sha256": self.body_sha256,
            "chunked": self.chunked,
            "trailers": [[n, v] for (n, v) in self.trailers],
        }

    def __repr__(self):
        return f"<Request {self.method} {self.target} {self.version} body={self.body_length} complete={self.complete}>"


def parse_head_lines(head, what):
    """Splits a head (bytes without the final CRLFCRLF) into its first line and its [(name, value)] fields,
    strictly: CRLF line ends, no obs-fold, no whitespace before the colon, a token as name."""
    text = head.decode("latin-1")
    lines = text.split("\r\n")
    for line in lines:
        if "\n" in line or "\r" in line:
            raise BadMessage(f"{what}: bare CR or LF in head: {line!r}")
    first, fields = lines[0], []
    for line in lines[1:]:
        if not line or line[0] in " \t":
            raise BadMessage(f"{what}: empty line or obs-fold in head: {line!r}")
        name, sep, value = line.partition(":")
        if not sep or not re.fullmatch(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+", name):
            raise BadMessage(f"{what}: bad field line {line!r}")
        value = value.strip(" \t")
        if re.search(r"[\x00-\x08\x0a-\x1f\x7f]", value):
            raise BadMessage(f"{what}: control character in field {name}")
        fields.append((name, value))
    return first, fields


class OriginConnection:
    """One connection accepted by an Origin; handlers use its send/read helpers."""

    RECV_SIZE = 1 << 20

    def __init__(self, origin, sock, index):
        self.origin = origin
        self.sock = sock
        self.index = index
        self.buf = bytearray()
        self.closed = False
        self._scratch = bytearray(self.RECV_SIZE)

    # -- reading ------------------------------------------------------------------------------------------------
    def _record(self, data):
        self.origin._record_bytes(self.index, data)

    def fill(self):
        """Reads once into the buffer; False at end of stream."""
        n = self.sock.recv_into(self._scratch)
        if n == 0:
            return False
        chunk = memoryview(self._scratch)[:n]
        self._record(chunk)
        self.buf += chunk
        return True

    def read_until(self, delimiter, limit=1 << 20, start_ok_eof=False):
        """Bytes up to and including `delimiter`. None at a clean EOF before any byte if start_ok_eof."""
        searched = 0
        while True:
            pos = self.buf.find(delimiter, max(0, searched - len(delimiter)))
            if pos >= 0:
                end = pos + len(delimiter)
                out = bytes(self.buf[:end])
                del self.buf[:end]
                return out
            searched = len(self.buf)
            if len(self.buf) > limit:
                raise BadMessage("line or head too long")
            if not self.fill():
                if start_ok_eof and not self.buf:
                    return None
                raise BadMessage(f"connection closed before {delimiter!r} ({len(self.buf)} bytes pending)")

    def read_exact(self, n):
        while len(self.buf) < n:
            if not self.fill():
                raise BadMessage(f"connection closed after {len(self.buf)} of {n} bytes")
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def stream_exact(self, n, sink):
        """Feeds exactly n bytes to sink(memoryview) without keeping them: recv_into a reused buffer."""
        if self.buf:
            take = min(n, len(self.buf))
            sink(memoryview(bytes(self.buf[:take])))
            del self.buf[:take]
            n -= take
        view = memoryview(self._scratch)
        while n > 0:
            got = self.sock.recv_into(view[:min(n, len(view))])
            if got == 0:
                raise BadMessage(f"connection closed with {n} body bytes missing")
            self._record(view[:got])
            sink(view[:got])
            n -= got

    def read_request(self):
        """Parses the next request head. None at a clean end of stream between requests."""
        head = self.read_until(b"\r\n\r\n", start_ok_eof=True)
        if head is None:
            return None
        first, fields = parse_head_lines(head[:-4], "request")
        parts = first.split(" ")
        if len(parts) != 3:
            raise BadMessage(f"bad request line {first!r}")
        request = Request(self.index, parts[0], parts[1], parts[2], fields, head)
        return request

    def read_body(self, request):
        """Reads the body of `request` per its framing, keeping length, sha256 and (if small) the bytes."""
        hasher = hashlib.sha256()
        kept = bytearray()
        state = {"length": 0}

        def sink(view):
            hasher.update(view)
            state["length"] += len(view)
            if state["length"] <= KEEP_BODY_LIMIT:
                kept.extend(view)

        te = request.tokens("transfer-encoding")
        cls = request.headers_named("content-length")
        if te:
            if cls:
                raise BadMessage("request with both Transfer-Encoding and Content-Length")
            if te[-1] != "chunked":
                raise BadMessage(f"request transfer-coding {te} does not end in chunked")
            request.chunked = True
            request.trailers = self.read_chunked(sink)
        elif cls:
            if len(set(cls)) != 1 or not re.fullmatch(r"[0-9]+", cls[0]):
                raise BadMessage(f"bad Content-Length {cls}")
            self.stream_exact(int(cls[0]), sink)
        request.body_length = state["length"]
        request.body_sha256 = hasher.hexdigest()
        request.body = bytes(kept) if state["length"] <= KEEP_BODY_LIMIT else None
        request.complete = True

    def read_chunked(self, sink):
        """Strict chunked decoding; returns the trailer fields."""
        while True:
            line = self.read_until(b"\r\n", limit=4096)[:-2]
            size_text = line.split(b";", 1)[0].strip(b" \t")
            if not re.fullmatch(rb"[0-9A-Fa-f]{1,16}", size_text):
                raise BadMessage(f"bad chunk size line {line!r}")
            size = int(size_text, 16)
            if size == 0:
                break
            self.stream_exact(size, sink)
            if self.read_exact(2) != b"\r\n":
                raise BadMessage("chunk data not followed by CRLF")
        trailers = []
        while True:
            line = self.read_until(b"\r\n", limit=65536)[:-2]
            if not line:
                return trailers
            _, fields = parse_head_lines(b"x\r\n" + line, "trailer")
            trailers += fields

    # -- writing ------------------------------------------------------------------------------------------------
    def send(self, data):
        self.sock.sendall(data)

    def send_response(self, status, headers=(), body=b"", reason=None, head_only=False, version="HTTP/1.1",
                      content_length=True):
        reason = reason if reason is not None else REASONS.get(status, "Status")
        lines = [f"{version} {status} {reason}"]
        lines += [f"{n}: {v}" for (n, v) in headers]
        if content_length and not any(n.lower() in ("content-length", "transfer-encoding") for (n, _) in headers):
            lines.append(f"Content-Length: {len(body)}")
        data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.sock.sendall(data if head_only else data + body)


REASONS = {100: "Continue", 101: "Switching Protocols", 103: "Early Hints", 200: "OK", 204: "No Content",
           302: "Found", 304: "Not Modified", 400: "Bad Request", 404: "Not Found", 500: "Internal Server Error"}


def _connection_headers(request):
    return [] if request.wants_keep_alive() else [("Connection", "close")]


# -- built-in handlers: handler(request, conn) -> True to keep the connection open --------------------------------

def echo_handler(extra_headers=()):
    """200 with a JSON description of the request (method, target, headers, body length and sha256)."""

    def handle(request, conn):
        body = json.dumps(request.to_json()).encode()
        headers = [("Content-Type", "application/json")] + list(extra_headers) + _connection_headers(request)
        conn.send_response(200, headers, body, head_only=request.method == "HEAD")
        return request.wants_keep_alive()

    return handle


def fixed_handler(status=200, body=b"", headers=(), reason=None, content_length=True):
    def handle(request, conn):
        conn.send_response(status, list(headers) + _connection_headers(request), body, reason=reason,
                           head_only=request.method == "HEAD", content_length=content_length)
        return request.wants_keep_alive()

    return handle


class PatternBody:
    """A large deterministic body: a random block repeated, each repetition stamped with its index so that a
    duplicated or lost block changes the hash. Senders and checkers share it."""

    def __init__(self, total, block_size=1 << 20, seed=b"portico"):
        self.total = total
        self.block = bytearray(hashlib.sha256(seed).digest() * (block_size // 32))
        self.block_size = block_size

    def blocks(self):
        """Yields memoryviews over the one reused block (do not keep them across iterations)."""
        sent, index = 0, 0
        view = memoryview(self.block)
        while sent < self.total:
            self.block[0:8] = index.to_bytes(8, "big")
            n = min(self.block_size, self.total - sent)
            yield view[:n]
            sent += n
            index += 1

    def sha256(self):
        h = hashlib.sha256()
        for view in self.blocks():
            h.update(view)
        return h.hexdigest()


def big_body_handler(pattern, chunked=False):
    """200 with a `PatternBody`, Content-Length or chunked (one chunk per block)."""

    def handle(request, conn):
        if chunked:
            conn.send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            for view in pattern.blocks():
                conn.send(b"%x\r\n" % len(view))
                conn.send(view)
                conn.send(b"\r\n")
            conn.send(b"0\r\n\r\n")
        else:
            conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % pattern.total)
            for view in pattern.blocks():
                conn.send(view)
        return request.wants_keep_alive()

    return handle


def chunked_handler(chunks, trailers=(), extra_headers=()):
    """200 chunked, with the given chunks and trailer fields."""

    def handle(request, conn):
        head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
        if trailers:
            head += b"Trailer: " + ", ".join(n for n, _ in trailers).encode() + b"\r\n"
        for n, v in extra_headers:
            head += f"{n}: {v}\r\n".encode()
        out = [head + b"\r\n"]
        for chunk in chunks:
            out.append(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
        out.append(b"0\r\n" + b"".join(f"{n}: {v}\r\n".encode() for n, v in trailers) + b"\r\n")
        conn.send(b"".join(out))
        return request.wants_keep_alive()

    return handle


def hold_handler(then=None, limit=None):
    """Sets origin.entered, waits until origin.release is set (or `limit` seconds, default WAIT_TIMEOUT*2), then
    behaves like `then` (default echo)."""
    then = then or echo_handler()

    def handle(request, conn):
        conn.origin.entered.set()
        conn.origin.release.wait(limit if limit is not None else 2 * WAIT_TIMEOUT)
        if conn.origin.stopping:
            return False
        return then(request, conn)

    return handle


def delayed_handler(seconds, then=None):
    """Waits `seconds` before the response head (cut short if origin.release is set), then `then` (echo)."""
    return hold_handler(then, limit=seconds)


def close_mid_response_handler(content_length=100000, send=1000):
    """Promises `content_length` bytes, sends `send` of them and closes."""

    def handle(request, conn):
        conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % content_length + b"x" * send)
        return False

    return handle


def chunked_cut_short_handler(chunks=(b"a" * 1000, b"b" * 1000)):
    """A chunked response that ends (connection closed) before its last chunk."""

    def handle(request, conn):
        data = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        data += b"".join(b"%x\r\n" % len(c) + c + b"\r\n" for c in chunks)
        conn.send(data)
        return False

    return handle


def raw_handler(data, keep_alive=False):
    """Sends exactly `data`; closes unless keep_alive."""

    def handle(request, conn):
        conn.send(data)
        return keep_alive

    return handle


def http10_close_handler(body):
    """An HTTP/1.0-style response: no Content-Length, delimited by closing the connection."""

    def handle(request, conn):
        conn.send(b"HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n" + body)
        return False

    return handle


def leaky_handler():
    """Echo, but advertising the origin's software like a careless origin does."""
    return echo_handler(extra_headers=[("Server", "secret-origin/1.0"), ("X-Powered-By", "PHP")])


def upgrade_echo_handler(greeting=b"hello-from-origin\n"):
    """101 Switching Protocols, a greeting from the origin, then every byte received is echoed back."""

    def handle(request, conn):
        if "upgrade" not in request.tokens("connection") or not request.header("upgrade"):
            conn.send_response(400, [("Connection", "close")], b"expected an upgrade")
            return False
        conn.send(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n" + greeting)
        conn.origin.tunnel_received = bytearray()
        if conn.buf:
            pending = bytes(conn.buf)
            conn.buf.clear()
            conn.origin.tunnel_received += pending
            conn.send(pending)
        while True:
            n = conn.sock.recv_into(conn._scratch)
            if n == 0:
                return False
            data = bytes(conn._scratch[:n])
            conn._record(data)
            conn.origin.tunnel_received += data
            conn.send(data)

    return handle


def early_hints_handler(then=None):
    """A 103 interim response, then `then` (default echo)."""
    then = then or echo_handler()

    def handle(request, conn):
        conn.send(b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\n\r\n")
        return then(request, conn)

    return handle


class Origin:
    """A threaded origin server on 127.0.0.1:0.

    Attributes tests read: port, connections (accepted count), requests (every request whose head arrived, in
    order), bytes_received, raw (per-connection raw bytes, capped), errors (malformed input or I/O errors seen),
    entered / release (Events used by hold_handler).
    """

    RAW_CAP = 1 << 20

    def __init__(self, handler=None, send_100_continue=False, read_body=True, name="origin"):
        self.handler = handler or echo_handler()
        self.send_100_continue = send_100_continue
        self.read_body = read_body
        self.name = name
        self.lock = threading.Condition()
        self.connections = 0
        self.requests = []
        self.bytes_received = 0
        self.raw = {}
        self.errors = []
        self.entered = threading.Event()
        self.release = threading.Event()
        self.stopping = False
        self.tunnel_received = bytearray()
        self._socks = set()
        self._threads = []
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(128)
        self.listener.settimeout(0.2)  # lets the accept loop notice stop()
        self.port = self.listener.getsockname()[1]
        self.address = f"127.0.0.1:{self.port}"
        self._accept_thread = threading.Thread(target=self._accept_loop, name=f"{name}-accept", daemon=True)
        self._accept_thread.start()

    # -- bookkeeping --------------------------------------------------------------------------------------------
    def _record_bytes(self, index, data):
        with self.lock:
            self.bytes_received += len(data)
            raw = self.raw.setdefault(index, bytearray())
            if len(raw) < self.RAW_CAP:
                raw += bytes(data[:self.RAW_CAP - len(raw)])
            self.lock.notify_all()

    def raw_bytes(self):
        with self.lock:
            return b"".join(bytes(self.raw[i]) for i in sorted(self.raw))

    def complete_requests(self):
        with self.lock:
            return [r for r in self.requests if r.complete]

    def wait_for_requests(self, n, timeout=WAIT_TIMEOUT, complete=True):
        def enough():
            with self.lock:
                got = [r for r in self.requests if r.complete or not complete]
                return got if len(got) >= n else None
        return wait_until(enough, timeout, what=f"{n} request(s) at {self.name}")

    def wait_for_connections(self, n, timeout=WAIT_TIMEOUT):
        return wait_until(lambda: self.connections >= n, timeout, what=f"{n} connection(s) at {self.name}")

    # -- serving ------------------------------------------------------------------------------------------------
    def _accept_loop(self):
        while not self.stopping:
            try:
                sock, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            sock.settimeout(max(IO_TIMEOUT, 120.0))  # idle pooled upstream connections wait here; stop() unblocks
            with self.lock:
                if self.stopping:
                    sock.close()
                    return
                index = self.connections
                self.connections += 1
                self._socks.add(sock)
                self.lock.notify_all()
            thread = threading.Thread(target=self._serve, args=(sock, index), name=f"{self.name}-conn{index}",
                                      daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, sock, index):
        conn = OriginConnection(self, sock, index)
        try:
            while not self.stopping:
                request = conn.read_request()
                if request is None:
                    break
                with self.lock:
                    self.requests.append(request)
                    self.lock.notify_all()
                if (self.send_100_continue and "100-continue" in request.tokens("expect")
                        and request.version == "HTTP/1.1"):
                    conn.send(b"HTTP/1.1 100 Continue\r\n\r\n")
                if self.read_body:
                    conn.read_body(request)
                if not self.handler(request, conn):
                    break
        except (BadMessage, OSError) as error:
            if not self.stopping:
                with self.lock:
                    self.errors.append(f"conn{index}: {type(error).__name__}: {error}")
        finally:
            with self.lock:
                self._socks.discard(sock)
            try:
                sock.close()
            except OSError:
                pass

    def stop(self):
        self.stopping = True
        self.release.set()
        try:
            self.listener.close()
        except OSError:
            pass
        with self.lock:
            socks = list(self._socks)
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._accept_thread.join(5)
        for thread in self._threads:
            thread.join(5)


class SilentListener:
    """Listens (so connects succeed in the kernel) but never accepts: a backend that is alive but dead."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.address = f"127.0.0.1:{self.port}"

    def stop(self):
        self.sock.close()


# ---------------------------------------------------------------------------------------------------------------
# Client side
# ---------------------------------------------------------------------------------------------------------------

class ConnectionClosed(AssertionError):
    def __init__(self, message, partial=b""):
        super().__init__(message)
        self.partial = partial


class Response(HeaderAccess):
    def __init__(self, version, status, reason, headers, raw_head):
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers
        self.raw_head = raw_head
        self.body = b""
        self.trailers = []
        self.chunked = False
        self.close_delimited = False
        self.interim = []      # 1xx responses that came before this one
        self.raw = raw_head    # every byte of this response (head + body as framed), for content checks


    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<Response {self.status} {self.reason!r} headers={self.headers} body={self.body[:200]!r}>"


def request_bytes(method="GET", target="/", host="example.com", headers=(), body=b"", version="HTTP/1.1",
                  content_length=None):
    """Builds a request. Host is added unless host is None; Content-Length when there is a body (or given)."""
    lines = [f"{method} {target} {version}"]
    if host is not None:
        lines.append(f"Host: {host}")
    lines += [f"{n}: {v}" for (n, v) in headers]
    has_framing = any(n.lower() in ("content-length", "transfer-encoding") for (n, _) in headers)
    if content_length is not None:
        lines.append(f"Content-Length: {content_length}")
    elif body and not has_framing:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def chunk_encode(chunks, trailers=()):
    out = b"".join(b"%x\r\n" % len(c) + c + b"\r\n" for c in chunks if c)
    return out + b"0\r\n" + b"".join(f"{n}: {v}\r\n".encode() for n, v in trailers) + b"\r\n"


class RawClient:
    """A client socket to 127.0.0.1:port: send exact bytes, read strictly framed responses."""

    def __init__(self, port, timeout=IO_TIMEOUT, connect=True):
        self.port = port
        self.timeout = timeout
        self.buf = bytearray()
        self.sock = None
        if connect:
            self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._scratch = bytearray(1 << 20)

    def send(self, data):
        self.sock.sendall(data)

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass

    # -- low-level reads ----------------------------------------------------------------------------------------
    def _fill(self, timeout=None):
        """Reads once into the buffer; False at end of stream (a reset counts as the end)."""
        self.sock.settimeout(timeout if timeout is not None else self.timeout)
        try:
            n = self.sock.recv_into(self._scratch)
        except (ConnectionResetError, ConnectionAbortedError):
            return False
        if n == 0:
            return False
        self.buf += memoryview(self._scratch)[:n]
        return True

    def _take_until(self, delimiter, what, limit=1 << 20):
        searched = 0
        while True:
            pos = self.buf.find(delimiter, max(0, searched - len(delimiter)))
            if pos >= 0:
                end = pos + len(delimiter)
                out = bytes(self.buf[:end])
                del self.buf[:end]
                return out
            searched = len(self.buf)
            if searched > limit:
                raise AssertionError(f"{what}: no {delimiter!r} within {limit} bytes")
            if not self._fill():
                partial = bytes(self.buf)
                raise ConnectionClosed(f"connection closed while reading {what} (got {partial[:300]!r})", partial)

    def _take_exact(self, n, what):
        while len(self.buf) < n:
            if not self._fill():
                partial = bytes(self.buf)
                raise ConnectionClosed(f"connection closed while reading {what}: {len(partial)} of {n} bytes",
                                       partial)
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def recv_some(self, timeout=None):
        """Whatever arrives next (b'' at end of stream)."""
        if self.buf:
            out = bytes(self.buf)
            self.buf.clear()
            return out
        if not self._fill(timeout):
            return b""
        out = bytes(self.buf)
        self.buf.clear()
        return out

    def read_exact(self, n):
        return self._take_exact(n, "data")

    def read_until_close(self, timeout=WAIT_TIMEOUT):
        """Every byte until the peer closes; AssertionError if it has not closed within `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"connection still open after {timeout:.1f}s "
                                     f"(got {len(self.buf)} bytes: {bytes(self.buf[:200])!r})")
            try:
                if not self._fill(left):
                    out = bytes(self.buf)
                    self.buf.clear()
                    return out
            except socket.timeout:
                continue

    def assert_closed(self, timeout=WAIT_TIMEOUT, allow_data=False):
        """Asserts the peer closes within `timeout`; returns any bytes that came first."""
        data = self.read_until_close(timeout)
        if data and not allow_data:
            raise AssertionError(f"expected the connection to close with nothing more, got {data[:300]!r}")
        return data

    def is_closed_now(self):
        """True if the peer has closed (non-blocking check); False if open with nothing pending."""
        self.sock.settimeout(0)
        try:
            data = self.sock.recv(65536, socket.MSG_PEEK)
            return data == b""
        except (BlockingIOError, socket.timeout):
            return False
        except (ConnectionResetError, ConnectionAbortedError):
            return True
        finally:
            self.sock.settimeout(self.timeout)

    # -- responses ----------------------------------------------------------------------------------------------
    def read_response_head(self):
        head = self._take_until(b"\r\n\r\n", "response head")
        first, fields = parse_head_lines(head[:-4], "response")
        m = re.fullmatch(r"(HTTP/\d\.\d) (\d{3})(?: (.*))?", first)
        if not m:
            raise AssertionError(f"bad status line {first!r}")
        return Response(m.group(1), int(m.group(2)), m.group(3) or "", fields, head)

    def read_response(self, method="GET", interim=True, read_body=True):
        """Reads one response. 1xx responses (except 101) are collected in .interim and skipped unless
        interim=False, in which case the first response (possibly 1xx) is returned."""
        collected = []
        while True:
            response = self.read_response_head()
            if 100 <= response.status < 200 and response.status != 101 and interim:
                collected.append(response)
                continue
            break
        response.interim = collected
        if read_body:
            self.read_body(response, method)
        return response

    def read_body(self, response, method="GET"):
        status = response.status
        if method == "HEAD" or 100 <= status < 200 or status in (204, 304):
            return response
        raw = [response.raw_head]
        te = response.tokens("transfer-encoding")
        cls = response.headers_named("content-length")
        if te:
            if te[-1] != "chunked":
                response.close_delimited = True
                response.body = self.read_until_close()
                raw.append(response.body)
            else:
                response.chunked = True
                body = bytearray()
                while True:
                    line = self._take_until(b"\r\n", "chunk size line", limit=4096)
                    raw.append(line)
                    size_text = line[:-2].split(b";", 1)[0].strip(b" \t")
                    if not re.fullmatch(rb"[0-9A-Fa-f]{1,16}", size_text):
                        raise AssertionError(f"bad chunk size line from the proxy: {line!r}")
                    size = int(size_text, 16)
                    if size == 0:
                        break
                    data = self._take_exact(size + 2, "chunk data")
                    if data[-2:] != b"\r\n":
                        raise AssertionError("chunk data from the proxy not followed by CRLF")
                    raw.append(data)
                    body += data[:-2]
                trailer_block = bytearray()
                while True:
                    line = self._take_until(b"\r\n", "trailer", limit=65536)
                    raw.append(line)
                    if line == b"\r\n":
                        break
                    trailer_block += line
                if trailer_block:
                    _, response.trailers = parse_head_lines(b"x\r\n" + bytes(trailer_block[:-2]), "trailers")
                response.body = bytes(body)
        elif cls:
            if len(set(cls)) != 1 or not re.fullmatch(r"[0-9]+", cls[0]):
                raise AssertionError(f"bad Content-Length from the proxy: {cls}")
            response.body = self._take_exact(int(cls[0]), "response body")
            raw.append(response.body)
        else:
            response.close_delimited = True
            response.body = self.read_until_close()
            raw.append(response.body)
        response.raw = b"".join(raw)
        return response

    def stream_body(self, n, sink):
        """Feeds exactly n body bytes to sink(memoryview), reading with recv_into (for big downloads)."""
        if self.buf:
            take = min(n, len(self.buf))
            sink(memoryview(bytes(self.buf[:take])))
            del self.buf[:take]
            n -= take
        view = memoryview(self._scratch)
        self.sock.settimeout(self.timeout)
        while n > 0:
            got = self.sock.recv_into(view[:min(n, len(view))])
            if got == 0:
                raise ConnectionClosed(f"connection closed with {n} body bytes missing")
            sink(view[:got])
            n -= got

    def request(self, method="GET", target="/", host="example.com", headers=(), body=b"", version="HTTP/1.1"):
        self.send(request_bytes(method, target, host, headers, body, version))
        return self.read_response(method)


# ---------------------------------------------------------------------------------------------------------------
# Portico
# ---------------------------------------------------------------------------------------------------------------

def _toml_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r") + '"'


def toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML form for {value!r}")


def to_toml(config):
    """Serialises the config dict: top-level dicts are [tables] (or [table.NAME] when every value is a table,
    like listener and upstream), lists of dicts are [[arrays of tables]], nested dicts are inline tables."""
    out = []
    for section, body in config.items():
        if isinstance(body, list):
            for item in body:
                out.append(f"[[{section}]]")
                out += [f"{k} = {toml_value(v)}" for k, v in item.items()]
                out.append("")
        elif body and all(isinstance(v, dict) for v in body.values()) and section in ("listener", "upstream"):
            for name, table in body.items():
                out.append(f"[{section}.{name}]")
                out += [f"{k} = {toml_value(v)}" for k, v in table.items()]
                out.append("")
        else:
            out.append(f"[{section}]")
            out += [f"{k} = {toml_value(v)}" for k, v in body.items()]
            out.append("")
    return "\n".join(out)


def _merge(base, extra):
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict) and key not in ("upstream", "listener"):
            _merge(base[key], value)
        else:
            base[key] = value
    return base


def endpoint(x):
    """An origin, a port number or an 'ip:port' string, as an endpoint string; in a {"address": ..., "weight": ...}
    table, its address."""
    if isinstance(x, dict):
        return {**x, "address": endpoint(x["address"])}
    if isinstance(x, int):
        return f"127.0.0.1:{x}"
    if isinstance(x, str):
        return x
    return x.address


def make_config(upstreams, routes=None, **sections):
    """A complete configuration: upstreams = {name: [origin|port|"ip:port", ...]}, routes = [route dicts]
    (default: everything to the first upstream), sections = {"server": {...}, "timeouts": {...}, ...} merged
    over the defaults. An upstream value may also be a dict of keys (with "endpoints")."""
    config = {
        "server": {
            "workers": 2,
            "drain_timeout": "10s",
            "access_log": {"path": "stdout", "format": "combined"},
            "error_log": {"path": "stderr", "level": "information"},
        },
        "timeouts": {},
        "limits": {},
        "listener": {"http": {"bind": "127.0.0.1:0"}},
        "upstream": {},
    }
    for name, value in upstreams.items():
        if isinstance(value, dict):
            table = dict(value)
            table["endpoints"] = [endpoint(e) for e in table["endpoints"]]
        else:
            table = {"endpoints": [endpoint(e) for e in value]}
        config["upstream"][name] = table
    _merge(config, sections)
    if not config["timeouts"]:
        del config["timeouts"]
    if not config["limits"]:
        del config["limits"]
    config["route"] = routes if routes is not None else [
        {"match": {"prefix": "/"}, "upstream": next(iter(upstreams))}]
    return config


def parse_duration(text):
    m = re.fullmatch(r"(\d+)(ms|s|m)", text)
    if not m:
        return 10.0
    return int(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60}[m.group(2)]


def run_portico(args, timeout=WAIT_TIMEOUT):
    """Runs the binary to completion (for -t, -v); returns CompletedProcess with text output."""
    return subprocess.run([PORTICO_BIN] + list(args), capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


class Portico:
    """The proxy under test, as a subprocess."""

    def __init__(self, config, listener="http", discover="log", files=None):
        """config: a dict for make_config's shape (serialised to portico.toml) or a TOML string.
        discover: "log" (the listener line) or "proc" (listening sockets in /proc, when the log hides it).
        files: extra {filename: text} written beside portico.toml."""
        if not os.access(PORTICO_BIN, os.X_OK):
            raise AssertionError(f"portico binary not found or not executable: {PORTICO_BIN} (set PORTICO_BIN)")
        self.config = config
        self.listener = listener
        self.tmp = tempfile.TemporaryDirectory(prefix="portico-it-")
        self.dir = self.tmp.name
        self.config_path = os.path.join(self.dir, "portico.toml")
        text = config if isinstance(config, str) else to_toml(config)
        with open(self.config_path, "w") as f:
            f.write(text)
        for name, body in (files or {}).items():
            with open(os.path.join(self.dir, name), "w") as f:
                f.write(body)
        drain = "10s"
        if isinstance(config, dict):
            drain = config.get("server", {}).get("drain_timeout", drain)
        self.drain_timeout = parse_duration(drain)
        self._out = []
        self._err = []
        self._cond = threading.Condition()
        self.exit_code = None
        self.ports = {}
        self.port = None
        self.proc = subprocess.Popen([PORTICO_BIN, "-c", self.dir], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL)
        self.pid = self.proc.pid
        self._readers = [threading.Thread(target=self._read, args=(self.proc.stdout, self._out), daemon=True),
                         threading.Thread(target=self._read, args=(self.proc.stderr, self._err), daemon=True)]
        for reader in self._readers:
            reader.start()
        try:
            if discover == "log":
                self._discover_from_log()
            else:
                self._discover_from_proc()
        except BaseException:
            self.kill()
            raise

    def _read(self, stream, lines):
        for raw in iter(stream.readline, b""):
            with self._cond:
                lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def _discover_from_log(self):
        deadline = time.monotonic() + START_TIMEOUT
        with self._cond:
            while True:
                for line in self._err + self._out:
                    m = LISTENING_RE.search(line)
                    if m:
                        self.ports[m.group(1)] = int(m.group(3))
                if self.listener in self.ports:
                    self.port = self.ports[self.listener]
                    return
                if self.proc.poll() is not None:
                    raise AssertionError(f"portico exited with {self.proc.returncode} before listening:\n"
                                         + "\n".join(self._err + self._out))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"portico did not log 'listener {self.listener} listening on' within "
                                         f"{START_TIMEOUT:.0f}s:\n" + "\n".join(self._err))
                self._cond.wait(min(left, 0.2))

    def _discover_from_proc(self):
        def find():
            if self.proc.poll() is not None:
                raise AssertionError(f"portico exited with {self.proc.returncode}:\n" + self.stderr_text())
            ports = listening_ports(self.pid)
            return ports
        ports = wait_until(find, START_TIMEOUT, interval=0.02, what="portico's listening socket in /proc")
        self.port = sorted(ports)[0]
        self.ports[self.listener] = self.port

    # -- output -------------------------------------------------------------------------------------------------
    def stderr_lines(self):
        with self._cond:
            return list(self._err)

    def stdout_lines(self):
        with self._cond:
            return list(self._out)

    def stderr_text(self):
        return "\n".join(self.stderr_lines())

    def stdout_text(self):
        return "\n".join(self.stdout_lines())

    def wait_for_log(self, regex, timeout=WAIT_TIMEOUT, stream="stderr", count=1):
        """Waits until `count` lines of `stream` ("stderr", "stdout" or "both") match `regex`; returns them."""
        pattern = re.compile(regex)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                lines = {"stderr": self._err, "stdout": self._out, "both": self._err + self._out}[stream]
                found = [line for line in lines if pattern.search(line)]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {count} line(s) matching {regex!r} on {stream} within {timeout:.1f}s;"
                                         f" {stream} was:\n" + "\n".join(lines[-50:]))
                self._cond.wait(min(left, 0.2))

    def rss(self):
        """Resident set size in bytes (VmRSS)."""
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS in /proc status")

    # -- lifecycle ----------------------------------------------------------------------------------------------
    def terminate(self):
        """Sends SIGTERM (does not wait)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def wait_exit(self, timeout):
        """Waits for the process to exit; returns its exit code (AssertionError if it does not exit in time)."""
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"portico did not exit within {timeout:.1f}s")
        self._close_pipes(WAIT_TIMEOUT)
        self.exit_code = code
        return code

    def _close_pipes(self, timeout):
        for reader in self._readers:
            reader.join(timeout)
        for stream in (self.proc.stdout, self.proc.stderr):
            try:
                stream.close()
            except OSError:
                pass

    def check_clean_exit(self):
        """The process must have exited 0 and reported nothing from a sanitizer."""
        text = self.stderr_text() + "\n" + self.stdout_text()
        for marker in SANITIZER_MARKERS:
            if marker in text:
                raise AssertionError(f"portico reported {marker!r}:\n{self.stderr_text()[-8000:]}")
        if self.exit_code != 0:
            raise AssertionError(f"portico exited with {self.exit_code} (expected 0); stderr:\n"
                                 + self.stderr_text()[-8000:])

    def stop(self):
        """SIGTERM, wait (drain_timeout plus slack), assert a clean exit 0. Idempotent."""
        if self.exit_code is None:
            self.terminate()
            try:
                self.wait_exit(self.drain_timeout + WAIT_TIMEOUT)
            except AssertionError:
                self.kill()
                raise
        self.check_clean_exit()
        self.tmp.cleanup()
        return self.exit_code

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._close_pipes(5)
        if self.exit_code is None:
            self.exit_code = self.proc.returncode
        self.tmp.cleanup()


def listening_ports(pid):
    """Ports of TCP sockets in LISTEN state owned by process `pid` (from /proc)."""
    inodes = set()
    fd_dir = f"/proc/{pid}/fd"
    try:
        names = os.listdir(fd_dir)
    except OSError:
        return set()
    for name in names:
        try:
            link = os.readlink(os.path.join(fd_dir, name))
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    ports = set()
    try:
        with open(f"/proc/{pid}/net/tcp") as f:
            next(f)
            for line in f:
                parts = line.split()
                if parts[3] == "0A" and parts[9] in inodes:
                    ports.add(int(parts[1].split(":")[1], 16))
    except OSError:
        return set()
    return ports


# ---------------------------------------------------------------------------------------------------------------
# Test case base
# ---------------------------------------------------------------------------------------------------------------

class PorticoCase(unittest.TestCase):
    """Helpers that start things and register their cleanup (clients close, then portico stops with its exit
    checked, then origins stop)."""

    def setUp(self):
        self._origins = []

    def start_origin(self, handler=None, **kwargs):
        origin = Origin(handler, **kwargs)
        self._origins.append(origin)
        self.addCleanup(origin.stop)
        return origin

    def start_portico(self, config=None, upstreams=None, routes=None, discover="log", files=None, **sections):
        if config is None:
            config = make_config(upstreams, routes, **sections)
        proxy = Portico(config, discover=discover, files=files)
        self.addCleanup(proxy.stop)
        # Runs before proxy.stop (cleanups are LIFO): a held origin lets in-flight requests finish, so the drain
        # does not have to wait for drain_timeout.
        self.addCleanup(lambda: [o.release.set() for o in self._origins])
        return proxy

    def proxy_for(self, handler=None, origin_kwargs=None, **sections):
        """One origin with `handler`, one portico routing everything to it."""
        origin = self.start_origin(handler, **(origin_kwargs or {}))
        proxy = self.start_portico(upstreams={"app": [origin]}, **sections)
        return origin, proxy

    def client(self, proxy_or_port, timeout=IO_TIMEOUT):
        port = proxy_or_port if isinstance(proxy_or_port, int) else proxy_or_port.port
        c = RawClient(port, timeout)
        self.addCleanup(c.close)
        return c

    def assert_no_origin_address(self, data, origins):
        """`data` (bytes) must not name any origin: neither '127.0.0.1:PORT' nor the port number alone."""
        text = data.decode("latin-1")
        for o in origins:
            port = o if isinstance(o, int) else o.port
            self.assertNotIn(f"127.0.0.1:{port}", text, "response names the origin's address")
            self.assertIsNone(re.search(rf"(?<![0-9]){port}(?![0-9])", text),
                              f"response contains the origin's port {port}:\n{text[:2000]}")


def main():
    unittest.main(verbosity=2)
