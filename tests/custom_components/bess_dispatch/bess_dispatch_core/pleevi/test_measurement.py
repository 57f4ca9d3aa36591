"""Pleevi measurements: the JSON Schema accepts what we build and refuses what the guide
forbids; parsing names the bad field."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bess_dispatch_core.pleevi import PleeviMeasurement, PleeviValueError
from bess_dispatch_core.pleevi.measurement import format_timestamp
from bess_dispatch_core.pleevi.schemas import measurement_schema

AT = datetime(2026, 11, 21, 4, 0, 0, 123456, tzinfo=UTC)


def _validator() -> jsonschema.Draft202012Validator:
    schema = measurement_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_battery_measurement_matches_the_schema() -> None:
    measurement = PleeviMeasurement("Battery", AT, 12_345.6789, -2_500.0, 55.5)
    data = json.loads(measurement.to_payload())
    _validator().validate(data)
    assert data == {
        "assetId": "Battery",
        "timestamp": "2026-11-21T04:00:00.123Z",
        "energyValue": 12_345.679,
        "powerValue": -2_500.0,
        "currentStateOfCharge": 55.5,
    }


def test_other_assets_omit_the_state_of_charge() -> None:
    data = PleeviMeasurement("PV", AT, 0.0, 3_000.0).to_dict()
    _validator().validate(data)
    assert "currentStateOfCharge" not in data


def test_timestamp_is_utc_with_milliseconds_from_any_zone() -> None:
    tokyo = timezone(timedelta(hours=9))
    assert format_timestamp(datetime(2026, 1, 1, 9, 0, tzinfo=tokyo)) == "2026-01-01T00:00:00.000Z"
    with pytest.raises(PleeviValueError, match=r"^timestamp"):
        format_timestamp(datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("field", "change"),
    [
        ("energyValue", {"energyValue": -1}),
        ("currentStateOfCharge", {"currentStateOfCharge": 100.5}),
        ("currentStateOfCharge", {"currentStateOfCharge": -0.1}),
        ("timestamp", {"timestamp": "2026-11-21T04:00:00+09:00"}),
        ("assetId", {"assetId": ""}),
        ("powerValue", {"powerValue": "12"}),
    ],
)
def test_bad_values_are_refused_by_schema_and_parser(field: str, change: dict[str, Any]) -> None:
    good = PleeviMeasurement("Battery", AT, 1.0, 1.0, 50.0).to_dict()
    bad = good | change
    with pytest.raises(jsonschema.ValidationError):
        _validator().validate(bad)
    with pytest.raises(PleeviValueError) as caught:
        PleeviMeasurement.from_payload(json.dumps(bad).encode())
    assert caught.value.field == field


def test_parser_round_trips_and_bounds_its_input() -> None:
    measurement = PleeviMeasurement("Battery", AT.replace(microsecond=123000), 10.0, -5.0, 40.0)
    assert PleeviMeasurement.from_payload(measurement.to_payload()) == measurement
    with pytest.raises(PleeviValueError, match=r"^payload"):
        PleeviMeasurement.from_payload(b" " * 5_000)
    with pytest.raises(PleeviValueError, match=r"^payload"):
        PleeviMeasurement.from_payload(b"[1]")
    with pytest.raises(PleeviValueError, match=r"^powerValue: is required"):
        PleeviMeasurement.from_payload(
            b'{"assetId":"a","timestamp":"2026-01-01T00:00:00.000Z","energyValue":1}'
        )
    with pytest.raises(PleeviValueError, match=r"^extra: unknown field"):
        PleeviMeasurement.from_dict(measurement.to_dict() | {"extra": 1})
    with pytest.raises(PleeviValueError, match=r"^energyValue: must be a finite"):
        PleeviMeasurement.from_payload(
            b'{"assetId":"a","timestamp":"2026-01-01T00:00:00.000Z","energyValue":1e999,'
            b'"powerValue":0}'
        )


@settings(max_examples=200, deadline=None)
@given(
    asset_id=st.text(min_size=1, max_size=200).filter(lambda text: text.strip() != ""),
    at=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    energy=st.floats(min_value=0, max_value=1e15),
    power=st.floats(min_value=-1e9, max_value=1e9),
    soc=st.none() | st.floats(min_value=0, max_value=100),
)
def test_every_built_measurement_is_schema_valid_and_parses_back(
    asset_id: str, at: datetime, energy: float, power: float, soc: float | None
) -> None:
    payload = PleeviMeasurement(asset_id, at, energy, power, soc).to_payload()
    data = json.loads(payload)
    _validator().validate(data)
    parsed = PleeviMeasurement.from_payload(payload)
    assert parsed.to_dict() == data
