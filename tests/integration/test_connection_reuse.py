"""Keep-alive on both sides: one client connection serves many requests, and the proxy reuses its upstream
connections instead of opening one per request."""

import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (  # noqa: E402
    WAIT_TIMEOUT, PorticoCase, RawClient, echo_handler, fixed_handler, main, raw_handler, request_bytes,
    wait_until)


def wave_handler(width):
    """Answers /wave/ requests once `width` of them are at the origin together: each wave of requests then needs
    `width` upstream connections at the same time. Other requests are echoed at once."""
    barrier = threading.Barrier(width, timeout=WAIT_TIMEOUT)

    def handle(request, conn):
        if request.target.startswith("/wave/"):
            barrier.wait()
        return echo_handler()(request, conn)

    return handle


class ConnectionReuseTest(PorticoCase):

    def test_10000_sequential_requests_use_few_upstream_connections(self):
        origin, proxy = self.proxy_for(fixed_handler(200, b"ok"))
        client = self.client(proxy)
        request = request_bytes("GET", "/ping")
        started = time.monotonic()
        for i in range(10000):
            client.send(request)
            response = client.read_response()
            if response.status != 200 or response.body != b"ok":
                self.fail(f"request {i}: {response}")
        elapsed = time.monotonic() - started
        self.assertEqual(len(origin.wait_for_requests(10000)), 10000)
        self.assertLessEqual(origin.connections, 4,
                             f"origin saw {origin.connections} connections for 10000 sequential requests")
        print(f"\n  10000 requests in {elapsed:.1f}s over {origin.connections} upstream connection(s)",
              file=sys.stderr)

    def test_client_connection_serves_many_requests(self):
        origin, proxy = self.proxy_for(echo_handler())
        client = self.client(proxy)
        for i in range(200):
            if i % 3 == 0:
                response = client.request("POST", f"/post/{i}", body=b"x" * i)
            elif i % 3 == 1:
                response = client.request("HEAD", f"/head/{i}")
            else:
                response = client.request("GET", f"/get/{i}")
            self.assertEqual(response.status, 200, f"request {i}: {response}")
            self.assertNotIn("close", response.tokens("connection"), f"request {i} ended the connection")
        self.assertFalse(client.is_closed_now(), "proxy closed a keep-alive client connection")
        self.assertEqual(len(origin.wait_for_requests(200)), 200)

    def test_upstream_connections_reused_across_client_connections(self):
        origin, proxy = self.proxy_for(echo_handler())
        for i in range(40):
            client = RawClient(proxy.port)
            try:
                response = client.request("GET", f"/c/{i}")
                self.assertEqual(response.status, 200, response)
            finally:
                client.close()
        self.assertEqual(len(origin.wait_for_requests(40)), 40)
        # Pools are per worker (2 workers here); allow a little slack, but not one connection per request.
        self.assertLessEqual(origin.connections, 4,
                             f"origin saw {origin.connections} connections for 40 one-request clients")

    def test_single_worker_reuses_one_upstream_connection(self):
        origin, proxy = self.proxy_for(echo_handler(), server={"workers": 1})
        for i in range(40):
            client = RawClient(proxy.port)
            try:
                response = client.request("GET", f"/one-worker/{i}")
                self.assertEqual(response.status, 200, response)
            finally:
                client.close()
        self.assertEqual(len(origin.wait_for_requests(40)), 40)
        self.assertLessEqual(origin.connections, 2,
                             f"origin saw {origin.connections} connections from one worker for sequential clients")

    def _waves(self, proxy, width, rounds):
        clients = [self.client(proxy) for _ in range(width)]
        for round_ in range(rounds):
            for i, client in enumerate(clients):
                client.send(request_bytes("GET", f"/wave/{round_}/{i}"))
            for i, client in enumerate(clients):
                response = client.read_response()
                self.assertEqual(response.status, 200, f"round {round_}, client {i}: {response}")

    def test_traffic_wider_than_keepalive_keeps_its_connections(self):
        # keepalive caps the idle pool in steady state. Closing every connection above it as soon as it was
        # released made each wave of 6 concurrent requests reconnect 5 times (51 connections for 10 waves);
        # under load those requests then wait in the origin's accept queue.
        width, rounds = 6, 10
        origin = self.start_origin(wave_handler(width))
        proxy = self.start_portico(upstreams={"app": {"endpoints": [origin], "keepalive": 1}},
                                   server={"workers": 1})
        self._waves(proxy, width, rounds)
        self.assertEqual(len(origin.wait_for_requests(width * rounds)), width * rounds)
        self.assertEqual(origin.connections, width,
                         f"origin saw {origin.connections} connections for {rounds} waves of {width}")

    def test_idle_connections_above_keepalive_are_closed_later(self):
        width = 6
        origin = self.start_origin(wave_handler(width))
        proxy = self.start_portico(upstreams={"app": {"endpoints": [origin], "keepalive": 2}},
                                   server={"workers": 1})
        self._waves(proxy, width, 1)

        def open_connections():
            with origin.lock:
                return len(origin._socks)
        # Unused for a whole trim interval (1 s), the 4 above the cap are closed; the 2 kept still serve.
        wait_until(lambda: open_connections() == 2, what="the idle pool trimmed to keepalive = 2")
        response = self.client(proxy).request("GET", "/after-trim")
        self.assertEqual(response.status, 200, response)
        self.assertEqual(origin.connections, width, "the request after the trim opened a new connection")

    def test_client_connection_close_is_honoured(self):
        origin, proxy = self.proxy_for(echo_handler())
        client = self.client(proxy)
        response = client.request("GET", "/bye", headers=[("Connection", "close")])
        self.assertEqual(response.status, 200, response)
        client.assert_closed()

    def test_upstream_connection_close_does_not_close_client(self):
        # The origin closes after every response; the client's connection must survive that.
        origin, proxy = self.proxy_for(raw_handler(
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nshort", keep_alive=False))
        client = self.client(proxy)
        for i in range(5):
            response = client.request("GET", f"/r/{i}")
            self.assertEqual(response.status, 200, response)
            self.assertEqual(response.body, b"short")
        self.assertEqual(origin.connections, 5)


if __name__ == "__main__":
    main()
