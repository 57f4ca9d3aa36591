"""No-battery and self-consumption baselines, and the slot physics under each mode."""

import pytest

from bess_dispatch_core.protocol import ControlMode
from optimizer.baselines import no_battery, self_consumption_rule
from optimizer.model import optimize
from optimizer.physics import Action, SlotFlows, step
from optimizer.site import Battery, Grid, Site, Tariff, Topology
from tests.optimizer.reference.dispatch import dispatch

BATTERY = Battery(
    capacity_kwh=2.0,
    charge_max_kw=1.0,
    discharge_max_kw=1.0,
    soe_initial_kwh=0.0,
    charge_efficiency=1.0,
    discharge_efficiency=1.0,
)
GRID = Grid(import_max_kw=10.0, export_max_kw=10.0)


def site() -> Site:
    return Site.build(
        topology=Topology.AC_LINK,
        battery=BATTERY,
        grid=GRID,
        tariff=Tariff.of([30.0, 30.0], [10.0, 10.0]),
        pv_kw=[3.0, 0.0],
        load_kw=[1.0, 2.0],
        slot_hours=1.0,
    )


def test_no_battery_cost() -> None:
    outcome = no_battery(site())
    assert outcome.grid_kw.tolist() == [-2.0, 2.0]
    assert outcome.energy_cost == pytest.approx(-20.0 + 60.0)


def test_self_consumption_rule_shifts_surplus() -> None:
    outcome = self_consumption_rule(site())
    assert outcome.battery_kw.tolist() == [1.0, -1.0]
    assert outcome.grid_kw.tolist() == [-1.0, 1.0]
    assert outcome.energy_cost == pytest.approx(-10.0 + 30.0)
    # The optimum is at least as good as the rule.
    assert optimize(site()).objective <= outcome.net_cost + 1e-9


@pytest.mark.parametrize(
    ("action", "pv", "load", "battery_kw"),
    [
        (Action(ControlMode.SELF_CONSUMPTION), 3.0, 1.0, 1.0),
        (Action(ControlMode.SELF_CONSUMPTION), 0.0, 0.5, -0.5),
        (Action(ControlMode.NO_DISCHARGE), 0.0, 0.5, 0.0),
        (Action(ControlMode.NO_DISCHARGE), 1.5, 1.0, 0.5),
        (Action(ControlMode.LIMIT_CHARGE, max_charge_kw=0.25), 3.0, 1.0, 0.25),
        (Action(ControlMode.LIMIT_CHARGE, max_charge_kw=0.25), 0.0, 0.5, -0.5),
        (Action(ControlMode.IDLE), 3.0, 1.0, 0.0),
        (Action(ControlMode.SETPOINT, power_kw=5.0), 0.0, 0.0, 1.0),  # clipped to the limit
        (Action(ControlMode.SETPOINT, power_kw=-0.4), 0.0, 0.0, -0.4),
    ],
)
def test_modes(action: Action, pv: float, load: float, battery_kw: float) -> None:
    flows = step(
        Topology.AC_LINK,
        BATTERY,
        GRID,
        soe_kwh=1.0,
        pv_kw=pv,
        load_kw=load,
        action=action,
        slot_hours=1.0,
    )
    assert flows.charge_kw - flows.discharge_kw == pytest.approx(battery_kw)
    assert flows.import_kw - flows.export_kw == pytest.approx(load - pv + battery_kw)


def test_soe_limits_and_dc_clipping() -> None:
    def run(topology: Topology, grid: Grid, soe: float, pv: float, action: Action) -> SlotFlows:
        return step(
            topology,
            BATTERY,
            grid,
            soe_kwh=soe,
            pv_kw=pv,
            load_kw=0.0,
            action=action,
            slot_hours=1.0,
        )

    full = run(Topology.AC_LINK, GRID, 2.0, 3.0, Action(ControlMode.SETPOINT, 1.0))
    assert full.charge_kw == 0.0
    dc_grid = Grid(10.0, 10.0, inverter_max_kw=2.0)
    flows = run(Topology.DC_LINK, dc_grid, 0.0, 3.5, Action(ControlMode.IDLE))
    assert flows.export_kw == pytest.approx(2.0)
    assert flows.pv_used_kw == pytest.approx(2.0)
    stored = run(Topology.DC_LINK, dc_grid, 0.0, 3.5, Action(ControlMode.SELF_CONSUMPTION))
    assert stored.charge_kw == pytest.approx(1.0)
    assert stored.export_kw == pytest.approx(2.0)


def test_dispatch_reports_plan_and_baselines() -> None:
    result = dispatch(site())
    assert result.no_battery_cost == pytest.approx(40.0)
    assert result.rule_cost == pytest.approx(20.0)
    assert result.expected_cost <= result.rule_cost + 1e-9
    assert len(result.actions) == 2


def test_forced_discharge_cannot_export_beyond_the_limit() -> None:
    closed = Grid(import_max_kw=10.0, export_max_kw=0.0, export_allowed=False)
    flows = step(
        Topology.AC_LINK,
        BATTERY,
        closed,
        soe_kwh=1.0,
        pv_kw=0.5,
        load_kw=0.2,
        action=Action(ControlMode.SETPOINT, power_kw=-1.0),
        slot_hours=1.0,
    )
    assert flows.export_kw == 0.0
    assert flows.pv_used_kw == 0.0
    assert flows.discharge_kw == pytest.approx(0.2)
    assert flows.soe_end_kwh == pytest.approx(0.8)
