"""Run by tests/blender_e2e_test.ts inside ``blender -b --factory-startup``: installs the add-on from its zip,
renders a tiny 10-frame sequence, publishes it with ``ferry.publish_render``, the cube with
``ferry.publish_selection`` (glTF), the .blend with ``ferry.publish_scene``, the camera as Alembic (or checks the
clear error of a Blender without Alembic), a dry run through the background-thread path; then writes what it
published to a JSON file for the Deno test to check through @ftrack/api.

    blender -b --factory-startup --python-exit-code 1 --python e2e_publish.py -- <addon.zip> <work folder> <out.json>
"""

import json
import os
import sys
import time
import traceback

import addon_utils
import bpy


def main(zip_path, work, output):
    results = {"blender": bpy.app.version_string}
    bpy.ops.preferences.addon_install(filepath=zip_path)
    addon_utils.enable("ferry_blender", default_set=True, handle_error=None)
    import ferry_blender

    ferry_host = ferry_blender._client.ferry_host
    results["addon"] = ferry_blender.__file__
    results["client"] = ferry_host.__file__

    scene = bpy.context.scene
    scene.render.engine = "BLENDER_WORKBENCH"
    scene.render.resolution_x, scene.render.resolution_y, scene.render.resolution_percentage = 64, 36, 100
    scene.frame_start, scene.frame_end = 1, 10
    scene.render.image_settings.file_format = "PNG"
    scene.render.filepath = os.path.join(work, "render", "beauty.####")
    cube = bpy.data.objects["Cube"]
    cube.animation_data_create()
    cube.location = (0, 0, 0)
    cube.keyframe_insert("location", frame=1)
    cube.location = (2, 0, 0)
    cube.keyframe_insert("location", frame=10)

    # The context picker: projects, then children, then a task, through the bridge (which the add-on starts now:
    # none runs yet).
    client = ferry_blender.jobs.make_client()
    pick = ferry_blender.operators.load_context_items
    project = [key for key, _, kind in pick(None, client) if kind == "Project" and key.endswith("|demo|Project")][0]
    assert bpy.ops.ferry.pick_context(choice=project) == {"FINISHED"}
    results["picked"] = [scene.ferry.context]
    tasks = pick("demo/sq010/sh010", client)
    results["contexts"] = [key.split("|")[1] for key, _, _ in tasks]
    task = [key for key, _, kind in tasks if key.endswith("|demo/sq010/sh010/lighting|Task")][0]
    assert bpy.ops.ferry.pick_context(choice=task) == {"FINISHED"}
    results["picked"] += [scene.ferry.context, scene.ferry.task]
    results["bridge"] = client.bridge.url

    # Publishing before rendering names the missing frames.
    try:
        bpy.ops.ferry.publish_render()
        raise AssertionError("publish_render published frames that were not rendered")
    except RuntimeError as error:
        results["unrendered"] = str(error)

    started = time.time()
    bpy.ops.render.render(animation=True)
    results["renderSeconds"] = round(time.time() - started, 2)
    results["frames"] = {str(frame): scene.render.frame_path(frame=frame) for frame in range(1, 11)}

    scene.ferry.comment = "from blender"
    scene.ferry.review = True
    assert bpy.ops.ferry.publish_render() == {"FINISHED"}
    results["render"] = {"versionIds": scene.ferry.last_versions.split(","), "message": scene.ferry.last_message}

    bpy.ops.object.select_all(action="DESELECT")
    cube.select_set(True)
    bpy.context.view_layer.objects.active = cube
    exports = os.path.join(work, "exports")
    assert bpy.ops.ferry.publish_selection(family="model", directory=exports) == {"FINISHED"}
    results["model"] = {"versionId": scene.ferry.last_versions, "path": os.path.join(exports, "Cube.glb")}

    assert bpy.ops.ferry.publish_scene(asset="layout", directory=os.path.join(work, "scene")) == {"FINISHED"}
    results["scene"] = {"versionId": scene.ferry.last_versions, "path": os.path.join(work, "scene", "untitled.blend")}

    camera = bpy.data.objects["Camera"]
    bpy.ops.object.select_all(action="DESELECT")
    camera.select_set(True)
    bpy.context.view_layer.objects.active = camera
    try:
        bpy.ops.ferry.publish_selection(family="camera", directory=exports)
        results["camera"] = {"versionId": scene.ferry.last_versions, "path": os.path.join(exports, "Camera.abc")}
    except RuntimeError as error:
        results["camera"] = {"error": str(error), "alembic": bool(bpy.app.alembic.supported)}

    # The interface's path: a thread follows the job, the main thread drains its queue.
    pattern = ferry_blender.collect.render_sequence(scene)[0]
    request = ferry_host.publish_request(
        "demo/sq010/sh010", "lighting", [ferry_host.instance("render", "beauty", [pattern])], host="blender"
    )
    request["dryRun"] = True
    task = ferry_blender.jobs.PublishTask(client, request, "dry run")
    task.start()
    seen = []
    deadline = time.time() + 150
    while not task.done and time.time() < deadline:
        seen.extend(kind for kind, _ in task.drain())
        time.sleep(0.05)
    results["thread"] = {"kinds": sorted(set(seen)), "step": task.step, "active": len(ferry_blender.jobs.ACTIVE)}

    # Cancelling from the interface's path: a second publish of the same asset waits for the first, and is cancelled.
    big = os.path.join(work, "big.bin")
    with open(big, "wb") as stream:
        stream.write(os.urandom(1 << 20) * 16)
    first = client.publish(
        ferry_host.publish_request("demo/sq010/sh010", "lighting", [ferry_host.instance("upload", "bigfile", [big])]),
        wait=False,
    )
    queued = ferry_blender.jobs.PublishTask(
        client,
        ferry_host.publish_request("demo/sq010/sh010", "lighting", [ferry_host.instance("upload", "bigfile", [big])]),
        "queued",
    )
    queued.start()
    outcome = []
    deadline = time.time() + 150
    while not queued.done and time.time() < deadline:
        for kind, payload in queued.drain():
            if kind == "job":
                queued.cancel()
            elif kind in ("succeeded", "failed"):
                outcome = [kind, type(payload).__name__, str(payload)]
        time.sleep(0.02)
    results["cancel"] = {"outcome": outcome, "first": client.wait(first["id"])["state"]}

    # The examples in the add-on's docstrings (Blender's `#` padding rules), run inside Blender.
    import doctest

    outcome = doctest.testmod(ferry_blender.collect)
    results["doctest"] = {"attempted": outcome.attempted, "failed": outcome.failed}

    # Disabling the add-on takes everything away again.
    addon_utils.disable("ferry_blender", default_set=True)
    results["unregistered"] = not hasattr(bpy.types.Scene, "ferry") and not hasattr(bpy.types, "VIEW3D_PT_ferry")

    with open(output, "w") as stream:
        json.dump(results, stream, indent=2)


if __name__ == "__main__":
    arguments = sys.argv[sys.argv.index("--") + 1:]
    try:
        main(*arguments)
    except Exception:
        traceback.print_exc()
        sys.exit(1)
