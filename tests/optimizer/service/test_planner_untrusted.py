"""The planner at the forecast level: untrusted prices or history -> the rule, with an alert."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from bess_dispatch_core.protocol import ControlMode
from optimizer.result import PlanStatus
from optimizer.service.plan_alerts import PRICES_MISSING, TELEMETRY_GAP
from optimizer.service.planner import PLAN_SLOTS, make_plan
from optimizer.service.prices import PriceTable
from optimizer.service.site_memory import SLOT, PastSlot, SiteMemory
from optimizer.simulation.day_run import sample_site

T0 = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)  # 09:00 in Tokyo


def spread_prices(slots: int, first: datetime = T0) -> PriceTable:
    hours = (np.arange(slots) * 0.5 + 9) % 24
    prices = np.where((hours >= 17) & (hours < 22), 40.0, 12.0)
    return PriceTable({first + i * SLOT: float(p) for i, p in enumerate(prices)}, "spread")


def measured_state(days_back: range) -> SiteMemory:
    """A site that measured 0.5 kW of load and no PV on the given days before T0."""
    state = SiteMemory("demo-site", "Asia/Tokyo")
    state.observe_soe(2.0, T0)
    local_midnight = T0.replace(hour=15) - timedelta(days=1)  # 00:00 Tokyo on T0's day
    for back in days_back:
        for index in range(48):
            start = local_midnight - timedelta(days=back) + index * SLOT
            state.measured[start] = PastSlot(start, 0.0, 0.5, 0.0, 2.0)
    return state


def test_recent_history_and_prices_plan_without_alerts() -> None:
    site_plan = make_plan(sample_site(), measured_state(range(1, 4)), spread_prices(96), 8.0, T0)
    assert site_plan.alerts == ()
    assert site_plan.plan.status is not PlanStatus.RULE
    assert any(a.mode is not ControlMode.SELF_CONSUMPTION for a in site_plan.actions)


def test_a_price_feed_short_of_the_horizon_plans_what_it_knows() -> None:
    # The feed published 12 h, two days ago, then stopped: repeated at most two days, those
    # cover the first 12 h of the horizon.
    prices = spread_prices(24, T0 - timedelta(days=2))
    site_plan = make_plan(sample_site(), measured_state(range(1, 4)), prices, 8.0, T0)
    (alert,) = site_plan.alerts
    assert alert.code == PRICES_MISSING
    assert alert.message.startswith("prices known for 12 of the 48 h horizon")
    assert all(a.mode is ControlMode.SELF_CONSUMPTION for a in site_plan.actions[24:])
    assert len(site_plan.actions) == PLAN_SLOTS
    # Stored energy is valued on the trusted prices only.
    assert np.isfinite(site_plan.plan.objective)


def test_a_gap_of_days_plans_the_rule_everywhere() -> None:
    state = measured_state(range(9, 30))  # nothing in the last eight days
    site_plan = make_plan(sample_site(), state, spread_prices(96), 8.0, T0)
    (alert,) = site_plan.alerts
    assert alert.code == TELEMETRY_GAP
    assert "telemetry covers 0 of the last 7 days" in alert.message
    assert site_plan.plan.status is PlanStatus.RULE
    assert all(a.mode is ControlMode.SELF_CONSUMPTION for a in site_plan.actions)
    # The plan page and the economics still describe it: the rule against no battery.
    assert site_plan.economics is not None
    assert site_plan.economics.saving_vs_rule == 0.0


def test_a_new_site_does_not_plan_on_its_zero_starting_profiles() -> None:
    state = SiteMemory("demo-site", "Asia/Tokyo")
    state.observe_soe(2.0, T0)
    site_plan = make_plan(sample_site(), state, spread_prices(96), 8.0, T0)
    assert [alert.code for alert in site_plan.alerts] == [TELEMETRY_GAP]
    assert all(a.mode is ControlMode.SELF_CONSUMPTION for a in site_plan.actions)
