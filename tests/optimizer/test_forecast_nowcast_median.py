"""PV nowcast and same-slot median load profile, on small synthetic series."""

import numpy as np
import pytest

from optimizer.forecast.load_median import RecentMedianProfile
from optimizer.forecast.pv import RatioForecast
from optimizer.forecast.pv_nowcast import NowcastForecast

DAY = 48


def _clear_days(days: int) -> np.ndarray:
    """A triangle 'sun' from 06:00 to 18:00 with 2 kW at noon, every day."""
    one_day = np.zeros(DAY)
    one_day[12:37] = 2.0 * (1 - np.abs(np.arange(12, 37) - 24) / 12)
    return np.tile(one_day, days)


def test_nowcast_starts_at_the_recent_ratio_and_fades_to_the_day_ratio() -> None:
    clear = _clear_days(3)
    measured = 0.8 * clear
    decision = 2 * DAY + 22  # 11:00 on day 3, after a cloudy morning
    measured[decision - 4 : decision] = 0.2 * clear[decision - 4 : decision]
    day_level = RatioForecast(measured, clear, days=1, quantile=1.0)
    nowcast = NowcastForecast(measured, clear, day_level, recent_slots=4, fade_slots=2.0)
    assert nowcast.recent_ratio(decision) == pytest.approx(0.2)
    forecast = nowcast.forecast(decision, 10)
    day_ratio = day_level.ratio(decision)
    weight = np.exp(-np.arange(10) / 2.0)
    expected = clear[decision : decision + 10] * (weight * 0.2 + (1 - weight) * day_ratio)
    assert forecast == pytest.approx(expected)
    assert forecast[0] == pytest.approx(0.2 * clear[decision])


def test_nowcast_at_night_is_the_day_level_forecast() -> None:
    clear = _clear_days(4)
    measured = 0.5 * clear
    day_level = RatioForecast(measured, clear, days=2, quantile=0.5)
    nowcast = NowcastForecast(measured, clear, day_level)
    decision = 2 * DAY + 2  # 01:00
    assert nowcast.recent_ratio(decision) is None
    assert nowcast.forecast(decision, DAY) == pytest.approx(day_level.forecast(decision, DAY))


def test_nowcast_bad_input() -> None:
    clear = _clear_days(2)
    day_level = RatioForecast(clear, clear)
    with pytest.raises(ValueError, match="clear_sky"):
        NowcastForecast(clear[:-1], clear, day_level)
    with pytest.raises(ValueError, match="fade_slots"):
        NowcastForecast(clear, clear, day_level, fade_slots=0.0)


def test_median_profile_uses_whole_past_days_of_the_same_type() -> None:
    # Days 0-4 weekdays at 1, 2, 3, 100, 5 kW; days 5-6 weekend at 7 kW; day 7 a weekday.
    levels = [1.0, 2.0, 3.0, 100.0, 5.0, 7.0, 7.0, 50.0]
    measured = np.repeat(levels, DAY)
    weekend = np.repeat([False] * 5 + [True, True] + [False], DAY)
    profile = RecentMedianProfile(measured, weekend, days=3)
    decision = 7 * DAY + 10  # day 7 has begun at 50 kW: not a whole past day, not used
    weekday = profile.profile(decision, weekend=False)
    assert weekday.tolist() == [5.0] * DAY  # median of 3, 100, 5: the spike is ignored
    assert profile.profile(decision, weekend=True).tolist() == [7.0] * DAY
    forecast = profile.forecast(6 * DAY, 2 * DAY)  # a weekend day, then a weekday
    assert forecast[:DAY].tolist() == [7.0] * DAY
    assert forecast[DAY:].tolist() == [5.0] * DAY  # weekdays 2, 3, 4 -> 3, 100, 5 -> 5


def test_median_profile_bad_input() -> None:
    measured = np.ones(2 * DAY)
    weekend = np.zeros(2 * DAY, dtype=bool)
    with pytest.raises(ValueError, match="weekend"):
        RecentMedianProfile(measured, weekend[:-1])
    with pytest.raises(ValueError, match="days"):
        RecentMedianProfile(measured, weekend, days=0)
    with pytest.raises(ValueError, match="decision_slot"):
        RecentMedianProfile(measured, weekend).profile(DAY, weekend=True)


def test_pv_gaps_are_left_out_not_read_as_clouds() -> None:
    clear = _clear_days(3)
    measured = 0.6 * clear
    decision = 2 * DAY + 24  # noon of day 3
    measured[DAY + 12 : DAY + 24] = np.nan  # no readings for a morning
    measured[decision - 2 : decision] = np.nan  # nor for the last hour
    day_level = RatioForecast(measured, clear, days=2, quantile=1.0)
    assert day_level.ratio(decision) == pytest.approx(0.6)
    nowcast = NowcastForecast(measured, clear, day_level, recent_slots=4)
    assert nowcast.recent_ratio(decision) == pytest.approx(0.6)  # the two slots it has
    measured[decision - 4 : decision] = np.nan
    blind = NowcastForecast(measured, clear, day_level, recent_slots=4)
    assert blind.recent_ratio(decision) is None  # nothing recent: the day ratio alone


def test_pv_window_mostly_without_readings_is_skipped() -> None:
    clear = _clear_days(3)
    measured = 0.9 * clear
    measured[DAY : 2 * DAY] = 0.3 * clear[DAY : 2 * DAY]
    measured[DAY + 14 : DAY + 40] = np.nan  # the cloudy day lost most of its sun hours
    day_level = RatioForecast(measured, clear, days=2, quantile=0.0)
    assert day_level.ratio(3 * DAY) == pytest.approx(0.9)


def test_median_load_skips_days_mostly_without_readings_and_fills_gaps() -> None:
    days = 4  # Monday..Thursday, weekdays only
    load = np.tile(np.linspace(0.2, 1.0, DAY), days)
    load[2 * DAY : 2 * DAY + 40] = np.nan  # Wednesday: 8 of 48 slots, skipped
    load[DAY + 5] = np.nan  # Tuesday misses one slot: Monday alone answers it
    load[: 2 * DAY] += np.repeat([0.0, 0.1], DAY)  # Tuesday a little higher
    weekend = np.zeros(days * DAY, dtype=np.bool_)
    profile = RecentMedianProfile(load, weekend, days=14).profile(3 * DAY, False)
    expected = np.linspace(0.2, 1.0, DAY) + 0.05
    expected[5] -= 0.05
    assert profile == pytest.approx(expected)


def test_median_load_without_any_usable_day_says_so() -> None:
    load = np.full(2 * DAY, np.nan)
    profile = RecentMedianProfile(load, np.zeros(2 * DAY, dtype=np.bool_))
    with pytest.raises(ValueError, match="no whole past day"):
        profile.profile(DAY + 3, False)
