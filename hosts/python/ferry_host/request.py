"""Building ferry publish requests (the bridge's ``POST /v1/publish`` body) and naming things from paths."""

import os
import re

_IMAGE = re.compile(r"\.(exr|dpx|png|jpe?g|tiff?|tga|bmp|webp)$", re.IGNORECASE)
_MOVIE = re.compile(r"\.(mov|mp4|mkv|avi|webm|mxf)$", re.IGNORECASE)
_PATTERN = re.compile(r"[*?\[]|#|%0?\d*d|\$F\d?")


def instance(family, name, files, families=None, frame_start=None, frame_end=None, options=None, scene=None):
    """One instance of a publish request: a family, an asset name and its files (paths, folders or patterns).

    ``scene`` holds scene facts of this instance (see :func:`ferry_host.scene_facts`), over the context's.

    >>> instance("render", "beauty", ["/r/beauty.####.png"], frame_start=1, frame_end=10)["frameEnd"]
    10
    """
    if isinstance(files, str):
        files = [files]
    item = {"family": family, "families": list(families or []), "name": name, "files": list(files)}
    if frame_start is not None:
        item["frameStart"] = int(frame_start)
    if frame_end is not None:
        item["frameEnd"] = int(frame_end)
    if options:
        item["options"] = dict(options)
    if scene:
        item["scene"] = dict(scene)
    return item


def publish_request(
    context, task, instances, comment="", host=None, location=None, user=None, cwd=None, scene=None
):
    """A publish request: the context path (``project/…/shot``), the task, instances, a comment.

    ``location`` is ``"server"`` (default), ``"unmanaged"``, ``"disk:<root>"`` or ``{"disk": root}``. ``scene`` holds
    the facts of the whole scene (see :func:`ferry_host.scene_facts`), which ferry's validators check against the
    tracker's shot and the studio settings.

    >>> publish_request("demo/sq010/sh010", "lighting", [instance("model", "chair", ["/m/chair.glb"])])["context"]
    {'path': 'demo/sq010/sh010', 'task': 'lighting'}
    """
    request = {
        "context": dict({"path": context, "task": task}, **({"scene": dict(scene)} if scene else {})),
        "instances": list(instances),
        "comment": comment or "",
        "cwd": cwd or os.getcwd(),
    }
    if host:
        request["host"] = host
    if user:
        request["user"] = user
    if location:
        request["location"] = parse_location(location)
    return request


def parse_location(location):
    """``server``, ``unmanaged``, ``disk:<root>`` (the root made absolute) or a dict, as the request wants it."""
    if isinstance(location, dict):
        return location
    if location in ("server", "unmanaged"):
        return location
    if isinstance(location, str) and location.startswith("disk:") and len(location) > 5:
        return {"disk": os.path.abspath(location[5:])}
    raise ValueError("The location must be server, unmanaged or disk:<root>, got %r" % (location,))


def is_pattern(path):
    """Whether a path is a pattern (``*``, ``?``, ``[ab]``, ``####``, ``%04d``, ``$F4``) rather than one file."""
    return bool(_PATTERN.search(os.path.basename(path)))


def asset_from_path(path):
    """The asset name a path suggests: ``renders/beauty.####.exr`` → ``beauty``, ``comp_v003.mov`` → ``comp``.

    >>> asset_from_path("renders/beauty.####.exr"), asset_from_path("out/comp_v003.mov")
    ('beauty', 'comp')
    """
    name = os.path.basename(path.rstrip("/\\"))
    name = re.sub(r"\.[A-Za-z0-9]+$", "", name)
    name = re.sub(r"[._-]?v\d+$", "", name, flags=re.IGNORECASE)  # comp_v003
    name = re.sub(r"[._-]?(#+|%0?\d*d|\$F\d?|\*|\d+)$", "", name)  # beauty.####, beauty.1001
    name = re.sub(r"[._-]?v\d+$", "", name, flags=re.IGNORECASE)  # beauty_v002.1001
    name = re.sub(r"[._-]+$", "", name)
    return name or "main"


def family_from_path(path, is_folder=False):
    """The family a path suggests: ``render`` for folders and patterns, ``image``, ``movie``, else ``upload``."""
    if is_folder or is_pattern(path):
        return "render"
    if _IMAGE.search(path):
        return "image"
    if _MOVIE.search(path):
        return "movie"
    return "upload"


def safe_asset_name(text, fallback="main"):
    """A name ferry's default naming rule accepts (``^[A-Za-z][A-Za-z0-9_-]*$``) made from any text.

    >>> safe_asset_name("Suzanne.001"), safe_asset_name("3d scan")
    ('Suzanne_001', 'a3d_scan')
    """
    name = re.sub(r"[^A-Za-z0-9_-]+", "_", text or "").strip("_")
    if not name:
        return fallback
    if not name[0].isalpha():
        name = "a" + name
    return name
