"""The ferry Python client the add-on is built on: vendored into the installable zip as ``ferry_blender.ferry_host``,
or, when the add-on is loaded from a ferry checkout, ``hosts/python`` beside it (or the add-on preference's path)."""

import os
import sys

try:
    from . import ferry_host  # the zip made by scripts/build_blender_addon.ts
except ImportError:
    _checkout = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "python")
    _extra = os.environ.get("FERRY_HOST_PYTHON_PATH")
    for _path in (_extra, _checkout):
        if _path and os.path.isdir(os.path.join(_path, "ferry_host")) and _path not in sys.path:
            sys.path.insert(0, _path)
            break
    import ferry_host  # noqa: E402  (a checkout, or FERRY_HOST_PYTHON_PATH)

__all__ = ["ferry_host"]
