"""HTTP to the bridge on the loopback: http.client, no proxies (a proxy setting of the DCC must not apply)."""

import http.client
import json

from urllib.parse import urlencode, urlsplit

USER_AGENT = "ferry-host-python/0.1"


def connection(url, timeout):
    """An HTTP connection to the bridge's url (``http://127.0.0.1:PORT``)."""
    parts = urlsplit(url)
    if parts.scheme != "http":
        raise ValueError("The bridge url must be http://host:port on the loopback, got %r" % url)
    return http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=timeout)


def path_with_query(path, query=None):
    """The path with its query string (None values left out)."""
    if not query:
        return path
    pairs = [(key, value) for key, value in query.items() if value is not None]
    return path + ("?" + urlencode(pairs) if pairs else "")


def request(url, method, path, body=None, token=None, timeout=30.0, headers=None):
    """Sends one request; returns ``(status, decoded JSON or text, headers)``. Socket errors propagate."""
    conn = connection(url, timeout)
    try:
        sent = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if token:
            sent["Authorization"] = "Bearer " + token
        payload = None
        if body is not None:
            payload = json.dumps(body).encode("utf-8")
            sent["Content-Type"] = "application/json"
        if headers:
            sent.update(headers)
        conn.request(method, path, body=payload, headers=sent)
        response = conn.getresponse()
        raw = response.read()
        text = raw.decode("utf-8", "replace")
        try:
            decoded = json.loads(text) if text else None
        except ValueError:
            decoded = text
        return response.status, decoded, response.getheaders()
    finally:
        conn.close()


def get_json(url, path, token=None, timeout=30.0):
    """``GET`` a path; returns ``(status, decoded body)``."""
    status, body, _ = request(url, "GET", path, token=token, timeout=timeout)
    return status, body
