"""Backtest of energy only against energy + FCR on real data (issue 19).

    scripts/env python -m optimizer fcr-backtest --data ../shared/data [--days 365]

FY2024 Tokyo, the home of today (``a1``: 4 kWp PV, CAMSL home 140, 10 kWh / 5 kW, import at
spot + 14.6, export fixed 8.5) and the stand-alone battery (``b``: spot both ways, 5 kW grid),
with the forecasts and slot physics of :mod:`optimizer.backtest`: a 48 h plan every
``replan_slots`` slots, its next slots executed through the gateway's control law.

FCR (EPRX online primary control by default): the plan's block capacities are the offers; a
block's offer counts from the last re-plan before its window closes (14:00 the day before).
Price taker: an offer is awarded in full when the Tokyo area cleared in that block and paid
the block's average price x the aggregator's share; from then on the award is a duty in every
plan; awards more than an hour ahead that the plan can no longer keep are cancelled (unpaid;
a plan without a solver answer cancels nothing). During an awarded block the gateway's hard
limits hold the band free (power limits minus the capacity, SoE window narrowed by the
activation energy, export limit minus the capacity); in the block before, the SoE window is
already narrowed, and in both the gateway follows the plan's baseline power. And
every executed slot is checked against the full reserve: power headroom both ways (battery,
import, export) and the SoE band at the slot's start and end. Block prices in the plan: the
forecast of :mod:`optimizer.fcr.price_forecast` (published results only).

No guard against the rule here (unlike :mod:`optimizer.backtest`): both variants execute
their plan, so the difference is the FCR alone.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TextIO

import numpy as np
import pandas as pd

from bess_dispatch_core.gateway.control_law import HardLimits
from bess_dispatch_core.protocol import ControlMode

from ..backtest import HORIZON_SLOTS, WARMUP_DAYS, Scenario, backtest_window, standard_scenarios
from ..baselines import simulate
from ..data import SiteSeries, load_tokyo_home
from ..forecast.load_median import RecentMedianProfile
from ..forecast.price import forecast_prices
from ..forecast.pv import RatioForecast, clear_sky_pv_kw
from ..forecast.pv_nowcast import NowcastForecast
from ..gateway_execution import execute, hard_limits
from ..model import optimize
from ..modes import plan_actions
from ..physics import Action, SlotFlows
from ..result import PlanStatus
from ..site import Battery, Site, Tariff, Topology
from .block_calendar import BLOCK_HOURS, BLOCKS_PER_DAY, horizon_blocks, market_for, offer_window
from .cancellation import AtRisk, Cancellation, review_awards
from .history import BlockHistory, load_block_history
from .market import SLOT_PRICE_HOURS, FcrProduct
from .price_forecast import forecast_blocks, forecast_errors

_TOL_KW = 1e-6
LEAD_SLOTS = 6  # the gateway keeps an award's band from 3 hours before its block
KEPT_TOL_KW = 1e-3  # a reserve kept to within 1 W counts as kept (execution rounding)


@dataclass(frozen=True, slots=True)
class FcrResult:
    scenario: str
    with_fcr: bool
    no_battery: float  # JPY, the year without a battery
    energy_cost: float  # JPY, imports - exports + cycle cost - energy left at the end
    capacity_revenue: float  # JPY, the owner's share of the awarded capacity's payment
    offered_blocks: int
    awarded_blocks: int
    awarded_kw_blocks: float  # sum of awarded kW over blocks
    cancelled_blocks: int
    at_risk_blocks: int  # awards the plan could not keep within the hour (alerts)
    reserve_slots: int  # executed slots inside an awarded block
    reserve_violations: int  # of those, slots where the full reserve was not available
    statuses: dict[str, int]
    seconds: float

    @property
    def energy_saving(self) -> float:
        return self.no_battery - self.energy_cost

    @property
    def net_cost(self) -> float:
        return self.energy_cost - self.capacity_revenue


def reserve_kept_kw(
    site_battery: Battery,
    *,
    limits: HardLimits,
    import_max_kw: float,
    flows: SlotFlows,
    soe_start: float,
    duration_hours: float,
) -> float:
    """The largest full activation an executed slot still had room for, either way."""
    b = site_battery
    battery_kw = flows.charge_kw - flows.discharge_kw
    grid_kw = flows.import_kw - flows.export_kw
    export = limits.export_limit_kw if limits.export_limit_kw is not None else np.inf
    room = [
        b.charge_max_kw - battery_kw,
        b.discharge_max_kw + battery_kw,
        import_max_kw - grid_kw,
        export + grid_kw,
    ]
    for level in (soe_start, flows.soe_end_kwh):
        room.append((level - b.soe_min_kwh) * b.discharge_efficiency / duration_hours)
        room.append((b.soe_max - level) / (duration_hours * b.charge_efficiency))
    return max(min(room), 0.0)


def banded(
    battery: Battery,
    limits: HardLimits,
    reserve_kw: float,
    duration_hours: float,
    *,
    soe_reserve_kw: float | None = None,
) -> tuple[Battery, HardLimits]:
    """The gateway's hard limits with an FCR band kept free, and the battery as it obeys them.

    ``soe_reserve_kw`` (default ``reserve_kw``) sizes the SoE band alone: the slot before an
    awarded block keeps the block's band so the block starts inside it."""
    band = reserve_kw if soe_reserve_kw is None else soe_reserve_kw
    low = battery.soe_min_kwh + band * duration_hours / battery.discharge_efficiency
    high = battery.soe_max - band * duration_hours * battery.charge_efficiency
    high = max(high, low)
    export = (
        None if limits.export_limit_kw is None else max(limits.export_limit_kw - reserve_kw, 0.0)
    )
    narrowed = replace(
        limits,
        soe_min_kwh=low,
        soe_max_kwh=high,
        max_charge_kw=max(limits.max_charge_kw - reserve_kw, 0.0),
        max_discharge_kw=max(limits.max_discharge_kw - reserve_kw, 0.0),
        export_limit_kw=export,
    )
    obeying = replace(
        battery,
        soe_min_kwh=low,
        soe_max_kwh=high,
        charge_max_kw=narrowed.max_charge_kw,
        discharge_max_kw=narrowed.max_discharge_kw,
        soe_initial_kwh=min(battery.soe_initial_kwh, battery.capacity_kwh),
    )
    return obeying, narrowed


