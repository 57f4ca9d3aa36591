"""Hand-checkable dispatch cases, solved by the bulk HiGHS model and cross-checked by PuLP."""

from typing import Any

import numpy as np
import pytest

from optimizer.model import optimize
from optimizer.site import Battery, Grid, Site, SoeWindow, Tariff, Topology
from tests.optimizer.reference.model_pulp import optimize_pulp


def small_battery(**changes: Any) -> Battery:
    fields: dict[str, Any] = {
        "capacity_kwh": 1.0,
        "charge_max_kw": 1.0,
        "discharge_max_kw": 1.0,
        "soe_initial_kwh": 0.0,
        "charge_efficiency": 1.0,
        "discharge_efficiency": 1.0,
    }
    fields.update(changes)
    return Battery(**fields)


def trader(prices: list[float], **battery_changes: Any) -> Site:
    """A stand-alone battery buying and selling at ``prices`` in 1-hour slots."""
    return Site.build(
        topology=Topology.STAND_ALONE,
        battery=small_battery(**battery_changes),
        grid=Grid(import_max_kw=10.0, export_max_kw=10.0),
        tariff=Tariff.of(prices, prices),
        slot_hours=1.0,
    )


def check(site: Site, objective: float) -> None:
    plan = optimize(site)
    assert plan.objective == pytest.approx(objective, abs=1e-7)
    assert plan.max_simultaneity_kw() <= 1e-7
    assert optimize_pulp(site).objective == pytest.approx(objective, abs=1e-6)


def test_two_slot_arbitrage() -> None:
    site = trader([10.0, 30.0])
    plan = optimize(site)
    assert plan.battery_kw.tolist() == pytest.approx([1.0, -1.0])
    assert plan.soe_kwh.tolist() == pytest.approx([1.0, 0.0])
    assert plan.grid_kw.tolist() == pytest.approx([1.0, -1.0])
    check(site, 10.0 - 30.0)


def test_efficiency_losses() -> None:
    # 1 kWh in stores 0.9, which delivers 0.81 kWh.
    check(trader([10.0, 30.0], charge_efficiency=0.9, discharge_efficiency=0.9), 10 - 30 * 0.81)


def test_cycle_cost_makes_arbitrage_unprofitable() -> None:
    site = trader([10.0, 30.0], cycle_cost_per_kwh=11.0)  # 2 x 11 > 30 - 10
    plan = optimize(site)
    assert np.allclose(plan.battery_kw, 0.0)
    check(site, 0.0)
    check(trader([10.0, 30.0], cycle_cost_per_kwh=9.0), 10 - 30 + 2 * 9.0)


def test_soe_bounds() -> None:
    site = trader(
        [10.0, 30.0],
        capacity_kwh=1.0,
        soe_min_kwh=0.2,
        soe_max_kwh=0.8,
        soe_initial_kwh=0.2,
        charge_max_kw=5.0,
        discharge_max_kw=5.0,
    )
    plan = optimize(site)
    assert plan.soe_kwh.tolist() == pytest.approx([0.8, 0.2])
    check(site, -0.6 * 20)


def test_terminal_soe_target_and_value() -> None:
    check(trader([10.0, 30.0], terminal_soe_target_kwh=0.5), 10 - 0.5 * 30)
    # Stored energy worth 40 at the end: keep it rather than sell at 30.
    check(trader([10.0, 30.0], terminal_value_per_kwh=40.0), 10 - 40)


def test_export_limit_curtails_pv() -> None:
    site = Site.build(
        topology=Topology.AC_LINK,
        battery=small_battery(capacity_kwh=0.0),
        grid=Grid(import_max_kw=5.0, export_max_kw=2.0),
        tariff=Tariff.of([30.0], [10.0]),
        pv_kw=[5.0],
        load_kw=[0.0],
        slot_hours=1.0,
    )
    plan = optimize(site)
    assert plan.export_kw.tolist() == pytest.approx([2.0])
    assert plan.pv_used_kw.tolist() == pytest.approx([2.0])
    check(site, -20.0)
    forbidden = Site.build(
        topology=Topology.AC_LINK,
        battery=small_battery(capacity_kwh=0.0),
        grid=Grid(5.0, 2.0, export_allowed=False),
        tariff=Tariff.of([30.0], [10.0]),
        pv_kw=[5.0],
        load_kw=[1.0],
        slot_hours=1.0,
    )
    check(forbidden, 0.0)


def home(grid_charging: bool) -> Site:
    return Site.build(
        topology=Topology.AC_LINK,
        battery=small_battery(capacity_kwh=5.0, charge_max_kw=2.0, discharge_max_kw=2.0),
        grid=Grid(10.0, 10.0, grid_charging_allowed=grid_charging),
        tariff=Tariff.of([1.0, 100.0], [0.0, 50.0]),
        pv_kw=[1.0, 0.0],
        load_kw=[0.0, 0.0],
        slot_hours=1.0,
    )


def test_no_grid_charging() -> None:
    check(home(grid_charging=True), 1.0 - 2 * 50.0)  # 1 kWh PV + 1 kWh bought, 2 sold
    plan = optimize(home(grid_charging=False))
    assert plan.import_kw.tolist() == pytest.approx([0.0, 0.0])
    check(home(grid_charging=False), -50.0)


