"""Graceful shutdown: on SIGTERM the proxy stops taking new connections, lets in-flight requests finish, and exits 0
within server.drain_timeout."""

import os
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (  # noqa: E402
    WAIT_TIMEOUT, ConnectionClosed, PorticoCase, echo_handler, hold_handler, main, request_bytes)


class GracefulShutdownTest(PorticoCase):

    def _new_connections_refused(self, port, timeout=10.0):
        """Polls until a new connection to `port` is refused. True if it was within `timeout`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                probe = socket.create_connection(("127.0.0.1", port), timeout=2)
            except ConnectionRefusedError:
                return True
            except OSError:
                return True
            probe.close()
            time.sleep(0.02)  # polling interval for the condition, not a wait for an event
        return False

    def test_sigterm_lets_inflight_request_finish(self):
        origin = self.start_origin(hold_handler())
        proxy = self.start_portico(upstreams={"app": [origin]}, server={"drain_timeout": "20s"})
        client = self.client(proxy)
        client.send(request_bytes("GET", "/in-flight"))
        self.assertTrue(origin.entered.wait(WAIT_TIMEOUT), "request never reached the origin")

        started = time.monotonic()
        proxy.terminate()
        refused = self._new_connections_refused(proxy.port)
        late = None
        if not refused:
            # Still accepting in the kernel: a request on a connection made now must at least not be served.
            late = self.client(proxy)
            late.send(request_bytes("GET", "/late"))
        origin.release.set()

        response = client.read_response()
        self.assertEqual(response.status, 200, response)
        self.assertEqual(response.json()["target"], "/in-flight")
        code = proxy.wait_exit(20 + WAIT_TIMEOUT)
        elapsed = time.monotonic() - started
        proxy.check_clean_exit()
        self.assertEqual(code, 0)
        self.assertLess(elapsed, 20, "exit took longer than drain_timeout")
        if late is not None:
            data = late.read_until_close()
            self.assertFalse(data.startswith(b"HTTP/1.1 200"), "a connection made after SIGTERM was served")
        self.assertEqual([r.target for r in origin.requests], ["/in-flight"])

    def test_sigterm_lets_inflight_request_finish_with_one_worker(self):
        origin = self.start_origin(hold_handler())
        proxy = self.start_portico(upstreams={"app": [origin]}, server={"drain_timeout": "20s", "workers": 1})
        client = self.client(proxy)
        client.send(request_bytes("GET", "/in-flight"))
        self.assertTrue(origin.entered.wait(WAIT_TIMEOUT), "request never reached the origin")
        proxy.terminate()
        self.assertTrue(self._new_connections_refused(proxy.port), "still accepting 10 s after SIGTERM")
        origin.release.set()
        response = client.read_response()
        self.assertEqual(response.status, 200, response)
        self.assertEqual(proxy.wait_exit(20 + WAIT_TIMEOUT), 0)
        proxy.check_clean_exit()

    def test_sigterm_lets_inflight_request_body_upload_finish(self):
        origin = self.start_origin(echo_handler())
        proxy = self.start_portico(upstreams={"app": [origin]}, server={"drain_timeout": "20s"})
        client = self.client(proxy)
        body = os.urandom(200000)
        client.send(request_bytes("PUT", "/upload", content_length=len(body)) + body[:1000])
        origin.wait_for_requests(1, complete=False)
        proxy.terminate()
        self.assertTrue(self._new_connections_refused(proxy.port), "still accepting 10 s after SIGTERM")
        client.send(body[1000:])
        response = client.read_response()
        self.assertEqual(response.status, 200, response)
        self.assertEqual(response.json()["body_length"], len(body))
        self.assertEqual(proxy.wait_exit(20 + WAIT_TIMEOUT), 0)
        proxy.check_clean_exit()

    def test_drain_timeout_bounds_shutdown(self):
        origin = self.start_origin(hold_handler())
        proxy = self.start_portico(upstreams={"app": [origin]}, server={"drain_timeout": "2s"})
        client = self.client(proxy)
        client.send(request_bytes("GET", "/never"))
        self.assertTrue(origin.entered.wait(WAIT_TIMEOUT), "request never reached the origin")
        started = time.monotonic()
        proxy.terminate()
        code = proxy.wait_exit(2 + WAIT_TIMEOUT)
        elapsed = time.monotonic() - started
        proxy.check_clean_exit()
        self.assertEqual(code, 0)
        self.assertGreaterEqual(elapsed, 1.5, "exited without waiting for the in-flight request")
        self.assertLess(elapsed, 2 + 10, "exit took far longer than drain_timeout")
        try:
            data = client.read_until_close()
        except ConnectionClosed:
            data = b""
        self.assertFalse(data.startswith(b"HTTP/1.1 200"), "the held request cannot have been answered")

    def test_sigterm_closes_idle_keepalive_connections_promptly(self):
        origin = self.start_origin(echo_handler())
        proxy = self.start_portico(upstreams={"app": [origin]}, server={"drain_timeout": "30s"})
        client = self.client(proxy)
        self.assertEqual(client.request("GET", "/").status, 200)
        started = time.monotonic()
        proxy.terminate()
        client.assert_closed(timeout=10)
        self.assertEqual(proxy.wait_exit(30 + WAIT_TIMEOUT), 0)
        proxy.check_clean_exit()
        self.assertLess(time.monotonic() - started, 10, "an idle keep-alive connection held up the shutdown")

    def test_sigterm_when_idle_exits_zero_promptly(self):
        origin = self.start_origin(echo_handler())
        proxy = self.start_portico(upstreams={"app": [origin]}, server={"drain_timeout": "30s"})
        started = time.monotonic()
        proxy.terminate()
        self.assertEqual(proxy.wait_exit(30 + WAIT_TIMEOUT), 0)
        proxy.check_clean_exit()
        self.assertLess(time.monotonic() - started, 10)

    def test_sigint_drains_and_exits_zero(self):
        origin = self.start_origin(echo_handler())
        proxy = self.start_portico(upstreams={"app": [origin]})
        client = self.client(proxy)
        self.assertEqual(client.request("GET", "/").status, 200)
        proxy.proc.send_signal(signal.SIGINT)
        self.assertEqual(proxy.wait_exit(10 + WAIT_TIMEOUT), 0)
        proxy.check_clean_exit()


if __name__ == "__main__":
    main()