def _progress(out: TextIO, name: str, done: int, total: int, started: float) -> None:
    elapsed = time.perf_counter() - started
    eta = elapsed / done * (total - done) if done else 0.0
    out.write(f"{name:<34} {done:>6}/{total} slots {elapsed:6.0f} s, eta {eta:5.0f} s\n")
    out.flush()


def run(
    scenario: Scenario,
    series: SiteSeries,
    history: BlockHistory,
    days: int,
    *,
    product: FcrProduct | None,
    replan_slots: int = 1,
    budget_s: float | None = 0.3,
    gap: float = 1e-3,
    out: TextIO = sys.stderr,
) -> FcrResult:
    """Backtest ``days`` days from WARMUP_DAYS into ``series``; ``product`` None: energy only."""
    started = time.perf_counter()
    dt = 0.5
    per_block = round(BLOCK_HOURS / dt)
    first, total = WARMUP_DAYS * 48, days * 48
    last = first + total
    if series.spot.shape[0] < last + HORIZON_SLOTS:
        raise ValueError("series: too short for the backtest window plus the horizon")
    stand_alone = scenario.topology is Topology.STAND_ALONE
    pv_actual = np.zeros_like(series.pv_kw) if stand_alone else series.pv_kw
    load_actual = np.zeros_like(series.load_kw) if stand_alone else series.load_kw
    import_all = scenario.import_price(series.spot)
    export_all = scenario.export_price(series.spot)
    battery, grid = scenario.battery, scenario.grid
    limits = hard_limits(battery, grid)
    year_value = battery.discharge_efficiency * float(np.quantile(import_all[first:last], 0.25))
    window = slice(first, last)
    none_cost = simulate(
        Site.build(
            topology=scenario.topology,
            battery=battery,
            grid=grid,
            tariff=Tariff.of(import_all[window], export_all[window]),
            pv_kw=pv_actual[window],
            load_kw=load_actual[window],
        ),
        None,
    ).net_cost

    clear_sky = clear_sky_pv_kw(series.slot_starts, series.kwp)
    day_level = RatioForecast(pv_actual, clear_sky, days=7, quantile=1.0)
    pv_forecast = NowcastForecast(pv_actual, clear_sky, day_level, fade_slots=6.0)
    weekend = np.asarray(series.slot_starts.dayofweek >= 5)
    load_median = RecentMedianProfile(load_actual, weekend, days=14)

    starts = series.slot_starts
    value = history.value
    awards: dict[datetime, float] = {}
    paid: dict[datetime, float] = {}
    counts = Counter[str]()
    statuses = Counter[str]()
    reserve_slots = violations = 0
    soe = battery.soe_initial_kwh
    energy_cost = 0.0
    revenue = 0.0
    duration = product.duration_hours if product is not None else 0.0
    name = f"{scenario.name[:20]} {'+ FCR' if product else 'energy only'}"
    for step_index, i in enumerate(range(first, last, replan_slots)):
        now = starts[i].to_pydatetime()
        spot_fc = forecast_prices(series.spot, i, HORIZON_SLOTS)
        terminal = battery.discharge_efficiency * float(
            np.quantile(scenario.import_price(spot_fc), 0.25)
        )
        market = None
        blocks = []
        if product is not None:
            blocks = horizon_blocks(now, HORIZON_SLOTS, dt)
            indices = [history.index_of(pd.Timestamp(b.start)) for b in blocks]
            prices = dict(
                zip((b.start for b in blocks), forecast_blocks(history, indices), strict=True)
            )
            market = market_for(
                product, now, HORIZON_SLOTS, dt, now=now, prices=prices, awards=awards
            )
        site = Site.build(
            topology=scenario.topology,
            battery=replace(battery, soe_initial_kwh=soe, terminal_value_per_kwh=terminal),
            grid=grid,
            tariff=Tariff.of(scenario.import_price(spot_fc), scenario.export_price(spot_fc)),
            pv_kw=np.zeros(HORIZON_SLOTS)
            if stand_alone
            else pv_forecast.forecast(i, HORIZON_SLOTS),
            load_kw=np.zeros(HORIZON_SLOTS)
            if stand_alone
            else load_median.forecast(i, HORIZON_SLOTS),
            fcr=market,
        )
        plan = optimize(site, budget_s=budget_s, gap=gap)
        statuses[plan.status.value] += 1
        if market is not None:
            next_plan = starts[min(i + replan_slots, len(starts) - 1)].to_pydatetime()
            for index, (block, fcr_block) in enumerate(zip(blocks, market.blocks, strict=True)):
                closes = offer_window(block.start.date())[1]
                if not fcr_block.offerable or next_plan < closes:
                    continue
                # The last re-plan before the window closes: its capacity is the offer.
                offer = float(plan.fcr_kw[index])
                if offer <= _TOL_KW:
                    continue
                counts["offered"] += 1
                position = history.index_of(pd.Timestamp(block.start))
                if history.cleared[position]:
                    awards[block.start] = offer
                    paid[block.start] = offer * float(value[position])
            # A plan without a solver answer (RULE) is no evidence an award is lost.
            cancel: list[Cancellation] = []
            at_risk: list[AtRisk] = []
            if plan.status is not PlanStatus.RULE:
                cancel, at_risk = review_awards(site, plan, [b.start for b in blocks], now)
            for item in cancel:
                counts["cancelled"] += 1
                awards[item.block_start] = 0.0  # withdrawn: no duty, no payment
                paid.pop(item.block_start, None)
            counts["at_risk"] += len(at_risk)
        actions = plan_actions(site, plan)
        for k in range(min(replan_slots, last - i)):
            j = i + k
            block_start = pd.Timestamp(starts[j]).floor(f"{BLOCK_HOURS}h").to_pydatetime()
            reserve = awards.get(block_start, 0.0) if product is not None else 0.0
            following = block_start + timedelta(hours=BLOCK_HOURS)
            upcoming = 0.0
            if product is not None and (j - first) % per_block >= per_block - LEAD_SLOTS:
                upcoming = awards.get(following, 0.0)
            slot_battery, slot_limits = battery, limits
            action = actions[k]
            if max(reserve, upcoming) > _TOL_KW:
                slot_battery, slot_limits = banded(
                    battery, limits, reserve, duration, soe_reserve_kw=max(reserve, upcoming)
                )
                # Within and in the block before an award the gateway follows the baseline
                # (the plan's battery power), which keeps the SoE on the planned path.
                action = Action(ControlMode.SETPOINT, power_kw=float(plan.battery_kw[k]))
            soe_start = soe
            _, flows = execute(
                scenario.topology,
                slot_battery,
                grid,
                slot_limits,
                soe_kwh=soe,
                pv_kw=float(pv_actual[j]),
                load_kw=float(load_actual[j]),
                action=action,
                slot_hours=dt,
            )
            soe = flows.soe_end_kwh
            energy_cost += dt * (import_all[j] * flows.import_kw - export_all[j] * flows.export_kw)
            energy_cost += battery.cycle_cost_per_kwh * dt * (flows.charge_kw + flows.discharge_kw)
            if reserve > _TOL_KW:
                reserve_slots += 1
                kept = reserve_kept_kw(
                    battery,
                    limits=limits,
                    import_max_kw=grid.import_max_kw,
                    flows=flows,
                    soe_start=soe_start,
                    duration_hours=duration,
                )
                if kept < reserve - KEPT_TOL_KW:
                    violations += 1
        if step_index % max(1, 480 // replan_slots) == 0 or i + replan_slots >= last:
            _progress(out, name, min(i + replan_slots, last) - first, total, started)
    energy_cost -= year_value * soe
    share = product.aggregator_share if product is not None else 0.0
    delivered = {
        start: amount
        for start, amount in paid.items()
        if pd.Timestamp(start) >= starts[first] and pd.Timestamp(start) < starts[last - 1]
    }
    revenue = share * per_block * dt / SLOT_PRICE_HOURS * sum(delivered.values())
    awarded = [kw for start, kw in awards.items() if kw > _TOL_KW and start in delivered]
    return FcrResult(
        scenario.name,
        product is not None,
        none_cost,
        energy_cost,
        revenue,
        counts["offered"],
        len(awarded),
        float(sum(awarded)),
        counts["cancelled"],
        counts["at_risk"],
        reserve_slots,
        violations,
        dict(statuses),
        time.perf_counter() - started,
    )


def format_table(results: list[FcrResult]) -> str:
    header = (
        f"{'scenario':<26} {'variant':<12} {'no battery':>11} {'energy cost':>11} "
        f"{'energy gain':>11} {'FCR rev.':>9} {'net cost':>11} {'x ref':>6} {'offered':>8} "
        f"{'awarded':>8} {'kW avg':>6} {'cancel':>6} {'risk':>5} {'reserve slots':>13} "
        f"{'violated':>8} {'time':>6}"
    )
    lines = [header, "-" * len(header)]
    reference: dict[str, float] = {}
    for r in results:
        if not r.with_fcr:
            reference[r.scenario] = r.no_battery - r.net_cost
    for r in results:
        gain = r.no_battery - r.net_cost
        ref = reference.get(r.scenario)
        ratio = f"{gain / ref:6.2f}" if ref else f"{'-':>6}"
        average = r.awarded_kw_blocks / r.awarded_blocks if r.awarded_blocks else 0.0
        lines.append(
            f"{r.scenario[:26]:<26} {'energy + FCR' if r.with_fcr else 'energy only':<12} "
            f"{r.no_battery:>11,.0f} {r.energy_cost:>11,.0f} {r.energy_saving:>11,.0f} "
            f"{r.capacity_revenue:>9,.0f} {r.net_cost:>11,.0f} {ratio} {r.offered_blocks:>8} "
            f"{r.awarded_blocks:>8} {average:>6.2f} {r.cancelled_blocks:>6} {r.at_risk_blocks:>5} "
            f"{r.reserve_slots:>13} {r.reserve_violations:>8} {r.seconds:>5.0f}s"
        )
    lines.append(
        "JPY over the window (lower cost is better); energy gain = no battery - energy cost; "
        "x ref = (no battery - net cost) / the same for energy only (the reference row); "
        "offered/awarded in blocks; violated = executed slots without the full reserve"
    )
    return "\n".join(lines)


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``python -m optimizer fcr-backtest``."""
    parser = commands.add_parser("fcr-backtest", help="energy only vs energy + FCR on real data")
    parser.add_argument("--data", type=Path, default=Path("../shared/data"), help="data directory")
    parser.add_argument("--start", default="2024-04-01", help="first day (FY2024 default)")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--product", default="fcr", choices=("fcr", "fcr_offline"))
    parser.add_argument("--share", type=float, default=0.5, help="aggregator share to the owner")
    parser.add_argument("--duration", type=float, default=15.0, help="activation minutes")
    parser.add_argument("--replan", type=int, default=1, help="re-plan every N slots")
    parser.add_argument("--budget", type=float, default=0.3, help="seconds per plan (p2's)")
    parser.add_argument("--gap", type=float, default=1e-3, help="relative gap that ends a plan")
    parser.add_argument("--only", default="", help="scenario name prefix (a1, b)")
    parser.set_defaults(handler=_command)


def _command(args: argparse.Namespace) -> int:
    if args.days < 1 or args.replan < 1 or args.budget <= 0:
        raise SystemExit("fcr-backtest: --days, --replan and --budget must be positive")
    first_day = date.fromisoformat(args.start)
    load_from, load_days = backtest_window(first_day, args.days)
    series = load_tokyo_home(args.data, load_from, load_days, year_first_day=first_day)
    history = load_block_history(args.data, product=args.product)
    product = FcrProduct(duration_minutes=args.duration, aggregator_share=args.share)
    chosen = [s for s in standard_scenarios() if s.name.startswith(("a1", "b"))]
    chosen = [s for s in chosen if not args.only or s.name.startswith(args.only)]
    results: list[FcrResult] = []
    for scenario in chosen:
        for fcr in (None, product):
            results.append(
                run(
                    scenario,
                    series,
                    history,
                    args.days,
                    product=fcr,
                    replan_slots=args.replan,
                    budget_s=args.budget,
                    gap=args.gap,
                )
            )
    print(format_table(results))
    for r in results:
        print(f"{r.scenario} {'+ FCR' if r.with_fcr else 'energy'}: plan statuses {r.statuses}")
    print(format_forecast_errors(history, first_day, args.days, args.product))
    return 0


def format_forecast_errors(history: BlockHistory, first_day: date, days: int, product: str) -> str:
    """The block price forecasts' errors over the backtest window (published history only)."""
    first = history.index_of(pd.Timestamp(first_day, tz="Asia/Tokyo"))
    last = min(first + days * BLOCKS_PER_DAY, len(history.starts))
    header = (
        f"{'forecast of ' + product + ' block earnings':<36} {'MAE':>7} {'bias':>7} {'actual':>7}"
    )
    lines = [header, "-" * len(header)]
    for days_back in (7, 28):
        for error in forecast_errors(history, first, last, days_back):
            if days_back == 28 and error.method.startswith("same block the day"):
                continue  # the same method at both lengths
            lines.append(
                f"{error.method:<36} {error.mae:>7.2f} {error.bias:>7.2f} {error.mean_actual:>7.2f}"
            )
    lines.append(
        f"JPY per kW per 30 min, {last - first} blocks; actual = mean earnings of one kW offered "
        "(0 where the area did not clear); the backtest uses 'the day before'"
    )
    return "\n".join(lines)
