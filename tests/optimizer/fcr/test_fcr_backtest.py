"""The energy + FCR backtest on a few synthetic days (the real year is a benchmark)."""

import io

import numpy as np
import pandas as pd
import pytest

from optimizer.backtest import TAIL_DAYS, WARMUP_DAYS, standard_scenarios
from optimizer.cli import parser
from optimizer.data import SiteSeries
from optimizer.fcr.backtest import banded, format_table, run
from optimizer.fcr.history import BlockHistory
from optimizer.fcr.market import FcrProduct
from optimizer.gateway_execution import hard_limits
from optimizer.model import optimize
from optimizer.site import Battery, Grid, Site, Tariff, Topology

DAYS = 2


def series() -> SiteSeries:
    total = (WARMUP_DAYS + DAYS + TAIL_DAYS) * 48
    starts = pd.date_range("2024-05-01", periods=total, freq="30min", tz="Asia/Tokyo")
    hour = np.arange(total) % 48 / 2
    rng = np.random.default_rng(4)
    spot = 10 + 8 * np.sin((hour - 12) / 24 * 2 * np.pi) ** 2 + rng.random(total)
    pv = np.clip(3.5 * np.sin((hour - 6) / 12 * np.pi), 0, None) * rng.uniform(0.3, 1.0, total)
    load = 0.3 + 0.8 * ((hour > 17) & (hour < 23)) + 0.2 * rng.random(total)
    return SiteSeries(starts, spot, pv, load, 3.5)


def blocks(data: SiteSeries) -> BlockHistory:
    starts = pd.date_range(data.slot_starts[0], periods=len(data.slot_starts) // 6, freq="3h")
    price = np.where(np.arange(len(starts)) % 8 < 5, 6.0, np.nan)  # 00:00-15:00 clear at 6
    return BlockHistory(starts, price)


@pytest.mark.parametrize("prefix", ["a1", "b"])
def test_fcr_adds_capacity_revenue_and_never_breaks_the_reserve(prefix: str) -> None:
    data = series()
    history = blocks(data)
    scenario = next(s for s in standard_scenarios() if s.name.startswith(prefix))
    out = io.StringIO()
    energy = run(scenario, data, history, DAYS, product=None, replan_slots=2, gap=0.02, out=out)
    fcr = run(
        scenario, data, history, DAYS, product=FcrProduct(), replan_slots=2, gap=0.02, out=out
    )
    assert f"{DAYS * 48}/{DAYS * 48} slots" in out.getvalue()  # progress lines
    assert energy.capacity_revenue == 0.0
    assert fcr.awarded_blocks > 0
    assert fcr.capacity_revenue > 0
    assert fcr.reserve_slots > 0
    assert fcr.reserve_violations == 0
    assert fcr.net_cost < energy.net_cost
    table = format_table([energy, fcr])
    assert "energy + FCR" in table
    assert "1.00" in table  # the energy-only reference row


def test_banded_limits_keep_the_band_free() -> None:
    battery = Battery(10.0, 5.0, 5.0, 5.0)
    limits = hard_limits(battery, Grid(12.0, 10.0))
    obeying, narrowed = banded(battery, limits, 2.0, 0.25)
    assert narrowed.max_charge_kw == 3.0
    assert narrowed.max_discharge_kw == 3.0
    assert narrowed.export_limit_kw == 8.0
    assert narrowed.soe_min_kwh == pytest.approx(2.0 * 0.25 / 0.95)
    assert narrowed.soe_max_kwh == pytest.approx(10.0 - 2.0 * 0.25 * 0.95)
    assert obeying.soe_min_kwh == narrowed.soe_min_kwh
    _, before_block = banded(battery, limits, 0.0, 0.25, soe_reserve_kw=2.0)
    assert before_block.max_charge_kw == 5.0
    assert before_block.soe_min_kwh == narrowed.soe_min_kwh


def test_cli_names_the_subcommand() -> None:
    args = parser().parse_args(["fcr-backtest", "--days", "2", "--only", "b"])
    assert args.days == 2
    assert args.share == 0.5


def test_gap_stops_early_and_says_so() -> None:
    spot = 10 + 10 * np.random.default_rng(2).random(48)
    site = Site.build(
        topology=Topology.STAND_ALONE,
        battery=Battery(10.0, 5.0, 5.0, 5.0),
        grid=Grid(5.0, 5.0),
        tariff=Tariff.of(spot, spot),
    )
    exact = optimize(site)
    loose = optimize(site, gap=0.05)
    assert loose.objective <= exact.objective + 0.05 * max(1.0, abs(exact.objective)) + 1e-9
    for bad in (-0.1, 1.0, float("nan")):
        with pytest.raises(ValueError, match="gap"):
            optimize(site, gap=bad)
