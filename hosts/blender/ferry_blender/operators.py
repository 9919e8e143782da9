"""The operators: publish the render, the scene, the selection; pick a context; cancel."""

import json
import os

import bpy

from . import collect, jobs, scene_facts
from ._client import ferry_host


class _Publish(object):
    """What every publish operator shares: the request around an instance, and running it.

    In ``blender -b`` (``bpy.app.background``) the operator publishes and waits, printing progress; an error is
    reported as ERROR (a script calling the operator gets a RuntimeError with the message). With an interface it
    publishes in a background thread, shows progress in the status bar and reports the result when done.
    """

    comment: bpy.props.StringProperty(
        name="Comment", description="Overrides the panel's comment", options={"SKIP_SAVE"}
    )
    asset: bpy.props.StringProperty(name="Asset", description="Overrides the panel's asset name", options={"SKIP_SAVE"})
    dry_run: bpy.props.BoolProperty(name="Dry run", description="Collect and validate only", options={"SKIP_SAVE"})

    _task = None
    _timer = None

    @classmethod
    def poll(cls, context):
        settings = getattr(context.scene, "ferry", None)
        if settings is None or not settings.context.strip() or not settings.task.strip():
            cls.poll_message_set("Pick a context and a task in the ferry panel first")
            return False
        return True

    def asset_name(self, context, fallback):
        if self.asset.strip():
            return self.asset.strip()
        return collect.default_asset(context.scene.ferry, fallback)

    def request(self, context, instance):
        settings = context.scene.ferry
        request = ferry_host.publish_request(
            settings.context.strip(),
            settings.task.strip(),
            [instance],
            comment=self.comment or settings.comment,
            host="blender",
            cwd=os.path.dirname(bpy.data.filepath) or None,
            scene=scene_facts.collect(context.scene) if settings.send_scene else None,
        )
        if self.dry_run:
            request["dryRun"] = True
        return request

    def submit(self, context, request, label, cleanup=None):
        client = jobs.make_client(context)
        if bpy.app.background:
            try:
                job = jobs.publish_now(client, request, cleanup)
            except ferry_host.FerryError as error:
                jobs.remember(context.scene, error=error)
                self.report({"ERROR"}, str(error))
                return {"CANCELLED"}
            jobs.remember(context.scene, job=job)
            self.report({"INFO"}, jobs.summary(job))
            return {"FINISHED"}
        self._task = jobs.PublishTask(client, request, label, cleanup)
        self._task.start()
        context.scene.ferry.last_state = "running"
        context.scene.ferry.last_message = "publishing %s…" % label
        wm = context.window_manager
        self._timer = wm.event_timer_add(0.1, window=context.window)
        wm.modal_handler_add(self)
        self.report({"INFO"}, "ferry: publishing %s in the background" % label)
        return {"RUNNING_MODAL"}

    def modal(self, context, event):
        if event.type != "TIMER" or self._task is None:
            return {"PASS_THROUGH"}
        items = self._task.drain()
        if items:
            jobs.redraw_status()
        for kind, payload in items:
            if kind == "succeeded":
                self._end(context)
                jobs.remember(context.scene, job=payload)
                self.report({"INFO"}, jobs.summary(payload))
                return {"FINISHED"}
            if kind == "failed":
                self._end(context)
                jobs.remember(context.scene, error=payload)
                self.report({"ERROR"}, str(payload))
                return {"CANCELLED"}
        return {"PASS_THROUGH"}

    def _end(self, context):
        if self._timer is not None:
            context.window_manager.event_timer_remove(self._timer)
            self._timer = None
        jobs.redraw_status()

    def fail(self, error):
        self.report({"ERROR"}, str(error))
        return {"CANCELLED"}


class FERRY_OT_publish_render(_Publish, bpy.types.Operator):
    """Publish the rendered image sequence (output path and frame range from the render settings)"""

    bl_idname = "ferry.publish_render"
    bl_label = "Publish Render"
    bl_options = {"REGISTER"}

    def execute(self, context):
        scene = context.scene
        try:
            pattern, first, last, files = collect.render_sequence(scene)
        except collect.CollectError as error:
            return self.fail(error)
        name = self.asset_name(context, ferry_host.asset_from_path(pattern or files[0]))
        families = ["review"] if scene.ferry.review else []
        instance = ferry_host.instance(
            "render",
            name,
            [pattern] if pattern else files,
            families=families,
            frame_start=first,
            frame_end=last,
            options={"blender": {"scene": scene.name, "engine": scene.render.engine}},
        )
        return self.submit(context, self.request(context, instance), "render '%s'" % name)


