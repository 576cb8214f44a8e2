"""Run `kiln serve` as a real separate process, for multi-replica and shutdown tests.

Async tests use `async with KilnProcess(...)` or `await KilnProcess(...).astart()`: starting
and stopping a replica waits, and must not block the loop the in-process server runs on."""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

import httpx

KILN = str(Path(sys.executable).with_name("kiln"))
# Multi-replica tests always use the machine's Redis, whatever the suite's mode.
REPLICA_REDIS = os.environ.get("KILN_TEST_REPLICA_REDIS_URL", "redis://127.0.0.1:6379/14")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class KilnProcess:
    def __init__(self, **env: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # No ready delay unless a test asks: a replica's exit would wait it out.
        self._env = {
            **os.environ,
            "KILN_LOG_LEVEL": "warning",
            "KILN_SHUTDOWN_READY_DELAY": "0",
            **env,
        }
        self._proc: subprocess.Popen[bytes] | None = None
        # A file, not a pipe: nobody drains a pipe while the replica runs, and a full one
        # would block it.
        self._log = tempfile.TemporaryFile()

    def start(self, timeout: float = 60.0) -> "KilnProcess":
        self._proc = subprocess.Popen(
            [KILN, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self._env,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"kiln serve exited: {self.stderr()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self._proc.kill()  # say what it was doing instead of leaving it running
        self._proc.wait()
        raise RuntimeError(f"kiln serve did not become healthy: {self.stderr()}")

    async def astart(self, timeout: float = 60.0) -> "KilnProcess":
        """`start` off the event loop: a test's loop also runs the in-process server, whose
        upkeep may be inside a SQLite transaction that the new replica's start-up waits on."""
        return await asyncio.to_thread(self.start, timeout)

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    def terminate(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        """Die as a crashed or OOM-killed replica would: no shutdown work at all."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()

    def wait(self, timeout: float = 30.0) -> int:
        assert self._proc is not None
        try:
            return self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            return self._proc.wait()

    def stderr(self) -> str:
        """What the process has written to stderr so far (read at an offset: the shared
        file position is the child's)."""
        size = os.fstat(self._log.fileno()).st_size
        return os.pread(self._log.fileno(), size, 0).decode(errors="replace")

    def __enter__(self) -> "KilnProcess":
        try:
            return self.start()
        except BaseException:
            self._log.close()
            raise

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.terminate()
        if self._proc is not None:
            self.wait()
        self._log.close()

    async def __aenter__(self) -> "KilnProcess":
        return await asyncio.to_thread(self.__enter__)

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await asyncio.to_thread(self.__exit__, kind, exc, tb)
