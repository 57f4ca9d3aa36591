"""FCR capacity co-optimised in the one dispatch model: headroom, SoE band, steps, awards."""

import numpy as np
import pytest

from optimizer.fcr.headroom import capacity_left_kw
from optimizer.fcr.market import FcrBlock, FcrMarket, FcrProduct
from optimizer.model import grid_charged_kw, keeps_rules, optimize
from optimizer.result import Plan
from optimizer.site import Battery, Grid, Site, Tariff, Topology

N = 24  # 12 h of half hours: four 3-hour blocks


def stand_alone(
    blocks: tuple[FcrBlock, ...],
    *,
    soe: float = 5.0,
    prices: np.ndarray | None = None,
    product: FcrProduct | None = None,
    charging: bool = True,
    terminal: float = 0.0,
) -> Site:
    spot = np.full(N, 10.0) if prices is None else prices
    return Site.build(
        topology=Topology.STAND_ALONE,
        battery=Battery(10.0, 5.0, 5.0, soe, terminal_value_per_kwh=terminal),
        grid=Grid(5.0, 5.0, grid_charging_allowed=charging),
        tariff=Tariff.of(spot, spot),
        fcr=FcrMarket(product or FcrProduct(), blocks),
    )


def offerable(price: float) -> tuple[FcrBlock, ...]:
    return tuple(FcrBlock(6 * b, 6, price=price, offerable=True) for b in range(4))


def flows(site: Site, plan: Plan) -> np.ndarray:
    return capacity_left_kw(
        site,
        charge=plan.charge_kw,
        discharge=plan.discharge_kw,
        imports=plan.import_kw,
        exports=plan.export_kw,
        pv_used=plan.pv_used_kw,
        soe=plan.soe_kwh,
    )


def test_flat_energy_prices_sell_the_whole_battery_as_capacity() -> None:
    # Stored energy is worth what it would sell for: no reason to empty it at the end.
    site = stand_alone(offerable(5.0), terminal=10.0)
    plan = optimize(site)
    np.testing.assert_allclose(plan.fcr_kw, 5.0)
    # 5 JPY/kW/30 min x 6 half hours x 50 % share x 5 kW x 4 blocks
    assert plan.fcr_revenue == pytest.approx(4 * 5.0 * 6 * 0.5 * 5.0)
    assert plan.objective == pytest.approx(
        plan.energy_cost - plan.fcr_revenue - plan.terminal_value
    )


def test_every_plan_leaves_room_for_what_it_offers() -> None:
    rng = np.random.default_rng(5)
    for trial in range(12):
        prices = 10 + 15 * rng.random(N)
        site = stand_alone(
            offerable(float(rng.uniform(0, 8))), soe=float(rng.uniform(0, 10)), prices=prices
        )
        plan = optimize(site, budget_s=None if trial % 2 else 0.2)
        assert np.all(flows(site, plan) >= plan.fcr_kw - 1e-6), trial
        assert keeps_rules(site, plan), trial


def test_energy_arbitrage_and_capacity_share_the_battery() -> None:
    # A big spread in block 2 pays more than capacity: the plan trades there instead.
    prices = np.full(N, 10.0)
    prices[6:12] = 1.0
    prices[12:18] = 60.0
    site = stand_alone(offerable(1.0), soe=0.0, prices=prices)
    plan = optimize(site)
    assert plan.discharge_kw[12:18].sum() > 0
    assert np.all(flows(site, plan) >= plan.fcr_kw - 1e-6)
    energy_only = optimize(
        Site.build(topology=site.topology, battery=site.battery, grid=site.grid, tariff=site.tariff)
    )
    assert plan.objective <= energy_only.objective + 1e-6


def test_soe_band_holds_full_activation_for_the_product_duration() -> None:
    # 1 kWh stored: 15 min at r kW down needs r x 0.25 / 0.95 kWh above the floor.
    site = stand_alone(offerable(5.0), soe=1.0, product=FcrProduct(min_offer_kw=0, step_kw=0))
    plan = optimize(site)
    first_block = plan.fcr_kw[0]
    assert first_block == pytest.approx(1.0 * 0.95 / 0.25, abs=1e-6)
    longer = stand_alone(
        offerable(5.0), soe=1.0, product=FcrProduct(duration_minutes=30, min_offer_kw=0, step_kw=0)
    )
    assert optimize(longer).fcr_kw[0] == pytest.approx(1.0 * 0.95 / 0.5, abs=1e-6)


