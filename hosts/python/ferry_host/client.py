"""The client of ferry's bridge: publish, follow a job's events, list plugins and contexts, cancel."""

import http.client
import json
import os
import time
from urllib.parse import quote

from . import transport
from .bridge import ensure_bridge
from .errors import (
    BridgeConnectionError,
    BridgeError,
    InvalidRequest,
    JobCancelled,
    JobFailed,
    JobNotFound,
    TokenRefused,
)
from .home import ferry_home
from .sse import EventParser
from .validation import failed_validations, repairs

#: The states a job ends in.
FINAL_STATES = ("succeeded", "failed", "cancelled")

_CONNECTION_ERRORS = (OSError, http.client.HTTPException)


class Client(object):
    """A connection to ferry's bridge.

    With ``url`` and ``token`` it talks to that bridge; otherwise it finds the bridge of ``home`` (FERRY_HOME) through
    its bridge.json on first use and, when none runs and ``start`` is true, starts one (``bridge_command``, else
    ``FERRY_BRIDGE_COMMAND``, else ``deno task bridge`` in ``root`` / ``FERRY_ROOT``, else ``ferry-bridge`` on PATH)
    and waits ``start_timeout`` seconds (``FERRY_BRIDGE_TIMEOUT``, default 30) for it to answer.
    ``host`` is put in publish requests that name none.

    >>> client = Client(url="http://127.0.0.1:9", token="t" * 32, host="blender")
    >>> client.host
    'blender'
    """

    def __init__(
        self,
        url=None,
        token=None,
        home=None,
        host="python",
        bridge_command=None,
        root=None,
        start=True,
        start_timeout=None,
        timeout=30.0,
        reconnect_timeout=30.0,
        stream_idle_timeout=300.0,
    ):
        if (url is None) != (token is None):
            raise TypeError("Client() needs both url and token, or neither (to find the bridge through bridge.json)")
        self.url = url.rstrip("/") if url else None
        self.token = token
        self.home = home
        self.host = host
        self.bridge_command = bridge_command
        self.root = root
        self.start = start
        self.start_timeout = start_timeout if start_timeout is not None else _env_seconds("FERRY_BRIDGE_TIMEOUT", 30.0)
        self.timeout = timeout
        self.reconnect_timeout = reconnect_timeout
        self.stream_idle_timeout = stream_idle_timeout
        self.bridge = None
        self._discovered = url is None

    # -- finding the bridge ------------------------------------------------------------------------------------------

    def connect(self, force=False):
        """Finds (or starts) the bridge now; returns its :class:`BridgeInfo` (None for a client given url and token)."""
        if not self._discovered:
            return None
        if self.bridge is None or force:
            self.bridge = ensure_bridge(
                self.home or ferry_home(),
                command=self.bridge_command,
                root=self.root,
                start=self.start,
                timeout=self.start_timeout,
            )
            self.url = self.bridge.url
            self.token = self.bridge.token
        return self.bridge

    def _where(self):
        if self.bridge is not None and self.bridge.path:
            return "the bridge at %s (from %s)" % (self.url, self.bridge.path)
        return "the bridge at %s" % self.url

    # -- calls -------------------------------------------------------------------------------------------------------

    def _call(self, method, path, body=None, query=None):
        self.connect()
        target = transport.path_with_query(path, query)
        try:
            status, answer = self._send(method, target, body)
        except _CONNECTION_ERRORS as error:
            # A POST is sent again only when it surely did not arrive (refused): a reset may follow a received publish.
            retry = _refused(error) if method == "GET" else isinstance(error, ConnectionRefusedError)
            if not (self._discovered and retry):
                raise BridgeConnectionError("Cannot reach %s (%s %s): %s" % (self._where(), method, path, error))
            # The bridge went away (or restarted on another port): find or start it again, then retry once.
            self.connect(force=True)
            status, answer = self._send_or_raise(method, target, body, path)
        if status == 401 and self._discovered:
            # A bridge started again since has a new token in bridge.json: read it again, then retry once.
            token = self.token
            self.connect(force=True)
            if self.token != token:
                status, answer = self._send_or_raise(method, target, body, path)
        if status >= 400:
            raise self._error(status, answer, method, path)
        return answer

    def _send(self, method, target, body):
        status, answer, _ = transport.request(self.url, method, target, body, self.token, self.timeout)
        return status, answer

    def _send_or_raise(self, method, target, body, path):
        try:
            return self._send(method, target, body)
        except _CONNECTION_ERRORS as error:
            raise BridgeConnectionError("Cannot reach %s (%s %s): %s" % (self._where(), method, path, error))

    def _error(self, status, answer, method, path):
        error = answer.get("error") if isinstance(answer, dict) else None
        error = error if isinstance(error, dict) else {}
        code = error.get("code")
        message = error.get("message") or (answer if isinstance(answer, str) and answer else "HTTP %d" % status)
        if status == 401:
            return TokenRefused(
                "%s refused the token (%s): %s; the bridge.json read may be stale or belong to another bridge"
                % (self._where(), code or "unauthorized", message),
                status,
                code,
                answer,
            )
        if status == 400 and code == "invalid_request" or isinstance(error.get("issues"), list):
            issues = [issue for issue in error.get("issues") or [] if isinstance(issue, dict)]
            lines = [describe_issue(issue) for issue in issues] or [message]
            return InvalidRequest(
                "The bridge refused the request (%s %s):\n  %s" % (method, path, "\n  ".join(lines)),
                status,
                code,
                answer,
                issues,
            )
        if status == 404 and code == "job_not_found":
            return JobNotFound(message, status, code, answer)
        return BridgeError(
            "%s answered %s %s with %d %s: %s" % (self._where(), method, path, status, code or "", message),
            status,
            code,
            answer,
        )

    def health(self):
        """The bridge's ``/health`` answer: ``{"ok": true, "service": "bridge", "version", "pid"}``."""
        return self._call("GET", "/health")

    def plugins(self, host=None):
        """The publish plugins that would run for ``host`` (this client's host by default), as dicts."""
        return self._call("GET", "/v1/plugins", query={"host": host or self.host})["plugins"]

    def contexts(self, parent=None):
        """The projects (no ``parent``), or the children and tasks of ``parent`` (an id or a path), as dicts."""
        return self._call("GET", "/v1/contexts", query={"parent": parent})["contexts"]

    def job(self, job_id):
        """A job by id (:class:`JobNotFound` when the bridge does not know it)."""
        return self._call("GET", "/v1/jobs/%s" % quote(str(job_id), safe=""))["job"]

    def jobs(self):
        """Every job the bridge knows, newest first."""
        return self._call("GET", "/v1/jobs")["jobs"]

    def cancel(self, job_id):
        """Asks the bridge to stop a job at its next safe point; returns the job."""
        return self._call("POST", "/v1/jobs/%s/cancel" % quote(str(job_id), safe=""), body={})["job"]

    def publish(self, request, on_event=None, wait=True, dry_run=None):
        """Posts a publish request and, with ``wait``, follows its events until it ends; returns the final job.

        ``request`` is ferry's publish request (see :func:`ferry_host.request.publish_request`); ``host`` defaults to
        the client's. ``on_event(event)`` is called with each :class:`ferry_host.sse.Event` (``state``, ``result``,
        ``progress``, ``log``). Raises :class:`InvalidRequest` naming the bad fields, :class:`JobFailed` (the failing
        plugin and its message) or :class:`JobCancelled`. Without ``wait`` it returns the queued job at once.
        """
        body = dict(request)
        body.setdefault("host", self.host)
        if dry_run is not None:
            body["dryRun"] = bool(dry_run)
        job = self._call("POST", "/v1/publish", body=body)["job"]
        if not wait:
            return job
        return self.wait(job["id"], on_event=on_event)

    def wait(self, job_id, on_event=None, last_event_id=None):
        """Follows a job's events until it ends; returns the final job, or raises :class:`JobFailed`."""
        job = self.follow(job_id, on_event=on_event, last_event_id=last_event_id)
        raise_for_job(job)
        return job

    def follow(self, job_id, on_event=None, last_event_id=None):
        """Follows a job's event stream until its final state, reconnecting with ``Last-Event-ID`` when it drops.

        Returns the final job (whatever its state). Raises :class:`BridgeConnectionError` when the bridge cannot be
        reached again within ``reconnect_timeout`` seconds.
        """
        self.connect()
        path = "/v1/jobs/%s/events" % quote(str(job_id), safe="")
        position = {"last": last_event_id, "got": False}
        deadline = time.time() + self.reconnect_timeout
        pause = 0.05
        problem = None
        while True:
            position["got"] = False
            try:
                ended = self._stream(path, position, on_event)
            except _CONNECTION_ERRORS as error:
                ended, problem = False, error
            except TokenRefused:
                # A bridge started again on the same port has a new token: read bridge.json again.
                token = self.token
                if not self._discovered or self.connect(force=True) is None or self.token == token:
                    raise
                ended, problem = False, None
            if ended:
                return self.job(job_id)
            if position["got"]:
                deadline = time.time() + self.reconnect_timeout
                pause = 0.05
            if time.time() > deadline:
                raise BridgeConnectionError(
                    "Lost the event stream of job %s from %s and could not reconnect within %g s (last event %s): %s"
                    % (
                        job_id,
                        self._where(),
                        self.reconnect_timeout,
                        position["last"],
                        problem or "the stream kept ending early",
                    )
                )
            time.sleep(pause)
            pause = min(pause * 2, 1.0)
            if problem is not None and self._discovered and _refused(problem):
                try:
                    self.connect(force=True)
                except Exception as error:  # the bridge may come back: keep trying until the deadline
                    problem = error

    def _stream(self, path, position, on_event):
        """Reads one connection of the stream, keeping ``position["last"]`` (the last event id) up to date.

        Returns whether the job's final state was seen.
        """
        conn = transport.connection(self.url, self.stream_idle_timeout)
        try:
            headers = {
                "Accept": "text/event-stream",
                "Authorization": "Bearer " + (self.token or ""),
                "User-Agent": transport.USER_AGENT,
                "Cache-Control": "no-cache",
            }
            if position["last"] is not None:
                headers["Last-Event-ID"] = str(position["last"])
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            if response.status >= 400:
                raw = response.read().decode("utf-8", "replace")
                try:
                    answer = json.loads(raw)
                except ValueError:
                    answer = raw
                raise self._error(response.status, answer, "GET", path)
            parser = EventParser()
            parser.last_id = position["last"]
            while True:
                line = response.readline()
                if not line:
                    return False
                for event in parser.feed(line):
                    position["last"] = parser.last_id
                    position["got"] = True
                    if on_event is not None:
                        on_event(event)
                    if event.type == "state" and isinstance(event.data, dict):
                        if event.data.get("state") in FINAL_STATES:
                            return True
        finally:
            conn.close()


