"""Windowed energy aligned to ISO-8601 window boundaries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bess_dispatch_core.gateway.window_accumulator import WindowAccumulator

T0 = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)


def _at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_windows_are_aligned_and_interpolated_at_the_boundaries() -> None:
    windows = WindowAccumulator(timedelta(minutes=5))
    # 1 kWh per minute, sampled at odd times.
    closed = []
    for minute in (1, 3, 6, 9, 11, 16):
        closed += windows.update(_at(minute), float(minute)).closed
    assert [(w.start, w.end) for w in closed] == [(_at(5), _at(10)), (_at(10), _at(15))]
    assert [w.energy_kwh for w in closed] == [pytest.approx(5.0), pytest.approx(5.0)]


def test_first_partial_window_is_skipped_unless_on_a_boundary() -> None:
    windows = WindowAccumulator(timedelta(minutes=30))
    update = windows.update(_at(10), 0.0)
    update = windows.update(_at(30), 2.0)
    assert update.closed == []
    assert update.skipped == [(_at(0), _at(30))]
    assert windows.update(_at(60), 5.0).closed[0].energy_kwh == pytest.approx(3.0)

    aligned = WindowAccumulator(timedelta(minutes=30))
    aligned.update(_at(0), 0.0)
    assert aligned.update(_at(30), 2.0).closed[0].energy_kwh == pytest.approx(2.0)


def test_one_sample_can_close_several_windows() -> None:
    windows = WindowAccumulator(timedelta(minutes=5), max_gap=timedelta(minutes=30))
    windows.update(_at(0), 0.0)
    closed = windows.update(_at(20), 4.0).closed
    assert [w.energy_kwh for w in closed] == [pytest.approx(1.0)] * 4


def test_a_long_gap_skips_the_windows_it_spans() -> None:
    windows = WindowAccumulator(timedelta(minutes=5), max_gap=timedelta(minutes=10))
    windows.update(_at(0), 0.0)
    windows.update(_at(4), 4.0)
    update = windows.update(_at(27), 27.0)
    assert update.closed == []
    assert update.skipped == [(_at(m), _at(m + 5)) for m in (0, 5, 10, 15, 20)]
    update = windows.update(_at(31), 31.0)
    assert update.skipped == [(_at(25), _at(30))]
    closed = windows.update(_at(36), 36.0).closed
    assert [(w.start, w.energy_kwh) for w in closed] == [(_at(30), pytest.approx(5.0))]


def test_a_falling_counter_gives_zero_not_negative_energy() -> None:
    windows = WindowAccumulator(timedelta(minutes=5))
    windows.update(_at(0), 10.0)
    assert windows.update(_at(5), 9.0).closed[0].energy_kwh == 0.0


def test_window_start_uses_the_origin() -> None:
    windows = WindowAccumulator(timedelta(minutes=30))
    assert windows.window_start(_at(47)) == _at(30)
    with pytest.raises(ValueError, match="window"):
        WindowAccumulator(timedelta(0))


def test_naive_times_are_refused_naming_what() -> None:
    with pytest.raises(ValueError, match="origin must be timezone-aware"):
        WindowAccumulator(timedelta(minutes=5), origin=datetime(2026, 1, 1))
    windows = WindowAccumulator(timedelta(minutes=5))
    with pytest.raises(ValueError, match="sample time must be timezone-aware"):
        windows.update(datetime(2026, 1, 1, 0, 1), 1.0)


def test_restoring_an_empty_state_starts_afresh_and_a_foreign_one_is_refused() -> None:
    windows = WindowAccumulator(timedelta(minutes=5))
    windows.update(_at(0), 10.0)
    windows.restore({"last_at": None, "last_kwh": None, "open_start": None})
    assert windows.to_dict()["last_kwh"] is None
    # A 30-minute accumulator's state does not fit a 5-minute one.
    thirty = WindowAccumulator(timedelta(minutes=30))
    thirty.update(_at(7), 1.0)
    with pytest.raises(ValueError, match="open_start does not match this window length"):
        windows.restore(thirty.to_dict())
