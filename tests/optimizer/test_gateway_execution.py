"""Slots executed through the gateway's own control law: its hard limits bind the backtest."""

import math

import pytest

from bess_dispatch_core.gateway.control_law import ControlDecision, ControlSource, Limit
from bess_dispatch_core.protocol import ControlMode
from optimizer.gateway_execution import execute, executed_action, hard_limits, intent_of
from optimizer.physics import SELF_CONSUMPTION, Action, SlotFlows, step
from optimizer.site import Battery, Grid, Topology

BATTERY = Battery(
    capacity_kwh=10.0,
    charge_max_kw=5.0,
    discharge_max_kw=5.0,
    soe_initial_kwh=5.0,
    soe_min_kwh=1.0,
    soe_max_kwh=9.0,
)
GRID = Grid(import_max_kw=12.0, export_max_kw=10.0)


def run(
    action: Action, *, soe: float = 5.0, pv: float = 0.0, load: float = 0.0, grid: Grid = GRID
) -> tuple[ControlDecision, SlotFlows]:
    return execute(
        Topology.AC_LINK,
        BATTERY,
        grid,
        hard_limits(BATTERY, grid),
        soe_kwh=soe,
        pv_kw=pv,
        load_kw=load,
        action=action,
        slot_hours=0.5,
    )


def test_hard_limits_are_the_battery_and_connection_limits() -> None:
    limits = hard_limits(BATTERY, GRID)
    assert (limits.soe_min_kwh, limits.soe_max_kwh) == (1.0, 9.0)
    assert (limits.max_charge_kw, limits.max_discharge_kw) == (5.0, 5.0)
    assert limits.export_limit_kw == 10.0
    assert limits.grid_charging_allowed
    no_export = hard_limits(BATTERY, Grid(12.0, 10.0, export_allowed=False))
    assert no_export.export_limit_kw == 0.0


def test_intent_carries_only_what_the_mode_uses() -> None:
    setpoint = intent_of(Action(ControlMode.SETPOINT, power_kw=-2.0))
    assert (setpoint.power_kw, setpoint.max_charge_kw) == (-2.0, None)
    assert setpoint.source is ControlSource.P2
    limit = intent_of(Action(ControlMode.LIMIT_CHARGE, max_charge_kw=1.5))
    assert (limit.power_kw, limit.max_charge_kw) == (None, 1.5)


def test_grid_charging_forbidden_caps_a_setpoint_to_the_pv_surplus() -> None:
    grid = Grid(12.0, 10.0, grid_charging_allowed=False)
    decision, flows = run(Action(ControlMode.SETPOINT, power_kw=4.0), pv=2.0, load=0.5, grid=grid)
    assert Limit.GRID_CHARGING in decision.limited_by
    assert flows.charge_kw == pytest.approx(1.5)
    assert flows.import_kw == pytest.approx(0.0)


def test_setpoint_discharge_stops_at_the_minimum_soe() -> None:
    decision, flows = run(Action(ControlMode.SETPOINT, power_kw=-3.0), soe=1.0, load=2.0)
    assert Limit.SOE_MIN in decision.limited_by
    assert flows.discharge_kw == 0.0
    assert flows.soe_end_kwh == pytest.approx(1.0)


def test_export_limit_caps_a_setpoint_discharge() -> None:
    grid = Grid(12.0, 1.0)
    decision, flows = run(Action(ControlMode.SETPOINT, power_kw=-5.0), load=0.5, grid=grid)
    assert Limit.EXPORT in decision.limited_by
    assert flows.discharge_kw == pytest.approx(1.5)
    assert flows.export_kw == pytest.approx(1.0)


def test_following_modes_keep_the_laws_caps() -> None:
    _, held = run(Action(ControlMode.NO_DISCHARGE), pv=3.0, load=4.0)
    assert (held.charge_kw, held.discharge_kw) == (0.0, 0.0)
    _, limited = run(Action(ControlMode.LIMIT_CHARGE, max_charge_kw=1.0), pv=4.0, load=1.0)
    assert limited.charge_kw == pytest.approx(1.0)
    _, full = run(SELF_CONSUMPTION, soe=9.0, pv=4.0, load=1.0)
    assert full.charge_kw == 0.0
    assert full.export_kw == pytest.approx(3.0)


def test_self_consumption_through_the_gateway_is_the_rule() -> None:
    for soe, pv, load in ((5.0, 4.0, 1.0), (5.0, 0.0, 3.0), (1.2, 0.0, 7.0), (8.9, 9.0, 0.0)):
        _, through_gateway = run(SELF_CONSUMPTION, soe=soe, pv=pv, load=load)
        direct = step(
            Topology.AC_LINK,
            BATTERY,
            GRID,
            soe_kwh=soe,
            pv_kw=pv,
            load_kw=load,
            action=SELF_CONSUMPTION,
            slot_hours=0.5,
        )
        assert through_gateway == direct


def test_executed_action_of_a_setpoint_and_of_a_following_mode() -> None:
    decision, _ = run(Action(ControlMode.IDLE), pv=3.0)
    assert executed_action(decision) == Action(ControlMode.SETPOINT, power_kw=0.0)
    decision, _ = run(Action(ControlMode.NO_DISCHARGE), pv=3.0)
    following = executed_action(decision)
    assert following.mode is ControlMode.NO_DISCHARGE
    assert following.max_discharge_kw == 0.0
    assert math.isfinite(following.max_charge_kw)
