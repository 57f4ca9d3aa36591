"""Price, PV and load forecasts."""

import numpy as np
import pandas as pd
import pytest

from optimizer.forecast.load import SmoothedProfile
from optimizer.forecast.price import (
    forecast_prices,
    published_until,
    same_weekday_median,
    time_of_use,
)
from optimizer.forecast.pv import RatioForecast, clear_sky_pv_kw

DAY = 48


def test_day_ahead_publication_at_ten() -> None:
    assert published_until(5 * DAY + 19) == 6 * DAY  # 09:30: only today is known
    assert published_until(5 * DAY + 20) == 7 * DAY  # 10:00: tomorrow too


def test_unpublished_slots_use_the_same_weekday_median() -> None:
    prices = np.arange(40 * DAY, dtype=np.float64)
    decision = 35 * DAY  # midnight: today known, tomorrow not
    forecast = forecast_prices(prices, decision, 2 * DAY)
    assert forecast[:DAY].tolist() == prices[decision : decision + DAY].tolist()
    tomorrow = decision + DAY + np.arange(DAY)
    # Median of 1, 2, 3 and 4 weeks back: the mean of the 2- and 3-week values here.
    assert forecast[DAY:].tolist() == pytest.approx((tomorrow - 2.5 * 7 * DAY).tolist())
    assert same_weekday_median(prices, [28 * DAY]).tolist() == [28 * DAY - 2.5 * 7 * DAY]
    with pytest.raises(ValueError, match="indices"):
        same_weekday_median(prices, [DAY])


def test_time_of_use() -> None:
    table = [(0, 20.0), (14, 30.0), (40, 25.0)]  # 00:00, 07:00, 20:00
    prices = time_of_use(table, 12, 6)
    assert prices.tolist() == [20.0, 20.0, 30.0, 30.0, 30.0, 30.0]
    assert time_of_use(table, 47, 2).tolist() == [25.0, 20.0]
    with pytest.raises(ValueError, match="table"):
        time_of_use([(3, 1.0)], 0, 1)


def test_pv_clear_sky_ratio() -> None:
    starts = pd.date_range("2024-06-01", periods=4 * DAY, freq="30min", tz="Asia/Tokyo")
    clear = clear_sky_pv_kw(starts, kwp=4.0)
    assert clear[:8].max() == 0.0  # night until 04:00
    assert 2.5 < clear.max() < 4.5  # around noon in June
    measured = 0.5 * clear
    forecast = RatioForecast(measured, clear)
    assert forecast.ratio(2 * DAY) == pytest.approx(0.5)
    assert forecast.forecast(2 * DAY, DAY) == pytest.approx(0.5 * clear[2 * DAY : 3 * DAY])
    assert forecast.ratio(0) == 1.0  # no history yet
    with pytest.raises(ValueError, match="clear_sky"):
        RatioForecast(measured[:-1], clear)
    with pytest.raises(ValueError, match="quantile"):
        RatioForecast(measured, clear, quantile=1.5)
    # Optimistic: the best of the last days' ratios.
    mixed = clear * np.repeat([0.2, 0.8, 0.4, 0.4], DAY)
    optimistic = RatioForecast(mixed, clear, days=3, quantile=1.0)
    assert optimistic.ratio(3 * DAY) == pytest.approx(0.8)
    assert RatioForecast(mixed, clear, days=3, quantile=0.0).ratio(3 * DAY) == pytest.approx(0.2)


def test_load_profile_smoothing() -> None:
    profile = SmoothedProfile(1.0, alpha=0.5)
    profile.observe(weekend=False, slot_of_day=3, load_kw=3.0)
    profile.observe(weekend=True, slot_of_day=3, load_kw=0.0)
    forecast = profile.forecast(np.array([False, True, False]), np.array([3, 3, 4]))
    assert forecast.tolist() == [2.0, 0.5, 1.0]
    with pytest.raises(ValueError, match="alpha"):
        SmoothedProfile(1.0, alpha=0.0)
