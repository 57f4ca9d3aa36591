"""The planner solves within the budget of the layers it plans for, and says how good the plan is.

The hard day is the issue's: a lossless battery and a fixed export price above most import
prices (down to -5), which once kept ``optimize`` busy for minutes inside the service.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from bess_dispatch_core.protocol import Priority
from optimizer.model import optimize
from optimizer.result import Plan, PlanStatus
from optimizer.service.planner import LAYER_BUDGET_S, PLAN_SLOTS, make_plan, plan_budget_s
from optimizer.service.prices import PriceTable
from optimizer.service.site_memory import SLOT, SiteMemory
from optimizer.service.status import PlanQuality
from optimizer.simulation.day_run import sample_site

T0 = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)


def hard_day() -> tuple[SiteMemory, PriceTable]:
    state = SiteMemory("demo-site", "Asia/Tokyo")
    state.observe_soe(4.0, T0)
    rng = np.random.default_rng(4)
    prices = {T0 + index * SLOT: float(rng.uniform(-5.0, 20.0)) for index in range(PLAN_SLOTS)}
    return state, PriceTable(prices, "hard day")


@pytest.mark.parametrize(
    ("layers", "budget"),
    [
        ({Priority.INTRADAY}, LAYER_BUDGET_S[Priority.INTRADAY]),
        ({Priority.DAY_AHEAD}, LAYER_BUDGET_S[Priority.DAY_AHEAD]),
        ({Priority.INTRADAY, Priority.DAY_AHEAD, Priority.FALLBACK}, 0.8),
        (set(), LAYER_BUDGET_S[Priority.DAY_AHEAD]),
    ],
)
def test_plan_budget_of_layers(layers: set[Priority], budget: float) -> None:
    assert plan_budget_s(layers) == budget


def test_p2_and_p1_budgets_are_well_under_a_second() -> None:
    assert LAYER_BUDGET_S[Priority.INTRADAY] < 0.5
    assert LAYER_BUDGET_S[Priority.DAY_AHEAD] < 1.0


def test_make_plan_passes_the_layer_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    budgets: list[float | None] = []

    def spy(site: Any, *, budget_s: float | None = None) -> Plan:
        budgets.append(budget_s)
        return optimize(site, budget_s=budget_s)

    monkeypatch.setattr("optimizer.service.planner.optimize", spy)
    state, prices = hard_day()
    settings = sample_site()
    make_plan(settings, state, prices, 16.0, T0, layers={Priority.INTRADAY})
    make_plan(settings, state, prices, 16.0, T0)
    assert budgets == [LAYER_BUDGET_S[Priority.INTRADAY], LAYER_BUDGET_S[Priority.DAY_AHEAD]]


def test_hard_price_day_gives_a_plan_with_its_quality() -> None:
    state, prices = hard_day()
    settings = replace(sample_site(), round_trip_efficiency=1.0)
    site_plan = make_plan(settings, state, prices, 16.0, T0, layers={Priority.INTRADAY})
    plan = site_plan.plan
    assert len(site_plan.actions) == PLAN_SLOTS
    assert plan.status in tuple(PlanStatus)
    quality = site_plan.quality
    assert quality == PlanQuality(plan.status.value, plan.gap, quality.solve_seconds)
    assert quality.solve_seconds == pytest.approx(plan.build_seconds + plan.solve_seconds)
    if plan.status is not PlanStatus.RULE:
        assert plan.gap is not None
        assert 0.0 <= plan.gap < 0.05
    assert site_plan.slot_starts[1] - site_plan.slot_starts[0] == timedelta(minutes=30)


def test_service_status_shows_the_plan_quality(offline_service: Any) -> None:
    site_id = sample_site().site_id
    assert offline_service.status(site_id).plan_quality is None
    state, prices = hard_day()
    runtime = offline_service._sites[site_id]
    runtime.plan = make_plan(runtime.settings, state, prices, 16.0, T0)
    assert offline_service.status(site_id).plan_quality == runtime.plan.quality
