"""One Modbus TCP connection to a device (pymodbus' asyncio client) with typed errors.

Reads and writes holding registers (function codes 3 and 16), split into requests the
protocol allows, and turns pymodbus' failures into the errors in :mod:`.errors`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Self

from .errors import (
    SunSpecConnectionError,
    SunSpecModbusExceptionError,
    SunSpecTimeoutError,
    SunSpecUnitIdError,
    SunSpecUnreachableError,
)

if TYPE_CHECKING:
    from pymodbus.client import AsyncModbusTcpClient
    from pymodbus.pdu import ModbusPDU

#: The Modbus limits for one read (FC 3) and one write (FC 16) request.
MAX_READ_REGISTERS = 125
MAX_WRITE_REGISTERS = 123

#: Exception codes a gateway / multi-unit device answers for a unit id nobody has.
_UNIT_ID_EXCEPTION_CODES = frozenset({0x0A, 0x0B})

_EXCEPTION_NAMES = {
    0x01: "illegal function",
    0x02: "illegal data address",
    0x03: "illegal data value",
    0x04: "device failure",
    0x05: "acknowledge",
    0x06: "device busy",
    0x08: "memory parity error",
    0x0A: "gateway path unavailable",
    0x0B: "gateway target failed to respond",
}


class ModbusLink:
    """An async Modbus TCP connection to one unit id at host:port.

    Use as ``async with ModbusLink(host, port, unit_id) as link:``; ``timeout`` bounds the
    connection attempt and every request.
    """

    def __init__(
        self, host: str, port: int = 502, unit_id: int = 1, *, timeout: float = 3.0
    ) -> None:
        if not 0 <= unit_id <= 255:
            raise ValueError(f"unit_id must be 0..255, got {unit_id}")
        if not 0 < port < 65536:
            raise ValueError(f"port must be 1..65535, got {port}")
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, got {timeout}")
        self.host = host
        self.port = port
        self.unit_id = unit_id
        self.timeout = timeout
        self._client: AsyncModbusTcpClient | None = None

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port} unit {self.unit_id}"

    async def connect(self) -> None:
        from pymodbus.client import AsyncModbusTcpClient

        self.close()
        # No automatic reconnects: the caller decides when to retry (with backoff).
        client = AsyncModbusTcpClient(
            self.host, port=self.port, timeout=self.timeout, retries=0, reconnect_delay=0
        )
        try:
            async with asyncio.timeout(self.timeout + 1.0):
                connected = await client.connect()
        except TimeoutError:
            connected = False
        if not connected:
            client.close()
            raise SunSpecUnreachableError(
                f"cannot connect to {self.host}:{self.port} (refused, closed or unreachable)"
            )
        self._client = client

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    @property
    def connected(self) -> bool:
        return self._client is not None and self._client.connected

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    async def read_registers(self, address: int, count: int) -> list[int]:
        """``count`` holding registers from ``address`` (0-based protocol address)."""
        _check_span(address, count)
        registers: list[int] = []
        while count > 0:
            chunk = min(count, MAX_READ_REGISTERS)
            registers.extend(await self._read_chunk(address, chunk))
            address += chunk
            count -= chunk
        return registers

    async def write_registers(self, address: int, values: Sequence[int]) -> None:
        """Write holding registers from ``address`` (FC 16), split when too long."""
        _check_span(address, len(values))
        for start in range(0, len(values), MAX_WRITE_REGISTERS):
            chunk = [int(v) & 0xFFFF for v in values[start : start + MAX_WRITE_REGISTERS]]
            await self._request("write", address + start, chunk)

    async def _read_chunk(self, address: int, count: int) -> list[int]:
        response = await self._request("read", address, count)
        registers = list(response.registers)
        if len(registers) != count:
            raise SunSpecConnectionError(
                f"{self.where}: asked for {count} registers at {address}, got {len(registers)}"
            )
        return registers

    async def _request(
        self, what: str, address: int, count_or_values: int | list[int]
    ) -> ModbusPDU:
        """One read (``count``) or write (``values``) request, failures mapped to errors."""
        from pymodbus.exceptions import ConnectionException, ModbusIOException

        client = self._client
        if client is None:
            raise SunSpecConnectionError(f"{self.where}: not connected")
        count = count_or_values if isinstance(count_or_values, int) else len(count_or_values)
        span = f"{what} of {count} registers at {address}"
        try:
            async with asyncio.timeout(self.timeout + 1.0):
                if isinstance(count_or_values, int):
                    response = await client.read_holding_registers(
                        address, count=count_or_values, device_id=self.unit_id
                    )
                else:
                    response = await client.write_registers(
                        address, count_or_values, device_id=self.unit_id
                    )
        except (TimeoutError, ModbusIOException) as err:
            raise SunSpecTimeoutError(
                f"{self.where}: no answer to {span} within {self.timeout} s (is the unit id right?)"
            ) from err
        except ConnectionException as err:
            self.close()
            raise SunSpecConnectionError(f"{self.where}: connection lost during {span}") from err
        if response.isError():
            code = int(getattr(response, "exception_code", 0))
            name = _EXCEPTION_NAMES.get(code, "unknown exception")
            if code in _UNIT_ID_EXCEPTION_CODES:
                raise SunSpecUnitIdError(
                    f"{self.where}: no device answers on unit id {self.unit_id} "
                    f"(Modbus exception {code:#04x}, {name})",
                    code,
                )
            raise SunSpecModbusExceptionError(
                f"{self.where}: {span} refused with Modbus exception {code:#04x} ({name})", code
            )
        return response


def _check_span(address: int, count: int) -> None:
    if count < 1:
        raise ValueError(f"register count must be positive, got {count}")
    if address < 0 or address + count > 0x10000:
        raise ValueError(f"registers {address}..{address + count - 1} are outside 0..65535")
