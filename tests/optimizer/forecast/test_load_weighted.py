"""The Predbat-style weighted-history load forecast."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.forecast.load_weighted import (
    OTHER,
    SAME_TYPE,
    SAME_WEEKDAY,
    WeightedHistoryProfile,
)

SLOTS = 48


def test_same_weekday_outweighs_same_type_outweighs_others() -> None:
    # 14 days, Monday first: each day's load is its weekday number (0..6), flat.
    weekday = np.arange(21) % 7
    measured = np.repeat(weekday.astype(np.float64), SLOTS)
    model = WeightedHistoryProfile(measured, weekday, days=14, decay=1.0, scale=1.0)
    today = 14  # a Monday
    weights = {0: SAME_WEEKDAY, 1: SAME_TYPE, 2: SAME_TYPE, 3: SAME_TYPE, 4: SAME_TYPE}
    weights |= {5: OTHER, 6: OTHER}
    expected = sum(day * w for day, w in weights.items()) / sum(weights.values())
    assert model.profile(today, today) == pytest.approx(np.full(SLOTS, expected))
    # Saturday: the other Saturday and Sunday count as the same type, weekdays as others.
    saturday = {5: SAME_WEEKDAY, 6: SAME_TYPE} | dict.fromkeys(range(5), OTHER)
    expected_sat = sum(day * w for day, w in saturday.items()) / sum(saturday.values())
    assert model.profile(today, today + 5) == pytest.approx(np.full(SLOTS, expected_sat))


def test_recent_days_weigh_more_and_the_scale_lifts() -> None:
    weekday = np.zeros(10, dtype=np.int64)  # every day the same weekday
    measured = np.repeat(np.array([1.0] * 7 + [2.0, 0.0, 0.0]), SLOTS)
    model = WeightedHistoryProfile(measured, weekday, days=7, decay=0.5, scale=1.1)
    ages = np.arange(7, 0, -1)  # days 0..6, today is day 7
    weights = 0.5**ages
    assert model.profile(7, 7)[0] == pytest.approx(
        1.1 * float(weights @ np.ones(7) / weights.sum())
    )


def test_gaps_are_skipped_and_a_slot_no_day_has_takes_the_mean() -> None:
    weekday = np.zeros(6, dtype=np.int64)  # two days past the measured ones: forecast days
    rows = np.ones((4, SLOTS))
    rows[1] = np.nan  # a day without readings
    rows[0, 3] = 5.0
    rows[2, 3] = np.nan
    model = WeightedHistoryProfile(rows.ravel(), weekday, days=3, decay=1.0, scale=1.0)
    profile = model.profile(3, 3)
    assert profile[0] == pytest.approx(1.0)
    assert profile[3] == pytest.approx(5.0)  # only day 0 has it
    forecast = model.forecast(3 * SLOTS + 10, 2 * SLOTS)
    assert forecast.shape == (2 * SLOTS,)
    with pytest.raises(ValueError, match="no whole past day"):
        model.profile(0, 0)
    with pytest.raises(ValueError, match="days/decay/scale"):
        WeightedHistoryProfile(rows.ravel(), weekday, decay=0.0)
