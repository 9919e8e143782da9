"""A reader of Server-Sent Events (the ``text/event-stream`` format of the WHATWG HTML standard)."""

import json


class Event(object):
    """One event of a job's stream: ``id`` (an int when numeric, else the string or None), ``type``, ``data``.

    ``data`` is the decoded JSON when the data is JSON, else the text.
    """

    __slots__ = ("id", "type", "data")

    def __init__(self, id, type, data):  # noqa: A002 - the names of the SSE fields
        self.id = id
        self.type = type
        self.data = data

    def __repr__(self):
        return "Event(id=%r, type=%r, data=%r)" % (self.id, self.type, self.data)

    def __eq__(self, other):
        return isinstance(other, Event) and (self.id, self.type, self.data) == (other.id, other.type, other.data)

    def __ne__(self, other):
        return not self.__eq__(other)


class EventParser(object):
    """Turns lines of an event stream into events; feed it lines, it returns the events they complete.

    >>> parser = EventParser()
    >>> [parser.feed(line) for line in ["id: 1", "event: state", 'data: {"state": "running"}', ""]][-1]
    [Event(id=1, type='state', data={'state': 'running'})]
    >>> parser.last_id
    1
    """

    def __init__(self):
        self.last_id = None
        self.retry = None
        self._data = []
        self._type = ""
        self._id = None

    def feed(self, line):
        """Feeds one line (str or bytes, with or without its line ending); returns the list of completed events."""
        if isinstance(line, bytes):
            line = line.decode("utf-8", "replace")
        line = line.rstrip("\r\n")
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            return []
        if ":" in line:
            field, value = line.split(":", 1)
            if value.startswith(" "):
                value = value[1:]
        else:
            field, value = line, ""
        if field == "data":
            self._data.append(value)
        elif field == "event":
            self._type = value
        elif field == "id":
            if "\0" not in value:
                self._id = value
        elif field == "retry":
            if value.isdigit():
                self.retry = int(value)
        return []

    def _dispatch(self):
        if self._id is not None:
            self.last_id = _event_id(self._id)
        if not self._data:
            self._type = ""
            return []
        text = "\n".join(self._data)
        try:
            data = json.loads(text)
        except ValueError:
            data = text
        event = Event(self.last_id, self._type or "message", data)
        self._data = []
        self._type = ""
        self._id = None
        return [event]


def _event_id(value):
    return int(value) if value.isdigit() else (value or None)
