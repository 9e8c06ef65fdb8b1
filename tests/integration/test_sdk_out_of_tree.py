"""A third party builds a plugin against the installed SDK and Portico loads it (issue 3, point 10):
`cmake --install` of this build's "dev" component into a temporary prefix, sdk/examples/hello configured and built
OUT of the tree against that prefix only, then portico started with the example's build directory as plugin_dirs.
The example adds `X-Hello: <greeting>` and counts requests in a metric, shown in `X-Hello-Count`."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import REPO, PorticoCase, echo_handler, main  # noqa: E402

BUILD_DIR = os.environ.get("PORTICO_BUILD_DIR", os.path.join(REPO, "build"))
EXAMPLE = os.path.join(REPO, "sdk", "examples", "hello")
STEP_TIMEOUT = 300  # one cmake step; a cold configure + build takes a few seconds


def run(args, **kwargs):
    """Runs a build step; on failure the assertion carries its output."""
    result = subprocess.run(args, capture_output=True, text=True, timeout=STEP_TIMEOUT, stdin=subprocess.DEVNULL,
                            **kwargs)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def configure_args(source, build, prefix, *extra):
    """Configure a project against `prefix` alone: no package registries, no system-wide portico-sdk."""
    args = ["cmake", "-S", source, "-B", build, f"-DCMAKE_PREFIX_PATH={prefix}",
            "-DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF", "-DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF",
            "-DCMAKE_BUILD_TYPE=RelWithDebInfo"]
    if shutil.which("ninja"):
        args += ["-G", "Ninja"]
    return args + list(extra)


class SdkOutOfTreeTest(PorticoCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="portico-sdk-")
        cls.prefix = os.path.join(cls.tmp, "prefix")
        cls.build = os.path.join(cls.tmp, "hello-build")
        try:
            run(["cmake", "--install", BUILD_DIR, "--prefix", cls.prefix, "--component", "dev"])
            # -Werror with the usual warnings: sdk.hpp must be clean in a third party's build too.
            run(configure_args(EXAMPLE, cls.build, cls.prefix, "-DCMAKE_CXX_FLAGS=-Wall -Wextra -Werror"))
            run(["cmake", "--build", cls.build])
        except BaseException:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise
        cls.plugin = os.path.join(cls.build, "portico-hello.so")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # -- the installed SDK ---------------------------------------------------------------------------------------
    def test_dev_component_installs_headers_and_cmake_package(self):
        for path in ("include/portico/abi.h", "include/portico/sdk.hpp",
                     "share/cmake/portico-sdk/portico-sdkConfig.cmake",
                     "share/cmake/portico-sdk/portico-sdkConfigVersion.cmake",
                     "share/cmake/portico-sdk/portico-sdkTargets.cmake",
                     "share/cmake/portico-sdk/PorticoPlugin.cmake"):
            self.assertTrue(os.path.isfile(os.path.join(self.prefix, path)), path)
        with open(os.path.join(REPO, "sdk", "include", "portico", "abi.h"), "rb") as live, \
                open(os.path.join(self.prefix, "include", "portico", "abi.h"), "rb") as installed:
            self.assertEqual(live.read(), installed.read())

    def test_example_was_built_against_the_temporary_prefix(self):
        with open(os.path.join(self.build, "CMakeCache.txt")) as cache:
            found = next((line.split("=", 1)[1].strip() for line in cache if line.startswith("portico-sdk_DIR:")),
                         None)
        self.assertEqual(found, os.path.join(self.prefix, "share", "cmake", "portico-sdk"))

    def test_package_version_follows_the_abi_major(self):
        """find_package(portico-sdk X.Y) accepts ABI X with minor >= Y only (SameMajorVersion)."""
        for requested, accepted in (("1.0", True), ("1.99", False), ("2.0", False), ("0.9", False)):
            with self.subTest(requested=requested):
                source = os.path.join(self.tmp, f"probe-{requested}")
                os.makedirs(source, exist_ok=True)
                with open(os.path.join(source, "CMakeLists.txt"), "w") as f:
                    f.write("cmake_minimum_required(VERSION 3.18)\nproject(probe LANGUAGES NONE)\n"
                            f"find_package(portico-sdk {requested} REQUIRED)\n")
                result = subprocess.run(configure_args(source, os.path.join(source, "build"), self.prefix),
                                        capture_output=True, text=True, timeout=STEP_TIMEOUT)
                self.assertEqual(result.returncode == 0, accepted, result.stdout + result.stderr)

    # -- the built plugin ----------------------------------------------------------------------------------------
    def test_plugin_file_soname_and_single_export(self):
        self.assertTrue(os.path.isfile(self.plugin), os.listdir(self.build))
        dynamic = run(["readelf", "-d", self.plugin]).stdout
        self.assertRegex(dynamic, r"Library soname: \[portico-hello\.so\.1\]")
        # `nm -D --defined-only`: "ADDRESS TYPE NAME" per symbol; version nodes (NAME@@V) are not symbols.
        lines = run(["nm", "-D", "--defined-only", self.plugin]).stdout.splitlines()
        exported = [line.split()[-1].split("@")[0] for line in lines if len(line.split()) == 3]
        exported = [name for name in exported if not re.fullmatch(r"[A-Z0-9_.]+", name)]
        self.assertEqual(exported, ["portico_plugin_v1"], lines)

    def test_install_puts_the_plugin_into_the_plugin_directory(self):
        destination = os.path.join(self.tmp, "plugin-install")
        run(["cmake", "--install", self.build, "--prefix", destination])
        self.assertTrue(os.path.isfile(os.path.join(destination, "lib", "portico", "plugins", "portico-hello.so")))

    # -- loaded into portico -------------------------------------------------------------------------------------
    def test_portico_loads_it_greets_and_counts(self):
        origin = self.start_origin(echo_handler())
        routes = [
            {"match": {"prefix": "/custom"}, "upstream": "app",
             "filters": [{"use": "hello", "greeting": "hi there"}]},
            {"match": {"prefix": "/"}, "upstream": "app", "filters": [{"use": "hello"}]},
        ]
        proxy = self.start_portico(upstreams={"app": [origin]}, routes=routes, server={"plugin_dirs": [self.build]})
        client = self.client(proxy)
        counts = []
        for path, greeting in (("/", "hello"), ("/custom", "hi there"), ("/", "hello"), ("/custom/x", "hi there")):
            response = client.request("GET", path)
            self.assertEqual(response.status, 200, response)
            self.assertEqual(response.header("x-hello"), greeting, response.headers)
            count = response.header("x-hello-count")
            self.assertIsNotNone(count, response.headers)
            counts.append(int(count))
        # One counter for the plugin, whichever route and worker: sequential requests see it grow by one.
        self.assertEqual(counts, list(range(counts[0], counts[0] + 4)), counts)
        self.assertGreaterEqual(counts[0], 1)
        origin.wait_for_requests(4)


if __name__ == "__main__":
    main()
