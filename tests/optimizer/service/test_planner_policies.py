"""The service plans a Pleevi-described site: its policy "at least 80 % at 06:00 on weekdays"
is met in the plan, and a target the battery cannot reach is reported as missed."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, time
from pathlib import Path

import numpy as np

from bess_dispatch_core.pleevi import Recurrence, SocPolicy, battery_device_entry
from optimizer.service.planner import PLAN_SLOTS, make_plan
from optimizer.service.prices import PriceTable
from optimizer.service.service import OptimizerService
from optimizer.service.site_memory import SLOT, SiteMemory
from optimizer.settings.site import SiteSettings, UseCase
from optimizer.simulation.day_run import demo_config

T0 = datetime(2026, 11, 19, 15, 0, tzinfo=UTC)  # Friday 00:00 in Tokyo


def pleevi_settings(*policies: SocPolicy) -> SiteSettings:
    entry = battery_device_entry(
        name="home-battery",
        collector="gw",
        capacity_kwh=10.0,
        max_charge_kw=5.0,
        max_discharge_kw=5.0,
        policies=policies,
    )
    return SiteSettings(
        site_id="home",
        gateway_id="gw",
        use_case=UseCase.STANDALONE,
        battery_capacity_kwh=10.0,
        max_charge_kw=5.0,
        max_discharge_kw=5.0,
        min_soe_percent=0.0,
        max_soe_percent=100.0,
        round_trip_efficiency=0.95 * 0.95,
        has_load=False,
        gateway_password=None,
        pleevi_battery=entry,
    )


def morning_peak(soe_kwh: float) -> tuple[SiteMemory, PriceTable]:
    """Dear 05:00-07:00 every morning (Tokyo): the battery would rather be empty by 06:00."""
    state = SiteMemory("home", "Asia/Tokyo")
    state.observe_soe(soe_kwh, T0)
    hours = (np.arange(PLAN_SLOTS) * 0.5) % 24
    prices = np.where((hours >= 5) & (hours < 7), 40.0, 10.0)
    return state, PriceTable({T0 + i * SLOT: float(p) for i, p in enumerate(prices)}, "peak")


def test_at_least_80_percent_at_6_on_weekdays_is_met_in_the_service_plan() -> None:
    friday_six = 11  # the slot ending 06:00 Friday (Tokyo)
    saturday_six = friday_six + 48
    state, prices = morning_peak(5.0)
    free = make_plan(pleevi_settings(), state, prices, 10.0, T0)
    assert free.plan.soe_kwh[friday_six] < 8.0

    policy = SocPolicy(80, 100, (time(6, 0),), Recurrence.WEEKDAYS)
    planned = make_plan(pleevi_settings(policy), state, prices, 10.0, T0)
    assert planned.plan.soe_kwh[friday_six] >= 8.0 - 1e-6
    assert planned.plan.soe_kwh[saturday_six] < 8.0  # Saturday is no weekday
    assert planned.missed_targets == ()


def test_a_target_out_of_reach_is_reported_missed() -> None:
    state, prices = morning_peak(0.0)
    policy = SocPolicy(100, 100, (time(0, 30),), Recurrence.DAILY)
    planned = make_plan(pleevi_settings(policy), state, prices, 10.0, T0)
    assert [miss.at.hour for miss in planned.missed_targets] == [0]  # Friday 00:30; Saturday is met
    assert planned.missed_targets[0].planned_kwh < 10.0


def test_own_settings_keep_the_square_root_of_the_round_trip() -> None:
    settings = dataclasses.replace(pleevi_settings(), pleevi_battery=None)
    assert settings.charge_efficiency is None
    assert settings.policies == ()


def test_the_status_reports_what_the_plan_misses(tmp_path: Path) -> None:
    policy = SocPolicy(100, 100, (time(0, 30),), Recurrence.DAILY)
    config = demo_config(
        host="127.0.0.1",
        port=1,  # never started: nothing listens there
        state_dir=tmp_path,
        price_file=tmp_path / "none.csv",
        sites=(pleevi_settings(policy),),
        export_price=10.0,
    )
    state, prices = morning_peak(0.0)
    service = OptimizerService(config, clock=lambda: T0, prices=prices)
    runtime = service._sites["home"]
    runtime.plan = make_plan(runtime.settings, state, prices, 10.0, T0)
    misses = service.status("home").policy_misses
    assert [miss.at.hour for miss in misses] == [0]
    assert misses[0].min_kwh == 10.0
