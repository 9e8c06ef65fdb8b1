"""Logs: the access log (combined or JSON; stdout, a file, or off) has one line per request with method, path and
status; the error log honours its level and its path."""

import json
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (  # noqa: E402
    LISTENING_RE, PorticoCase, RawClient, echo_handler, main, wait_until)

COMBINED = re.compile(r'^(\S+) (\S+) (\S+) \[([^\]]+)\] "(\S+) (\S+) (\S+)" (\d{3}) (\d+|-) '
                      r'"((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)"$')
DEBUG_LINE = re.compile(r"(?i)\bdebug\b")


class LogsTest(PorticoCase):

    def _proxy(self, access_log=None, error_log=None, discover="log"):
        self.origin = self.start_origin(echo_handler())
        server = {}
        if access_log is not None:
            server["access_log"] = access_log
        if error_log is not None:
            server["error_log"] = error_log
        self.proxy = self.start_portico(upstreams={"app": [self.origin]},
                                        routes=[{"match": {"host": "example.com"}, "upstream": "app"}],
                                        server=server, discover=discover)
        return self.proxy

    def _three_requests(self):
        client = self.client(self.proxy)
        self.assertEqual(client.request("GET", "/a?x=1", headers=[("User-Agent", "test-agent/1.0"),
                                                                   ("Referer", "http://ref.example/")]).status, 200)
        self.assertEqual(client.request("POST", "/b", body=b"data").status, 200)
        self.assertEqual(client.request("GET", "/missing", host="unrouted.example").status, 404)
        return {("GET", "/a?x=1", 200), ("POST", "/b", 200), ("GET", "/missing", 404)}

    def _send_bad_request(self):
        client = RawClient(self.proxy.port)
        try:
            client.send(b"GET / HTTP/1.1\r\nHost: example.com\r\nContent-Length: abc\r\n\r\n")
            self.assertEqual(client.read_response().status, 400)
        finally:
            client.close()

    # -- access log -------------------------------------------------------------------------------------------
    def test_combined_access_log_has_one_line_per_request(self):
        proxy = self._proxy(access_log={"path": "stdout", "format": "combined"})
        expected = self._three_requests()
        proxy.wait_for_log(r'"(GET|POST) ', stream="stdout", count=3)
        proxy.stop()  # flushes the log; from here on the output is complete
        lines = [line for line in proxy.stdout_lines() if line.strip()]
        self.assertEqual(len(lines), 3, "\n".join(lines))
        seen = set()
        for line in lines:
            m = COMBINED.match(line)
            self.assertIsNotNone(m, f"not a combined log line: {line!r}")
            self.assertEqual(m.group(1), "127.0.0.1", line)
            self.assertEqual(m.group(7), "HTTP/1.1", line)
            seen.add((m.group(5), m.group(6), int(m.group(8))))
            if m.group(6) == "/a?x=1":
                self.assertEqual(m.group(10), "http://ref.example/", line)
                self.assertEqual(m.group(11), "test-agent/1.0", line)
        self.assertEqual(seen, expected)

    def test_json_access_log_lines_parse_with_fields(self):
        proxy = self._proxy(access_log={"path": "stdout", "format": "json"})
        expected = self._three_requests()
        proxy.wait_for_log(r"(GET|POST)", stream="stdout", count=3)
        proxy.stop()
        lines = [line for line in proxy.stdout_lines() if line.strip()]
        self.assertEqual(len(lines), 3, "\n".join(lines))
        seen = set()
        for line in lines:
            record = json.loads(line)
            self.assertIsInstance(record, dict, line)
            path = next((record[k] for k in ("path", "target", "uri", "url") if k in record), None)
            self.assertIsNotNone(path, f"no path field in {record}")
            self.assertIn("method", record, record)
            self.assertIn("status", record, record)
            seen.add((record["method"], path, int(record["status"])))
        self.assertEqual(seen, expected)

    def test_json_access_log_escapes_hostile_values(self):
        proxy = self._proxy(access_log={"path": "stdout", "format": "json"})
        client = self.client(proxy)
        agent = 'evil" , "status": 999, "x": "\\'
        response = client.request("GET", '/q?a="b"', headers=[("User-Agent", agent)])
        self.assertEqual(response.status, 200)
        proxy.wait_for_log(r"GET", stream="stdout")
        proxy.stop()
        (line,) = [line for line in proxy.stdout_lines() if line.strip()]
        record = json.loads(line)
        self.assertEqual(int(record["status"]), 200, line)
        self.assertIn(agent, [v for v in record.values() if isinstance(v, str)], line)

    def test_combined_access_log_escapes_quotes(self):
        proxy = self._proxy(access_log={"path": "stdout", "format": "combined"})
        client = self.client(proxy)
        response = client.request("GET", "/", headers=[("User-Agent", 'x" 999 "forged')])
        self.assertEqual(response.status, 200)
        proxy.wait_for_log(r"GET", stream="stdout")
        proxy.stop()
        (line,) = [line for line in proxy.stdout_lines() if line.strip()]
        m = COMBINED.match(line)
        self.assertIsNotNone(m, f"not a combined log line: {line!r}")
        self.assertEqual(m.group(8), "200", line)

    def test_access_log_to_file(self):
        log_dir = tempfile.TemporaryDirectory(prefix="portico-log-")
        self.addCleanup(log_dir.cleanup)
        path = os.path.join(log_dir.name, "access.log")
        proxy = self._proxy(access_log={"path": path, "format": "combined"})
        client = self.client(proxy)
        self.assertEqual(client.request("GET", "/to-file").status, 200)

        def logged():
            try:
                with open(path) as f:
                    return [line for line in f.read().splitlines() if "/to-file" in line]
            except OSError:
                return None

        (line,) = wait_until(logged, what="the access log line in the file")
        self.assertIsNotNone(COMBINED.match(line), line)
        self.assertNotIn("/to-file", proxy.stdout_text())

    def test_access_log_off_writes_nothing(self):
        proxy = self._proxy(access_log={"path": "off", "format": "combined"})
        self._three_requests()
        proxy.stop()
        self.assertNotIn("/a?x=1", proxy.stdout_text() + proxy.stderr_text())
        self.assertEqual([line for line in proxy.stdout_lines() if line.strip()], [])

    # -- error log --------------------------------------------------------------------------------------------
    def test_error_log_debug_level_shows_debug_lines(self):
        proxy = self._proxy(error_log={"path": "stderr", "level": "debug"})
        self._send_bad_request()
        proxy.wait_for_log(DEBUG_LINE.pattern)

    def test_error_log_information_level_filters_debug_lines(self):
        proxy = self._proxy(error_log={"path": "stderr", "level": "information"})
        self._send_bad_request()
        client = self.client(proxy)
        self.assertEqual(client.request("GET", "/").status, 200)
        proxy.stop()
        debug = [line for line in proxy.stderr_lines() if DEBUG_LINE.search(line)]
        self.assertEqual(debug, [], "debug lines at level information")
        self.assertTrue(any(LISTENING_RE.search(line) for line in proxy.stderr_lines()),
                        "information lines are missing")

    def test_error_log_warning_level_filters_information_lines(self):
        proxy = self._proxy(error_log={"path": "stderr", "level": "warning"}, discover="proc")
        client = self.client(proxy)
        self.assertEqual(client.request("GET", "/").status, 200)
        proxy.stop()
        self.assertFalse(any(LISTENING_RE.search(line) for line in proxy.stderr_lines()),
                         "an information line at level warning:\n" + proxy.stderr_text())

    def test_error_log_to_file(self):
        log_dir = tempfile.TemporaryDirectory(prefix="portico-log-")
        self.addCleanup(log_dir.cleanup)
        path = os.path.join(log_dir.name, "error.log")
        proxy = self._proxy(error_log={"path": path, "level": "information"}, discover="proc")

        def listening_line():
            try:
                with open(path) as f:
                    return LISTENING_RE.search(f.read())
            except OSError:
                return None

        m = wait_until(listening_line, what="the listener line in the error log file")
        self.assertEqual(int(m.group(3)), proxy.port)
        self.assertFalse(any(LISTENING_RE.search(line) for line in proxy.stderr_lines()))


if __name__ == "__main__":
    main()
