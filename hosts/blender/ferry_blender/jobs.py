"""Running publishes: in a background thread that follows the job's events (the interface stays live), or
synchronously in ``blender -b``. Only the main thread touches bpy; the thread talks through a queue."""

import json
import os
import queue
import shutil
import threading

import bpy

from ._client import ferry_host
from .preferences import preferences

#: Publishes running in the background, drawn in the status bar.
ACTIVE = []


def make_client(context=None):
    """A ferry client for this Blender, configured by the add-on preferences (else the environment)."""
    prefs = preferences(context)
    return ferry_host.Client(
        host="blender",
        home=(bpy.path.abspath(prefs.ferry_home) if prefs and prefs.ferry_home else None),
        bridge_command=(prefs.bridge_command if prefs and prefs.bridge_command else None),
        root=(bpy.path.abspath(prefs.ferry_root) if prefs and prefs.ferry_root else None),
        start=prefs.auto_start if prefs else True,
    )


def summary(job):
    """One line for a finished job: the versions it published."""
    report = job.get("report") or {}
    created = [item for item in report.get("created") or [] if item.get("versionId")]
    if job.get("dryRun"):
        return "Dry run passed: %s would be published" % ", ".join(i["name"] for i in job["request"]["instances"])
    if not created:
        return "Published (job %s)" % job.get("id")
    context = job.get("request", {}).get("context", {}).get("path", "")
    return "Published " + ", ".join(
        "%s %s v%03d" % (context, item.get("instance"), item.get("version") or 0) for item in created
    )


class PublishTask(object):
    """One publish followed in a thread: ``events`` holds ``(kind, payload)`` for the main thread."""

    def __init__(self, client, request, label, cleanup=None):
        self.client = client
        self.request = request
        self.label = label
        self.cleanup = cleanup
        self.events = queue.Queue()
        self.job_id = None
        self.percent = 0
        self.step = "queued"
        self.done = False
        self._thread = threading.Thread(target=self._run, name="ferry-publish")
        self._thread.daemon = True

    def start(self):
        ACTIVE.append(self)
        self._thread.start()

    def _run(self):
        try:
            job = self.client.publish(self.request, wait=False)
            self.job_id = job["id"]
            self.events.put(("job", job))
            job = self.client.wait(job["id"], on_event=lambda event: self.events.put(("event", event)))
            self.events.put(("succeeded", job))
        except ferry_host.FerryError as error:
            self.events.put(("failed", error))
        except Exception as error:  # a bug must still end the task, with its message
            self.events.put(("failed", ferry_host.FerryError("%s: %s" % (type(error).__name__, error))))
        finally:
            _remove(self.cleanup)

    def cancel(self):
        """Asks the bridge to cancel (in a thread: the interface does not wait)."""
        if self.job_id is None or self.done:
            return
        job_id = self.job_id
        threading.Thread(target=lambda: _quietly(self.client.cancel, job_id), name="ferry-cancel", daemon=True).start()

    def drain(self):
        """The queued ``(kind, payload)`` items, updating ``percent`` and ``step``; main thread."""
        items = []
        while True:
            try:
                item = self.events.get_nowait()
            except queue.Empty:
                return items
            kind, payload = item
            if kind == "event":
                self.note(payload)
            elif kind in ("succeeded", "failed"):
                self.done = True
                if self in ACTIVE:
                    ACTIVE.remove(self)
            items.append(item)

    def note(self, event):
        data = event.data if isinstance(event.data, dict) else {}
        if event.type == "progress" and data.get("totalBytes"):
            self.percent = int(100 * data.get("bytes", 0) // data["totalBytes"])
        elif event.type == "result":
            self.step = data.get("plugin") or self.step
        elif event.type == "state":
            self.step = data.get("state") or self.step


def _quietly(function, *args):
    try:
        function(*args)
    except Exception as error:  # reported on the console: the job's own events tell the outcome
        print("ferry: cancel failed: %s" % error)


def _remove(path):
    if path and os.path.isdir(path):
        shutil.rmtree(path, ignore_errors=True)


def publish_now(client, request, cleanup=None, echo=print):
    """Publishes and waits (``blender -b``): events printed as lines; returns the final job or raises."""

    def show(event):
        data = event.data if isinstance(event.data, dict) else {}
        if event.type == "result":
            echo("ferry: %s %s%s%s" % (
                "ok  " if data.get("success") else "FAIL",
                data.get("plugin"),
                " " + data["instance"] if data.get("instance") else "",
                ": " + (data.get("error") or {}).get("message", "") if not data.get("success") else "",
            ))
        elif event.type == "state":
            echo("ferry: job %s" % data.get("state"))

    try:
        return client.publish(request, on_event=show)
    finally:
        _remove(cleanup)


def remember(scene, job=None, error=None):
    """Keeps the outcome on ``scene.ferry`` (the panel shows it; scripts read it), with the failed validations and
    the repairs they propose (``scene.ferry.validations``)."""
    settings = scene.ferry
    if job is None and isinstance(error, ferry_host.JobFailed):
        job = error.job
    settings.validations.clear()
    for failure in ferry_host.failed_validations(job or {}):
        item = settings.validations.add()
        item.plugin = failure["plugin"] or ""
        item.instance = failure["instance"] or ""
        item.message = failure["message"]
        merged = _merged(failure["repairs"])
        if merged is not None:
            item.repair_label = merged.get("label") or "Repair"
            item.repair = json.dumps(merged)
    if job is not None:
        settings.last_job = job.get("id") or ""
        settings.last_versions = ",".join(job.get("versionIds") or [])
        settings.last_state = job.get("state") or ""
    else:
        settings.last_state = "failed"
        settings.last_versions = ""
    settings.last_message = str(error) if error is not None else summary(job)


def _merged(repairs):
    """The repairs of one failed result as one: their changes together, their labels joined."""
    if not repairs:
        return None
    merged = {"label": "; ".join(repair.get("label") or "Repair" for repair in repairs), "set": {}}
    for repair in repairs:
        merged["set"].update(repair.get("set") or {})
        if repair.get("save"):
            merged["save"] = True
        for key, value in repair.items():
            if key not in ("action", "label", "set", "save"):
                merged[key] = value
    if not merged["set"]:
        del merged["set"]
    return merged


def draw_status(self, context):
    """Status bar: the running publishes and their progress."""
    for task in list(ACTIVE):
        self.layout.label(text="ferry: %s %s %d%%" % (task.label, task.step, task.percent), icon="EXPORT")


def redraw_status():
    """Redraws the status bars (after a task's progress moved)."""
    for window in bpy.context.window_manager.windows:
        for area in window.screen.areas:
            if area.type in ("STATUSBAR", "VIEW_3D", "PROPERTIES"):
                area.tag_redraw()
