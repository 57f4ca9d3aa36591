"""The live service's forecasts from measured slots: load median, PV clear-sky ratio."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from optimizer.forecast.pv import clear_sky_pv_kw
from optimizer.service.site_forecast import forecast_site
from optimizer.service.site_memory import PastSlot, SiteMemory, load_state, save_state
from optimizer.settings.site import PvSystem

SLOT = timedelta(minutes=30)
TOKYO = ZoneInfo("Asia/Tokyo")
PLACE = PvSystem(kwp=4.0, latitude=35.69, longitude=139.76)


def _starts(first: datetime, count: int) -> list[datetime]:
    return [first + index * SLOT for index in range(count)]


def _load_of(moment: datetime, zone: ZoneInfo) -> float:
    """Weekdays 1 kW from 18:00 to 22:00 local, else 0.3; weekends a flat 0.6."""
    local = moment.astimezone(zone)
    if local.weekday() >= 5:
        return 0.6
    return 1.0 if 18 <= local.hour < 22 else 0.3


def _clear(starts: list[datetime]) -> np.ndarray:
    index = pd.DatetimeIndex(starts)
    return clear_sky_pv_kw(index, PLACE.kwp, where=(PLACE.latitude, PLACE.longitude))


def _history(now: datetime, days: int, zone: ZoneInfo, ratio: float) -> dict[datetime, PastSlot]:
    starts = _starts(now - days * 24 * 2 * SLOT, days * 48)
    clear = _clear(starts)
    return {
        start: PastSlot(start, ratio * float(sky), _load_of(start, zone), 0.0, 5.0)
        for start, sky in zip(starts, clear, strict=True)
    }


def _fallback(count: int) -> tuple[np.ndarray, np.ndarray]:
    return np.full(count, 9.0), np.full(count, 9.0)


def test_no_history_falls_back_to_the_learned_profiles() -> None:
    starts = _starts(datetime(2026, 6, 1, 0, 0, tzinfo=UTC), 96)
    pv, load = forecast_site({}, starts, TOKYO, pv_place=PLACE, fallback=_fallback(96))
    assert pv.tolist() == [9.0] * 96
    assert load.tolist() == [9.0] * 96


def test_load_follows_each_day_type_and_pv_the_measured_share_of_clear_sky() -> None:
    now = datetime(2026, 6, 5, 3, 0, tzinfo=UTC)  # Friday 12:00 in Tokyo
    history = _history(now, 21, TOKYO, ratio=0.6)
    starts = _starts(now, 96)  # Friday noon .. Sunday noon
    pv, load = forecast_site(history, starts, TOKYO, pv_place=PLACE, fallback=_fallback(96))
    assert load.tolist() == pytest.approx([_load_of(start, TOKYO) for start in starts])
    assert pv == pytest.approx(0.6 * _clear(starts))
    # Without the panels' place the learned profile stays.
    pv_profile, _ = forecast_site(history, starts, TOKYO, pv_place=None, fallback=_fallback(96))
    assert pv_profile.tolist() == [9.0] * 96


def test_a_telemetry_gap_does_not_read_as_a_cloud() -> None:
    now = datetime(2026, 6, 5, 3, 0, tzinfo=UTC)  # Friday 12:00 in Tokyo
    history = _history(now, 2, TOKYO, ratio=0.4)  # the day before yesterday: 0.4
    history.update(_history(now, 1, TOKYO, ratio=0.6))  # the last 24 h: 0.6 ...
    for start in _starts(now - 6 * SLOT, 6):  # ... but nothing since 09:00
        del history[start]
    starts = _starts(now, 48)
    pv, _ = forecast_site(history, starts, TOKYO, pv_place=PLACE, fallback=_fallback(48))
    # Read as zeros, the gap would make the last day the cloudiest and the last hours dark.
    assert pv == pytest.approx(0.6 * _clear(starts))


def test_the_load_pattern_stays_at_its_local_hour_across_a_clock_change() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    now = datetime(2026, 3, 30, 6, 0, tzinfo=UTC)  # Monday after the spring-forward Sunday
    history = _history(now, 30, berlin, ratio=0.5)
    starts = _starts(now, 48)
    _, load = forecast_site(history, starts, berlin, pv_place=None, fallback=_fallback(48))
    assert load.tolist() == pytest.approx([_load_of(start, berlin) for start in starts])


def test_site_memory_keeps_measured_slots_across_a_restart(tmp_path: Path) -> None:
    state = SiteMemory("s1", "Asia/Tokyo", pv_system=PLACE)
    now = datetime(2026, 6, 5, 3, 0, tzinfo=UTC)
    state.measured = _history(now, 3, TOKYO, ratio=0.5)
    save_state(tmp_path, state)
    restored = SiteMemory("s1", "Asia/Tokyo", pv_system=PLACE)
    assert load_state(tmp_path, restored)
    assert restored.measured == state.measured
    starts = _starts(now, 96)
    assert np.array_equal(np.stack(restored.forecast(starts)), np.stack(state.forecast(starts)))
