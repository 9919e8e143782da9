"""The ferry panel, in the 3D view's sidebar (the "ferry" tab) and in Properties › Output."""

import bpy

from . import jobs


def draw_ferry(layout, context):
    settings = context.scene.ferry
    row = layout.row(align=True)
    row.prop(settings, "context")
    row.operator("ferry.pick_context", text="", icon="VIEWZOOM")
    layout.prop(settings, "task")
    layout.prop(settings, "asset")
    layout.prop(settings, "comment")
    column = layout.column(align=True)
    column.prop(settings, "review")
    column.operator("ferry.publish_render", icon="RENDER_ANIMATION")
    column.operator("ferry.publish_scene", icon="BLENDER")
    row = layout.row(align=True)
    row.prop(settings, "family", text="")
    row.operator("ferry.publish_selection", icon="EXPORT")
    for task in jobs.ACTIVE:
        layout.label(text="%s: %s %d%%" % (task.label, task.step, task.percent), icon="TIME")
    if jobs.ACTIVE:
        layout.operator("ferry.cancel_publish", icon="CANCEL")
    elif settings.last_message:
        icon = "CHECKMARK" if settings.last_state == "succeeded" else "ERROR"
        layout.label(text=settings.last_message, icon=icon)
    draw_validations(layout, settings)


def draw_validations(layout, settings):
    """The failed validations of the last publish: each message, and a Repair button when ferry proposes changes.

    Returns what it drew, one ``(kind, text)`` per line (``failed``, ``message``, ``repair``, ``repaired``,
    ``unknown``), for tests and scripts.
    """
    drawn = []
    if not settings.validations:
        layout.prop(settings, "send_scene")
        return drawn
    box = layout.box()
    box.label(text="Failed validations", icon="ERROR")
    for index, item in enumerate(settings.validations):
        column = box.column(align=True)
        title = item.plugin + (" (%s)" % item.instance if item.instance else "")
        column.label(text=title, icon="CANCEL")
        drawn.append(("failed", title))
        for line in _wrapped(item.message):
            column.label(text=line)
            drawn.append(("message", line))
        if item.applied:
            column.label(text="Repaired: publish again", icon="CHECKMARK")
            drawn.append(("repaired", title))
            if item.unknown:
                column.label(text="Not applied (unknown here): " + item.unknown, icon="INFO")
                drawn.append(("unknown", item.unknown))
        elif item.repair:
            label = item.repair_label or "Repair"
            column.operator("ferry.apply_repair", text=label, icon="TOOL_SETTINGS").index = index
            drawn.append(("repair", label))
    box.prop(settings, "send_scene")
    return drawn


def _wrapped(text, width=60):
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = (line + " " + word).strip()
    return lines + ([line] if line else [])


class VIEW3D_PT_ferry(bpy.types.Panel):
    """Publish to the tracker through ferry's bridge"""

    bl_label = "ferry"
    bl_idname = "VIEW3D_PT_ferry"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "ferry"

    def draw(self, context):
        draw_ferry(self.layout, context)


class RENDER_PT_ferry(bpy.types.Panel):
    """Publish to the tracker through ferry's bridge"""

    bl_label = "ferry"
    bl_idname = "RENDER_PT_ferry"
    bl_space_type = "PROPERTIES"
    bl_region_type = "WINDOW"
    bl_context = "output"

    def draw(self, context):
        draw_ferry(self.layout, context)


CLASSES = (VIEW3D_PT_ferry, RENDER_PT_ferry)
