"""Finding a bridge through bridge.json, and how one is started, without a bridge running."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

from ferry_host.bridge import bridge_command, find_bridge, read_bridge_file, start_bridge
from ferry_host.errors import BridgeNotFound


class DiscoveryTest(unittest.TestCase):
    def setUp(self):
        self.home = tempfile.mkdtemp(prefix="ferry-home-")
        self.addCleanup(shutil.rmtree, self.home, True)

    def write(self, data):
        with open(os.path.join(self.home, "bridge.json"), "w") as stream:
            stream.write(data if isinstance(data, str) else json.dumps(data))

    def test_read_bridge_file_is_None_when_missing_or_not_a_bridge_file(self):
        self.assertIsNone(read_bridge_file(self.home))
        self.write("{not json")
        self.assertIsNone(read_bridge_file(self.home))
        self.write({"url": "http://127.0.0.1:1"})
        self.assertIsNone(read_bridge_file(self.home))

    def test_find_bridge_ignores_a_bridge_json_whose_process_is_gone(self):
        dead = subprocess.Popen([sys.executable, "-c", "pass"])
        dead.wait()
        self.write({"url": "http://127.0.0.1:9", "token": "t" * 43, "pid": dead.pid, "version": "0.1.0"})
        why = []
        self.assertIsNone(find_bridge(self.home, why=why))
        path = os.path.join(self.home, "bridge.json")
        self.assertEqual(why, ["%s is stale: its process %d is gone" % (path, dead.pid)])

    def test_find_bridge_ignores_a_bridge_json_whose_url_does_not_answer(self):
        self.write({"url": "http://127.0.0.1:9", "token": "t" * 43, "pid": os.getpid(), "version": "0.1.0"})
        why = []
        self.assertIsNone(find_bridge(self.home, timeout=0.5, why=why))
        self.assertIn("http://127.0.0.1:9, which does not answer /health", why[0])

    def test_bridge_command_prefers_the_argument_then_the_environment_then_the_checkout(self):
        root = tempfile.mkdtemp(prefix="ferry-root-")
        self.addCleanup(shutil.rmtree, root, True)
        argv, _, _ = bridge_command("ferry-bridge --port 0", env={"FERRY_BRIDGE_COMMAND": "x"})
        self.assertEqual(argv, ["ferry-bridge", "--port", "0"])
        argv, _, _ = bridge_command(env={"FERRY_BRIDGE_COMMAND": "'/opt/ferry bridge' --port 0", "FERRY_ROOT": root})
        self.assertEqual(argv, ["/opt/ferry bridge", "--port", "0"])
        with self.assertRaises(BridgeNotFound) as caught:
            bridge_command(env={"FERRY_ROOT": root})
        self.assertIn("not a ferry checkout (no deno.json there)", str(caught.exception))
        open(os.path.join(root, "deno.json"), "w").close()
        argv, cwd, _ = bridge_command(env={"FERRY_ROOT": root, "FERRY_DENO": "/x/deno"})
        self.assertEqual((argv, cwd), (["/x/deno", "task", "bridge", "--port", "0"], root))
        self.assertIsNone(bridge_command(env={"PATH": ""}) if not shutil.which("ferry-bridge") else None)

    def test_start_bridge_without_a_command_says_every_way_to_give_one(self):
        saved = dict(os.environ)
        self.addCleanup(os.environ.update, saved)
        for name in ("FERRY_BRIDGE_COMMAND", "FERRY_ROOT"):
            os.environ.pop(name, None)
        os.environ["PATH"] = self.home
        with self.assertRaises(BridgeNotFound) as caught:
            start_bridge(self.home)
        message = str(caught.exception)
        for words in ("FERRY_BRIDGE_COMMAND", "FERRY_ROOT", "ferry-bridge on PATH"):
            self.assertIn(words, message)

    def test_start_bridge_reports_a_command_that_exits_with_its_output(self):
        command = [sys.executable, "-c", "import sys; print('cannot listen: port taken'); sys.exit(3)"]
        with self.assertRaises(BridgeNotFound) as caught:
            start_bridge(self.home, command=command, timeout=30)
        message = str(caught.exception)
        self.assertIn("exited with code 3 before answering", message)
        self.assertIn("cannot listen: port taken", message)
        self.assertEqual(caught.exception.log_path, os.path.join(self.home, "logs", "bridge-start.log"))

    def test_start_bridge_gives_up_after_the_timeout_naming_the_process(self):
        command = [sys.executable, "-c", "import time; time.sleep(60)"]
        with self.assertRaises(BridgeNotFound) as caught:
            start_bridge(self.home, command=command, timeout=0.3)
        pid = caught.exception.pid
        os.kill(pid, signal.SIGTERM)
        self.assertIn("(pid %d) did not answer /health within 0.3 s" % pid, str(caught.exception))


if __name__ == "__main__":
    unittest.main()
