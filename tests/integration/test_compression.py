"""The compression plugin (plugins/compression, loaded from its .so) in front of a real origin: every coding is
decoded with its reference decoder (zlib, the brotli and zstd command-line tools) and compared byte for byte with
the origin's body; Accept-Encoding negotiation with q-values and the server's preference; the responses it must
leave alone; the headers it must fix; constant memory on a 256 MiB response."""

import hashlib
import os
import subprocess
import sys
import threading
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import PatternBody, PorticoCase, fixed_handler, main, run_portico  # noqa: E402
from test_large_bodies_streamed import RssSampler  # noqa: E402

PLUGIN_DIR = os.path.join(os.environ.get("PORTICO_BUILD_DIR", "build"), "plugins", "compression", "dir")
TEXT = b"".join(b"<p>line %d of a page that compresses well, with some words repeated</p>\n" % i for i in range(4000))


def decode(coding, data):
    if coding == "gzip":
        return zlib.decompress(data, 16 + zlib.MAX_WBITS)
    tool = {"br": ["brotli", "-d", "-c"], "zstd": ["zstd", "-d", "-c", "-q"]}[coding]
    return subprocess.run(tool, input=data, capture_output=True, check=True, timeout=60).stdout


def html(body=TEXT, extra=()):
    return fixed_handler(200, body, headers=[("Content-Type", "text/html; charset=utf-8")] + list(extra))


