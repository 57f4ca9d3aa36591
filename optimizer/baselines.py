"""Reference strategies simulated with the same slot physics: no battery, self-consumption rule."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .physics import SELF_CONSUMPTION, Action, SlotFlows, step
from .site import FloatArray, Site


@dataclass(frozen=True, slots=True)
class Outcome:
    """Flows and money of a simulated strategy over a site's slots."""

    battery_kw: FloatArray
    grid_kw: FloatArray
    soe_kwh: FloatArray  # end of each slot
    energy_cost: float
    cycle_cost: float
    terminal_value: float

    @property
    def net_cost(self) -> float:
        """Comparable to :attr:`optimizer.result.Plan.objective` (without penalties)."""
        return self.energy_cost + self.cycle_cost - self.terminal_value


def slot_flows(site: Site, policy: Callable[[int, float], Action] | None) -> list[SlotFlows]:
    """Each slot's flows under ``policy(slot, soe_at_start)``; None means no battery at all."""
    battery = site.battery if policy is not None else None
    soe = site.battery.soe_initial_kwh
    pv = site.pv_available_kw
    slots = []
    for t in range(site.slots):
        action = policy(t, soe) if policy is not None else SELF_CONSUMPTION
        flows = step(
            site.topology,
            battery,
            site.grid,
            soe_kwh=soe,
            pv_kw=float(pv[t]),
            load_kw=float(site.load_kw[t]),
            action=action,
            slot_hours=site.slot_hours,
        )
        soe = flows.soe_end_kwh
        slots.append(flows)
    return slots


def simulate(site: Site, policy: Callable[[int, float], Action] | None) -> Outcome:
    """Run ``policy(slot, soe_at_start)`` slot by slot; None means no battery at all."""
    n, dt = site.slots, site.slot_hours
    soe = site.battery.soe_initial_kwh
    battery_kw, grid_kw, soe_path = np.zeros(n), np.zeros(n), np.zeros(n)
    imports, exports, throughput = np.zeros(n), np.zeros(n), 0.0
    for t, flows in enumerate(slot_flows(site, policy)):
        soe = flows.soe_end_kwh
        battery_kw[t] = flows.charge_kw - flows.discharge_kw
        imports[t], exports[t] = flows.import_kw, flows.export_kw
        grid_kw[t] = flows.import_kw - flows.export_kw
        soe_path[t] = soe
        throughput += flows.charge_kw + flows.discharge_kw
    tariff = site.tariff
    energy = dt * float(
        tariff.import_price @ imports - (tariff.export_price + tariff.export_premium) @ exports
    )
    has_battery = policy is not None
    cycle = site.battery.cycle_cost_per_kwh * dt * throughput if has_battery else 0.0
    terminal = site.battery.terminal_value_per_kwh * soe if has_battery else 0.0
    return Outcome(battery_kw, grid_kw, soe_path, energy, cycle, terminal)


def no_battery(site: Site) -> Outcome:
    return simulate(site, None)


def self_consumption_rule(site: Site) -> Outcome:
    """Charge from PV surplus, discharge to cover the load, never trade with the grid."""
    return simulate(site, lambda _slot, _soe: SELF_CONSUMPTION)
