"""What the optimizer service exposes to the plan page and REST API (read-only view)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bess_dispatch_core.protocol.alert import Severity
from bess_dispatch_core.protocol.envelope import check_id


@dataclass(frozen=True)
class PlanPoint:
    start: datetime
    soe_kwh: float
    battery_kw: float
    price: float
    pv_kw: float
    load_kw: float
    past: bool


@dataclass(frozen=True)
class PlanQuality:
    """How good the current plan is: ``optimizer.result.PlanStatus`` value and its gap."""

    status: str  # "optimal", "feasible", "relaxation_repaired", "rule"
    gap: float | None  # relative distance to the best bound; None: no bound known
    solve_seconds: float


@dataclass(frozen=True)
class PlanEconomics:
    """What the current plan is expected to cost over its horizon, under its own forecasts.

    ``plan_cost`` is the modes actually sent, simulated slot by slot on the forecast (not the
    plan's own optimum); all three are net of the value of the energy left at the end.
    """

    horizon_hours: float
    plan_cost: float
    rule_cost: float  # the battery's own self-consumption over the same horizon
    no_battery_cost: float

    @property
    def saving_vs_rule(self) -> float:
        return self.rule_cost - self.plan_cost

    @property
    def saving_vs_no_battery(self) -> float:
        return self.no_battery_cost - self.plan_cost


@dataclass(frozen=True, slots=True)
class PlanAlert:
    """A condition of the plan's inputs (codes in :mod:`.plan_alerts`), spelt as the
    protocol spells alert codes."""

    code: str
    severity: Severity
    message: str

    def __post_init__(self) -> None:
        check_id(self.code, "code")


@dataclass(frozen=True)
class RealisedEconomics:
    """What the battery saved over the last days, from measured telemetry.

    ``actual_cost`` is what the site's grid exchange cost at the prices of the time; the rule
    and no battery are simulated on the same measured PV and load. The battery's three are
    net of the change in stored energy over the span (valued as the planner values it).
    """

    hours: float  # measured hours covered (slots with PV, load, SoE and a price)
    actual_cost: float
    rule_cost: float
    no_battery_cost: float

    @property
    def saving_vs_rule(self) -> float:
        return self.rule_cost - self.actual_cost

    @property
    def saving_vs_no_battery(self) -> float:
        return self.no_battery_cost - self.actual_cost


@dataclass(frozen=True)
class PolicyMiss:
    """A scheduled SoC policy the current plan cannot meet: when, what it plans, what the
    policy wants (kWh)."""

    at: datetime
    planned_kwh: float
    min_kwh: float
    max_kwh: float


@dataclass(frozen=True)
class SiteStatus:
    site_id: str
    connected: bool
    last_telemetry: datetime | None
    soe_kwh: float | None
    last_plan_at: datetime | None
    layers: dict[str, str | None]  # "p2"/"p1"/"p0" -> last command_id
    last_error: str | None
    plan_quality: PlanQuality | None = None  # None: no plan yet
    plan_economics: PlanEconomics | None = None  # None: no plan yet
    policy_misses: tuple[PolicyMiss, ...] = ()  # scheduled SoC policies the plan misses
    alerts: tuple[PlanAlert, ...] = ()  # the current plan's untrusted inputs
    realised: RealisedEconomics | None = None  # None: not enough measured slots yet


class StatusSource(Protocol):
    def site_ids(self) -> list[str]: ...
    def status(self, site_id: str) -> SiteStatus: ...  # KeyError if unknown
    def plan(self, site_id: str) -> list[PlanPoint]: ...  # KeyError if unknown
