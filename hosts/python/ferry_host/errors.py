"""The errors of the ferry client: one class per condition a caller is expected to catch."""


class FerryError(Exception):
    """Base class of every error the ferry client raises."""


class BridgeNotFound(FerryError):
    """No bridge answers, and none could be started (the message says how it tried).

    ``attempts`` lists what was tried, one line each; ``log_path`` is the start log when a start was tried;
    ``pid`` the process started, when it still runs (it did not answer in time).
    """

    def __init__(self, message, attempts=None, log_path=None, pid=None):
        FerryError.__init__(self, message)
        self.attempts = list(attempts or [])
        self.log_path = log_path
        self.pid = pid


class BridgeConnectionError(FerryError):
    """The bridge stopped answering (connection refused or reset, a timeout) in the middle of a call."""


class BridgeError(FerryError):
    """The bridge answered with an error (any non-2xx answer without a more specific class).

    ``status`` is the HTTP status, ``code`` the bridge's error code (``job_not_found``, ``forbidden_host`` …),
    ``body`` the decoded answer.
    """

    def __init__(self, message, status=None, code=None, body=None):
        FerryError.__init__(self, message)
        self.status = status
        self.code = code
        self.body = body


class TokenRefused(BridgeError):
    """The bridge refused the token (HTTP 401): the bridge.json read is stale or belongs to another bridge."""


class InvalidRequest(BridgeError):
    """The bridge refused a request's fields (HTTP 400).

    ``issues`` is a list of dicts ``{"path": "instances.0.files", "message": "...", "value": ...}``, one per bad field.
    """

    def __init__(self, message, status=None, code=None, body=None, issues=None):
        BridgeError.__init__(self, message, status, code, body)
        self.issues = list(issues or [])


class JobNotFound(BridgeError):
    """The bridge does not know this job id (HTTP 404)."""


class JobFailed(FerryError):
    """A publish job ended in the ``failed`` state.

    ``job`` is the final job; ``plugin`` and ``reason`` are the first failing plugin and its message;
    ``validations`` every failed result (``ferry_host.failed_validations``) and ``repairs`` the changes they propose
    (``ferry_host.repairs``).
    """

    def __init__(self, message, job=None, plugin=None, instance=None, reason=None, validations=None, repairs=None):
        FerryError.__init__(self, message)
        self.job = job
        self.plugin = plugin
        self.instance = instance
        self.reason = reason
        self.validations = list(validations or [])
        self.repairs = list(repairs or [])


class JobCancelled(JobFailed):
    """A publish job was cancelled: nothing was shown as published; publishing the same request again completes it."""
