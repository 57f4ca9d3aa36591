"""Model 124 setpoints change the simulated battery; the revert timeout is its watchdog."""

from __future__ import annotations

import pytest

from bess_dispatch_core.sunspec import (
    ModbusLink,
    StorageController,
    SunSpecControlError,
    SunSpecModbusExceptionError,
    SunSpecValueError,
    decode_model,
    encode_value,
    load_model_definition,
    rates_for_power,
    scan_device,
)
from bess_dispatch_core.sunspec.decoding import DecodedModel
from bess_dispatch_core.sunspec.scanner import SunSpecDevice
from tests.plugins.sunspec_device import SunSpecDeviceServer


@pytest.mark.parametrize(
    ("power_w", "charge", "discharge", "applied"),
    [
        (2_000.0, 40.0, -40.0, 2_000.0),
        (-3_000.0, -60.0, 60.0, -3_000.0),
        (0.0, 0.0, -0.0, 0.0),
        (9_000.0, 100.0, -100.0, 5_000.0),
        (-9_000.0, -100.0, 100.0, -5_000.0),
    ],
)
def test_rates_for_power(power_w: float, charge: float, discharge: float, applied: float) -> None:
    rates = rates_for_power(power_w, 5_000.0)
    assert (rates.charge_rate_percent, rates.discharge_rate_percent) == (charge, discharge)
    assert rates.power_w == applied


def test_rates_need_a_positive_wchamax() -> None:
    with pytest.raises(SunSpecControlError, match="WChaMax must be positive"):
        rates_for_power(1_000.0, 0.0)


async def test_charge_setpoint_charges_the_battery(sunspec_device: SunSpecDeviceServer) -> None:
    simulation, clock = sunspec_device.simulation, sunspec_device.clock
    async with ModbusLink(sunspec_device.host, sunspec_device.port, sunspec_device.unit_id) as link:
        controller = StorageController.for_device(link, await scan_device(link))
        applied = await controller.apply_setpoint_kw(2.0, revert_after_s=60)
        assert applied.applied_kw == 2.0
        assert not applied.clamped
        assert simulation.storctl_mod == 3
        assert simulation.battery_power_w == pytest.approx(2_000.0)

        for _ in range(60):  # 30 minutes, refreshed every 30 s like the gateway's watchdog
            clock.advance(30)
            await controller.apply_setpoint_kw(2.0, revert_after_s=60)
        storage = await controller.refresh()

    # 2 kW for 0.5 h into 10 kWh: +10 percentage points.
    assert simulation.soc_percent == pytest.approx(60.0)
    assert storage["ChaState"] == pytest.approx(60.0)
    assert storage["StorCtl_Mod"] == 3
    assert storage["InWRte"] == pytest.approx(40.0)
    assert storage["OutWRte"] == pytest.approx(-40.0)
    assert storage["InOutWRte_RvrtTms"] == 60
    assert simulation.revert_count == 0


async def test_discharge_setpoint_overrides_the_inverters_own_wish(
    sunspec_device: SunSpecDeviceServer,
) -> None:
    simulation = sunspec_device.simulation
    simulation.own_battery_w = 1_500.0  # the inverter would charge from PV
    async with ModbusLink(sunspec_device.host, sunspec_device.port, sunspec_device.unit_id) as link:
        controller = StorageController.for_device(link, await scan_device(link))
        applied = await controller.apply_setpoint_kw(-7.5, revert_after_s=30)
        sunspec_device.clock.advance(20)
        storage = await controller.refresh()

    assert applied.clamped
    assert applied.applied_kw == -5.0
    assert simulation.battery_power_w == pytest.approx(-5_000.0)
    assert simulation.grid_w == pytest.approx(1_000.0 - (3_000.0 + 5_000.0))
    assert storage["OutWRte"] == pytest.approx(100.0)
    assert storage["InWRte"] == pytest.approx(-100.0)


