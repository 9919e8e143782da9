"""EventParser reads text/event-stream as the WHATWG standard says."""

import unittest

from ferry_host.sse import Event, EventParser


def parse(text):
    parser = EventParser()
    events = []
    for line in text.splitlines(True):
        events.extend(parser.feed(line))
    return parser, events


class EventParserTest(unittest.TestCase):
    def test_EventParser_decodes_json_data_and_numeric_ids(self):
        _, events = parse(
            'id: 1\nevent: state\ndata: {"state": "running"}\n\n'
            'id: 2\nevent: log\ndata: {"level": "info", "message": "hi"}\n\n'
        )
        self.assertEqual(
            events,
            [
                Event(1, "state", {"state": "running"}),
                Event(2, "log", {"level": "info", "message": "hi"}),
            ],
        )

    def test_EventParser_joins_multi_line_data_and_handles_crlf_and_bytes(self):
        parser = EventParser()
        events = []
        for line in [b"id: 7\r\n", b"data: first\r\n", b"data:second\r\n", b"\r\n"]:
            events.extend(parser.feed(line))
        self.assertEqual(events, [Event(7, "message", "first\nsecond")])
        self.assertEqual(parser.last_id, 7)

    def test_EventParser_skips_comments_and_events_without_data(self):
        parser, events = parse(": keep-alive\n\nid: 3\nevent: state\n\n")
        self.assertEqual(events, [])
        self.assertEqual(parser.last_id, 3)

    def test_EventParser_reads_retry_and_an_unterminated_event_is_not_dispatched(self):
        parser, events = parse("retry: 500\nid: 4\ndata: {}\n")
        self.assertEqual(events, [])
        self.assertEqual(parser.retry, 500)


if __name__ == "__main__":
    unittest.main()
