"""The filter chain with a real plugin (tests/fixtures/chain_filter, loaded from its .so): request hooks in list
order, response hooks in reverse, pause and resume (timer and another thread), local replies that pass only the
filters before the one that made them, streamed replies, body transforms, request body inspection, limits,
failing hooks (fail-closed and fail-open) and on_done exactly once per stream."""

import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (  # noqa: E402
    PorticoCase, echo_handler, fixed_handler, main, make_config, run_portico, to_toml, wait_until)

PLUGIN_DIR = os.path.join(os.environ.get("PORTICO_BUILD_DIR", "build"), "tests", "fixtures", "chain_filter", "dir")


def test_filter(**keys):
    return dict({"use": "test_filter"}, **keys)


class FilterChainTest(PorticoCase):

    def start(self, filters, handler=None, route_extra=None, **sections):
        origin = self.start_origin(handler or echo_handler())
        route = {"match": {"prefix": "/"}, "upstream": "app", "filters": filters}
        route.update(route_extra or {})
        server = dict(sections.pop("server", {}), plugin_dirs=[PLUGIN_DIR])
        proxy = self.start_portico(upstreams={"app": [origin]}, routes=[route], server=server, **sections)
        return origin, proxy

    def done_file(self):
        fd, path = tempfile.mkstemp(prefix="portico-done-")
        os.close(fd)
        self.addCleanup(os.unlink, path)
        return path

    # -- order ------------------------------------------------------------------------------------------------
    def test_request_hooks_in_list_order_response_hooks_in_reverse(self):
        origin, proxy = self.start([test_filter(tag="a"), test_filter(tag="b"), test_filter(tag="c")])
        response = self.client(proxy).request("GET", "/order")
        self.assertEqual(response.status, 200, response)
        (seen,) = origin.wait_for_requests(1)
        self.assertEqual(seen.header("x-chain-request"), "a,b,c", seen.headers)
        self.assertEqual(response.header("x-chain-response"), "c,b,a", response.headers)

    def test_keep_alive_across_filtered_requests(self):
        origin, proxy = self.start([test_filter(tag="a")])
        client = self.client(proxy)
        for i in range(5):
            response = client.request("GET", f"/k{i}")
            self.assertEqual(response.status, 200, response)
            self.assertEqual(response.header("x-chain-response"), "a")
        origin.wait_for_requests(5)

    # -- pause and resume -------------------------------------------------------------------------------------
    def test_pause_resumed_by_timer(self):
        origin, proxy = self.start([test_filter(tag="a", pause_ms=50), test_filter(tag="b")])
        response = self.client(proxy).request("GET", "/paused")
        self.assertEqual(response.status, 200, response)
        (seen,) = origin.wait_for_requests(1)
        self.assertEqual(seen.header("x-chain-request"), "a,b")

    def test_pause_resumed_from_another_thread(self):
        origin, proxy = self.start([test_filter(tag="t", pause_thread_ms=30)])
        client = self.client(proxy)
        for _ in range(3):
            response = client.request("GET", "/thread")
            self.assertEqual(response.status, 200, response)
        origin.wait_for_requests(3)

    def test_pause_never_resumed_gets_504(self):
        origin, proxy = self.start([test_filter(never_resume=True)], timeouts={"filter_pause": "300ms"})
        response = self.client(proxy).request("GET", "/stuck")
        self.assertEqual(response.status, 504, response)
        self.assertEqual(origin.complete_requests(), [])

    # -- local replies ----------------------------------------------------------------------------------------
    def test_local_reply_passes_only_the_filters_before_it(self):
        origin, proxy = self.start([test_filter(tag="a"), test_filter(tag="b", reply_status=403, reply_body="no\n"),
                                    test_filter(tag="c")])
        response = self.client(proxy).request("GET", "/blocked")
        self.assertEqual(response.status, 403, response)
        self.assertEqual(response.body, b"no\n")
        self.assertEqual(response.header("x-replied-by"), "b")
        self.assertEqual(response.header("x-chain-response"), "a", response.headers)
        self.assertEqual(origin.complete_requests(), [])
        self.assertEqual(origin.raw_bytes(), b"")

    def test_local_reply_keeps_the_connection(self):
        origin, proxy = self.start([test_filter(reply_status=200, reply_body="local\n")])
        client = self.client(proxy)
        for _ in range(3):
            response = client.request("GET", "/")
            self.assertEqual((response.status, response.body), (200, b"local\n"))

    def test_local_reply_with_unread_request_body_closes(self):
        origin, proxy = self.start([test_filter(reply_status=403, reply_body="no\n")])
        client = self.client(proxy)
        client.send(b"POST /up HTTP/1.1\r\nHost: example.com\r\nContent-Length: 100000\r\n\r\n" + b"x" * 1000)
        response = client.read_response()
        self.assertEqual(response.status, 403, response)
        self.assertIn("close", response.tokens("connection"))

    def test_streamed_local_reply(self):
        origin, proxy = self.start([test_filter(tag="a"), test_filter(stream_reply=3)])
        response = self.client(proxy).request("GET", "/stream")
        self.assertEqual(response.status, 200, response)
        self.assertEqual(response.body, b"piece 1\npiece 2\npiece 3\n")
        self.assertEqual(response.header("x-chain-response"), "a")
        self.assertEqual(origin.complete_requests(), [])

    # -- bodies -----------------------------------------------------------------------------------------------
    def test_response_body_transformed_and_rechunked(self):
        body = b"hello, world " * 1000
        origin, proxy = self.start([test_filter(upper_response=True)], handler=fixed_handler(200, body))
        response = self.client(proxy).request("GET", "/upper")
        self.assertEqual(response.status, 200, response)
        self.assertEqual(response.body, body.upper())
        self.assertEqual(response.header("content-length"), None)
        self.assertIn("chunked", response.tokens("transfer-encoding"))

    def test_response_body_transformed_for_http10_client_ends_with_close(self):
        body = b"abc" * 5000
        origin, proxy = self.start([test_filter(upper_response=True)], handler=fixed_handler(200, body))
        client = self.client(proxy)
        client.send(b"GET /old HTTP/1.0\r\nHost: example.com\r\n\r\n")
        data = client.read_until_close()
        head, _, rest = data.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 200"), head)
        self.assertEqual(rest, body.upper())

    def test_large_response_body_streams_through_a_transform(self):
        body = bytes(range(97, 123)) * (4 << 20 // 26)
        origin, proxy = self.start([test_filter(upper_response=True)], handler=fixed_handler(200, body))
        response = self.client(proxy).request("GET", "/big")
        self.assertEqual(response.status, 200)
        self.assertEqual(len(response.body), len(body))
        self.assertEqual(response.body, body.upper())

    def test_request_body_inspected_whole_before_forwarding(self):
        origin, proxy = self.start([test_filter(count_request_body=True)])
        client = self.client(proxy)
        body = b"0123456789" * 3000
        response = client.request("POST", "/count", body=body)
        self.assertEqual(response.status, 200, response)
        (seen,) = origin.wait_for_requests(1)
        self.assertEqual(seen.header("x-body-bytes"), str(len(body)))
        self.assertEqual(seen.body, body)
        # chunked from the client: the same
        client.send(b"POST /count HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n"
                    b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
        response = client.read_response()
        self.assertEqual(response.status, 200, response)
        seen = origin.wait_for_requests(2)[1]
        self.assertEqual(seen.header("x-body-bytes"), "11")
        self.assertEqual(seen.body, b"hello world")

    def test_request_body_matching_is_blocked_before_the_origin(self):
        origin, proxy = self.start([test_filter(block_body_containing="attack")])
        client = self.client(proxy)
        response = client.request("POST", "/form", body=b"a=1&b=" + b"x" * 20000 + b"attack" + b"y" * 100)
        self.assertEqual(response.status, 403, response)
        self.assertNotIn(b"attack", origin.raw_bytes())
        response = self.client(proxy).request("POST", "/form", body=b"a=1&b=harmless")
        self.assertEqual(response.status, 200, response)

    def test_request_body_past_the_filter_buffer_is_413(self):
        origin, proxy = self.start([test_filter(count_request_body=True)], route_extra={"filter_buffer": "64KiB"})
        response = self.client(proxy).request("POST", "/big", body=b"z" * (256 * 1024))
        self.assertEqual(response.status, 413, response)
        self.assertEqual(origin.complete_requests(), [])

    # -- failures ---------------------------------------------------------------------------------------------
    def test_failing_hook_fail_closed_gives_500_and_names_the_filter(self):
        origin, proxy = self.start([test_filter(fail="request_headers")])
        response = self.client(proxy).request("GET", "/fail")
        self.assertEqual(response.status, 500, response)
        proxy.wait_for_log(r"chain_test\.test_filter.*on_request_headers")
        self.assertEqual(origin.complete_requests(), [])

    def test_failing_response_hook_gives_500(self):
        origin, proxy = self.start([test_filter(fail="response_headers")])
        response = self.client(proxy).request("GET", "/fail")
        self.assertEqual(response.status, 500, response)

    def test_failing_hook_fail_open_is_skipped(self):
        origin, proxy = self.start([test_filter(fail="request_headers", on_error="fail-open"), test_filter(tag="b")])
        response = self.client(proxy).request("GET", "/open")
        self.assertEqual(response.status, 200, response)
        self.assertEqual(response.header("x-chain-response"), "b")
        proxy.wait_for_log(r"fail-open")

    def test_failing_worker_init_stops_the_start(self):
        origin = self.start_origin(echo_handler())
        route = {"match": {"prefix": "/"}, "upstream": "app", "filters": [test_filter(fail_worker_init=True)]}
        config = make_config({"app": [origin]}, [route], server={"plugin_dirs": [PLUGIN_DIR]})
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "portico.toml"), "w") as f:
                f.write(to_toml(config))
            result = run_portico(["-c", d])
        self.assertEqual(result.returncode, 1, result)
        self.assertIn("cannot start", result.stderr)
        self.assertIn("chain_test", result.stderr)

    # -- on_done ----------------------------------------------------------------------------------------------
    def test_on_done_called_once_per_stream_however_it_ends(self):
        path = self.done_file()
        origin, proxy = self.start([test_filter(tag="a", done_file=path), test_filter(tag="b", done_file=path)])
        client = self.client(proxy)
        self.assertEqual(client.request("GET", "/1").status, 200)
        self.assertEqual(client.request("GET", "/2").status, 200)
        # a client that leaves mid-request
        quitter = self.client(proxy)
        quitter.send(b"POST /x HTTP/1.1\r\nHost: example.com\r\nContent-Length: 1000\r\n\r\nabc")
        quitter.close()

        def lines():
            with open(path) as f:
                return f.read().splitlines()
        wait_until(lambda: len(lines()) >= 6, what="six on_done lines")
        done = lines()
        self.assertEqual(sorted(done).count("on_done a 1 200"), 2, done)
        self.assertEqual(sorted(done).count("on_done b 1 200"), 2, done)
        self.assertEqual(len(done), 6, done)


if __name__ == "__main__":
    main()
