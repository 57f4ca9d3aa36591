"""Per-metric publishing cadence, driven by plain datetimes (no real clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bess_dispatch_core.gateway.telemetry_scheduler import MetricCadence, TelemetryScheduler
from bess_dispatch_core.protocol.metrics import BATTERY_ENERGY_REMAINING, CURTAILMENT

T0 = datetime(2026, 11, 21, 4, 0, 20, tzinfo=UTC)  # 20 s past a whole minute


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _run(scheduler: TelemetryScheduler, until_s: int, step_s: int = 1) -> dict[str, list[int]]:
    sent: dict[str, list[int]] = {m: [] for m in scheduler.metrics}
    for second in range(0, until_s, step_s):
        for metric in scheduler.due(_at(second)):
            sent[metric].append(second)
    return sent


def test_each_metric_runs_on_its_own_aligned_timer() -> None:
    scheduler = TelemetryScheduler(
        [
            MetricCadence("meter_import_ac"),
            MetricCadence("battery_soe", timedelta(minutes=5)),
        ],
        now=T0,
    )
    sent = _run(scheduler, 11 * 60)
    # Due at start, then on whole minutes (T0 is 20 s past one).
    assert sent["meter_import_ac"][:3] == [0, 40, 100]
    assert len(sent["meter_import_ac"]) == 12  # 0 s, then 40 s ... 640 s
    assert sent["battery_soe"] == [0, 280, 580]


def test_next_due_is_the_earliest_timer() -> None:
    scheduler = TelemetryScheduler(
        [MetricCadence("a", timedelta(minutes=1)), MetricCadence("b", timedelta(minutes=10))],
        now=T0,
    )
    assert scheduler.next_due() == T0
    assert scheduler.due(T0) == ["a", "b"]
    assert scheduler.next_due() == _at(40)
    assert scheduler.due(_at(39)) == []


def test_a_pause_fires_once_not_once_per_missed_slot() -> None:
    scheduler = TelemetryScheduler([MetricCadence("a")], now=T0)
    scheduler.due(T0)
    assert scheduler.due(_at(3600)) == ["a"]
    assert scheduler.due(_at(3601)) == []


def test_curtailment_is_sent_on_change_and_daily() -> None:
    scheduler = TelemetryScheduler([MetricCadence.default(CURTAILMENT)], now=T0)
    assert scheduler.due(T0) == [CURTAILMENT]
    assert not scheduler.observe(CURTAILMENT, 100.0, _at(1))  # first value: sent at start
    assert not scheduler.observe(CURTAILMENT, 100.0, _at(5))
    assert scheduler.due(_at(10)) == []
    assert scheduler.observe(CURTAILMENT, 60.0, _at(20))
    assert scheduler.next_due() == _at(20)
    assert scheduler.due(_at(21)) == [CURTAILMENT]
    assert scheduler.due(_at(22)) == []
    assert scheduler.next_due() == datetime(2026, 11, 22, tzinfo=UTC)


def test_protocol_limits_on_cadences() -> None:
    assert MetricCadence.default(BATTERY_ENERGY_REMAINING).interval == timedelta(hours=1)
    assert MetricCadence.default("battery_soe", timedelta(minutes=2)).interval == timedelta(
        minutes=2
    )
    MetricCadence(BATTERY_ENERGY_REMAINING, timedelta(days=1))
    with pytest.raises(ValueError, match="meter_import_ac must be at most 0:10:00"):
        MetricCadence("meter_import_ac", timedelta(minutes=11))
    with pytest.raises(ValueError, match="battery_energy_remaining must be at most 1 day"):
        MetricCadence(BATTERY_ENERGY_REMAINING, timedelta(days=2))
    with pytest.raises(ValueError, match="positive"):
        MetricCadence("a", timedelta(0))
    with pytest.raises(ValueError, match="two cadences"):
        TelemetryScheduler([MetricCadence("a"), MetricCadence("a")], now=T0)
    with pytest.raises(ValueError, match="no cadence"):
        TelemetryScheduler([], now=T0).observe("x", 1, T0)
