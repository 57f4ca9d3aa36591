"""Backtest on real data: re-plan every 30 minutes over a year and execute the first slot.

Scenarios (Tokyo, FY2024 by default; data sources in :mod:`optimizer.data`):
- home: 4 kWp PV (TEPCO area shape, 1,200 kWh/kWp), CAMSL home 140 load, 10 kWh / 5 kW
  battery at 95 % / 95 %. Retail tariff: import = JEPX Tokyo spot + 14.6 JPY/kWh (a flat
  adder standing for network charges, renewable surcharge and retail margin); export either
  fixed at 8.5 JPY/kWh (post-FIT buy-back) or at spot.
- stand-alone: the same battery, no PV/load, importing and exporting at spot, 5 kW grid.

Strategies, all executed with the same slot physics (:mod:`optimizer.physics`) on the real PV
and load: no battery; the self-consumption rule; own forecasts (a 48 h plan every 30 min, its
first slot executed); perfect foresight (one exact solve of the whole year on the real
series). Own forecasts: known day-ahead prices, same-weekday median beyond publication
(10:00 JST); PV = pvlib clear sky x the best measured/clear-sky ratio of the last 7 days
(biased upwards on purpose: under-forecast PV makes the plan buy or hold energy the sun then
supplies, which costs far more than the opposite error), with the last 2 h's ratio fading into
it over the next hours (:mod:`optimizer.forecast.pv_nowcast`); load = median of the same slot
over the last 14 weekdays or weekend days (:mod:`optimizer.forecast.load_median`; the
exponentially smoothed profile remains with ``load_median_days=0``).

Execution: the first slot's mode is what the service sends (:func:`optimizer.modes.plan_actions`,
the deployed mapping unless ``mapping`` names another of :data:`optimizer.modes.MAPPINGS`), run
through the gateway's own control law and hard limits (:mod:`optimizer.gateway_execution`).
``cautious`` sends SETPOINT only when the plan trades with the grid (charges beyond the forecast
PV surplus, or discharges beyond the forecast load), NO_DISCHARGE when it holds energy, and
SELF_CONSUMPTION otherwise, so the battery follows the real PV and load wherever the plan only
meant to self-consume; ``exact`` sends each slot's plan-equivalent mode
(:func:`optimizer.modes.suggest_actions`).

Guard: each re-plan also simulates the rule over the same forecast horizon; when the plan's
expected gain over the rule is below ``guard_margin`` (JPY per 48 h) the slot follows the
rule. This does not prove a year cannot end worse than the rule; the table
reports it.
``oracle`` replaces chosen forecasts by the real future to measure each forecast's share.
Energy left in the battery at the end of the year is credited at the same price for every
strategy (discharge efficiency x the year's lower-quartile import price).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import TextIO

import numpy as np

from .baselines import self_consumption_rule, simulate
from .data import SiteSeries
from .forecast.load import SmoothedProfile
from .forecast.load_median import RecentMedianProfile
from .forecast.load_weighted import WeightedHistoryProfile
from .forecast.price import forecast_prices, published_until
from .forecast.pv import RatioForecast, clear_sky_pv_kw
from .forecast.pv_nowcast import NowcastForecast
from .gateway_execution import execute, hard_limits
from .model import optimize
from .modes import DEPLOYED_MAPPING, MAPPINGS, plan_actions
from .physics import SELF_CONSUMPTION, Action
from .site import Battery, FloatArray, Grid, Site, Tariff, Topology

HORIZON_SLOTS = 96
WARMUP_DAYS = 35  # four weeks of price history for the same-weekday median, plus a margin
TAIL_DAYS = 3  # the last plans look 48 h past the end
RETAIL_ADDER_JPY = 14.6
FIXED_EXPORT_JPY = 8.5


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    topology: Topology
    battery: Battery
    grid: Grid
    import_price: Callable[[FloatArray], FloatArray]  # from spot
    export_price: Callable[[FloatArray], FloatArray]


def home_battery() -> Battery:
    return Battery(capacity_kwh=10.0, charge_max_kw=5.0, discharge_max_kw=5.0, soe_initial_kwh=0.0)


def standard_scenarios() -> list[Scenario]:
    home_grid = Grid(import_max_kw=12.0, export_max_kw=10.0)
    return [
        Scenario(
            "a1 home, export fixed 8.5",
            Topology.AC_LINK,
            home_battery(),
            home_grid,
            lambda spot: spot + RETAIL_ADDER_JPY,
            lambda spot: np.full_like(spot, FIXED_EXPORT_JPY),
        ),
        Scenario(
            "a2 home, export at spot",
            Topology.AC_LINK,
            home_battery(),
            home_grid,
            lambda spot: spot + RETAIL_ADDER_JPY,
            lambda spot: spot,
        ),
        Scenario(
            "b stand-alone at spot",
            Topology.STAND_ALONE,
            home_battery(),
            Grid(import_max_kw=5.0, export_max_kw=5.0),
            lambda spot: spot,
            lambda spot: spot,
        ),
    ]


@dataclass(slots=True)
class Trace:
    """What one strategy did, slot by slot, over the backtest window."""

    battery_kw: list[float] = field(default_factory=list)
    soe_kwh: list[float] = field(default_factory=list)
    cost: float = 0.0


@dataclass(frozen=True, slots=True)
class ScenarioResult:
    name: str
    no_battery: float
    rule: float
    own: float
    perfect: float
    fallback_share: float  # slots where the guard chose the rule
    price_mae: float  # JPY/kWh on slots not yet published when planned
    pv_mae: float  # kW over the horizon
    load_mae: float  # kW over the horizon
    seconds: float
    own_trace: Trace
    rule_trace: Trace
    perfect_soe: FloatArray

    @property
    def captured(self) -> float:
        """Share of the perfect-foresight gain over the rule that own forecasts capture."""
        headroom = self.rule - self.perfect
        return (self.rule - self.own) / headroom if headroom > 1e-9 else float("nan")


def _site(
    scenario: Scenario,
    *,
    spot: FloatArray,
    pv: FloatArray,
    load: FloatArray,
    soe: float,
    terminal_value: float,
    risk_cost: float = 0.0,
) -> Site:
    stand_alone = scenario.topology is Topology.STAND_ALONE
    zero = np.zeros_like(spot)
    return Site.build(
        topology=scenario.topology,
        battery=replace(
            scenario.battery,
            soe_initial_kwh=soe,
            terminal_value_per_kwh=terminal_value,
            cycle_cost_per_kwh=scenario.battery.cycle_cost_per_kwh + risk_cost,
        ),
        grid=scenario.grid,
        tariff=Tariff.of(scenario.import_price(spot), scenario.export_price(spot)),
        pv_kw=zero if stand_alone else pv,
        load_kw=zero if stand_alone else load,
    )


def _progress(out: TextIO, name: str, done: int, total: int, started: float) -> None:
    elapsed = time.perf_counter() - started
    eta = elapsed / done * (total - done) if done else 0.0
    bar = "#" * (30 * done // total)
    out.write(f"\r{name:<28} [{bar:<30}] {done:>5}/{total} {elapsed:5.0f}s eta {eta:4.0f}s")
    if done == total:
        out.write("\n")
    out.flush()


def run_scenario(
    scenario: Scenario,
    series: SiteSeries,
    days: int,
    *,
    guard_margin: float = 0.0,
    mapping: str = DEPLOYED_MAPPING,
    oracle: frozenset[str] = frozenset(),
    pv_days: int = 7,
    pv_quantile: float = 1.0,
    risk_cost: float = 0.0,
    load_alpha: float = 0.15,
    pv_fade_slots: float = 6.0,
    load_median_days: int = 14,
    load_weighted: bool = False,
    terminal_quantile: float = 0.25,
    out: TextIO = sys.stderr,
    progress: Callable[[int, int], None] | None = None,
) -> ScenarioResult:
    """Backtest ``days`` days starting WARMUP_DAYS into ``series``.

    ``progress(done, total)`` replaces the progress bar on ``out`` (parallel runs report to one).
    """
    if mapping not in MAPPINGS:
        raise ValueError(f"mapping: {mapping!r} is not one of {sorted(MAPPINGS)}")
    started = time.perf_counter()
    dt = 0.5
    first, total = WARMUP_DAYS * 48, days * 48
    last = first + total
    if series.spot.shape[0] < last + HORIZON_SLOTS:
        raise ValueError("series: too short for the backtest window plus the horizon")
    stand_alone = scenario.topology is Topology.STAND_ALONE
    pv_actual = np.zeros_like(series.pv_kw) if stand_alone else series.pv_kw
    load_actual = np.zeros_like(series.load_kw) if stand_alone else series.load_kw
    import_all = scenario.import_price(series.spot)
    export_all = scenario.export_price(series.spot)
    battery = scenario.battery
    limits = hard_limits(battery, scenario.grid)
    year_value = battery.discharge_efficiency * float(np.quantile(import_all[first:last], 0.25))

    window = slice(first, last)
    actual = _site(
        scenario,
        spot=series.spot[window],
        pv=pv_actual[window],
        load=load_actual[window],
        soe=battery.soe_initial_kwh,
        terminal_value=year_value,
    )
    none_cost = simulate(actual, None).net_cost
    rule_outcome = self_consumption_rule(actual)
    perfect = optimize(actual)

    clear_sky = clear_sky_pv_kw(series.slot_starts, series.kwp)
    day_level = RatioForecast(pv_actual, clear_sky, days=pv_days, quantile=pv_quantile)
    pv_forecast: RatioForecast | NowcastForecast = day_level
    if pv_fade_slots > 0:
        pv_forecast = NowcastForecast(pv_actual, clear_sky, day_level, fade_slots=pv_fade_slots)
    load_profile = SmoothedProfile(float(np.mean(load_actual[:first])), alpha=load_alpha)
    weekend = np.asarray(series.slot_starts.dayofweek >= 5)
    load_median = RecentMedianProfile(load_actual, weekend, days=max(load_median_days, 1))
    day_starts = series.slot_starts[::48]
    load_history = WeightedHistoryProfile(
        load_actual, np.asarray(day_starts.dayofweek, dtype=np.int64)
    )
    slot_of_day = np.arange(series.spot.shape[0]) % 48
    for i in range(first - 14 * 48, first):
        load_profile.observe(bool(weekend[i]), int(slot_of_day[i]), float(load_actual[i]))

    own = Trace()
    soe = battery.soe_initial_kwh
    fallbacks = 0
    errors = {"price": [0.0, 0], "pv": [0.0, 0], "load": [0.0, 0]}
    for step_index, i in enumerate(range(first, last)):
        horizon = slice(i, i + HORIZON_SLOTS)
        spot_fc = forecast_prices(series.spot, i, HORIZON_SLOTS)
        pv_fc = pv_forecast.forecast(i, HORIZON_SLOTS)
        if load_weighted:
            load_fc = load_history.forecast(i, HORIZON_SLOTS)
        elif load_median_days > 0:
            load_fc = load_median.forecast(i, HORIZON_SLOTS)
        else:
            load_fc = load_profile.forecast(weekend[horizon], slot_of_day[horizon])
        # Planning on the real future for some inputs isolates each forecast's share.
        if "price" in oracle:
            spot_fc = series.spot[horizon]
        if "pv" in oracle:
            pv_fc = pv_actual[horizon]
        if "load" in oracle:
            load_fc = load_actual[horizon]
        unpublished = np.arange(i, i + HORIZON_SLOTS) >= published_until(i)
        if np.any(unpublished):
            errors["price"][0] += float(np.abs(spot_fc - series.spot[horizon])[unpublished].sum())
            errors["price"][1] += int(unpublished.sum())
        if not stand_alone:
            errors["pv"][0] += float(np.abs(pv_fc - pv_actual[horizon]).sum())
            errors["load"][0] += float(np.abs(load_fc - load_actual[horizon]).sum())
            errors["pv"][1] += HORIZON_SLOTS
            errors["load"][1] += HORIZON_SLOTS
        terminal = battery.discharge_efficiency * float(
            np.quantile(scenario.import_price(spot_fc), terminal_quantile)
        )
        site = _site(
            scenario,
            spot=spot_fc,
            pv=pv_fc,
            load=load_fc,
            soe=soe,
            terminal_value=terminal,
            risk_cost=risk_cost,
        )
        plan = optimize(site)
        rule_expected = self_consumption_rule(site).net_cost
        action: Action
        if rule_expected - plan.objective < guard_margin:
            action = SELF_CONSUMPTION
            fallbacks += 1
        else:
            action = plan_actions(site, plan, mapping)[0]
        _, flows = execute(
            scenario.topology,
            battery,
            scenario.grid,
            limits,
            soe_kwh=soe,
            pv_kw=float(pv_actual[i]),
            load_kw=float(load_actual[i]),
            action=action,
            slot_hours=dt,
        )
        soe = flows.soe_end_kwh
        own.cost += dt * (import_all[i] * flows.import_kw - export_all[i] * flows.export_kw)
        own.cost += battery.cycle_cost_per_kwh * dt * (flows.charge_kw + flows.discharge_kw)
        own.battery_kw.append(flows.charge_kw - flows.discharge_kw)
        own.soe_kwh.append(soe)
        load_profile.observe(bool(weekend[i]), int(slot_of_day[i]), float(load_actual[i]))
        if step_index % 200 == 0 or step_index == total - 1:
            if progress is not None:
                progress(step_index + 1, total)
            else:
                _progress(out, scenario.name, step_index + 1, total, started)
    own.cost -= year_value * soe
    rule_trace = Trace(
        list(rule_outcome.battery_kw), list(rule_outcome.soe_kwh), rule_outcome.net_cost
    )

    def mae(kind: str) -> float:
        total_error, count = errors[kind]
        return total_error / count if count else float("nan")

    return ScenarioResult(
        scenario.name,
        none_cost,
        rule_outcome.net_cost,
        own.cost,
        perfect.energy_cost + perfect.cycle_cost - perfect.terminal_value,
        fallbacks / total,
        mae("price"),
        mae("pv"),
        mae("load"),
        time.perf_counter() - started,
        own,
        rule_trace,
        perfect.soe_kwh,
    )


def format_table(results: list[ScenarioResult]) -> str:
    header = (
        f"{'scenario':<28} {'no battery':>11} {'rule':>11} {'own fcst':>11} {'perfect':>11} "
        f"{'captured':>9} {'guard':>6} {'MAE price':>9} {'MAE pv':>7} {'MAE load':>8} {'time':>6}"
    )
    lines = [header, "-" * len(header)]
    for r in results:
        lines.append(
            f"{r.name:<28} {r.no_battery:>11,.0f} {r.rule:>11,.0f} {r.own:>11,.0f} "
            f"{r.perfect:>11,.0f} {r.captured:>9.1%} {r.fallback_share:>6.0%} "
            f"{r.price_mae:>9.2f} {r.pv_mae:>7.3f} {r.load_mae:>8.3f} {r.seconds:>5.0f}s"
        )
    lines.append(
        "yearly cost in JPY (lower is better); captured = (rule - own) / (rule - perfect); "
        "guard = share of slots that followed the rule; MAE price in JPY/kWh on unpublished "
        "slots, PV and load in kW over the 48 h horizon"
    )
    return "\n".join(lines)


def plot_week(result: ScenarioResult, series: SiteSeries, start_day: int, path: Path) -> None:
    """A sample week of one scenario: prices, PV and load, and SoE of the strategies."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    length = min(7 * 48, len(result.own_trace.soe_kwh) - start_day * 48)
    first = WARMUP_DAYS * 48 + start_day * 48
    local = slice(start_day * 48, start_day * 48 + length)
    times = series.slot_starts[first : first + length]
    window = slice(first, first + length)
    figure, (prices, power, energy) = plt.subplots(3, 1, sharex=True, figsize=(12, 8))
    prices.plot(times, series.spot[window], label="JEPX Tokyo spot")
    prices.set_ylabel("JPY/kWh")
    prices.legend(loc="upper right")
    power.plot(times, series.pv_kw[window], label="PV")
    power.plot(times, series.load_kw[window], label="load")
    power.plot(times, np.array(result.own_trace.battery_kw)[local], label="battery (own)")
    power.set_ylabel("kW")
    power.legend(loc="upper right")
    energy.plot(times, np.array(result.rule_trace.soe_kwh)[local], label="rule", lw=3, alpha=0.5)
    energy.plot(times, result.perfect_soe[local], label="perfect foresight")
    energy.plot(times, np.array(result.own_trace.soe_kwh)[local], "k--", label="own forecasts")
    energy.set_ylabel("SoE kWh")
    energy.legend(loc="upper right")
    figure.suptitle(f"{result.name}: week from {times[0]:%Y-%m-%d}")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)


def backtest_window(first_day: date, days: int) -> tuple[date, int]:
    """The series to load: warm-up before ``first_day`` and a tail after the window."""
    return first_day - timedelta(days=WARMUP_DAYS), days + WARMUP_DAYS + TAIL_DAYS
