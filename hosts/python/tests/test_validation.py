"""Failed validations and repairs read from a job, applied by a host (no bridge needed)."""

import io
import unittest
from contextlib import redirect_stderr

import ferry_host
from ferry_host import cli

JOB = {
    "id": "j1",
    "state": "failed",
    "results": [
        {"plugin": "CollectSceneFacts", "instance": None, "success": True, "error": None, "records": []},
        {
            "plugin": "ValidateSceneFrameRange",
            "instance": "layout",
            "success": False,
            "error": {"message": "Cannot publish 'layout' from this scene: frame start is 1, expected 1001"},
            "repairs": [
                {"action": "Repair", "label": "Set the shot's frame range", "set": {"frameEnd": 1100, "frameStart": 1001}}
            ],
        },
        {
            "plugin": "ValidateSceneFps",
            "instance": "layout",
            "success": False,
            "error": {"message": "frame rate (fps) is 30, expected 24"},
            "repairs": [{"action": "Repair", "label": "Set the shot's frame rate", "set": {"fps": 24}}],
        },
        {
            "plugin": "ValidateSceneCamera",
            "instance": "layout",
            "success": False,
            "error": {"message": "the camera is 'Camera'"},
        },
    ],
}


class ValidationTest(unittest.TestCase):
    def test_failed_validations_lists_every_failed_result_with_its_repairs(self):
        failed = ferry_host.failed_validations(JOB)
        self.assertEqual(
            [(item["plugin"], item["instance"], len(item["repairs"])) for item in failed],
            [("ValidateSceneFrameRange", "layout", 1), ("ValidateSceneFps", "layout", 1), ("ValidateSceneCamera", "layout", 0)],
        )
        self.assertEqual(ferry_host.failed_validations({"results": []}), [])

    def test_repairs_flattens_the_proposals_naming_plugin_and_instance(self):
        found = ferry_host.repairs(JOB)
        self.assertEqual([repair["plugin"] for repair in found], ["ValidateSceneFrameRange", "ValidateSceneFps"])
        self.assertEqual(found[0]["set"], {"frameStart": 1001, "frameEnd": 1100})
        self.assertEqual(found[0]["instance"], "layout")

    def test_apply_repair_applies_known_keys_and_returns_the_unknown_ones(self):
        scene = {"frame_start": 1, "frame_end": 48}
        appliers = {
            "frameStart": lambda value: scene.update(frame_start=value),
            "frameEnd": lambda value: scene.update(frame_end=value),
        }
        applied, unknown = ferry_host.apply_repair(
            {"set": {"frameEnd": 1100, "frameStart": 1001, "lensSqueeze": 2}, "save": True, "reload": True}, appliers
        )
        self.assertEqual(applied, ["frameStart", "frameEnd"])
        self.assertEqual(unknown, ["lensSqueeze", "save", "reload"])
        self.assertEqual(scene, {"frame_start": 1001, "frame_end": 1100})
        saved = []
        self.assertEqual(ferry_host.apply_repair({"save": True}, {}, save=lambda: saved.append(1)), (["save"], []))
        self.assertEqual(saved, [1])

    def test_JobFailed_carries_validations_and_repairs(self):
        with self.assertRaises(ferry_host.JobFailed) as caught:
            ferry_host.raise_for_job(JOB)
        error = caught.exception
        self.assertIn("failed in ValidateSceneFrameRange (instance 'layout')", str(error))
        self.assertIn("(and 2 more failed)", str(error))
        self.assertEqual(len(error.validations), 3)
        self.assertEqual([repair["set"] for repair in error.repairs], [{"frameEnd": 1100, "frameStart": 1001}, {"fps": 24}])

    def test_the_CLI_prints_each_failed_validation_and_its_repair(self):
        lines = []
        cli.print_validations(JOB, lines.append)
        self.assertEqual(
            lines,
            [
                "  FAILED ValidateSceneFrameRange (layout): Cannot publish 'layout' from this scene: frame start is 1, "
                "expected 1001",
                "    repair: Set the shot's frame range: set frameStart = 1001, frameEnd = 1100",
                "  FAILED ValidateSceneFps (layout): frame rate (fps) is 30, expected 24",
                "    repair: Set the shot's frame rate: set fps = 24",
                "  FAILED ValidateSceneCamera (layout): the camera is 'Camera'",
            ],
        )

    def test_the_CLI_refuses_scene_facts_that_are_not_a_JSON_object(self):
        stderr = io.StringIO()
        with redirect_stderr(stderr):
            code = cli.main(["publish", "x.blend", "--context", "a/b", "--task", "t", "--scene", "[1]", "--no-start"])
        self.assertEqual(code, 2)
        self.assertIn("--scene must be a JSON object of scene facts, got '[1]'", stderr.getvalue())

    def test_instance_and_publish_request_carry_scene_facts(self):
        facts = ferry_host.scene_facts(frame_start=1001, frame_end=1100, fps=24, unsaved_changes=False)
        request = ferry_host.publish_request(
            "demo/sq010/sh010", "lighting", [ferry_host.instance("workfile", "layout", ["/s.blend"], scene={"fps": 25})],
            scene=facts,
        )
        self.assertEqual(request["context"]["scene"], {"frameStart": 1001, "frameEnd": 1100, "fps": 24, "unsavedChanges": False})
        self.assertEqual(request["instances"][0]["scene"], {"fps": 25})


if __name__ == "__main__":
    unittest.main()
