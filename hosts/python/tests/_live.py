"""What the live tests share: whether a live set-up was given (by tests/host_python_test.ts), small files."""

import json
import os
import struct
import unittest
import zlib

LIVE = os.environ.get("FERRY_TEST_LIVE") == "1"
CONTEXT = os.environ.get("FERRY_TEST_CONTEXT", "demo/sq010/sh010")
TASK = os.environ.get("FERRY_TEST_TASK", "lighting")
WORK = os.environ.get("FERRY_TEST_WORK", "")
OUTPUT = os.environ.get("FERRY_TEST_OUTPUT", "")

needs_live = unittest.skipUnless(
    LIVE,
    "SKIPPED: needs a live bridge set-up (FERRY_TEST_LIVE=1, FTRACK_*, FERRY_HOME): run tests/host_python_test.ts",
)


def write_png(path, width, height, rgb):
    """A valid RGB PNG of one colour (ExtractReview reads it)."""
    row = b"\x00" + bytes(bytearray(rgb)) * width
    raw = row * height

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    with open(path, "wb") as stream:
        stream.write(b"\x89PNG\r\n\x1a\n")
        stream.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)))
        stream.write(chunk(b"IDAT", zlib.compress(raw)))
        stream.write(chunk(b"IEND", b""))
    return path


def write_frames(folder, name, frames):
    """``name.%04d.png`` frames of distinct colours; returns {frame: path}."""
    if not os.path.isdir(folder):
        os.makedirs(folder)
    return {
        frame: write_png(
            os.path.join(folder, "%s.%04d.png" % (name, frame)), 16, 9, (frame * 37 % 256, frame * 11 % 256, 90)
        )
        for frame in frames
    }


def record(key, value):
    """Adds ``key: value`` to the JSON file the Deno test reads to check the tracker."""
    if not OUTPUT:
        return
    data = {}
    if os.path.isfile(OUTPUT):
        with open(OUTPUT) as stream:
            data = json.load(stream)
    data[key] = value
    with open(OUTPUT, "w") as stream:
        json.dump(data, stream, indent=2)
