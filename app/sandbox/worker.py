"""A sandbox worker process (`python -I -m app.sandbox.worker`, started by the pool with a
clean environment). It imports what user code commonly needs once, keeps one forked and
already confined child waiting, and for each call hands the call to that child, waits
with a wall-clock deadline (SIGKILL past it), reads the answer (capped in bytes) and
sends it back. It talks to the server over descriptors it duplicated from stdin/stdout;
its own stdout becomes stderr so a stray print cannot corrupt the protocol."""

# Pre-imported so a forked child finds them ready (the fork is then cheap).
import base64  # noqa: F401
import collections  # noqa: F401
import datetime  # noqa: F401
import decimal  # noqa: F401
import functools  # noqa: F401
import gc
import hashlib  # noqa: F401
import itertools  # noqa: F401
import json  # noqa: F401
import math  # noqa: F401
import os
import random  # noqa: F401
import re  # noqa: F401
import select
import signal
import string  # noqa: F401
import sys
import time
import urllib.parse  # noqa: F401
import uuid  # noqa: F401
from dataclasses import dataclass
from typing import Any

import jinja2  # noqa: F401
import jinja2.sandbox  # noqa: F401
import py_mini_racer  # noqa: F401  (the module only; V8 starts in the child)

from app.sandbox import confine, protocol, seccomp
from app.sandbox.child import ChildSetup, child_main


@dataclass
class _Child:
    pid: int
    pidfd: int
    request_w: int
    result_r: int


class Worker:
    """Keeps one warm child for Python and templates, and (once JavaScript was asked for)
    `warm_javascript` with V8 already started (V8 takes ~50 ms of the child's own CPU to
    start, so spares let calls that come faster than that find one ready); each child
    serves one call and is replaced after it."""

    def __init__(self, limits: confine.Limits, warm_javascript: int = 1) -> None:
        self.setup = ChildSetup(
            limits=limits,
            readable=confine.read_paths(),
            seccomp_program=seccomp.build_seccomp_program(),
            parent=os.getpid(),
        )
        self.spares = {False: 1, True: max(warm_javascript, 1)}
        self.warm: dict[bool, list[_Child]] = {False: [], True: []}
        self.finished: list[_Child] = []

    def spawn(self, javascript: bool) -> _Child:
        request_r, request_w = os.pipe()
        result_r, result_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(request_w)
            os.close(result_r)
            child_main(request_r, result_w, self.setup, javascript)
        os.close(request_r)
        os.close(result_w)
        os.set_blocking(result_r, False)
        return _Child(pid, os.pidfd_open(pid), request_w, result_r)

    def replenish(self, javascript: bool) -> None:
        """Fork children up to the spare count (each starts itself: the fork is cheap)."""
        waiting = self.warm[javascript]
        while len(waiting) < self.spares[javascript]:
            waiting.append(self.spawn(javascript))

    def call(self, control: dict[str, Any], payload: bytearray) -> tuple[dict[str, Any], bytearray]:
        javascript = bool(control.get("javascript"))
        waiting = self.warm[javascript]
        child = waiting.pop(0) if waiting else self.spawn(javascript)  # the oldest is readiest
        timeout = float(control["timeout"])
        cap = int(control["max_output_bytes"])
        deadline = time.monotonic() + timeout
        try:
            protocol.write_all(child.request_w, payload)
        except BrokenPipeError:
            pass  # the child already exited (confinement failed): its answer says why
        os.close(child.request_w)
        try:
            return self._collect(child, deadline, cap)
        finally:
            self.finished.append(child)  # killed and reaped after the reply is sent

    def reap(self) -> None:
        """SIGKILL (if still running) and wait for the children of finished calls."""
        while self.finished:
            self._reap(self.finished.pop())

    def _collect(
        self, child: _Child, deadline: float, cap: int
    ) -> tuple[dict[str, Any], bytearray]:
        # Mutable buffers only, never reallocated (which would leave copies behind): the
        # answer's chunks are wiped here, the joined answer by the caller.
        chunks: list[bytearray] = []
        size = 0
        scratch = bytearray(1 << 16)
        view = memoryview(scratch)
        poller = select.poll()
        poller.register(child.result_r, select.POLLIN)
        eof = False
        try:
            while not eof:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not poller.poll(remaining * 1000):
                    return {"status": "timeout"}, bytearray()
                while True:
                    try:
                        count = os.readv(child.result_r, [view])
                    except BlockingIOError:
                        break
                    if not count:
                        eof = True
                        break
                    size += count
                    if size > cap:
                        return {"status": "too_large"}, bytearray()
                    chunks.append(bytearray(view[:count]))
            data = bytearray(b"").join(chunks)
        finally:
            view.release()
            protocol.wipe(scratch)
            for chunk in chunks:
                protocol.wipe(chunk)
        if data.endswith(b"}"):
            # The child closes its end right after a complete answer, before it exits:
            # no need to wait for its exit (tearing down its memory takes milliseconds).
            return {"status": "done"}, data
        # No (complete) answer: wait, still within the deadline, for the exit status.
        exit_poller = select.poll()
        exit_poller.register(child.pidfd, select.POLLIN)
        protocol.wipe(data)
        if not exit_poller.poll(max(deadline - time.monotonic(), 0) * 1000):
            return {"status": "timeout"}, bytearray()
        _, status = os.waitpid(child.pid, 0)
        child.pid = 0
        if os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            kind = "cpu" if sig == signal.SIGXCPU else "crashed"
            return {"status": kind, "signal": signal.Signals(sig).name}, bytearray()
        return {"status": "crashed", "signal": ""}, bytearray()

    def _reap(self, child: _Child) -> None:
        if child.pid:
            try:
                os.kill(child.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(child.pid, 0)
        os.close(child.pidfd)
        os.close(child.result_r)


def main() -> None:
    simulate = None
    warm_javascript = 1
    for arg in sys.argv[1:]:
        if arg.startswith("--simulate-unsupported="):
            simulate = arg.split("=", 1)[1]
        elif arg.startswith("--warm-javascript="):
            warm_javascript = int(arg.split("=", 1)[1])
    proto_in = os.dup(0)
    proto_out = os.dup(1)
    devnull = os.open("/dev/null", os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(2, 1)
    os.close(devnull)
    confine.die_with_parent(os.getppid())
    reason = confine.check_support(simulate)
    if reason:
        protocol.write_all(proto_out, protocol.encode({"status": "unsupported", "reason": reason}))
        # Stay until the server closes the pipe: it keeps refusing without respawning us.
        while protocol.read_message(proto_in) is not None:
            protocol.write_all(proto_out, protocol.encode({"status": "unsupported"}))
        return
    worker = Worker(confine.Limits(), warm_javascript)
    # Children are forks: keep their garbage collector off the worker's own objects, whose
    # pages would otherwise all be copied on the child's first collection.
    gc.freeze()
    worker.replenish(javascript=False)
    protocol.write_all(proto_out, protocol.encode({"status": "ready", "pid": os.getpid()}))
    while (message := protocol.read_message(proto_in)) is not None:
        control, payload = message
        try:
            reply, data = worker.call(control, payload)
        except OSError as exc:  # fork or pipe failed: report it, keep serving
            reply, data = {"status": "error", "error": f"{exc}"}, bytearray()
        protocol.wipe(payload)
        protocol.write_message(proto_out, reply, data)
        protocol.wipe(data)
        del payload, data
        worker.reap()
        try:
            worker.replenish(bool(control.get("javascript")))
        except OSError:
            pass  # the next call forks its own child


if __name__ == "__main__":
    main()
