"""Framing between the server and a worker: each message is a small JSON control part and
an opaque payload (the call's JSON, forwarded to the child as is), each length-prefixed.

Server -> worker: control `{"timeout": s, "max_output_bytes": n}`, payload = the call.
Worker -> server: control `{"status": ...}`, payload = the child's answer (or empty).
The first worker -> server message is a hello: `{"status": "ready" | "unsupported", ...}`."""

import json
import os
import struct
from typing import Any

HEADER = struct.Struct(">II")
MAX_CONTROL_BYTES = 1 << 16


def encode(control: dict[str, Any], payload: bytes = b"") -> bytes:
    data = json.dumps(control).encode()
    return HEADER.pack(len(data), len(payload)) + data + payload


def decode_header(header: bytes) -> tuple[int, int]:
    control_len, payload_len = HEADER.unpack(header)
    if control_len > MAX_CONTROL_BYTES:
        raise ValueError("control part too large")
    return int(control_len), int(payload_len)


def _read_exactly(fd: int, size: int) -> bytearray | None:
    """Read into one mutable buffer (no intermediate copies), so the caller can wipe it."""
    buffer = bytearray(size)
    view = memoryview(buffer)
    done = 0
    while done < size:
        count = os.readv(fd, [view[done:]])
        if not count:
            return None
        done += count
    return buffer


def read_message(fd: int) -> tuple[dict[str, Any], bytearray] | None:
    """Blocking read of one message (worker side); None at end of input. The payload is
    a bytearray the worker wipes once forwarded (see `wipe`)."""
    header = _read_exactly(fd, HEADER.size)
    if header is None:
        return None
    control_len, payload_len = decode_header(bytes(header))
    control = _read_exactly(fd, control_len)
    payload = _read_exactly(fd, payload_len)
    if control is None or payload is None:
        return None
    parsed = json.loads(control)
    if not isinstance(parsed, dict):
        raise ValueError("control part is not an object")
    return parsed, payload


def wipe(buffer: bytearray) -> None:
    """Zero a buffer that held a call or an answer: the worker's next children are forks
    of its memory and must find nothing of earlier calls there."""
    buffer[:] = bytes(len(buffer))


def write_message(fd: int, control: dict[str, Any], payload: bytes | bytearray = b"") -> None:
    """Write one message without joining the payload into a new (unwipeable) bytes."""
    data = json.dumps(control).encode()
    write_all(fd, HEADER.pack(len(data), len(payload)) + data)
    write_all(fd, payload)


def write_all(fd: int, data: bytes | bytearray | memoryview) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
