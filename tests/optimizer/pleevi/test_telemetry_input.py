"""Pleevi measurements as the service's telemetry input."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bess_dispatch_core.pleevi import PleeviMeasurement, PleeviValueError
from bess_dispatch_core.pleevi.assets import AssetKind
from optimizer.pleevi.telemetry_input import Observation, observations

AT = datetime(2026, 11, 21, 4, 0, tzinfo=UTC)
KINDS = {"Battery": AssetKind.BATTERY, "PV": AssetKind.PV, "Grid": AssetKind.GRID_METER}


def test_battery_soc_and_pv_energy_become_observations() -> None:
    battery = PleeviMeasurement.from_payload(
        PleeviMeasurement("Battery", AT, 1000.0, -500.0, 45.0).to_payload()
    )
    assert observations(battery, asset_kinds=KINDS, capacity_kwh=10) == [
        Observation("battery_soe", 4.5, AT)
    ]
    pv = PleeviMeasurement("PV", AT, 12_500.0, 900.0)
    assert observations(pv, asset_kinds=KINDS, capacity_kwh=10) == [
        Observation("solar_net_generation_ac", 12.5, AT)
    ]
    assert (
        observations(PleeviMeasurement("Grid", AT, 1.0, 1.0), asset_kinds=KINDS, capacity_kwh=10)
        == []
    )


def test_unknown_asset_and_missing_soc_are_refused_naming_the_field() -> None:
    with pytest.raises(PleeviValueError, match=r"^assetId: 'Other'"):
        observations(PleeviMeasurement("Other", AT, 1.0, 1.0), asset_kinds=KINDS, capacity_kwh=10)
    with pytest.raises(PleeviValueError, match=r"^currentStateOfCharge"):
        observations(PleeviMeasurement("Battery", AT, 1.0, 1.0), asset_kinds=KINDS, capacity_kwh=10)
