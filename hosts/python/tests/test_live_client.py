"""Client against a REAL bridge (started by the client itself) publishing to the embedded tracker.

Run by tests/host_python_test.ts, which starts the tracker, sets FERRY_HOME / FTRACK_* / FERRY_ROOT and checks
through @ftrack/api what these tests published (the ids they record in FERRY_TEST_OUTPUT).
"""

import json
import os
import shutil
import signal
import socket
import stat
import tempfile
import threading
import unittest
import uuid

import ferry_host
from ferry_host import (
    BridgeNotFound,
    Client,
    InvalidRequest,
    JobCancelled,
    JobFailed,
    JobNotFound,
    TokenRefused,
    instance,
    publish_request,
)

from ._live import CONTEXT, TASK, WORK, needs_live, record, write_frames


@needs_live
class LiveClientTest(unittest.TestCase):
    client = None
    info = None

    @classmethod
    def setUpClass(cls):
        home = ferry_host.ferry_home()
        assert not os.path.exists(os.path.join(home, "bridge.json")), "a bridge already runs for %s" % home
        try:
            Client(start=False).connect()
        except BridgeNotFound as error:
            cls.not_found = error
        else:
            raise AssertionError("Client(start=False) found a bridge where none runs")
        cls.client = Client(host="python")
        cls.info = cls.client.connect()

    def folder(self, name):
        path = os.path.join(WORK, name)
        os.makedirs(path, exist_ok=True)
        return path

    def test_Client_without_start_says_no_bridge_runs_and_where_it_looked(self):
        message = str(self.not_found)
        self.assertIn("No ferry bridge runs for FERRY_HOME", message)
        self.assertIn(os.path.join(ferry_host.ferry_home(), "bridge.json"), message)

    def test_Client_started_a_bridge_that_wrote_a_private_bridge_json_and_a_second_client_reuses_it(self):
        path = os.path.join(ferry_host.ferry_home(), "bridge.json")
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        self.assertTrue(self.info.url.startswith("http://127.0.0.1:"), self.info.url)
        self.assertGreaterEqual(len(self.info.token), 32)
        current = Client().connect()
        again = Client().connect()
        self.assertEqual((again.pid, again.url), (current.pid, current.url))
        with open(os.path.join(ferry_host.ferry_home(), "logs", "bridge-start.log")) as stream:
            self.assertIn("task bridge --port 0", stream.read())
        self.assertEqual(Client().health()["pid"], current.pid)

    def test_Client_plugins_lists_the_plugins_of_a_host(self):
        plugins = self.client.plugins("blender")
        names = [plugin["name"] for plugin in plugins]
        for name in ("CollectFiles", "ValidateFrameRange", "IntegrateVersion"):
            self.assertIn(name, names)
        orders = [plugin["order"] for plugin in plugins]
        self.assertEqual(orders, sorted(orders))
        for plugin in plugins:
            self.assertTrue(plugin["label"] and isinstance(plugin["families"], list), plugin)

    def test_Client_contexts_walks_projects_children_and_tasks(self):
        projects = self.client.contexts()
        self.assertIn(("demo", "Project"), [(entry["path"], entry["type"]) for entry in projects])
        shots = self.client.contexts("demo/sq010")
        self.assertIn(("demo/sq010/sh010", "Shot"), [(entry["path"], entry["type"]) for entry in shots])
        tasks = self.client.contexts(CONTEXT)
        self.assertIn(("%s/%s" % (CONTEXT, TASK), "Task"), [(entry["path"], entry["type"]) for entry in tasks])
        by_id = self.client.contexts([entry for entry in shots if entry["name"] == "sh010"][0]["id"])
        self.assertEqual([entry["path"] for entry in by_id], [entry["path"] for entry in tasks])

    def test_Client_publish_follows_events_to_a_published_version(self):
        frames = write_frames(self.folder("seq"), "beauty", range(1001, 1007))
        events = []
        job = self.client.publish(
            publish_request(
                CONTEXT,
                TASK,
                [instance("render", "beauty", [os.path.join(self.folder("seq"), "beauty.####.png")])],
                comment="from python",
            ),
            on_event=events.append,
        )
        self.assertEqual(job["state"], "succeeded")
        self.assertEqual(job["host"], "python")
        self.assertEqual(len(job["versionIds"]), 1)
        ids = [event.id for event in events]
        self.assertEqual(ids, list(range(ids[0], ids[0] + len(ids))), "event ids are consecutive")
        self.assertEqual(events[-1].type, "state")
        self.assertEqual(events[-1].data["state"], "succeeded")
        results = [event.data for event in events if event.type == "result"]
        outcomes = [(result["plugin"], result["instance"], result["success"]) for result in results]
        self.assertIn(("IntegrateVersion", "beauty", True), outcomes)
        progress = [event.data for event in events if event.type == "progress"]
        self.assertTrue(progress and progress[-1]["totalBytes"] > 0, progress)
        record("sequence", {"versionId": job["versionIds"][0], "files": {str(k): v for k, v in frames.items()}})

        # A client that connects later, or reconnects with Last-Event-ID, gets the same events.
        replayed = []
        self.client.follow(job["id"], on_event=replayed.append, last_event_id=ids[1])
        self.assertEqual([event.id for event in replayed], ids[2:])
        self.assertEqual([event.data for event in replayed], [event.data for event in events[2:]])

    def test_Client_publish_of_invalid_fields_raises_InvalidRequest_naming_each_field(self):
        with self.assertRaises(InvalidRequest) as caught:
            self.client.publish(
                {
                    "context": {"path": CONTEXT, "task": ""},
                    "instances": [{"family": "render", "name": "x", "files": []}],
                }
            )
        error = caught.exception
        self.assertEqual(error.status, 400)
        paths = sorted(issue["path"] for issue in error.issues)
        self.assertEqual(paths, ["context.task", "instances.0.files"])
        self.assertIn("'instances.0.files'", str(error))
        self.assertIn("'context.task'", str(error))

    def test_Client_with_a_wrong_token_raises_TokenRefused(self):
        with self.assertRaises(TokenRefused) as caught:
            Client(url=Client().connect().url, token="x" * 43).jobs()
        self.assertEqual(caught.exception.status, 401)
        self.assertIn("refused the token", str(caught.exception))

    def test_Client_found_through_a_bridge_json_with_a_wrong_token_raises_TokenRefused_naming_the_file(self):
        bridge = Client().connect()
        home = tempfile.mkdtemp(prefix="ferry-forged-home-")
        self.addCleanup(shutil.rmtree, home, True)
        with open(os.path.join(home, "bridge.json"), "w") as stream:
            json.dump({"url": bridge.url, "token": "y" * 43, "pid": bridge.pid, "version": "0.1.0"}, stream)
        with self.assertRaises(TokenRefused) as caught:
            Client(home=home, start=False).jobs()
        self.assertIn("(from %s)" % os.path.join(home, "bridge.json"), str(caught.exception))

    def test_Client_that_holds_an_old_token_reads_bridge_json_again(self):
        client = Client()
        client.connect()
        client.token = "z" * 43  # as if the bridge had been started again since
        self.assertIsInstance(client.jobs(), list)
        self.assertEqual(client.token, client.bridge.token)

    def test_Client_publish_of_a_sequence_with_a_hole_raises_JobFailed_naming_plugin_and_frames(self):
        folder = self.folder("holes")
        write_frames(folder, "holes", [1, 2, 4, 5])
        with self.assertRaises(JobFailed) as caught:
            self.client.publish(
                publish_request(CONTEXT, TASK, [instance("render", "holes", [os.path.join(folder, "holes.####.png")])])
            )
        error = caught.exception
        self.assertEqual(error.plugin, "ValidateFrameRange")
        self.assertEqual(error.instance, "holes")
        self.assertIn("3", error.reason)
        self.assertIn("ValidateFrameRange", str(error))
        self.assertEqual(error.job["state"], "failed")
        self.assertEqual(error.job["versionIds"], [])

    def test_Client_job_of_an_unknown_id_raises_JobNotFound(self):
        with self.assertRaises(JobNotFound):
            self.client.job(str(uuid.uuid4()))

    def test_Client_cancel_of_a_queued_job_cancels_it_and_the_same_request_publishes_later(self):
        folder = self.folder("cancel")
        big = os.path.join(folder, "big.bin")
        with open(big, "wb") as stream:
            stream.write(os.urandom(1 << 20) * 16)
        small = os.path.join(folder, "big_small.bin")
        with open(small, "wb") as stream:
            stream.write(b"small" * 100)
        first = self.client.publish(
            publish_request(CONTEXT, TASK, [instance("upload", "bigfile", [big])]), wait=False
        )
        # Same asset: the second job waits for the first, so it is still queued when cancelled.
        second_request = publish_request(CONTEXT, TASK, [instance("upload", "bigfile", [small])])
        second = self.client.publish(second_request, wait=False)
        cancelled = self.client.cancel(second["id"])
        self.assertEqual(cancelled["state"], "cancelled")
        with self.assertRaises(JobCancelled):
            self.client.wait(second["id"])
        self.assertEqual(self.client.wait(first["id"])["state"], "succeeded")
        again = self.client.publish(second_request)
        self.assertEqual(again["state"], "succeeded")
        ids = [job["id"] for job in self.client.jobs()]
        self.assertLess(ids.index(again["id"]), ids.index(first["id"]), "jobs are listed newest first")
        record("cancel", {"first": first["id"], "cancelled": second["id"], "again": again["versionIds"][0]})

    def test_Client_follow_reconnects_with_Last_Event_ID_when_the_stream_drops(self):
        bridge = Client().connect()
        proxy = _DroppingProxy(bridge.url)
        try:
            client = Client(url=proxy.url, token=bridge.token, host="python")
            folder = self.folder("drop")
            write_frames(folder, "dropped", range(1, 5))
            events = []
            pattern = os.path.join(folder, "dropped.####.png")
            job = client.publish(
                publish_request(CONTEXT, TASK, [instance("cache", "dropped", [pattern])]), on_event=events.append
            )
        finally:
            proxy.close()
        self.assertEqual(job["state"], "succeeded")
        ids = [event.id for event in events]
        self.assertEqual(ids, list(range(1, len(ids) + 1)), "no event lost or repeated across the reconnection")
        self.assertGreaterEqual(len(proxy.stream_requests), 2, "the stream was dropped and reopened")
        self.assertNotIn(b"Last-Event-ID", proxy.stream_requests[0])
        self.assertIn(b"Last-Event-ID: ", proxy.stream_requests[1])

    def test_Client_follow_survives_a_bridge_killed_mid_publish_by_starting_another_that_resumes_the_job(self):
        client = Client(host="python")
        killed = client.connect()
        path = os.path.join(self.folder("killed"), "killed.bin")
        with open(path, "wb") as stream:
            stream.write(os.urandom(1 << 20) * 32)
        job = client.publish(publish_request(CONTEXT, TASK, [instance("upload", "killed", [path])]), wait=False)
        events = []

        def kill_on_first_progress(event):
            events.append(event)
            if event.type == "progress" and event.data["bytes"] > 0 and client.bridge.pid == killed.pid:
                os.kill(killed.pid, signal.SIGKILL)

        final = client.wait(job["id"], on_event=kill_on_first_progress)
        self.assertEqual(final["state"], "succeeded")
        self.assertEqual(len(final["versionIds"]), 1)
        self.assertNotEqual(client.bridge.pid, killed.pid, "another bridge was started")
        self.assertTrue(any(event.type == "progress" for event in events))
        ids = [event.id for event in events]
        self.assertEqual(ids, sorted(set(ids)), "no event repeated across the restart")
        record("killed", {"versionId": final["versionIds"][0], "path": path})