class FERRY_OT_publish_scene(_Publish, bpy.types.Operator):
    """Publish a copy of the current .blend file (the open file is not changed)"""

    bl_idname = "ferry.publish_scene"
    bl_label = "Publish Scene"
    bl_options = {"REGISTER"}

    family: bpy.props.StringProperty(name="Family", default="workfile", options={"SKIP_SAVE"})
    directory: bpy.props.StringProperty(
        name="Folder",
        description="Save the copy into this folder and keep it (empty: a temporary folder, removed afterwards)",
        subtype="DIR_PATH",
        options={"SKIP_SAVE"},
    )

    def execute(self, context):
        try:
            path = collect.scene_copy(self.directory or None)
        except (collect.CollectError, RuntimeError) as error:
            return self.fail(error)
        stem = os.path.splitext(os.path.basename(path))[0]
        name = self.asset_name(context, stem if stem != "untitled" else "scene")
        instance = ferry_host.instance(self.family, name, [path])
        cleanup = None if self.directory else os.path.dirname(path)
        return self.submit(context, self.request(context, instance), "scene '%s'" % name, cleanup)


class FERRY_OT_publish_selection(_Publish, bpy.types.Operator):
    """Publish the selected objects: glTF for a model, Alembic for a camera"""

    bl_idname = "ferry.publish_selection"
    bl_label = "Publish Selection"
    bl_options = {"REGISTER"}

    family: bpy.props.StringProperty(
        name="Family", description="model or camera (empty: the panel's)", options={"SKIP_SAVE"}
    )
    file_format: bpy.props.EnumProperty(
        name="Format",
        items=[
            ("AUTO", "By family", "glTF for model, Alembic for camera"),
            ("GLTF", "glTF", "glTF binary (.glb)"),
            ("ABC", "Alembic", "Alembic (.abc)"),
        ],
        default="AUTO",
        options={"SKIP_SAVE"},
    )
    directory: bpy.props.StringProperty(
        name="Folder",
        description="Export into this folder and keep the file (empty: a temporary folder, removed afterwards)",
        subtype="DIR_PATH",
        options={"SKIP_SAVE"},
    )

    def execute(self, context):
        family = self.family.strip() or context.scene.ferry.family
        active = context.active_object or (context.selected_objects[0] if context.selected_objects else None)
        name = self.asset_name(context, active.name if active is not None else family)
        try:
            path = collect.selection_export(context, family, name, self.file_format, self.directory or None)
        except (collect.CollectError, RuntimeError) as error:
            return self.fail(error)
        instance = ferry_host.instance(
            family,
            name,
            [path],
            frame_start=context.scene.frame_start if path.endswith(".abc") else None,
            frame_end=context.scene.frame_end if path.endswith(".abc") else None,
            options={"blender": {"objects": [obj.name for obj in context.selected_objects]}},
        )
        label = "%s '%s'" % (family, name)
        cleanup = None if self.directory else os.path.dirname(path)
        return self.submit(context, self.request(context, instance), label, cleanup)


class FERRY_OT_cancel_publish(bpy.types.Operator):
    """Cancel the publishes running in the background (the versions are not shown as published)"""

    bl_idname = "ferry.cancel_publish"
    bl_label = "Cancel Publish"

    @classmethod
    def poll(cls, context):
        return bool(jobs.ACTIVE)

    def execute(self, context):
        for task in list(jobs.ACTIVE):
            task.cancel()
        self.report({"INFO"}, "ferry: cancel requested for %d publish(es)" % len(jobs.ACTIVE))
        return {"FINISHED"}


