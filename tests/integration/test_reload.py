"""SIGHUP reloads the configuration without dropping a connection: new requests follow the new routes and
upstreams, requests in flight finish where they started (an endpoint removed by the reload is drained, not cut),
and a configuration with problems is refused with its FILE:LINE:COL and leaves the running one in place."""

import os
import signal
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (  # noqa: E402
    WAIT_TIMEOUT, PorticoCase, RawClient, build_path, echo_handler, hold_handler, main, make_config,
    request_bytes, to_toml)

CHAIN_FILTER_DIR = build_path("tests", "fixtures", "chain_filter", "dir")


def named(name):
    return echo_handler([("X-Origin", name)])


class ReloadTest(PorticoCase):

    def reload(self, proxy, config, count=1):
        with open(proxy.config_path, "w") as f:
            f.write(to_toml(config))
        proxy.proc.send_signal(signal.SIGHUP)
        return proxy.wait_for_log(r"configuration reloaded|reload failed", count=count)[-1]

    def test_new_requests_follow_the_reloaded_upstream(self):
        a = self.start_origin(named("a"))
        b = self.start_origin(named("b"))
        proxy = self.start_portico(upstreams={"app": [a]})
        self.assertEqual(self.client(proxy).request("GET", "/").header("x-origin"), "a")
        line = self.reload(proxy, make_config({"app": [b]}))
        self.assertIn("configuration reloaded", line)
        for i in range(6):
            response = RawClient(proxy.port).request("GET", f"/after/{i}")
            self.assertEqual(response.header("x-origin"), "b", f"request {i}: {response}")

    def test_an_open_keep_alive_connection_moves_to_the_new_configuration(self):
        a = self.start_origin(named("a"))
        b = self.start_origin(named("b"))
        proxy = self.start_portico(upstreams={"app": [a]})
        client = self.client(proxy)
        self.assertEqual(client.request("GET", "/before").header("x-origin"), "a")
        self.reload(proxy, make_config({"app": [b]}))
        # The same connection, not closed by the reload, now served by the new configuration.
        response = client.request("GET", "/after")
        self.assertEqual(response.status, 200, response)
        self.assertEqual(response.header("x-origin"), "b")
        self.assertNotIn("close", response.tokens("connection"))

    def test_a_removed_endpoint_finishes_its_in_flight_request(self):
        held = self.start_origin(hold_handler(named("held")))
        other = self.start_origin(named("other"))
        proxy = self.start_portico(upstreams={"app": [held]})
        client = self.client(proxy)
        client.send(request_bytes("GET", "/slow"))
        self.assertTrue(held.entered.wait(WAIT_TIMEOUT), "the request did not reach the origin")
        # The reload removes the endpoint that is serving the request.
        self.reload(proxy, make_config({"app": [other]}))
        fresh = RawClient(proxy.port)
        try:
            self.assertEqual(fresh.request("GET", "/new").header("x-origin"), "other")
        finally:
            fresh.close()
        held.release.set()
        response = client.read_response()
        self.assertEqual(response.status, 200, response)
        self.assertEqual(response.header("x-origin"), "held")
        # Its connection then moves on to the new configuration.
        self.assertEqual(client.request("GET", "/next").header("x-origin"), "other")
        proxy.wait_for_log(r"configuration reloaded: new requests use it")

    def test_a_filtered_response_finished_during_the_drain_keeps_its_connection(self):
        held = self.start_origin(hold_handler(named("held")))
        route = [{"match": {"prefix": "/"}, "upstream": "app", "filters": [{"use": "test_filter", "tag": "t"}]}]
        server = {"plugin_dirs": [CHAIN_FILTER_DIR]}
        proxy = self.start_portico(upstreams={"app": [held]}, routes=route, server=server)
        client = self.client(proxy)
        client.send(request_bytes("GET", "/slow"))
        self.assertTrue(held.entered.wait(WAIT_TIMEOUT), "the request did not reach the origin")
        self.reload(proxy, make_config({"app": [held]}, route, server=server))
        held.release.set()
        response = client.read_response()
        self.assertEqual(response.status, 200, response)
        self.assertNotIn("close", response.tokens("connection"), "the reload closed a filtered connection")
        self.assertEqual(client.request("GET", "/next").status, 200)

    def test_connections_keep_working_across_reloads(self):
        a = self.start_origin(named("a"))
        proxy = self.start_portico(upstreams={"app": [a]})
        failures = []
        stop = threading.Event()

        def load():
            while not stop.is_set():
                client = RawClient(proxy.port)
                try:
                    for _ in range(20):
                        response = client.request("GET", "/x")
                        if response.status != 200:
                            failures.append(response.status)
                        if "close" in response.tokens("connection"):
                            break
                except Exception as error:  # noqa: BLE001 -- any failure counts
                    failures.append(repr(error))
                finally:
                    client.close()
        threads = [threading.Thread(target=load, daemon=True) for _ in range(4)]
        for t in threads:
            t.start()
        for n in range(5):
            self.assertIn("configuration reloaded", self.reload(proxy, make_config({"app": [a]}), count=n + 1))
        stop.set()
        for t in threads:
            t.join(WAIT_TIMEOUT)
        self.assertEqual(failures, [])

    def test_a_bad_configuration_is_refused_and_the_old_one_keeps_running(self):
        a = self.start_origin(named("a"))
        proxy = self.start_portico(upstreams={"app": [a]})
        bad = to_toml(make_config({"app": [a]})) + "\n[upstream.broken]\nendpoints = []\n"
        with open(proxy.config_path, "w") as f:
            f.write(bad)
        proxy.proc.send_signal(signal.SIGHUP)
        proxy.wait_for_log(r"reload failed: 1 problem\(s\) in the configuration; still running the previous")
        self.assertTrue(any("portico.toml:" in line and "'upstream.broken.endpoints' must be a non-empty array"
                            in line for line in proxy.stderr_lines()), proxy.stderr_text())
        self.assertEqual(self.client(proxy).request("GET", "/").header("x-origin"), "a")

    def test_changing_the_listeners_needs_a_restart(self):
        a = self.start_origin(named("a"))
        proxy = self.start_portico(upstreams={"app": [a]})
        config = make_config({"app": [a]})
        config["listener"]["second"] = {"bind": "127.0.0.1:0"}
        line = self.reload(proxy, config)
        self.assertIn("reload failed: listeners or the number of workers changed, which needs a restart", line)
        self.assertEqual(self.client(proxy).request("GET", "/").status, 200)

    def test_health_found_before_a_reload_is_kept(self):
        a = self.start_origin(named("a"))
        b = self.start_origin(named("b"))
        health = {"path": "/healthz", "interval": "100ms", "timeout": "80ms", "rise": 2, "fall": 2}
        # a answers /healthz with its echo (200); make it fail: a handler that 503s the health path.

        def failing_health(request, conn):
            if request.target == "/healthz":
                conn.send_response(503, [("Content-Length", "0")])
                return True
            return named("a")(request, conn)
        a.handler = failing_health
        upstreams = {"app": {"endpoints": [a, b], "health": health}}
        proxy = self.start_portico(upstreams=upstreams, server={"workers": 1})
        proxy.wait_for_log(rf"upstream app: {a.address} DOWN")
        self.reload(proxy, make_config(upstreams, server={"workers": 1}))
        # Right after the reload a is still DOWN: no request goes there, and no second DOWN line is needed.
        for i in range(6):
            self.assertEqual(RawClient(proxy.port).request("GET", f"/r/{i}").header("x-origin"), "b")
        self.assertEqual(len([l for l in proxy.stderr_lines() if f"{a.address} DOWN" in l]), 1)


if __name__ == "__main__":
    main()
