"""A real pymodbus 3.13 TCP server serving a simulated SunSpec site (loaded with
``-p tests.plugins.sunspec_device``).

Fixtures
--------
``sunspec_device`` -> :class:`SunSpecDeviceServer`
    A Modbus TCP server on a free ``127.0.0.1`` port inside the test's event loop, serving
    the SunSpec map of :class:`~tests.plugins.sunspec_simulation.SunSpecSimulation`
    (models 1, 103, 124, 203, 802 at base address 40000) on unit id 1. Every request
    first advances the simulation to ``clock`` time, then answers from freshly encoded
    registers; writes to model 124 change the simulated battery, writes to read-only
    points are refused (exception 0x02). Other unit ids get exception 0x0B (gateway
    target failed to respond), as a Modbus gateway answers. ``clock`` is a
    :class:`~tests.plugins.sunspec_simulation.ManualClock`: time moves only with
    ``sunspec_device.clock.advance(seconds)``. ``await sunspec_device.stop()`` takes the
    device off the network (connections refused) and ``await sunspec_device.start()``
    brings it back on the same port with the same state.
``modbus_server_without_sunspec`` -> :class:`PlainModbusServer`
    A real Modbus TCP server whose registers are all zero: no "SunS" marker anywhere.

Both enable sockets (pytest-socket's ``socket_enabled``) and shut the server down at
teardown, so no task or transport outlives the test.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from tests.plugins.sunspec_simulation import ManualClock, SunSpecSimulation

HOST = "127.0.0.1"
UNIT_ID = 1


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class SunSpecDeviceServer:
    """Where the simulated device listens, and its state."""

    host: str
    port: int
    unit_id: int
    simulation: SunSpecSimulation
    clock: ManualClock
    server: Any
    devices: list[Any]

    async def stop(self) -> None:
        if self.server is not None:
            server, self.server = self.server, None
            await server.shutdown()

    async def start(self) -> None:
        if self.server is None:
            self.server = await _start(self.devices, self.port)


@dataclass
class PlainModbusServer:
    host: str
    port: int
    unit_id: int
    server: Any


async def _start(devices: list[Any], port: int) -> Any:
    from pymodbus.server import ModbusTcpServer

    server = ModbusTcpServer(devices, address=(HOST, port))
    await server.serve_forever(background=True)
    return server


@pytest.fixture
async def sunspec_device(socket_enabled: None) -> AsyncIterator[SunSpecDeviceServer]:
    from pymodbus.constants import ExcCodes
    from pymodbus.simulator import DataType, SimData, SimDevice

    from tests.plugins.sunspec_simulation import BASE_ADDRESS, ManualClock, SunSpecSimulation

    clock = ManualClock()
    simulation = SunSpecSimulation(clock=clock)
    # SimData packs REGISTERS as signed 16-bit; the server keeps them unsigned afterwards.
    image = [value - 0x10000 if value > 0x7FFF else value for value in simulation.register_image()]

    async def serve(
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        current_registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        if set_values is not None and not simulation.write(
            address, [int(value) for value in set_values]
        ):
            return ExcCodes.ILLEGAL_ADDRESS
        simulation.advance()
        fresh = simulation.register_image()
        current_registers[: len(fresh)] = fresh
        return None

    async def other_unit(*_: Any) -> ExcCodes:
        return ExcCodes.GATEWAY_NO_RESPONSE

    device = SimDevice(
        id=UNIT_ID,
        simdata=[SimData(BASE_ADDRESS, values=image, datatype=DataType.REGISTERS)],
        action=serve,
    )
    # id 0 answers every other unit id: as a gateway with nothing behind that id.
    nobody = SimDevice(
        id=0,
        simdata=[SimData(0, count=65535, values=0, datatype=DataType.REGISTERS)],
        action=other_unit,
    )
    port = _free_port()
    devices = [device, nobody]
    served = SunSpecDeviceServer(
        HOST, port, UNIT_ID, simulation, clock, await _start(devices, port), devices
    )
    try:
        yield served
    finally:
        await served.stop()


@pytest.fixture
async def modbus_server_without_sunspec(socket_enabled: None) -> AsyncIterator[PlainModbusServer]:
    from pymodbus.simulator import DataType, SimData, SimDevice

    device = SimDevice(
        id=UNIT_ID, simdata=[SimData(0, count=65535, values=0, datatype=DataType.REGISTERS)]
    )
    port = _free_port()
    server = await _start([device], port)
    try:
        yield PlainModbusServer(HOST, port, UNIT_ID, server)
    finally:
        await server.shutdown()