class FERRY_OT_apply_repair(bpy.types.Operator):
    """Make the changes ferry proposes for a failed validation (e.g. the shot's frame range and fps) in this scene"""

    bl_idname = "ferry.apply_repair"
    bl_label = "Repair"
    bl_options = {"REGISTER", "UNDO"}

    index: bpy.props.IntProperty(name="Validation", description="Which failed validation (-1: every one)", default=-1)

    @classmethod
    def poll(cls, context):
        settings = getattr(context.scene, "ferry", None)
        if settings is None or not any(item.repair and not item.applied for item in settings.validations):
            cls.poll_message_set("No failed validation with a repair: publish first")
            return False
        return True

    def execute(self, context):
        validations = context.scene.ferry.validations
        if self.index >= len(validations):
            self.report({"ERROR"}, "No failed validation %d: there are %d" % (self.index, len(validations)))
            return {"CANCELLED"}
        chosen = list(validations) if self.index < 0 else [validations[self.index]]
        applied, unknown = [], []
        for item in chosen:
            if not item.repair or item.applied:
                continue
            try:
                done, left = scene_facts.apply(context.scene, json.loads(item.repair))
            except ValueError as error:
                self.report({"ERROR"}, "ferry: %s (%s)" % (error, item.plugin))
                return {"CANCELLED"}
            item.applied = True
            item.unknown = ", ".join(left)
            applied += done
            unknown += left
        if not applied and not unknown:
            self.report({"WARNING"}, "ferry: nothing to repair")
            return {"CANCELLED"}
        if unknown:
            self.report({"WARNING"}, "ferry: not applied (unknown to this add-on): %s" % ", ".join(unknown))
        self.report({"INFO"}, "ferry: repaired %s; publish again" % (", ".join(applied) or "nothing"))
        return {"FINISHED"}


# Blender keeps only the strings of enum items it is given while they are referenced: keep them here.
_CONTEXT_ITEMS = []


def _context_items(self, context):
    return _CONTEXT_ITEMS


def load_context_items(parent=None, client=None):
    """Fetches the contexts under ``parent`` (projects when None) into the picker's items; returns them.

    An item's identifier is ``id|path|type``; the first item goes back up when ``parent`` is given.
    """
    contexts = (client or jobs.make_client()).contexts(parent)
    items = []
    if parent:
        up = "/".join(parent.split("/")[:-1])
        items.append(("..|" + up + "|Up", ".. (up)", "Back to %s" % (up or "the projects")))
    for entry in contexts:
        key = "%s|%s|%s" % (entry["id"], entry["path"], entry["type"])
        items.append((key, "%s  (%s)" % (entry["path"], entry["type"]), entry["type"]))
    _CONTEXT_ITEMS[:] = items
    return items


class FERRY_OT_pick_context(bpy.types.Operator):
    """Pick the context and task from the tracker (through the bridge): projects, then their children, then tasks"""

    bl_idname = "ferry.pick_context"
    bl_label = "Pick Context"
    bl_property = "choice"

    parent: bpy.props.StringProperty(name="Parent", description="Path or id to list (empty: projects)")
    choice: bpy.props.EnumProperty(name="Context", items=_context_items)

    def invoke(self, context, event):
        try:
            load_context_items(self.parent or None)
        except ferry_host.FerryError as error:
            self.report({"ERROR"}, str(error))
            return {"CANCELLED"}
        context.window_manager.invoke_search_popup(self)
        return {"RUNNING_MODAL"}

    def execute(self, context):
        if not self.choice:
            return {"CANCELLED"}
        _, path, kind = self.choice.split("|", 2)
        settings = context.scene.ferry
        if kind == "Task":
            settings.context = "/".join(path.split("/")[:-1])
            settings.task = path.split("/")[-1]
            self.report({"INFO"}, "ferry: publishing to %s (%s)" % (settings.context, settings.task))
            return {"FINISHED"}
        if kind != "Up":
            settings.context = path
        if bpy.app.background:  # no popup to show: the context is set, pick again to go deeper
            return {"FINISHED"}
        bpy.ops.ferry.pick_context("INVOKE_DEFAULT", parent=path)
        return {"FINISHED"}


CLASSES = (
    FERRY_OT_publish_render,
    FERRY_OT_publish_scene,
    FERRY_OT_publish_selection,
    FERRY_OT_cancel_publish,
    FERRY_OT_pick_context,
    FERRY_OT_apply_repair,
)
