"""A solar forecast entity's attributes -> PV kW per slot: the two shapes and bad input."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import numpy as np
import pytest

from optimizer.forecast.pv_entity import MAX_ENTRIES, PvForecastError, pv_from_attributes

T0 = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)
SLOT = timedelta(minutes=30)
STARTS = [T0 + index * SLOT for index in range(6)]


def solcast(*estimates: float, first: datetime = T0) -> dict[str, Any]:
    return {
        "detailedForecast": [
            {
                "period_start": (first + index * SLOT).isoformat(),
                "pv_estimate": kw,
                "pv_estimate10": kw * 0.5,
                "pv_estimate90": kw * 1.1,
            }
            for index, kw in enumerate(estimates)
        ]
    }


def test_solcast_periods_are_the_slots_mean_kw_and_uncovered_slots_are_nan() -> None:
    # Two periods before the horizon (Solcast lists the whole day) are simply not used.
    attributes = solcast(0.2, 0.2, 1.0, 1.5, 2.0, first=T0 - 2 * SLOT)
    pv = pv_from_attributes(attributes, STARTS, kwp=4.0)
    assert pv[:3].tolist() == [1.0, 1.5, 2.0]
    assert np.isnan(pv[3:]).all()


def test_solcast_in_another_zone_lands_on_the_same_instant() -> None:
    tokyo = T0.astimezone(timezone(timedelta(hours=9)))
    attributes = {"detailedForecast": [{"period_start": tokyo.isoformat(), "pv_estimate": 0.7}]}
    assert pv_from_attributes(attributes, STARTS, kwp=None)[0] == 0.7


def test_watts_are_read_at_each_slots_middle() -> None:
    # Hourly samples: 00:15 and 00:45 interpolate between 0 W and 2000 W.
    watts = {(T0 + timedelta(hours=h)).isoformat(): w for h, w in enumerate([0, 2000, 1000])}
    pv = pv_from_attributes({"watts": watts}, STARTS, kwp=4.0)
    assert pv[:4].tolist() == [0.5, 1.5, 1.75, 1.25]
    assert np.isnan(pv[4:]).all()  # past the last sample


def test_watts_quarter_hours_hit_the_middle_exactly() -> None:
    watts = {(T0 + timedelta(minutes=15 * q)).isoformat(): 100.0 * q for q in range(8)}
    assert pv_from_attributes({"watts": watts}, STARTS, kwp=4.0)[:3].tolist() == [0.1, 0.3, 0.5]


def test_watts_with_a_gap_of_hours_leave_it_uncovered() -> None:
    watts = {T0.isoformat(): 1000, (T0 + timedelta(hours=3)).isoformat(): 1000}
    assert np.isnan(pv_from_attributes({"watts": watts}, STARTS, kwp=4.0)).all()


def test_an_entity_with_neither_shape_is_refused() -> None:
    with pytest.raises(PvForecastError, match="neither detailedForecast"):
        pv_from_attributes({"wh_period": {}}, STARTS, kwp=4.0)
    with pytest.raises(PvForecastError, match="attributes: not an object"):
        pv_from_attributes(["x"], STARTS, kwp=4.0)


def _with(field: str, value: object) -> dict[str, Any]:
    attributes = solcast(1.0, 2.0)
    attributes["detailedForecast"][1][field] = value
    return attributes


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        ({"detailedForecast": {"a": 1}}, r"^detailedForecast: not a list$"),
        ({"detailedForecast": [3]}, r"^detailedForecast\[0\]: not an object$"),
        (_with("period_start", None), r"^detailedForecast\[1\]\.period_start: not a time$"),
        (_with("period_start", "noon"), r"period_start: 'noon' is not an ISO time$"),
        (_with("period_start", "2026-11-21T00:30:00"), r"period_start: .* has no time zone$"),
        (_with("period_start", "2026-11-21T00:10:00+00:00"), r"is not on a slot$"),
        (_with("period_start", "2027-01-21T00:00:00+00:00"), r"more than 16 days from now$"),
        (_with("period_start", "2026-10-01T00:00:00+00:00"), r"more than 16 days from now$"),
        (_with("pv_estimate", None), r"^detailedForecast\[1\]\.pv_estimate: 'None' is not a"),
        (_with("pv_estimate", "2.0"), r"pv_estimate: '2\.0' is not a number$"),
        (_with("pv_estimate", True), r"pv_estimate: 'True' is not a number$"),
        (_with("pv_estimate", math.nan), r"pv_estimate: nan is not finite$"),
        (_with("pv_estimate", math.inf), r"pv_estimate: inf is not finite$"),
        (_with("pv_estimate", -0.1), r"pv_estimate: -0\.1 kW is negative$"),
        (_with("pv_estimate", 6.5), r"pv_estimate: 6\.5 kW is more than this site's 6 kW$"),
        (_with("pv_estimate10", -1), r"\[1\]\.pv_estimate10: -1 kW is negative$"),
        (_with("pv_estimate90", 1e9), r"\[1\]\.pv_estimate90: 1e\+09 kW is more than"),
    ],
)
def test_a_bad_solcast_entry_refuses_the_entity_naming_the_field(
    attributes: dict[str, Any], message: str
) -> None:
    with pytest.raises(PvForecastError, match=message):
        pv_from_attributes(attributes, STARTS, kwp=4.0)


@pytest.mark.parametrize(
    ("watts", "message"),
    [
        ([1, 2], r"^watts: not an object of time: W$"),
        ({"soon": 1}, r"^watts\[soon\]: 'soon' is not an ISO time$"),
        ({"2026-11-21T00:00:00": 1}, r"has no time zone$"),
        ({"2026-12-21T00:00:00+00:00": 1}, r"more than 16 days from now$"),
        ({T0.isoformat(): "1"}, r"\]: '1' is not a number$"),
        ({T0.isoformat(): math.nan}, r"\]: nan is not finite$"),
        ({T0.isoformat(): -5}, r"\]: -0\.005 kW is negative$"),
        ({T0.isoformat(): 150_000}, r"\]: 150 kW is more than this site's 100 kW$"),
    ],
)
def test_a_bad_watts_entry_refuses_the_entity_naming_the_key(watts: object, message: str) -> None:
    # No pv_kwp: the grid connection the service assumes for every site bounds the power.
    with pytest.raises(PvForecastError, match=message):
        pv_from_attributes({"watts": watts}, STARTS, kwp=None)


def test_too_many_entries_are_refused_before_reading_them() -> None:
    flood: dict[str, Any] = {"detailedForecast": [{}] * (MAX_ENTRIES + 1)}
    with pytest.raises(PvForecastError, match=f"{MAX_ENTRIES + 1} entries, at most"):
        pv_from_attributes(flood, STARTS, kwp=4.0)
    watts = {(T0 + timedelta(minutes=m)).isoformat(): 0 for m in range(MAX_ENTRIES + 1)}
    with pytest.raises(PvForecastError, match=r"^watts: 2001 entries"):
        pv_from_attributes({"watts": watts}, STARTS, kwp=4.0)
