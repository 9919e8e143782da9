"""ferry_host: the Python client of ferry's DCC bridge, standard library only (Python 3.7+).

Any DCC's Python (Blender, Maya, Nuke, Houdini, a farm job) finds the bridge through
``$FERRY_HOME/bridge.json``, starts one when none runs, posts publish requests and follows their progress::

    import ferry_host

    client = ferry_host.Client(host="maya")
    job = client.publish(
        ferry_host.publish_request(
            "demo/sq010/sh010", "lighting",
            [ferry_host.instance("render", "beauty", ["/renders/beauty.####.exr"])],
            comment="first light",
        ),
        on_event=lambda event: print(event.type, event.data),
    )
    print(job["versionIds"])

Scene facts (``ferry_host.scene_facts(frame_start=1001, fps=24, …)`` as ``publish_request(…, scene=…)``) are checked
against the tracker's shot; a failed check raises :class:`JobFailed` whose ``repairs`` say what to change
(``ferry_host.apply_repair(repair, {"fps": set_fps})`` applies what the host understands).

From a shell: ``python -m ferry_host publish renders/beauty.####.exr --context demo/sq010/sh010 --task lighting``.
"""

from .bridge import BridgeInfo, ensure_bridge, find_bridge, read_bridge_file, start_bridge
from .client import FINAL_STATES, Client, describe_issue, failure_of, raise_for_job
from .errors import (
    BridgeConnectionError,
    BridgeError,
    BridgeNotFound,
    FerryError,
    InvalidRequest,
    JobCancelled,
    JobFailed,
    JobNotFound,
    TokenRefused,
)
from .home import ferry_home
from .request import asset_from_path, family_from_path, instance, publish_request, safe_asset_name
from .sse import Event, EventParser
from .validation import apply_repair, describe_repair, failed_validations, repairs, scene_facts

__version__ = "0.1.0"

__all__ = [
    "BridgeConnectionError",
    "BridgeError",
    "BridgeInfo",
    "BridgeNotFound",
    "Client",
    "Event",
    "EventParser",
    "FINAL_STATES",
    "FerryError",
    "InvalidRequest",
    "JobCancelled",
    "JobFailed",
    "JobNotFound",
    "TokenRefused",
    "apply_repair",
    "asset_from_path",
    "describe_issue",
    "describe_repair",
    "ensure_bridge",
    "failed_validations",
    "failure_of",
    "family_from_path",
    "ferry_home",
    "find_bridge",
    "instance",
    "publish_request",
    "raise_for_job",
    "read_bridge_file",
    "repairs",
    "safe_asset_name",
    "scene_facts",
    "start_bridge",
]