def _env_seconds(name, default):
    value = os.environ.get(name)
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError("%s must be a number of seconds, got %r" % (name, value))
    if seconds <= 0:
        raise ValueError("%s must be a positive number of seconds, got %r" % (name, value))
    return seconds


def _refused(error):
    return isinstance(error, (ConnectionRefusedError, ConnectionResetError, http.client.RemoteDisconnected))


def describe_issue(issue):
    """One line for one bad field of a 400 answer: ``'instances.0.files': needs at least one file (got [])``."""
    path = issue.get("path")
    if isinstance(path, list):
        path = ".".join(str(part) for part in path)
    line = "'%s': %s" % (path or "request", issue.get("message") or "invalid")
    if "value" in issue and issue["value"] is not None:
        shown = json.dumps(issue["value"])
        line += " (got %s)" % (shown if len(shown) <= 80 else shown[:77] + "...")
    return line


def failure_of(job):
    """The first failing plugin result of a job as ``(plugin, instance, message)``, or None."""
    for result in job.get("results") or []:
        if not result.get("success", True):
            error = result.get("error") or {}
            return result.get("plugin"), result.get("instance"), error.get("message") or "failed"
    return None


def raise_for_job(job):
    """Raises :class:`JobFailed` / :class:`JobCancelled` for a job that did not succeed."""
    state = job.get("state")
    if state == "succeeded":
        return
    failure = failure_of(job)
    if state == "cancelled":
        raise JobCancelled(
            "Publish job %s was cancelled%s: nothing was published; publishing the same request again completes it"
            % (job.get("id"), " (%s)" % job["error"] if job.get("error") else ""),
            job,
        )
    if failure is not None:
        plugin, instance, reason = failure
        validations = failed_validations(job)
        more = " (and %d more failed)" % (len(validations) - 1) if len(validations) > 1 else ""
        raise JobFailed(
            "Publish job %s failed in %s%s: %s%s"
            % (job.get("id"), plugin, " (instance '%s')" % instance if instance else "", reason, more),
            job,
            plugin,
            instance,
            reason,
            validations,
            repairs(job),
        )
    raise JobFailed(
        "Publish job %s ended %s: %s" % (job.get("id"), state, job.get("error") or "no reason given"),
        job,
        reason=job.get("error"),
    )
