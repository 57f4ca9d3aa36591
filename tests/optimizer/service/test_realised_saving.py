"""The realised saving of the last 7 days, from the slots the service measured."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from optimizer.baselines import no_battery, self_consumption_rule
from optimizer.service.planner import build_site
from optimizer.service.realised import realised_economics
from optimizer.service.site_memory import SLOT, PastSlot
from optimizer.simulation.day_run import sample_site

NOW = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)


def test_a_battery_that_did_nothing_saved_nothing_against_no_battery() -> None:
    start = NOW - timedelta(hours=4)
    history = [PastSlot(start + i * SLOT, 1.0, 0.4, 0.0, 5.0) for i in range(8)]
    prices = {slot.start: 20.0 for slot in history}
    realised = realised_economics(history, prices, sample_site(), export_price=8.0, now=NOW)
    assert realised is not None
    assert realised.hours == pytest.approx(3.5)  # the first slot only gives the SoE
    # 0.6 kW exported for 3.5 h at 8 with or without this idle battery.
    assert realised.no_battery_cost == pytest.approx(-0.6 * 3.5 * 8.0)
    assert realised.actual_cost == pytest.approx(realised.no_battery_cost)
    # The rule would have stored that surplus instead: it beats an idle battery.
    assert realised.saving_vs_rule < 0


def test_matches_the_rule_and_no_battery_on_the_same_measured_slots() -> None:
    start = NOW - timedelta(days=1)
    hours = np.arange(48) * 0.5
    pv = np.clip(3.0 * np.sin((hours - 6) / 12 * np.pi), 0.0, None)
    load = np.full(48, 0.7)
    price = np.where((hours >= 17) & (hours < 22), 40.0, 12.0)
    battery = np.where(hours < 3, 2.0, np.where((hours >= 17) & (hours < 20), -2.0, 0.0))
    soe = 2.0 + np.cumsum(np.where(battery > 0, battery * 0.95, battery / 0.95)) * 0.5
    history = [
        PastSlot(start + i * SLOT, float(pv[i]), float(load[i]), float(battery[i]), float(soe[i]))
        for i in range(48)
    ]
    prices = {slot.start: float(price[i]) for i, slot in enumerate(history)}
    settings = sample_site()
    realised = realised_economics(history, prices, settings, export_price=8.0, now=NOW)
    assert realised is not None
    site = build_site(
        settings, float(soe[0]), prices=price[1:], export_price=8.0, pv_kw=pv[1:], load_kw=load[1:]
    )
    assert realised.no_battery_cost == pytest.approx(no_battery(site).energy_cost)
    value = site.battery.terminal_value_per_kwh
    rule = self_consumption_rule(site)
    assert realised.rule_cost == pytest.approx(
        rule.energy_cost + rule.cycle_cost - value * (float(rule.soe_kwh[-1]) - soe[0])
    )
    grid = load[1:] - pv[1:] + battery[1:]
    energy = 0.5 * float(price[1:] @ np.maximum(grid, 0) - 8.0 * np.maximum(-grid, 0).sum())
    assert realised.actual_cost == pytest.approx(energy - value * (soe[-1] - soe[0]))
    # Night charging at 12 for the evening at 40 beats no battery; the rule, storing the
    # midday surplus instead of exporting it at 8, does better still on this day.
    assert realised.saving_vs_no_battery > 0
    assert realised.saving_vs_rule < 0


def test_only_the_last_seven_days_with_a_load_a_soe_and_a_price() -> None:
    old = PastSlot(NOW - timedelta(days=8), 1.0, 0.5, 0.0, 5.0)
    no_load = PastSlot(NOW - timedelta(hours=3), 1.0, None, 0.0, 5.0)
    no_price = PastSlot(NOW - timedelta(hours=2), 1.0, 0.5, 0.0, 5.0)
    good = [PastSlot(NOW - timedelta(hours=1) + i * SLOT, 1.0, 0.5, 0.0, 5.0) for i in range(2)]
    history = [old, no_load, no_price, *good]
    prices = {slot.start: 20.0 for slot in history if slot is not no_price}
    realised = realised_economics(history, prices, sample_site(), export_price=8.0, now=NOW)
    assert realised is not None
    assert realised.hours == pytest.approx(0.5)
    assert realised_economics(history[:3], prices, sample_site(), export_price=8.0, now=NOW) is None
