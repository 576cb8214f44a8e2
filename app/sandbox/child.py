"""The forked sandbox child: confines itself first, then waits for one call, runs it and
writes one JSON answer to the result pipe, and exits. Its stdin, stdout and stderr are
/dev/null and it holds no other descriptor, so printing cannot reach the result channel
or the worker's protocol."""

import json
import os
from dataclasses import dataclass
from typing import Any, NoReturn

from app.sandbox import confine, js_runner, python_runner, templates

MEMORY_ERROR = "MemoryError: the code ran out of memory"


def _answer(result_w: int, answer: dict[str, Any]) -> None:
    try:
        data = json.dumps(answer, ensure_ascii=False).encode()
    except UnicodeEncodeError:  # lone surrogates: escape them
        data = json.dumps(answer).encode()
    except (TypeError, ValueError, RecursionError) as exc:
        message = f"{type(exc).__name__}: {exc}"
        data = json.dumps({"ok": False, "kind": "error", "error": message}).encode()
    view = memoryview(data)
    while view:
        view = view[os.write(result_w, view) :]


def _read_all(fd: int) -> bytes:
    chunks: list[bytes] = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def _run(call: dict[str, Any]) -> dict[str, Any]:
    kind = call["kind"]
    confine.apply_call_rlimits(
        int(call["memory_bytes"]), int(call["cpu_seconds"]), javascript=kind == "javascript"
    )
    if kind == "python3":
        return {"ok": True, "result": python_runner.run(call["code"], call["inputs"])}
    if kind == "javascript":
        result = js_runner.run(
            call["code"], call["inputs"], int(call["memory_bytes"]), float(call["timeout"])
        )
        return {"ok": True, "result": result}
    if kind == "template":
        output = templates.render(call["code"], call["inputs"], int(call["max_length"]))
        return {"ok": True, "output": output}
    return {"ok": False, "kind": "error", "error": f"unknown call kind {kind!r}"}


@dataclass(frozen=True)
class ChildSetup:
    """What a worker prepares once for all its children."""

    limits: confine.Limits
    readable: list[str]
    seccomp_program: bytes
    parent: int


def child_main(request_r: int, result_w: int, setup: ChildSetup, javascript: bool) -> NoReturn:
    """Runs in the freshly forked child; never returns (whatever happens, the child exits
    here and never goes back into the worker's code). A JavaScript child starts V8 (after
    confinement, so V8's threads are confined too) before it waits for its call."""
    try:
        _serve(request_r, result_w, setup, javascript)
    finally:
        os._exit(0)


def _serve(request_r: int, result_w: int, setup: ChildSetup, javascript: bool) -> None:
    try:
        confine.die_with_parent(setup.parent)
        os.setsid()  # no controlling terminal, its own process group
        devnull = os.open("/dev/null", os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        keep = sorted({0, 1, 2, request_r, result_w})
        os.closerange(3, keep[3])
        os.closerange(keep[3] + 1, keep[4])
        os.closerange(keep[4] + 1, 1 << 16)
        confine.confine(setup.limits, setup.readable, setup.seccomp_program)
        if javascript:
            js_runner.prepare()
    except BaseException as exc:  # noqa: BLE001 - refuse to run anything unconfined
        _answer(result_w, {"ok": False, "kind": "confinement", "error": f"{exc}"})
        return
    answer: dict[str, Any]
    try:
        call = json.loads(_read_all(request_r))
        os.close(request_r)
        answer = _run(call)
    except js_runner.JavaScriptTimeoutError as exc:
        answer = {"ok": False, "kind": "timeout", "error": f"{exc}"}
    except templates.TemplateTooLongError as exc:
        answer = {"ok": False, "kind": "too_large", "error": f"{exc}"}
    except python_runner.UserCodeError as exc:
        answer = {"ok": False, "kind": "error", "error": f"{exc}"}
    except MemoryError:
        answer = {"ok": False, "kind": "error", "error": MEMORY_ERROR}
    except BaseException as exc:  # noqa: BLE001 - reported, never raised
        answer = {"ok": False, "kind": "error", "error": f"{type(exc).__name__}: {exc}"}
    try:
        _answer(result_w, answer)
    except MemoryError:
        _answer(result_w, {"ok": False, "kind": "error", "error": MEMORY_ERROR})
    os.close(result_w)  # the worker answers on end of file, before this exit completes