class CompressionTest(PorticoCase):

    def start(self, handler=None, **keys):
        origin = self.start_origin(handler or html())
        route = {"match": {"prefix": "/"}, "upstream": "app", "filters": [dict({"use": "compression"}, **keys)]}
        proxy = self.start_portico(upstreams={"app": [origin]}, routes=[route], server={"plugin_dirs": [PLUGIN_DIR]})
        return origin, proxy

    def get(self, proxy, accept=None, method="GET", target="/page"):
        headers = [("Accept-Encoding", accept)] if accept is not None else []
        return self.client(proxy).request(method, target, headers=headers)

    # -- every coding, decoded by the real decoders -----------------------------------------------------------
    def test_each_coding_decodes_to_the_origin_body(self):
        origin, proxy = self.start()
        for coding in ("gzip", "br", "zstd"):
            with self.subTest(coding=coding):
                response = self.get(proxy, coding)
                self.assertEqual(response.status, 200, response)
                self.assertEqual(response.header("content-encoding"), coding)
                self.assertIsNone(response.header("content-length"))
                self.assertIn("accept-encoding", response.tokens("vary"))
                self.assertLess(len(response.body), len(TEXT) // 4)
                self.assertEqual(decode(coding, response.body), TEXT)

    def test_chunked_origin_body_is_compressed_too(self):
        def chunked(request, conn):
            conn.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
            for i in range(0, len(TEXT), 7000):
                piece = TEXT[i:i + 7000]
                conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
            conn.send(b"0\r\n\r\n")
            return True
        origin, proxy = self.start(chunked)
        response = self.get(proxy, "gzip")
        self.assertEqual(response.header("content-encoding"), "gzip")
        self.assertEqual(decode("gzip", response.body), TEXT)

    def test_levels_are_configurable(self):
        origin, proxy = self.start(gzip_level=1, brotli_level=11, zstd_level=19)
        for coding in ("gzip", "br", "zstd"):
            response = self.get(proxy, coding)
            self.assertEqual(decode(coding, response.body), TEXT)

    # -- negotiation ------------------------------------------------------------------------------------------
    def test_highest_q_value_wins(self):
        origin, proxy = self.start()
        self.assertEqual(self.get(proxy, "gzip;q=0.5, br;q=0.9, zstd;q=0.1").header("content-encoding"), "br")
        self.assertEqual(self.get(proxy, "gzip;q=1, br;q=0.9").header("content-encoding"), "gzip")

    def test_ties_go_to_the_server_preference(self):
        origin, proxy = self.start()
        self.assertEqual(self.get(proxy, "gzip, br, zstd").header("content-encoding"), "zstd")
        origin2, proxy2 = self.start(codings=["gzip", "br"])
        self.assertEqual(self.get(proxy2, "br, gzip, zstd").header("content-encoding"), "gzip")

    def test_identity_when_nothing_acceptable(self):
        origin, proxy = self.start()
        for accept in (None, "", "identity", "*;q=0", "gzip;q=0, br;q=0, zstd;q=0", "compress, deflate"):
            with self.subTest(accept=accept):
                response = self.get(proxy, accept)
                self.assertIsNone(response.header("content-encoding"))
                self.assertEqual(response.body, TEXT)
                self.assertIn("accept-encoding", response.tokens("vary"))

    def test_wildcard_accepts_the_preferred_coding(self):
        origin, proxy = self.start(codings=["br", "gzip"])
        self.assertEqual(self.get(proxy, "*").header("content-encoding"), "br")
        self.assertEqual(self.get(proxy, "br;q=0, *").header("content-encoding"), "gzip")

    # -- left alone -------------------------------------------------------------------------------------------
    def assert_untouched(self, proxy, body=TEXT, method="GET"):
        response = self.get(proxy, "gzip, br, zstd", method=method)
        self.assertIsNone(response.header("content-encoding"), response.headers)
        if method != "HEAD":
            self.assertEqual(response.body, body)
        return response

    def test_already_encoded_response_untouched(self):
        origin, proxy = self.start(html(TEXT, [("Content-Encoding", "x-custom")]))
        response = self.get(proxy, "gzip")
        self.assertEqual(response.header("content-encoding"), "x-custom")
        self.assertEqual(response.body, TEXT)

    def test_no_transform_untouched(self):
        origin, proxy = self.start(html(TEXT, [("Cache-Control", "public, no-transform")]))
        self.assert_untouched(proxy)

    def test_small_body_untouched(self):
        origin, proxy = self.start(html(b"<p>tiny</p>"), min_length="1KiB")
        response = self.assert_untouched(proxy, b"<p>tiny</p>")
        self.assertEqual(response.header("content-length"), "11")

    def test_types_outside_the_list_untouched(self):
        origin, proxy = self.start(fixed_handler(200, TEXT, headers=[("Content-Type", "image/png")]))
        self.assert_untouched(proxy)
        origin2, proxy2 = self.start(html(), types=["application/json"])
        self.assert_untouched(proxy2)

    def test_head_and_bodiless_statuses_untouched(self):
        origin, proxy = self.start()
        response = self.get(proxy, "gzip", method="HEAD")
        self.assertIsNone(response.header("content-encoding"))
        self.assertEqual(response.header("content-length"), str(len(TEXT)))
        for status in (204, 304):
            o, p = self.start(fixed_handler(status, b"", headers=[("Content-Type", "text/html")]))
            response = self.get(p, "gzip")
            self.assertEqual(response.status, status)
            self.assertIsNone(response.header("content-encoding"))

    def test_partial_content_untouched(self):
        origin, proxy = self.start(fixed_handler(206, TEXT[:5000], headers=[
            ("Content-Type", "text/html"), ("Content-Range", f"bytes 0-4999/{len(TEXT)}")]))
        response = self.get(proxy, "gzip")
        self.assertEqual(response.status, 206)
        self.assertIsNone(response.header("content-encoding"))
        self.assertEqual(response.body, TEXT[:5000])

    # -- headers ----------------------------------------------------------------------------------------------
    def test_strong_etag_made_weak_and_vary_merged(self):
        origin, proxy = self.start(html(TEXT, [("ETag", '"abc"'), ("Vary", "Cookie")]))
        response = self.get(proxy, "gzip")
        self.assertEqual(response.header("etag"), 'W/"abc"')
        self.assertEqual(sorted(response.tokens("vary")), ["accept-encoding", "cookie"])
        origin2, proxy2 = self.start(html(TEXT, [("ETag", 'W/"weak"')]))
        self.assertEqual(self.get(proxy2, "gzip").header("etag"), 'W/"weak"')

    # -- config errors ----------------------------------------------------------------------------------------
    def test_bad_config_is_reported_with_its_position(self):
        origin = self.start_origin(html())
        for keys, message in (({"gzip_level": 12}, "'gzip_level' must be between 1 and 9"),
                              ({"codings": ["lzma"]}, "unknown coding"),
                              ({"types": ["not a type"]}, "not a media type pattern"),
                              ({"levels": 3}, "unknown key 'levels'")):
            with self.subTest(keys=keys):
                route = {"match": {"prefix": "/"}, "upstream": "app",
                         "filters": [dict({"use": "compression"}, **keys)]}
                from harness import make_config, to_toml
                import tempfile
                config = make_config({"app": [origin]}, [route], server={"plugin_dirs": [PLUGIN_DIR]})
                with tempfile.TemporaryDirectory() as d:
                    path = os.path.join(d, "portico.toml")
                    with open(path, "w") as f:
                        f.write(to_toml(config))
                    result = run_portico(["-t", "-c", path])
                self.assertEqual(result.returncode, 1, result)
                self.assertRegex(result.stderr + result.stdout, r"portico\.toml:\d+:\d+: .*" + message)

    # -- memory -----------------------------------------------------------------------------------------------
    def test_256mib_response_compresses_in_constant_memory(self):
        pattern = PatternBody(256 << 20)

        def handler(request, conn):
            conn.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % pattern.total)
            for view in pattern.blocks():
                conn.send(view)
            return True
        origin, proxy = self.start(handler)
        client = self.client(proxy, timeout=120)
        warm = client.request("GET", "/warm", headers=[("Accept-Encoding", "gzip")])  # buffers, encoder, pools
        self.assertEqual(warm.status, 200)
        baseline = proxy.rss()
        sampler = RssSampler(proxy)
        client.send(b"GET /big HTTP/1.1\r\nHost: example.com\r\nAccept-Encoding: gzip\r\n\r\n")
        response = client.read_response_head()
        self.assertEqual(response.header("content-encoding"), "gzip")
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        digest = hashlib.sha256()
        size = [0]

        def sink(view):
            out = inflater.decompress(bytes(view))
            digest.update(out)
            size[0] += len(out)
        while True:
            line = client._take_until(b"\r\n", "chunk size line", limit=4096)
            n = int(line[:-2], 16)
            if n == 0:
                client._take_until(b"\r\n", "end")
                break
            client.stream_body(n, sink)
            client.read_exact(2)
        digest.update(inflater.flush())
        peak = sampler.stop()
        self.assertEqual(size[0], pattern.total)
        self.assertEqual(digest.hexdigest(), pattern.sha256())
        growth = peak - baseline
        self.assertLess(growth, 16 << 20, f"RSS grew by {growth / 2**20:.1f} MiB compressing 256 MiB")


if __name__ == "__main__":
    main()
