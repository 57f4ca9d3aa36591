"""Scheduled SoC policies: "between min and max SoC at these times", daily or on weekdays.

Encoded in a device entry's ``policies`` list as (docs/pleevi.md)::

    {"type": "scheduled_soc", "minimum_soc": 80, "maximum_soc": 100,
     "schedule": {"times": ["06:00"], "recurrence": "weekdays"}}

Times are wall-clock ``HH:MM`` in the site's time zone; SoC is % of operational capacity.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from enum import StrEnum
from typing import Any

from .errors import PleeviValueError, echo, percent

POLICY_TYPE = "scheduled_soc"
# A day has 1,440 minutes: more times than that can only repeat one.
MAX_TIMES = 1_440
MAX_POLICIES = 50


class Recurrence(StrEnum):
    DAILY = "daily"
    WEEKDAYS = "weekdays"  # Monday to Friday

    def applies(self, weekday: int) -> bool:
        """``weekday`` as :meth:`datetime.weekday` (Monday 0)."""
        return self is Recurrence.DAILY or weekday < 5


@dataclass(frozen=True, slots=True)
class SocPolicy:
    minimum_soc: float
    maximum_soc: float
    times: tuple[time, ...]
    recurrence: Recurrence = Recurrence.DAILY

    def __post_init__(self) -> None:
        low = percent("minimum_soc", self.minimum_soc)
        high = percent("maximum_soc", self.maximum_soc)
        if low > high:
            raise PleeviValueError("minimum_soc", f"must be <= maximum_soc ({high:g}), got {low:g}")
        if not self.times:
            raise PleeviValueError("schedule.times", "needs at least one time")

    @classmethod
    def from_dict(cls, data: object, field: str = "policy") -> SocPolicy:
        """Validate one policy object; PleeviValueError names the field (``field.…``)."""
        if not isinstance(data, Mapping):
            raise PleeviValueError(field, f"must be an object, got {echo(data)}")
        if data.get("type") != POLICY_TYPE:
            raise PleeviValueError(
                f"{field}.type", f"must be {POLICY_TYPE!r}, got {echo(data.get('type'))}"
            )
        schedule = data.get("schedule")
        if not isinstance(schedule, Mapping):
            raise PleeviValueError(f"{field}.schedule", f"must be an object, got {echo(schedule)}")
        raw_times = schedule.get("times")
        if not isinstance(raw_times, list) or not raw_times:
            raise PleeviValueError(f"{field}.schedule.times", "must be a non-empty list")
        if len(raw_times) > MAX_TIMES:
            raise PleeviValueError(f"{field}.schedule.times", f"at most {MAX_TIMES} times")
        times = tuple(
            _time(f"{field}.schedule.times[{index}]", item) for index, item in enumerate(raw_times)
        )
        try:
            recurrence = Recurrence(schedule.get("recurrence", Recurrence.DAILY))
        except ValueError:
            raise PleeviValueError(
                f"{field}.schedule.recurrence",
                f"must be 'daily' or 'weekdays', got {echo(schedule.get('recurrence'))}",
            ) from None
        try:
            return cls(data.get("minimum_soc"), data.get("maximum_soc"), times, recurrence)  # type: ignore[arg-type]
        except PleeviValueError as error:
            raise PleeviValueError(f"{field}.{error.field}", str(error).split(": ", 1)[1]) from None

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": POLICY_TYPE,
            "minimum_soc": self.minimum_soc,
            "maximum_soc": self.maximum_soc,
            "schedule": {
                "times": [moment.strftime("%H:%M") for moment in self.times],
                "recurrence": self.recurrence.value,
            },
        }


def policies_from_list(data: object, field: str = "policies") -> tuple[SocPolicy, ...]:
    if not isinstance(data, list):
        raise PleeviValueError(field, f"must be a list, got {echo(data)}")
    if len(data) > MAX_POLICIES:
        raise PleeviValueError(field, f"at most {MAX_POLICIES} policies")
    return tuple(SocPolicy.from_dict(item, f"{field}[{index}]") for index, item in enumerate(data))


def _time(field: str, value: object) -> time:
    if (
        not isinstance(value, str)
        or len(value) != 5
        or value[2] != ":"
        or not (value[:2].isdigit() and value[3:].isdigit())
    ):
        raise PleeviValueError(field, f"must be a time HH:MM, got {echo(value)}")
    try:
        return time(int(value[:2]), int(value[3:]))
    except ValueError:
        raise PleeviValueError(field, f"must be a time HH:MM, got {echo(value)}") from None
