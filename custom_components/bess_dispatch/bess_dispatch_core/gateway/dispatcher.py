"""Schedules in, control decisions out: the gateway's command side, free of any transport.

The dispatcher owns the schedule book and the owner's manual override. The HA layer (or
the demo's simulated site) hands it every ``cmd/`` payload and publishes the response it
returns, and asks it for the decision at every boundary, command and SoE update.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..protocol.command import Command, ControlMode, Priority, ScheduleEntry
from ..protocol.errors import ErrorCode, ProtocolError
from ..protocol.responses import CommandResponse
from ..protocol.schedule_book import PreparedCommand, ScheduleBook
from ..protocol.timeformat import format_datetime, is_aware, parse_datetime
from ..protocol.validation import CommandValidation, parse_command
from .control_law import ControlDecision, ControlSource, HardLimits, Intent, SiteState, decide
from .demand_response import DemandResponseBook

SOURCE_OF_PRIORITY = {
    Priority.INTRADAY: ControlSource.P2,
    Priority.DAY_AHEAD: ControlSource.P1,
    Priority.FALLBACK: ControlSource.P0,
}
_FORMAT = 1


@dataclass(frozen=True, slots=True)
class ManualOverride:
    """The owner's own mode, in force until ``until`` (None: until cleared)."""

    mode: ControlMode
    power_kw: float | None = None
    max_charge_kw: float | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        if self.mode is ControlMode.SETPOINT and self.power_kw is None:
            raise ValueError("power_kw is required for SETPOINT")
        if self.mode is ControlMode.LIMIT_CHARGE and self.max_charge_kw is None:
            raise ValueError("max_charge_kw is required for LIMIT_CHARGE")
        for name in ("power_kw", "max_charge_kw"):
            value = getattr(self, name)
            if value is not None and not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number")
        if self.max_charge_kw is not None and self.max_charge_kw < 0:
            raise ValueError("max_charge_kw must be >= 0")
        if self.until is not None and not is_aware(self.until):
            raise ValueError("until must carry a time zone")

    def intent(self) -> Intent:
        return Intent(self.mode, ControlSource.MANUAL, self.power_kw, self.max_charge_kw)

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode.value,
            "power_kw": self.power_kw,
            "max_charge_kw": self.max_charge_kw,
            "until": None if self.until is None else format_datetime(self.until),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ManualOverride:
        until = data.get("until")
        return cls(
            ControlMode(data["mode"]),
            data.get("power_kw"),
            data.get("max_charge_kw"),
            None if until is None else parse_datetime(until),
        )


@dataclass(frozen=True, slots=True)
class DispatchState:
    """Everything the entities show about control at one moment."""

    at: datetime
    decision: ControlDecision
    entry: ScheduleEntry | None
    command_id: str | None
    next_change: datetime | None
    horizon_end: datetime | None
    override: ManualOverride | None

    @property
    def following_schedule(self) -> bool:
        return self.decision.source in SOURCE_OF_PRIORITY.values()


def read_command(payload: bytes | str, *, now: datetime) -> CommandValidation | PreparedCommand:
    """The costly half of taking a command: validate and index it. Touches no dispatcher,
    so it can run on a worker thread; a rejection comes back as the validation result."""
    result = parse_command(payload, now=now)
    if result.value is None:
        return result
    return PreparedCommand(result.value)