async def test_controls_revert_when_nobody_refreshes_them(
    sunspec_device: SunSpecDeviceServer,
) -> None:
    simulation, clock = sunspec_device.simulation, sunspec_device.clock
    async with ModbusLink(sunspec_device.host, sunspec_device.port, sunspec_device.unit_id) as link:
        controller = StorageController.for_device(link, await scan_device(link))
        await controller.apply_setpoint_kw(3.0, revert_after_s=10)

        clock.advance(9.5)
        still = await controller.refresh()
        assert still["StorCtl_Mod"] == 3
        assert simulation.battery_power_w == pytest.approx(3_000.0)

        clock.advance(3600)  # the gateway has stopped: no fresh write
        reverted = await controller.refresh()

    assert reverted["StorCtl_Mod"] == 0
    assert reverted["InWRte"] == pytest.approx(100.0)
    assert reverted["OutWRte"] == pytest.approx(100.0)
    assert simulation.revert_count == 1
    assert simulation.battery_power_w == 0.0  # back to the inverter's own control
    # Charged at 3 kW for exactly 10 s, then idle: 3000 W * 10 s = 8.33 Wh of 10 kWh.
    assert simulation.soc_percent == pytest.approx(50.0 + 3000 * 10 / 3600 / 10_000 * 100)


async def test_release_hands_control_back(sunspec_device: SunSpecDeviceServer) -> None:
    simulation = sunspec_device.simulation
    simulation.own_battery_w = -800.0
    async with ModbusLink(sunspec_device.host, sunspec_device.port, sunspec_device.unit_id) as link:
        controller = StorageController.for_device(link, await scan_device(link))
        await controller.apply_setpoint_kw(0.0, revert_after_s=60)
        assert simulation.battery_power_w == 0.0  # held idle
        await controller.release()
        storage = await controller.refresh()

    assert (storage["StorCtl_Mod"], storage["InOutWRte_RvrtTms"]) == (0, 0)
    assert simulation.battery_power_w == pytest.approx(-800.0)
    sunspec_device.clock.advance(10_000)
    simulation.advance()
    assert simulation.revert_count == 0


async def test_read_only_points_are_refused(sunspec_device: SunSpecDeviceServer) -> None:
    async with ModbusLink(sunspec_device.host, sunspec_device.port, sunspec_device.unit_id) as link:
        device = await scan_device(link)
        controller = StorageController.for_device(link, device)
        with pytest.raises(SunSpecValueError, match="ChaState is read-only"):
            await controller.write_points({"ChaState": 90.0})
        # The device refuses a raw write to a read-only register, too.
        assert device.storage is not None
        cha_state = device.storage.address + device.storage.definition.point("ChaState").offset
        with pytest.raises(SunSpecModbusExceptionError, match="illegal data address"):
            await link.write_registers(cha_state, [900])
    assert sunspec_device.simulation.soc_percent == 50.0


async def test_a_device_without_model_124_cannot_be_controlled(
    sunspec_device: SunSpecDeviceServer,
) -> None:
    async with ModbusLink(sunspec_device.host, sunspec_device.port, sunspec_device.unit_id) as link:
        device = await scan_device(link)
        without_storage = SunSpecDevice(
            host=device.host,
            port=device.port,
            unit_id=device.unit_id,
            base_address=device.base_address,
            models=tuple(m for m in device.models if m.model_id != 124),
        )
        with pytest.raises(SunSpecControlError, match="no storage control model 124"):
            StorageController.for_device(link, without_storage)
        assert device.storage is not None
        controller = StorageController(link, device.storage)
        with pytest.raises(SunSpecControlError, match="revert_after_s must be"):
            await controller.apply_setpoint_kw(1.0, revert_after_s=0)


def _model_124_implementing_nothing() -> DecodedModel:
    definition = load_model_definition(124)
    registers: list[int] = []
    for point in definition.points:
        value = {"ID": 124, "L": definition.length}.get(point.name)
        registers.extend(encode_value(point, value, 0))
    return decode_model(definition, 40002, registers)


async def test_controls_need_model_124_with_its_control_points(
    sunspec_device: SunSpecDeviceServer,
) -> None:
    async with ModbusLink(sunspec_device.host, sunspec_device.port, sunspec_device.unit_id) as link:
        device = await scan_device(link)
        inverter = device.find(103)
        assert inverter is not None
        with pytest.raises(SunSpecControlError, match="need model 124, got model 103"):
            StorageController(link, inverter)
        bare = _model_124_implementing_nothing()
        with pytest.raises(SunSpecControlError, match="does not implement StorCtl_Mod, InWRte"):
            StorageController(link, bare)
