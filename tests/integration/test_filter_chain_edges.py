"""Edges of the filter chain, with the fixture plugin tests/fixtures/chain_edges (raw C ABI): backpressure from
STOP_NO_BUFFER in both directions, streamed local replies bigger than the buffers, local replies from response
hooks, fail-open body hooks, clients leaving while a filter is paused, pipelining, Expect: 100-continue, HTTP/1.0,
HEAD, request re-framing after a filter changed the length, header validation at the wire, posters after the end,
timers re-armed and cancelled, upstream failures and on_done, and many streams at once."""

import hashlib
import os
import socket
import struct
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (  # noqa: E402
    PorticoCase, RawClient, echo_handler, fixed_handler, main, refused_port, request_bytes,
    wait_until, SCALE)

BUILD = os.environ.get("PORTICO_BUILD_DIR", "build")
EDGE_DIR = os.path.join(BUILD, "tests", "fixtures", "chain_edges", "dir")


def edge(**keys):
    return dict({"use": "edge_filter"}, **keys)


def pattern(n):
    """What the fixture's streamed reply sends: 'a' + offset % 26."""
    alphabet = bytes(range(97, 123))
    return (alphabet * (n // 26 + 1))[:n]


def stalled(progress, quiet=0.5, timeout=20.0):
    """Waits until progress() stops changing for `quiet` seconds (the sender is blocked); returns its value."""
    last = [progress(), time.monotonic()]

    def check():
        now = progress()
        if now != last[0]:
            last[0], last[1] = now, time.monotonic()
            return False
        return time.monotonic() - last[1] >= quiet

    wait_until(check, timeout=timeout * SCALE, interval=0.05, what="the sender to stall")
    return last[0]


class Sender(threading.Thread):
    """Sends `total` bytes of `chunk` repeated after `head` on a socket, counting what the kernel took."""

    def __init__(self, sock, head, total, chunk=b"q" * 65536):
        super().__init__(daemon=True)
        self.sock, self.head, self.total, self.chunk = sock, head, total, chunk
        self.sent = 0
        self.error = None
        self.sha = hashlib.sha256()

    def run(self):
        try:
            self.sock.sendall(self.head)
            while self.sent < self.total:
                piece = self.chunk[:self.total - self.sent]
                self.sock.sendall(piece)
                self.sha.update(piece)
                self.sent += len(piece)
        except OSError as error:
            self.error = error


class FilterChainEdgesTest(PorticoCase):

    def start(self, filters, handler=None, route_extra=None, origin=None, upstream=None, **sections):
        if origin is None and upstream is None:
            origin = self.start_origin(handler or echo_handler())
        route = {"match": {"prefix": "/"}, "upstream": "app", "filters": filters}
        route.update(route_extra or {})
        server = dict(sections.pop("server", {}), plugin_dirs=[EDGE_DIR])
        proxy = self.start_portico(upstreams={"app": upstream or [origin]}, routes=[route], server=server,
                                   **sections)
        return origin, proxy

    def report_file(self):
        fd, path = tempfile.mkstemp(prefix="portico-edges-")
        os.close(fd)
        self.addCleanup(lambda: os.path.exists(path) and os.unlink(path))
        return path

    def resume_path(self):
        path = tempfile.mktemp(prefix="portico-resume-")
        self.addCleanup(lambda: os.path.exists(path) and os.unlink(path))
        return path

    @staticmethod
    def lines(path):
        with open(path) as f:
            return f.read().splitlines()

    def wait_lines(self, path, predicate, what, timeout=20.0):
        return wait_until(lambda: predicate(self.lines(path)) and self.lines(path), timeout=timeout * SCALE,
                          what=what)

    @staticmethod
    def done_lines(lines, tag=None):
        out = []
        for line in lines:
            parts = line.split()
            if len(parts) >= 2 and parts[1] == "done" and (tag is None or parts[0] == tag):
                out.append(parts)
        return out

    # -- backpressure ------------------------------------------------------------------------------------------
    def test_stop_no_buffer_on_a_large_request_body_stops_reading_the_client(self):
        resume = self.resume_path()
        total = 64 << 20
        origin, proxy = self.start([edge(req_body="nobuffer", resume_file=resume)],
                                   timeouts={"filter_pause": "60s", "client_body": "60s"})
        client = self.client(proxy)
        baseline = proxy.rss()
        sender = Sender(client.sock, request_bytes("POST", "/nb", content_length=total), total)
        sender.start()
        sent = stalled(lambda: sender.sent)
        self.assertLess(sent, 16 << 20, "the proxy kept reading a client whose body a filter paused")
        self.assertLess(proxy.rss() - baseline, 24 << 20, "RSS grew while the source should not be read")
        open(resume, "w").close()
        sender.join(60 * SCALE)
        self.assertIsNone(sender.error)
        response = client.read_response()
        self.assertEqual(response.status, 200, response)
        (seen,) = origin.wait_for_requests(1)
        self.assertEqual(seen.body_length, total)
        self.assertEqual(seen.body_sha256, sender.sha.hexdigest())

    def test_stop_no_buffer_on_a_large_response_body_stops_reading_the_origin(self):
        resume = self.resume_path()
        total = 64 << 20
        progress = {"sent": 0, "error": None}

        def handler(request, conn):
            conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % total)
            block = pattern(1 << 16)
            try:
                while progress["sent"] < total:
                    conn.send(block[:total - progress["sent"]])
                    progress["sent"] += min(len(block), total - progress["sent"])
            except OSError as error:
                progress["error"] = error
            return True

        origin, proxy = self.start([edge(resp_body="nobuffer", resume_file=resume)], handler=handler,
                                   timeouts={"filter_pause": "60s", "upstream_read": "60s"})
        client = self.client(proxy)
        baseline = proxy.rss()
        client.send(request_bytes("GET", "/big"))
        sent = stalled(lambda: progress["sent"])
        self.assertLess(sent, 16 << 20, "the proxy kept reading an origin whose body a filter paused")
        self.assertLess(proxy.rss() - baseline, 24 << 20, "RSS grew while the source should not be read")
        open(resume, "w").close()
        head = client.read_response_head()
        self.assertEqual(head.status, 200, head)
        digest = hashlib.sha256()
        client.stream_body(total, digest.update)
        expected = hashlib.sha256()
        block = pattern(1 << 16)
        for _ in range(total // len(block)):
            expected.update(block)
        self.assertEqual(digest.hexdigest(), expected.hexdigest())

    def test_streamed_local_reply_bigger_than_the_buffers_honours_backpressure(self):
        report = self.report_file()
        total = 8 << 20
        origin, proxy = self.start([edge(tag="s", report_file=report, stream_bytes=total, stream_piece=65536)])
        client = self.client(proxy)
        client.send(request_bytes("GET", "/stream"))
        head = client.read_response_head()
        self.assertEqual(head.status, 200, head)
        client.read_body(head)
        self.assertEqual(len(head.body), total)
        self.assertEqual(head.body, pattern(total))
        lines = self.wait_lines(report, lambda ls: any(" stream_stats " in line for line in ls), "stream stats")
        stats = [line.split() for line in lines if " stream_stats " in line][0]
        self.assertGreater(int(stats[3]), 0, "send_body never returned PORTICO_E_BACKPRESSURE for 8 MiB")
        self.assertGreater(int(stats[4]), 0, "no PORTICO_EVENT_WRITABLE")
        self.assertEqual(origin.raw_bytes(), b"")

    def test_streamed_local_reply_through_a_buffering_filter_completes(self):
        # filter 0 holds the whole response (STOP_AND_BUFFER until the end); filter 1 streams a 1 MiB reply and
        # waits for WRITABLE after each PORTICO_E_BACKPRESSURE. The reply must still complete.
        total = 1 << 20
        origin, proxy = self.start([edge(resp_headers="buffer", resp_body="buffer"),
                                    edge(stream_bytes=total, stream_piece=65536)],
                                   route_extra={"filter_buffer": "8MiB"})
        client = self.client(proxy, timeout=10 * SCALE)
        client.send(request_bytes("GET", "/stream"))
        response = client.read_response()
        self.assertEqual(response.status, 200, response)
        self.assertEqual(response.body, pattern(total))

    def test_slow_small_pieces_do_not_inflate_memory(self):
        # A passthrough filter, then one that holds the request body (a WAF): every small read the client makes
        # must not cost a whole heap chunk.
        origin, proxy = self.start([edge(tag="pass"), edge(req_headers="buffer", req_body="buffer")],
                                   route_extra={"filter_buffer": "4MiB"})
        client = self.client(proxy)
        pieces = 4000
        client.send(request_bytes("POST", "/slow", content_length=pieces * 8 + 1))
        baseline = proxy.rss()
        for i in range(pieces):
            client.sock.send(b"%08d" % i)
            time.sleep(0.0003)  # pacing, not waiting: each piece should be its own read at the proxy
        growth = proxy.rss() - baseline
        client.send(b"!")
        response = client.read_response()
        self.assertEqual(response.status, 200, response)
        self.assertLess(growth, 8 << 20, f"RSS grew by {growth / 2**20:.1f} MiB for {pieces * 8} body bytes")

    def test_filter_buffer_smaller_than_the_socket_buffer_does_not_fail_plain_streaming(self):
        # Nobody holds anything on purpose: a small filter_buffer must not turn a streamed body into a 413 / 500.
        body = b"s" * (200 * 1024)
        origin, proxy = self.start([edge(tag="pass")], route_extra={"filter_buffer": "8KiB"})
        response = self.client(proxy).request("POST", "/up", body=body)
        self.assertEqual(response.status, 200, response)
        self.assertEqual(origin.wait_for_requests(1)[0].body, body)

    # -- bytes that arrive while a filter waits ----------------------------------------------------------------
    def test_body_that_arrived_during_a_pause_still_goes_through_a_later_body_hook(self):
        # filter 0 pauses the request headers; the whole body arrives meanwhile; filter 1 upper-cases bodies.
        origin, proxy = self.start([edge(req_headers="stop", resume_ms=150), edge(upper_request=True)])
        client = self.client(proxy)
        body = b"lower case body " * 100
        response = client.request("POST", "/up", body=body)
        self.assertEqual(response.status, 200, response)
        (seen,) = origin.wait_for_requests(1)
        self.assertEqual(seen.body, body.upper(), "filter 1's body hook was skipped")

    def test_body_that_arrived_during_its_own_pause_goes_through_the_filters_body_hook(self):
        origin, proxy = self.start([edge(req_headers="stop", resume_ms=150, upper_request=True)])
        body = b"lower case body " * 100
        response = self.client(proxy).request("POST", "/up", body=body)
        self.assertEqual(response.status, 200, response)
        (seen,) = origin.wait_for_requests(1)
        self.assertEqual(seen.body, body.upper(), "the pausing filter never saw the body it held")

    def test_response_body_that_arrived_during_a_pause_goes_through_the_body_hook(self):
        # the filter pauses the response headers (an async lookup); the body arrives meanwhile
        body = b"origin says hello " * 100
        origin, proxy = self.start([edge(resp_headers="stop", resume_ms=150, upper_response=True)],
                                   handler=fixed_handler(200, body))
        response = self.client(proxy).request("GET", "/r")
        self.assertEqual(response.status, 200, response)
        self.assertEqual(response.body, body.upper(), "the body skipped the body hook of the filter that held it")

    # -- local replies from the response side ------------------------------------------------------------------
    def test_local_reply_from_on_response_headers(self):
        report = self.report_file()
        origin, proxy = self.start([edge(tag="a"), edge(tag="r", report_file=report, reply_in="response_headers",
                                                        reply_status=418, reply_body="teapot\n")],
                                   handler=fixed_handler(200, b"origin body " * 5000))
        client = self.client(proxy)
        response = client.request("GET", "/r")
        self.assertEqual((response.status, response.body), (418, b"teapot\n"), response)
        # the connection still serves the next request
        response = client.request("GET", "/r2")
        self.assertEqual(response.status, 418, response)
        self.assertIn("r reply response_headers 0 0", self.lines(report))

    def test_local_reply_from_on_response_body(self):
        report = self.report_file()
        origin, proxy = self.start([edge(tag="r", report_file=report, resp_headers="buffer", resp_body="buffer",
                                         reply_in="response_body", reply_status=451, reply_body="gone\n")],
                                   handler=fixed_handler(200, b"secret " * 1000))
        client = self.client(proxy)
        response = client.request("GET", "/r")
        self.assertEqual((response.status, response.body), (451, b"gone\n"), response)
        self.assertNotIn(b"secret", response.raw)
        self.assertEqual(client.request("GET", "/again").status, 451)

    def test_local_reply_headers_cannot_set_framing(self):
        # A local reply naming Transfer-Encoding must not put a chunked claim in front of a raw body.
        report = self.report_file()
        origin, proxy = self.start([edge(tag="r", report_file=report, reply_in="request_headers", reply_status=403,
                                         reply_body="blocked",
                                         reply_headers=["Transfer-Encoding: chunked", "Connection: keep-alive"])])
        client = self.client(proxy)
        client.send(request_bytes("GET", "/x"))
        data = client.recv_some()
        wait_until(lambda: self.lines(report), what="the reply report")
        head = data.split(b"\r\n\r\n", 1)[0].lower()
        if b"403" in data.split(b"\r\n", 1)[0]:
            self.assertNotIn(b"transfer-encoding", head, data)
            self.assertEqual(head.count(b"connection:"), 1, data)

    def test_local_reply_to_head_has_no_body_and_keeps_the_connection(self):
        origin, proxy = self.start([edge(reply_in="request_headers", reply_status=200, reply_body="local body\n")])
        client = self.client(proxy)
        client.send(request_bytes("HEAD", "/h"))
        response = client.read_response(method="HEAD")
        self.assertEqual(response.status, 200, response)
        self.assertEqual(response.header("content-length"), "11")
        response = client.request("GET", "/g")
        self.assertEqual((response.status, response.body), (200, b"local body\n"), response)

    # -- failing hooks -----------------------------------------------------------------------------------------
    def test_failing_response_body_hook_fail_open_passes_the_body_intact(self):
        body = b"keep me " * 20000
        origin, proxy = self.start([edge(resp_body="error", upper_response=True, on_error="fail-open")],
                                   handler=fixed_handler(200, body))
        response = self.client(proxy).request("GET", "/b")
        self.assertEqual(response.status, 200, response)
        # the hook upper-cased its first piece before failing: what it made stands, the rest passes untouched
        self.assertEqual(len(response.body), len(body))
        self.assertEqual(response.body.lower(), body)
        proxy.wait_for_log(r"on_response_body returned ERROR.*fail-open")

    def test_failing_request_body_hook_fail_open(self):
        body = b"b" * 100000
        origin, proxy = self.start([edge(req_body="error", on_error="fail-open"), edge(upper_request=True)])
        response = self.client(proxy).request("POST", "/b", body=body)
        self.assertEqual(response.status, 200, response)
        self.assertEqual(origin.wait_for_requests(1)[0].body, body.upper())

    def test_failing_response_body_hook_fail_closed_after_the_head_cuts_the_response(self):
        report = self.report_file()
        body = b"z" * 200000
        origin, proxy = self.start([edge(tag="f", report_file=report, resp_body="error")],
                                   handler=fixed_handler(200, body))
        client = self.client(proxy)
        client.send(request_bytes("GET", "/b"))
        data = client.read_until_close()
        self.assertTrue(data.startswith(b"HTTP/1.1 500") or data.startswith(b"HTTP/1.1 200"), data[:100])
        if data.startswith(b"HTTP/1.1 200"):
            self.assertLess(len(data.split(b"\r\n\r\n", 1)[1]), len(body))
        done = self.done_lines(self.wait_lines(report, lambda ls: self.done_lines(ls), "on_done"))
        self.assertEqual(len(done), 1, done)
        self.assertEqual(done[0][2], "4", done)

    # -- clients that leave ------------------------------------------------------------------------------------
    def _leave_while_paused(self, how, action):
        report = self.report_file()
        resume = self.resume_path()  # never created
        origin, proxy = self.start([edge(tag="p", report_file=report, resume_file=resume, **action)],
                                   timeouts={"filter_pause": "60s"})
        client = RawClient(proxy.port)
        if "req_body" in action:
            client.send(request_bytes("POST", "/p", content_length=100000) + b"x" * 50000)
        else:
            client.send(request_bytes("GET", "/p"))
        self.wait_lines(report, lambda ls: any(" paused " in x for x in ls), "the filter to pause")
        if how == "reset":
            client.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()
        self.wait_lines(report, lambda ls: self.done_lines(ls), "on_done after the client left", timeout=10.0)
        open(resume, "w").close()  # from now on pauses resume: the proxy still serves
        response = self.client(proxy).request("GET", "/alive")
        self.assertEqual(response.status, 200, response)
        done = self.done_lines(self.lines(report), "p")
        self.assertEqual(done[0][2], "2", f"on_done reason should be RESET: {done}")
        return done

    def test_client_closing_while_request_headers_paused_gets_on_done_reset(self):
        self._leave_while_paused("close", {"req_headers": "stop"})

    def test_client_resetting_while_request_headers_paused_gets_on_done_reset(self):
        self._leave_while_paused("reset", {"req_headers": "stop"})

    def test_client_resetting_while_request_body_paused_no_buffer(self):
        self._leave_while_paused("reset", {"req_body": "nobuffer"})

    def test_client_leaving_during_a_streamed_reply(self):
        report = self.report_file()
        origin, proxy = self.start([edge(tag="s", report_file=report, stream_bytes=64 << 20, stream_piece=65536)])
        client = RawClient(proxy.port)
        client.send(request_bytes("GET", "/s"))
        client.read_response_head()
        client.read_exact(100000)
        client.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()
        lines = self.wait_lines(report, lambda ls: self.done_lines(ls), "on_done")
        done = self.done_lines(lines)
        self.assertEqual(len(done), 1, lines)
        self.assertEqual(done[0][2], "2", lines)
        self.assertEqual(self.client(proxy).request("GET", "/s").status, 200)

    # -- protocol corners --------------------------------------------------------------------------------------
    def test_pipelined_requests_with_paused_filters_answer_in_order(self):
        origin, proxy = self.start([edge(req_headers="stop", resume_ms=20), edge(upper_response=True)])
        client = self.client(proxy)
        client.send(b"".join(request_bytes("GET", f"/p{i}") for i in range(5))
                    + request_bytes("POST", "/p5", body=b"body five"))
        for i in range(6):
            response = client.read_response()
            self.assertEqual(response.status, 200, response)
            self.assertIn(f"/P{i}".encode(), response.body, response)

    def test_expect_100_continue_on_a_filtered_route(self):
        origin, proxy = self.start([edge(req_body="buffer", upper_request=True)])
        client = self.client(proxy)
        client.send(request_bytes("POST", "/e", headers=[("Expect", "100-continue")], content_length=5))
        interim = client.read_response(interim=False, read_body=False)
        self.assertEqual(interim.status, 100, interim)
        client.send(b"hello")
        response = client.read_response()
        self.assertEqual(response.status, 200, response)
        self.assertEqual(origin.wait_for_requests(1)[0].body, b"HELLO")

    def test_expect_100_continue_refused_by_a_filter_gets_no_100(self):
        origin, proxy = self.start([edge(reply_in="request_headers", reply_status=403, reply_body="no")])
        client = self.client(proxy)
        client.send(request_bytes("POST", "/e", headers=[("Expect", "100-continue")], content_length=5))
        response = client.read_response(interim=False)
        self.assertEqual(response.status, 403, "a 100 Continue went out before the filters decided")

    def test_http10_client_with_body_and_transformed_response(self):
        origin, proxy = self.start([edge(upper_request=True), edge(upper_response=True, remove_response_cl=True)])
        client = self.client(proxy)
        client.send(request_bytes("POST", "/old", body=b"abc", version="HTTP/1.0"))
        data = client.read_until_close()
        head, _, body = data.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 200"), head)
        self.assertNotIn(b"chunked", head.lower())
        self.assertEqual(origin.wait_for_requests(1)[0].body, b"ABC")
        self.assertIn(b"/OLD", body)

    def test_head_through_filters_that_drop_content_length(self):
        origin, proxy = self.start([edge(upper_response=True, remove_response_cl=True)],
                                   handler=fixed_handler(200, b"x" * 1234))
        client = self.client(proxy)
        client.send(request_bytes("HEAD", "/h"))
        response = client.read_response(method="HEAD")
        self.assertEqual(response.status, 200, response)
        self.assertEqual(response.tokens("transfer-encoding"), [])
        response = client.request("GET", "/g")
        self.assertEqual((response.status, response.body), (200, b"X" * 1234), response)

    # -- re-framing the request --------------------------------------------------------------------------------
    def test_removing_request_content_length_sends_chunked_upstream(self):
        origin, proxy = self.start([edge(remove_request_cl=True, append_request="-tail")])
        response = self.client(proxy).request("POST", "/c", body=b"x" * 70000)
        self.assertEqual(response.status, 200, response)
        (seen,) = origin.wait_for_requests(1)
        self.assertIn("chunked", seen.tokens("transfer-encoding"), seen.headers)
        self.assertIsNone(seen.header("content-length"))
        self.assertEqual(seen.body, b"x" * 70000 + b"-tail")

    def test_longer_body_with_content_length_kept_never_reaches_the_origin_complete(self):
        origin, proxy = self.start([edge(append_request="SMUGGLED")])
        client = self.client(proxy)
        response = client.request("POST", "/l", body=b"a" * 1000)
        self.assertEqual(response.status, 500, response)
        self.assertNotIn(b"SMUGGLED", origin.raw_bytes())
        self.assertEqual(origin.complete_requests(), [], "the origin got a complete request with a body the "
                                                         "filters did not make")

    def test_shorter_body_with_content_length_kept_is_500_and_never_framed_wrong(self):
        origin, proxy = self.start([edge(drop_request_bytes=10)])
        client = self.client(proxy)
        response = client.request("POST", "/s", body=b"0123456789" + b"b" * 990)
        self.assertEqual(response.status, 500, response)
        self.assertEqual(origin.complete_requests(), [])
        # a second connection works, and the origin never saw the short body followed by another request
        response = self.client(proxy).request("GET", "/next")
        self.assertEqual(response.status, 200, response)

    # -- header validation ---------------------------------------------------------------------------------------
    def test_invalid_header_names_and_values_are_refused(self):
        report = self.report_file()
        origin, proxy = self.start([edge(tag="h", report_file=report, header_probe=True)])
        client = self.client(proxy)
        response = client.request("GET", "/probe")
        self.assertEqual(response.status, 200, response)
        lines = self.wait_lines(report, lambda ls: len([x for x in ls if " probe " in x]) >= 2, "probe lines")
        self.assertIn("h probe request 0 0", lines, lines)
        self.assertIn("h probe response 0 0", lines, lines)
        self.assertEqual(response.header("x-probe-ok"), "fine value")
        self.assertNotIn(b"Injected", response.raw)
        raw = origin.raw_bytes()
        self.assertNotIn(b"Injected", raw)
        self.assertIn(b"X-Probe-Ok: fine value\r\n", raw)

    def test_status_set_to_an_interim_code_does_not_desync_the_client(self):
        report = self.report_file()
        origin, proxy = self.start([edge(tag="st", report_file=report, status_set=103)],
                                   handler=fixed_handler(200, b"final body"))
        client = self.client(proxy)
        client.send(request_bytes("GET", "/one"))
        first = client.read_response(interim=False)
        self.assertGreaterEqual(first.status, 200, "a 1xx went out as the final response")

    # -- posters and timers ------------------------------------------------------------------------------------
    def test_poster_post_after_the_stream_ended_is_closed(self):
        report = self.report_file()
        origin, proxy = self.start([edge(tag="lp", report_file=report, post_after_done=True)])
        client = self.client(proxy)
        for _ in range(5):
            self.assertEqual(client.request("GET", "/p").status, 200)
        lines = self.wait_lines(report, lambda ls: len([x for x in ls if " late_post " in x]) >= 5, "late posts")
        codes = [x.split()[2] for x in lines if " late_post " in x]
        self.assertEqual(codes, ["-10"] * 5, lines)
        self.assertFalse([x for x in lines if " post " in x], lines)

    def test_timers_rearmed_and_cancelled(self):
        report = self.report_file()
        origin, proxy = self.start([edge(tag="t", report_file=report, timer_dance=True)])
        response = self.client(proxy).request("GET", "/t")
        self.assertEqual(response.status, 200, response)
        lines = self.wait_lines(report, lambda ls: self.done_lines(ls), "on_done")
        timers = [x.split()[3] for x in lines if " timer dance " in x]
        self.assertEqual(timers, ["202", "204"], lines)
        self.assertIn("t resume request 0 0", lines)

    # -- upstream failures and on_done -------------------------------------------------------------------------
    def test_refused_upstream_on_a_filtered_route(self):
        report = self.report_file()
        origin, proxy = self.start([edge(tag="u", report_file=report)], upstream=[refused_port()])
        response = self.client(proxy).request("GET", "/u")
        self.assertEqual(response.status, 502, response)
        done = self.done_lines(self.wait_lines(report, lambda ls: self.done_lines(ls), "on_done"))
        self.assertEqual(len(done), 1, done)
        self.assertEqual(done[0][2:4], ["4", "502"], f"on_done should report ERROR and the 502 sent: {done}")

    def test_origin_502_on_a_filtered_route(self):
        report = self.report_file()
        origin, proxy = self.start([edge(tag="u", report_file=report)], handler=fixed_handler(502, b"bad gw"))
        response = self.client(proxy).request("GET", "/u")
        self.assertEqual((response.status, response.body), (502, b"bad gw"))
        done = self.done_lines(self.wait_lines(report, lambda ls: self.done_lines(ls), "on_done"))
        self.assertEqual(done[0][2:5], ["1", "502", "0"], done)

    def test_origin_cutting_the_response_short(self):
        report = self.report_file()

        def handler(request, conn):
            conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"c" * 1000)
            return False

        origin, proxy = self.start([edge(tag="u", report_file=report)], handler=handler)
        client = self.client(proxy)
        client.send(request_bytes("GET", "/u"))
        data = client.read_until_close()
        self.assertTrue(data.startswith(b"HTTP/1.1 200") or data.startswith(b"HTTP/1.1 502"), data[:80])
        done = self.done_lines(self.wait_lines(report, lambda ls: self.done_lines(ls), "on_done"))
        self.assertEqual(len(done), 1, done)
        self.assertEqual(done[0][2], "2", done)

    def test_filter_error_page_reports_its_status_to_on_done(self):
        report = self.report_file()
        origin, proxy = self.start([edge(tag="e", report_file=report), edge(req_headers="error")])
        response = self.client(proxy).request("GET", "/e")
        self.assertEqual(response.status, 500, response)
        done = self.done_lines(self.wait_lines(report, lambda ls: self.done_lines(ls), "on_done"))
        self.assertEqual(done[0][2:4], ["4", "500"], done)

    # -- load --------------------------------------------------------------------------------------------------
    def test_many_concurrent_filtered_requests(self):
        report = self.report_file()
        origin, proxy = self.start([edge(tag="c", report_file=report, req_headers="stop", resume_ms=20),
                                    edge(upper_response=True)])
        n = 200
        results = [None] * n

        def one(i):
            try:
                c = RawClient(proxy.port)
                try:
                    response = c.request("POST", f"/c{i}", body=b"payload %d" % i)
                    results[i] = (response.status, response.body)
                finally:
                    c.close()
            except Exception as error:  # noqa: BLE001
                results[i] = ("error", repr(error))

        threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60 * SCALE)
        bad = [(i, r) for i, r in enumerate(results) if not r or r[0] != 200]
        self.assertEqual(bad, [])
        for i, (status, body) in enumerate(results):
            self.assertIn(b'"/C%d"' % i, body)
            self.assertIn(hashlib.sha256(b"payload %d" % i).hexdigest().upper().encode(), body)
        done = self.done_lines(self.wait_lines(report, lambda ls: len(self.done_lines(ls)) >= n, "all on_done"))
        self.assertEqual(len(done), n)
        self.assertTrue(all(d[2:4] == ["1", "200"] for d in done), done[:5])


if __name__ == "__main__":
    main()
