"""SingleFlight: concurrent callers for one key share one call; a failure reaches them all;
a cancelled caller leaves the call running for the others; a finished call is not reused."""

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from app.core.single_flight import SingleFlight


async def test_concurrent_callers_share_one_call() -> None:
    flight: SingleFlight[str, str] = SingleFlight()
    release = asyncio.Event()
    calls: list[str] = []

    def lookup(key: str) -> Callable[[], Awaitable[str]]:
        async def call() -> str:
            calls.append(key)
            await release.wait()
            return f"app of {key}"

        return call

    waiting = [asyncio.create_task(flight.run("key", lookup("key"))) for _ in range(50)]
    other = asyncio.create_task(flight.run("other", lookup("other")))
    await asyncio.sleep(0)
    release.set()
    assert set(await asyncio.gather(*waiting)) == {"app of key"}
    assert await other == "app of other"
    assert sorted(calls) == ["key", "other"]  # one call per key
    assert await flight.run("key", lookup("key")) == "app of key"
    assert sorted(calls) == ["key", "key", "other"]  # a finished call is not reused


async def test_a_failure_reaches_every_caller_and_the_next_call_retries() -> None:
    flight: SingleFlight[str, int] = SingleFlight()
    release = asyncio.Event()

    async def failing() -> int:
        await release.wait()
        raise RuntimeError("database down")

    waiting = [asyncio.create_task(flight.run("key", failing)) for _ in range(3)]
    await asyncio.sleep(0)
    release.set()
    for result in await asyncio.gather(*waiting, return_exceptions=True):
        assert isinstance(result, RuntimeError)

    async def working() -> int:
        return 7

    assert await flight.run("key", working) == 7


async def test_a_cancelled_caller_does_not_cancel_the_others() -> None:
    flight: SingleFlight[str, str] = SingleFlight()
    release = asyncio.Event()

    async def lookup() -> str:
        await release.wait()
        return "found"

    first = asyncio.create_task(flight.run("key", lookup))
    second = asyncio.create_task(flight.run("key", lookup))
    await asyncio.sleep(0)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    release.set()
    assert await second == "found"
