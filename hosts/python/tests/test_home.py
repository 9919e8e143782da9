"""ferry_home() resolves FERRY_HOME exactly as src/config/ferry_home.ts does."""

import unittest

from ferry_host.home import ferry_home, user_home


class FerryHomeTest(unittest.TestCase):
    def test_ferry_home_prefers_FERRY_HOME_on_every_platform(self):
        for platform in ("linux", "darwin", "win32"):
            self.assertEqual(ferry_home({"FERRY_HOME": "/srv/ferry"}, platform, "/home/a"), "/srv/ferry")

    def test_ferry_home_ignores_an_empty_FERRY_HOME(self):
        self.assertEqual(ferry_home({"FERRY_HOME": ""}, "linux", "/home/a"), "/home/a/.local/share/ferry")

    def test_ferry_home_on_linux_uses_XDG_DATA_HOME_unless_empty(self):
        self.assertEqual(ferry_home({}, "linux", "/home/a"), "/home/a/.local/share/ferry")
        self.assertEqual(ferry_home({"XDG_DATA_HOME": "/data/x"}, "linux", "/home/a"), "/data/x/ferry")
        self.assertEqual(ferry_home({"XDG_DATA_HOME": ""}, "linux", "/home/a"), "/home/a/.local/share/ferry")
        # node's path.join normalizes
        self.assertEqual(ferry_home({"XDG_DATA_HOME": "/data//x/"}, "linux", "/home/a"), "/data/x/ferry")

    def test_ferry_home_on_macos_uses_application_support(self):
        self.assertEqual(
            ferry_home({"XDG_DATA_HOME": "/x"}, "darwin", "/Users/a"), "/Users/a/Library/Application Support/ferry"
        )

    def test_ferry_home_on_windows_uses_LOCALAPPDATA_even_when_empty(self):
        self.assertEqual(
            ferry_home({"LOCALAPPDATA": "C:\\Users\\a\\AppData\\Local"}, "win32", "C:\\Users\\a"),
            "C:\\Users\\a\\AppData\\Local\\ferry",
        )
        self.assertEqual(ferry_home({}, "win32", "C:\\Users\\a"), "C:\\Users\\a\\AppData\\Local\\ferry")
        # TypeScript's `??` keeps an empty LOCALAPPDATA: join("", "ferry") is "ferry"
        self.assertEqual(ferry_home({"LOCALAPPDATA": ""}, "win32", "C:\\Users\\a"), "ferry")

    def test_user_home_reads_HOME_or_USERPROFILE_like_node(self):
        self.assertEqual(user_home({"HOME": "/home/b"}, "linux"), "/home/b")
        self.assertEqual(user_home({"USERPROFILE": "C:\\Users\\b", "HOME": "/x"}, "win32"), "C:\\Users\\b")


if __name__ == "__main__":
    unittest.main()
