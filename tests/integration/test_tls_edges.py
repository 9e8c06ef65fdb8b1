"""Edge cases of the host-driven TLS transport (host/plugins/transport_conn.*, host/proxy/session.cc, plugins/tls),
found in review: each test describes one defect it caught (all failed before their fixes): the end of a response
lost to a timer while still ciphertext, a bare FIN taken for the end of a close-delimited body, a cut response
ended with close_notify, a TLS 1.3 half-close that lost the response, a silent connection that held up shutdown,
undefined behaviour in TLS health checks.

Everything runs on 127.0.0.1 with ports from the kernel; every wait has a deadline. The tests use harness.py and,
read-only, tls_support.py (certificates, the TLS origin, client contexts).
"""

import fcntl
import os
import socket
import ssl
import struct
import sys
import termios
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (  # noqa: E402
    IO_TIMEOUT, SCALE, WAIT_TIMEOUT, ConnectionClosed, build_path, chunked_cut_short_handler, echo_handler,
    hold_handler, main, request_bytes, wait_until)
from tls_support import (  # noqa: E402
    TlsCase, certificates, client_context, tls_listener, tls_upstream)

# TLS 1.3 with AES-GCM or ChaCha20: a record adds a 5-byte header, the inner content type and a 16-byte tag.
RECORD_OVERHEAD = 22


class TlsEdgeCase(TlsCase):
    """The edge cases start portico like test_tls.py does (tls_support.TlsCase)."""


# ---------------------------------------------------------------------------------------------------------------
# 1. The last TLS record of a response is dropped when a timer ends the connection before it left wire_out_
# ---------------------------------------------------------------------------------------------------------------

def _proxy_tx_queue(proxy_port, client_port):
    """Bytes queued in the kernel on the proxy's side of the connection from client_port (/proc/net/tcp)."""
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            parts = line.split()
            local, remote = parts[1].split(":"), parts[2].split(":")
            if int(local[1], 16) == proxy_port and int(remote[1], 16) == client_port:
                return int(parts[4].split(":")[0], 16)
    return 0


def _accepted(proxy, client):
    """The proxy has accept()ed the connection of `client`: its side has an inode among the proxy's fds."""
    client_port = client.getsockname()[1]
    inode = None
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            parts = line.split()
            if int(parts[1].split(":")[1], 16) == proxy.port and int(parts[2].split(":")[1], 16) == client_port:
                inode = parts[9]
    if inode in (None, "0"):
        return False
    try:
        return any(os.readlink(f"/proc/{proxy.pid}/fd/{fd}") == f"socket:[{inode}]"
                   for fd in os.listdir(f"/proc/{proxy.pid}/fd"))
    except OSError:
        return False


