"""Loading plugins (tests/fixtures/plugins, one small C plugin per refusal path): each refusal stops `portico -t`
and real startup with `plugin FILE: reason` and exit 1; a plugin's configuration problems come out as
`CONFIG_FILE:LINE:COL: message`, checked through the host's config getters; route filters name a loaded factory of
the right kind; `--list-plugins` shows what was found; a good plugin's filter serves requests."""

import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (LISTENING_RE, PORTICO_BIN, PorticoCase, echo_handler, main, refused_port,  # noqa: E402
                     run_portico)

FIXTURES = os.path.join(os.environ.get("PORTICO_BUILD_DIR", "build"), "tests", "fixtures", "plugins")


def fixture_dir(name):
    return os.path.join(FIXTURES, name)


def fixture_file(directory, name=None):
    return os.path.join(fixture_dir(directory), f"portico-{name or directory}.so")


def toml_list(items):
    return "[" + ", ".join('"' + item.replace("\\", "\\\\").replace('"', '\\"') + '"' for item in items) + "]"


# The route's filters come last, one per line, from FILTERS_LINE on (1-based).
CONFIG = """\
[server]
workers = 1
drain_timeout = "5s"
plugin_dirs = {dirs}

[listener.http]
bind = "127.0.0.1:0"

[upstream.app]
endpoints = ["127.0.0.1:{port}"]

[[route]]
upstream = "app"
filters = [
{filters}
]
"""
FILTERS_LINE = 15


