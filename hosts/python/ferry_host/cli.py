"""``python -m ferry_host``: publish and inspect jobs through ferry's bridge from scripts and farm jobs.

Exit codes: 0 published (or done), 1 the publish failed or was cancelled, 2 usage error or invalid request,
3 no bridge / connection problem / bridge error.
"""

import argparse
import json
import os
import re
import sys

from .client import Client, failure_of
from .errors import BridgeError, FerryError, InvalidRequest, JobFailed, JobNotFound
from .request import asset_from_path, family_from_path, instance, parse_location, publish_request
from .validation import describe_repair, failed_validations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_BRIDGE = 3

DESCRIPTION = """\
Publish files and image sequences through ferry's bridge, and look at its jobs.

The bridge is found through $FERRY_HOME/bridge.json; when none runs, one is started with
FERRY_BRIDGE_COMMAND (or --bridge-command), or 'deno task bridge' in the ferry checkout FERRY_ROOT,
or a ferry-bridge binary on PATH, and waited for (FERRY_BRIDGE_TIMEOUT seconds, default 30).
Progress goes to stderr.

  python -m ferry_host publish renders/beauty.####.exr --context demo/sq010/sh010 --task lighting
  python -m ferry_host contexts --parent demo/sq010
  python -m ferry_host plugins --host blender

Exit codes: 0 published, 1 failed or cancelled, 2 usage error or invalid request,
3 no bridge or a connection problem."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, "%s: error: %s\nRun '%s --help' for the options.\n" % (self.prog, message, self.prog))


def _parser():
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--bridge-command", metavar="CMD", help="command that starts a bridge when none runs")
    common.add_argument("--no-start", action="store_true", help="fail instead of starting a bridge")
    common.add_argument(
        "--start-timeout", type=float, metavar="S", help="seconds to wait for a bridge to start (default 30)"
    )
    common.add_argument("--json", action="store_true", help="print JSON on stdout")

    parser = _Parser(
        prog="python -m ferry_host", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    publish = commands.add_parser("publish", parents=[common], help="publish files as a new version")
    publish.add_argument("paths", nargs="+", help="files, folders or patterns (beauty.####.exr, *.png, %%04d)")
    publish.add_argument("--context", required=True, help="project/…/shot, as in the tracker")
    publish.add_argument("--task", required=True, help="the task under that context")
    publish.add_argument("--asset", help="asset name (default: from the first path, e.g. 'beauty')")
    publish.add_argument("--family", help="family (default: render for sequences, image, movie or upload)")
    publish.add_argument("--families", default="", help="more families, comma separated (e.g. review)")
    publish.add_argument("--comment", default="", help="version comment and note")
    publish.add_argument("--frames", metavar="FIRST-LAST", help="expected frame range (validated)")
    publish.add_argument("--location", default="server", help="server (default), unmanaged or disk:<root>")
    publish.add_argument("--user", help="publish as this tracker user")
    publish.add_argument("--host", default="python", help="the host name sent with the request (default: python)")
    publish.add_argument(
        "--scene",
        metavar="JSON",
        help="scene facts to validate, as JSON or @file.json, e.g. '{\"fps\": 24, \"frameStart\": 1001}'",
    )
    publish.add_argument("--dry-run", action="store_true", help="collect and validate only")
    publish.add_argument("--no-wait", action="store_true", help="print the job id and return at once")

    plugins = commands.add_parser("plugins", parents=[common], help="list the plugins that run for a host")
    plugins.add_argument("--host", default="python", help="host name (default: python)")

    contexts = commands.add_parser("contexts", parents=[common], help="list projects, or children and tasks")
    contexts.add_argument("--parent", help="a context id or path (default: the projects)")

    job = commands.add_parser("job", parents=[common], help="show one job")
    job.add_argument("id")
    commands.add_parser("jobs", parents=[common], help="list jobs, newest first")
    cancel = commands.add_parser("cancel", parents=[common], help="cancel a job")
    cancel.add_argument("id")
    return parser


def _say(text):
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def describe_result(result):
    """One progress line for a plugin result event."""
    subject = " %s" % result["instance"] if result.get("instance") else ""
    error = result.get("error") or {}
    why = ": %s" % error.get("message") if error.get("message") else ""
    warnings = "".join(
        " (warning: %s)" % record.get("message")
        for record in result.get("records") or []
        if record.get("level") == "warning"
    )
    duration = result.get("duration")
    took = " (%d ms)" % duration if isinstance(duration, (int, float)) else ""
    return "%s %s%s%s%s%s" % (
        "ok  " if result.get("success") else "FAIL",
        result.get("plugin"),
        subject,
        took,
        why,
        warnings,
    )


class _Progress(object):
    """Prints events as plain lines (farm logs): results, byte progress every 10 %, warnings and errors."""

    def __init__(self):
        self.shown = -1

    def __call__(self, event):
        data = event.data if isinstance(event.data, dict) else {}
        if event.type == "state":
            _say("job %s" % data.get("state"))
        elif event.type == "result":
            _say(describe_result(data))
        elif event.type == "progress":
            total = data.get("totalBytes") or 0
            done = data.get("bytes") or 0
            if total > 0:
                step = int(done * 10 // total)
                if step != self.shown:
                    self.shown = step
                    _say("transferred %s of %s (%d%%)" % (_bytes(done), _bytes(total), done * 100 // total))
        elif event.type == "log" and data.get("level") in ("warning", "error"):
            _say("%s: %s" % (data.get("level"), data.get("message")))


def _bytes(count):
    for unit in ("B", "kB", "MB", "GB"):
        if count < 1000 or unit == "GB":
            return ("%d %s" if unit == "B" else "%.1f %s") % (count, unit)
        count /= 1000.0
    return "%d B" % count  # pragma: no cover


def _client(args, host="python"):
    return Client(
        host=host, bridge_command=args.bridge_command, start=not args.no_start, start_timeout=args.start_timeout
    )


def _frames(text):
    match = re.match(r"^(-?\d+)-(-?\d+)$", text)
    if not match:
        raise ValueError("--frames must be like 1001-1100, got %r" % text)
    return int(match.group(1)), int(match.group(2))


def _scene(text):
    """The ``--scene`` facts: a JSON object, or ``@path`` of a file holding one."""
    if text is None:
        return None
    source = text
    if text.startswith("@"):
        with open(text[1:]) as stream:
            source = stream.read()
    try:
        facts = json.loads(source)
    except ValueError as error:
        raise ValueError("--scene must be a JSON object or @file.json, got %r (%s)" % (text[:80], error))
    if not isinstance(facts, dict):
        raise ValueError("--scene must be a JSON object of scene facts, got %r" % (text[:80],))
    return facts


def print_validations(job, write=None):
    """Prints each failed validation of a job with the repairs it proposes (to stderr unless ``write`` is given)."""
    write = write or _say
    for failure in failed_validations(job):
        subject = " (%s)" % failure["instance"] if failure["instance"] else ""
        write("  FAILED %s%s: %s" % (failure["plugin"], subject, failure["message"]))
        for repair in failure["repairs"]:
            write("    repair: %s" % describe_repair(repair))


def _publish(args):
    scene = _scene(args.scene)
    paths = [os.path.abspath(path) for path in args.paths]
    first = paths[0]
    frame_start = frame_end = None
    if args.frames:
        frame_start, frame_end = _frames(args.frames)
    request = publish_request(
        args.context,
        args.task,
        [
            instance(
                args.family or family_from_path(first, os.path.isdir(first)),
                args.asset or asset_from_path(first),
                paths,
                families=[family.strip() for family in args.families.split(",") if family.strip()],
                frame_start=frame_start,
                frame_end=frame_end,
            )
        ],
        comment=args.comment,
        host=args.host,
        location=parse_location(args.location),
        user=args.user,
        scene=scene,
    )
    client = _client(args, args.host)
    bridge = client.connect()
    if bridge is not None:
        _say("bridge %s (pid %s)" % (bridge.url, bridge.pid))
    job = client.publish(request, wait=False, dry_run=args.dry_run or None)
    _say("job %s queued" % job["id"])
    if args.no_wait:
        if args.json:
            print(json.dumps(job, indent=2))
        else:
            print(job["id"])
        return EXIT_OK
    try:
        job = client.wait(job["id"], on_event=_Progress())
    except JobFailed as error:
        if args.json and error.job is not None:
            print(json.dumps(error.job, indent=2))
        _say("\nnot published: %s" % error)
        if error.validations:
            _say("failed validations:")
            print_validations(error.job)
        return EXIT_FAILED
    if args.json:
        print(json.dumps(job, indent=2))
    report = job.get("report") or {}
    if args.dry_run:
        name = request["instances"][0]["name"]
        _say("\ndry run: '%s' would be published to %s (%s)" % (name, args.context, args.task))
        return EXIT_OK
    for created in report.get("created") or []:
        if created.get("versionId"):
            _say(
                "\npublished %s %s v%03d (%s)"
                % (args.context, created.get("instance"), created.get("version") or 0, created.get("versionId"))
            )
    return EXIT_OK


def _table(rows, columns):
    if not rows:
        return
    widths = [max([len(column)] + [len(str(row.get(column, ""))) for row in rows]) for column in columns]
    print("  ".join(column.ljust(width) for column, width in zip(columns, widths)).rstrip())
    for row in rows:
        print("  ".join(str(row.get(column, "")).ljust(width) for column, width in zip(columns, widths)).rstrip())


def _show_job(job, as_json):
    if as_json:
        print(json.dumps(job, indent=2))
        return
    print("job %s: %s" % (job.get("id"), job.get("state")))
    for result in job.get("results") or []:
        print("  " + describe_result(result))
    failure = failure_of(job)
    if job.get("error"):
        print("  error: %s" % job["error"])
    elif failure:
        print("  failed in %s: %s" % (failure[0], failure[2]))
    for failed in failed_validations(job):
        for repair in failed["repairs"]:
            print("  repair %s%s: %s" % (
                failed["plugin"], " (%s)" % failed["instance"] if failed["instance"] else "", describe_repair(repair)
            ))
    for version in job.get("versionIds") or []:
        print("  version %s" % version)


def main(argv=None):
    """Runs the command line; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "publish":
            return _publish(args)
        client = _client(args, getattr(args, "host", "python"))
        if args.command == "plugins":
            plugins = client.plugins(args.host)
            if args.json:
                print(json.dumps(plugins, indent=2))
            else:
                _table(
                    [dict(plugin, families=",".join(plugin.get("families") or [])) for plugin in plugins],
                    ["order", "name", "label", "families"],
                )
            return EXIT_OK
        if args.command == "contexts":
            contexts = client.contexts(args.parent)
            if args.json:
                print(json.dumps(contexts, indent=2))
            else:
                _table(contexts, ["type", "path", "id"])
            return EXIT_OK
        if args.command == "job":
            _show_job(client.job(args.id), args.json)
            return EXIT_OK
        if args.command == "jobs":
            jobs = client.jobs()
            if args.json:
                print(json.dumps(jobs, indent=2))
            else:
                _table(jobs, ["createdAt", "state", "host", "id"])
            return EXIT_OK
        if args.command == "cancel":
            _show_job(client.cancel(args.id), args.json)
            return EXIT_OK
    except (InvalidRequest, ValueError) as error:
        _say("ferry: %s" % error)
        return EXIT_USAGE
    except JobNotFound as error:
        _say("ferry: %s" % error)
        return EXIT_USAGE
    except BridgeError as error:
        _say("ferry: %s" % error)
        return EXIT_BRIDGE
    except FerryError as error:
        _say("ferry: %s" % error)
        return EXIT_BRIDGE
    parser.error("unknown command %r" % args.command)  # pragma: no cover
    return EXIT_USAGE
