"""Scheduled SoC policies become soft SoE targets: met in the plan when reachable, reported
when not."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from bess_dispatch_core.pleevi import Recurrence, SocPolicy
from optimizer.model import optimize
from optimizer.pleevi.policy_targets import missed_targets, policy_targets
from optimizer.site import Battery, Grid, Site, Tariff, Topology

TOKYO = ZoneInfo("Asia/Tokyo")
FRIDAY = datetime(2026, 11, 20, 0, 0, tzinfo=TOKYO)
SLOT_H = 0.5
SLOTS = 96  # Friday and Saturday
CAPACITY = 10.0
MORNING_80 = SocPolicy(80, 100, (time(6, 0),), Recurrence.WEEKDAYS)


def _slot_of(at: datetime) -> int:
    """The slot whose END is ``at``."""
    return int((at - FRIDAY) / timedelta(hours=SLOT_H)) - 1


def _morning_peak_site(policies: tuple[SocPolicy, ...], soe_initial: float = 5.0) -> Site:
    """A stand-alone battery that would rather sell everything at 05:00-07:00 every day."""
    hours = (np.arange(SLOTS) * SLOT_H) % 24
    prices = np.where((hours >= 5) & (hours < 7), 40.0, 10.0)
    targets = policy_targets(
        policies,
        start=FRIDAY,
        slots=SLOTS,
        slot_hours=SLOT_H,
        capacity_kwh=CAPACITY,
        timezone=TOKYO,
    )
    return Site.build(
        topology=Topology.STAND_ALONE,
        battery=Battery(
            capacity_kwh=CAPACITY,
            charge_max_kw=5.0,
            discharge_max_kw=5.0,
            soe_initial_kwh=soe_initial,
        ),
        grid=Grid(import_max_kw=20.0, export_max_kw=20.0),
        tariff=Tariff.of(prices, prices),
        slot_hours=SLOT_H,
        soe_windows=[target.window for target in targets],
    )


def test_weekday_policy_occurs_on_friday_only() -> None:
    assert FRIDAY.weekday() == 4
    targets = policy_targets(
        (MORNING_80,), start=FRIDAY, slots=SLOTS, slot_hours=SLOT_H, capacity_kwh=10, timezone=TOKYO
    )
    assert [target.at for target in targets] == [FRIDAY.replace(hour=6)]
    assert targets[0].window.slot == _slot_of(FRIDAY.replace(hour=6)) == 11
    assert (targets[0].window.min_kwh, targets[0].window.max_kwh) == (8.0, 10.0)
    daily = SocPolicy(20, 90, (time(6, 0), time(18, 15)), Recurrence.DAILY)
    daily_targets = policy_targets(
        (daily,), start=FRIDAY, slots=SLOTS, slot_hours=SLOT_H, capacity_kwh=10, timezone=TOKYO
    )
    assert len(daily_targets) == 4
    # 18:15 lies inside a slot: read at its end, 18:30.
    assert daily_targets[1].window.slot == _slot_of(FRIDAY.replace(hour=18, minute=30))


def test_at_least_80_percent_at_6_on_weekdays_is_met_in_the_plan() -> None:
    free = optimize(_morning_peak_site(()))
    six_friday = _slot_of(FRIDAY.replace(hour=6))
    six_saturday = _slot_of(FRIDAY.replace(hour=6) + timedelta(days=1))
    # Without the policy the battery is half empty at 06:00 (it sells from 05:00).
    assert free.soe_kwh[six_friday] < 8.0

    site = _morning_peak_site((MORNING_80,))
    plan = optimize(site)
    assert plan.soe_kwh[six_friday] >= 8.0 - 1e-6
    assert plan.violations == ()
    assert (
        missed_targets(
            plan,
            policy_targets(
                (MORNING_80,),
                start=FRIDAY,
                slots=SLOTS,
                slot_hours=SLOT_H,
                capacity_kwh=10,
                timezone=TOKYO,
            ),
        )
        == []
    )
    # Saturday is not a weekday: the battery sells as it likes.
    assert plan.soe_kwh[six_saturday] < 8.0


def test_an_unreachable_target_is_planned_as_close_as_possible_and_reported() -> None:
    early = SocPolicy(100, 100, (time(1, 0),), Recurrence.DAILY)  # 1 h from empty at 5 kW
    targets = policy_targets(
        (early,), start=FRIDAY, slots=SLOTS, slot_hours=SLOT_H, capacity_kwh=10, timezone=TOKYO
    )
    plan = optimize(_morning_peak_site((early,), soe_initial=0.0))
    missed = missed_targets(plan, targets)
    assert len(missed) == 1
    assert missed[0].at == FRIDAY.replace(hour=1)
    assert missed[0].planned_kwh == pytest.approx(5.0 * 0.95)  # as full as 1 h at 5 kW gets
    assert "wanted 10.00-10.00 kWh" in missed[0].describe
    assert {violation.kind for violation in plan.violations} == {"soe_window_min"}


def test_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        policy_targets(
            (MORNING_80,),
            start=datetime(2026, 11, 20),
            slots=4,
            slot_hours=SLOT_H,
            capacity_kwh=10,
            timezone=TOKYO,
        )
