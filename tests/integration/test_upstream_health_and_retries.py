"""The host's side of load balancing: active health checks take endpoints down and back up (logged), passive
outlier detection ejects an endpoint that keeps failing (for longer each time, never the whole pool), unhealthy
endpoints get no traffic while a healthy one exists, all down is a 503 at once, and a route's retry policy resends
failed attempts to endpoints not yet tried, within its budget."""

import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (  # noqa: E402
    WAIT_TIMEOUT, PorticoCase, build_path, echo_handler, main, raw_handler, refused_port, wait_until)

CHAIN_FILTER_DIR = build_path("tests", "fixtures", "chain_filter", "dir")


class Switch:
    """What an origin answers, changed by the test while it runs: `status` for traffic, `health` for the
    health-check path, and `hold` (an Event) to make traffic wait."""

    def __init__(self, status=200, health=200):
        self.status = status
        self.health = health
        self.hold = None

    def handler(self):
        def handle(request, conn):
            if request.target == "/healthz":
                conn.send_response(self.health, [("Content-Length", "0")])
                return True
            if self.hold is not None:
                self.hold.wait(WAIT_TIMEOUT)
            if self.status == 200:
                return echo_handler([("X-Origin", conn.origin.name)])(request, conn)
            conn.send_response(self.status, [("Content-Length", "0"), ("X-Origin", conn.origin.name)])
            return True
        return handle


def traffic(origin):
    """Requests the origin saw, health checks left out."""
    with origin.lock:
        return [r for r in origin.requests if r.target != "/healthz"]


def checks(origin):
    with origin.lock:
        return [r for r in origin.requests if r.target == "/healthz"]


FAST_CHECKS = {"path": "/healthz", "interval": "100ms", "timeout": "80ms", "rise": 2, "fall": 2}


