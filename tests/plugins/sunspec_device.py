"""Pytest fixtures serving the SunSpec device simulator (``simulators/``) on a real
pymodbus 3.13 TCP server (loaded with ``-p tests.plugins.sunspec_device``).

Fixtures
--------
``sunspec_device`` -> :class:`SunSpecDeviceServer`
    :func:`simulators.sunspec_server.start_sunspec_server` on a free ``127.0.0.1`` port
    inside the test's event loop, serving the map of
    :class:`~simulators.sunspec_simulation.SunSpecSimulation` (models 1, 103, 124, 203,
    802 at base address 40000) on unit id 1. ``clock`` is a
    :class:`~simulators.sunspec_simulation.ManualClock`: time moves only with
    ``sunspec_device.clock.advance(seconds)``. ``await sunspec_device.stop()`` takes the
    device off the network (connections refused) and ``await sunspec_device.start()``
    brings it back on the same port with the same state.
``modbus_server_without_sunspec`` -> :class:`PlainModbusServer`
    A real Modbus TCP server whose registers are all zero: no "SunS" marker anywhere.

Both enable sockets (pytest-socket's ``socket_enabled``) and shut the server down at
teardown, so no task or transport outlives the test. ``simulators`` is imported inside the
fixtures: pytest loads this plugin before ``pure/`` (bess_dispatch_core) is on sys.path.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from simulators.sunspec_server import SunSpecServer
    from simulators.sunspec_simulation import ManualClock, SunSpecSimulation

HOST = "127.0.0.1"
UNIT_ID = 1


@dataclass
class SunSpecDeviceServer:
    """Where the simulated device listens, its state and its test clock."""

    running: SunSpecServer
    clock: ManualClock

    @property
    def host(self) -> str:
        return self.running.host

    @property
    def port(self) -> int:
        return self.running.port

    @property
    def unit_id(self) -> int:
        return self.running.unit_id

    @property
    def simulation(self) -> SunSpecSimulation:
        return self.running.simulation

    @property
    def server(self) -> Any:
        """The pymodbus server (None while stopped)."""
        return self.running.server

    async def stop(self) -> None:
        await self.running.stop()

    async def start(self) -> None:
        await self.running.start()


@dataclass
class PlainModbusServer:
    host: str
    port: int
    unit_id: int
    server: Any


@pytest.fixture
async def sunspec_device(socket_enabled: None) -> AsyncIterator[SunSpecDeviceServer]:
    from simulators.sunspec_server import free_port, start_sunspec_server
    from simulators.sunspec_simulation import ManualClock, SunSpecSimulation

    clock = ManualClock()
    simulation = SunSpecSimulation(clock=clock)
    served = SunSpecDeviceServer(
        await start_sunspec_server(simulation, HOST, free_port(HOST), unit_id=UNIT_ID), clock
    )
    try:
        yield served
    finally:
        await served.stop()


@pytest.fixture
async def modbus_server_without_sunspec(socket_enabled: None) -> AsyncIterator[PlainModbusServer]:
    from pymodbus.simulator import DataType, SimData, SimDevice

    from simulators.sunspec_server import free_port, serve_modbus

    device = SimDevice(
        id=UNIT_ID, simdata=[SimData(0, count=65535, values=0, datatype=DataType.REGISTERS)]
    )
    port = free_port(HOST)
    server = await serve_modbus([device], HOST, port)
    try:
        yield PlainModbusServer(HOST, port, UNIT_ID, server)
    finally:
        await server.shutdown()
