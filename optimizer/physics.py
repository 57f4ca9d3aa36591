"""How a battery behaves in one slot under a protocol control mode, with the real PV and load.

The same physics serves the baselines (no battery, self-consumption rule) and the backtest's
execution of plans, so every strategy is judged on equal terms. The optimizer's model is the
same physics with exact power flows; here modes react to what actually happens in the slot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bess_dispatch_core.protocol import ControlMode

from .site import Battery, Grid, Topology


@dataclass(frozen=True, slots=True)
class Action:
    """What the gateway is told for a slot (one protocol schedule entry's content)."""

    mode: ControlMode
    power_kw: float = 0.0  # SETPOINT only: + charge, - discharge
    max_charge_kw: float = math.inf  # LIMIT_CHARGE on the wire; a cap in every following mode
    # Not on the wire: the gateway's control law caps discharge (SoE, export limit) in the
    # modes where the battery follows PV and load (see optimizer.gateway_execution).
    max_discharge_kw: float = math.inf


SELF_CONSUMPTION = Action(ControlMode.SELF_CONSUMPTION)


@dataclass(frozen=True, slots=True)
class SlotFlows:
    charge_kw: float
    discharge_kw: float
    import_kw: float
    export_kw: float
    pv_used_kw: float
    soe_end_kwh: float


def step(
    topology: Topology,
    battery: Battery | None,
    grid: Grid,
    *,
    soe_kwh: float,
    pv_kw: float,
    load_kw: float,
    action: Action,
    slot_hours: float,
) -> SlotFlows:
    """One slot: battery follows ``action`` within its limits; the grid takes the rest."""
    inverter = grid.inverter_max_kw if topology is Topology.DC_LINK else math.inf
    assert inverter is not None
    served_by_inverter = min(load_kw, inverter)
    surplus = max(pv_kw - served_by_inverter, 0.0)
    deficit = max(served_by_inverter - pv_kw, 0.0)
    charge = discharge = 0.0
    if battery is not None:
        eta_c, eta_d = battery.charge_efficiency, battery.discharge_efficiency
        room = max(battery.soe_max - soe_kwh, 0.0) / (eta_c * slot_hours)
        stock = max(soe_kwh - battery.soe_min_kwh, 0.0) * eta_d / slot_hours
        charge_limit = min(battery.charge_max_kw, room)
        discharge_limit = min(battery.discharge_max_kw, stock)
        if not grid.grid_charging_allowed:
            charge_limit = min(charge_limit, surplus)
        mode = action.mode
        if mode is ControlMode.SETPOINT:
            if action.power_kw >= 0:
                charge = min(action.power_kw, charge_limit)
            else:
                discharge = min(-action.power_kw, discharge_limit)
        elif mode is not ControlMode.IDLE:
            charge = min(surplus, charge_limit, max(action.max_charge_kw, 0.0))
            if mode is not ControlMode.NO_DISCHARGE:
                discharge = min(deficit, discharge_limit, max(action.max_discharge_kw, 0.0))
    pv_used = pv_kw
    injection = pv_used + discharge - charge  # what reaches the AC bus from PV and battery
    if injection > inverter:
        pv_used -= injection - inverter
        injection = inverter
    net = load_kw - injection  # + import, - export
    export_cap = grid.export_max_kw if grid.export_allowed else 0.0
    if -net > export_cap:
        spill = -net - export_cap
        curtail = min(spill, pv_used)  # PV that can go nowhere is curtailed first,
        pv_used -= curtail
        discharge -= min(spill - curtail, discharge)  # then a forced discharge is cut
        net = -export_cap
    if battery is not None:
        eta_c, eta_d = battery.charge_efficiency, battery.discharge_efficiency
        soe_kwh += slot_hours * (eta_c * charge - discharge / eta_d)
        soe_kwh = min(max(soe_kwh, 0.0), battery.capacity_kwh)  # rounding dust only
    return SlotFlows(charge, discharge, max(net, 0.0), max(-net, 0.0), pv_used, soe_kwh)
