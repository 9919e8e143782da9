"""``python -m ferry_host`` against a REAL bridge: exit codes, progress on stderr, JSON on stdout.

Run by tests/host_python_test.ts (see test_live_client.py).
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest
import uuid

from ._live import CONTEXT, TASK, WORK, needs_live, record, write_frames


def ferry(*args, **env):
    environment = dict(os.environ)
    environment.update(env)
    process = subprocess.run(
        [sys.executable, "-m", "ferry_host"] + list(args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        universal_newlines=True,
        env=environment,
        timeout=120,
    )
    return process.returncode, process.stdout, process.stderr


@needs_live
class LiveCliTest(unittest.TestCase):
    def test_cli_publish_prints_progress_and_the_version_and_exits_0(self):
        path = os.path.join(WORK, "chair.glb")
        with open(path, "wb") as stream:
            stream.write(b"glTF" + os.urandom(5000))
        code, out, err = ferry(
            "publish", path, "--context", CONTEXT, "--task", TASK, "--family", "model", "--comment", "cli", "--json"
        )
        self.assertEqual(code, 0, err)
        job = json.loads(out)
        self.assertEqual(job["state"], "succeeded")
        self.assertEqual(job["request"]["instances"][0]["name"], "chair")
        self.assertIn("ok   IntegrateVersion chair", err)
        self.assertIn("published %s chair v001 (%s)" % (CONTEXT, job["versionIds"][0]), err)
        record("cli", {"versionId": job["versionIds"][0], "path": path})

        code, out, err = ferry("job", job["id"])
        self.assertEqual(code, 0, err)
        self.assertIn("job %s: succeeded" % job["id"], out)
        self.assertIn("version %s" % job["versionIds"][0], out)

    def test_cli_dry_run_validates_without_publishing_and_disk_location_copies_into_the_root(self):
        folder = os.path.join(WORK, "cli_frames")
        write_frames(folder, "plate", range(1, 4))
        pattern = os.path.join(folder, "plate.####.png")
        code, out, err = ferry("publish", pattern, "--context", CONTEXT, "--task", TASK, "--dry-run", "--json")
        self.assertEqual(code, 0, err)
        job = json.loads(out)
        self.assertEqual((job["state"], job["dryRun"], job["versionIds"]), ("succeeded", True, []))
        self.assertIn("dry run: 'plate' would be published to %s (%s)" % (CONTEXT, TASK), err)

        root = os.path.join(WORK, "published")
        code, out, err = ferry(
            "publish", pattern, "--context", CONTEXT, "--task", TASK, "--family", "cache", "--location", "disk:" + root
        )
        self.assertEqual(code, 0, err)
        copied = sorted(
            os.path.relpath(os.path.join(where, name), root) for where, _, names in os.walk(root) for name in names
        )
        self.assertEqual(len([path for path in copied if path.endswith(".png") and "/plate/v001/" in path]), 3, copied)

    def test_cli_publish_that_fails_exits_1_naming_the_plugin(self):
        path = os.path.join(WORK, "lost.txt")
        with open(path, "w") as stream:
            stream.write("text")
        code, _, err = ferry("publish", path, "--context", "demo/nowhere", "--task", TASK)
        self.assertEqual(code, 1, err)
        self.assertIn("not published: Publish job", err)
        self.assertIn("nowhere", err)

    def test_cli_invalid_request_and_usage_errors_exit_2(self):
        path = os.path.join(WORK, "x.txt")
        with open(path, "w") as stream:
            stream.write("x")
        code, _, err = ferry("publish", path, "--context", CONTEXT, "--task", "")
        self.assertEqual(code, 2, err)
        self.assertIn("'context.task'", err)
        code, _, err = ferry("publish", path, "--task", TASK)
        self.assertEqual(code, 2, err)
        self.assertIn("--context", err)
        code, _, err = ferry("cancel", str(uuid.uuid4()))
        self.assertEqual(code, 2, err)
        code, out, _ = ferry("--help")
        self.assertEqual(code, 0)
        self.assertIn("Exit codes", out)

    def test_cli_lists_plugins_and_contexts(self):
        code, out, err = ferry("plugins", "--host", "blender", "--json")
        self.assertEqual(code, 0, err)
        self.assertIn("IntegrateVersion", [plugin["name"] for plugin in json.loads(out)])
        code, out, err = ferry("contexts", "--parent", CONTEXT)
        self.assertEqual(code, 0, err)
        self.assertIn("%s/%s" % (CONTEXT, TASK), out)

    def test_cli_without_a_bridge_exits_3_saying_how_it_tried(self):
        home = tempfile.mkdtemp(prefix="ferry-empty-home-")
        code, _, err = ferry("jobs", "--no-start", FERRY_HOME=home)
        self.assertEqual(code, 3, err)
        self.assertIn("No ferry bridge runs for FERRY_HOME", err)
        failing = "%s -c 'import sys; sys.exit(7)'" % sys.executable
        code, _, err = ferry("jobs", FERRY_HOME=home, FERRY_BRIDGE_COMMAND=failing)
        self.assertEqual(code, 3, err)
        self.assertIn("exited with code 7 before answering", err)
        self.assertIn(os.path.join(home, "logs", "bridge-start.log"), err)


if __name__ == "__main__":
    unittest.main()
