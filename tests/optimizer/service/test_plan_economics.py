"""The plan's expected saving against the rule and no battery, as the plan page shows it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from optimizer.service.planner import PLAN_SLOTS, build_site, make_plan
from optimizer.service.prices import PriceTable
from optimizer.service.site_memory import SLOT, SiteMemory
from optimizer.simulation.day_run import sample_site

T0 = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)


def spread_day() -> tuple[SiteMemory, PriceTable]:
    """Cheap nights, dear evenings: a battery earns from the spread."""
    state = SiteMemory("demo-site", "Asia/Tokyo")
    state.observe_soe(2.0, T0)
    hours = (np.arange(PLAN_SLOTS) * 0.5 + 9) % 24  # T0 is 09:00 in Tokyo
    prices = np.where((hours >= 17) & (hours < 22), 40.0, 12.0)
    return state, PriceTable({T0 + i * SLOT: float(p) for i, p in enumerate(prices)}, "spread")


def test_expected_saving_of_the_modes_sent() -> None:
    state, prices = spread_day()
    settings = sample_site()
    site_plan = make_plan(settings, state, prices, 8.0, T0)
    economics = site_plan.economics
    assert economics is not None
    assert economics.horizon_hours == pytest.approx(48.0)
    assert economics.saving_vs_rule == pytest.approx(economics.rule_cost - economics.plan_cost)
    assert economics.saving_vs_no_battery == pytest.approx(
        economics.no_battery_cost - economics.plan_cost
    )
    # Charging at 12 for the 40 evening beats waiting for the sun, whatever the forecast.
    assert economics.saving_vs_rule > 0
    assert economics.saving_vs_no_battery > economics.saving_vs_rule
    # The modes sent, not the plan's own optimum: never better than the optimum.
    site = build_site(
        settings,
        2.0,
        prices=site_plan.prices,
        export_price=8.0,
        pv_kw=site_plan.pv_kw,
        load_kw=site_plan.load_kw,
    )
    optimum = site_plan.plan.energy_cost + site_plan.plan.cycle_cost - site_plan.plan.terminal_value
    assert economics.plan_cost >= optimum - 1e-6
    assert site.slots == PLAN_SLOTS


def test_service_status_shows_the_expected_saving(offline_service: Any) -> None:
    site_id = sample_site().site_id
    assert offline_service.status(site_id).plan_economics is None
    state, prices = spread_day()
    runtime = offline_service._sites[site_id]
    runtime.plan = make_plan(runtime.settings, state, prices, 8.0, T0)
    assert offline_service.status(site_id).plan_economics == runtime.plan.economics
