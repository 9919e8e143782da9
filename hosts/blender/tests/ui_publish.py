"""Run by tests/blender_e2e_test.ts in Blender WITH its interface (under xvfb-run): installs the add-on from its zip,
presses Publish Scene in the 3D view (through a timer, as a click would) and follows it while Blender's main loop
keeps running: the operator returns at once (RUNNING_MODAL), the publish runs in a thread, and the report comes
when the job ends. Writes what it saw to a JSON file and quits.

    xvfb-run -a blender --factory-startup --python ui_publish.py -- <addon.zip> <out.json>
"""

import json
import sys
import time
import traceback

import addon_utils
import bpy

ARGS = sys.argv[sys.argv.index("--") + 1:]
STATE = {"ticks": 0, "progress": []}


def finish():
    with open(ARGS[1], "w") as stream:
        json.dump(STATE, stream, indent=2)
    bpy.ops.wm.quit_blender()


def press_publish():
    try:
        import ferry_blender

        window = bpy.context.window_manager.windows[0]
        area = [area for area in window.screen.areas if area.type == "VIEW_3D"][0]
        scene = bpy.context.scene
        scene.ferry.context, scene.ferry.task = "demo/sq010/sh010", "lighting"
        scene.frame_start, scene.frame_end = 1001, 1100  # the shot's range: the scene facts pass ferry's validators
        # Show the ferry panel (Properties › Output) so that it is drawn while the publish runs.
        properties = [area for area in window.screen.areas if area.type == "PROPERTIES"][0]
        properties.spaces[0].context = "OUTPUT"
        bpy.types.RENDER_PT_ferry.append(panel_drawn)
        STATE["started"] = time.time()
        with bpy.context.temp_override(window=window, area=area):
            STATE["returned"] = sorted(bpy.ops.ferry.publish_scene("EXEC_DEFAULT", asset="uiscene"))
        STATE["stateAfterPress"] = scene.ferry.last_state
        STATE["activeAfterPress"] = len(ferry_blender.jobs.ACTIVE)
        bpy.app.timers.register(watch, first_interval=0.05)
    except Exception:
        STATE["error"] = traceback.format_exc()
        finish()
    return None


def panel_drawn(self, context):
    """Drawn after the panel's own draw (so that ran without error); notes what the panel showed."""
    import ferry_blender

    STATE.setdefault("panel", []).append([task.label for task in ferry_blender.jobs.ACTIVE])


def watch():
    import ferry_blender

    scene = bpy.context.scene
    STATE["ticks"] += 1  # the main loop runs while the publish does
    STATE["progress"] += [[task.step, task.percent] for task in ferry_blender.jobs.ACTIVE]
    for area in bpy.context.window_manager.windows[0].screen.areas:
        area.tag_redraw()
    if scene.ferry.last_state == "running" and time.time() - STATE["started"] < 150:
        return 0.05
    STATE.update(state=scene.ferry.last_state, message=scene.ferry.last_message, versions=scene.ferry.last_versions)
    STATE["activeAtEnd"] = len(ferry_blender.jobs.ACTIVE)
    finish()
    return None


bpy.ops.preferences.addon_install(filepath=ARGS[0])
addon_utils.enable("ferry_blender", default_set=True, handle_error=None)
bpy.app.timers.register(press_publish, first_interval=0.5)