class UpstreamHealthTest(PorticoCase):

    def origins(self, *switches):
        return [self.start_origin(s.handler(), name=f"o{i}") for i, s in enumerate(switches)]

    def get(self, proxy, path="/"):
        return self.client(proxy).request("GET", path)

    def test_active_checks_run_without_traffic(self):
        a, = self.origins(Switch())
        self.start_portico(upstreams={"app": {"endpoints": [a], "health": FAST_CHECKS}})
        wait_until(lambda: len(checks(a)) >= 3, what="three health checks with no traffic")
        check = checks(a)[0]
        self.assertEqual(check.method, "GET")
        self.assertEqual(check.header("host"), a.address)
        self.assertEqual(traffic(a), [])

    def test_failing_checks_take_an_endpoint_down_and_passing_ones_bring_it_back(self):
        sa, sb = Switch(health=503), Switch()
        a, b = self.origins(sa, sb)
        proxy = self.start_portico(upstreams={"app": {"endpoints": [a, b], "health": FAST_CHECKS}},
                                   server={"workers": 1})
        proxy.wait_for_log(rf"upstream app: {a.address} DOWN \(2 failed checks: status 503\)")
        for i in range(10):
            response = self.get(proxy, f"/while-down/{i}")
            self.assertEqual(response.status, 200, response)
            self.assertEqual(response.header("x-origin"), "o1", f"request {i} went to the DOWN endpoint")
        sa.health = 200
        proxy.wait_for_log(rf"upstream app: {a.address} UP \(2 passed checks\)")
        seen = {self.get(proxy, f"/after/{i}").header("x-origin") for i in range(6)}
        self.assertEqual(seen, {"o0", "o1"}, "traffic did not return to the endpoint that came back UP")

    def test_a_refused_check_is_logged_with_its_reason(self):
        dead = refused_port()
        b, = self.origins(Switch())
        proxy = self.start_portico(upstreams={"app": {"endpoints": [dead, b], "health": FAST_CHECKS}})
        proxy.wait_for_log(rf"upstream app: 127\.0\.0\.1:{dead} DOWN \(2 failed checks: Connection refused\)")

    def test_a_check_that_times_out_fails(self):
        sa = Switch()
        a, b = self.origins(sa, Switch())
        stuck = threading.Event()
        self.addCleanup(stuck.set)

        def slow_health(request, conn):
            if request.target == "/healthz":
                stuck.wait(WAIT_TIMEOUT)
                return False
            return sa.handler()(request, conn)
        a.handler = slow_health
        proxy = self.start_portico(upstreams={"app": {"endpoints": [a, b], "health": FAST_CHECKS}})
        proxy.wait_for_log(rf"upstream app: {a.address} DOWN \(2 failed checks: timed out\)")

    def test_a_check_answered_with_early_hints_and_200_in_one_segment_passes(self):
        # 103 and the final 200 arrive together and the origin keeps the connection open: the 200 must be read from
        # what is already buffered (the checker used to wait for more bytes and time out).
        def hints_then_ok(request, conn):
            if request.target == "/healthz":
                conn.send(b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"
                          b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                return True
            return echo_handler()(request, conn)
        a = self.start_origin(hints_then_ok)
        proxy = self.start_portico(upstreams={"app": {"endpoints": [a], "health": FAST_CHECKS}})
        wait_until(lambda: len(checks(a)) >= 4, what="four health checks")
        self.assertFalse([l for l in proxy.stderr_lines() if " DOWN " in l], proxy.stderr_text())

    def test_a_check_response_head_over_4_kib_fails(self):
        # The checker reads heads into 4 KiB: a bigger one is a failed check, not a wait or an overflow.
        def huge_head(request, conn):
            if request.target == "/healthz":
                conn.send_response(200, [("X-Big", "b" * 5000), ("Content-Length", "0")])
                return True
            return echo_handler()(request, conn)
        a = self.start_origin(huge_head)
        b = self.start_origin(echo_handler())
        proxy = self.start_portico(upstreams={"app": {"endpoints": [a, b], "health": FAST_CHECKS}})
        proxy.wait_for_log(rf"upstream app: {a.address} DOWN \(2 failed checks: response head too large\)")

    def test_all_endpoints_down_is_503_at_once(self):
        a, b = self.origins(Switch(health=500), Switch(health=500))
        proxy = self.start_portico(upstreams={"app": {"endpoints": [a, b], "health": FAST_CHECKS}})
        proxy.wait_for_log(r"upstream app: .* DOWN", count=2)
        started = time.monotonic()
        response = self.get(proxy)
        self.assertEqual(response.status, 503, response)
        self.assertLess(time.monotonic() - started, 2.0, "503 was not immediate")
        self.assertEqual(traffic(a) + traffic(b), [])
        self.assert_no_origin_address(response.raw_head + response.body, [a, b])


class OutlierDetectionTest(PorticoCase):

    def origins(self, *switches):
        return [self.start_origin(s.handler(), name=f"o{i}") for i, s in enumerate(switches)]

    def test_consecutive_5xx_eject_an_endpoint_for_longer_each_time(self):
        sa = Switch(status=502)
        a, b = self.origins(sa, Switch())
        outlier = {"consecutive_failures": 3, "base_ejection": "500ms", "max_ejection": "10s"}
        proxy = self.start_portico(upstreams={"app": {"endpoints": [a, b], "outlier": outlier}},
                                   server={"workers": 1})
        client = self.client(proxy)
        statuses = [client.request("GET", f"/r/{i}").status for i in range(6)]
        # Round robin: a's three 502s pass through (502 is not retried by default), then a is ejected.
        self.assertEqual(statuses.count(502), 3, statuses)
        proxy.wait_for_log(rf"upstream app: {a.address} ejected for 500ms \(3 failures in a row: status 502\)")
        during = [client.request("GET", f"/ejected/{i}") for i in range(6)]
        self.assertTrue(all(r.status == 200 for r in during), during)
        # After the ejection a gets traffic again (logged); three more failures eject it for twice as long.
        wait_until(lambda: client.request("GET", "/probe").status == 502, what="traffic back to the ejected one")
        proxy.wait_for_log(rf"upstream app: {a.address} back after its ejection")
        for _ in range(6):
            client.request("GET", "/again")
        proxy.wait_for_log(rf"upstream app: {a.address} ejected for 1s \(3 failures in a row: status 502\)")

    def test_ejection_never_takes_more_than_the_allowed_share(self):
        # Four failing endpoints and a 50% cap: two are ejected, and two keep serving (their 500s pass through).
        # With four, the cap is what stops the third ejection, not the rule that keeps the last endpoint.
        origins = self.origins(*[Switch(status=500) for _ in range(4)])
        outlier = {"consecutive_failures": 2, "max_ejected_percent": 50}
        proxy = self.start_portico(upstreams={"app": {"endpoints": origins, "outlier": outlier}},
                                   server={"workers": 1})
        client = self.client(proxy)
        for i in range(24):
            self.assertEqual(client.request("GET", f"/r/{i}").status, 500)
        self.assertEqual(len(proxy.wait_for_log(r"ejected for", count=2)), 2)
        self.assertEqual(len([l for l in proxy.stderr_lines() if "ejected for" in l]), 2,
                         "more than half of the pool was ejected")

    def test_the_last_endpoint_that_can_serve_is_never_ejected(self):
        # a is DOWN by its checks; b fails every request. Ejecting b would leave nothing: 503s instead of b's 500s.
        a, b = self.origins(Switch(health=503), Switch(status=500))
        proxy = self.start_portico(upstreams={"app": {"endpoints": [a, b], "health": FAST_CHECKS,
                                                      "outlier": {"consecutive_failures": 2}}},
                                   server={"workers": 1})
        proxy.wait_for_log(rf"upstream app: {a.address} DOWN")
        client = self.client(proxy)
        statuses = [client.request("GET", f"/r/{i}").status for i in range(8)]
        self.assertEqual(statuses, [500] * 8, "the last endpoint that could serve was ejected")
        self.assertFalse([l for l in proxy.stderr_lines() if "ejected for" in l], proxy.stderr_text())

    def test_connect_failures_eject_a_dead_endpoint(self):
        dead = refused_port()
        b, = self.origins(Switch())
        proxy = self.start_portico(upstreams={"app": {"endpoints": [dead, b],
                                                      "outlier": {"consecutive_failures": 2}}},
                                   server={"workers": 1})
        client = self.client(proxy)
        for i in range(8):
            self.assertEqual(client.request("GET", f"/r/{i}").status, 200)
        proxy.wait_for_log(rf"upstream app: 127\.0\.0\.1:{dead} ejected for 10s \(2 failures in a row: ")
        refused = [l for l in proxy.stderr_lines() if f"127.0.0.1:{dead}: Connection refused" in l]
        self.assertEqual(len(refused), 2, "the ejected endpoint was still tried")


class RetryPolicyTest(PorticoCase):

    def origins(self, *switches):
        return [self.start_origin(s.handler(), name=f"o{i}") for i, s in enumerate(switches)]

    def route(self, **retry):
        return [{"match": {"prefix": "/"}, "upstream": "app", "retry": retry}]

    def test_listed_statuses_are_retried_on_another_endpoint_for_idempotent_requests(self):
        a, b = self.origins(Switch(status=503), Switch())
        proxy = self.start_portico(upstreams={"app": {"endpoints": [a, b], "outlier": {"consecutive_failures": 0}}},
                                   routes=self.route(on=["503"]), server={"workers": 1})
        client = self.client(proxy)
        for i in range(10):
            response = client.request("GET", f"/g/{i}")
            self.assertEqual(response.status, 200, f"request {i}: {response}")
        # A POST is not repeated: the client gets the origin's 503 when a answers it.
        statuses = [client.request("POST", f"/p/{i}", body=b"x").status for i in range(4)]
        self.assertIn(503, statuses)
        posts = [r for r in traffic(a) + traffic(b) if r.method == "POST"]
        self.assertEqual(len(posts), 4, "a POST was sent twice")

    def test_a_retry_never_goes_to_an_endpoint_already_tried(self):
        a, b, c = self.origins(Switch(status=503), Switch(status=503), Switch(status=503))
        proxy = self.start_portico(
            upstreams={"app": {"endpoints": [a, b, c], "outlier": {"consecutive_failures": 0}}},
            routes=self.route(on=["503"], attempts=3))
        response = self.client(proxy).request("GET", "/all-fail")
        self.assertEqual(response.status, 503)
        self.assertEqual([len(traffic(o)) for o in (a, b, c)], [1, 1, 1])

    def test_ten_attempts_over_ten_endpoints_try_each_once(self):
        origins = self.origins(*[Switch(status=503) for _ in range(10)])
        proxy = self.start_portico(
            upstreams={"app": {"endpoints": origins, "outlier": {"consecutive_failures": 0}}},
            routes=self.route(on=["503"], attempts=10, budget_percent=100))
        self.assertEqual(self.client(proxy).request("GET", "/all").status, 503)
        self.assertEqual([len(traffic(o)) for o in origins], [1] * 10)

    def test_a_stale_pooled_connection_is_replayed_on_a_filtered_route_too(self):
        # The origin closes each connection after answering as if keeping it: the next request on the pooled
        # connection meets a closed socket. That is no failed attempt, even with attempts = 1.
        origin = self.start_origin(raw_handler(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", keep_alive=False))
        routes = [{"match": {"prefix": "/"}, "upstream": "app", "retry": {"attempts": 1},
                   "filters": [{"use": "test_filter", "tag": "t"}]}]
        proxy = self.start_portico(upstreams={"app": [origin]}, routes=routes,
                                   server={"workers": 1, "plugin_dirs": [CHAIN_FILTER_DIR]})
        client = self.client(proxy)
        for i in range(10):
            response = client.request("GET", f"/f/{i}")
            self.assertEqual(response.status, 200, f"request {i}: {response}")

    def test_attempts_bound_the_tries(self):
        origins = self.origins(*[Switch(status=502) for _ in range(4)])
        proxy = self.start_portico(
            upstreams={"app": {"endpoints": origins, "outlier": {"consecutive_failures": 0}}},
            routes=self.route(on=["502"], attempts=2))
        self.assertEqual(self.client(proxy).request("GET", "/x").status, 502)
        self.assertEqual(sum(len(traffic(o)) for o in origins), 2)

    def test_an_exhausted_budget_stops_retries(self):
        a, b = self.origins(Switch(status=503), Switch(status=503))
        proxy = self.start_portico(
            upstreams={"app": {"endpoints": [a, b], "outlier": {"consecutive_failures": 0}}},
            routes=self.route(on=["503"], budget_percent=0, min_retries_per_second=0))
        self.assertEqual(self.client(proxy).request("GET", "/x").status, 503)
        self.assertEqual(len(traffic(a)) + len(traffic(b)), 1)
        proxy.wait_for_log(r"upstream app: retry budget exhausted")

    def test_per_try_timeout_moves_a_stuck_request_to_another_endpoint(self):
        sa = Switch()
        sa.hold = threading.Event()
        self.addCleanup(sa.hold.set)
        a, b = self.origins(sa, Switch())
        proxy = self.start_portico(
            upstreams={"app": {"endpoints": [a, b], "outlier": {"consecutive_failures": 0}}},
            routes=self.route(on=["timeout"], per_try_timeout="300ms"), server={"workers": 1})
        client = self.client(proxy)
        for i in range(4):
            response = client.request("GET", f"/t/{i}")
            self.assertEqual(response.status, 200, response)
            self.assertEqual(response.header("x-origin"), "o1")

    def test_without_timeout_in_on_a_stuck_try_is_504(self):
        sa = Switch()
        sa.hold = threading.Event()
        self.addCleanup(sa.hold.set)
        a, = self.origins(sa)
        proxy = self.start_portico(upstreams={"app": [a]}, routes=self.route(per_try_timeout="200ms"))
        self.assertEqual(self.client(proxy).request("GET", "/stuck").status, 504)


if __name__ == "__main__":
    main()
