"""The worker pool: concurrency, refusal on an unsupported kernel, dead or hung workers,
cancelled calls, the public interface."""

import asyncio
import os
import signal
import time

import pytest

from app.sandbox.base import build_sandbox
from app.sandbox.confine import check_support
from app.sandbox.errors import (
    SandboxError,
    SandboxUnavailableError,
    SandboxUnsupportedError,
)
from app.sandbox.pool import LocalSandbox
from app.sandbox.remote import RemoteSandbox
from tests.sandbox.conftest import sandbox_settings

PID = "import os\ndef main(i):\n    return {'i': i, 'worker': os.getppid()}\n"


def test_this_machine_supports_confinement() -> None:
    assert check_support() is None


async def test_twenty_calls_at_once(sandbox: LocalSandbox) -> None:
    started = time.perf_counter()
    calls = [sandbox.run_code("python3", PID, {"i": i}) for i in range(20)]
    calls += [
        sandbox.run_code("javascript", "function main({i}) { return {i} }", {"i": i})
        for i in range(5)
    ]
    calls += [sandbox.render_template("{{ i }}", {"i": i}) for i in range(5)]
    results = await asyncio.gather(*calls)
    assert [r["i"] for r in results[:20]] == list(range(20))  # type: ignore[index]
    assert [r["i"] for r in results[20:25]] == list(range(5))  # type: ignore[index]
    assert results[25:] == [str(i) for i in range(5)]
    workers = {r["worker"] for r in results[:20]}  # type: ignore[index]
    assert 1 <= len(workers) <= 4
    assert time.perf_counter() - started < 15


async def test_the_event_loop_is_not_blocked(sandbox: LocalSandbox) -> None:
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    code = "import time\ndef main():\n    time.sleep(0.5)\n    return {}\n"
    await sandbox.run_code("python3", code, {})
    ticker.cancel()
    assert ticks >= 10  # 50 on an idle machine; the loop was never held for long


async def test_unsupported_kernel_refuses_to_run() -> None:
    box = LocalSandbox(sandbox_settings(), _simulate_unsupported="Landlock")
    try:
        with pytest.raises(SandboxUnsupportedError) as info:
            await box.run_code("python3", "def main():\n    return {}\n", {})
        assert info.value.message == (
            "Code execution refused: the sandbox cannot be confined on this machine "
            "(Landlock is not available (simulated))"
        )
        with pytest.raises(SandboxUnsupportedError):
            await box.render_template("hi", {})
        with pytest.raises(SandboxUnsupportedError):
            await box.run_code("javascript", "function main() { return {} }", {})
    finally:
        await box.aclose()


def test_check_support_names_the_missing_feature() -> None:
    assert check_support("seccomp") == "seccomp is not available (simulated)"


async def test_a_killed_worker_is_replaced() -> None:
    box = LocalSandbox(sandbox_settings(code_sandbox_workers=1))
    try:
        first = await box.run_code("python3", PID, {"i": 1})
        code = "import time\ndef main():\n    time.sleep(5)\n    return {}\n"
        call = asyncio.create_task(box.run_code("python3", code, {}))
        await asyncio.sleep(0.3)
        os.kill(int(first["worker"]), signal.SIGKILL)
        with pytest.raises(SandboxUnavailableError) as info:
            await call
        assert info.value.message == "The code sandbox worker stopped unexpectedly"
        second = await box.run_code("python3", PID, {"i": 2})
        assert second["i"] == 2 and second["worker"] != first["worker"]
    finally:
        await box.aclose()


async def test_a_cancelled_call_leaves_the_pool_usable() -> None:
    box = LocalSandbox(sandbox_settings(code_sandbox_workers=1))
    try:
        code = "import time\ndef main():\n    time.sleep(30)\n    return {}\n"
        call = asyncio.create_task(box.run_code("python3", code, {}))
        await asyncio.sleep(0.3)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        assert (await box.run_code("python3", PID, {"i": 3}))["i"] == 3
    finally:
        await box.aclose()


async def test_closed_sandbox_refuses() -> None:
    box = LocalSandbox(sandbox_settings())
    await box.run_code("python3", PID, {"i": 0})
    await box.aclose()
    with pytest.raises(SandboxUnavailableError):
        await box.run_code("python3", PID, {"i": 0})


async def test_build_sandbox_chooses_by_settings() -> None:
    local = build_sandbox(sandbox_settings())
    remote = build_sandbox(sandbox_settings(code_execution_endpoint="http://127.0.0.1:1"))
    assert isinstance(local, LocalSandbox)
    assert isinstance(remote, RemoteSandbox)
    await local.aclose()
    await remote.aclose()


async def test_memory_setting_applies() -> None:
    box = LocalSandbox(sandbox_settings(code_sandbox_memory_mb=256))
    try:
        code = "def main():\n    x = bytearray(300 * 1024 * 1024)\n    return {}\n"
        with pytest.raises(SandboxError, match="MemoryError"):
            await box.run_code("python3", code, {})
        code = "def main():\n    x = bytearray(50 * 1024 * 1024)\n    return {'n': len(x)}\n"
        assert await box.run_code("python3", code, {}) == {"n": 50 * 1024 * 1024}
    finally:
        await box.aclose()