def test_offers_are_whole_steps_of_at_least_the_minimum() -> None:
    product = FcrProduct(min_offer_kw=2.0, step_kw=0.5)
    site = stand_alone(offerable(5.0), soe=0.5, product=product)
    plan = optimize(site)
    for value in plan.fcr_kw:
        assert value == 0.0 or (
            value >= 2.0 - 1e-9 and abs(value / 0.5 - round(value / 0.5)) < 1e-9
        )
    # 0.5 kWh holds 1.9 kW for 15 min: under the minimum, so nothing in block 0.
    assert plan.fcr_kw[0] == 0.0
    assert np.all(flows(site, plan) >= plan.fcr_kw - 1e-6)


def test_an_award_is_kept_against_a_tempting_energy_price() -> None:
    prices = np.full(N, 10.0)
    prices[0:6] = 100.0  # emptying the battery in block 0 would pay well
    blocks = (FcrBlock(0, 6, awarded_kw=3.0), *offerable(0.0)[1:])
    site = stand_alone(blocks, soe=5.0, prices=prices)
    plan = optimize(site)
    assert plan.fcr_kw[0] == pytest.approx(3.0)
    assert np.all(plan.discharge_kw[0:6] <= 2.0 + 1e-6)  # 5 kW minus the 3 kW band
    assert plan.soe_kwh[5] >= 3.0 * 0.25 / 0.95 - 1e-6
    assert not [v for v in plan.violations if v.kind == "fcr_award"]


def test_an_award_the_battery_cannot_honour_is_named_not_a_failure() -> None:
    # Empty battery, award at once: nothing to discharge for 15 minutes.
    blocks = (FcrBlock(0, 6, awarded_kw=4.0), *offerable(0.0)[1:])
    site = stand_alone(blocks, soe=0.0)
    plan = optimize(site, budget_s=0.3)
    shortfall = [v for v in plan.violations if v.kind == "fcr_award"]
    assert shortfall
    assert shortfall[0].slot == 0
    assert plan.fcr_kw[0] < 4.0
    assert np.isfinite(plan.objective)


def test_closed_blocks_without_award_hold_nothing_and_earn_nothing() -> None:
    blocks = tuple(FcrBlock(6 * b, 6, price=5.0, offerable=False) for b in range(4))
    plan = optimize(stand_alone(blocks))
    np.testing.assert_allclose(plan.fcr_kw, 0.0)
    assert plan.fcr_revenue == 0.0


def test_no_grid_charging_means_no_capacity_and_the_exact_rule_holds() -> None:
    n = N
    hour = np.arange(n) / 2
    pv = np.clip(4 * np.sin((hour - 0) / 12 * np.pi), 0, None)
    load = np.full(n, 0.5)
    spot = np.full(n, 10.0)
    site = Site.build(
        topology=Topology.AC_LINK,
        battery=Battery(10.0, 5.0, 5.0, 2.0),
        grid=Grid(12.0, 10.0, grid_charging_allowed=False),
        tariff=Tariff.of(spot + 14.6, spot, np.full(n, 3.0)),
        pv_kw=pv,
        load_kw=load,
        fcr=FcrMarket(FcrProduct(), offerable(20.0)),
    )
    plan = optimize(site)
    np.testing.assert_allclose(plan.fcr_kw, 0.0)
    assert np.all(grid_charged_kw(site, plan.charge_kw, plan.pv_used_kw) <= 1e-7)


def test_dc_link_inverter_and_grid_limits_bound_the_capacity() -> None:
    n = N
    spot = np.full(n, 10.0)
    site = Site.build(
        topology=Topology.DC_LINK,
        battery=Battery(10.0, 5.0, 5.0, 5.0),
        grid=Grid(12.0, 2.0, inverter_max_kw=3.0),
        tariff=Tariff.of(spot + 5, spot),
        pv_kw=np.zeros(n),
        load_kw=np.full(n, 1.0),
        fcr=FcrMarket(FcrProduct(min_offer_kw=0, step_kw=0), offerable(5.0)),
    )
    plan = optimize(site)
    assert np.all(plan.fcr_kw <= 2.0 + 1e-6)  # the export limit: 2 kW more export at most
    assert np.all(flows(site, plan) >= plan.fcr_kw - 1e-6)


def test_relaxation_and_milp_agree_on_the_optimum() -> None:
    rng = np.random.default_rng(8)
    prices = 10 + 20 * rng.random(N)
    site = stand_alone(offerable(3.0), soe=4.0, prices=prices)
    default = optimize(site)
    forced = optimize(site, force_mip=True)
    assert default.objective == pytest.approx(forced.objective, rel=1e-6, abs=1e-6)
