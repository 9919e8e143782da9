"""Finding the bridge of a FERRY_HOME through its bridge.json, and starting one when none runs."""

import json
import os
import shlex
import shutil
import subprocess
import sys
import threading
import time

from .errors import BridgeNotFound
from .home import ferry_home
from .transport import get_json

BRIDGE_FILE = "bridge.json"
START_LOG = os.path.join("logs", "bridge-start.log")


class BridgeInfo(object):
    """A running bridge as its bridge.json describes it: ``url``, ``token``, ``pid``, ``version``, ``path``."""

    def __init__(self, url, token, pid=None, version=None, started_at=None, path=None):
        self.url = url.rstrip("/")
        self.token = token
        self.pid = pid
        self.version = version
        self.started_at = started_at
        self.path = path

    def __repr__(self):
        return "BridgeInfo(url=%r, pid=%r, version=%r, path=%r)" % (self.url, self.pid, self.version, self.path)


def bridge_file(home=None):
    """The path of bridge.json in a FERRY_HOME (this process's by default)."""
    return os.path.join(home or ferry_home(), BRIDGE_FILE)


def read_bridge_file(home=None):
    """The bridge.json of ``home`` as a :class:`BridgeInfo`, or None when it is missing or unreadable."""
    path = bridge_file(home)
    try:
        with open(path, "rb") as stream:
            data = json.loads(stream.read().decode("utf-8"))
    except (IOError, OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("url"), str) or not isinstance(data.get("token"), str):
        return None
    pid = data.get("pid")
    return BridgeInfo(
        data["url"],
        data["token"],
        pid=pid if isinstance(pid, int) else None,
        version=data.get("version"),
        started_at=data.get("startedAt"),
        path=path,
    )


def pid_alive(pid):
    """Whether a process of this id runs (on this machine)."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    if sys.platform == "win32":
        return _windows_pid_alive(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def _windows_pid_alive(pid):
    import ctypes

    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return False
    try:
        code = ctypes.c_ulong()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return False
        return code.value == 259  # STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)


def health(url, timeout=2.0):
    """The bridge's ``GET /health`` answer (a dict), or None when nothing (or not a ferry bridge) answers."""
    try:
        status, body = get_json(url, "/health", timeout=timeout)
    except Exception:
        return None
    if status != 200 or not isinstance(body, dict) or not body.get("ok"):
        return None
    if body.get("service") not in (None, "bridge"):
        return None
    return body


def find_bridge(home=None, timeout=2.0, why=None):
    """The bridge running for ``home``: its bridge.json when its process lives and ``/health`` answers, else None.

    ``why``, a list, receives one line per reason a bridge.json was not used.
    """
    why = why if why is not None else []
    info = read_bridge_file(home)
    if info is None:
        path = bridge_file(home)
        why.append("no usable %s" % path if os.path.exists(path) else "no %s" % path)
        return None
    if info.pid is not None and not pid_alive(info.pid):
        why.append("%s is stale: its process %d is gone" % (info.path, info.pid))
        return None
    answer = health(info.url, timeout=timeout)
    if answer is None:
        why.append("%s names %s, which does not answer /health" % (info.path, info.url))
        return None
    if info.pid is not None and isinstance(answer.get("pid"), int) and answer["pid"] != info.pid:
        why.append(
            "%s is stale: %s is another bridge (pid %s, not %s)" % (info.path, info.url, answer["pid"], info.pid)
        )
        return None
    return info


def bridge_command(command=None, root=None, env=None):
    """How to start a bridge: ``(argv or command string, working folder, description)``, or None.

    In this order: ``command`` (a list, or a string split like a shell would); ``FERRY_BRIDGE_COMMAND``;
    ``deno task bridge --port 0`` in the ferry checkout ``root`` / ``FERRY_ROOT`` (deno: ``FERRY_DENO``, the
    checkout's ``node_modules/deno/deno``, or ``deno`` on PATH); a ``ferry-bridge`` binary on PATH.
    """
    env = os.environ if env is None else env
    root = root or env.get("FERRY_ROOT") or None
    cwd = root if root and os.path.isdir(root) else None
    if command is None and env.get("FERRY_BRIDGE_COMMAND"):
        command = env["FERRY_BRIDGE_COMMAND"]
    if command is not None:
        argv = _split(command)
        if not argv:
            raise ValueError("The bridge command is empty: give a command line such as 'ferry-bridge --port 0'")
        return argv, cwd, "the command %s" % _shown(argv)
    if root:
        if not os.path.isfile(os.path.join(root, "deno.json")):
            raise BridgeNotFound(
                "FERRY_ROOT is %r, which is not a ferry checkout (no deno.json there)" % root,
                attempts=["FERRY_ROOT=%s: no deno.json" % root],
            )
        deno = env.get("FERRY_DENO") or _checkout_deno(root) or shutil.which("deno")
        if not deno:
            raise BridgeNotFound(
                "Cannot start a bridge in %r: no deno (run 'npm ci' there, or set FERRY_DENO)" % root,
                attempts=["FERRY_ROOT=%s: no node_modules/deno/deno, no deno on PATH" % root],
            )
        argv = [deno, "task", "bridge", "--port", "0"]
        return argv, root, "%s in %s" % (_shown(argv), root)
    binary = shutil.which("ferry-bridge")
    if binary:
        argv = [binary, "--port", "0"]
        return argv, None, "the command %s" % _shown(argv)
    return None


