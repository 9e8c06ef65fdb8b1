"""512 MiB bodies pass intact in both directions while the proxy's memory stays flat (streaming, bounded
buffers, backpressure): RSS may grow by less than 32 MiB over its level after a warm-up request."""

import hashlib
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (  # noqa: E402
    PatternBody, PorticoCase, big_body_handler, echo_handler, main, request_bytes)

BIG = 512 << 20
RSS_GROWTH_LIMIT = 32 << 20
WARMUP = 16 << 20


class RssSampler:
    """Samples the proxy's VmRSS every few milliseconds in a thread and keeps the maximum."""

    def __init__(self, proxy):
        self.proxy = proxy
        self.peak = proxy.rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.wait(0.01):
            try:
                self.peak = max(self.peak, self.proxy.rss())
            except (OSError, AssertionError):
                return

    def stop(self):
        self._stop.set()
        self._thread.join(5)
        self.peak = max(self.peak, self.proxy.rss())
        return self.peak


class LargeBodiesTest(PorticoCase):

    def _proxy(self, handler, **origin_kwargs):
        origin, proxy = self.proxy_for(handler, origin_kwargs=origin_kwargs,
                                       limits={"max_body_size": "1GiB"},
                                       timeouts={"client_body": "120s", "upstream_read": "120s",
                                                 "client_send": "120s", "upstream_response": "120s"})
        return origin, proxy

    def _upload(self, client, pattern, chunked):
        """Sends a PUT of the pattern; returns the sha256 of what was sent."""
        hasher = hashlib.sha256()
        if chunked:
            client.send(request_bytes("PUT", "/upload", headers=[("Transfer-Encoding", "chunked")]))
            for view in pattern.blocks():
                hasher.update(view)
                client.send(b"%x\r\n" % len(view))
                client.send(view)
                client.send(b"\r\n")
            client.send(b"0\r\n\r\n")
        else:
            client.send(request_bytes("PUT", "/upload", content_length=pattern.total))
            for view in pattern.blocks():
                hasher.update(view)
                client.send(view)
        return hasher.hexdigest()

    def _warm_up_upload(self, client):
        self._upload(client, PatternBody(WARMUP, seed=b"warm-up"), chunked=False)
        response = client.read_response()
        self.assertEqual(response.status, 200, response)

    def _check_upload(self, chunked):
        origin, proxy = self._proxy(echo_handler())
        client = self.client(proxy, timeout=60)
        self._warm_up_upload(client)
        baseline = proxy.rss()
        sampler = RssSampler(proxy)
        try:
            sent_sha = self._upload(client, PatternBody(BIG), chunked)
            response = client.read_response()
        finally:
            peak = sampler.stop()
        self.assertEqual(response.status, 200, response)
        seen = response.json()
        self.assertEqual(seen["body_length"], BIG)
        self.assertEqual(seen["body_sha256"], sent_sha)
        growth = peak - baseline
        self.assertLess(growth, RSS_GROWTH_LIMIT,
                        f"proxy RSS grew by {growth / 2**20:.1f} MiB (baseline {baseline / 2**20:.1f} MiB, "
                        f"peak {peak / 2**20:.1f} MiB) for a 512 MiB upload")

    def test_512mib_content_length_upload_passes_intact_in_bounded_memory(self):
        self._check_upload(chunked=False)

    def test_512mib_chunked_upload_passes_intact_in_bounded_memory(self):
        self._check_upload(chunked=True)

    def _check_download(self, chunked):
        pattern = PatternBody(BIG)
        expected = pattern.sha256()
        warm = PatternBody(WARMUP, seed=b"warm-up")

        def handler(request, conn):
            chosen = warm if request.target == "/warm-up" else pattern
            return big_body_handler(chosen, chunked=chunked)(request, conn)

        origin, proxy = self._proxy(handler)
        client = self.client(proxy, timeout=60)
        client.send(request_bytes("GET", "/warm-up"))
        response = client.read_response()
        self.assertEqual((response.status, len(response.body)), (200, WARMUP))
        baseline = proxy.rss()
        sampler = RssSampler(proxy)
        hasher = hashlib.sha256()
        received = [0]

        def sink(view):
            hasher.update(view)
            received[0] += len(view)

        try:
            client.send(request_bytes("GET", "/big"))
            response = client.read_response_head()
            self.assertEqual(response.status, 200, response)
            if "chunked" in response.tokens("transfer-encoding"):
                self._stream_chunked(client, sink)
            else:
                self.assertEqual(response.header("content-length"), str(BIG), response)
                client.stream_body(BIG, sink)
        finally:
            peak = sampler.stop()
        self.assertEqual(received[0], BIG)
        self.assertEqual(hasher.hexdigest(), expected)
        growth = peak - baseline
        self.assertLess(growth, RSS_GROWTH_LIMIT,
                        f"proxy RSS grew by {growth / 2**20:.1f} MiB (baseline {baseline / 2**20:.1f} MiB, "
                        f"peak {peak / 2**20:.1f} MiB) for a 512 MiB download")

    @staticmethod
    def _stream_chunked(client, sink):
        while True:
            line = client._take_until(b"\r\n", "chunk size line", limit=4096)
            size = int(line[:-2].split(b";", 1)[0], 16)
            if size == 0:
                while client._take_until(b"\r\n", "trailer") != b"\r\n":
                    pass
                return
            client.stream_body(size, sink)
            if client.read_exact(2) != b"\r\n":
                raise AssertionError("chunk data not followed by CRLF")

    def test_512mib_content_length_download_passes_intact_in_bounded_memory(self):
        self._check_download(chunked=False)

    def test_512mib_chunked_download_passes_intact_in_bounded_memory(self):
        self._check_download(chunked=True)


if __name__ == "__main__":
    main()
