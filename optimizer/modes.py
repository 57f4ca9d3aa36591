"""The protocol mode that does the same as the plan in each slot (under the forecast).

Where the self-consumption rule, NO_DISCHARGE, LIMIT_CHARGE or IDLE would produce exactly the
planned flow, that mode is suggested instead of a fixed SETPOINT: it does the same thing when
the forecast is right, and reacts sensibly to the real PV and load when it is not.
"""

from __future__ import annotations

from collections.abc import Callable

from bess_dispatch_core.protocol import ControlMode

from .physics import SELF_CONSUMPTION, Action
from .result import Plan
from .site import Site

_TOL_KW = 1e-3


def suggest_actions(site: Site, plan: Plan) -> list[Action]:
    battery, grid, dt = site.battery, site.grid, site.slot_hours
    inverter = grid.inverter_max_kw if grid.inverter_max_kw is not None else float("inf")
    actions: list[Action] = []
    soe = battery.soe_initial_kwh
    for t in range(site.slots):
        pv, load = float(site.pv_available_kw[t]), float(site.load_kw[t])
        served = min(load, inverter) if site.topology.value == "dc_link" else load
        surplus, deficit = max(pv - served, 0.0), max(served - pv, 0.0)
        room = max(battery.soe_max - soe, 0.0) / (battery.charge_efficiency * dt)
        stock = max(soe - battery.soe_min_kwh, 0.0) * battery.discharge_efficiency / dt
        rule_charge = min(surplus, battery.charge_max_kw, room)
        rule_discharge = min(deficit, battery.discharge_max_kw, stock)
        charge, discharge = float(plan.charge_kw[t]), float(plan.discharge_kw[t])
        same_charge = abs(charge - rule_charge) <= _TOL_KW
        same_discharge = abs(discharge - rule_discharge) <= _TOL_KW
        idle = charge <= _TOL_KW and discharge <= _TOL_KW
        if same_charge and same_discharge:
            action = Action(ControlMode.IDLE) if idle else SELF_CONSUMPTION
        elif same_charge and discharge <= _TOL_KW:
            action = Action(ControlMode.NO_DISCHARGE)
        elif idle:
            action = Action(ControlMode.IDLE)
        elif discharge <= _TOL_KW and charge < rule_charge and rule_discharge <= _TOL_KW:
            action = Action(ControlMode.LIMIT_CHARGE, max_charge_kw=round(charge, 3))
        else:
            action = Action(ControlMode.SETPOINT, power_kw=round(charge - discharge, 3))
        actions.append(action)
        soe = float(plan.soe_kwh[t])
    return actions


def cautious_action(site: Site, plan: Plan, slot: int = 0) -> Action:
    """The plan's intent for one slot, in the mode most robust to forecast errors.

    Only two things beat the self-consumption rule: holding energy for a dearer hour
    (NO_DISCHARGE) and charging from the grid or discharging to the grid at a good price
    (SETPOINT). Everything else is left to the rule, which follows the real PV and load.
    """
    pv, load = float(site.pv_available_kw[slot]), float(site.load_kw[slot])
    surplus, deficit = max(pv - load, 0.0), max(load - pv, 0.0)
    charge, discharge = float(plan.charge_kw[slot]), float(plan.discharge_kw[slot])
    if charge > surplus + _TOL_KW:
        return Action(ControlMode.SETPOINT, power_kw=round(charge, 3))
    if discharge > deficit + _TOL_KW:
        return Action(ControlMode.SETPOINT, power_kw=-round(discharge, 3))
    if deficit > _TOL_KW and discharge <= _TOL_KW:
        return Action(ControlMode.NO_DISCHARGE)
    return SELF_CONSUMPTION


def cautious_actions(site: Site, plan: Plan) -> list[Action]:
    """:func:`cautious_action` for every slot of the plan."""
    return [cautious_action(site, plan, slot) for slot in range(site.slots)]


Mapping = Callable[[Site, Plan], list[Action]]
MAPPINGS: dict[str, Mapping] = {"exact": suggest_actions, "cautious": cautious_actions}
# What the service sends and the backtest executes: one code path, chosen by measurement.
DEPLOYED_MAPPING = "cautious"


def plan_actions(site: Site, plan: Plan, mapping: str = DEPLOYED_MAPPING) -> list[Action]:
    """The protocol modes sent for a plan: the deployed mapping unless another is named."""
    return MAPPINGS[mapping](site, plan)
