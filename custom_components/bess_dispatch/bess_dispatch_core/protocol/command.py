"""Battery schedule commands (``cmd/{siteId}/battery/power``): one priority layer each."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Any

from .economics import ScheduleEconomics
from .envelope import Envelope, check_aware, check_id
from .errors import ErrorCode, ProtocolError
from .timeformat import format_datetime
from .wire import encode

MAX_POWER_KW = 100_000.0  # beyond any site this protocol serves: a unit mix-up (W as kW)
# A 1-year half-hour schedule (17,520 entries, about 1.8 MB) fits, as it does in one broker
# packet (limits.MAX_PACKET_BYTES); this bounds the work a command can cause.
MAX_SCHEDULE_ENTRIES = 21_000


class ControlMode(StrEnum):
    """What the battery does during an entry; values are the wire strings."""

    SETPOINT = "SETPOINT"
    NO_DISCHARGE = "NO_DISCHARGE"
    LIMIT_CHARGE = "LIMIT_CHARGE"
    IDLE = "IDLE"
    SELF_CONSUMPTION = "SELF_CONSUMPTION"


class Priority(IntEnum):
    """Schedule layers (docs/protocol.md); a higher value wins."""

    FALLBACK = 0  # 1-year layer, weekly
    DAY_AHEAD = 1  # 48-hour layer, every 6 h
    INTRADAY = 2  # 3-hour layer, every 30 min


def entry_problems(
    start: datetime,
    end: datetime,
    mode: ControlMode,
    *,
    power_kw: float | None,
    max_charge_kw: float | None,
    path: str,
) -> list[ProtocolError]:
    """Semantic problems of one schedule entry (types are already right)."""
    problems: list[ProtocolError] = []

    def add(code: ErrorCode, field: str, message: str) -> None:
        problems.append(ProtocolError(code, f"{path}.{field}" if path else field, message))

    if start >= end:
        add(ErrorCode.TIME_WINDOW_INVALID, "end", "end must be after start")
    for field, value in (("power_kw", power_kw), ("max_charge_kw", max_charge_kw)):
        if value is not None and (not math.isfinite(value) or abs(value) > MAX_POWER_KW):
            add(ErrorCode.FIELD_OUT_OF_RANGE, field, f"must be finite and within ±{MAX_POWER_KW:g}")
    if mode is ControlMode.SETPOINT and power_kw is None:
        add(ErrorCode.MISSING_FIELD, "power_kw", "SETPOINT needs power_kw")
    if mode is ControlMode.IDLE and power_kw not in (None, 0):
        add(ErrorCode.FIELD_OUT_OF_RANGE, "power_kw", "IDLE means 0 kW")
    if mode not in (ControlMode.SETPOINT, ControlMode.IDLE) and power_kw is not None:
        add(ErrorCode.FIELD_OUT_OF_RANGE, "power_kw", f"power_kw does not apply to {mode.value}")
    if mode is ControlMode.LIMIT_CHARGE:
        if max_charge_kw is None:
            add(ErrorCode.MISSING_FIELD, "max_charge_kw", "LIMIT_CHARGE needs max_charge_kw")
        elif max_charge_kw < 0:
            add(ErrorCode.FIELD_OUT_OF_RANGE, "max_charge_kw", "must not be negative")
    elif max_charge_kw is not None:
        add(ErrorCode.FIELD_OUT_OF_RANGE, "max_charge_kw", "only LIMIT_CHARGE takes max_charge_kw")
    return problems


def find_overlaps(intervals: Sequence[tuple[datetime, datetime]]) -> list[tuple[int, int]]:
    """``(index, earlier_index)`` for every interval starting before an earlier one ends."""
    order = sorted(range(len(intervals)), key=lambda i: intervals[i][0])
    overlaps = []
    latest_end: datetime | None = None
    latest_index = -1
    for index in order:
        start, end = intervals[index]
        if latest_end is not None and start < latest_end:
            overlaps.append((index, latest_index))
        if latest_end is None or end > latest_end:
            latest_end, latest_index = end, index
    return overlaps


@dataclass(frozen=True, slots=True)
class ScheduleEntry:
    """One period of a schedule: ``start <= t < end``.

    ``power_kw`` is positive when charging and negative when discharging (AC side).
    """

    start: datetime
    end: datetime
    mode: ControlMode = ControlMode.SETPOINT
    power_kw: float | None = None
    max_charge_kw: float | None = None

    def __post_init__(self) -> None:
        check_aware(self.start, "start")
        check_aware(self.end, "end")
        object.__setattr__(self, "mode", ControlMode(self.mode))
        for field in ("power_kw", "max_charge_kw"):
            value = getattr(self, field)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int | float)
            ):
                raise ValueError(f"{field} must be a number")
        problems = entry_problems(
            self.start,
            self.end,
            self.mode,
            power_kw=self.power_kw,
            max_charge_kw=self.max_charge_kw,
            path="",
        )
        if problems:
            raise ValueError("; ".join(str(problem) for problem in problems))

    def to_dict(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "start": format_datetime(self.start),
            "end": format_datetime(self.end),
            "mode": self.mode.value,
        }
        if self.power_kw is not None:
            document["power_kw"] = self.power_kw
        if self.max_charge_kw is not None:
            document["max_charge_kw"] = self.max_charge_kw
        return document


@dataclass(frozen=True, slots=True)
class Command:
    """A schedule for one priority layer; accepted or rejected as a whole.

    ``economics`` (optional) is what the plan behind it is expected to cost.
    """

    envelope: Envelope
    command_id: str
    issued_at: datetime
    priority: Priority
    schedule: tuple[ScheduleEntry, ...]
    economics: ScheduleEconomics | None = None

    def __post_init__(self) -> None:
        check_id(self.command_id, "command_id")
        check_aware(self.issued_at, "issued_at")
        priority: object = self.priority  # callers may pass a plain int (or worse)
        if isinstance(priority, bool) or priority not in tuple(Priority):
            raise ValueError(f"priority must be one of 0, 1, 2, got {priority!r}")
        object.__setattr__(self, "priority", Priority(self.priority))
        object.__setattr__(self, "schedule", tuple(self.schedule))
        if not self.schedule:
            raise ValueError("schedule must not be empty")
        if len(self.schedule) > MAX_SCHEDULE_ENTRIES:
            raise ValueError(f"schedule has more than {MAX_SCHEDULE_ENTRIES} entries")
        for index, entry in enumerate(self.schedule):
            if not isinstance(entry, ScheduleEntry):
                raise ValueError(f"schedule[{index}] is not a ScheduleEntry")
        overlaps = find_overlaps([(entry.start, entry.end) for entry in self.schedule])
        if overlaps:
            raise ValueError(
                "; ".join(f"schedule[{i}] overlaps schedule[{j}]" for i, j in overlaps)
            )
        if self.economics is not None and not isinstance(self.economics, ScheduleEconomics):
            raise ValueError("economics is not a ScheduleEconomics")

    @classmethod
    def create(
        cls,
        *,
        command_id: str,
        priority: Priority,
        schedule: Sequence[ScheduleEntry],
        now: datetime,
        economics: ScheduleEconomics | None = None,
    ) -> Command:
        """A new command issued and sent at ``now``."""
        envelope = Envelope.new(now)
        return cls(envelope, command_id, envelope.sent_at, priority, tuple(schedule), economics)

    @property
    def message_id(self) -> str:
        return self.envelope.message_id

    @property
    def start(self) -> datetime:
        """Start of the earliest entry."""
        return min(entry.start for entry in self.schedule)

    @property
    def end(self) -> datetime:
        """End of the latest entry."""
        return max(entry.end for entry in self.schedule)

    def to_dict(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            **self.envelope.to_dict(),
            "command_id": self.command_id,
            "issued_at": format_datetime(self.issued_at),
            "priority": int(self.priority),
            "schedule": [entry.to_dict() for entry in self.schedule],
        }
        if self.economics is not None:
            document["economics"] = self.economics.to_dict()
        return document

    def to_payload(self) -> bytes:
        return encode(self.to_dict())
