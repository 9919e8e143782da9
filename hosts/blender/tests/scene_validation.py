"""Run by tests/blender_scene_test.ts inside ``blender -b --factory-startup``: installs the add-on from its zip, makes a
scene whose frame range (1-48) and fps (30) differ from the shot's, publishes it (ferry.publish_scene) and sees the
validation fail with repairs; applies them with ``ferry.apply_repair``; publishes again, which succeeds. Writes what
it saw to a JSON file for the Deno test to check.

    blender -b --factory-startup --python-exit-code 1 --python scene_validation.py -- <addon.zip> <work> <out.json>
"""

import json
import os
import sys
import traceback

import addon_utils
import bpy


def main(zip_path, work, output):
    results = {"blender": bpy.app.version_string}
    bpy.ops.preferences.addon_install(filepath=zip_path)
    addon_utils.enable("ferry_blender", default_set=True, handle_error=None)
    import ferry_blender

    scene = bpy.context.scene
    scene.ferry.context, scene.ferry.task = "demo/sq010/sh010", "lighting"
    scene.frame_start, scene.frame_end = 1, 48
    scene.render.fps, scene.render.fps_base = 30, 1.0
    results["factsSent"] = ferry_blender.scene_facts.collect(scene)

    # The repair operator has nothing to do before a publish failed.
    results["pollBefore"] = bpy.ops.ferry.apply_repair.poll()

    folder = os.path.join(work, "scene")
    try:
        bpy.ops.ferry.publish_scene(asset="layout", directory=folder)
        raise AssertionError("publish_scene published a scene whose frame range and fps differ from the shot's")
    except RuntimeError as error:
        results["firstError"] = str(error)
    settings = scene.ferry
    results["first"] = {"state": settings.last_state, "job": settings.last_job, "versions": settings.last_versions}
    results["validations"] = [
        {
            "plugin": item.plugin,
            "instance": item.instance,
            "message": item.message,
            "repairLabel": item.repair_label,
            "repair": json.loads(item.repair) if item.repair else None,
        }
        for item in settings.validations
    ]

    # One Repair button per fixable result.
    for index, item in enumerate(list(settings.validations)):
        if item.repair:
            assert bpy.ops.ferry.apply_repair(index=index) == {"FINISHED"}, item.plugin
    results["afterRepair"] = {
        "frameStart": scene.frame_start,
        "frameEnd": scene.frame_end,
        "fps": scene.render.fps,
        "fpsBase": scene.render.fps_base,
        "applied": [item.applied for item in settings.validations],
        "unknown": [item.unknown for item in settings.validations],
    }
    results["pollAfter"] = bpy.ops.ferry.apply_repair.poll()

    # Changes the add-on does not know are returned (shown in the panel), not applied.
    view = scene.view_settings.view_transform
    other = "Standard" if view != "Standard" else "Filmic"
    applied, unknown = ferry_blender.scene_facts.apply(
        scene, {"set": {"handleStart": 8, "colorManagement.viewTransform": other}, "reframe": True}
    )
    results["mixedRepair"] = {"applied": applied, "unknown": unknown, "view": scene.view_settings.view_transform}
    scene.view_settings.view_transform = view
    try:
        ferry_blender.scene_facts.apply(scene, {"set": {"camera": "NoSuchCamera"}})
    except ValueError as error:
        results["badCamera"] = str(error)
    applied, _ = ferry_blender.scene_facts.apply(scene, {"set": {"fps": 23.976}})
    results["ntsc"] = [scene.render.fps, round(scene.render.fps_base, 6), round(scene.render.fps / scene.render.fps_base, 3)]
    ferry_blender.scene_facts.apply(scene, {"set": {"fps": 24}})

    assert bpy.ops.ferry.publish_scene(asset="layout", directory=folder) == {"FINISHED"}
    results["second"] = {
        "state": settings.last_state,
        "job": settings.last_job,
        "versions": settings.last_versions,
        "message": settings.last_message,
        "validations": len(settings.validations),
    }
    results["factsSecond"] = ferry_blender.scene_facts.collect(scene)
    results["scenePath"] = os.path.join(folder, "untitled.blend")

    import doctest

    outcome = doctest.testmod(ferry_blender.scene_facts)
    results["doctest"] = {"attempted": outcome.attempted, "failed": outcome.failed}

    with open(output, "w") as stream:
        json.dump(results, stream, indent=2)


if __name__ == "__main__":
    arguments = sys.argv[sys.argv.index("--") + 1:]
    try:
        main(*arguments)
    except Exception:
        traceback.print_exc()
        sys.exit(1)
