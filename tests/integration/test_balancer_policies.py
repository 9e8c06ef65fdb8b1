"""The balancer plugin's policies through the real proxy and real origins: weights are honoured, a slow origin gets
clearly less from least_request and ewma, consistent hashing keeps a key on its endpoint and moves few keys when an
endpoint leaves, and slow start ramps a returning endpoint up."""

import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (  # noqa: E402
    WAIT_TIMEOUT, PorticoCase, RawClient, build_path, echo_handler, main, wait_until)

PLUGIN_DIR = build_path("plugins", "balancer", "dir")


def named_handler(delay=0.0, health=None):
    """Echo with `X-Origin: <origin name>`, after `delay` seconds; /healthz answers health[0] (a one-item list
    the test changes)."""
    def handle(request, conn):
        if request.target == "/healthz":
            conn.send_response(health[0] if health else 200, [("Content-Length", "0")])
            return True
        if delay:
            time.sleep(delay)  # the origin is slow: that is what the test is about
        return echo_handler([("X-Origin", conn.origin.name)])(request, conn)
    return handle


class BalancerPoliciesTest(PorticoCase):

    def origins(self, count, **kwargs):
        return [self.start_origin(named_handler(**kwargs), name=f"o{i}") for i in range(count)]

    def proxy(self, endpoints, balancer, workers=1, **upstream):
        table = {"endpoints": endpoints, "balancer": balancer, **upstream}
        return self.start_portico(upstreams={"app": table},
                                  server={"workers": workers, "plugin_dirs": [PLUGIN_DIR],
                                          "access_log": {"path": "off"}})

    def count(self, proxy, n, clients=1, headers_for=None):
        """Sends n GETs over `clients` keep-alive connections; returns {origin name: requests}."""
        tally = {}
        lock = threading.Lock()

        def run(worker):
            client = RawClient(proxy.port)
            try:
                for i in range(worker, n, clients):
                    headers = headers_for(i) if headers_for else []
                    response = client.request("GET", f"/n/{i}", headers=headers)
                    self.assertEqual(response.status, 200, response)
                    with lock:
                        name = response.header("x-origin")
                        tally[name] = tally.get(name, 0) + 1
            finally:
                client.close()
        with ThreadPoolExecutor(clients) as pool:
            for future in [pool.submit(run, w) for w in range(clients)]:
                future.result()
        return tally

    def assert_weighted(self, tally, weights, total):
        for i, weight in enumerate(weights):
            share = weight / sum(weights)
            got = tally.get(f"o{i}", 0)
            self.assertLessEqual(abs(got - share * total), 0.05 * share * total,
                                 f"o{i} (weight {weight}) got {got} of {total}: {tally}")

    def test_weights_1_2_3_over_6000_requests(self):
        for policy in ("round_robin", "least_request"):
            with self.subTest(policy=policy):
                origins = self.origins(3)
                endpoints = [{"address": o, "weight": w} for o, w in zip(origins, (1, 2, 3))]
                proxy = self.proxy(endpoints, {"use": policy}, workers=2)
                # One client: nothing is in flight at a pick, so least_request's load scaling leaves the weights
                # as they are (under load it moves traffic to the less busy on purpose).
                tally = self.count(proxy, 6000, clients=1)
                self.assert_weighted(tally, (1, 2, 3), 6000)

    def test_a_slow_origin_gets_clearly_less(self):
        for policy in ("least_request", "ewma"):
            with self.subTest(policy=policy):
                fast = self.origins(2)
                slow = self.start_origin(named_handler(delay=0.05), name="slow")
                proxy = self.proxy([fast[0], fast[1], slow], {"use": policy})
                tally = self.count(proxy, 600, clients=8)
                # An equal share would be 200; the slow one is 50 ms against about 1 ms.
                self.assertLess(tally.get("slow", 0), 600 / 3 / 3, f"{policy}: {tally}")

    def _mapping(self, proxy, keys):
        result = {}
        lock = threading.Lock()

        def run(chunk):
            client = RawClient(proxy.port)
            try:
                for key in chunk:
                    response = client.request("GET", "/k", headers=[("X-User", key)])
                    self.assertEqual(response.status, 200, response)
                    with lock:
                        result[key] = response.header("x-origin")
            finally:
                client.close()
        chunks = [keys[i::4] for i in range(4)]
        with ThreadPoolExecutor(4) as pool:
            for future in [pool.submit(run, c) for c in chunks]:
                future.result()
        return result

    def test_consistent_hashing_keeps_keys_and_moves_few_when_an_endpoint_leaves(self):
        keys = [f"user-{i}" for i in range(10000)]
        for policy in ("ring_hash", "maglev"):
            with self.subTest(policy=policy):
                origins = self.origins(10)
                ten = self.proxy(origins, {"use": policy}, workers=2, hash_key="header:x-user")
                before = self._mapping(ten, keys)
                again = self._mapping(ten, keys[:500])  # other connections, other workers: the same endpoint
                self.assertEqual(again, {k: before[k] for k in keys[:500]})
                ten.stop()
                # The same origins without o9 (addresses, not positions, place the keys).
                nine = self.proxy(origins[:9], {"use": policy}, workers=2, hash_key="header:x-user")
                after = self._mapping(nine, keys)
                moved = [k for k in keys if before[k] != "o9" and after[k] != before[k]]
                lost = [k for k in keys if before[k] == "o9"]
                share = (len(moved) + len(lost)) / len(keys)
                print(f"\n  {policy}: {share:.1%} of 10000 keys moved ({len(lost)} from the removed endpoint)",
                      file=sys.stderr)
                self.assertLessEqual(share, 0.15)
                # A ring moves only the removed endpoint's keys; Maglev's table rebuild moves a few more (its
                # paper: a small disruption traded for an even spread).
                self.assertLessEqual(len(moved), 0 if policy == "ring_hash" else len(keys) // 100,
                                     f"{len(moved)} keys of endpoints that stayed moved")

    def test_slow_start_ramps_a_returning_endpoint_up(self):
        health = [503]
        a = self.start_origin(named_handler(health=health), name="o0")
        b = self.start_origin(named_handler(), name="o1")
        checks = {"path": "/healthz", "interval": "50ms", "timeout": "40ms", "rise": 1, "fall": 1}
        proxy = self.proxy([a, b], {"use": "round_robin"}, health=checks, slow_start="3s")
        proxy.wait_for_log(rf"upstream app: {a.address} DOWN")
        health[0] = 200
        proxy.wait_for_log(rf"upstream app: {a.address} UP")
        up_at = time.monotonic()
        early = self.count(proxy, 40)
        self.assertLess(time.monotonic() - up_at, 1.0, "too slow to sample the first steps of the ramp")
        # The first steps carry 10-30% of a's weight: a gets well under its half.
        self.assertLess(early.get("o0", 0), 40 * 0.3, early)
        wait_until(lambda: time.monotonic() - up_at > 3.2, timeout=WAIT_TIMEOUT, what="the end of slow start")
        late = self.count(proxy, 40)
        self.assertEqual(late.get("o0", 0), 20, late)


if __name__ == "__main__":
    main()
