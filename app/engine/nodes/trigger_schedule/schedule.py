"""A `trigger-schedule` node's schedule, as Dify reads it: `mode: cron` takes
`cron_expression` as written; `mode: visual` turns `frequency` (hourly, daily, weekly,
monthly) and `visual_config` (`on_minute`, `time` as "2:30 PM", `weekdays`,
`monthly_days` with `last`) into a cron expression. Fire times are computed by croniter
in the node's `timezone` (UTC by default), as Dify's schedule poller computes them."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from croniter.croniter import CroniterError

WEEKDAYS = {"sun": "0", "mon": "1", "tue": "2", "wed": "3", "thu": "4", "fri": "5", "sat": "6"}


class ScheduleError(ValueError):
    """The node's schedule cannot be read (Dify refuses to publish such a workflow)."""


@dataclass(frozen=True, slots=True)
class Schedule:
    cron: str
    timezone: str

    def next_after(self, moment: datetime) -> datetime:
        """The first fire time strictly after `moment`, in UTC."""
        local = moment.astimezone(ZoneInfo(self.timezone))
        following: datetime = croniter(self.cron, local).get_next(datetime)
        return following.astimezone(UTC)


def to_24h(text: str) -> tuple[int, int]:
    """`"2:30 PM"` → (14, 30); `"12:00 AM"` is midnight, `"12:00 PM"` noon."""
    parts = text.strip().split()
    if len(parts) != 2:
        raise ScheduleError(f"Invalid time format: '{text}'. Expected 'HH:MM AM/PM'")
    clock, period = parts[0], parts[1].upper()
    if period not in ("AM", "PM"):
        raise ScheduleError(f"Invalid period: '{period}'. Must be 'AM' or 'PM'")
    pieces = clock.split(":")
    if len(pieces) != 2 or not all(p.isdigit() for p in pieces):
        raise ScheduleError(f"Invalid time format: '{clock}'. Expected 'HH:MM'")
    hour, minute = int(pieces[0]), int(pieces[1])
    if not 1 <= hour <= 12:
        raise ScheduleError(f"Invalid hour: {hour}. Must be between 1 and 12")
    if not 0 <= minute <= 59:
        raise ScheduleError(f"Invalid minute: {minute}. Must be between 0 and 59")
    if period == "PM" and hour != 12:
        hour += 12
    elif period == "AM" and hour == 12:
        hour = 0
    return hour, minute


def _time_of(config: Mapping[str, Any], frequency: str) -> tuple[int, int]:
    text = config.get("time", "12:00 AM")
    if not text or not isinstance(text, str):
        raise ScheduleError(f"time is required for {frequency} schedules")
    return to_24h(text)


def visual_to_cron(frequency: str, config: Mapping[str, Any]) -> str:
    if frequency == "hourly":
        minute = config.get("on_minute", 0)
        if minute is None:
            raise ScheduleError("on_minute is required for hourly schedules")
        if not isinstance(minute, int) or isinstance(minute, bool) or not 0 <= minute <= 59:
            raise ScheduleError(f"on_minute must be a minute of the hour (0-59), not {minute!r}")
        return f"{minute} * * * *"
    if frequency == "daily":
        hour, minute = _time_of(config, frequency)
        return f"{minute} {hour} * * *"
    if frequency == "weekly":
        hour, minute = _time_of(config, frequency)
        days = config.get("weekdays")
        if not days:
            raise ScheduleError("Weekdays are required for weekly schedules")
        if not isinstance(days, list) or any(d not in WEEKDAYS for d in days):
            raise ScheduleError(f"weekdays must name days as {list(WEEKDAYS)}, not {days!r}")
        return f"{minute} {hour} * * {','.join(sorted(WEEKDAYS[d] for d in days))}"
    if frequency == "monthly":
        hour, minute = _time_of(config, frequency)
        days = config.get("monthly_days")
        if not days:
            raise ScheduleError("Monthly days are required for monthly schedules")
        return f"{minute} {hour} {_month_days(days)} * *"
    raise ScheduleError(f"Unsupported frequency: {frequency}")


def _month_days(days: Any) -> str:
    if not isinstance(days, list):
        raise ScheduleError(f"monthly_days must be a list, not {days!r}")
    numbers: set[int] = set()
    last = False
    for day in days:
        if day == "last":
            last = True
        elif isinstance(day, int | str) and not isinstance(day, bool) and str(day).isdigit():
            numbers.add(int(day))
        else:
            raise ScheduleError(f"monthly_days holds days 1-31 or 'last', not {day!r}")
    found = [str(d) for d in sorted(numbers)]
    return ",".join([*found, "L"] if last else found)


def _check_cron(expression: str, allow_seconds: bool) -> None:
    fields = expression.strip().split()
    allowed = (5, 6) if allow_seconds else (5,)
    if len(fields) not in allowed and not expression.startswith("@"):
        raise ScheduleError(
            "Cron expression must have exactly 5 fields or be a predefined expression "
            f"(@daily, @weekly, etc.). Got {len(fields)} fields: '{expression}'"
        )
    if not croniter.is_valid(expression):
        raise ScheduleError(f"Invalid cron expression: '{expression}'")


def read_schedule(data: Mapping[str, Any], *, allow_seconds: bool = False) -> Schedule:
    """The node's schedule, or ScheduleError naming what is wrong. `allow_seconds` takes a
    sixth (seconds) cron field: a test-only setting, Dify has none."""
    mode = data.get("mode") or "visual"
    timezone = data.get("timezone") or "UTC"
    if mode == "cron":
        expression = data.get("cron_expression")
        if not expression or not isinstance(expression, str):
            raise ScheduleError("Cron expression is required for cron mode")
    elif mode == "visual":
        config = data.get("visual_config") or {}
        if not isinstance(config, Mapping):
            raise ScheduleError("visual_config must be a mapping")
        expression = visual_to_cron(str(data.get("frequency")), config)
    else:
        raise ScheduleError(f"Invalid schedule mode: {mode}")
    _check_cron(expression, allow_seconds)
    try:
        ZoneInfo(str(timezone))
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"Invalid timezone: {timezone!r}") from None
    schedule = Schedule(expression.strip(), str(timezone))
    try:
        schedule.next_after(datetime.now(UTC))
    except (CroniterError, ValueError) as exc:  # a day that never comes (`0 0 31 2 *`)
        raise ScheduleError(f"Invalid cron expression: '{expression}' ({exc})") from None
    return schedule
