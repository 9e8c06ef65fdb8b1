"""A dead or misbehaving backend is a 502/504 or a closed connection, never a hang; idempotent requests fail over."""
import socket
import threading
import time
import unittest

from portico_harness import ProxyTest, Reader, read_response, free_port_refused, toml_config


class Failures(ProxyTest):
    def test_refused_connection_is_502(self):
        port = free_port_refused()
        portico = self.start_portico(toml_config({"app": [port]}))
        response = self.get(portico)
        self.assertEqual(response.status, 502)
        self.assertNotIn(str(port), response.raw_head.decode() + response.body.decode())

    def test_get_fails_over_to_the_live_endpoint(self):
        origin = self.start_origin()
        portico = self.start_portico(toml_config({"app": [free_port_refused(), origin.port]}))
        for _ in range(20):
            self.assertEqual(self.get(portico).status, 200)
        self.assertEqual(len(origin.requests), 20)

    def test_post_is_never_duplicated(self):
        origin = self.start_origin()
        portico = self.start_portico(toml_config({"app": [free_port_refused(), origin.port]}))
        for i in range(10):
            response = self.get(portico, f"/p{i}", method="POST", body=b"once")
            self.assertIn(response.status, (200, 502))
        targets = [r.target for r in origin.requests]
        self.assertEqual(len(targets), len(set(targets)), "a POST reached the origin twice")

    def test_no_response_in_time_is_504(self):
        release = threading.Event()

        def handler(origin, req, conn):
            release.wait(30)
            return "close"
        origin = self.start_origin(handler)
        portico = self.start_portico(toml_config({"app": [origin.port]}, timeouts='upstream_response = "1s"'))
        started = time.monotonic()
        response = self.get(portico)
        elapsed = time.monotonic() - started
        release.set()
        self.assertEqual(response.status, 504)
        self.assertLess(elapsed, 10)
        self.assertNotIn(str(origin.port), response.body.decode())

    def test_upstream_closing_mid_response_closes_the_client(self):
        def handler(origin, req, conn):
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"z" * 1000)
            return "close"
        origin = self.start_origin(handler)
        portico = self.start_portico(toml_config({"app": [origin.port]}))
        with self.connect(portico) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            reader = Reader(s)
            head = reader.read_until(b"\r\n\r\n")
            self.assertIn(b"Content-Length: 100000", head)
            received = reader.read_to_eof()  # returns at the close; a hang would time out
            self.assertLess(len(received) + len(reader.buf), 100000)

    def test_upstream_closing_mid_chunked_response_sends_no_last_chunk(self):
        def handler(origin, req, conn):
            conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
            return "close"
        origin = self.start_origin(handler)
        portico = self.start_portico(toml_config({"app": [origin.port]}))
        with self.connect(portico) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            data = Reader(s).read_to_eof()
            self.assertIn(b"hello", data)
            self.assertNotIn(b"0\r\n\r\n", data)

    def test_garbage_from_upstream_is_502(self):
        def handler(origin, req, conn):
            conn.sendall(b"SSH-2.0-OpenSSH\r\n\r\n")
            return "close"
        origin = self.start_origin(handler)
        portico = self.start_portico(toml_config({"app": [origin.port]}))
        self.assertEqual(self.get(portico).status, 502)

    def test_stale_keepalive_connection_is_retried(self):
        def handler(origin, req, conn):
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            return "close"  # closes its side after each response, without saying so
        origin = self.start_origin(handler)
        portico = self.start_portico(toml_config({"app": [origin.port]}, workers=1))
        for _ in range(20):
            self.assertEqual(self.get(portico).status, 200)


if __name__ == "__main__":
    unittest.main()
