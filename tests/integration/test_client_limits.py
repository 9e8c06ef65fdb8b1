"""Limits and timeouts on the client side: slow heads (408), idle keep-alive, request line (414), header section
size and count (431), body size per route (413, up front and while streaming)."""

import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (  # noqa: E402
    ConnectionClosed, PorticoCase, chunk_encode, echo_handler, main, request_bytes)


class ClientLimitsTest(PorticoCase):

    def _proxy(self, route_max_body=None, **sections):
        self.origin = self.start_origin(echo_handler())
        route = {"match": {"prefix": "/"}, "upstream": "app"}
        if route_max_body is not None:
            route["max_body_size"] = route_max_body
        self.proxy = self.start_portico(upstreams={"app": [self.origin]}, routes=[route], **sections)
        return self.client(self.proxy)

    def test_slow_request_head_gets_408_and_close(self):
        client = self._proxy(timeouts={"client_header": "1s"})
        started = time.monotonic()
        client.send(b"GET /slow HTTP/1.1\r\nHost: example.com\r\nX-Partial: ")
        response = client.read_response()
        elapsed = time.monotonic() - started
        self.assertEqual(response.status, 408, response)
        self.assertGreaterEqual(elapsed, 0.5, "408 long before client_header elapsed")
        client.assert_closed()
        self.assertEqual(self.origin.bytes_received, 0, "a partial head reached the origin")

    def test_slow_trickled_head_still_gets_408(self):
        # client_header bounds the whole head, not the gap between two reads: trickling must not extend it.
        client = self._proxy(timeouts={"client_header": "1s"})
        client.send(b"GET /trickle HTTP/1.1\r\nHost: example.com\r\n")
        deadline = time.monotonic() + 10
        answer = None
        while time.monotonic() < deadline:
            try:
                client.send(b"X-A: b\r\n")
                data = client.recv_some(timeout=0.25)
            except socket.timeout:
                continue  # nothing yet: trickle on
            except OSError:
                answer = b""  # reset by the proxy: closed
                break
            answer = data + (client.read_until_close() if data else b"")
            break
        self.assertIsNotNone(answer, "a client trickling header lines kept its connection for 10 s "
                             "with client_header = 1s")
        if answer:
            self.assertTrue(answer.startswith(b"HTTP/1.1 408"), answer[:200])
        self.assertEqual(self.origin.bytes_received, 0)

    def test_slow_request_body_gets_408_or_close(self):
        client = self._proxy(timeouts={"client_body": "1s"})
        client.send(request_bytes("POST", "/slow-body", content_length=100) + b"only ten b")
        try:
            response = client.read_response()
            self.assertEqual(response.status, 408, response)
            client.assert_closed()
        except ConnectionClosed as closed:
            self.assertEqual(closed.partial, b"", "connection closed in the middle of a response")
        self.assertEqual(self.origin.complete_requests(), [], "the origin got a complete request")

    def test_idle_keepalive_connection_closed(self):
        client = self._proxy(timeouts={"client_idle": "1s"})
        response = client.request("GET", "/once")
        self.assertEqual(response.status, 200, response)
        started = time.monotonic()
        client.assert_closed()
        self.assertGreaterEqual(time.monotonic() - started, 0.5, "closed long before client_idle elapsed")

    def test_new_connection_without_request_closed_after_timeout(self):
        client = self._proxy(timeouts={"client_idle": "1s", "client_header": "1s"})
        data = client.read_until_close()
        self.assertIn(data[:12], (b"", b"HTTP/1.1 408"), data[:200])

    def test_request_line_over_limit_gets_414(self):
        client = self._proxy(limits={"max_request_line": "8KiB"})
        client.send(request_bytes("GET", "/" + "a" * 9000))
        response = client.read_response()
        self.assertEqual(response.status, 414, response)
        self.assertEqual(self.origin.bytes_received, 0)

    def test_request_line_within_limit_is_forwarded(self):
        client = self._proxy(limits={"max_request_line": "8KiB"})
        target = "/" + "a" * 7000
        response = client.request("GET", target)
        self.assertEqual(response.status, 200, response)
        self.assertEqual(response.json()["target"], target)

    def test_header_section_over_limit_gets_431(self):
        client = self._proxy(limits={"max_header_size": "16KiB", "max_headers": 100})
        headers = [(f"X-Big-{i}", "v" * 1000) for i in range(20)]
        client.send(request_bytes("GET", "/", headers=headers))
        response = client.read_response()
        self.assertEqual(response.status, 431, response)
        self.assertEqual(self.origin.bytes_received, 0)

    def test_single_huge_header_gets_431(self):
        client = self._proxy(limits={"max_header_size": "16KiB"})
        client.send(request_bytes("GET", "/", headers=[("Cookie", "c" * 20000)]))
        response = client.read_response()
        self.assertEqual(response.status, 431, response)
        self.assertEqual(self.origin.bytes_received, 0)

    def test_too_many_header_fields_gets_431(self):
        client = self._proxy(limits={"max_headers": 100, "max_header_size": "16KiB"})
        headers = [(f"X-H{i}", "1") for i in range(150)]
        client.send(request_bytes("GET", "/", headers=headers))
        response = client.read_response()
        self.assertEqual(response.status, 431, response)
        self.assertEqual(self.origin.bytes_received, 0)

    def test_header_fields_within_limits_are_forwarded(self):
        client = self._proxy(limits={"max_headers": 100, "max_header_size": "16KiB"})
        headers = [(f"X-H{i}", "v" * 50) for i in range(90)]
        response = client.request("GET", "/", headers=headers)
        self.assertEqual(response.status, 200, response)
        names = [n for n, _ in response.json()["headers"]]
        self.assertIn("X-H89", names)

    def test_content_length_over_route_limit_gets_413_up_front(self):
        client = self._proxy(route_max_body="64KiB")
        # Only the head is sent: the proxy must answer from Content-Length alone, before any body byte.
        client.send(request_bytes("POST", "/upload", content_length=100000))
        response = client.read_response()
        self.assertEqual(response.status, 413, response)
        self.assertEqual(self.origin.bytes_received, 0, "an oversized request reached the origin")

    def test_body_at_route_limit_is_forwarded(self):
        client = self._proxy(route_max_body="64KiB")
        body = os.urandom(64 * 1024)
        response = client.request("POST", "/upload", body=body)
        self.assertEqual(response.status, 200, response)
        self.assertEqual(response.json()["body_length"], len(body))

    def test_route_limit_overrides_global_limit(self):
        client = self._proxy(route_max_body="1MiB", limits={"max_body_size": "1KiB"})
        body = os.urandom(100000)
        response = client.request("POST", "/upload", body=body)
        self.assertEqual(response.status, 200, response)

    def test_global_body_limit_applies_without_route_limit(self):
        client = self._proxy(limits={"max_body_size": "1KiB"})
        client.send(request_bytes("POST", "/upload", content_length=5000))
        response = client.read_response()
        self.assertEqual(response.status, 413, response)
        self.assertEqual(self.origin.bytes_received, 0)

    def test_chunked_body_over_route_limit_rejected_while_streaming(self):
        client = self._proxy(route_max_body="64KiB")
        client.send(request_bytes("POST", "/upload", headers=[("Transfer-Encoding", "chunked")]))
        chunk = os.urandom(8192)
        sent = 0
        try:
            for _ in range(25):  # 200 KiB in 8 KiB chunks
                client.send(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
                sent += len(chunk)
            client.send(b"0\r\n\r\n")
        except OSError:
            pass  # the proxy may stop reading and close while we are still sending
        try:
            response = client.read_response()
            self.assertEqual(response.status, 413, response)
        except ConnectionClosed:
            pass  # closing the connection is an acceptable answer too
        complete = [r for r in self.origin.complete_requests() if r.target == "/upload"]
        self.assertEqual(complete, [], "the origin received the oversized chunked request complete")

    def test_chunked_body_within_route_limit_is_forwarded(self):
        client = self._proxy(route_max_body="64KiB")
        chunks = [os.urandom(8192) for _ in range(7)]
        client.send(request_bytes("POST", "/upload", headers=[("Transfer-Encoding", "chunked")])
                    + chunk_encode(chunks))
        response = client.read_response()
        self.assertEqual(response.status, 200, response)
        self.assertEqual(response.json()["body_length"], 7 * 8192)

    def test_chunk_size_line_limit_follows_a_small_buffer(self):
        # With 4 KiB buffers a size line may be at most 2 KiB: a longer one is refused at once instead of
        # waiting forever for a line the buffer can never hold whole.
        client = self._proxy(limits={"buffer_size": "4KiB", "max_header_size": "2KiB"})
        head = b"POST /c HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n"
        started = time.monotonic()
        client.send(head + b"5;x=" + b"a" * 4000 + b"\r\nhello\r\n0\r\n\r\n")
        response = client.read_response()
        self.assertEqual(response.status, 400, response)
        self.assertLess(time.monotonic() - started, 5, "refused only after a timeout")
        client.assert_closed()

        client = self.client(self.proxy)
        client.send(head + b"5;x=" + b"a" * 1500 + b"\r\nhello\r\n0\r\n\r\n")
        response = client.read_response()
        self.assertEqual(response.status, 200, response)
        self.assertEqual(response.json()["body_length"], 5)

if __name__ == "__main__":
    main()
