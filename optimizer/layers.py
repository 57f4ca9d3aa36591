"""Plans as protocol schedules for the three layers: 3 h intraday, 48 h day-ahead, 1 year."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from bess_dispatch_core.protocol import (
    Command,
    ControlMode,
    Priority,
    ScheduleEconomics,
    ScheduleEntry,
)

from .physics import Action

LAYER_HORIZON = {
    Priority.INTRADAY: timedelta(hours=3),
    Priority.DAY_AHEAD: timedelta(hours=48),
    Priority.FALLBACK: timedelta(days=366),
}


def _entry(action: Action, start: datetime, end: datetime) -> ScheduleEntry:
    if action.mode is ControlMode.SETPOINT:
        return ScheduleEntry(start, end, ControlMode.SETPOINT, power_kw=action.power_kw)
    if action.mode is ControlMode.LIMIT_CHARGE:
        return ScheduleEntry(start, end, action.mode, max_charge_kw=action.max_charge_kw)
    return ScheduleEntry(start, end, action.mode)


def schedule_entries(
    actions: Sequence[Action], start: datetime, slot: timedelta, priority: Priority
) -> tuple[ScheduleEntry, ...]:
    """The first ``LAYER_HORIZON[priority]`` of ``actions``; equal neighbours merged."""
    if start.tzinfo is None:
        raise ValueError("start: must be timezone-aware")
    count = min(len(actions), int(LAYER_HORIZON[priority] / slot))
    entries: list[ScheduleEntry] = []
    run_start = 0
    for index in range(1, count + 1):
        if index == count or actions[index] != actions[run_start]:
            entries.append(
                _entry(actions[run_start], start + run_start * slot, start + index * slot)
            )
            run_start = index
    return tuple(entries)


def layer_command(
    actions: Sequence[Action],
    start: datetime,
    slot: timedelta,
    priority: Priority,
    *,
    command_id: str,
    now: datetime,
    economics: ScheduleEconomics | None = None,
) -> Command:
    return Command.create(
        command_id=command_id,
        priority=priority,
        schedule=schedule_entries(actions, start, slot, priority),
        now=now,
        economics=economics,
    )
