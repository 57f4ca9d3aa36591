"""A plan over the trusted head of the horizon, the self-consumption rule after it."""

from __future__ import annotations

import numpy as np
import pytest

from bess_dispatch_core.protocol import ControlMode
from optimizer.baselines import self_consumption_rule
from optimizer.model import optimize
from optimizer.result import PlanStatus
from optimizer.site import Battery, Grid, Site, Tariff, Topology
from optimizer.trusted_plan import plan_then_rule, trusted_slots, window

SLOTS = 48


def spread_site() -> Site:
    """Cheap nights, a dear evening, some PV at midday: a plan differs from the rule."""
    hours = np.arange(SLOTS) * 0.5
    prices = np.where((hours >= 17) & (hours < 22), 40.0, 12.0)
    pv = np.clip(3.0 * np.sin((hours - 6) / 12 * np.pi), 0.0, None)
    return Site.build(
        topology=Topology.AC_LINK,
        battery=Battery(
            capacity_kwh=10.0,
            charge_max_kw=5.0,
            discharge_max_kw=5.0,
            soe_initial_kwh=2.0,
            soe_min_kwh=1.0,
            soe_max_kwh=9.5,
            charge_efficiency=0.95,
            discharge_efficiency=0.95,
        ),
        grid=Grid(100.0, 100.0),
        tariff=Tariff.of(prices, np.full(SLOTS, 8.0)),
        pv_kw=pv,
        load_kw=np.full(SLOTS, 0.6),
    )


def test_trusted_slots_is_the_leading_run() -> None:
    assert trusted_slots(np.array([True, True, False, True])) == 2
    assert trusted_slots(np.array([False, True])) == 0
    assert trusted_slots(np.ones(5, dtype=np.bool_)) == 5


def test_all_trusted_is_the_plain_plan() -> None:
    site = spread_site()
    plan, actions = plan_then_rule(site, SLOTS, budget_s=5.0)
    assert plan.objective == pytest.approx(optimize(site, budget_s=5.0).objective)
    assert len(actions) == SLOTS


def test_nothing_trusted_is_the_rule() -> None:
    site = spread_site()
    plan, actions = plan_then_rule(site, 0, budget_s=5.0)
    rule = self_consumption_rule(site)
    assert plan.status is PlanStatus.RULE
    assert plan.method == "rule"
    assert np.allclose(plan.soe_kwh, rule.soe_kwh)
    assert plan.energy_cost == pytest.approx(rule.energy_cost)
    assert all(action.mode is ControlMode.SELF_CONSUMPTION for action in actions)


def test_head_planned_then_the_rule_from_where_it_ends() -> None:
    site = spread_site()
    head = 40  # to 20:00: the evening peak is partly inside
    plan, actions = plan_then_rule(site, head, budget_s=5.0)
    head_plan = optimize(window(site, 0, head, 2.0), budget_s=5.0)
    assert np.allclose(plan.soe_kwh[:head], head_plan.soe_kwh)
    tail = self_consumption_rule(window(site, head, SLOTS, float(head_plan.soe_kwh[-1])))
    assert np.allclose(plan.soe_kwh[head:], tail.soe_kwh)
    assert plan.method.endswith("+rule")
    assert plan.status is head_plan.status
    assert all(action.mode is ControlMode.SELF_CONSUMPTION for action in actions[head:])
    assert any(action.mode is not ControlMode.SELF_CONSUMPTION for action in actions[:head])
    assert len(plan.charge_kw) == len(plan.import_kw) == len(plan.unserved_kw) == SLOTS
