"""Publish requests and names from paths, as `deno task publish` makes them."""

import os
import unittest

from ferry_host.request import (
    asset_from_path,
    family_from_path,
    instance,
    is_pattern,
    parse_location,
    publish_request,
    safe_asset_name,
)


class RequestTest(unittest.TestCase):
    def test_asset_from_path_strips_frames_versions_and_extensions(self):
        self.assertEqual(asset_from_path("renders/beauty.####.exr"), "beauty")
        self.assertEqual(asset_from_path("renders/beauty.%04d.exr"), "beauty")
        self.assertEqual(asset_from_path("out/comp_v003.mov"), "comp")
        self.assertEqual(asset_from_path("plates/bg_plate/"), "bg_plate")
        self.assertEqual(asset_from_path("1001.exr"), "main")
        self.assertEqual(asset_from_path("r/beauty_v002.1001.exr"), "beauty")

    def test_family_from_path_by_kind(self):
        self.assertEqual(family_from_path("a/beauty.####.exr"), "render")
        self.assertEqual(family_from_path("a/still.png"), "image")
        self.assertEqual(family_from_path("a/cut.mov"), "movie")
        self.assertEqual(family_from_path("a/chair.glb"), "upload")
        self.assertEqual(family_from_path("a/plates", True), "render")
        self.assertTrue(is_pattern("x/b.$F4.exr") and is_pattern("x/*.png") and not is_pattern("x/a.png"))

    def test_publish_request_has_the_bridge_shape(self):
        request = publish_request(
            "demo/sq010/sh010",
            "lighting",
            [instance("render", "beauty", "/r/beauty.####.png", families=["review"], frame_start=1, frame_end=10)],
            comment="first",
            host="blender",
            location="disk:/mnt/publish",
            cwd="/work",
        )
        self.assertEqual(
            request,
            {
                "context": {"path": "demo/sq010/sh010", "task": "lighting"},
                "instances": [
                    {
                        "family": "render",
                        "families": ["review"],
                        "name": "beauty",
                        "files": ["/r/beauty.####.png"],
                        "frameStart": 1,
                        "frameEnd": 10,
                    }
                ],
                "comment": "first",
                "cwd": "/work",
                "host": "blender",
                "location": {"disk": os.path.abspath("/mnt/publish")},
            },
        )

    def test_parse_location_refuses_unknown_places_naming_the_value(self):
        with self.assertRaises(ValueError) as caught:
            parse_location("s3://bucket")
        self.assertIn("'s3://bucket'", str(caught.exception))

    def test_safe_asset_name_follows_the_default_naming_rule(self):
        self.assertEqual(safe_asset_name("Suzanne.001"), "Suzanne_001")
        self.assertEqual(safe_asset_name("  "), "main")
        self.assertEqual(safe_asset_name("3d scan"), "a3d_scan")


if __name__ == "__main__":
    unittest.main()
