"""Demand-response events: a utility asks the battery to discharge or charge less for a window.

An event is an override at the intraday (p2) level: while it runs it outranks every
schedule layer (a newer optimizer p2 command does not cancel it), and the owner's manual
mode and the emergency stop outrank it (the owner can always opt out). The control law's
hard limits bound it like anything else. Everything a utility sends is bounded: how far
ahead, how long, how many events are kept.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from ..protocol.command import ControlMode
from ..protocol.timeformat import format_datetime, is_aware, parse_datetime
from .control_law import ControlSource, Intent

MAX_EVENTS = 50  # kept events, ended ones included (the oldest ended go first)
MAX_DURATION = timedelta(hours=24)
MAX_LEAD = timedelta(days=7)  # how far ahead an event may start
KEEP_ENDED = timedelta(days=7)  # ended events stay readable this long
_EVENT_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class EventKind(StrEnum):
    DISCHARGE = "discharge"  # discharge at power_kw
    REDUCE_CHARGE = "reduce_charge"  # charge at most power_kw


class EventStatus(StrEnum):
    SCHEDULED = "scheduled"
    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class EventError(ValueError):
    """A refused event, naming the field; ``conflict`` for clashes rather than bad input."""

    def __init__(self, field: str, message: str, *, conflict: bool = False) -> None:
        super().__init__(message)
        self.field = field
        self.conflict = conflict


@dataclass(frozen=True, slots=True)
class DemandResponseEvent:
    event_id: str
    kind: EventKind
    start: datetime
    end: datetime
    power_kw: float
    requested_by: str = ""
    cancelled: bool = False

    def status(self, now: datetime) -> EventStatus:
        if self.cancelled:
            return EventStatus.CANCELLED
        if now < self.start:
            return EventStatus.SCHEDULED
        if now < self.end:
            return EventStatus.ACTIVE
        return EventStatus.COMPLETED

    def intent(self) -> Intent:
        if self.kind is EventKind.DISCHARGE:
            return Intent(ControlMode.SETPOINT, ControlSource.DEMAND_RESPONSE, -self.power_kw)
        return Intent(
            ControlMode.LIMIT_CHARGE, ControlSource.DEMAND_RESPONSE, max_charge_kw=self.power_kw
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "kind": self.kind.value,
            "start": format_datetime(self.start),
            "end": format_datetime(self.end),
            "power_kw": self.power_kw,
            "requested_by": self.requested_by,
            "cancelled": self.cancelled,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DemandResponseEvent:
        return cls(
            str(data["event_id"]),
            EventKind(data["kind"]),
            parse_datetime(data["start"]),
            parse_datetime(data["end"]),
            float(data["power_kw"]),
            str(data.get("requested_by", "")),
            bool(data.get("cancelled", False)),
        )


def check_event(event: DemandResponseEvent, *, now: datetime) -> None:
    """Raise EventError naming the first bad field."""
    if not _EVENT_ID.match(event.event_id):
        raise EventError("event_id", "1-64 letters, digits, '.', '_' or '-'")
    for field in ("start", "end"):
        if not is_aware(getattr(event, field)):
            raise EventError(field, "must carry a time zone")
    if not math.isfinite(event.power_kw) or event.power_kw < 0:
        raise EventError("power_kw", "must be a finite number >= 0")
    if event.end <= event.start:
        raise EventError("end", "must be after start")
    if event.end <= now:
        raise EventError("end", "must be in the future")
    if event.end - event.start > MAX_DURATION:
        raise EventError("end", f"an event lasts at most {MAX_DURATION.total_seconds() / 3600:g} h")
    if event.start > now + MAX_LEAD:
        raise EventError("start", f"must be within {MAX_LEAD.days} days from now")


class DemandResponseBook:
    """The events of one site, oldest first; at most one runs at a time."""

    def __init__(self) -> None:
        self._events: list[DemandResponseEvent] = []

    @property
    def events(self) -> tuple[DemandResponseEvent, ...]:
        return tuple(self._events)

    def get(self, event_id: str) -> DemandResponseEvent | None:
        return next((e for e in self._events if e.event_id == event_id), None)

    def add(self, event: DemandResponseEvent, *, now: datetime) -> None:
        """Take a new event; EventError (nothing changed) when it is bad or clashes."""
        check_event(event, now=now)
        self.prune(now)
        if self.get(event.event_id) is not None:
            raise EventError("event_id", "an event with this id exists", conflict=True)
        for other in self._events:
            if other.status(now) in (EventStatus.SCHEDULED, EventStatus.ACTIVE) and (
                event.start < other.end and other.start < event.end
            ):
                raise EventError("start", f"overlaps event {other.event_id!r}", conflict=True)
        if len(self._events) >= MAX_EVENTS:
            ended = [e for e in self._events if e.status(now) not in _LIVE]
            if not ended:
                raise EventError(
                    "event_id", f"at most {MAX_EVENTS} events may be pending", conflict=True
                )
            self._events.remove(ended[0])
        self._events.append(event)
        self._events.sort(key=lambda e: e.start)

    def cancel(self, event_id: str, *, now: datetime) -> DemandResponseEvent:
        """Cancel a scheduled or running event; KeyError if unknown, EventError if ended."""
        event = self.get(event_id)
        if event is None:
            raise KeyError(event_id)
        if event.status(now) not in _LIVE:
            raise EventError("event_id", f"the event is {event.status(now).value}", conflict=True)
        cancelled = replace(event, cancelled=True)
        self._events[self._events.index(event)] = cancelled
        return cancelled

    def active(self, now: datetime) -> DemandResponseEvent | None:
        return next((e for e in self._events if e.status(now) is EventStatus.ACTIVE), None)

    def next_change(self, now: datetime) -> datetime | None:
        """The next start or end of a live event after ``now``."""
        times = [
            t for e in self._events if e.status(now) in _LIVE for t in (e.start, e.end) if t > now
        ]
        return min(times, default=None)

    def prune(self, now: datetime) -> None:
        """Forget events that ended more than KEEP_ENDED ago."""
        self._events = [e for e in self._events if e.end > now - KEEP_ENDED]

    def to_list(self) -> list[dict[str, Any]]:
        return [event.to_dict() for event in self._events]

    @classmethod
    def from_list(cls, data: object) -> DemandResponseBook:
        if not isinstance(data, list):
            raise ValueError("demand-response events must be a list")
        book = cls()
        try:
            book._events = sorted(
                (DemandResponseEvent.from_dict(item) for item in data[:MAX_EVENTS]),
                key=lambda e: e.start,
            )
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"stored demand-response event is invalid: {err}") from err
        return book


_LIVE = (EventStatus.SCHEDULED, EventStatus.ACTIVE)
