"""The client stays Python 3.7 syntax and standard library only (DCCs embed old Pythons)."""

import ast
import os
import sys
import unittest

PACKAGE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "ferry_host")
HOSTS = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ADDON = os.path.join(HOSTS, "blender", "ferry_blender")
STDLIB_ONLY = {
    "argparse", "ast", "ctypes", "errno", "http", "json", "ntpath", "os", "posixpath", "pwd", "re", "shlex",
    "shutil", "socket", "subprocess", "sys", "threading", "time", "urllib",
}


def sources(folder):
    for root, _, names in os.walk(folder):
        for name in sorted(names):
            if name.endswith(".py"):
                yield os.path.join(root, name)


class Python37Test(unittest.TestCase):
    @unittest.skipIf(sys.version_info < (3, 8), "ast feature_version needs Python 3.8+")
    def test_ferry_host_parses_as_python_3_7(self):
        for path in list(sources(PACKAGE)) + list(sources(ADDON)):
            with open(path, "rb") as stream:
                text = stream.read().decode("utf-8")
            try:
                ast.parse(text, path, feature_version=(3, 7))
            except SyntaxError as error:
                self.fail("%s is not Python 3.7: %s" % (path, error))

    def test_ferry_host_imports_only_the_standard_library(self):
        for path in sources(PACKAGE):
            with open(path, "rb") as stream:
                tree = ast.parse(stream.read().decode("utf-8"), path)
            for node in ast.walk(tree):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    names = [node.module or ""]
                for name in names:
                    self.assertIn(name.split(".")[0], STDLIB_ONLY, "%s imports %s" % (path, name))


if __name__ == "__main__":
    unittest.main()
