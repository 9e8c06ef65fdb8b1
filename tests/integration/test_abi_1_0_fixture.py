"""A plugin built against the kept ABI 1.0 header (sdk/abi/1.0/portico/abi.h, never the live one) loads into
today's host and its filter runs: the ABI 1.0 promise, kept (issue 3, point 9). The plugin is
sdk/tests/abi_1_0_plugin: an HTTP filter that adds `X-Abi-1-0: yes` to responses."""

import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import PorticoCase, echo_handler, main, make_config, run_portico, to_toml  # noqa: E402

BUILD_DIR = os.environ.get("PORTICO_BUILD_DIR", "build")
PLUGIN_DIR = os.environ.get("PORTICO_ABI_1_0_PLUGIN_DIR") or os.path.join(
    BUILD_DIR, "sdk", "tests", "abi_1_0_plugin", "plugins")
PLUGIN_FILE = os.path.join(PLUGIN_DIR, "portico-abi_1_0_fixture.so")


class Abi10FixtureTest(PorticoCase):

    def setUp(self):
        super().setUp()
        self.assertTrue(os.path.exists(PLUGIN_FILE), f"{PLUGIN_FILE} not built (PORTICO_TESTS=ON builds it)")

    def routes(self):
        return [{"match": {"prefix": "/"}, "upstream": "app", "filters": [{"use": "abi_1_0_fixture"}]}]

    def test_filter_built_against_abi_1_0_adds_its_header(self):
        origin = self.start_origin(echo_handler())
        proxy = self.start_portico(upstreams={"app": [origin]}, routes=self.routes(),
                                   server={"plugin_dirs": [PLUGIN_DIR]})
        client = self.client(proxy)
        for path in ("/", "/again"):
            response = client.request("GET", path)
            self.assertEqual(response.status, 200, response)
            self.assertEqual(response.header("x-abi-1-0"), "yes", response.headers)
        self.assertEqual(len(origin.wait_for_requests(2)), 2)  # the filter passed the requests on

    def test_check_and_listing_accept_the_1_0_plugin(self):
        """`portico -t` accepts it and `--list-plugins` shows it with ABI 1.0."""
        config_dir = self.config_dir()
        check = run_portico(["-t", "-c", config_dir])
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        listing = run_portico(["--list-plugins", "-c", config_dir])
        self.assertEqual(listing.returncode, 0, listing.stdout + listing.stderr)
        lines = [line for line in listing.stdout.splitlines() if "abi_1_0_fixture" in line]
        self.assertTrue(lines, listing.stdout)
        self.assertIn("1.0", " ".join(lines), "the listing shows the ABI the plugin was built against (1.0): "
                                              + listing.stdout)

    def config_dir(self):
        """A configuration directory using the fixture (for -t and --list-plugins; nothing is started)."""
        tmp = tempfile.TemporaryDirectory(prefix="portico-abi10-")
        self.addCleanup(tmp.cleanup)
        config = make_config({"app": ["127.0.0.1:9"]}, self.routes(), server={"plugin_dirs": [PLUGIN_DIR]})
        with open(os.path.join(tmp.name, "portico.toml"), "w") as f:
            f.write(to_toml(config))
        return tmp.name


if __name__ == "__main__":
    main()
