"""One planning round for one site: options + state + forecasts -> Site -> plan -> layers.

The plan covers 48 h from the current slot (the p1 layer's reach); p2 sends its first 3 h.
p0, the one-year fallback, is the self-consumption rule: a year ahead no forecast is worth
anything, and the rule is what the battery does safely on its own.

Every solve has a wall-time budget: the plan is made with the budget of the layers it is
made for, and ``optimize`` answers within it (its best point, with the gap in the plan).

Inputs that cannot be trusted are never planned on: slots past the prices the feed covers,
and the whole horizon while the measured history is too thin to forecast from (a gap of
days, a new site), run the self-consumption rule instead, and the plan carries an alert
(:mod:`.plan_alerts`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from bess_dispatch_core.protocol import Command, Priority, ScheduleEconomics
from bess_dispatch_core.protocol.alert import Severity
from bess_dispatch_core.units import soe_from_percent
from optimizer.baselines import no_battery, self_consumption_rule, simulate
from optimizer.layers import LAYER_HORIZON, layer_command
from optimizer.physics import SELF_CONSUMPTION, Action
from optimizer.pleevi.policy_targets import MissedTarget, missed_targets, policy_targets
from optimizer.result import Plan
from optimizer.settings.site import GRID_CONNECTION_KW, SiteSettings, UseCase
from optimizer.site import (
    Battery,
    FloatArray,
    Grid,
    InputError,
    Site,
    SoeWindow,
    Tariff,
    Topology,
)
from optimizer.trusted_plan import plan_then_rule, trusted_slots

from .plan_alerts import PRICES_MISSING, TELEMETRY_GAP, PlanAlert
from .prices import PriceSource
from .pv_entity import EntityPvForecast, with_entity_pv
from .site_memory import SLOT, SiteMemory, slot_floor
from .status import PlanEconomics, PlanQuality

_LOGGER = logging.getLogger(__name__)

PLAN_SLOTS = int(LAYER_HORIZON[Priority.DAY_AHEAD] / SLOT)
SLOT_HOURS = SLOT.total_seconds() / 3600
LAYER_NAMES = {Priority.INTRADAY: "p2", Priority.DAY_AHEAD: "p1", Priority.FALLBACK: "p0"}
# Solve-time budget per layer, wall seconds on a shared 2-core machine. p2 re-plans every slot
# and on SoE drift, p1 every 6 h; both stay well under a second so one site's hard price day
# never holds up the others. p0 is the rule today (no solve); its budget is for a p0 plan.
LAYER_BUDGET_S = {Priority.INTRADAY: 0.3, Priority.DAY_AHEAD: 0.8, Priority.FALLBACK: 5.0}
PLANNED_LAYERS = (Priority.INTRADAY, Priority.DAY_AHEAD)
TOPOLOGY = {
    UseCase.AC_LINK: Topology.AC_LINK,
    UseCase.DC_LINK: Topology.DC_LINK,
    UseCase.STANDALONE: Topology.STAND_ALONE,
}


@dataclass(frozen=True, slots=True)
class SitePlan:
    """A plan and what it was made from; ``soe_kwh`` is at the END of each slot."""

    made_at: datetime
    slot_starts: tuple[datetime, ...]
    prices: FloatArray
    pv_kw: FloatArray
    load_kw: FloatArray
    soe_start_kwh: float
    plan: Plan
    actions: tuple[Action, ...]
    economics: PlanEconomics | None = None  # None: not computed (a plan made by hand)
    missed_targets: tuple[MissedTarget, ...] = ()  # scheduled SoC policies the plan misses
    alerts: tuple[PlanAlert, ...] = ()  # inputs not trusted: where the rule runs instead

    @property
    def quality(self) -> PlanQuality:
        """How good the plan is, for the status interface and the plan page."""
        plan = self.plan
        return PlanQuality(
            status=plan.status.value,
            gap=plan.gap,
            solve_seconds=plan.build_seconds + plan.solve_seconds,
        )

    def planned_soe(self, at: datetime) -> float | None:
        """The SoE the plan expects at ``at`` (linear within a slot); None outside."""
        first = self.slot_starts[0]
        offset = (at - first) / SLOT
        index = math.floor(offset)
        if not 0 <= index < len(self.slot_starts):
            return None
        before = self.soe_start_kwh if index == 0 else float(self.plan.soe_kwh[index - 1])
        after = float(self.plan.soe_kwh[index])
        return before + (after - before) * (offset - index)


def battery_of(settings: SiteSettings, soe_kwh: float, terminal_value: float) -> Battery:
    capacity = settings.battery_capacity_kwh
    one_way = math.sqrt(settings.round_trip_efficiency)
    charge_efficiency = settings.charge_efficiency or one_way
    discharge_efficiency = settings.discharge_efficiency or one_way
    soe_min = soe_from_percent(settings.min_soe_percent, capacity)
    soe_max = soe_from_percent(settings.max_soe_percent, capacity)
    return Battery(
        capacity_kwh=capacity,
        charge_max_kw=settings.max_charge_kw,
        discharge_max_kw=settings.max_discharge_kw,
        soe_initial_kwh=min(max(soe_kwh, 0.0), capacity),
        soe_min_kwh=soe_min,
        soe_max_kwh=soe_max,
        charge_efficiency=charge_efficiency,
        discharge_efficiency=discharge_efficiency,
        terminal_value_per_kwh=terminal_value,
    )


def build_site(
    settings: SiteSettings,
    soe_kwh: float,
    *,
    prices: FloatArray,
    export_price: float,
    pv_kw: FloatArray,
    load_kw: FloatArray,
    soe_windows: Sequence[SoeWindow] = (),
    trusted_prices: FloatArray | None = None,
) -> Site:
    """The dispatch problem; InputError names a bad field. The stored energy is valued from
    ``trusted_prices`` (default: all of ``prices``)."""
    topology = TOPOLOGY[settings.use_case]
    if topology is Topology.STAND_ALONE:
        pv_kw, load_kw = np.zeros_like(prices), np.zeros_like(prices)
    elif not settings.has_load:
        load_kw = np.zeros_like(prices)
    inverter = max(settings.max_charge_kw, settings.max_discharge_kw)
    # Stored energy is worth what it saves later, after losses: less than a typical price.
    valued_on = prices if trusted_prices is None or trusted_prices.size == 0 else trusted_prices
    terminal = float(np.median(valued_on)) * settings.round_trip_efficiency
    return Site.build(
        topology=topology,
        battery=battery_of(settings, soe_kwh, max(terminal, 0.0)),
        grid=Grid(
            GRID_CONNECTION_KW,
            GRID_CONNECTION_KW,
            inverter_max_kw=inverter if topology is Topology.DC_LINK else None,
        ),
        tariff=Tariff.of(prices, np.full(prices.shape, export_price)),
        pv_kw=pv_kw,
        load_kw=load_kw,
        soe_windows=soe_windows,
    )


def plan_budget_s(layers: Collection[Priority]) -> float:
    """The budget of a plan made for ``layers``: that of the most demanding planned layer."""
    planned = [LAYER_BUDGET_S[layer] for layer in layers if layer in PLANNED_LAYERS]
    return max(planned, default=LAYER_BUDGET_S[Priority.DAY_AHEAD])


def make_plan(
    settings: SiteSettings,
    state: SiteMemory,
    prices: PriceSource,
    export_price: float,
    now: datetime,
    *,
    layers: Collection[Priority] = PLANNED_LAYERS,
    pv_entity: EntityPvForecast | None = None,
) -> SitePlan:
    """Plan 48 h from the slot holding ``now`` within the budget of ``layers``; needs a SoE
    reading. Always a plan: see ``plan.status`` and ``plan.gap``. ``pv_entity``: an HA
    solar forecast used instead of the site's own PV forecast where it covers."""
    if state.soe_kwh is None:
        raise InputError("battery.soe_initial_kwh", "no SoE telemetry from the site yet")
    first = slot_floor(now)
    starts = [first + index * SLOT for index in range(PLAN_SLOTS)]
    price, trusted = prices.quote(starts)
    pv, load = state.forecast(starts)
    alerts: list[PlanAlert] = []
    if pv_entity is not None:
        pv, pv_alert = with_entity_pv(pv, pv_entity, starts)
        alerts += [] if pv_alert is None else [pv_alert]
    # Scheduled SoC policies (a Pleevi-described site): soft SoE targets in the horizon.
    targets = policy_targets(
        settings.policies,
        start=first,
        slots=PLAN_SLOTS,
        slot_hours=SLOT / timedelta(hours=1),
        capacity_kwh=settings.battery_capacity_kwh,
        timezone=state.zone,
    )
    head = trusted_slots(trusted)
    if head < len(starts):
        alerts.append(
            PlanAlert(
                PRICES_MISSING,
                Severity.WARNING,
                f"prices known for {head * SLOT_HOURS:g} of the {len(starts) * SLOT_HOURS:g} h "
                "horizon; the self-consumption rule runs after that",
            )
        )
    if TOPOLOGY[settings.use_case] is not Topology.STAND_ALONE:
        problem = state.history_problem(first)
        if problem is not None:
            head = 0
            alerts.append(
                PlanAlert(
                    TELEMETRY_GAP,
                    Severity.WARNING,
                    f"{problem}; the self-consumption rule runs until then",
                )
            )
    site = build_site(
        settings,
        state.soe_kwh,
        prices=price,
        export_price=export_price,
        pv_kw=pv,
        load_kw=load,
        soe_windows=[target.window for target in targets],
        trusted_prices=price[:head],
    )
    plan, actions = plan_then_rule(site, head, budget_s=plan_budget_s(layers))
    missed = tuple(missed_targets(plan, targets))
    for miss in missed:
        _LOGGER.warning("site %s: the plan misses %s", settings.site_id, miss.describe)
    return SitePlan(
        made_at=now,
        slot_starts=tuple(starts),
        prices=price,
        pv_kw=site.pv_kw,
        load_kw=site.load_kw,
        soe_start_kwh=site.battery.soe_initial_kwh,
        plan=plan,
        actions=actions,
        economics=expected_economics(site, actions),
        missed_targets=missed,
        alerts=tuple(alerts),
    )


