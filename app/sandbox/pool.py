"""The server side of the local sandbox: a small pool of worker processes, started lazily
with a minimal clean environment (never a fork of the server), used one call at a time
each, replaced when one dies or hangs. Calls await the worker's answer without blocking
the event loop; at most `code_sandbox_workers` calls run at once, the rest queue."""

import asyncio
import contextlib
import json
import math
import sys
from pathlib import Path
from typing import Any

from app.core.config import Settings
from app.sandbox import protocol, results
from app.sandbox.errors import SandboxError, SandboxUnavailableError, SandboxUnsupportedError

# The worker inherits nothing from the server's environment.
WORKER_ENV = {"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"}
START_TIMEOUT = 60.0  # seconds for a worker to import its modules and say hello
Reply = tuple[dict[str, Any], bytes]
REPLY_GRACE = 10.0  # seconds past the call's timeout before the worker itself is given up


class _WorkerProcess:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(
        cls, simulate_unsupported: str | None, warm_javascript: int
    ) -> tuple["_WorkerProcess", dict[str, Any]]:
        # -I: no PYTHON* variables, no user site, no working directory on sys.path.
        bootstrap = (
            f"import sys; sys.path.insert(0, {_import_root()!r}); "
            "from app.sandbox.worker import main; main()"
        )
        argv = [sys.executable, "-I", "-c", bootstrap, f"--warm-javascript={warm_javascript}"]
        if simulate_unsupported:
            argv.append(f"--simulate-unsupported={simulate_unsupported}")
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=WORKER_ENV,
            cwd="/",
            start_new_session=True,
        )
        worker = cls(process)
        try:
            hello, _ = await asyncio.wait_for(worker.read(), START_TIMEOUT)
        except BaseException:
            worker.kill()
            raise
        return worker, hello

    async def read(self) -> Reply:
        stdout = self.process.stdout
        assert stdout is not None
        header = await stdout.readexactly(protocol.HEADER.size)
        control_len, payload_len = protocol.decode_header(header)
        control = json.loads(await stdout.readexactly(control_len))
        payload = await stdout.readexactly(payload_len) if payload_len else b""
        if not isinstance(control, dict):
            raise ValueError("invalid reply")
        return control, payload

    async def request(
        self, control: dict[str, Any], payload: bytes
    ) -> tuple[dict[str, Any], bytes]:
        stdin = self.process.stdin
        assert stdin is not None
        stdin.write(protocol.encode(control, payload))
        await stdin.drain()
        return await self.read()

    def kill(self) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()

    async def close(self) -> None:
        self.kill()
        with contextlib.suppress(Exception):
            await self.process.wait()


def _import_root() -> str:
    """The directory holding the `app` package, so the worker imports this very code
    whether Kiln is installed or run from a checkout. Only modules the worker imported
    before confinement are usable from there: Landlock keeps the rest unreadable."""
    return str(Path(__file__).resolve().parents[2])


class LocalSandbox:
    """Runs calls in confined children of pre-started worker processes."""

    def __init__(self, settings: Settings, *, _simulate_unsupported: str | None = None) -> None:
        self._settings = settings
        self._simulate = _simulate_unsupported
        self._idle: list[_WorkerProcess] = []
        self._busy: set[_WorkerProcess] = set()
        self._slots: asyncio.Semaphore | None = None
        self._unsupported: str | None = None
        self._closed = False
        self._reaping: set[asyncio.Task[None]] = set()

    async def run_code(self, language: str, code: str, inputs: dict[str, Any]) -> dict[str, Any]:
        if language not in ("python3", "javascript"):
            raise SandboxError(f"Unsupported code language: {language}")
        answer = await self._call({"kind": language, "code": code, "inputs": inputs})
        return results.code_result(answer.get("result"))

    async def render_template(self, template: str, variables: dict[str, Any]) -> str:
        call = {
            "kind": "template",
            "code": template,
            "inputs": variables,
            "max_length": self._settings.template_transform_max_length,
        }
        output = (await self._call(call)).get("output")
        if not isinstance(output, str):
            raise SandboxError("The code sandbox returned an invalid answer")
        return output

    async def aclose(self) -> None:
        self._closed = True
        workers = [*self._idle, *self._busy]
        self._idle.clear()
        await asyncio.gather(*(worker.close() for worker in workers))

    async def _call(self, call: dict[str, Any]) -> dict[str, Any]:
        if self._closed:
            raise SandboxUnavailableError("The code sandbox is shut down")
        if self._unsupported:
            raise SandboxUnsupportedError(f"{results.REFUSED} ({self._unsupported})")
        settings = self._settings
        timeout = settings.code_execution_timeout
        call["memory_bytes"] = settings.code_sandbox_memory_mb * 1024 * 1024
        call["cpu_seconds"] = math.ceil(timeout) + 1
        call["timeout"] = timeout
        try:
            payload = json.dumps(call, ensure_ascii=False).encode("utf-8", "surrogatepass")
        except (TypeError, ValueError) as exc:
            raise SandboxError(f"The inputs cannot be passed to the sandbox: {exc}") from None
        control = {
            "timeout": timeout,
            "max_output_bytes": settings.code_sandbox_max_output_bytes,
            "javascript": call["kind"] == "javascript",
        }
        if self._slots is None:
            self._slots = asyncio.Semaphore(max(settings.code_sandbox_workers, 1))
        async with self._slots:
            worker = self._idle.pop() if self._idle else await self._start_worker()
            self._busy.add(worker)
            healthy = False
            try:
                reply, data = await asyncio.wait_for(
                    worker.request(control, payload), timeout + REPLY_GRACE
                )
                healthy = True
            except (OSError, EOFError, ValueError, asyncio.IncompleteReadError, TimeoutError):
                raise SandboxUnavailableError(
                    "The code sandbox worker stopped unexpectedly"
                ) from None
            finally:
                self._busy.discard(worker)
                if healthy and not self._closed:
                    self._idle.append(worker)
                else:  # dead, hung, or the call was cancelled mid-way: never reuse it
                    worker.kill()
                    task = asyncio.get_running_loop().create_task(worker.close())
                    self._reaping.add(task)
                    task.add_done_callback(self._reaping.discard)
        return results.worker_reply(
            reply,
            data,
            timeout=timeout,
            max_output_bytes=settings.code_sandbox_max_output_bytes,
        )

    async def _start_worker(self) -> _WorkerProcess:
        try:
            worker, hello = await _WorkerProcess.start(
                self._simulate, self._settings.code_sandbox_warm_javascript
            )
        except (OSError, EOFError, ValueError, asyncio.IncompleteReadError, TimeoutError):
            raise SandboxUnavailableError("The code sandbox worker could not start") from None
        if hello.get("status") == "unsupported":
            self._unsupported = str(hello.get("reason") or "unsupported kernel")
            await worker.close()
            raise SandboxUnsupportedError(f"{results.REFUSED} ({self._unsupported})")
        if hello.get("status") != "ready":
            await worker.close()
            raise SandboxUnavailableError("The code sandbox worker could not start")
        return worker
