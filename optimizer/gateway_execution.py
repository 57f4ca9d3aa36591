"""Execute a schedule entry as the gateway does: its own control law and hard limits, then the
slot physics.

The backtest and the simulated site send each slot's action through
:func:`bess_dispatch_core.gateway.control_law.decide`, the pure code the HA integration runs,
so a figure measured here describes what the owner's gateway would have done: a setpoint is
clamped by the power, SoE, grid-charging and export limits exactly as at home.
"""

from __future__ import annotations

import math

from bess_dispatch_core.gateway.control_law import (
    ControlDecision,
    ControlSource,
    HardLimits,
    Intent,
    SiteState,
    decide,
)
from bess_dispatch_core.protocol import ControlMode

from .physics import Action, SlotFlows, step
from .site import Battery, Grid, Topology


def hard_limits(battery: Battery, grid: Grid) -> HardLimits:
    """The owner's limits as the gateway holds them for this battery and connection."""
    export = grid.export_max_kw if grid.export_allowed else 0.0
    return HardLimits(
        soe_min_kwh=battery.soe_min_kwh,
        soe_max_kwh=battery.soe_max,
        max_charge_kw=battery.charge_max_kw,
        max_discharge_kw=battery.discharge_max_kw,
        grid_charging_allowed=grid.grid_charging_allowed,
        export_limit_kw=export if math.isfinite(export) else None,
    )


def intent_of(action: Action, source: ControlSource = ControlSource.P2) -> Intent:
    """A schedule entry's content, as the gateway's dispatcher hands it to the control law."""
    limit = action.max_charge_kw if action.mode is ControlMode.LIMIT_CHARGE else None
    power = action.power_kw if action.mode is ControlMode.SETPOINT else None
    return Intent(action.mode, source, power_kw=power, max_charge_kw=limit)


def executed_action(decision: ControlDecision) -> Action:
    """What the battery does under the gateway's decision, for :func:`optimizer.physics.step`."""
    if decision.setpoint_kw is not None:
        return Action(ControlMode.SETPOINT, power_kw=decision.setpoint_kw)
    # The battery follows PV and load within the caps the law left it.
    return Action(
        decision.mode,
        max_charge_kw=decision.max_charge_kw,
        max_discharge_kw=decision.max_discharge_kw,
    )


def execute(
    topology: Topology,
    battery: Battery,
    grid: Grid,
    limits: HardLimits,
    *,
    soe_kwh: float,
    pv_kw: float,
    load_kw: float,
    action: Action,
    slot_hours: float,
) -> tuple[ControlDecision, SlotFlows]:
    """One slot: the control law decides at the slot boundary, the battery then follows it."""
    decision = decide(intent_of(action), limits, SiteState(soe_kwh, pv_kw=pv_kw, load_kw=load_kw))
    flows = step(
        topology,
        battery,
        grid,
        soe_kwh=soe_kwh,
        pv_kw=pv_kw,
        load_kw=load_kw,
        action=executed_action(decision),
        slot_hours=slot_hours,
    )
    return decision, flows