def expected_economics(site: Site, actions: tuple[Action, ...]) -> PlanEconomics:
    """The modes sent, the rule and no battery, each simulated on the plan's forecast."""
    sent = simulate(site, lambda slot, _soe: actions[slot])
    return PlanEconomics(
        horizon_hours=site.slots * site.slot_hours,
        plan_cost=sent.net_cost,
        rule_cost=self_consumption_rule(site).net_cost,
        no_battery_cost=no_battery(site).net_cost,
    )


def layer(
    site_plan: SitePlan | None,
    priority: Priority,
    *,
    command_id: str,
    now: datetime,
    economics: ScheduleEconomics | None = None,
) -> Command:
    """The protocol command of one layer; p0 needs no plan and carries no economics (it is
    the battery's own rule, not the plan they describe)."""
    if priority is Priority.FALLBACK:
        start = slot_floor(now)
        count = int(LAYER_HORIZON[Priority.FALLBACK] / SLOT)
        return layer_command(
            [SELF_CONSUMPTION] * count, start, SLOT, priority, command_id=command_id, now=now
        )
    if site_plan is None:
        raise ValueError(f"{LAYER_NAMES[priority]}: needs a plan")
    return layer_command(
        site_plan.actions,
        site_plan.slot_starts[0],
        SLOT,
        priority,
        command_id=command_id,
        now=now,
        economics=economics,
    )


def command_id_for(site_id: str, priority: Priority, now: datetime, attempt: int) -> str:
    return f"{site_id}-{LAYER_NAMES[priority]}-{now:%Y%m%dT%H%M}-{attempt}"
