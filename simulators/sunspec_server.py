"""A real pymodbus TCP server serving a :class:`~.sunspec_simulation.SunSpecSimulation`.

Every request first brings the simulation up to date (``before_request``, by default
:meth:`~.sunspec_simulation.SunSpecSimulation.advance`), applies a write (a write to a
read-only point is refused with exception 0x02), then answers from freshly encoded
registers. Other unit ids get exception 0x0B (gateway target failed to respond), as a
Modbus gateway answers for an id with nothing behind it.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .sunspec_simulation import BASE_ADDRESS, SunSpecSimulation

UNIT_ID = 1


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class SunSpecServer:
    """A running server; :meth:`stop` takes the device off the network (connections
    refused) and :meth:`start` brings it back on the same port with the same state."""

    host: str
    port: int
    unit_id: int
    simulation: SunSpecSimulation
    devices: list[Any]
    #: The pymodbus ``ModbusTcpServer`` while serving, else None.
    server: Any = None

    async def start(self) -> None:
        if self.server is None:
            self.server = await serve_modbus(self.devices, self.host, self.port)

    async def stop(self) -> None:
        if self.server is not None:
            server, self.server = self.server, None
            await shutdown_modbus(server)


async def start_sunspec_server(
    simulation: SunSpecSimulation,
    host: str,
    port: int,
    *,
    unit_id: int = UNIT_ID,
    before_request: Callable[[], None] | None = None,
) -> SunSpecServer:
    """Serve ``simulation`` on ``host:port`` (unit ``unit_id``) until ``stop()``."""
    from pymodbus.constants import ExcCodes
    from pymodbus.simulator import DataType, SimData, SimDevice

    refresh = before_request or simulation.advance
    refresh()
    # SimData packs REGISTERS as signed 16-bit; the server keeps them unsigned afterwards.
    image = [value - 0x10000 if value > 0x7FFF else value for value in simulation.register_image()]

    async def serve(  # noqa: PLR0917 (pymodbus calls the action with six positionals)
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        current_registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        refresh()
        if set_values is not None and not simulation.write(
            address, [int(value) for value in set_values]
        ):
            return ExcCodes.ILLEGAL_ADDRESS
        fresh = simulation.register_image()
        current_registers[: len(fresh)] = fresh
        return None

    async def other_unit(*_: Any) -> ExcCodes:
        return ExcCodes.GATEWAY_NO_RESPONSE

    device = SimDevice(
        id=unit_id,
        simdata=[SimData(BASE_ADDRESS, values=image, datatype=DataType.REGISTERS)],
        action=serve,
    )
    # id 0 answers every other unit id: as a gateway with nothing behind that id.
    nobody = SimDevice(
        id=0,
        simdata=[SimData(0, count=65535, values=0, datatype=DataType.REGISTERS)],
        action=other_unit,
    )
    running = SunSpecServer(host, port, unit_id, simulation, [device, nobody])
    await running.start()
    return running


async def serve_modbus(devices: list[Any], host: str, port: int) -> Any:
    """A pymodbus ``ModbusTcpServer`` for ``devices``, serving in the background."""
    from pymodbus.server import ModbusTcpServer

    server = ModbusTcpServer(devices, address=(host, port))
    await server.serve_forever(background=True)
    return server


async def shutdown_modbus(server: Any) -> None:
    """Stop ``server`` and drop every connection, including one accepted as it stopped.

    pymodbus closes its listener and the connections it has filed, but it files them under
    str(id(...)): a closed connection's clean-up can remove a newer one whose id reuses the
    old object's address, and that one outlived shutdown(), so a "stopped" device kept
    answering. The asyncio server knows every transport it made: close them all there.
    """
    listener = server.transport  # the asyncio server; shutdown() forgets it
    await server.shutdown()
    if listener is not None:
        listener.abort_clients()