def test_dc_link_stores_clipped_pv() -> None:
    def site(topology: Topology, cap: float | None) -> Site:
        return Site.build(
            topology=topology,
            battery=small_battery(capacity_kwh=5.0, charge_max_kw=5.0, discharge_max_kw=5.0),
            grid=Grid(10.0, 10.0, inverter_max_kw=3.0),
            tariff=Tariff.of([20.0] * 2, [10.0, 9.0]),
            pv_kw=[5.0, 0.0],
            pv_cap_kw=None if cap is None else [cap, cap],
            load_kw=[0.0, 0.0],
            slot_hours=1.0,
        )

    dc = optimize(site(Topology.DC_LINK, None))
    assert dc.charge_kw[0] == pytest.approx(2.0)  # the 2 kW above the inverter limit
    assert dc.export_kw.tolist() == pytest.approx([3.0, 2.0])
    check(site(Topology.DC_LINK, None), -30.0 - 18.0)
    # AC-link with the same 3 kW PV inverter: the clipped 2 kW are lost.
    check(site(Topology.AC_LINK, 3.0), -30.0)


def test_negative_prices_need_the_milp() -> None:
    # Paid 10 per kWh taken. The relaxation would charge and discharge at once to burn
    # energy in losses; exactly, the battery can only fill up: 1 kWh then 0.1/0.9 kWh.
    site = trader([-10.0, -10.0], charge_efficiency=0.9, discharge_efficiency=0.9)
    plan = optimize(site)
    assert plan.method == "mip"
    check(site, -10.0 - 10.0 / 9.0)


def test_import_cheaper_than_export_needs_exclusive_grid() -> None:
    site = Site.build(
        topology=Topology.AC_LINK,
        battery=small_battery(capacity_kwh=0.0),
        grid=Grid(5.0, 5.0),
        tariff=Tariff.of([5.0], [8.0]),
        pv_kw=[1.0],
        load_kw=[0.5],
        slot_hours=1.0,
    )
    check(site, -0.5 * 8.0)


def test_fip_premium_on_pv_export() -> None:
    site = Site.build(
        topology=Topology.AC_LINK,
        battery=small_battery(capacity_kwh=2.0, charge_max_kw=2.0, discharge_max_kw=2.0),
        grid=Grid(5.0, 5.0, grid_charging_allowed=False),
        tariff=Tariff.of([30.0, 30.0], [5.0, 20.0], [3.0, 3.0]),
        pv_kw=[2.0, 0.0],
        load_kw=[0.0, 0.0],
        slot_hours=1.0,
    )
    check(site, -2.0 * 23.0)  # store the PV, sell it later at 20 + premium 3


def test_soft_goals_report_violations_instead_of_infeasible() -> None:
    site = Site.build(
        topology=Topology.STAND_ALONE,
        battery=small_battery(capacity_kwh=5.0),
        grid=Grid(10.0, 10.0),
        tariff=Tariff.of([10.0, 10.0], [10.0, 10.0]),
        slot_hours=1.0,
        soe_windows=[SoeWindow(slot=0, min_kwh=3.0)],  # 1 kW for 1 h cannot reach 3 kWh
    )
    plan = optimize(site)
    assert plan.soe_kwh[0] == pytest.approx(1.0)
    assert [(v.kind, v.slot) for v in plan.violations] == [("soe_window_min", 0)]
    assert plan.violations[0].amount_kwh == pytest.approx(2.0)
    assert optimize_pulp(site).objective == pytest.approx(plan.objective)


def test_initial_soe_outside_window_and_unserved_load() -> None:
    site = Site.build(
        topology=Topology.AC_LINK,
        battery=small_battery(capacity_kwh=5.0, soe_min_kwh=2.0, soe_initial_kwh=0.5),
        grid=Grid(import_max_kw=1.0, export_max_kw=0.0),
        tariff=Tariff.of([10.0], [0.0]),
        load_kw=[1.5],
        slot_hours=1.0,
    )
    plan = optimize(site)
    kinds = {v.kind for v in plan.violations}
    assert kinds == {"soe_min", "unserved_load"}
    assert optimize_pulp(site).objective == pytest.approx(plan.objective)


@pytest.mark.parametrize("topology", [Topology.AC_LINK, Topology.DC_LINK])
def test_random_days_match_pulp_highs(topology: Topology) -> None:
    rng = np.random.default_rng(7)
    n = 48
    spot = 10 + 10 * rng.random(n)
    site = Site.build(
        topology=topology,
        battery=Battery(
            capacity_kwh=10.0,
            charge_max_kw=5.0,
            discharge_max_kw=5.0,
            soe_initial_kwh=3.0,
            soe_min_kwh=1.0,
            cycle_cost_per_kwh=0.5,
            terminal_value_per_kwh=12.0,
        ),
        grid=Grid(8.0, 4.0, inverter_max_kw=4.0),
        tariff=Tariff.of(spot + 14.6, spot),
        pv_kw=np.clip(6 * np.sin(np.linspace(-1.5, 4.5, n)), 0, None),
        load_kw=0.3 + rng.random(n),
        soe_windows=[SoeWindow(slot=30, min_kwh=8.0)],
    )
    plan = optimize(site)
    assert plan.max_simultaneity_kw() <= 1e-7
    assert optimize_pulp(site).objective == pytest.approx(plan.objective, rel=1e-8)
    assert optimize(site, force_mip=True).objective == pytest.approx(plan.objective, rel=1e-8)
