"""Scene facts, failed validations and repairs: what a DCC integration needs to show ferry's validators in its UI.

The host sends what it knows about its scene (:func:`scene_facts`, on the request's context or an instance); ferry's
validators compare the facts with the tracker's shot and the studio settings. A failed validation comes back on the
job with the changes that would fix it (``{"set": {"frameStart": 1001, "fps": 24}}``, ``{"save": True}``); the host
applies the keys it understands (:func:`apply_repair`) and publishes again. Keys it does not understand are shown,
not applied.
"""

#: Python names of the scene facts → the request's keys (publish/request.ts ``SceneFactsSchema``).
FACTS = {
    "frame_start": "frameStart",
    "frame_end": "frameEnd",
    "handle_start": "handleStart",
    "handle_end": "handleEnd",
    "fps": "fps",
    "resolution_width": "resolutionWidth",
    "resolution_height": "resolutionHeight",
    "resolution_percentage": "resolutionPercentage",
    "pixel_aspect": "pixelAspect",
    "camera": "camera",
    "color_management": "colorManagement",
    "units": "units",
    "unsaved_changes": "unsavedChanges",
    "file_path": "filePath",
    "dcc": "dcc",
}


def scene_facts(**facts):
    """Scene facts for a publish request from Python names; ``None`` values are left out (not sent, not checked).

    >>> scene_facts(frame_start=1001, frame_end=1100, fps=24, camera=None)
    {'frameStart': 1001, 'frameEnd': 1100, 'fps': 24}
    >>> scene_facts(colour=1)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    TypeError: Unknown scene fact 'colour': use one of camera, color_management, dcc, file_path, fps, ...
    """
    result = {}
    for name, value in facts.items():
        if name not in FACTS:
            raise TypeError("Unknown scene fact %r: use one of %s" % (name, ", ".join(sorted(FACTS))))
        if value is not None:
            result[FACTS[name]] = value
    return result


def failed_validations(job):
    """The failed results of a job, each ``{"plugin", "instance", "message", "repairs"}`` (repairs may be empty).

    >>> job = {"results": [{"plugin": "ValidateSceneFps", "instance": "layout", "success": False,
    ...   "error": {"message": "fps is 30, expected 24"}, "repairs": [{"action": "Repair", "label": "Set fps",
    ...   "set": {"fps": 24}}]}, {"plugin": "CollectFiles", "instance": None, "success": True}]}
    >>> [(item["plugin"], item["message"], len(item["repairs"])) for item in failed_validations(job)]
    [('ValidateSceneFps', 'fps is 30, expected 24', 1)]
    """
    failed = []
    for result in (job or {}).get("results") or []:
        if result.get("success", True):
            continue
        error = result.get("error") or {}
        failed.append(
            {
                "plugin": result.get("plugin"),
                "instance": result.get("instance"),
                "message": error.get("message") or "failed",
                "repairs": [dict(repair) for repair in result.get("repairs") or []],
            }
        )
    return failed


def repairs(job):
    """Every repair a job's failed validations propose, each with its ``plugin`` and ``instance``.

    Two instances failing the same way propose the same changes: those are given once.

    >>> job = {"results": [{"plugin": "P", "instance": i, "success": False, "error": {"message": "m"},
    ...   "repairs": [{"action": "Repair", "label": "Fix", "set": {"fps": 24}}]} for i in ("a", "b")]}
    >>> [(r["plugin"], r["instance"], r["set"]) for r in repairs(job)]
    [('P', 'a', {'fps': 24})]
    """
    found = []
    seen = set()
    for failure in failed_validations(job):
        for repair in failure["repairs"]:
            key = (failure["plugin"], repr(sorted((repair.get("set") or {}).items())), bool(repair.get("save")))
            if key in seen:
                continue
            seen.add(key)
            found.append(dict(repair, plugin=failure["plugin"], instance=failure["instance"]))
    return found


def describe_repair(repair):
    """One line for a repair: its label and its changes.

    >>> describe_repair({"label": "Set the shot's frame range", "set": {"frameStart": 1001, "frameEnd": 1100}})
    "Set the shot's frame range: set frameStart = 1001, frameEnd = 1100"
    >>> describe_repair({"label": "Save the scene", "save": True})
    'Save the scene: save the scene'
    """
    changes = []
    items = sorted((repair.get("set") or {}).items(), key=lambda item: _ORDER.get(item[0], 99))
    if items:
        changes.append("set " + ", ".join("%s = %s" % (key, _shown(value)) for key, value in items))
    if repair.get("save"):
        changes.append("save the scene")
    others = sorted(key for key in repair if key not in ("action", "label", "set", "save", "plugin", "instance"))
    changes.extend("%s %s" % (key, _shown(repair[key])) for key in others)
    return "%s: %s" % (repair.get("label") or repair.get("action") or "Repair", "; ".join(changes) or "nothing")


_ORDER = {key: index for index, key in enumerate(FACTS.values())}


def _shown(value):
    return repr(value) if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)


def apply_repair(repair, appliers, save=None):
    """Applies the changes of a repair that the host understands; returns ``(applied, unknown)`` lists of keys.

    ``appliers`` maps each ``set`` key the host can change to a function taking the value (``{"fps": set_fps}``);
    ``save`` is called for ``{"save": true}``. Keys without an applier, and other verbs, are returned in ``unknown``
    (to be shown to the artist, not applied). An applier that raises stops the repair (the error propagates).

    >>> scene = {}
    >>> apply_repair({"set": {"fps": 24, "handleStart": 8}, "save": True}, {"fps": lambda v: scene.update(fps=v)})
    (['fps'], ['handleStart', 'save'])
    >>> scene
    {'fps': 24}
    """
    applied, unknown = [], []
    for key, value in sorted((repair.get("set") or {}).items(), key=lambda item: _ORDER.get(item[0], 99)):
        function = appliers.get(key)
        if function is None:
            unknown.append(key)
            continue
        function(value)
        applied.append(key)
    if repair.get("save"):
        if save is None:
            unknown.append("save")
        else:
            save()
            applied.append("save")
    unknown.extend(
        sorted(key for key in repair if key not in ("action", "label", "set", "save", "plugin", "instance"))
    )
    return applied, unknown
