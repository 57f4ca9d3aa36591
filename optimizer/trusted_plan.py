"""A plan over the slots whose inputs can be trusted, the self-consumption rule after them.

Untrusted slots (prices the feed never published, forecasts without recent history) are
always a tail of the horizon or all of it, so the plan is: optimise the trusted head, then
let the rule run from the SoE the head ends at. The rule follows the real PV and load by
itself, so a wrong guess costs nothing there; a plan on invented prices or zeros could.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import numpy.typing as npt

from .baselines import slot_flows
from .model import assemble_plan, optimize
from .modes import plan_actions
from .physics import SELF_CONSUMPTION, Action
from .result import Plan, PlanStatus
from .site import FloatArray, Site, Tariff


def window(site: Site, start: int, stop: int, soe_kwh: float) -> Site:
    """Slots ``start:stop`` of ``site`` as a site of their own, starting at ``soe_kwh``."""
    tariff = site.tariff
    return replace(
        site,
        battery=replace(site.battery, soe_initial_kwh=soe_kwh),
        tariff=Tariff.of(
            tariff.import_price[start:stop],
            tariff.export_price[start:stop],
            tariff.export_premium[start:stop],
        ),
        pv_kw=site.pv_kw[start:stop],
        load_kw=site.load_kw[start:stop],
        pv_cap_kw=site.pv_cap_kw[start:stop],
        soe_windows=tuple(w for w in site.soe_windows if start <= w.slot < stop),
    )


def trusted_slots(trusted: npt.NDArray[np.bool_]) -> int:
    """How many leading slots are trusted (the plan stops at the first untrusted one)."""
    untrusted = np.flatnonzero(~trusted)
    return int(untrusted[0]) if untrusted.size else int(trusted.shape[0])


def plan_then_rule(site: Site, head: int, *, budget_s: float) -> tuple[Plan, tuple[Action, ...]]:
    """The plan and the modes to send: optimised over ``head`` slots, the rule after them."""
    if head >= site.slots:
        plan = optimize(site, budget_s=budget_s)
        return plan, tuple(plan_actions(site, plan))
    soe = site.battery.soe_initial_kwh
    actions: list[Action] = []
    planned: Plan | None = None
    if head > 0:
        head_site = window(site, 0, head, soe)
        planned = optimize(head_site, budget_s=budget_s)
        actions = plan_actions(head_site, planned)
        soe = float(planned.soe_kwh[-1])
    tail = slot_flows(window(site, head, site.slots, soe), lambda _slot, _soe: SELF_CONSUMPTION)
    columns = np.array(
        [
            (s.charge_kw, s.discharge_kw, s.import_kw, s.export_kw, s.pv_used_kw, s.soe_end_kwh)
            for s in tail
        ]
    ).T

    def joined(index: int, head_part: FloatArray | None) -> FloatArray:
        part: FloatArray = columns[index]
        return part if head_part is None else np.concatenate([head_part, part])

    p = planned
    plan = assemble_plan(
        site,
        charge=joined(0, None if p is None else p.charge_kw),
        discharge=joined(1, None if p is None else p.discharge_kw),
        imports=joined(2, None if p is None else p.import_kw),
        exports=joined(3, None if p is None else p.export_kw),
        pv_used=joined(4, None if p is None else p.pv_used_kw),
        unserved=np.concatenate(
            [np.zeros(0) if p is None else p.unserved_kw, np.zeros(site.slots - head)]
        ),
        soe=joined(5, None if p is None else p.soe_kwh),
        method="rule" if p is None else f"{p.method}+rule",
        seconds=(0.0, 0.0) if p is None else (p.build_seconds, p.solve_seconds),
    )
    status = PlanStatus.RULE if p is None else p.status
    plan = replace(plan, status=status, bound=None, gap=None if p is None else p.gap)
    return plan, (*actions, *([SELF_CONSUMPTION] * (site.slots - head)))
