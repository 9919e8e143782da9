"""Scene facts and repairs: what the add-on tells ferry's validators about the scene, and how it applies the changes
they propose (``{"set": {"frameStart": 1001, "fps": 24}}``, ``{"save": true}``). Keys it does not know are returned,
to be shown, not applied. Runs in Blender's main thread."""

import bpy

from ._client import ferry_host


def collect(scene):
    """The facts of ``scene`` as a publish request's ``scene`` (publish/request.ts ``SceneFactsSchema``)."""
    render = scene.render
    facts = ferry_host.scene_facts(
        frame_start=scene.frame_start,
        frame_end=scene.frame_end,
        fps=round(render.fps / render.fps_base, 6),
        resolution_width=render.resolution_x,
        resolution_height=render.resolution_y,
        resolution_percentage=render.resolution_percentage,
        pixel_aspect=round(render.pixel_aspect_x / render.pixel_aspect_y, 6),
        color_management={
            "viewTransform": scene.view_settings.view_transform,
            "look": scene.view_settings.look,
            "display": scene.display_settings.display_device,
            "workingSpace": scene.sequencer_colorspace_settings.name,
        },
        units={
            "system": scene.unit_settings.system,
            "scaleLength": scene.unit_settings.scale_length,
            "length": scene.unit_settings.length_unit,
        },
        unsaved_changes=bool(bpy.data.is_dirty),
        file_path=bpy.data.filepath,
        dcc={"name": "blender", "version": bpy.app.version_string},
    )
    facts["camera"] = scene.camera.name if scene.camera is not None else None
    return facts


def fps_and_base(fps):
    """Blender's integer ``fps`` and float ``fps_base`` for a frame rate: 23.976 is 24 / 1.001.

    >>> fps_and_base(24), fps_and_base(23.976), fps_and_base(29.97)
    ((24, 1.0), (24, 1.001001), (30, 1.001001))
    """
    whole = max(1, int(round(fps)))
    return whole, round(whole / float(fps), 6)


def _set_fps(scene, value):
    scene.render.fps, scene.render.fps_base = fps_and_base(value)


def _set_pixel_aspect(scene, value):
    scene.render.pixel_aspect_x, scene.render.pixel_aspect_y = float(value), 1.0


def _set_camera(scene, name):
    camera = bpy.data.objects.get(name) if name else None
    if camera is None or camera.type != "CAMERA":
        raise ValueError("Cannot use %r as the scene camera: there is no camera object of that name" % (name,))
    scene.camera = camera


def _setter(path, attribute, convert=None):
    def apply(scene, value):
        target = scene
        for part in path:
            target = getattr(target, part)
        setattr(target, attribute, convert(value) if convert else value)

    return apply


#: What the add-on can set: a scene fact key → a function of (scene, value).
APPLIERS = {
    "frameStart": _setter((), "frame_start", int),
    "frameEnd": _setter((), "frame_end", int),
    "fps": _set_fps,
    "resolutionWidth": _setter(("render",), "resolution_x", int),
    "resolutionHeight": _setter(("render",), "resolution_y", int),
    "resolutionPercentage": _setter(("render",), "resolution_percentage", int),
    "pixelAspect": _set_pixel_aspect,
    "camera": _set_camera,
    "colorManagement.viewTransform": _setter(("view_settings",), "view_transform"),
    "colorManagement.look": _setter(("view_settings",), "look"),
    "colorManagement.display": _setter(("display_settings",), "display_device"),
    "colorManagement.workingSpace": _setter(("sequencer_colorspace_settings",), "name"),
    "units.system": _setter(("unit_settings",), "system"),
    "units.scaleLength": _setter(("unit_settings",), "scale_length", float),
    "units.length": _setter(("unit_settings",), "length_unit"),
}


def _save():
    if not bpy.data.filepath:
        raise ValueError("Cannot save the scene: it was never saved; use File › Save As first")
    bpy.ops.wm.save_mainfile()


def apply(scene, repair):
    """Applies a repair's changes to ``scene``; returns ``(applied, unknown)`` lists of keys.

    The frame start is applied before the frame end (Blender moves the end when the start passes it). A value Blender
    refuses raises ``ValueError`` naming the key and the value; what was applied before stays applied.
    """
    appliers = {}
    for key, function in APPLIERS.items():
        appliers[key] = _guarded(key, function, scene)
    return ferry_host.apply_repair(repair, appliers, save=_save if repair.get("save") else None)


def _guarded(key, function, scene):
    def apply_one(value):
        try:
            function(scene, value)
        except (TypeError, ValueError, AttributeError) as error:
            raise ValueError("Cannot set %s to %r in Blender: %s" % (key, value, error))

    return apply_one
