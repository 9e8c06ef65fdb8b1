"""Timeouts and size limits: every wait is bounded and every limit answers with its status."""
import socket
import time
import unittest

from portico_harness import ProxyTest, Reader, read_response, toml_config


class Limits(ProxyTest):
    def setUp(self):
        super().setUp()
        self.origin = self.start_origin()

    def proxy(self, timeouts="", limits="", routes=None):
        return self.start_portico(toml_config({"app": [self.origin.port]}, timeouts=timeouts, limits=limits,
                                              routes=routes))

    def test_slow_header_sender_gets_408(self):
        portico = self.proxy(timeouts='client_header = "1s"')
        with self.connect(portico) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n")  # never finishes the head
            started = time.monotonic()
            response = read_response(Reader(s))
            self.assertEqual(response.status, 408)
            self.assertLess(time.monotonic() - started, 10)
            self.assert_closed(s)
        self.assertEqual(self.origin.connections, 0)

    def test_slowloris_trickle_still_times_out(self):
        portico = self.proxy(timeouts='client_header = "1s"')
        with self.connect(portico) as s:
            started = time.monotonic()
            try:
                for _ in range(40):  # one byte every 100 ms would keep a per-read timer alive forever
                    s.sendall(b"X")
                    time.sleep(0.1)
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.assert_closed(s)
            self.assertLess(time.monotonic() - started, 8)

    def test_idle_keepalive_connection_is_closed(self):
        portico = self.proxy(timeouts='client_idle = "1s"')
        with self.connect(portico) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            self.assertEqual(read_response(Reader(s)).status, 200)
            started = time.monotonic()
            self.assert_closed(s)
            self.assertLess(time.monotonic() - started, 10)

    def test_request_line_too_long_is_414(self):
        portico = self.proxy(limits='max_request_line = "1KiB"')
        response = self.get(portico, "/" + "a" * 2000)
        self.assertEqual(response.status, 414)

    def test_head_too_large_is_431(self):
        portico = self.proxy(limits='max_header_size = "4KiB"')
        response = self.get(portico, headers="X-Big: " + "b" * 5000 + "\r\n")
        self.assertEqual(response.status, 431)

    def test_too_many_fields_is_431(self):
        portico = self.proxy(limits="max_headers = 10")
        response = self.get(portico, headers="".join(f"X-{i}: v\r\n" for i in range(12)))
        self.assertEqual(response.status, 431)

    def test_body_over_route_limit_by_content_length_is_413(self):
        portico = self.proxy(routes=[("", "app", 'max_body_size = "1KiB"')])
        response = self.get(portico, method="POST", body=b"x" * 2000)
        self.assertEqual(response.status, 413)
        self.assertEqual(self.origin.requests, [])

    def test_chunked_body_over_route_limit_is_stopped(self):
        portico = self.proxy(routes=[("", "app", 'max_body_size = "1KiB"')])
        with self.connect(portico) as s:
            s.sendall(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
            try:
                for _ in range(4):
                    s.sendall(b"200\r\n" + b"c" * 512 + b"\r\n")
                s.sendall(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
            try:
                response = read_response(Reader(s))
            except (ConnectionResetError, EOFError):
                response = None
            if response is not None:
                self.assertEqual(response.status, 413)
            self.assert_closed(s)
        self.assertEqual(self.origin.requests, [], "an over-limit body reached the origin complete")

    def test_slow_body_gets_408(self):
        portico = self.proxy(timeouts='client_body = "1s"')
        with self.connect(portico) as s:
            s.sendall(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc")
            response = read_response(Reader(s))
            self.assertEqual(response.status, 408)
            self.assert_closed(s)


if __name__ == "__main__":
    unittest.main()
