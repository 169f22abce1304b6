#!/usr/bin/python3
"""Decode a TensorBoard event file written by hops, checking every byte.

Usage: tb_decode.py FILE

Prints one JSON document on stdout:

    {"file_version": "brain.Event:2",
     "scalars": [{"tag": "loss", "step": 3, "value": 0.25, "wall_time": 1700000000.5}, ...]}

with the scalars in file order. "value" is the float32 simple_value written
with the fewest digits that give back the same float32 (0.1f prints as 0.1);
non-finite numbers print as the strings "NaN", "Infinity" and "-Infinity", as
in protobuf's JSON mapping, so the output is strict JSON.

Each TFRecord is checked here, in pure Python: the uint64 LE length, the
masked CRC-32C of those 8 bytes, the data, the masked CRC-32C of the data.
The Event protobufs are parsed with python3-protobuf from tests/e2e/event.proto,
compiled with protoc into a temporary directory at each run.

Exit status: 0 when the file verifies; 1 when it does not (a CRC mismatch, a
truncated record, an Event that does not parse, a first record that is not
file_version "brain.Event:2"), with the reason on stderr; 2 for usage errors
or a missing protoc / protobuf module.
"""

import importlib
import json
import math
import os
import struct
import subprocess
import sys
import tempfile

PROG = "tb_decode"
FILE_VERSION = "brain.Event:2"


class Invalid(Exception):
    """The file is not a valid event file."""


def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc32c_table()


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc = _TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data):
    crc = crc32c(data)
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def records(blob):
    """Yield (offset, data) for each record of BLOB; raise Invalid on any flaw."""
    off = 0
    index = 0
    while off < len(blob):
        where = "record %d at offset %d" % (index, off)
        if len(blob) - off < 12:
            raise Invalid("%s: truncated header (%d bytes left)" % (where, len(blob) - off))
        header = blob[off:off + 8]
        (length,) = struct.unpack("<Q", header)
        (length_crc,) = struct.unpack("<I", blob[off + 8:off + 12])
        if length_crc != masked_crc32c(header):
            raise Invalid("%s: length CRC mismatch (stored 0x%08x, computed 0x%08x)"
                          % (where, length_crc, masked_crc32c(header)))
        if length > len(blob) - off - 16:
            raise Invalid("%s: truncated: length %d needs %d bytes after the header, %d left"
                          % (where, length, length + 4, len(blob) - off - 12))
        data = blob[off + 12:off + 12 + length]
        (data_crc,) = struct.unpack("<I", blob[off + 12 + length:off + 16 + length])
        if data_crc != masked_crc32c(data):
            raise Invalid("%s: data CRC mismatch (stored 0x%08x, computed 0x%08x)"
                          % (where, data_crc, masked_crc32c(data)))
        yield off, data
        off += 16 + length
        index += 1


def json_number(x):
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return x


def float32_value(x):
    """X (a float32 widened to double) with the fewest digits that round-trip."""
    if not math.isfinite(x):
        return json_number(x)
    packed = struct.pack("<f", x)
    for digits in range(1, 10):
        y = float("%.*g" % (digits, x))
        if struct.pack("<f", y) == packed:
            return y
    return x


def load_event_module(tmpdir):
    here = os.path.dirname(os.path.abspath(__file__))
    proto = os.path.join(here, "event.proto")
    try:
        subprocess.run(["protoc", "--proto_path=" + here, "--python_out=" + tmpdir, proto],
                       check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        raise RuntimeError("cannot compile %s with protoc: %s" % (proto, e))
    sys.path.insert(0, tmpdir)
    try:
        return importlib.import_module("event_pb2")
    except ImportError as e:
        raise RuntimeError("cannot import the generated module (is python3-protobuf installed?): %s" % e)


def decode(blob, event_pb2):
    from google.protobuf.message import DecodeError

    doc = {"file_version": None, "scalars": []}
    for index, (off, data) in enumerate(records(blob)):
        event = event_pb2.Event()
        try:
            event.ParseFromString(data)
        except DecodeError as e:
            raise Invalid("record %d at offset %d: not an Event: %s" % (index, off, e))
        what = event.WhichOneof("what")
        if index == 0:
            if what != "file_version" or event.file_version != FILE_VERSION:
                raise Invalid("first record is not file_version %r (got %s %r)"
                              % (FILE_VERSION, what, event.file_version))
            doc["file_version"] = event.file_version
            continue
        if what != "summary":
            continue
        for value in event.summary.value:
            if value.WhichOneof("value") != "simple_value":
                continue
            doc["scalars"].append({
                "tag": value.tag,
                "step": event.step,
                "value": float32_value(value.simple_value),
                "wall_time": json_number(event.wall_time),
            })
    if doc["file_version"] is None:
        raise Invalid("empty file: no file_version record")
    return doc


def main(argv):
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        print("usage: %s FILE" % PROG, file=sys.stderr)
        return 2
    path = argv[1]
    assert crc32c(b"123456789") == 0xE3069283
    try:
        with open(path, "rb") as f:
            blob = f.read()
    except OSError as e:
        print("%s: %s" % (PROG, e), file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="tb_decode.") as tmpdir:
        try:
            event_pb2 = load_event_module(tmpdir)
        except RuntimeError as e:
            print("%s: %s" % (PROG, e), file=sys.stderr)
            return 2
        try:
            doc = decode(blob, event_pb2)
        except Invalid as e:
            print("%s: %s: %s" % (PROG, path, e), file=sys.stderr)
            return 1
    json.dump(doc, sys.stdout, allow_nan=False, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
