"""A dead or misbehaving backend becomes a 502/504 or a closed connection, never a hang; a refused endpoint is
skipped for idempotent requests; a non-idempotent request is never sent twice."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (  # noqa: E402
    WAIT_TIMEOUT, ConnectionClosed, PorticoCase, RawClient, SilentListener, chunked_cut_short_handler,
    close_mid_response_handler, echo_handler, hold_handler, main, raw_handler, refused_port, request_bytes)


class BackendFailuresTest(PorticoCase):

    def test_refused_connection_is_502(self):
        proxy = self.start_portico(upstreams={"app": [refused_port()]})
        client = self.client(proxy)
        started = time.monotonic()
        response = client.request("GET", "/")
        self.assertEqual(response.status, 502, response)
        self.assertLess(time.monotonic() - started, WAIT_TIMEOUT / 2)

    def test_client_connection_survives_502_or_is_closed_cleanly(self):
        proxy = self.start_portico(upstreams={"app": [refused_port()]})
        client = self.client(proxy)
        first = client.request("GET", "/one")
        self.assertEqual(first.status, 502, first)
        if "close" in first.tokens("connection"):
            client.assert_closed()
        else:
            second = client.request("GET", "/two")
            self.assertEqual(second.status, 502, second)

    def test_get_retried_on_other_endpoint_when_one_refused(self):
        origin = self.start_origin(echo_handler())
        proxy = self.start_portico(upstreams={"app": [refused_port(), origin]})
        for i in range(20):
            client = RawClient(proxy.port)
            try:
                response = client.request("GET", f"/try/{i}")
            finally:
                client.close()
            self.assertEqual(response.status, 200, f"request {i}: {response}")
        self.assertEqual([r.target for r in origin.wait_for_requests(20)], [f"/try/{i}" for i in range(20)])

    def test_get_retried_on_other_endpoint_on_one_connection(self):
        origin = self.start_origin(echo_handler())
        proxy = self.start_portico(upstreams={"app": [origin, refused_port()]})
        client = self.client(proxy)
        for i in range(20):
            response = client.request("GET", f"/same/{i}")
            self.assertEqual(response.status, 200, f"request {i}: {response}")

    def test_get_retried_when_pooled_connection_went_stale(self):
        # The origin answers as if keeping the connection alive, then closes it: the proxy's pooled connection
        # is dead by the time (or just as) it is reused. An idempotent request must still succeed.
        origin = self.start_origin(raw_handler(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
                                               keep_alive=False))
        proxy = self.start_portico(upstreams={"app": [origin]})
        client = self.client(proxy)
        for i in range(20):
            response = client.request("GET", f"/stale/{i}")
            self.assertEqual((response.status, response.body), (200, b"ok"), f"request {i}: {response}")

    def test_post_with_one_refused_endpoint_is_never_duplicated(self):
        origin = self.start_origin(echo_handler())
        proxy = self.start_portico(upstreams={"app": [refused_port(), origin]})
        statuses = []
        for i in range(20):
            client = RawClient(proxy.port)
            try:
                response = client.request("POST", f"/order/{i}", body=f"order-{i}".encode())
            finally:
                client.close()
            self.assertIn(response.status, (200, 502), f"request {i}: {response}")
            statuses.append(response.status)
        successes = statuses.count(200)
        seen = [r.target for r in origin.wait_for_requests(successes)]
        self.assertEqual(len(seen), len(set(seen)), f"a POST reached the origin twice: {seen}")
        self.assertEqual(len(seen), successes, f"origin saw {seen} for statuses {statuses}")

    def test_no_response_headers_within_response_timeout_is_504(self):
        origin = self.start_origin(hold_handler())
        proxy = self.start_portico(upstreams={"app": {"endpoints": [origin], "response_timeout": "1s"}},
                                   timeouts={"upstream_response": "1s"})
        client = self.client(proxy)
        started = time.monotonic()
        response = client.request("GET", "/slow")
        elapsed = time.monotonic() - started
        self.assertEqual(response.status, 504, response)
        self.assertGreaterEqual(elapsed, 0.9, "504 before response_timeout elapsed")
        self.assertLess(elapsed, 10, "504 took far longer than response_timeout")
        self.assertTrue(origin.entered.is_set(), "request never reached the origin")

    def test_upstream_closes_mid_response_closes_client(self):
        origin = self.start_origin(close_mid_response_handler(content_length=100000, send=1000))
        proxy = self.start_portico(upstreams={"app": [origin]})
        client = self.client(proxy)
        client.send(request_bytes("GET", "/cut"))
        response = client.read_response_head()
        if response.status == 502:  # the proxy may notice before it sent anything: also fine
            return
        self.assertEqual(response.status, 200, response)
        self.assertEqual(response.header("content-length"), "100000", response)
        rest = client.read_until_close()
        self.assertLess(len(rest), 100000, "the client got a complete body the origin never sent")

    def test_upstream_closes_mid_chunked_response_closes_client_without_last_chunk(self):
        origin = self.start_origin(chunked_cut_short_handler([b"a" * 1000, b"b" * 1000]))
        proxy = self.start_portico(upstreams={"app": [origin]})
        client = self.client(proxy)
        client.send(request_bytes("GET", "/cut"))
        response = client.read_response_head()
        if response.status == 502:
            return
        self.assertEqual(response.status, 200, response)
        try:
            client.read_body(response)
        except ConnectionClosed:
            return  # closed before the last chunk: the client can tell the body is incomplete
        self.fail(f"the proxy completed a response the origin cut short: {response.body[:100]!r}...")

    def test_upstream_closes_mid_close_delimited_response_is_not_hung(self):
        # An HTTP/1.0-style body simply ends at close: whatever arrived must reach the client, promptly.
        origin = self.start_origin(raw_handler(b"HTTP/1.0 200 OK\r\n\r\n" + b"z" * 5000))
        proxy = self.start_portico(upstreams={"app": [origin]})
        client = self.client(proxy)
        response = client.request("GET", "/legacy")
        self.assertEqual(response.status, 200, response)
        self.assertEqual(response.body, b"z" * 5000)

    def test_backend_closing_without_response_is_502(self):
        origin = self.start_origin(raw_handler(b"", keep_alive=False))
        proxy = self.start_portico(upstreams={"app": [origin]})
        client = self.client(proxy)
        started = time.monotonic()
        response = client.request("GET", "/")
        self.assertEqual(response.status, 502, response)
        self.assertLess(time.monotonic() - started, 10)

    def test_backend_sending_garbage_is_502(self):
        origin = self.start_origin(raw_handler(b"this is not http\r\n\r\n", keep_alive=False))
        proxy = self.start_portico(upstreams={"app": [origin]})
        client = self.client(proxy)
        response = client.request("GET", "/")
        self.assertEqual(response.status, 502, response)

    def test_backend_transfer_coding_other_than_chunked_is_502(self):
        # Re-framing would drop the gzip coding and hand the client compressed bytes it cannot know about.
        for coding in (b"gzip, chunked", b"gzip"):
            with self.subTest(coding=coding):
                origin = self.start_origin(raw_handler(
                    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: " + coding + b"\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                    keep_alive=False))
                proxy = self.start_portico(upstreams={"app": [origin]})
                response = self.client(proxy).request("GET", "/")
                self.assertEqual(response.status, 502, response)

    def test_backend_that_never_accepts_is_504_not_a_hang(self):
        silent = SilentListener()
        self.addCleanup(silent.stop)
        proxy = self.start_portico(upstreams={"app": {"endpoints": [silent], "response_timeout": "1s",
                                                      "connect_timeout": "1s"}},
                                   timeouts={"upstream_response": "1s", "upstream_connect": "1s"})
        client = self.client(proxy)
        started = time.monotonic()
        response = client.request("GET", "/")
        self.assertIn(response.status, (502, 504), response)
        self.assertLess(time.monotonic() - started, 10)

    def test_dead_backend_with_request_body_never_hangs(self):
        origin = self.start_origin(raw_handler(b"", keep_alive=False), read_body=False)
        proxy = self.start_portico(upstreams={"app": [origin]})
        client = self.client(proxy)
        body = os.urandom(200000)
        client.send(request_bytes("POST", "/upload", content_length=len(body)))
        try:
            client.send(body)
        except OSError:
            pass  # the proxy may give up on the request early and close
        try:
            response = client.read_response()
        except ConnectionClosed:
            return  # closed: not a hang
        self.assertEqual(response.status, 502, response)


if __name__ == "__main__":
    main()
