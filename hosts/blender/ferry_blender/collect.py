"""What the operators publish, taken from the scene: the render's image sequence, a copy of the .blend, the
selection exported as glTF or Alembic. Runs in Blender's main thread."""

import os
import re
import tempfile

import bpy

from ._client import ferry_host


class CollectError(Exception):
    """The scene cannot be published as asked; the message says why and what to do."""


def sequence_pattern(filepath, extension, use_extension=True):
    """The ``#``-pattern of a render output path, resolved as Blender names frames.

    The last run of ``#`` is the frame number padded to its length; without ``#`` Blender appends the frame number
    padded to 4 digits; the file extension is added when ``use_extension`` is on and the path lacks it.

    >>> sequence_pattern("/r/beauty.####", ".png")
    '/r/beauty.####.png'
    >>> sequence_pattern("/r/beauty_", ".exr")
    '/r/beauty_####.exr'
    >>> sequence_pattern("/r/sh##/b.###.png", ".png")
    '/r/sh##/b.###.png'
    """
    head, tail = os.path.split(filepath)
    if "#" not in tail:
        tail = tail + "####"
    pattern = os.path.join(head, tail)
    if use_extension and not pattern.lower().endswith(extension.lower()):
        pattern += extension
    return pattern


def frame_file(pattern, frame):
    """The file of one frame of a ``#``-pattern: the last run of ``#`` replaced by the padded frame number.

    >>> frame_file("/r/beauty.####.png", 7)
    '/r/beauty.0007.png'
    """
    head, tail = os.path.split(pattern)
    runs = list(re.finditer(r"#+", tail))
    if not runs:
        return pattern
    run = runs[-1]
    number = "%0*d" % (len(run.group(0)), frame) if frame >= 0 else "-%0*d" % (len(run.group(0)), -frame)
    return os.path.join(head, tail[: run.start()] + number + tail[run.end():])


def render_sequence(scene):
    """The rendered image sequence of the scene: ``(pattern, first frame, last frame, files)``.

    The pattern comes from ``scene.render.filepath`` (``//`` resolved against the .blend) and the frame range from
    ``scene.frame_start`` / ``frame_end``. Raises :class:`CollectError` naming the missing frames when the
    animation was not rendered (completely).
    """
    render = scene.render
    if render.is_movie_format:
        raise CollectError(
            "The render output is a movie (%s): 'Publish render' publishes image sequences; choose an image format "
            "in Output Properties, or publish the movie with 'python -m ferry_host publish'"
            % render.image_settings.file_format
        )
    filepath = bpy.path.abspath(render.filepath)
    pattern = sequence_pattern(filepath, render.file_extension, render.use_file_extension)
    first, last, step = scene.frame_start, scene.frame_end, scene.frame_step
    frames = list(range(first, last + 1, max(step, 1)))
    files = [frame_file(pattern, frame) for frame in frames]
    # Blender's own naming must agree with ours; when it does not (an unusual path), use its file names.
    blender_names = [render.frame_path(frame=frame) for frame in frames]
    if [os.path.normpath(path) for path in files] != [os.path.normpath(path) for path in blender_names]:
        files = blender_names
        pattern = None
    missing = [frame for frame, path in zip(frames, files) if not os.path.isfile(path)]
    if missing:
        raise CollectError(
            "Cannot publish the render: frames %s of %s are not on disk (%d of %d); render the animation first "
            "(Render › Render Animation)" % (_ranges(missing), pattern or files[0], len(missing), len(frames))
        )
    return pattern, first, last, files


def _ranges(frames):
    parts = []
    start = previous = frames[0]
    for frame in frames[1:] + [None]:
        if frame is not None and frame == previous + 1:
            previous = frame
            continue
        parts.append(str(start) if start == previous else "%d-%d" % (start, previous))
        if frame is not None:
            start = previous = frame
    shown = ", ".join(parts[:8])
    return shown + (", …" if len(parts) > 8 else "")


def scene_copy(folder=None):
    """Saves a copy of the open .blend (the open file is unchanged) into ``folder`` or a new temporary folder;
    returns its path."""
    name = bpy.path.basename(bpy.data.filepath) or "untitled.blend"
    folder = _folder(folder, "ferry-blend-")
    path = os.path.join(folder, name)
    bpy.ops.wm.save_as_mainfile(filepath=path, copy=True, check_existing=False)
    if not os.path.isfile(path):
        raise CollectError("Blender did not write the copy of the scene to %r" % path)
    return path


#: Export formats by family: glTF binary for models, Alembic for cameras.
FORMATS = {"model": "GLTF", "camera": "ABC"}


def _folder(folder, prefix):
    if not folder:
        return tempfile.mkdtemp(prefix=prefix)
    folder = bpy.path.abspath(folder)
    os.makedirs(folder, exist_ok=True)
    return folder


def selection_export(context, family, name, file_format="AUTO", folder=None):
    """Exports the selected objects into ``folder`` or a new temporary folder; returns the file's path.

    ``file_format`` ``AUTO`` uses glTF (``.glb``) for ``model`` and Alembic (``.abc``) for ``camera``.
    """
    selected = list(context.selected_objects)
    if not selected:
        raise CollectError("Nothing is selected: select the objects to publish as '%s' first" % family)
    if family == "camera" and not any(obj.type == "CAMERA" for obj in selected):
        raise CollectError(
            "Cannot publish a camera: the selection (%s) has no camera object" % ", ".join(o.name for o in selected[:5])
        )
    chosen = FORMATS.get(family, "GLTF") if file_format == "AUTO" else file_format
    folder = _folder(folder, "ferry-export-")
    if chosen == "GLTF":
        if not hasattr(bpy.ops.export_scene, "gltf"):
            import addon_utils

            addon_utils.enable("io_scene_gltf2", default_set=False)
        path = os.path.join(folder, name + ".glb")
        try:
            bpy.ops.export_scene.gltf(filepath=path, export_format="GLB", use_selection=True)
        except RuntimeError as error:
            if "numpy" in str(error):
                raise CollectError(
                    "Blender's glTF exporter needs numpy, which this Blender's Python lacks (on Debian/Ubuntu: "
                    "apt-get install python3-numpy)"
                )
            raise
    elif chosen == "ABC":
        alembic = getattr(bpy.app, "alembic", None)
        if alembic is not None and not alembic.supported:
            raise CollectError(
                "This Blender (%s) was built without Alembic (bpy.app.alembic.supported is False): publish the "
                "'%s' selection as glTF (format GLTF) or use a Blender build with Alembic"
                % (bpy.app.version_string, family)
            )
        scene = context.scene
        path = os.path.join(folder, name + ".abc")
        bpy.ops.wm.alembic_export(filepath=path, selected=True, start=scene.frame_start, end=scene.frame_end)
    else:
        raise CollectError("Unknown export format %r: use AUTO, GLTF or ABC" % (file_format,))
    if not os.path.isfile(path):
        raise CollectError("Blender did not write the export %r" % path)
    return path


def default_asset(settings, fallback):
    """The asset name: the panel's, else ``fallback`` made to fit ferry's naming rule."""
    return settings.asset.strip() if settings.asset.strip() else ferry_host.safe_asset_name(fallback)
