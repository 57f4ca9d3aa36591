"""Register maps a broken or changed device serves (a real pymodbus server each): the scan
and the refresh stop with an error that says what is wrong, never loop or read past the
end of the register space."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import pytest

from bess_dispatch_core.sunspec import (
    ModbusLink,
    SunSpecModelChainError,
    refresh_model,
    scan_device,
)
from simulators.sunspec_server import free_port, serve_modbus
from tests.plugins.sunspec_device import PlainModbusServer, SunSpecDeviceServer

HOST = "127.0.0.1"
SUNS = [0x5375, 0x6E53]

type Serve = Callable[[int, list[int]], AbstractAsyncContextManager[ModbusLink]]


@pytest.fixture
def serve(socket_enabled: None) -> Serve:
    """A device whose registers from ``start`` are ``registers``; a link to it."""

    @asynccontextmanager
    async def serving(start: int, registers: list[int]) -> AsyncIterator[ModbusLink]:
        from pymodbus.simulator import DataType, SimData, SimDevice

        signed = [value - 0x10000 if value > 0x7FFF else value for value in registers]
        device = SimDevice(
            id=1, simdata=[SimData(start, values=signed, datatype=DataType.REGISTERS)]
        )
        port = free_port(HOST)
        server = await serve_modbus([device], HOST, port)
        try:
            async with ModbusLink(HOST, port, timeout=1.0) as link:
                yield link
        finally:
            await server.shutdown()

    return serving


async def test_a_model_running_past_the_register_space_is_refused(serve: Serve) -> None:
    # At base 50000: a model (unknown id 64000) claims 20000 registers.
    async with serve(50000, [*SUNS, 64000, 20000, 0, 0]) as link:
        with pytest.raises(SunSpecModelChainError, match="runs past register 65535"):
            await scan_device(link)


async def test_a_chain_without_its_end_marker_stops_after_the_limit(serve: Serve) -> None:
    # 101 unknown one-register models and no end marker.
    chain = [register for _ in range(101) for register in (64000, 1, 0)]
    async with serve(40000, [*SUNS, *chain]) as link:
        with pytest.raises(SunSpecModelChainError, match="more than 100 models"):
            await scan_device(link)


async def test_a_device_whose_map_changed_asks_for_a_new_scan(
    sunspec_device: SunSpecDeviceServer, modbus_server_without_sunspec: PlainModbusServer
) -> None:
    async with ModbusLink(sunspec_device.host, sunspec_device.port) as link:
        device = await scan_device(link)
    inverter = device.find(103)
    assert inverter is not None
    other = modbus_server_without_sunspec
    async with ModbusLink(other.host, other.port, other.unit_id) as changed:
        with pytest.raises(SunSpecModelChainError, match="map changed: scan again"):
            await refresh_model(changed, inverter)
