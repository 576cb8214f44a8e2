"""Dify's `time` provider: current_time, timezone_conversion, timestamp_to_localtime,
localtime_to_timestamp, weekday — same names, parameters, defaults and answer texts, on
zoneinfo and the environment's clock."""

from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from app.integrations.tools.base import ToolCall, ToolError, ToolOutput
from app.integrations.tools.builtin.base import (
    BuiltinEnv,
    BuiltinProviderDef,
    BuiltinToolDef,
    param,
)

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
# Dify's current_time timezone options (any IANA name works).
TIMEZONES = (
    "UTC",
    "America/New_York",
    "America/Los_Angeles",
    "America/Chicago",
    "America/Sao_Paulo",
    "Asia/Shanghai",
    "Asia/Ho_Chi_Minh",
    "Asia/Tokyo",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Seoul",
    "Asia/Singapore",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Moscow",
    "Australia/Sydney",
    "Pacific/Auckland",
    "Africa/Cairo",
)
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except Exception:  # unknown names, bad paths: all "invalid" to the caller
        raise ToolError(f"Invalid timezone: {name!r}") from None


def _local_zone(env: BuiltinEnv) -> tzinfo:
    return env.clock().astimezone().tzinfo or UTC


async def current_time(args: dict[str, Any], env: BuiltinEnv, call: ToolCall) -> ToolOutput:
    zone_name = args.get("timezone") or "UTC"
    fmt = args.get("format") or "%Y-%m-%d %H:%M:%S %Z"
    now = env.clock()
    if zone_name == "UTC":
        return ToolOutput(text=now.astimezone(UTC).strftime(fmt))
    try:
        zone = ZoneInfo(zone_name)
    except Exception:
        return ToolOutput(text=f"Invalid timezone: {zone_name}")
    return ToolOutput(text=now.astimezone(zone).strftime(fmt))


async def timezone_conversion(args: dict[str, Any], env: BuiltinEnv, call: ToolCall) -> ToolOutput:
    current = args.get("current_time")
    source = _zone(str(args.get("current_timezone") or "Asia/Shanghai"))
    target = _zone(str(args.get("target_timezone") or "Asia/Tokyo"))
    try:
        local = datetime.strptime(str(current), TIME_FORMAT).replace(tzinfo=source)
    except ValueError as exc:
        raise ToolError(str(exc)) from None
    return ToolOutput(text=local.astimezone(target).strftime(TIME_FORMAT))


async def timestamp_to_localtime(
    args: dict[str, Any], env: BuiltinEnv, call: ToolCall
) -> ToolOutput:
    timestamp = args.get("timestamp")
    zone_name = args.get("timezone")
    zone = _zone(zone_name) if zone_name else _local_zone(env)
    try:
        local = datetime.fromtimestamp(float(timestamp), zone)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError, OSError) as exc:
        raise ToolError(str(exc)) from None
    return ToolOutput(text=local.strftime(TIME_FORMAT))


async def localtime_to_timestamp(
    args: dict[str, Any], env: BuiltinEnv, call: ToolCall
) -> ToolOutput:
    localtime = args.get("localtime")
    zone_name = args.get("timezone")
    zone = _zone(zone_name) if zone_name else _local_zone(env)
    try:
        local = datetime.strptime(str(localtime), TIME_FORMAT).replace(tzinfo=zone)
    except ValueError as exc:
        raise ToolError(str(exc)) from None
    return ToolOutput(text=str(int(local.timestamp())))


async def weekday(args: dict[str, Any], env: BuiltinEnv, call: ToolCall) -> ToolOutput:
    year, month, day = args.get("year"), args.get("month"), args.get("day")
    if month is None:
        raise ToolError("month is required")
    date: datetime | None = None
    try:
        y, m, d = int(year or 0), int(month), int(day or 0)
        if y >= 1 and 1 <= m <= 12 and 1 <= d <= 31:
            date = datetime(y, m, d)
    except (TypeError, ValueError):
        date = None
    if date is None:
        return ToolOutput(text=f"Invalid date: Year {year}, Month {month}, Day {day}.")
    readable = f"{_MONTHS[date.month]} {date.day}, {date.year}"
    return ToolOutput(text=f"{readable} is {_DAYS[date.weekday()]}.")


_ZONE_HELP = "Timezone, such as Asia/Shanghai"

PROVIDER = BuiltinProviderDef(
    name="time",
    label="CurrentTime",
    tools=(
        BuiltinToolDef(
            "current_time",
            "Current Time",
            "A tool for getting the current time.",
            (
                param(
                    "format",
                    description="Time format in strftime standard.",
                    form="form",
                    default="%Y-%m-%d %H:%M:%S",
                ),
                param(
                    "timezone",
                    "select",
                    description="Timezone",
                    form="form",
                    options=TIMEZONES,
                    default="UTC",
                ),
            ),
            current_time,
        ),
        BuiltinToolDef(
            "timezone_conversion",
            "convert time to equivalent time zone",
            "A tool to convert time to equivalent time zone",
            (
                param(
                    "current_time",
                    required=True,
                    description="current time, such as 2024-1-1 0:0:0",
                ),
                param(
                    "current_timezone",
                    required=True,
                    description="Current Timezone, such as Asia/Shanghai",
                    default="Asia/Shanghai",
                ),
                param(
                    "target_timezone",
                    required=True,
                    description="Target Timezone, such as Asia/Tokyo",
                    default="Asia/Tokyo",
                ),
            ),
            timezone_conversion,
        ),
        BuiltinToolDef(
            "timestamp_to_localtime",
            "Timestamp to localtime",
            "A tool for timestamp convert to localtime",
            (
                param("timestamp", "number", required=True, description="Timestamp"),
                param("timezone", description=_ZONE_HELP, default="Asia/Shanghai"),
            ),
            timestamp_to_localtime,
        ),
        BuiltinToolDef(
            "localtime_to_timestamp",
            "localtime to timestamp",
            "A tool for localtime convert to timestamp",
            (
                param("localtime", required=True, description="localtime, such as 2024-1-1 0:0:0"),
                param("timezone", description=_ZONE_HELP, default="Asia/Shanghai"),
            ),
            localtime_to_timestamp,
        ),
        BuiltinToolDef(
            "weekday",
            "Weekday Calculator",
            "A tool for calculating the weekday of a given date by year, month and day.",
            (
                param("year", "number", required=True, description="Year"),
                param("month", "number", required=True, description="Month"),
                param("day", "number", required=True, description="day"),
            ),
            weekday,
        ),
    ),
)
