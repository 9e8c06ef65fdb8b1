"""`cmake --install` lays out an FHS tree, and the installed binary accepts the installed configuration."""
import os
import subprocess
import tempfile
import unittest

BUILD_DIR = os.environ.get("PORTICO_BUILD_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "build"))


class Install(unittest.TestCase):
    def test_install_lays_out_an_fhs_tree(self):
        with open(os.path.join(BUILD_DIR, "CMakeCache.txt")) as cache:
            prefix = next(line.split("=", 1)[1].strip() for line in cache
                          if line.startswith("CMAKE_INSTALL_PREFIX:"))
        self.assertEqual(prefix, "/usr", "the default install prefix must be /usr (FHS); this build dir was "
                                         "configured with another one")
        root = tempfile.mkdtemp(prefix="portico-install-")
        env = dict(os.environ, DESTDIR=root)
        subprocess.run(["cmake", "--install", BUILD_DIR, "--prefix", "/usr"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        for path in ("usr/sbin/portico", "etc/portico/portico.toml", "etc/portico/conf.d/00-server.toml",
                     "etc/portico/conf.d/10-upstreams.toml", "etc/portico/conf.d/20-routes.toml",
                     "usr/lib/portico/plugins", "usr/share/doc/portico/README.md",
                     "usr/share/doc/portico/config.md", "usr/lib/systemd/system/portico.service"):
            self.assertTrue(os.path.exists(os.path.join(root, path)), path)
        self.assertTrue(os.access(os.path.join(root, "usr/sbin/portico"), os.X_OK))
        check = subprocess.run([os.path.join(root, "usr/sbin/portico"), "-t", "-c",
                                os.path.join(root, "etc/portico/portico.toml")], capture_output=True, text=True)
        self.assertEqual(check.returncode, 0, check.stderr)
        self.assertIn("configuration ok", check.stdout)


if __name__ == "__main__":
    unittest.main()