class _DroppingProxy(object):
    """A TCP proxy to the bridge that cuts the first event stream after a few hundred bytes."""

    CUT_AFTER = 420

    def __init__(self, target):
        host, port = target.replace("http://", "").split(":")
        self.target = (host, int(port))
        self.server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(16)
        self.url = "http://127.0.0.1:%d" % self.server.getsockname()[1]
        self.stream_requests = []
        self._lock = threading.Lock()
        self._closed = False
        thread = threading.Thread(target=self._accept)
        thread.daemon = True
        thread.start()

    def close(self):
        self._closed = True
        self.server.close()

    def _accept(self):
        while not self._closed:
            try:
                downstream, _ = self.server.accept()
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(downstream,))
            thread.daemon = True
            thread.start()

    def _serve(self, downstream):
        upstream = socket.create_connection(self.target)
        head = downstream.recv(65536)
        cut = None
        if b"/events" in head.split(b"\r\n", 1)[0]:
            with self._lock:
                self.stream_requests.append(head)
                if len(self.stream_requests) == 1:
                    cut = self.CUT_AFTER
        upstream.sendall(head)
        back = threading.Thread(target=self._pump, args=(downstream, upstream, None))
        back.daemon = True
        back.start()
        self._pump(upstream, downstream, cut)

    @staticmethod
    def _pump(source, sink, cut):
        sent = 0
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if cut is not None and sent + len(data) >= cut:
                    sink.sendall(data[: cut - sent])
                    break
                sink.sendall(data)
                sent += len(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                end.close()


if __name__ == "__main__":
    unittest.main()
