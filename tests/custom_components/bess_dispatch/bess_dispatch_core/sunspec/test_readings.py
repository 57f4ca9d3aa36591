"""Decoded SunSpec models -> the gateway's readings."""

from __future__ import annotations

import pytest

from bess_dispatch_core.sunspec import (
    SunSpecReadings,
    decode_model,
    encode_value,
    load_model_definition,
    readings_from_device,
    readings_from_models,
    scan,
)
from bess_dispatch_core.sunspec.decoding import DecodedModel
from tests.plugins.sunspec_device import SunSpecDeviceServer


async def test_readings_of_the_simulated_site(sunspec_device: SunSpecDeviceServer) -> None:
    simulation = sunspec_device.simulation
    simulation.pv_w = 4_000.0
    simulation.load_w = 1_500.0
    simulation.own_battery_w = -2_000.0  # discharging
    simulation.soc_percent = 62.5

    device = await scan(sunspec_device.host, sunspec_device.port, sunspec_device.unit_id)
    readings = readings_from_device(device)

    assert readings.inverter_ac_power_w == pytest.approx(6_000.0)
    assert readings.inverter_lifetime_energy_wh == pytest.approx(1_234_567.0)
    assert readings.inverter_dc_power_w == pytest.approx(4_000.0)
    assert readings.grid_power_w == pytest.approx(-4_500.0)  # exporting
    assert readings.grid_import_energy_wh == pytest.approx(500_000.0)
    assert readings.grid_export_energy_wh == pytest.approx(250_000.0)
    assert readings.battery_soc_percent == pytest.approx(62.5)
    assert readings.battery_capacity_wh == pytest.approx(10_000.0)
    assert readings.battery_stored_energy_wh == pytest.approx(6_250.0)
    assert readings.battery_power_w == pytest.approx(-2_000.0)
    assert readings.battery_max_charge_w == pytest.approx(5_000.0)
    assert readings.battery_max_discharge_w == pytest.approx(5_000.0)
    assert readings.battery_min_reserve_percent == pytest.approx(10.0)
    assert readings.battery_charge_status == "DISCHARGING"


def model_with(model_id: int, values: dict[str, float | int | None]) -> DecodedModel:
    """A model decoded from registers that hold ``values`` (raw), the rest not implemented."""
    definition = load_model_definition(model_id)
    registers: list[int] = []
    for point in definition.points:
        value: float | int | None = values.get(point.name)
        if point.name == "ID":
            value = model_id
        elif point.name == "L":
            value = definition.length
        registers.extend(encode_value(point, value, 0))
    return decode_model(definition, 40002, registers)


def test_without_battery_model_soc_comes_from_storage_controls() -> None:
    storage = model_with(124, {"ChaState": 80, "ChaState_SF": 0, "WChaMax": 3000, "WChaMax_SF": 0})
    inverter = model_with(101, {"W": 1200, "W_SF": 0, "WH": 99, "WH_SF": 0})

    readings = readings_from_models([inverter, storage])

    assert readings.battery_soc_percent == 80.0
    assert readings.battery_max_charge_w == 3000.0
    assert readings.battery_max_discharge_w == 3000.0  # 124: one reference both ways
    assert readings.battery_capacity_wh is None
    assert readings.battery_stored_energy_wh is None
    assert readings.battery_power_w is None
    assert readings.inverter_ac_power_w == 1200.0
    assert readings.inverter_lifetime_energy_wh == 99.0
    assert readings.grid_power_w is None


def test_no_models_no_readings() -> None:
    assert readings_from_models([]) == SunSpecReadings()


def test_unknown_enum_value_is_shown_as_its_number() -> None:
    battery = model_with(802, {"ChaSt": 42})
    assert readings_from_models([battery]).battery_charge_status == "42"
