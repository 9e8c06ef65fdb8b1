"""The command line: `-t` checks a configuration (prints `configuration ok`, or one `FILE:LINE:COL: message` line
per problem and exits 1), `-v` prints the version, and a bad configuration stops startup before anything listens."""

import os
import re
import socket
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import PORTICO_BIN, WAIT_TIMEOUT, LISTENING_RE, main, refused_port, run_portico  # noqa: E402

MAIN = """\
[server]
workers = 1
drain_timeout = "5s"

[listener.http]
bind = "127.0.0.1:0"

[upstream.app]
endpoints = ["127.0.0.1:{port}"]

[[route]]
match = {{ prefix = "/" }}
upstream = "app"
"""

# 1-based line numbers in MAIN
LINE_WORKERS = 2
LINE_ENDPOINTS = 9


def problem_lines(text, path):
    """The `FILE:LINE:COL: message` lines about `path` (matched by its full path or its base name)."""
    out = []
    for line in text.splitlines():
        m = re.match(r"^(.+?):(\d+):(\d+): (.+)$", line)
        if m and (m.group(1) == path or os.path.basename(m.group(1)) == os.path.basename(path)):
            out.append((int(m.group(2)), int(m.group(3)), m.group(4)))
    return out


class ConfigCliTest(unittest.TestCase):

    def setUp(self):
        if not os.access(PORTICO_BIN, os.X_OK):
            self.fail(f"portico binary not found: {PORTICO_BIN}")
        self.tmp = tempfile.TemporaryDirectory(prefix="portico-cli-")
        self.addCleanup(self.tmp.cleanup)
        self.dir = self.tmp.name
        self.main_text = MAIN.format(port=refused_port())

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def with_line(self, line_number, new_line, replace=True):
        """MAIN with line `line_number` (1-based) replaced by (or preceded by) `new_line`."""
        lines = self.main_text.splitlines()
        if replace:
            lines[line_number - 1] = new_line
        else:
            lines.insert(line_number - 1, new_line)
        return "\n".join(lines) + "\n"

    def check(self, path=None):
        result = run_portico(["-t", "-c", path or self.dir])
        self.assertNotIn("AddressSanitizer", result.stderr)
        self.assertNotIn("runtime error:", result.stderr)
        return result

    def test_check_valid_config_prints_ok(self):
        self.write("portico.toml", self.main_text)
        result = self.check()
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("configuration ok", result.stdout + result.stderr)

    def test_check_accepts_a_single_file(self):
        path = self.write("main.toml", self.main_text)
        result = self.check(path)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("configuration ok", result.stdout + result.stderr)

    def test_check_loads_every_toml_in_directory(self):
        head, _, routes = self.main_text.partition("[[route]]")
        self.write("10-main.toml", head)
        self.write("20-routes.toml", "[[route]]" + routes)
        result = self.check()
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("configuration ok", result.stdout + result.stderr)

    def test_check_ignores_files_not_named_toml(self):
        self.write("portico.toml", self.main_text)
        self.write("README.txt", "this = is not [valid toml\n")
        result = self.check()
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_check_unknown_key_reports_file_line_col(self):
        path = self.write("portico.toml", self.with_line(LINE_WORKERS, "workerz = 2"))
        result = self.check()
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        problems = problem_lines(result.stdout + result.stderr, path)
        self.assertTrue(problems, f"no FILE:LINE:COL: line for {path}:\n{result.stdout}{result.stderr}")
        self.assertEqual(problems[0][0], LINE_WORKERS, problems)
        self.assertGreaterEqual(problems[0][1], 1, problems)
        self.assertNotIn("configuration ok", result.stdout)

    def test_check_unknown_key_in_second_file_names_that_file(self):
        head, _, routes = self.main_text.partition("[[route]]")
        self.write("10-main.toml", head)
        second = self.write("20-routes.toml", "[[route]]" + routes.rstrip("\n") + "\nupstraem = \"app\"\n")
        result = self.check()
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        problems = problem_lines(result.stdout + result.stderr, second)
        self.assertTrue(problems, f"no problem reported against {second}:\n{result.stderr}")
        self.assertEqual(problems[0][0], 4, problems)

    def test_check_wrong_type_reports_file_line(self):
        path = self.write("portico.toml", self.with_line(LINE_WORKERS, 'workers = "two"'))
        result = self.check()
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        problems = problem_lines(result.stdout + result.stderr, path)
        self.assertTrue(problems, f"no FILE:LINE:COL: line:\n{result.stderr}")
        self.assertEqual(problems[0][0], LINE_WORKERS, problems)

    def test_check_wrong_type_in_list_reports_file_line(self):
        path = self.write("portico.toml", self.with_line(LINE_ENDPOINTS, "endpoints = [8080]"))
        result = self.check()
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        problems = problem_lines(result.stdout + result.stderr, path)
        self.assertTrue(problems, f"no FILE:LINE:COL: line:\n{result.stderr}")
        self.assertEqual(problems[0][0], LINE_ENDPOINTS, problems)

    def test_check_bad_duration_reports_file_line(self):
        path = self.write("portico.toml", self.with_line(3, 'drain_timeout = "5 parsecs"'))
        result = self.check()
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        problems = problem_lines(result.stdout + result.stderr, path)
        self.assertTrue(problems and problems[0][0] == 3, f"{problems}\n{result.stderr}")

    def test_check_reports_each_problem_on_its_own_line(self):
        text = self.with_line(LINE_WORKERS, "workerz = 2")
        text = text.replace('bind = "127.0.0.1:0"', 'bind = "127.0.0.1:0"\nbacklogg = 5')
        path = self.write("portico.toml", text)
        result = self.check()
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        problems = problem_lines(result.stdout + result.stderr, path)
        self.assertEqual(sorted(p[0] for p in problems), [LINE_WORKERS, 7], problems)

    def test_check_syntax_error_reports_file_line_col(self):
        path = self.write("portico.toml", self.with_line(LINE_WORKERS, "workers = = 2"))
        result = self.check()
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        problems = problem_lines(result.stdout + result.stderr, path)
        self.assertTrue(problems, f"no FILE:LINE:COL: line:\n{result.stderr}")
        self.assertEqual(problems[0][0], LINE_WORKERS, problems)

    def test_check_route_to_unknown_upstream_fails(self):
        path = self.write("portico.toml", self.main_text.replace('upstream = "app"', 'upstream = "nope"'))
        result = self.check()
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertTrue(any(line.startswith(path) or line.startswith("portico.toml")
                            for line in (result.stdout + result.stderr).splitlines()),
                        f"problem not reported against the file:\n{result.stderr}")

    def test_check_missing_path_fails(self):
        result = self.check(os.path.join(self.dir, "does-not-exist"))
        self.assertNotEqual(result.returncode, 0)
        self.assertNotIn("configuration ok", result.stdout)

    def test_version_flag_prints_version(self):
        result = run_portico(["-v"])
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertRegex(result.stdout + result.stderr, r"\d+\.\d+")

    def test_bad_config_fails_startup_before_listening(self):
        path = self.write("portico.toml", self.with_line(LINE_WORKERS, "workerz = 2"))
        proc = subprocess.run([PORTICO_BIN, "-c", self.dir], capture_output=True, text=True, timeout=WAIT_TIMEOUT,
                              stdin=subprocess.DEVNULL)
        self.assertNotEqual(proc.returncode, 0, "portico started with a bad configuration")
        self.assertTrue(problem_lines(proc.stdout + proc.stderr, path), proc.stderr)
        self.assertIsNone(LISTENING_RE.search(proc.stdout + proc.stderr), "it listened before failing")
        self.assertNotIn("AddressSanitizer", proc.stderr)

    def test_unbindable_listener_fails_startup(self):
        blocker = socket.socket()
        blocker.bind(("127.0.0.1", 0))
        blocker.listen(1)
        self.addCleanup(blocker.close)
        port = blocker.getsockname()[1]
        self.write("portico.toml", self.main_text.replace('bind = "127.0.0.1:0"', f'bind = "127.0.0.1:{port}"'))
        proc = subprocess.run([PORTICO_BIN, "-c", self.dir], capture_output=True, text=True, timeout=WAIT_TIMEOUT,
                              stdin=subprocess.DEVNULL)
        self.assertNotEqual(proc.returncode, 0, "portico ran although its port was taken")
        self.assertNotIn("AddressSanitizer", proc.stderr)


if __name__ == "__main__":
    main()
