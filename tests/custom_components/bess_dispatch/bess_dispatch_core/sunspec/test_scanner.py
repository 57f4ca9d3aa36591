"""Scanning a real pymodbus server that serves a simulated SunSpec site."""

from __future__ import annotations

import pytest

from bess_dispatch_core.sunspec import (
    ModbusLink,
    SunSpecModbusExceptionError,
    SunSpecNotFoundError,
    SunSpecUnitIdError,
    SunSpecUnreachableError,
    refresh_model,
    scan,
    scan_device,
)
from simulators.sunspec_server import free_port
from tests.plugins.sunspec_device import PlainModbusServer, SunSpecDeviceServer


async def test_scan_finds_every_model_of_the_simulated_site(
    sunspec_device: SunSpecDeviceServer,
) -> None:
    device = await scan(sunspec_device.host, sunspec_device.port, sunspec_device.unit_id)

    assert device.base_address == 40000
    assert device.model_ids == (1, 103, 124, 203, 802)
    assert device.unknown_models == ()
    simulation = sunspec_device.simulation
    for model in device.models:
        assert model.address == simulation.model_address(model.model_id)
        assert model.length == model.definition.length
        assert model["ID"] == model.model_id
    assert device.common is not None
    assert device.common["Mn"] == "BESS Dispatch"
    assert device.common["SN"] == "SIM-0001"
    assert device.common["Pad"] is None


async def test_decoded_values_equal_the_simulation_with_scale_factors(
    sunspec_device: SunSpecDeviceServer,
) -> None:
    simulation = sunspec_device.simulation
    simulation.pv_w = 4_321.0
    simulation.own_battery_w = 1_000.0
    device = await scan(sunspec_device.host, sunspec_device.port, sunspec_device.unit_id)

    inverter, storage, meter, battery = (
        device.inverter,
        device.storage,
        device.meter,
        device.battery,
    )
    assert inverter is not None
    assert storage is not None
    assert meter is not None
    assert battery is not None
    # 103: W_SF 0, V_SF -1, Hz_SF -2, WH acc32.
    assert inverter["W"] == pytest.approx(4_321.0 - 1_000.0)
    assert inverter["PhVphB"] == pytest.approx(230.1)
    assert inverter["Hz"] == pytest.approx(50.0)
    assert inverter["WH"] == pytest.approx(1_234_567.0)
    assert inverter.scale_factor("PhVphA") == -1
    assert inverter.raw("PhVphB") == 2301
    # 124: WChaMax_SF +1, ChaState_SF -1, InOutWRte_SF -2.
    assert storage.raw("WChaMax") == 500
    assert storage["WChaMax"] == pytest.approx(5_000.0)
    assert storage["ChaState"] == pytest.approx(50.0)
    assert storage["InWRte"] == pytest.approx(100.0)
    assert storage.raw("InWRte") == 10_000
    assert storage["StorCtl_Mod"] == 0
    # 203 and 802.
    assert meter["W"] == pytest.approx(simulation.grid_w)
    assert meter["TotWhImp"] == pytest.approx(500_000.0)
    assert meter["TotWhExp"] == pytest.approx(250_000.0)
    assert meter["PF"] == pytest.approx(1.0)
    assert battery["WHRtg"] == pytest.approx(10_000.0)
    assert battery["SoC"] == pytest.approx(50.0)
    assert battery["CellVMax"] == pytest.approx(3.35)
    assert battery["W"] == pytest.approx(-1_000.0)


async def test_not_implemented_points_and_scale_factors_decode_as_none(
    sunspec_device: SunSpecDeviceServer,
) -> None:
    device = await scan(sunspec_device.host, sunspec_device.port, sunspec_device.unit_id)
    inverter, storage, meter = device.inverter, device.storage, device.meter
    assert inverter is not None
    assert storage is not None
    assert meter is not None

    # int16 with its sunssf not implemented (0x8000 both).
    assert inverter.raw("VAr") is None
    assert inverter["VAr"] is None
    assert inverter.scale_factor("VAr") is None
    # uint16 0xFFFF, optional and absent.
    assert inverter["PPVphAB"] is None
    assert storage["InBatV"] is None
    assert storage["VAChaMax"] is None
    # acc32 0 = not accumulated; bitfield32 0xFFFFFFFF.
    assert meter["TotVAhImp"] is None
    assert inverter["EvtVnd1"] is None
    # Present zeros stay zeros.
    assert inverter["Evt1"] == 0
    assert storage["InOutWRte_WinTms"] == 0


async def test_refresh_model_reads_new_values(sunspec_device: SunSpecDeviceServer) -> None:
    async with ModbusLink(sunspec_device.host, sunspec_device.port, sunspec_device.unit_id) as link:
        device = await scan_device(link)
        assert device.meter is not None
        sunspec_device.simulation.load_w = 7_000.0
        meter = await refresh_model(link, device.meter)

    assert meter["W"] == pytest.approx(sunspec_device.simulation.grid_w)
    assert meter["W"] != device.meter["W"]


async def test_closed_port_is_unreachable(socket_enabled: None) -> None:
    port = free_port()  # nothing listens there

    with pytest.raises(SunSpecUnreachableError, match=f"127.0.0.1:{port}"):
        await scan("127.0.0.1", port, 1, request_timeout=1.0)


async def test_server_without_marker_is_not_sunspec(
    modbus_server_without_sunspec: PlainModbusServer,
) -> None:
    server = modbus_server_without_sunspec

    with pytest.raises(SunSpecNotFoundError, match="no SunSpec marker") as caught:
        await scan(server.host, server.port, server.unit_id)

    assert "40000" in str(caught.value)
    assert "50000" in str(caught.value)


async def test_wrong_unit_id_is_reported(sunspec_device: SunSpecDeviceServer) -> None:
    with pytest.raises(SunSpecUnitIdError, match="unit id 7") as caught:
        await scan(sunspec_device.host, sunspec_device.port, 7)

    assert caught.value.exception_code == 0x0B


async def test_unmapped_address_is_a_modbus_exception(
    sunspec_device: SunSpecDeviceServer,
) -> None:
    async with ModbusLink(sunspec_device.host, sunspec_device.port, sunspec_device.unit_id) as link:
        with pytest.raises(SunSpecModbusExceptionError, match="illegal data address"):
            await link.read_registers(0, 2)
        # The link stays usable after an exception response.
        assert await link.read_registers(40000, 2) == [0x5375, 0x6E53]
