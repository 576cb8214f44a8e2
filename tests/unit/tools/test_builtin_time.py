"""Dify's time tools on a fixed clock (2024-03-09 16:30:05 UTC, a Saturday)."""

import pytest

from app.integrations.tools.base import ToolError
from tests.unit.tools.support import CALL, ref, toolbox


async def run(tool: str, **arguments: object) -> str:
    output = await toolbox().invoke(ref("time", tool), dict(arguments), CALL)
    return output.text


async def test_current_time_defaults_and_zones() -> None:
    assert await run("current_time") == "2024-03-09 16:30:05"
    assert await run("current_time", timezone="Asia/Tokyo") == "2024-03-10 01:30:05"
    assert await run("current_time", timezone="America/New_York", format="%H:%M %Z") == "11:30 EST"
    assert await run("current_time", format="") == "2024-03-09 16:30:05 UTC"
    assert await run("current_time", timezone="Mars/Olympus") == "Invalid timezone: Mars/Olympus"


async def test_timezone_conversion() -> None:
    converted = await run(
        "timezone_conversion",
        current_time="2024-1-1 0:0:0",
        current_timezone="Asia/Shanghai",
        target_timezone="Europe/London",
    )
    assert converted == "2023-12-31 16:00:00"
    assert await run("timezone_conversion", current_time="2024-06-01 12:00:00") == (
        "2024-06-01 13:00:00"  # the defaults: Asia/Shanghai to Asia/Tokyo
    )
    with pytest.raises(ToolError, match="Invalid timezone: 'Nowhere'"):
        await run(
            "timezone_conversion", current_time="2024-01-01 00:00:00", target_timezone="Nowhere"
        )
    with pytest.raises(ToolError, match="does not match format"):
        await run("timezone_conversion", current_time="yesterday")


async def test_timestamps_both_ways() -> None:
    assert await run("timestamp_to_localtime", timestamp="1710001805") == "2024-03-10 00:30:05"
    assert await run("timestamp_to_localtime", timestamp=0, timezone="UTC") == "1970-01-01 00:00:00"
    assert await run("localtime_to_timestamp", localtime="2024-03-10 00:30:05") == "1710001805"
    assert (
        await run("localtime_to_timestamp", localtime="1970-01-01 00:00:00", timezone="UTC") == "0"
    )
    with pytest.raises(ToolError):
        await run("localtime_to_timestamp", localtime="not a time")


async def test_weekday() -> None:
    assert await run("weekday", year=2024, month=3, day=9) == "March 9, 2024 is Saturday."
    assert await run("weekday", year="2000", month="1", day="1") == "January 1, 2000 is Saturday."
    assert (
        await run("weekday", year=2023, month=2, day=30)
        == "Invalid date: Year 2023, Month 2, Day 30."
    )
    with pytest.raises(ToolError, match="month"):
        await run("weekday", year=2024, day=1)
