"""Where ferry keeps its per-user data: the same rules as ferry's TypeScript side (src/config/ferry_home.ts)."""

import ntpath
import os
import posixpath
import sys


def user_home(env=None, platform=None):
    """The user's home folder as Node's ``os.homedir()`` finds it: ``USERPROFILE`` on Windows, ``HOME`` elsewhere."""
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if platform == "win32":
        return env.get("USERPROFILE") or os.path.expanduser("~")
    home = env.get("HOME")
    if home:
        return home
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_dir
    except Exception:  # pragma: no cover - no pwd database
        return os.path.expanduser("~")


def ferry_home(env=None, platform=None, home=None):
    """The per-user data folder of ferry.

    ``FERRY_HOME`` when set (and not empty); otherwise ``$XDG_DATA_HOME/ferry`` (``~/.local/share/ferry``) on
    Linux, ``~/Library/Application Support/ferry`` on macOS and ``%LOCALAPPDATA%\\ferry`` on Windows.
    ``env``, ``platform`` (``sys.platform`` names) and ``home`` default to this process's.

    >>> ferry_home({"FERRY_HOME": "/srv/ferry"}, "linux", "/home/a")
    '/srv/ferry'
    >>> ferry_home({}, "linux", "/home/a")
    '/home/a/.local/share/ferry'
    >>> ferry_home({}, "win32", "C:\\\\Users\\\\a")
    'C:\\\\Users\\\\a\\\\AppData\\\\Local\\\\ferry'
    """
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if home is None:
        home = user_home(env, platform)
    if env.get("FERRY_HOME"):
        return env["FERRY_HOME"]
    if platform == "win32":
        # TypeScript: `env.LOCALAPPDATA ?? join(home, "AppData", "Local")` (an empty value is kept).
        local = env.get("LOCALAPPDATA")
        if local is None:
            local = ntpath.join(home, "AppData", "Local")
        return _normalized(ntpath, local, "ferry")
    if platform == "darwin":
        return _normalized(posixpath, home, "Library", "Application Support", "ferry")
    # TypeScript: `env.XDG_DATA_HOME || join(home, ".local", "share")` (an empty value is ignored).
    return _normalized(posixpath, env.get("XDG_DATA_HOME") or posixpath.join(home, ".local", "share"), "ferry")


def _normalized(module, *parts):
    """``path.join`` of Node: joined, then normalized (``a//b/../c`` → ``a/c``)."""
    joined = module.join(*[part for part in parts if part != ""])
    return module.normpath(joined) if joined else "."
