"""Scene validation through a REAL bridge (started by the client): a scene whose frame range and fps differ from the
shot's fails with repairs; the repairs applied to the scene, the second publish succeeds. Then the same through the CLI.

Run by tests/host_python_scene_test.ts (the shot demo/sq010/sh010 has fps 24 and frames 1001-1100).
"""

import os
import subprocess
import sys
import unittest

import ferry_host
from ferry_host import Client, JobFailed, instance, publish_request

from ._live import CONTEXT, TASK, WORK, needs_live, record


@needs_live
class LiveSceneTest(unittest.TestCase):
    def test_a_failed_scene_validation_is_repaired_and_the_second_publish_succeeds(self):
        client = Client(host="python")
        path = os.path.join(WORK, "layout.ma")
        with open(path, "w") as stream:
            stream.write("// a scene\n")
        scene = {"frame_start": 1, "frame_end": 48, "fps": 30.0, "camera": "persp"}

        def request():
            facts = ferry_host.scene_facts(
                frame_start=scene["frame_start"],
                frame_end=scene["frame_end"],
                fps=scene["fps"],
                camera=scene["camera"],
                dcc={"name": "python", "version": sys.version.split()[0]},
            )
            return publish_request(CONTEXT, TASK, [instance("workfile", "layout", [path])], scene=facts)

        with self.assertRaises(JobFailed) as caught:
            client.publish(request())
        error = caught.exception
        failed = sorted(item["plugin"] for item in error.validations)
        self.assertEqual(failed, ["ValidateSceneFps", "ValidateSceneFrameRange"])
        by_plugin = {item["plugin"]: item for item in error.validations}
        self.assertIn(
            "frame start is 1, expected 1001 (shot 'sh010'); frame end is 48, expected 1100 (shot 'sh010')",
            by_plugin["ValidateSceneFrameRange"]["message"],
        )
        self.assertIn("frame rate (fps) is 30, expected 24 (shot 'sh010')", by_plugin["ValidateSceneFps"]["message"])
        # The job the bridge keeps has the same repairs.
        self.assertEqual(ferry_host.repairs(client.job(error.job["id"])), error.repairs)

        appliers = {
            "frameStart": lambda value: scene.update(frame_start=value),
            "frameEnd": lambda value: scene.update(frame_end=value),
            "fps": lambda value: scene.update(fps=value),
        }
        for repair in error.repairs:
            applied, unknown = ferry_host.apply_repair(repair, appliers)
            self.assertEqual(unknown, [])
        self.assertEqual(scene, {"frame_start": 1001, "frame_end": 1100, "fps": 24, "camera": "persp"})

        job = client.publish(request())
        self.assertEqual(job["state"], "succeeded")
        self.assertEqual(len(job["versionIds"]), 1)
        self.assertTrue(all(result["success"] for result in job["results"]))
        record("scene", {"versionId": job["versionIds"][0], "failedJob": error.job["id"]})

    def test_the_CLI_prints_failed_validations_and_their_repairs(self):
        path = os.path.join(WORK, "cli_scene.ma")
        with open(path, "w") as stream:
            stream.write("// a scene\n")
        command = [sys.executable, "-m", "ferry_host", "publish", path, "--context", CONTEXT, "--task", TASK]
        command += ["--family", "workfile", "--scene", '{"frameStart": 1001, "frameEnd": 1096, "fps": 24}']
        done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
        self.assertEqual(done.returncode, 1, done.stderr)
        self.assertIn("FAIL ValidateSceneFrameRange cli_scene", done.stderr)
        self.assertIn("failed validations:", done.stderr)
        self.assertIn("frame end is 1096, expected 1100 (shot 'sh010')", done.stderr)
        self.assertIn("    repair: Set the shot's frame range: set frameEnd = 1100", done.stderr)
        command[-1] = '{"frameStart": 1001, "frameEnd": 1100, "fps": 24}'
        done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("published %s cli_scene v001" % CONTEXT, done.stderr)


if __name__ == "__main__":
    unittest.main()
