"""optimize() always answers within its budget: optimum, best point with its gap, repaired
relaxation, or the rule; every answer keeps the rules and the limits."""

import math
import time

import numpy as np
import pytest

from optimizer import model
from optimizer.model import grid_charged_kw, optimize
from optimizer.random_sites import hard_site, random_site
from optimizer.result import Plan, PlanStatus
from optimizer.site import Site


def assert_keeps_rules_and_limits(site: Site, plan: Plan) -> None:
    battery, grid = site.battery, site.grid
    assert plan.max_simultaneity_kw() <= 1e-6
    assert np.all(grid_charged_kw(site, plan.charge_kw, plan.pv_used_kw) <= 1e-6)
    assert np.all(plan.charge_kw <= battery.charge_max_kw + 1e-6)
    assert np.all(plan.discharge_kw <= battery.discharge_max_kw + 1e-6)
    assert np.all(plan.import_kw <= grid.import_max_kw + 1e-6)
    assert np.all(plan.pv_used_kw <= site.pv_available_kw + 1e-6)
    balance = plan.pv_used_kw + plan.import_kw + plan.discharge_kw + plan.unserved_kw
    assert balance - plan.charge_kw - plan.export_kw == pytest.approx(site.load_kw, abs=1e-6)
    assert np.all(plan.soe_kwh >= battery.soe_min_kwh - 1e-6)
    assert np.all(plan.soe_kwh <= battery.soe_max + 1e-6)


def test_hard_class_answers_within_budget_with_its_gap() -> None:
    site = hard_site(np.random.default_rng(0))
    started = time.perf_counter()
    plan = optimize(site, budget_s=0.3)
    elapsed = time.perf_counter() - started
    # Not a speed test: only that the budget bounds the wait (this class once took 844 s).
    assert elapsed < 10.0
    assert plan.status in (PlanStatus.FEASIBLE, PlanStatus.RELAXATION_REPAIRED)
    assert plan.bound is not None
    assert plan.gap is not None
    assert plan.bound <= plan.objective
    assert 0.0 < plan.gap < 0.1
    assert_keeps_rules_and_limits(site, plan)


def test_unlimited_budget_proves_optimality() -> None:
    site = random_site(np.random.default_rng(3), slots=24)
    plan = optimize(site)
    assert plan.status is PlanStatus.OPTIMAL
    assert plan.gap is not None
    assert plan.gap <= 1e-9
    assert_keeps_rules_and_limits(site, plan)


@pytest.mark.parametrize("seed", range(12))
def test_random_sites_keep_rules_in_a_tiny_budget(seed: int) -> None:
    site = random_site(np.random.default_rng(seed))
    plan = optimize(site, budget_s=0.05)
    assert_keeps_rules_and_limits(site, plan)
    if plan.gap is not None:
        assert plan.gap >= 0.0


def no_point(*_args: object, **_kwargs: object) -> model._Outcome:
    return model._Outcome(None, -math.inf, optimal=False)


def test_no_branch_and_bound_point_uses_the_repaired_relaxation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    site = hard_site(np.random.default_rng(1), slots=48)
    real_run = model._run

    def lp_only(built: model._Model, **kwargs: object) -> model._Outcome:
        return no_point() if built.integer else real_run(built, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(model, "_run", lp_only)
    plan = optimize(site, budget_s=1.0)
    assert plan.status is PlanStatus.RELAXATION_REPAIRED
    assert plan.method in ("lp+repair", "lp+polish")
    assert plan.gap is not None
    assert plan.gap > 0
    assert_keeps_rules_and_limits(site, plan)


def test_no_solver_answer_falls_back_to_the_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    site = random_site(np.random.default_rng(5), slots=48)
    monkeypatch.setattr(model, "_run", no_point)
    plan = optimize(site, budget_s=0.2)
    assert plan.status is PlanStatus.RULE
    assert plan.method == "rule"
    assert plan.gap is None
    assert plan.bound is None
    assert_keeps_rules_and_limits(site, plan)


@pytest.mark.parametrize("budget", [0.0, -1.0, math.nan, math.inf])
def test_bad_budget(budget: float) -> None:
    site = random_site(np.random.default_rng(0), slots=4)
    with pytest.raises(ValueError, match="budget_s"):
        optimize(site, budget_s=budget)
