"""Failover: under continuous GET load through Portico, one of two origins is SIGKILLed and started again 3 s
later. No request may fail (in-flight ones are retried on the other origin, new ones skip the dead one), and
traffic returns to the restarted origin once its health checks pass."""

import http.client
import os
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import WAIT_TIMEOUT, PorticoCase, main, wait_until  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
LOAD_SECONDS = 10.0
KILL_AT = 3.0
RESTART_AFTER = 3.0
CLIENTS = 8


class OriginProcess:
    def __init__(self, name, port=0):
        self.name = name
        self.proc = subprocess.Popen([sys.executable, os.path.join(HERE, "origin_process.py"), name, str(port)],
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("listening "):
            self.proc.kill()
            raise RuntimeError(f"origin {name} did not start: {line!r}")
        self.port = int(line.split()[1])

    def kill(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(WAIT_TIMEOUT)
        self.proc.stdout.close()


class Load:
    """CLIENTS keep-alive clients sending GETs as fast as they can; every outcome is recorded with its time."""

    def __init__(self, port):
        self.port = port
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.results = []  # (monotonic time, status or error text, X-Origin)
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True) for i in range(CLIENTS)]

    def start(self):
        for t in self.threads:
            t.start()

    def join(self):
        self.stop.set()
        for t in self.threads:
            t.join(WAIT_TIMEOUT)

    def run(self, index):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=WAIT_TIMEOUT)
        n = 0
        while not self.stop.is_set():
            n += 1
            try:
                conn.request("GET", f"/load/{index}/{n}")
                response = conn.getresponse()
                response.read()
                outcome = (time.monotonic(), response.status, response.getheader("X-Origin"))
                if response.will_close:
                    conn.close()
            except (OSError, http.client.HTTPException) as error:
                outcome = (time.monotonic(), f"{type(error).__name__}: {error}", None)
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=WAIT_TIMEOUT)
            with self.lock:
                self.results.append(outcome)
        conn.close()


class FailoverUnderLoadTest(PorticoCase):

    def test_sigkill_and_restart_of_an_origin_loses_no_get(self):
        a, b = OriginProcess("a"), OriginProcess("b")
        self.addCleanup(b.kill)
        restarted = []
        self.addCleanup(lambda: [o.kill() for o in restarted])
        self.addCleanup(a.kill)
        health = {"path": "/healthz", "interval": "200ms", "timeout": "150ms", "rise": 2, "fall": 2}
        proxy = self.start_portico(
            upstreams={"app": {"endpoints": [f"127.0.0.1:{a.port}", f"127.0.0.1:{b.port}"], "health": health}},
            server={"workers": 2, "access_log": {"path": "off"}})
        load = Load(proxy.port)
        started = time.monotonic()
        load.start()
        self.addCleanup(load.join)

        wait_until(lambda: time.monotonic() - started >= KILL_AT, what="the kill time")
        a.kill()
        killed_at = time.monotonic()
        proxy.wait_for_log(rf"upstream app: 127\.0\.0\.1:{a.port} DOWN")
        wait_until(lambda: time.monotonic() - killed_at >= RESTART_AFTER, what="the restart time")
        restarted.append(OriginProcess("a2", a.port))
        proxy.wait_for_log(rf"upstream app: 127\.0\.0\.1:{a.port} UP \(2 passed checks\)")
        up_at = time.monotonic()
        wait_until(lambda: time.monotonic() - started >= LOAD_SECONDS, timeout=2 * LOAD_SECONDS,
                   what="the end of the load")
        load.join()

        with load.lock:
            results = list(load.results)
        failed = [r for r in results if r[1] != 200]
        self.assertEqual(failed[:10], [], f"{len(failed)} of {len(results)} GETs failed")
        by_origin = {name: sum(1 for r in results if r[2] == name) for name in ("a", "a2", "b")}
        self.assertGreater(by_origin["a"], 0, by_origin)
        self.assertGreater(by_origin["b"], 0, by_origin)
        back = [r for r in results if r[2] == "a2" and r[0] >= up_at]
        self.assertGreater(len(back), 0, f"no traffic returned to the restarted origin: {by_origin}")
        print(f"\n  {len(results)} GETs in {LOAD_SECONDS:.0f}s, none failed; by origin {by_origin}", file=sys.stderr)


if __name__ == "__main__":
    main()
