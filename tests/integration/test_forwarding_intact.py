"""Requests and responses pass through intact: methods, bodies (Content-Length and chunked), trailers,
close-delimited responses, bodiless responses, 100-continue, HTTP/1.0 clients, pipelining, Upgrade tunnels."""

import hashlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (  # noqa: E402
    PorticoCase, chunk_encode, chunked_handler, early_hints_handler, echo_handler, fixed_handler,
    http10_close_handler, main, request_bytes, upgrade_echo_handler)

TARGET = "/some/path;p=1?query=a%20b&x=%2F"


class ForwardingTest(PorticoCase):

    def _method_reaches_origin(self, method, body=b""):
        origin, proxy = self.proxy_for(echo_handler())
        client = self.client(proxy)
        response = client.request(method, TARGET, body=body)
        self.assertEqual(response.status, 200, response)
        if method == "HEAD":
            self.assertEqual(response.body, b"")
        (seen,) = origin.wait_for_requests(1)
        self.assertEqual(seen.method, method)
        self.assertEqual(seen.target, TARGET)
        self.assertEqual(seen.body, body)
        self.assertEqual(seen.header("host"), "example.com")

    def test_forwards_get(self):
        self._method_reaches_origin("GET")

    def test_forwards_head(self):
        self._method_reaches_origin("HEAD")

    def test_forwards_post_with_body(self):
        self._method_reaches_origin("POST", b"name=value&other=1")

    def test_forwards_put_with_body(self):
        self._method_reaches_origin("PUT", os.urandom(3000))

    def test_forwards_patch_with_body(self):
        self._method_reaches_origin("PATCH", b'{"op":"replace"}')

    def test_forwards_delete(self):
        self._method_reaches_origin("DELETE")

    def test_forwards_options(self):
        self._method_reaches_origin("OPTIONS")

    def test_forwards_content_length_body_intact(self):
        origin, proxy = self.proxy_for(echo_handler())
        body = os.urandom(1 << 20)
        client = self.client(proxy)
        response = client.request("POST", "/upload", body=body)
        self.assertEqual(response.status, 200, response)
        (seen,) = origin.wait_for_requests(1)
        self.assertEqual(seen.body_length, len(body))
        self.assertEqual(seen.body, body)
        self.assertFalse(seen.headers_named("transfer-encoding") and seen.headers_named("content-length"),
                         "origin got both Transfer-Encoding and Content-Length")

    def test_forwards_chunked_request_body_intact(self):
        origin, proxy = self.proxy_for(echo_handler())
        chunks = [os.urandom(n) for n in (1, 17, 4096, 70000, 3)]
        client = self.client(proxy)
        client.send(request_bytes("POST", "/chunked", headers=[("Transfer-Encoding", "chunked")])
                    + chunk_encode(chunks))
        response = client.read_response()
        self.assertEqual(response.status, 200, response)
        (seen,) = origin.wait_for_requests(1)
        self.assertEqual(seen.body, b"".join(chunks))
        self.assertFalse(seen.headers_named("transfer-encoding") and seen.headers_named("content-length"),
                         "origin got both Transfer-Encoding and Content-Length")
        self.assertEqual(origin.errors, [])

    def test_forwards_chunked_request_with_extensions_and_trailers(self):
        origin, proxy = self.proxy_for(echo_handler())
        client = self.client(proxy)
        body = b"5;name=value\r\nhello\r\n6;ext\r\n world\r\n0\r\nX-Trailer: yes\r\n\r\n"
        client.send(request_bytes("POST", "/ext", headers=[("Transfer-Encoding", "chunked")]) + body)
        response = client.read_response()
        self.assertEqual(response.status, 200, response)
        (seen,) = origin.wait_for_requests(1)
        self.assertEqual(seen.body, b"hello world")

    def test_chunked_response_trailers_reach_client(self):
        chunks = [b"first chunk;", os.urandom(5000), b"last"]
        trailers = [("X-Checksum", "abc123"), ("X-Final-Status", "done")]
        origin, proxy = self.proxy_for(chunked_handler(chunks, trailers))
        client = self.client(proxy)
        response = client.request("GET", "/trailers", headers=[("TE", "trailers")])
        self.assertEqual(response.status, 200, response)
        self.assertTrue(response.chunked, f"expected a chunked response to carry trailers: {response.headers}")
        self.assertEqual(response.body, b"".join(chunks))
        got = {n.lower(): v for n, v in response.trailers}
        self.assertEqual(got.get("x-checksum"), "abc123", response.trailers)
        self.assertEqual(got.get("x-final-status"), "done", response.trailers)

    def test_close_delimited_response_reaches_client_complete(self):
        body = os.urandom(300000)
        origin, proxy = self.proxy_for(http10_close_handler(body))
        client = self.client(proxy)
        response = client.request("GET", "/legacy")
        self.assertEqual(response.status, 200, response)
        self.assertEqual(len(response.body), len(body))
        self.assertEqual(hashlib.sha256(response.body).digest(), hashlib.sha256(body).digest())
        if response.close_delimited:
            client.assert_closed()

    def test_head_response_has_no_body(self):
        # The origin announces 1234 bytes for HEAD and sends none; the proxy must not wait for, nor invent, a body.
        origin, proxy = self.proxy_for(fixed_handler(200, b"x" * 1234))
        client = self.client(proxy)
        response = client.request("HEAD", "/")
        self.assertEqual(response.status, 200, response)
        self.assertEqual(response.header("content-length"), "1234")
        follow = client.request("GET", "/after")
        self.assertEqual(follow.status, 200, follow)
        self.assertEqual(follow.body, b"x" * 1234)

    def test_204_response_has_no_body(self):
        origin, proxy = self.proxy_for(fixed_handler(204, b"", content_length=False))
        client = self.client(proxy)
        response = client.request("DELETE", "/thing")
        self.assertEqual(response.status, 204, response)
        self.assertEqual(response.headers_named("transfer-encoding"), [], "a 204 must not be chunked")
        follow = client.request("DELETE", "/thing2")
        self.assertEqual(follow.status, 204, follow)

    def test_304_response_has_no_body(self):
        # A 304 may carry the Content-Length of the representation it stands for; it still has no body.
        def not_modified(request, conn):
            conn.send(b"HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nContent-Length: 50\r\n\r\n")
            return True

        origin, proxy = self.proxy_for(not_modified)
        client = self.client(proxy)
        response = client.request("GET", "/cached", headers=[("If-None-Match", '"v1"')])
        self.assertEqual(response.status, 304, response)
        self.assertEqual(response.headers_named("transfer-encoding"), [], "a 304 must not be chunked")
        follow = client.request("GET", "/cached", headers=[("If-None-Match", '"v1"')])
        self.assertEqual(follow.status, 304, follow)

    def test_1xx_interim_response_has_no_body(self):
        origin, proxy = self.proxy_for(early_hints_handler())
        client = self.client(proxy)
        response = client.request("GET", "/hints")
        self.assertEqual(response.status, 200, response)
        self.assertEqual(response.json()["target"], "/hints")
        for interim in response.interim:
            self.assertEqual(interim.status, 103)
        follow = client.request("GET", "/again")
        self.assertEqual(follow.status, 200, follow)
        self.assertEqual(follow.json()["target"], "/again")

    def _expect_continue(self, origin_sends_continue):
        origin, proxy = self.proxy_for(echo_handler(),
                                       origin_kwargs={"send_100_continue": origin_sends_continue})
        client = self.client(proxy)
        body = os.urandom(10000)
        client.send(request_bytes("PUT", "/upload", headers=[("Expect", "100-continue")],
                                  content_length=len(body)))
        interim = client.read_response(interim=False, read_body=False)
        self.assertEqual(interim.status, 100, f"expected 100 Continue before sending the body, got {interim}")
        self.assertEqual(interim.version, "HTTP/1.1")
        client.send(body)
        response = client.read_response()
        while response.status == 100:  # a second 100 (proxy and origin both answered) is harmless
            response = client.read_response()
        self.assertEqual(response.status, 200, response)
        (seen,) = origin.wait_for_requests(1)
        self.assertEqual(seen.body, body)

    def test_expect_100_continue_when_origin_sends_continue(self):
        self._expect_continue(origin_sends_continue=True)

    def test_expect_100_continue_when_origin_ignores_expect(self):
        self._expect_continue(origin_sends_continue=False)

    def test_http10_client_gets_response_and_connection_closed(self):
        origin, proxy = self.proxy_for(echo_handler())
        client = self.client(proxy)
        client.send(b"GET /old HTTP/1.0\r\nHost: example.com\r\n\r\n")
        response = client.read_response()
        self.assertEqual(response.status, 200, response)
        self.assertEqual(response.json()["target"], "/old")
        self.assertNotIn("chunked", response.tokens("transfer-encoding"), "chunked sent to an HTTP/1.0 client")
        client.assert_closed()

    def test_http10_client_gets_unchunked_response_from_chunked_origin(self):
        chunks = [b"alpha-", b"beta-", b"gamma"]
        origin, proxy = self.proxy_for(chunked_handler(chunks))
        client = self.client(proxy)
        client.send(b"GET /old HTTP/1.0\r\nHost: example.com\r\n\r\n")
        response = client.read_response()
        self.assertEqual(response.status, 200, response)
        self.assertNotIn("chunked", response.tokens("transfer-encoding"), "chunked sent to an HTTP/1.0 client")
        self.assertEqual(response.body, b"".join(chunks))
        client.assert_closed()

    def test_http10_client_with_keep_alive_keeps_connection(self):
        origin, proxy = self.proxy_for(echo_handler())
        client = self.client(proxy)
        for target in ("/one", "/two", "/three"):
            client.send(f"GET {target} HTTP/1.0\r\nHost: example.com\r\nConnection: keep-alive\r\n\r\n".encode())
            response = client.read_response()
            self.assertEqual(response.status, 200, response)
            self.assertFalse(response.close_delimited, "keep-alive response must be length-delimited")
            self.assertNotIn("chunked", response.tokens("transfer-encoding"))
            self.assertEqual(response.json()["target"], target)

    def test_pipelined_requests_answered_in_order(self):
        origin, proxy = self.proxy_for(echo_handler())
        client = self.client(proxy)
        client.send(request_bytes("GET", "/a") + request_bytes("PUT", "/b", body=b"bbbb")
                    + request_bytes("GET", "/c"))
        responses = [client.read_response() for _ in range(3)]
        self.assertEqual([r.status for r in responses], [200, 200, 200], responses)
        self.assertEqual([r.json()["target"] for r in responses], ["/a", "/b", "/c"])
        self.assertEqual(responses[1].json()["body_length"], 4)

    def test_websocket_upgrade_tunnels_bytes_both_ways(self):
        origin, proxy = self.proxy_for(upgrade_echo_handler(greeting=b"hello-from-origin\n"))
        client = self.client(proxy)
        client.send(request_bytes("GET", "/chat", headers=[
            ("Upgrade", "websocket"), ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13")]))
        response = client.read_response(read_body=False)
        self.assertEqual(response.status, 101, response)
        self.assertEqual(response.header("upgrade", "").lower(), "websocket")
        # origin -> client without the client sending anything
        self.assertEqual(client.read_exact(len(b"hello-from-origin\n")), b"hello-from-origin\n")
        # client -> origin -> client, more than one buffer's worth
        payload = os.urandom(200000)
        client.send(payload)
        self.assertEqual(client.read_exact(len(payload)), payload)
        small = b"\x81\x05hello"
        client.send(small)
        self.assertEqual(client.read_exact(len(small)), small)
        self.assertEqual(bytes(origin.tunnel_received), payload + small)


if __name__ == "__main__":
    main()