def _checkout_deno(root):
    for name in ("deno.exe", "deno") if sys.platform == "win32" else ("deno",):
        path = os.path.join(root, "node_modules", "deno", name)
        if os.path.isfile(path):
            return path
    return None


def _split(command):
    """A list stays a list; a string is split like a POSIX shell would, except on Windows, where
    CreateProcess parses the command line itself (so it is kept whole)."""
    if isinstance(command, (list, tuple)):
        return [str(part) for part in command]
    if sys.platform == "win32":
        return command.strip()
    return shlex.split(command)


def _shown(argv):
    if isinstance(argv, str):
        return argv
    return " ".join(shlex.quote(part) for part in argv)


def start_bridge(home=None, command=None, root=None, timeout=30.0, env=None):
    """Starts a bridge for ``home``, detached from this process, and waits until it answers ``/health``.

    Its output goes to ``$FERRY_HOME/logs/bridge-start.log``. Raises :class:`BridgeNotFound` naming the command,
    the log and the reason when no command is known, the command cannot run, it exits, or it does not answer
    within ``timeout`` seconds. A bridge another process started at the same time is used as well.
    """
    env = dict(os.environ if env is None else env)
    home = home or ferry_home(env)
    how = bridge_command(command, root, env)
    if how is None:
        raise BridgeNotFound(
            "No ferry bridge runs for FERRY_HOME %r and none can be started: set FERRY_BRIDGE_COMMAND (e.g. "
            "'ferry-bridge --port 0'), or FERRY_ROOT to a ferry checkout (it runs 'deno task bridge'), or put "
            "ferry-bridge on PATH" % home,
            attempts=["no %s" % bridge_file(home), "no FERRY_BRIDGE_COMMAND, no FERRY_ROOT, no ferry-bridge on PATH"],
        )
    argv, cwd, description = how
    log_path = os.path.join(home, START_LOG)
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    env["FERRY_HOME"] = home
    log = open(log_path, "ab")
    try:
        log.write(("\n--- %s: starting %s\n" % (time.strftime("%Y-%m-%dT%H:%M:%S"), description)).encode("utf-8"))
        log.flush()
        options = dict(stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=cwd or home, env=env)
        if sys.platform == "win32":
            options["creationflags"] = 0x00000008 | 0x00000200  # DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP
        else:
            options["start_new_session"] = True
            options["close_fds"] = True
        try:
            process = subprocess.Popen(argv, **options)
        except OSError as error:
            raise BridgeNotFound(
                "Cannot start a ferry bridge with %s: %s" % (description, error),
                attempts=["started %s: %s" % (description, error)],
                log_path=log_path,
            )
    finally:
        log.close()
    # Reap it when it exits, so that a long-lived DCC keeps no zombie.
    waiter = threading.Thread(target=process.wait, name="ferry-bridge-reaper")
    waiter.daemon = True
    waiter.start()
    deadline = time.time() + timeout
    while True:
        found = find_bridge(home, timeout=1.0)
        if found is not None:
            return found
        code = process.poll()
        if code is not None:
            found = find_bridge(home, timeout=1.0)  # another DCC's start may have won
            if found is not None:
                return found
            raise BridgeNotFound(
                "The ferry bridge started with %s exited with code %s before answering; its output (%s):\n%s"
                % (description, code, log_path, _tail(log_path)),
                attempts=["started %s: exited with code %s" % (description, code)],
                log_path=log_path,
            )
        if time.time() > deadline:
            raise BridgeNotFound(
                "The ferry bridge started with %s (pid %d) did not answer /health within %g s; its output (%s):\n%s"
                % (description, process.pid, timeout, log_path, _tail(log_path)),
                attempts=["started %s: no answer within %g s" % (description, timeout)],
                log_path=log_path,
                pid=process.pid,
            )
        time.sleep(0.1)


def _tail(path, lines=15):
    try:
        with open(path, "rb") as stream:
            text = stream.read().decode("utf-8", "replace")
    except (IOError, OSError):
        return "  (no output)"
    last = text.rstrip().split("\n")[-lines:]
    return "\n".join("  " + line for line in last)


def ensure_bridge(home=None, command=None, root=None, start=True, timeout=30.0):
    """The running bridge of ``home``; when none runs and ``start`` is true, one started by :func:`start_bridge`."""
    home = home or ferry_home()
    why = []
    found = find_bridge(home, why=why)
    if found is not None:
        return found
    if not start:
        raise BridgeNotFound(
            "No ferry bridge runs for FERRY_HOME %r (%s); start one with 'deno task bridge' or let the client start it"
            % (home, "; ".join(why)),
            attempts=why,
        )
    try:
        return start_bridge(home, command=command, root=root, timeout=timeout)
    except BridgeNotFound as error:
        error.attempts = why + error.attempts
        raise
