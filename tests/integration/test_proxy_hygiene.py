"""Proxy hygiene: hop-by-hop headers stay on their hop; X-Forwarded-*, Via and X-Request-Id are set; the origin's
software and address never reach the client."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (  # noqa: E402
    PorticoCase, SilentListener, echo_handler, fixed_handler, leaky_handler, main, raw_handler, refused_port,
    request_bytes)


class HygieneTest(PorticoCase):

    def _forwarded(self, headers=(), handler=None, **sections):
        """Sends GET / with `headers`; returns (request as the origin saw it, response as the client saw it)."""
        origin, proxy = self.proxy_for(handler or echo_handler(), **sections)
        client = self.client(proxy)
        response = client.request("GET", "/h", headers=list(headers))
        self.assertEqual(response.status, 200, response)
        (seen,) = origin.wait_for_requests(1)
        return seen, response

    # -- Date (RFC 9110 6.6.1) ---------------------------------------------------------------------------------
    def test_date_added_when_the_origin_sent_none_and_kept_when_it_did(self):
        _, response = self._forwarded()  # the harness origin sends no Date
        self.assertEqual(len(response.headers_named("date")), 1, response.headers)
        self.assertRegex(response.header("date"), r"^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$")
        origin_date = "Sun, 06 Nov 1994 08:49:37 GMT"
        _, response = self._forwarded(handler=fixed_handler(200, b"x", headers=[("Date", origin_date)]))
        self.assertEqual(response.headers_named("date"), [origin_date])

    def test_error_pages_have_a_date(self):
        proxy = self.start_portico(upstreams={"app": [refused_port()]})
        response = self.client(proxy).request("GET", "/")
        self.assertEqual(response.status, 502)
        self.assertEqual(len(response.headers_named("date")), 1, response.headers)

    # -- hop-by-hop -------------------------------------------------------------------------------------------
    def test_keep_alive_header_not_forwarded(self):
        seen, _ = self._forwarded([("Connection", "keep-alive"), ("Keep-Alive", "timeout=5, max=100")])
        self.assertEqual(seen.headers_named("keep-alive"), [], seen.headers)

    def test_proxy_connection_header_not_forwarded(self):
        seen, _ = self._forwarded([("Proxy-Connection", "keep-alive")])
        self.assertEqual(seen.headers_named("proxy-connection"), [], seen.headers)

    def test_headers_named_in_connection_not_forwarded(self):
        seen, _ = self._forwarded([("Connection", "X-Hop-One, x-hop-two"), ("X-Hop-One", "1"), ("X-Hop-Two", "2"),
                                   ("X-End-To-End", "kept")])
        self.assertEqual(seen.headers_named("x-hop-one"), [], seen.headers)
        self.assertEqual(seen.headers_named("x-hop-two"), [], seen.headers)
        self.assertEqual(seen.headers_named("x-end-to-end"), ["kept"], seen.headers)

    def test_client_connection_options_not_forwarded(self):
        # The proxy may send its own Connection field upstream, but not the client's options.
        seen, _ = self._forwarded([("Connection", "keep-alive, x-private-option"), ("X-Private-Option", "1")])
        self.assertNotIn("x-private-option", seen.tokens("connection"), seen.headers)
        self.assertEqual(seen.headers_named("x-private-option"), [], seen.headers)

    def test_te_header_not_forwarded(self):
        seen, _ = self._forwarded([("TE", "gzip, deflate;q=0.5")])
        # A proxy may ask the origin for trailers on its own ("TE: trailers"); the client's codings stay behind.
        for value in seen.headers_named("te"):
            self.assertEqual(value.strip().lower(), "trailers", seen.headers)

    def test_upgrade_header_not_forwarded_when_not_upgrading(self):
        # Upgrade without "Connection: upgrade" is not an upgrade request.
        seen, _ = self._forwarded([("Upgrade", "websocket")])
        self.assertEqual(seen.headers_named("upgrade"), [], seen.headers)

    def test_request_transfer_encoding_is_reframed(self):
        origin, proxy = self.proxy_for(echo_handler())
        client = self.client(proxy)
        client.send(request_bytes("POST", "/te", headers=[("Transfer-Encoding", "chunked")])
                    + b"4\r\nwiki\r\n5\r\npedia\r\n0\r\n\r\n")
        response = client.read_response()
        self.assertEqual(response.status, 200, response)
        (seen,) = origin.wait_for_requests(1)
        self.assertEqual(seen.body, b"wikipedia")
        self.assertFalse(seen.headers_named("content-length") and seen.headers_named("transfer-encoding"),
                         seen.headers)
        self.assertLessEqual(len(seen.headers_named("transfer-encoding")), 1, seen.headers)

    def test_response_hop_by_hop_headers_not_forwarded(self):
        handler = raw_handler(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive, X-Origin-Hop\r\n"
                              b"Keep-Alive: timeout=99\r\nX-Origin-Hop: secret\r\nX-Kept: yes\r\n\r\nok",
                              keep_alive=True)
        _, response = self._forwarded(handler=handler)
        self.assertEqual(response.headers_named("keep-alive"), [], response.headers)
        self.assertEqual(response.headers_named("x-origin-hop"), [], response.headers)
        self.assertEqual(response.headers_named("x-kept"), ["yes"], response.headers)
        self.assertEqual(response.body, b"ok")

    # -- X-Forwarded-* ----------------------------------------------------------------------------------------
    def test_x_forwarded_for_added(self):
        seen, _ = self._forwarded()
        self.assertEqual(seen.headers_named("x-forwarded-for"), ["127.0.0.1"], seen.headers)

    def test_x_forwarded_for_appended_to_existing(self):
        seen, _ = self._forwarded([("X-Forwarded-For", "203.0.113.7")])
        values = seen.headers_named("x-forwarded-for")
        self.assertEqual([", ".join(values)], ["203.0.113.7, 127.0.0.1"], seen.headers)

    def test_x_forwarded_proto_is_http(self):
        seen, _ = self._forwarded()
        self.assertEqual(seen.headers_named("x-forwarded-proto"), ["http"], seen.headers)

    def test_x_forwarded_proto_from_client_is_replaced(self):
        seen, _ = self._forwarded([("X-Forwarded-Proto", "https")])
        self.assertEqual(seen.headers_named("x-forwarded-proto"), ["http"], seen.headers)

    def test_x_forwarded_host_is_client_host(self):
        origin, proxy = self.proxy_for(echo_handler())
        client = self.client(proxy)
        response = client.request("GET", "/", host="shop.example.com")
        self.assertEqual(response.status, 200, response)
        (seen,) = origin.wait_for_requests(1)
        self.assertEqual(seen.headers_named("x-forwarded-host"), ["shop.example.com"], seen.headers)
        self.assertEqual(seen.header("host"), "shop.example.com", "the Host header must be passed unchanged")

    # -- Via ----------------------------------------------------------------------------------------------------
    def test_via_added_to_forwarded_request(self):
        seen, _ = self._forwarded()
        self.assertIn("1.1 portico", ", ".join(seen.headers_named("via")), seen.headers)

    def test_via_appended_to_existing_request_via(self):
        seen, _ = self._forwarded([("Via", "1.0 fred")])
        via = ", ".join(seen.headers_named("via"))
        self.assertIn("1.0 fred", via, seen.headers)
        self.assertIn("1.1 portico", via, seen.headers)
        self.assertLess(via.index("1.0 fred"), via.index("1.1 portico"), "Via entries are in hop order")

    def test_via_added_to_response(self):
        _, response = self._forwarded()
        self.assertIn("1.1 portico", ", ".join(response.headers_named("via")), response.headers)

    def test_via_uses_configured_pseudonym(self):
        seen, response = self._forwarded(server={"via": "edge-7"})
        self.assertIn("1.1 edge-7", ", ".join(seen.headers_named("via")), seen.headers)
        self.assertIn("1.1 edge-7", ", ".join(response.headers_named("via")), response.headers)

    # -- X-Request-Id -----------------------------------------------------------------------------------------
    def test_request_id_generated_when_absent(self):
        seen, _ = self._forwarded()
        ids = seen.headers_named("x-request-id")
        self.assertEqual(len(ids), 1, seen.headers)
        self.assertTrue(ids[0].strip(), "generated request id is empty")

    def test_generated_request_ids_are_unique(self):
        origin, proxy = self.proxy_for(echo_handler())
        client = self.client(proxy)
        for _ in range(20):
            self.assertEqual(client.request("GET", "/").status, 200)
        ids = [r.header("x-request-id") for r in origin.wait_for_requests(20)]
        self.assertNotIn(None, ids)
        self.assertEqual(len(set(ids)), 20, ids)

    def test_request_id_passed_through_unchanged(self):
        seen, _ = self._forwarded([("X-Request-Id", "abc-123_XYZ")])
        self.assertEqual(seen.headers_named("x-request-id"), ["abc-123_XYZ"], seen.headers)

    def test_configured_request_id_header_passed_through(self):
        seen, _ = self._forwarded([("X-Trace", "trace-77")], server={"request_id_header": "X-Trace"})
        self.assertEqual(seen.headers_named("x-trace"), ["trace-77"], seen.headers)

    def test_configured_request_id_header_generated(self):
        seen, _ = self._forwarded(server={"request_id_header": "X-Correlation"})
        self.assertEqual(len(seen.headers_named("x-correlation")), 1, seen.headers)
        self.assertTrue(seen.header("x-correlation").strip())

    # -- origin identity ----------------------------------------------------------------------------------------
    def test_origin_server_and_powered_by_hidden(self):
        _, response = self._forwarded(handler=leaky_handler())
        self.assertEqual(response.headers_named("x-powered-by"), [], response.headers)
        for value in response.headers_named("server"):
            self.assertNotIn("secret-origin", value, response.headers)
        self.assertNotIn(b"secret-origin", response.raw_head)

    def test_origin_server_and_powered_by_shown_when_configured(self):
        _, response = self._forwarded(handler=leaky_handler(), server={"pass_server_header": True})
        self.assertEqual(response.headers_named("server"), ["secret-origin/1.0"], response.headers)
        self.assertEqual(response.headers_named("x-powered-by"), ["PHP"], response.headers)

    def test_normal_response_does_not_name_origin(self):
        origin, proxy = self.proxy_for(fixed_handler(200, b"<html>hello</html>", headers=[("X-App", "shop")]))
        client = self.client(proxy)
        response = client.request("GET", "/")
        self.assertEqual(response.status, 200, response)
        self.assertEqual(response.body, b"<html>hello</html>")
        self.assert_no_origin_address(response.raw, [origin])

    def test_location_naming_origin_is_not_leaked(self):
        def redirect(request, conn):
            conn.send(f"HTTP/1.1 302 Found\r\nLocation: http://{conn.origin.address}/login?next=%2F\r\n"
                      f"Content-Length: 0\r\n\r\n".encode())
            return True

        origin, proxy = self.proxy_for(redirect)
        client = self.client(proxy)
        response = client.request("GET", "/private")
        self.assertEqual(response.status, 302, response)
        self.assert_no_origin_address(response.raw, [origin])
        location = response.header("location", "")
        self.assertTrue(location.endswith("/login?next=%2F"), f"Location lost its path: {location!r}")

    def test_502_page_does_not_name_origin(self):
        port = refused_port()
        proxy = self.start_portico(upstreams={"app": [port]})
        client = self.client(proxy)
        response = client.request("GET", "/")
        self.assertEqual(response.status, 502, response)
        self.assert_no_origin_address(response.raw, [port])

    def test_504_page_does_not_name_origin(self):
        silent = SilentListener()
        self.addCleanup(silent.stop)
        proxy = self.start_portico(upstreams={"app": {"endpoints": [silent], "response_timeout": "1s"}},
                                   timeouts={"upstream_response": "1s"})
        client = self.client(proxy)
        response = client.request("GET", "/")
        self.assertEqual(response.status, 504, response)
        self.assert_no_origin_address(response.raw, [silent])

    def test_404_page_does_not_name_origin(self):
        origin = self.start_origin(echo_handler())
        proxy = self.start_portico(upstreams={"app": [origin]},
                                   routes=[{"match": {"host": "example.com"}, "upstream": "app"}])
        client = self.client(proxy)
        response = client.request("GET", "/", host="unknown.example.net")
        self.assertEqual(response.status, 404, response)
        self.assert_no_origin_address(response.raw, [origin])

    def test_no_response_names_any_origin_when_one_upstream_fails(self):
        # One proxy, a working and a refusing upstream: neither the 200 nor the 502 names either origin.
        origin = self.start_origin(echo_handler())
        port = refused_port()
        proxy = self.start_portico(upstreams={"good": [origin], "bad": [port]},
                                   routes=[{"match": {"prefix": "/bad"}, "upstream": "bad"},
                                           {"match": {"prefix": "/"}, "upstream": "good"}])
        client = self.client(proxy)
        ok = client.request("GET", "/fine")
        self.assertEqual(ok.status, 200, ok)
        client2 = self.client(proxy)
        bad = client2.request("GET", "/bad")
        self.assertEqual(bad.status, 502, bad)
        self.assert_no_origin_address(ok.raw + bad.raw, [origin, port])


if __name__ == "__main__":
    main()