class Dispatcher:
    """Schedule book + manual override + control law for one site."""

    def __init__(self, limits: HardLimits, *, book: ScheduleBook | None = None) -> None:
        self.limits = limits
        self.book = book if book is not None else ScheduleBook()
        self.override: ManualOverride | None = None
        self.demand_response = DemandResponseBook()
        # Held until cleared, across restarts; outranks every schedule and manual mode.
        self.emergency_stop = False
        self._last_setpoint: tuple[datetime, float] | None = None
        # Commands already told that the battery was unreachable while they applied.
        self._reported_unavailable: set[str] = set()

    def receive(self, payload: bytes | str, *, now: datetime) -> CommandResponse:
        """Validate and take a ``cmd/`` payload; the answer is for ``res/{siteId}/command``."""
        return self.take(read_command(payload, now=now), now=now)

    def take(self, read: CommandValidation | PreparedCommand, *, now: datetime) -> CommandResponse:
        """The quick half of ``receive``, after :func:`read_command` (maybe on another thread)."""
        if isinstance(read, PreparedCommand):
            return self.offer(read, now=now)
        return CommandResponse.rejected(
            in_reply_to=read.message_id, command_id=read.command_id, errors=read.errors, now=now
        )

    def offer(self, command: Command | PreparedCommand, *, now: datetime) -> CommandResponse:
        """Take an already parsed command (the load_schedule action uses this too)."""
        errors = self.book.offer(command, now=now)
        if isinstance(command, PreparedCommand):
            command = command.command
        if errors:
            return CommandResponse.rejected(
                in_reply_to=command.message_id,
                command_id=command.command_id,
                errors=errors,
                now=now,
            )
        return CommandResponse.accepted(
            in_reply_to=command.message_id, command_id=command.command_id, now=now
        )

    def set_override(self, override: ManualOverride, *, now: datetime) -> None:
        if override.until is not None and override.until <= now:
            raise ValueError("until must be in the future")
        self.override = override

    def clear_override(self) -> None:
        self.override = None

    def set_emergency_stop(self, held: bool) -> None:
        self.emergency_stop = held

    def evaluate(self, now: datetime, state: SiteState) -> DispatchState:
        """The decision in force at ``now``; also forgets what has ended by then."""
        until = None if self.override is None else self.override.until
        if until is not None and until <= now:
            self.override = None
        self.book.prune(now)
        self.demand_response.prune(now)
        resolved = self.book.resolve(now)
        event = self.demand_response.active(now)
        intent: Intent | None
        if self.override is not None:
            intent = self.override.intent()
        elif event is not None:
            intent = event.intent()
        elif resolved is not None:
            entry = resolved.entry
            intent = Intent(
                entry.mode,
                SOURCE_OF_PRIORITY[resolved.priority],
                entry.power_kw,
                entry.max_charge_kw,
            )
        else:
            intent = None
        previous_kw = elapsed_s = None
        if self._last_setpoint is not None:
            at, previous_kw = self._last_setpoint
            elapsed_s = max(0.0, (now - at).total_seconds())
        decision = decide(
            intent,
            self.limits,
            state,
            previous_setpoint_kw=previous_kw,
            elapsed_s=elapsed_s,
            emergency_stop=self.emergency_stop,
        )
        if decision.setpoint_kw is not None:
            self._last_setpoint = (now, decision.setpoint_kw)
        else:
            self._last_setpoint = None
        changes = [self.book.next_change(now), self.demand_response.next_change(now)]
        if self.override is not None:
            changes.append(self.override.until)
        return DispatchState(
            at=now,
            decision=decision,
            entry=None if resolved is None else resolved.entry,
            command_id=None if resolved is None else resolved.command_id,
            next_change=min((c for c in changes if c is not None), default=None),
            horizon_end=self.book.horizon_end(now),
            override=self.override,
        )

    def unavailable_response(
        self, state: DispatchState, *, now: datetime
    ) -> CommandResponse | None:
        """A later RESOURCE_UNAVAILABLE answer for the command in force, once per command.

        Called when the battery cannot be reached; None when no accepted command applies
        or this command was told already.
        """
        if not state.following_schedule or state.command_id is None:
            return None
        if state.command_id in self._reported_unavailable:
            return None
        self._reported_unavailable.add(state.command_id)
        error = ProtocolError(ErrorCode.RESOURCE_UNAVAILABLE, "", "the battery cannot be reached")
        command = next((c for c in self.book.commands if c.command_id == state.command_id), None)
        return CommandResponse.accepted(
            in_reply_to=None if command is None else command.message_id,
            command_id=state.command_id,
            now=now,
            errors=(error,),
        )

    def battery_reachable(self) -> None:
        """The battery answers again: a later outage is reported anew."""
        self._reported_unavailable.clear()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready state for a restart that resumes mid-schedule."""
        return {
            "format": _FORMAT,
            "book": self.book.to_dict(),
            "override": None if self.override is None else self.override.to_dict(),
            "emergency_stop": self.emergency_stop,
            "demand_response": self.demand_response.to_list(),
        }

    @classmethod
    def from_dict(cls, limits: HardLimits, data: object) -> Dispatcher:
        """Restore; anything that is not a dispatcher's ``to_dict`` raises ValueError."""
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            raise ValueError("not a stored dispatcher state (format 1)")
        dispatcher = cls(limits, book=ScheduleBook.from_dict(data.get("book")))
        override = data.get("override")
        if override is not None:
            try:
                dispatcher.override = ManualOverride.from_dict(override)
            except (KeyError, TypeError, ValueError) as err:
                raise ValueError(f"stored override is invalid: {err}") from err
        # Both keys are newer than format 1's first files: absent means none.
        dispatcher.emergency_stop = data.get("emergency_stop") is True
        dispatcher.demand_response = DemandResponseBook.from_list(data.get("demand_response", []))
        return dispatcher
