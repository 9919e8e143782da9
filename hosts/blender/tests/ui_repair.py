"""Run by tests/blender_scene_test.ts in Blender WITH its interface (under xvfb-run): a scene whose frame range and fps
differ from the shot's is published from the panel (Publish Scene, in a thread); the failed validations are drawn in
the ferry panel with a Repair button each; pressing them repairs the scene (the panel then says so); publishing again
succeeds. Writes what it saw to a JSON file and quits.

    xvfb-run -a blender --factory-startup --python ui_repair.py -- <addon.zip> <out.json>
"""

import json
import sys
import time
import traceback

import addon_utils
import bpy

ARGS = sys.argv[sys.argv.index("--") + 1:]
STATE = {"step": "start", "drawn": []}
STARTED = time.time()


def finish():
    with open(ARGS[1], "w") as stream:
        json.dump(STATE, stream, indent=2)
    bpy.ops.wm.quit_blender()


def areas():
    window = bpy.context.window_manager.windows[0]
    return window, {area.type: area for area in window.screen.areas}


def publish():
    window, found = areas()
    with bpy.context.temp_override(window=window, area=found["VIEW_3D"]):
        return sorted(bpy.ops.ferry.publish_scene("EXEC_DEFAULT", asset="uilayout"))


def redraw():
    for area in areas()[1].values():
        area.tag_redraw()


def start():
    import ferry_blender

    original = ferry_blender.panel.draw_validations

    def recording(layout, settings):
        drawn = original(layout, settings)
        STATE["drawn"] = [list(item) for item in drawn]
        return drawn

    ferry_blender.panel.draw_validations = recording
    scene = bpy.context.scene
    scene.ferry.context, scene.ferry.task = "demo/sq010/sh010", "lighting"
    scene.frame_start, scene.frame_end = 1, 48
    scene.render.fps = 30
    window, found = areas()
    found["PROPERTIES"].spaces[0].context = "OUTPUT"
    STATE["firstPress"] = publish()
    STATE["step"] = "first"


def tick():
    try:
        scene = bpy.context.scene
        settings = scene.ferry
        redraw()
        if time.time() - STARTED > 150:
            STATE["error"] = "timed out at step %s (last state %s)" % (STATE["step"], settings.last_state)
            finish()
            return None
        if STATE["step"] == "start":
            start()
        elif STATE["step"] == "first" and settings.last_state == "failed":
            STATE["firstMessage"] = settings.last_message
            STATE["step"] = "drawn-failed"
        elif STATE["step"] == "drawn-failed" and any(kind == "repair" for kind, _ in STATE["drawn"]):
            STATE["drawnFailed"] = STATE["drawn"]
            window, found = areas()
            pressed = []
            for index, item in enumerate(settings.validations):
                if item.repair:
                    with bpy.context.temp_override(window=window, area=found["PROPERTIES"]):
                        pressed.append(sorted(bpy.ops.ferry.apply_repair(index=index)))
            STATE["pressed"] = pressed
            STATE["afterRepair"] = [scene.frame_start, scene.frame_end, scene.render.fps]
            STATE["step"] = "drawn-repaired"
        elif STATE["step"] == "drawn-repaired" and any(kind == "repaired" for kind, _ in STATE["drawn"]):
            STATE["drawnRepaired"] = STATE["drawn"]
            STATE["secondPress"] = publish()
            STATE["step"] = "second"
        elif STATE["step"] == "second" and settings.last_state in ("succeeded", "failed"):
            STATE.update(state=settings.last_state, message=settings.last_message, versions=settings.last_versions)
            STATE["validationsAtEnd"] = len(settings.validations)
            finish()
            return None
    except Exception:
        STATE["error"] = traceback.format_exc()
        finish()
        return None
    return 0.05


bpy.ops.preferences.addon_install(filepath=ARGS[0])
addon_utils.enable("ferry_blender", default_set=True, handle_error=None)
bpy.app.timers.register(tick, first_interval=0.5)
