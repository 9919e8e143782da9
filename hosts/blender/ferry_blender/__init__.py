"""ferry for Blender: publish renders, scenes and selections to the tracker through ferry's local bridge.

The add-on is built on ferry's Python client (``ferry_host``, vendored in the zip). Panels: the 3D view's sidebar
(the "ferry" tab) and Properties › Output. Operators: ``ferry.publish_render``, ``ferry.publish_scene``,
``ferry.publish_selection``, ``ferry.pick_context``, ``ferry.cancel_publish``, ``ferry.apply_repair``. They also
work in ``blender -b`` (there they wait for the publish and print its progress).

Each publish sends the scene's facts (frame range, fps, resolution, camera, colour management, units, unsaved
changes, file, Blender's version) for ferry's validators; a failed validation is listed in the panel with a
**Repair** button when ferry proposes changes, which ``ferry.apply_repair`` makes in the scene.
"""

bl_info = {
    "name": "ferry",
    "author": "ferry",
    "version": (0, 1, 0),
    "blender": (3, 0, 0),
    "location": "3D View › Sidebar › ferry; Properties › Output › ferry",
    "description": "Publish renders, scenes and selections to ftrack through ferry's bridge",
    "category": "Import-Export",
}

import bpy  # noqa: E402

from . import jobs, operators, panel, preferences, properties  # noqa: E402

_CLASSES = (
    (preferences.FerryPreferences, properties.FerryValidation, properties.FerrySettings)
    + operators.CLASSES
    + panel.CLASSES
)


def register():
    for cls in _CLASSES:
        bpy.utils.register_class(cls)
    bpy.types.Scene.ferry = bpy.props.PointerProperty(type=properties.FerrySettings)
    bpy.types.STATUSBAR_HT_header.append(jobs.draw_status)


def unregister():
    bpy.types.STATUSBAR_HT_header.remove(jobs.draw_status)
    for task in list(jobs.ACTIVE):
        task.cancel()
    del bpy.types.Scene.ferry
    for cls in reversed(_CLASSES):
        bpy.utils.unregister_class(cls)
