"""Plans become protocol schedule entries: equivalent modes, merged runs, three layers."""

from datetime import UTC, datetime, timedelta

import pytest

from bess_dispatch_core.protocol import ControlMode, Priority
from optimizer.layers import layer_command, schedule_entries
from optimizer.model import optimize
from optimizer.modes import cautious_action, suggest_actions
from optimizer.physics import Action
from optimizer.site import Battery, Grid, Site, Tariff, Topology

START = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)
SLOT = timedelta(minutes=30)


def test_modes_equivalent_to_the_plan() -> None:
    # Slot 0: PV surplus, cheap export -> the rule's charge (SELF_CONSUMPTION).
    # Slot 1: load, price low -> keep the energy (NO_DISCHARGE).
    # Slot 2: load, price high -> discharge like the rule (SELF_CONSUMPTION).
    # Slot 3: grid charging at a very low price -> SETPOINT.
    site = Site.build(
        topology=Topology.AC_LINK,
        battery=Battery(
            capacity_kwh=10.0,
            charge_max_kw=2.0,
            discharge_max_kw=2.0,
            soe_initial_kwh=0.0,
            charge_efficiency=1.0,
            discharge_efficiency=1.0,
        ),
        grid=Grid(10.0, 10.0),
        tariff=Tariff.of([30.0, 20.0, 50.0, 1.0, 60.0], [1.0, 1.0, 1.0, 1.0, 1.0]),
        pv_kw=[1.0, 0.0, 0.0, 0.0, 0.0],
        load_kw=[0.0, 1.0, 1.0, 0.0, 5.0],
        slot_hours=1.0,
    )
    actions = suggest_actions(site, optimize(site))
    assert [a.mode for a in actions[:4]] == [
        ControlMode.SELF_CONSUMPTION,
        ControlMode.NO_DISCHARGE,
        ControlMode.SELF_CONSUMPTION,
        ControlMode.SETPOINT,
    ]
    assert actions[3].power_kw == pytest.approx(2.0)


def test_entries_merge_equal_neighbours_and_cut_to_the_layer() -> None:
    idle = Action(ControlMode.IDLE)
    charge = Action(ControlMode.SETPOINT, power_kw=1.5)
    limit = Action(ControlMode.LIMIT_CHARGE, max_charge_kw=0.5)
    actions = [idle, idle, charge, charge, charge, limit, limit, idle] + [idle] * 200
    intraday = schedule_entries(actions, START, SLOT, Priority.INTRADAY)
    assert [(e.mode, e.end - e.start) for e in intraday] == [
        (ControlMode.IDLE, 2 * SLOT),
        (ControlMode.SETPOINT, 3 * SLOT),
        (ControlMode.LIMIT_CHARGE, SLOT),
    ]
    assert intraday[1].power_kw == 1.5
    assert intraday[2].max_charge_kw == 0.5
    assert intraday[-1].end == START + timedelta(hours=3)
    day_ahead = schedule_entries(actions, START, SLOT, Priority.DAY_AHEAD)
    assert day_ahead[-1].end == START + timedelta(hours=48)
    assert len(day_ahead) == 4
    fallback = schedule_entries(actions, START, SLOT, Priority.FALLBACK)
    assert fallback[-1].end == START + len(actions) * SLOT
    command = layer_command(actions, START, SLOT, Priority.INTRADAY, command_id="c1", now=START)
    assert command.to_dict()["schedule"][0]["mode"] == "IDLE"


def test_naive_start_is_rejected() -> None:
    with pytest.raises(ValueError, match="start"):
        schedule_entries(
            [Action(ControlMode.IDLE)], START.replace(tzinfo=None), SLOT, Priority.INTRADAY
        )


def test_cautious_action_keeps_only_what_beats_the_rule() -> None:
    site = Site.build(
        topology=Topology.AC_LINK,
        battery=Battery(
            capacity_kwh=10.0,
            charge_max_kw=2.0,
            discharge_max_kw=2.0,
            soe_initial_kwh=0.0,
            charge_efficiency=1.0,
            discharge_efficiency=1.0,
        ),
        grid=Grid(10.0, 10.0),
        tariff=Tariff.of([30.0, 20.0, 50.0, 1.0, 60.0], [1.0] * 5),
        pv_kw=[1.0, 0.0, 0.0, 0.0, 0.0],
        load_kw=[0.0, 1.0, 1.0, 0.0, 5.0],
        slot_hours=1.0,
    )
    plan = optimize(site)
    modes = [cautious_action(site, plan, slot).mode for slot in range(5)]
    assert modes == [
        ControlMode.SELF_CONSUMPTION,
        ControlMode.NO_DISCHARGE,
        ControlMode.SELF_CONSUMPTION,
        ControlMode.SETPOINT,
        ControlMode.SELF_CONSUMPTION,
    ]
