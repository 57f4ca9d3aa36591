"""What one optimisation returns: per-slot flows, SoE, costs, goal violations, solve facts."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from .site import FloatArray


@dataclass(frozen=True, slots=True)
class Violation:
    """A soft goal the plan could not meet: what, at the end of which slot, by how much."""

    kind: str  # "soe_window_min", "soe_window_max", "terminal_target", "soe_min", ...
    slot: int
    amount_kwh: float


class PlanStatus(StrEnum):
    """How good a plan is, best first (see :func:`optimizer.model.optimize`)."""

    OPTIMAL = "optimal"  # proven optimal
    FEASIBLE = "feasible"  # the time budget ran out; best branch-and-bound point
    RELAXATION_REPAIRED = "relaxation_repaired"  # the LP relaxation made rule-keeping
    RULE = "rule"  # no solver answer in time: the self-consumption rule


@dataclass(frozen=True, slots=True)
class Plan:
    """A dispatch (how good: ``status``). Powers are slot averages in kW; SoE at slot END."""

    charge_kw: FloatArray  # AC side for AC-link, DC side for DC-link
    discharge_kw: FloatArray
    import_kw: FloatArray
    export_kw: FloatArray
    pv_used_kw: FloatArray
    unserved_kw: FloatArray
    soe_kwh: FloatArray
    energy_cost: float  # imports minus export revenue (incl. premium), currency
    cycle_cost: float
    terminal_value: float  # credit for the energy left at the end
    penalty_cost: float
    objective: float  # energy + cycle - terminal + penalties - FCR revenue: what was minimised
    violations: tuple[Violation, ...]
    method: str  # "lp" (relaxation already exact), "lp+repair", "mip", "rule", "pulp-<solver>"
    build_seconds: float
    solve_seconds: float
    status: PlanStatus = PlanStatus.OPTIMAL
    # Best lower bound on the optimal objective known when the plan was chosen (None: none),
    # and the relative gap (objective - bound) / max(|objective|, 1): 0 when proven optimal.
    bound: float | None = None
    gap: float | None = 0.0
    # FCR capacity kept per block of ``site.fcr`` (kW; empty without FCR) and what the
    # offerable blocks earn at the forecast price x aggregator share (already in objective).
    fcr_kw: FloatArray = field(default_factory=lambda: np.zeros(0))
    fcr_revenue: float = 0.0

    @property
    def battery_kw(self) -> FloatArray:
        """+ charges, - discharges, as in the protocol."""
        return self.charge_kw - self.discharge_kw

    @property
    def grid_kw(self) -> FloatArray:
        """+ imports, - exports."""
        return self.import_kw - self.export_kw

    @property
    def slots(self) -> int:
        return int(self.soe_kwh.shape[0])

    def max_simultaneity_kw(self) -> float:
        """Largest min(charge, discharge) or min(import, export) in any slot (0 when exact)."""
        both_battery = np.minimum(self.charge_kw, self.discharge_kw)
        both_grid = np.minimum(self.import_kw, self.export_kw)
        return float(max(np.max(both_battery), np.max(both_grid)))
