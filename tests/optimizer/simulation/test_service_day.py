"""End to end: the optimizer service and a simulated gateway over a real Mosquitto.

Each test runs (part of) a simulated day in accelerated time: the site is driven by the
gateway's own Dispatcher and TelemetryPipeline, the service by a simulated clock.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from bess_dispatch_core.protocol import Priority
from optimizer.baselines import self_consumption_rule
from optimizer.service.planner import build_site
from optimizer.service.service import OptimizerService
from optimizer.simulation.day_run import DayRun, wait_for
from optimizer.simulation.sample_profiles import DayProfiles, sample_days
from tests.helpers.demo_day import demo_day_run
from tests.plugins.mosquitto_broker import Broker

TOKYO = ZoneInfo("Asia/Tokyo")
FIRST = datetime(2024, 5, 14, tzinfo=TOKYO)
SOE_START = 5.0


@pytest.fixture
def profiles() -> DayProfiles:
    return sample_days(FIRST, days=2)


@pytest.fixture
def day_run(mosquitto_broker: Broker, profiles: DayProfiles, tmp_path: Path) -> Iterator[DayRun]:
    run = demo_day_run(mosquitto_broker, profiles, tmp_path, soe_kwh=SOE_START)
    run.start()
    try:
        yield run
    finally:
        run.stop()


def _local_times(run: DayRun, priority: Priority) -> list[datetime]:
    return [r.at.astimezone(TOKYO) for r in run.site.received if r.priority is priority]


def test_one_day_layers_limits_and_cost(day_run: DayRun, profiles: DayProfiles) -> None:
    day = profiles.day(1)
    day_run.run(day.start, day.start + timedelta(days=1) - timedelta(minutes=5))
    site = day_run.site

    assert all(r.accepted for r in site.received), [r for r in site.received if not r.accepted]
    p0 = _local_times(day_run, Priority.FALLBACK)
    assert [t.hour for t in p0] == [0]
    assert [t.hour for t in _local_times(day_run, Priority.DAY_AHEAD)] == [0, 6, 12, 18]
    p2_slots = sorted({(t.hour, t.minute) for t in _local_times(day_run, Priority.INTRADAY)})
    assert p2_slots == [(h, m) for h in range(24) for m in (0, 30)]

    soe = np.array([item.soe_end_kwh for item in site.executed])
    assert soe.min() >= site.limits.soe_min_kwh - 1e-6
    assert soe.max() <= site.limits.soe_max_kwh + 1e-6
    # Test mode: the service answers every telemetry message (the last ones may trail).
    assert wait_for(lambda: site.feedback_ok >= site.sent_telemetry, 5.0)
    assert site.feedback_errors == 0

    problem = build_site(
        site.settings,
        SOE_START,
        prices=day.import_price,
        export_price=day.export_price,
        pv_kw=day.pv_kw,
        load_kw=day.load_kw,
    )
    rule = self_consumption_rule(problem)
    value = problem.battery.terminal_value_per_kwh
    rule_cost = rule.energy_cost - value * (float(rule.soe_kwh[-1]) - SOE_START)
    service_cost = site.energy_cost() - value * (float(soe[-1]) - SOE_START)
    assert service_cost < rule_cost

    status = day_run.service.status(site.settings.site_id)
    assert status.connected
    assert status.last_error is None
    assert status.layers["p2"] is not None
    assert status.layers["p0"] is not None
    points = day_run.service.plan(site.settings.site_id)
    assert any(p.past for p in points)
    assert any(not p.past for p in points)

    # The realised saving, from what the service measured and stored: the measured PV and
    # load are the simulator's, so no battery costs what the day's profile says.
    realised = status.realised
    assert realised is not None
    measured = sorted(p.start for p in points if p.past)  # every measured slot of the day
    first = (measured[1] - day.start) // timedelta(minutes=30)
    slots = slice(first, first + len(measured) - 1)
    assert realised.hours == pytest.approx(0.5 * (len(measured) - 1))
    assert realised.hours >= 22
    net = day.load_kw[slots] - day.pv_kw[slots]
    expected = 0.5 * float(
        day.import_price[slots] @ np.maximum(net, 0) - day.export_price * np.maximum(-net, 0).sum()
    )
    assert realised.no_battery_cost == pytest.approx(expected, rel=0.02)
    assert realised.saving_vs_no_battery > 0


def test_broker_restart_planning_continues(
    day_run: DayRun, mosquitto_broker: Broker, profiles: DayProfiles
) -> None:
    start = profiles.day(1).start
    outage = start + timedelta(hours=3)
    day_run.run(start, outage - timedelta(minutes=5))
    mosquitto_broker.stop()
    assert wait_for(lambda: not day_run.service.link.connected, 5.0)
    day_run.run(outage, outage + timedelta(minutes=40))
    mosquitto_broker.restart()
    assert wait_for(lambda: day_run.service.link.connected and day_run.site.link.connected, 15.0)
    day_run.run(outage + timedelta(minutes=45), outage + timedelta(hours=2))

    after = [t for t in _local_times(day_run, Priority.INTRADAY) if t >= outage.astimezone(TOKYO)]
    assert {(t.hour, t.minute) for t in after} >= {(4, 0), (4, 30)}
    assert all(r.accepted for r in day_run.site.received)
    status = day_run.service.status(day_run.site.settings.site_id)
    assert status.connected
    assert status.last_telemetry is not None
    assert status.last_telemetry >= outage


def test_silent_site_gets_an_alert_and_keeps_its_layers(
    day_run: DayRun, profiles: DayProfiles, caplog: pytest.LogCaptureFixture
) -> None:
    start = profiles.day(1).start
    site_id = day_run.site.settings.site_id
    silent_from = start + timedelta(hours=2)
    day_run.run(start, silent_from)
    day_run.site.telemetry_enabled = False
    layers_before = day_run.service.status(site_id).layers
    received_before = len(day_run.site.received)
    with caplog.at_level(logging.WARNING):
        day_run.run(silent_from + timedelta(minutes=5), silent_from + timedelta(hours=1))
    status = day_run.service.status(site_id)
    assert status.last_error is not None
    assert status.last_error.startswith("no telemetry")
    assert not status.connected
    assert any("ALERT" in record.message for record in caplog.records)
    # No new layer was built on stale data; the gateway still holds the last valid ones.
    assert status.layers == layers_before
    new = day_run.site.received[received_before:]
    assert all(r.priority is Priority.FALLBACK for r in new)
    assert day_run.site.dispatcher.book.resolve(day_run.clock()) is not None

    day_run.site.telemetry_enabled = True
    back = silent_from + timedelta(hours=1, minutes=5)
    day_run.run(back, back + timedelta(minutes=30))
    assert day_run.service.status(site_id).last_error is None
    assert len(day_run.site.received) > received_before


def test_state_survives_a_service_restart(day_run: DayRun, profiles: DayProfiles) -> None:
    start = profiles.day(1).start
    day_run.run(start, start + timedelta(hours=2))
    site_id = day_run.site.settings.site_id
    before = day_run.service.status(site_id)
    history = [p for p in day_run.service.plan(site_id) if p.past]
    day_run.service.stop()

    restarted = OptimizerService(day_run.service.config, clock=day_run.clock)
    after = restarted.status(site_id)
    assert after.soe_kwh == before.soe_kwh
    assert after.layers == before.layers
    assert after.last_telemetry == before.last_telemetry
    restored = [p for p in restarted.plan(site_id) if p.past]
    assert [(p.start, p.pv_kw, p.load_kw) for p in restored] == [
        (p.start, p.pv_kw, p.load_kw) for p in history
    ]
    assert len(history) >= 3
