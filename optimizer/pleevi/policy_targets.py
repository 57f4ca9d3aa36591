"""Scheduled SoC policies -> the model's soft SoE windows, and the misses a plan reports.

A policy time ``06:00`` asks for the SoE at that moment, i.e. at the END of the slot ending
then; a time inside a slot is read at the end of that slot (the first moment the plan has
an SoE for). Times are wall clock in the site's time zone, so a daylight-saving day keeps
06:00 at 06:00. The model penalises a shortfall (or excess) far above any energy price, so
a reachable target is met and an unreachable one is planned as close as possible and
reported (:func:`missed_targets`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bess_dispatch_core.pleevi import SocPolicy
from bess_dispatch_core.units import soe_from_percent

from ..result import Plan
from ..site import SoeWindow

_TOL_KWH = 1e-6


@dataclass(frozen=True, slots=True)
class PolicyTarget:
    """One occurrence of a policy in the horizon: when, which slot, what range (kWh)."""

    at: datetime
    window: SoeWindow
    policy_index: int


@dataclass(frozen=True, slots=True)
class MissedTarget:
    at: datetime
    policy_index: int
    planned_kwh: float
    min_kwh: float
    max_kwh: float

    @property
    def describe(self) -> str:
        return (
            f"policy {self.policy_index} at {self.at.isoformat()}: planned "
            f"{self.planned_kwh:.2f} kWh, wanted {self.min_kwh:.2f}-{self.max_kwh:.2f} kWh"
        )


def policy_targets(
    policies: Sequence[SocPolicy],
    *,
    start: datetime,
    slots: int,
    slot_hours: float,
    capacity_kwh: float,
    timezone: ZoneInfo,
) -> tuple[PolicyTarget, ...]:
    """Every occurrence of every policy within (start, start + slots * slot_hours]."""
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    step = timedelta(hours=slot_hours)
    end = start + slots * step
    local_start = start.astimezone(timezone)
    targets: list[PolicyTarget] = []
    days = math.ceil(slots * slot_hours / 24) + 2
    for day in range(-1, days):
        date = (local_start + timedelta(days=day)).date()
        for index, policy in enumerate(policies):
            if not policy.recurrence.applies(date.weekday()):
                continue
            for moment in policy.times:
                at = datetime.combine(date, moment, tzinfo=timezone)
                if not start < at <= end:
                    continue
                # The slot whose end is at or just after ``at``.
                slot = math.ceil((at - start) / step) - 1
                window = SoeWindow(
                    slot=slot,
                    min_kwh=soe_from_percent(policy.minimum_soc, capacity_kwh),
                    max_kwh=soe_from_percent(policy.maximum_soc, capacity_kwh),
                )
                targets.append(PolicyTarget(at, window, index))
    return tuple(sorted(targets, key=lambda target: (target.at, target.policy_index)))


def missed_targets(plan: Plan, targets: Sequence[PolicyTarget]) -> list[MissedTarget]:
    """The targets the plan does not meet (what the plan page and log report)."""
    missed: list[MissedTarget] = []
    for target in targets:
        window = target.window
        planned = float(plan.soe_kwh[window.slot])
        high = math.inf if window.max_kwh is None else window.max_kwh
        if planned < window.min_kwh - _TOL_KWH or planned > high + _TOL_KWH:
            missed.append(
                MissedTarget(target.at, target.policy_index, planned, window.min_kwh, high)
            )
    return missed