class PluginLoadingTest(unittest.TestCase):

    def setUp(self):
        if not os.access(PORTICO_BIN, os.X_OK):
            self.fail(f"portico binary not found: {PORTICO_BIN}")
        if not os.path.isdir(FIXTURES):
            self.fail(f"fixture plugins not built: {FIXTURES} (set PORTICO_BUILD_DIR)")
        tmp = tempfile.TemporaryDirectory(prefix="portico-plugins-")
        self.addCleanup(tmp.cleanup)
        self.dir = tmp.name
        self.path = os.path.join(self.dir, "portico.toml")

    def write(self, dirs, filters=()):
        """portico.toml with plugin_dirs = dirs and the route's filters (TOML inline tables, one per line)."""
        with open(self.path, "w") as f:
            f.write(CONFIG.format(dirs=toml_list(dirs), port=refused_port(),
                                  filters=",\n".join(filters)))
        return self.path

    def run_check(self, *args):
        result = run_portico(["-t", "-c", self.path, *args])
        self.assertNotIn("AddressSanitizer", result.stderr)
        self.assertNotIn("runtime error:", result.stderr)
        return result

    def assert_refused(self, expected_lines, dirs, filters=()):
        """`portico -t` and a real start both exit 1 with exactly `expected_lines` on stderr."""
        self.write(dirs, filters)
        result = self.run_check()
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertEqual(result.stderr.splitlines(), expected_lines)
        self.assertNotIn("configuration ok", result.stdout)

        started = run_portico(["-c", self.path])
        self.assertEqual(started.returncode, 1, started.stdout + started.stderr)
        self.assertEqual([line for line in started.stderr.splitlines() if line in expected_lines], expected_lines,
                         started.stderr)
        self.assertIsNone(LISTENING_RE.search(started.stdout + started.stderr), "it listened before failing")

    def at(self, filter_index, column):
        return f"{self.path}:{FILTERS_LINE + filter_index}:{column}"

    # -- refusals of a file -----------------------------------------------------------------------------------
    def test_refuses_file_without_entry_symbol(self):
        self.assert_refused([f"plugin {fixture_file('no_entry')}: no entry symbol portico_plugin_v1 "
                             "(not a Portico plugin?)"], [fixture_dir("no_entry")])

    def test_refuses_other_abi_major(self):
        self.assert_refused([f"plugin {fixture_file('other_major')}: built for ABI 2.x, this host speaks ABI 1"],
                            [fixture_dir("other_major")])

    def test_refuses_newer_abi_minor(self):
        self.assert_refused([f"plugin {fixture_file('newer_minor')}: needs ABI 1.1, this host has 1.0"],
                            [fixture_dir("newer_minor")])

    def test_refuses_descriptor_too_small(self):
        self.assert_refused([f"plugin {fixture_file('small_struct')}: descriptor too small (56 bytes, ABI 1.0 "
                             "needs 72)"], [fixture_dir("small_struct")])

    def test_refuses_duplicate_plugin_name(self):
        first, second = fixture_file("dup_name"), fixture_file("dup_name", "dup_name_copy")
        self.assert_refused([f"plugin {second}: duplicate plugin name 'dup_name' (also in {first})"],
                            [fixture_dir("dup_name")])

    def test_refuses_plugin_whose_global_init_fails(self):
        self.assert_refused([f"plugin {fixture_file('init_fails')}: global_init failed: cannot reach the license "
                             "server (fixture)"], [fixture_dir("init_fails")])

    def test_reports_every_refusal_not_just_the_first(self):
        self.write([fixture_dir("no_entry"), fixture_dir("fixture_ok"), fixture_dir("newer_minor")])
        result = self.run_check()
        self.assertEqual(result.returncode, 1)
        self.assertEqual(len(result.stderr.splitlines()), 2, result.stderr)

    def test_explicit_missing_plugin_dir_is_an_error(self):
        missing = os.path.join(self.dir, "no-such-dir")
        self.write([missing])
        result = self.run_check()
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr.splitlines(), [f'plugin directory "{missing}": No such file or directory'])

    def test_empty_plugin_dirs_loads_nothing(self):
        self.write([])
        result = self.run_check()
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("configuration ok", result.stdout)

    def test_relative_plugin_dir_is_relative_to_the_config_file(self):
        os.symlink(fixture_dir("fixture_ok"), os.path.join(self.dir, "plugins"))
        self.write(["plugins"], ['{ use = "ok_filter" }'])
        result = run_portico(["-t", "-c", self.path], timeout=60)  # from another working directory: cwd is ours
        self.assertEqual(result.returncode, 0, result.stderr)

    # -- a plugin's configuration -----------------------------------------------------------------------------
    def test_plugin_config_errors_point_at_file_line_col(self):
        filters = [
            '{ use = "leveled", level = 12 }',       # range, reported by the plugin at the key
            '{ use = "leveled" }',                   # required, reported by the plugin at the table
            '{ use = "leveled", level = "x" }',      # wrong type, reported by the getter
            '{ use = "leveled", level = 3, mode = "slow" }',  # config_new's own err->message, at the table
            '{ use = "leveled", level = 3, window = "5q" }',  # a bad duration, reported by the getter
            '{ use = "leveled", level = 3, lvel = 2 }',       # unknown key, reported by the host
            '{ use = "leveled", level = 3, window = "2s", on_error = "fail-open" }',  # fine
        ]
        window_form = ('a duration (a string like "250ms", "2s", "5m" or "1h", or an integer of milliseconds)')
        self.assert_refused([
            f"{self.at(0, 20)}: 'level' must be from 1 to 9, not 12",
            f"{self.at(1, 1)}: 'level' is required: an integer from 1 to 9",
            f"{self.at(2, 20)}: level: expected an integer, not a string",
            f'{self.at(3, 1)}: mode "slow" is not supported (fast or best)',
            f'{self.at(4, 31)}: window: expected {window_form}, not "5q"',
            f"{self.at(5, 31)}: unknown key 'lvel' for filter 'leveled' (did you mean 'level'?)",
        ], [fixture_dir("config_error")], filters)

    def test_unknown_key_for_a_plugin_that_reads_nothing(self):
        self.assert_refused([f"{self.at(0, 22)}: unknown key 'levels' for filter 'ok_filter'"],
                            [fixture_dir("fixture_ok")], ['{ use = "ok_filter", levels = 3 }'])

    def test_good_plugin_config_checks_ok(self):
        self.write([fixture_dir("config_error"), fixture_dir("fixture_ok")],
                   ['{ use = "leveled", level = 9, mode = "best", window = 250 }', '{ use = "ok_filter" }',
                    '{ use = "config_error.leveled", level = 1, on_error = "fail-closed" }'])
        result = self.run_check()
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, "configuration ok\n")

    # -- naming a factory -------------------------------------------------------------------------------------
    def test_unknown_factory_lists_the_loaded_ones(self):
        self.assert_refused([f"{self.at(0, 3)}: no filter factory 'compresion' (loaded: leveled, ok_filter)"],
                            [fixture_dir("config_error"), fixture_dir("fixture_ok")],
                            ['{ use = "compresion" }'])

    def test_unknown_factory_with_no_plugin_loaded(self):
        self.assert_refused([f"{self.at(0, 3)}: no filter factory 'compression' (none loaded)"], [],
                            ['{ use = "compression" }'])

    def test_factory_of_another_kind_is_refused(self):
        self.assert_refused([f"{self.at(0, 3)}: 'ok_balancer' is a balancer factory (plugin 'fixture_ok'), not a "
                             "filter"], [fixture_dir("fixture_ok")], ['{ use = "ok_balancer" }'])

    def test_ambiguous_factory_name_needs_the_plugin_name(self):
        dirs = [fixture_dir("fixture_ok"), fixture_dir("fixture_ok_twin")]
        self.assert_refused([f"{self.at(0, 3)}: filter factory 'ok_filter' is offered by several plugins: write "
                             "'fixture_ok.ok_filter' or 'fixture_ok_twin.ok_filter'"], dirs, ['{ use = "ok_filter" }'])
        self.write(dirs, ['{ use = "fixture_ok_twin.ok_filter" }', '{ use = "fixture_ok.ok_filter" }'])
        result = self.run_check()
        self.assertEqual(result.returncode, 0, result.stderr)

    # -- --list-plugins ---------------------------------------------------------------------------------------
    def test_list_plugins_shows_name_version_abi_factories_and_file(self):
        self.write([fixture_dir("fixture_ok"), fixture_dir("config_error")])
        result = run_portico(["--list-plugins", "-c", self.path])
        self.assertEqual(result.returncode, 0, result.stderr)
        lines = result.stdout.splitlines()
        self.assertEqual(lines[0].split(), ["NAME", "VERSION", "ABI", "FACTORIES", "FILE"])
        rows = {line.split()[0]: line for line in lines[1:]}
        self.assertEqual(sorted(rows), ["config_error", "fixture_ok"])
        self.assertRegex(rows["fixture_ok"], r"^fixture_ok +1\.2\.3 +1\.0 +ok_filter \(filter\), ok_balancer "
                         r"\(balancer\) +" + fixture_file("fixture_ok").replace(".", r"\.") + "$")
        self.assertRegex(rows["config_error"], r"^config_error +1\.0\.0 +1\.0 +leveled \(filter\) +"
                         + fixture_file("config_error").replace(".", r"\.") + "$")

    def test_list_plugins_reports_refusals_and_exits_1(self):
        self.write([fixture_dir("fixture_ok"), fixture_dir("no_entry")])
        result = run_portico(["--list-plugins", "-c", self.path])
        self.assertEqual(result.returncode, 1)
        self.assertIn("fixture_ok", result.stdout)
        self.assertIn(f"plugin {fixture_file('no_entry')}: no entry symbol", result.stderr)

    def test_list_plugins_with_none(self):
        self.write([])
        result = run_portico(["--list-plugins", "-c", self.path])
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, "no plugins in (no plugin_dirs)\n")


class PluginServingTest(PorticoCase):

    def test_filter_without_hooks_passes_requests_untouched(self):
        origin = self.start_origin(echo_handler())
        route = {"name": "echo", "match": {"prefix": "/"}, "upstream": "app",
                 "filters": [{"use": "ok_filter"}, {"use": "leveled", "level": 5, "on_error": "fail-open"}],
                 "filter_buffer": "64KiB"}
        proxy = self.start_portico(upstreams={"app": [origin]}, routes=[route],
                                   server={"plugin_dirs": [fixture_dir("fixture_ok"), fixture_dir("config_error")]},
                                   timeouts={"filter_pause": "5s"})
        for i in range(3):
            response = self.client(proxy).request("POST", f"/p{i}", body=b"hello")
            self.assertEqual(response.status, 200, response)
        requests = origin.wait_for_requests(3)
        self.assertEqual([r.body for r in requests], [b"hello"] * 3)


if __name__ == "__main__":
    main()