class StallTail(TlsEdgeCase):
    """A client that stops reading for a few seconds near the end of a response.

    Over plain TCP the host calls a response sent once every byte is in the kernel, so a later close loses
    nothing. Over TLS the ciphertext of the last record may still sit in TransportConn::wire_out_ (the kernel took
    only part of it) when the session calls the response done (client_out_ empty); the session then moves on to
    timers that do not look at wire_out_:
      * Connection: close -> Phase::Linger, whose timer is a fixed 2 s (kLingerTime) and is never re-armed on
        progress (session.cc update_timers / start_linger): at 2 s close() makes one non-blocking attempt
        (flush_now) and closes;
      * keep-alive -> Phase::Head with the client_idle timer.
    Either way the rest of the last record is dropped, and the client can decrypt nothing of that record: the
    response is cut (up to 16 KiB of plaintext) though the access log says it was sent whole. A client that
    pauses 2-3 s (a phone changing cells) or reads slower than ~16 KiB/s hits it.

    The tests make the state deterministic: the origin sends most of the body (A), the proxy pushes it all into the
    kernel while the client reads nothing (the kernel's room is measured first from /proc/net/tcp with the same
    socket options), then the origin sends the last 16000 bytes (B, one record), of which the kernel takes only part.
    """

    B = 16000

    def setUp(self):
        super().setUp()
        self.go = threading.Event()

    def handler(self, request, conn):
        # /A/B: send A body bytes at once, then (when B > 0) wait for the test and send B more.
        _, a, b = request.target.split("/")
        a, b = int(a), int(b)
        conn.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n"
                  % (a + b) + b"a" * a)
        if b:
            self.go.wait(WAIT_TIMEOUT)
            self.go.clear()
            conn.send(b"b" * b)
        return request.wants_keep_alive()

    def connect(self, proxy):
        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # A small receive window and segment size keep the proxy's kernel send buffer small (~250 KB) and steady.
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 536)
        raw.settimeout(IO_TIMEOUT)
        raw.connect(("127.0.0.1", proxy.port))
        tls = client_context(self.certs.ca).wrap_socket(raw, server_hostname="a.test")
        self.addCleanup(tls.close)
        return tls

    def queued(self, proxy, tls):
        """Bytes on their way to the client: in the proxy's kernel send queue plus the client's receive queue."""
        inq = struct.unpack("i", fcntl.ioctl(tls.fileno(), termios.FIONREAD, b"\0\0\0\0"))[0]
        return inq + _proxy_tx_queue(proxy.port, tls.getsockname()[1])

    def settled(self, proxy, tls):
        """The queued byte count once it stopped changing (5 equal samples 0.1 s apart)."""
        state = {"last": -1, "same": 0}

        def stable():
            q = self.queued(proxy, tls)
            state["same"] = state["same"] + 1 if q == state["last"] else 0
            state["last"] = q
            return state["same"] >= 5
        wait_until(stable, interval=0.1, what="the proxy's send queue to settle")
        return state["last"]

    def request_bytes(self, a, b, close):
        return (b"GET /%d/%d HTTP/1.1\r\nHost: a.test\r\n" % (a, b)
                + (b"Connection: close\r\n" if close else b"") + b"\r\n")

    def read_all(self, tls, want):
        data = bytearray()
        tls.settimeout(IO_TIMEOUT)
        try:
            while True:
                head, sep, body = bytes(data).partition(b"\r\n\r\n")
                if sep and len(body) >= want:
                    break
                chunk = tls.recv(65536)
                if not chunk:
                    break
                data += chunk
        except (ssl.SSLError, OSError):
            pass
        head, _, body = bytes(data).partition(b"\r\n\r\n")
        return head, body

    def run_stall(self, close, stall):
        origin = self.start_origin(self.handler)
        timeouts = {} if close else {"client_idle": "1s"}
        proxy = self.start_proxy({"https": tls_listener([self.certs.a_ecdsa])}, {"app": [origin]},
                                 timeouts=timeouts)
        # How much the kernel takes before the proxy gets EAGAIN, and what precedes a response body on the wire
        # (session tickets, the head, record overhead): both measured with the same socket options.
        tls = self.connect(proxy)
        tls.sendall(self.request_bytes(3_000_000, 0, True))
        room = self.settled(proxy, tls)
        tls.close()
        tls = self.connect(proxy)
        tls.sendall(self.request_bytes(50_000, 0, True))
        before_body = self.settled(proxy, tls) - 50_000
        tls.close()

        margin = 6000  # room left after A: less than B's record, so the kernel takes only part of it
        for attempt in range(5):
            a = room - margin - before_body
            a -= RECORD_OVERHEAD * ((a - 50_000) // 16384 + 1)
            tls = self.connect(proxy)
            tls.sendall(self.request_bytes(a, self.B, close))
            after_a = self.settled(proxy, tls)
            expected_a = before_body + a + RECORD_OVERHEAD * ((a - 50_000) // 16384 + 1)
            self.go.set()
            after_b = self.settled(proxy, tls)
            if after_a < expected_a - 1000:
                margin += 4000  # A itself did not fit: the proxy was still holding part of it
            elif after_b - after_a >= self.B:
                margin -= 2000  # the kernel took all of B: no tail left in the proxy
            else:
                break
            tls.close()
        else:
            self.skipTest("could not make the kernel take only part of the last record")

        # The proxy now holds the tail of B's record in wire_out_, and the response is complete on its side.
        time.sleep(stall)
        head, body = self.read_all(tls, a + self.B)
        self.assertTrue(head.startswith(b"HTTP/1.1 200 "), head[:100])
        self.assertEqual(len(body), a + self.B,
                         f"the response was cut: {a + self.B - len(body)} of its last bytes never arrived "
                         f"(the end of the last TLS record was still in the proxy when it closed)")
        self.assertEqual(body[-self.B:], b"b" * self.B)

    def test_connection_close_response_survives_a_3s_client_stall(self):
        """Connection: close over TLS: the lingering close's fixed 2 s timer closes the connection while the last
        record's ciphertext waits in wire_out_ (session.cc start_linger / update_timers Phase::Linger)."""
        self.run_stall(close=True, stall=3.0)

    def test_keep_alive_response_survives_the_idle_timer(self):
        """Keep-alive over TLS with client_idle = 1s: the response is 'done' once client_out_ is empty, the idle
        timer starts while the last record's ciphertext waits in wire_out_, and closes the connection under it
        (session.cc update_timers Phase::Head: client_output_pending() is only looked at in Phase::Forward)."""
        self.run_stall(close=False, stall=2.5)


# ---------------------------------------------------------------------------------------------------------------
# 2. A close-delimited response from a TLS origin cut by a bare TCP FIN passes as complete
# ---------------------------------------------------------------------------------------------------------------

class CloseDelimitedOverTls(TlsEdgeCase):
    """An origin over TLS answers with a body delimited by the end of the connection (no Content-Length, not
    chunked). Only its close_notify says the body is whole: a TCP FIN without it (an attacker's injected FIN, a
    crash) is a truncation that HTTP framing cannot see (RFC 9112 9.8: such a response "is complete only if a
    valid closure alert has been received").

    The tls plugin maps peer_eof after the handshake to PORTICO_IO_CLOSE ("HTTP's framing tells whether a body was
    cut short", connection.cc on_input), TransportConn::read turns both a close_notify and a bare EOF into
    Result::Closed, and Session::read_upstream sets upstream_eof_ for both; pump_response_body (UntilClose) then
    ends the body cleanly: the HTTP/1.1 client gets a terminating zero-size chunk, and the proxy logs nothing.
    Fix: tell the two apart (e.g. Result::Closed only for close_notify, a bare EOF as upstream_error_ when the
    body is close-delimited, so the response is marked truncated and the client connection cut)."""

    def cut_handler(self, request, conn):
        conn.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nfirst part of the body, ")
        # A FIN at the TCP level, under the TLS layer: no close_notify.
        raw = socket.socket(fileno=os.dup(conn.sock.fileno()))
        try:
            raw.shutdown(socket.SHUT_RDWR)
        finally:
            raw.close()
        return False

    def test_bare_fin_does_not_complete_a_close_delimited_response(self):
        origin = self.start_tls_origin(self.certs.origin, self.cut_handler)
        upstream = tls_upstream([origin], ca=self.certs.origin_ca.cert, sni="origin.test")
        proxy = self.start_proxy({"http": {"bind": "127.0.0.1:0"}}, {"app": upstream})
        client = self.client(proxy)
        client.send(b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")
        try:
            response = client.read_response()
        except ConnectionClosed:
            return  # the cut reached the client: what is expected
        self.fail(f"a close-delimited body cut without close_notify was passed on as complete "
                  f"(chunked={response.chunked}, body={response.body!r})")


class CutResponseToHttp10Client(TlsEdgeCase):
    """The reverse direction of the same rule: to an HTTP/1.0 client the proxy delimits a chunked or
    close-delimited response by closing (ClientFraming::UntilClose), so over TLS its close_notify is the only
    statement that the body is whole. When the origin's response is cut (here a chunked body whose connection
    closes before the last chunk), the session knows it (response_truncated_, "response cut short; closing the
    client" in the log) but still ends through close_after_response -> start_linger -> shut_client_write ->
    TransportConn::shutdown_write -> on_shutdown, i.e. with a clean close_notify: the client takes the cut body for
    the whole one. (A response cut after it began through respond_error/close() gets no close_notify, rightly.)
    Fix: after a truncated response close without on_shutdown (flush what is pending, then the FIN only)."""

    def test_cut_response_to_http10_client_ends_without_close_notify(self):
        origin = self.start_origin(chunked_cut_short_handler())
        proxy = self.start_proxy({"https": tls_listener([self.certs.a_ecdsa])}, {"app": [origin]})
        raw = socket.create_connection(("127.0.0.1", proxy.port), timeout=IO_TIMEOUT)
        tls = client_context(self.certs.ca).wrap_socket(raw, server_hostname="a.test", suppress_ragged_eofs=False)
        self.addCleanup(tls.close)
        tls.sendall(b"GET / HTTP/1.0\r\nHost: a.test\r\n\r\n")
        received = bytearray()
        clean_end = False
        try:
            while True:
                data = tls.recv(65536)
                if not data:
                    clean_end = True  # close_notify
                    break
                received += data
        except (ssl.SSLError, OSError):
            pass  # EOF without close_notify, or a reset: the client can tell the body was cut
        self.assertTrue(received.startswith(b"HTTP/1.1 200 "), bytes(received[:200]))
        proxy.wait_for_log("response cut short")
        self.assertFalse(clean_end, "a response the proxy knew was cut ended with a close_notify, which tells an "
                                    "HTTP/1.0 client its close-delimited body is complete")


# ---------------------------------------------------------------------------------------------------------------
# 3. A TLS 1.3 client's close_notify after its request loses the response
# ---------------------------------------------------------------------------------------------------------------

class ClientCloseNotify(TlsEdgeCase):
    """In TLS 1.3 close_notify closes only the sender's direction (RFC 8446 6.1: "This does not have any effect on
    its read side of the connection"): a client may send its request, then close_notify, and read the response.
    A TCP half-close (shutdown(SHUT_WR)) already works that way through the proxy.

    With close_notify, the tls plugin answers at once with its own (connection.cc read_input, SSL_ERROR_ZERO_RETURN
    -> SSL_shutdown), after which every SSL_write fails: the response that comes from the origin later makes
    on_output return PORTICO_IO_ERROR, Session::flush_client closes the connection, and the client gets nothing
    (while the access log records "200" and the body size). Fix: under TLS 1.3 treat the peer's close_notify as the
    end of its input only (PORTICO_IO_CLOSE without SSL_shutdown) and send ours when the host shuts our direction
    (shutdown_write), as it already does before the FIN."""

    def test_response_arrives_after_the_clients_close_notify(self):
        origin = self.start_origin(hold_handler())
        proxy = self.start_proxy({"https": tls_listener([self.certs.a_ecdsa])}, {"app": [origin]})
        sock = socket.create_connection(("127.0.0.1", proxy.port), timeout=IO_TIMEOUT)
        self.addCleanup(sock.close)
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        context = client_context(self.certs.ca)
        context.minimum_version = ssl.TLSVersion.TLSv1_3
        tls = context.wrap_bio(incoming, outgoing, server_hostname="a.test")

        def flush():
            data = outgoing.read()
            if data:
                sock.sendall(data)

        while True:
            try:
                tls.do_handshake()
                flush()
                break
            except ssl.SSLWantReadError:
                flush()
                data = sock.recv(65536)
                self.assertTrue(data, "the proxy closed during the handshake")
                incoming.write(data)
        self.assertEqual(tls.version(), "TLSv1.3")
        tls.write(b"GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n")
        flush()
        origin.wait_for_requests(1)
        try:
            tls.unwrap()  # our close_notify; we go on reading
        except ssl.SSLWantReadError:
            pass
        flush()
        received = bytearray()
        state = {"ended": False}

        def read_for(seconds, until):
            deadline = time.monotonic() + seconds
            sock.settimeout(0.1)
            while time.monotonic() < deadline and not until() and not state["ended"]:
                try:
                    data = sock.recv(65536)
                except socket.timeout:
                    continue
                if not data:
                    state["ended"] = True
                    break
                incoming.write(data)
                try:
                    while True:
                        plain = tls.read(65536)
                        if not plain:
                            break
                        received.extend(plain)
                except ssl.SSLWantReadError:
                    pass
                except ssl.SSLError:  # the proxy's close_notify (or an error): nothing more will come
                    state["ended"] = True

        # Today the proxy answers our close_notify at once with its own: let the origin answer only after that
        # (or after a short while, when no close_notify comes, as it should be), so the order is deterministic.
        read_for(1.0 * SCALE, lambda: False)
        origin.release.set()
        read_for(WAIT_TIMEOUT, lambda: b"\r\n\r\n" in received)
        self.assertTrue(received.startswith(b"HTTP/1.1 200 "),
                        f"no response after the client's close_notify (got {bytes(received[:200])!r})")


# ---------------------------------------------------------------------------------------------------------------
# 4. A TLS connection that has sent nothing is not idle: it holds up a graceful shutdown
# ---------------------------------------------------------------------------------------------------------------

class SilentConnectionAtShutdown(TlsEdgeCase):
    """At SIGTERM a worker closes its idle connections and waits (up to drain_timeout) for the busy ones. A plain
    connection that has sent nothing yet is idle (Session::idle: Phase::Head, nothing buffered) and is closed at
    once. On a TLS listener TransportConn::idle() requires handshake_done_, so the same connection, which has not
    even sent its ClientHello, counts as busy: begin_drain only clears keep_alive_, and the process waits for the
    client_header timer or the whole drain_timeout. Any client that opens a TCP connection to port 443 and stays
    silent delays every shutdown (and, at a reload, keeps the old generation running; it is not handed over either).
    Fix: a TransportConn that has received no byte (and emitted none) is idle too."""

    def test_silent_tls_connection_does_not_hold_up_shutdown(self):
        origin = self.start_origin()
        proxy = self.start_proxy({"https": tls_listener([self.certs.a_ecdsa])}, {"app": [origin]},
                                 server={"drain_timeout": "20s"}, timeouts={"client_header": "60s"})
        silent = socket.create_connection(("127.0.0.1", proxy.port), timeout=IO_TIMEOUT)
        self.addCleanup(silent.close)
        wait_until(lambda: _accepted(proxy, silent), what="the proxy to accept the silent connection")
        limit = min(5.0 * SCALE, 15.0)
        started = time.monotonic()
        proxy.terminate()
        try:
            proxy.wait_exit(limit)
        except AssertionError:
            self.fail(f"portico did not exit within {limit:.0f}s of SIGTERM: a TLS connection that never sent a "
                      f"byte was waited for as if it were busy (drain_timeout is 20s)")
        self.assertLess(time.monotonic() - started, limit)


# ---------------------------------------------------------------------------------------------------------------
# 5. Undefined behaviour in the health checker's TLS path (fatal under the project's sanitizer build)
# ---------------------------------------------------------------------------------------------------------------

class HealthCheckOverTls(TlsEdgeCase):
    """HealthChecker::Probe::exchange_tls copies what the transport decrypted into its head buffer with
    `std::memcpy(buffer_.data() + received_, in_.data(), n)` on every pass of its loop, also when nothing was
    decrypted: then `in_` holds no pool block and in_.data() is a null pointer (n == 0). memcpy with a null source
    is undefined behaviour even for 0 bytes; the sanitizer build (-fno-sanitize-recover=undefined, what
    tests/run-all.sh runs) aborts the whole process on the first check of any TLS upstream
    ("health_checker.cc:123: runtime error: null pointer passed as argument 2"). Fix: skip the copy when n == 0.
    (test_tls.py's test_health_checks_go_over_tls fails under ASan/UBSan for this reason alone.)"""

    def test_tls_health_check_does_not_take_the_process_down(self):
        origin = self.start_tls_origin(self.certs.origin, None)
        upstream = tls_upstream([origin], ca=self.certs.origin_ca.cert, sni="origin.test")
        upstream["health"] = {"path": "/health", "interval": "1s", "timeout": "900ms", "rise": 1, "fall": 3}
        proxy = self.start_proxy({"http": {"bind": "127.0.0.1:0"}}, {"app": upstream})
        wait_until(lambda: proxy.proc.poll() is not None
                   or sum(r.target == "/health" for r in origin.complete_requests()) >= 2,
                   what="two health checks over TLS (or portico's exit)")
        self.assertIsNone(proxy.proc.poll(), "portico died during a health check over TLS:\n"
                          + proxy.stderr_text()[-2000:])
        self.assertEqual(self.client(proxy).request("GET", "/").status, 200)


class IdleUpstreamCloseOverTls(TlsEdgeCase):
    """A pooled TLS connection closed for being idle (upstream_idle) ends with our close_notify, so the origin can
    tell a clean end from a cut (before: a bare FIN)."""

    def test_idle_pooled_connection_is_closed_with_close_notify(self):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.certs.origin.cert, self.certs.origin.key)
        listener = socket.create_server(("127.0.0.1", 0))
        self.addCleanup(listener.close)
        listener.settimeout(WAIT_TIMEOUT)
        ends = []

        def serve():
            raw, _ = listener.accept()
            conn = context.wrap_socket(raw, server_side=True, suppress_ragged_eofs=False)
            conn.settimeout(WAIT_TIMEOUT)
            try:
                head = b""
                while b"\r\n\r\n" not in head:
                    head += conn.recv(4096)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                ends.append("clean" if conn.recv(4096) == b"" else "data")  # close_notify: recv gives b""
            except ssl.SSLEOFError:
                ends.append("bare FIN")
            except OSError as error:
                ends.append(f"error: {error}")
            finally:
                conn.close()

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        port = listener.getsockname()[1]
        upstream = tls_upstream([f"127.0.0.1:{port}"], ca=self.certs.origin_ca.cert, sni="origin.test")
        proxy = self.start_proxy({"http": {"bind": "127.0.0.1:0"}}, {"app": upstream},
                                 timeouts={"upstream_idle": "300ms"})
        self.assertEqual(self.client(proxy).request("GET", "/").status, 200)
        wait_until(lambda: ends, what="the origin seeing the pooled connection end")
        self.assertEqual(ends, ["clean"])


class AnyTransport(TlsEdgeCase):
    """The transport layer serves any TRANSPORT plugin, not just tls: the identity fixture (bytes unchanged) carries
    HTTP, and one that breaks the contract (delivering past backpressure) costs its connection, with a warning,
    not unbounded memory."""

    PLUGIN_DIR = build_path("tests", "fixtures", "plugins", "identity_transport")

    def start_identity(self, **keys):
        origin = self.start_origin(echo_handler())
        return self.start_proxy({"id": {"bind": "127.0.0.1:0", "transport": dict({"use": "identity"}, **keys)}},
                                {"app": [origin]}, server={"plugin_dirs": [self.PLUGIN_DIR]})

    def test_http_through_an_identity_transport(self):
        proxy = self.start_identity()
        client = self.client(proxy)
        body = bytes(range(256)) * 4096  # 1 MiB: the host's buffers fill and drain many times
        response = client.request("POST", "/up", host="a.test", body=body)
        self.assertEqual(response.status, 200, response)
        self.assertEqual(response.json()["body_length"], len(body))
        self.assertEqual(client.request("GET", "/again", host="a.test").status, 200)

    def test_a_plugin_that_ignores_backpressure_loses_its_connection(self):
        proxy = self.start_identity(flood=10)
        client = self.client(proxy)
        client.send(request_bytes("POST", "/flood", "a.test", (), b"x" * 32768))
        with self.assertRaises(ConnectionClosed):
            client.read_response("POST")
        proxy.wait_for_log(r"listener id: transport identity_transport\.identity: the plugin delivered past "
                           r"backpressure \(more than 64 KiB\); connection closed")
        self.assertEqual(self.client(proxy).request("GET", "/small", host="a.test").status, 200)


if __name__ == "__main__":
    main()
