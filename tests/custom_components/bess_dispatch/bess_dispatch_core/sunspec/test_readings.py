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


@pytest.mark.parametrize(
    ("pv_w", "load_w", "battery_w", "grid_to_load_w"),
    [
        (4_000.0, 1_500.0, -2_000.0, 0.0),  # PV and battery cover the load, the rest exported
        (0.0, 2_500.0, -1_000.0, 1_500.0),  # night: the battery covers part, the grid the rest
        (1_000.0, 800.0, 3_000.0, 800.0),  # grid charging: the import feeds load and battery
    ],
)
async def test_an_ac_coupled_site_reads_its_load_from_the_balance_at_the_meter(
    sunspec_device: SunSpecDeviceServer,
    pv_w: float,
    load_w: float,
    battery_w: float,
    grid_to_load_w: float,
) -> None:
    simulation = sunspec_device.simulation
    simulation.ac_coupled = True
    simulation.pv_w, simulation.load_w, simulation.own_battery_w = pv_w, load_w, battery_w

    device = await scan(sunspec_device.host, sunspec_device.port, sunspec_device.unit_id)
    readings = readings_from_device(device)

    assert readings.inverter_ac_power_w == pytest.approx(pv_w)  # a PV inverter
    assert readings.battery_power_w == pytest.approx(battery_w)
    assert readings.ac_coupled_load_power_w == pytest.approx(load_w)
    assert readings.ac_coupled_grid_to_load_power_w == pytest.approx(grid_to_load_w)


def test_the_load_balance_needs_meter_inverter_and_battery_and_is_never_negative() -> None:
    meter = model_with(203, {"W": -900, "W_SF": 0})  # exporting 900 W
    inverter = model_with(101, {"W": 1000, "W_SF": 0})
    battery = model_with(802, {"W": 0, "W_SF": 0})

    assert readings_from_models([meter, inverter]).ac_coupled_load_power_w is None
    assert readings_from_models([inverter, battery]).ac_coupled_load_power_w is None
    assert readings_from_models([meter, battery]).ac_coupled_load_power_w is None
    # A reading a moment old can make the balance dip below zero: no load, not negative.
    late = readings_from_models([model_with(203, {"W": -1100, "W_SF": 0}), inverter, battery])
    assert late.ac_coupled_load_power_w == 0.0
    assert late.ac_coupled_grid_to_load_power_w == 0.0
    both = readings_from_models([meter, inverter, battery])
    assert both.ac_coupled_load_power_w == pytest.approx(100.0)
    assert both.ac_coupled_grid_to_load_power_w == 0.0


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
