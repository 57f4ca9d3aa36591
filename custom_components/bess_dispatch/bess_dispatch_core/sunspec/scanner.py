"""Find a device's SunSpec register map and read every model in it.

A SunSpec device puts the marker "SunS" (0x5375 0x6E53) at one of the base addresses
40000, 50000 or 0, followed by a chain of models, each ``(id, length, points...)``, ended
by id 0xFFFF. The scanner finds the marker, walks the chain and decodes every model whose
official definition is known.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass

from .decoding import DecodedModel, decode_model
from .definitions import HEADER_LENGTH, load_model_definition
from .errors import (
    SunSpecDefinitionError,
    SunSpecModbusExceptionError,
    SunSpecModelChainError,
    SunSpecNotFoundError,
    SunSpecUnitIdError,
)
from .modbus_link import ModbusLink

#: "SunS" as two big-endian registers.
SUNSPEC_MARKER = (0x5375, 0x6E53)
#: Where the specification allows the marker, in the order it asks clients to try.
SUNSPEC_BASE_ADDRESSES = (40000, 50000, 0)
#: Model id that ends the chain.
END_MODEL_ID = 0xFFFF
#: Guard against devices whose chain never ends.
MAX_MODELS = 100

#: Models the gateway reads: common, inverters, storage controls, meters, battery.
COMMON_MODEL_ID = 1
INVERTER_MODEL_IDS = (101, 102, 103)
STORAGE_MODEL_ID = 124
METER_MODEL_IDS = (201, 202, 203, 204)
BATTERY_MODEL_ID = 802


@dataclass(frozen=True, slots=True)
class ModelHeader:
    """A model in the chain without a definition here (vendor or unknown model)."""

    model_id: int
    address: int
    length: int


@dataclass(frozen=True, slots=True)
class SunSpecDevice:
    """What a scan found: the base address and every model, in chain order."""

    host: str
    port: int
    unit_id: int
    base_address: int
    models: tuple[DecodedModel, ...]
    unknown_models: tuple[ModelHeader, ...] = ()

    @property
    def model_ids(self) -> tuple[int, ...]:
        return tuple(model.model_id for model in self.models)

    def find(self, model_ids: int | Iterable[int]) -> DecodedModel | None:
        """The first model with one of ``model_ids`` (chain order), or ``None``."""
        wanted = {model_ids} if isinstance(model_ids, int) else set(model_ids)
        return next((m for m in self.models if m.model_id in wanted), None)

    def all(self, model_ids: int | Iterable[int]) -> tuple[DecodedModel, ...]:
        wanted = {model_ids} if isinstance(model_ids, int) else set(model_ids)
        return tuple(m for m in self.models if m.model_id in wanted)

    @property
    def common(self) -> DecodedModel | None:
        return self.find(COMMON_MODEL_ID)

    @property
    def inverter(self) -> DecodedModel | None:
        return self.find(INVERTER_MODEL_IDS)

    @property
    def storage(self) -> DecodedModel | None:
        return self.find(STORAGE_MODEL_ID)

    @property
    def meter(self) -> DecodedModel | None:
        return self.find(METER_MODEL_IDS)

    @property
    def battery(self) -> DecodedModel | None:
        return self.find(BATTERY_MODEL_ID)


async def find_base_address(link: ModbusLink) -> int:
    """The address of the "SunS" marker; :class:`SunSpecNotFoundError` if there is none."""
    tried: list[str] = []
    for address in SUNSPEC_BASE_ADDRESSES:
        try:
            registers = await link.read_registers(address, len(SUNSPEC_MARKER))
        except SunSpecUnitIdError:
            raise
        except SunSpecModbusExceptionError as err:
            # Illegal address and similar: nothing mapped there, try the next base.
            tried.append(f"{address} (exception {err.exception_code:#04x})")
            continue
        if tuple(registers) == SUNSPEC_MARKER:
            return address
        tried.append(f"{address} ({registers[0]:#06x} {registers[1]:#06x})")
    raise SunSpecNotFoundError(
        f"{link.where}: no SunSpec marker 'SunS' at any base address; read {', '.join(tried)}"
    )


async def read_model(link: ModbusLink, address: int, length: int) -> list[int]:
    """The registers of one model: its header and ``length`` more."""
    return await link.read_registers(address, length + HEADER_LENGTH)


async def scan_device(link: ModbusLink) -> SunSpecDevice:
    """Find the SunSpec map on a connected ``link`` and decode every known model."""
    base = await find_base_address(link)
    address = base + len(SUNSPEC_MARKER)
    models: list[DecodedModel] = []
    unknown: list[ModelHeader] = []
    for _ in range(MAX_MODELS):
        if address + HEADER_LENGTH > 0x10000:
            raise SunSpecModelChainError(f"{link.where}: model chain runs past register 65535")
        model_id, length = await link.read_registers(address, HEADER_LENGTH)
        if model_id == END_MODEL_ID:
            break
        if address + HEADER_LENGTH + length > 0x10000:
            raise SunSpecModelChainError(
                f"{link.where}: model {model_id} at {address} (length {length}) runs past "
                "register 65535"
            )
        try:
            # The first load of a model reads pysunspec2's JSON (and imports its package):
            # file work that must not run on the caller's event loop (Home Assistant's).
            definition = await asyncio.to_thread(load_model_definition, model_id)
        except SunSpecDefinitionError:
            unknown.append(ModelHeader(model_id, address, length))
        else:
            registers = await read_model(link, address, length)
            models.append(decode_model(definition, address, registers))
        address += HEADER_LENGTH + length
    else:
        raise SunSpecModelChainError(
            f"{link.where}: more than {MAX_MODELS} models without the end marker"
        )
    return SunSpecDevice(
        host=link.host,
        port=link.port,
        unit_id=link.unit_id,
        base_address=base,
        models=tuple(models),
        unknown_models=tuple(unknown),
    )


async def scan(
    host: str, port: int = 502, unit_id: int = 1, *, request_timeout: float = 3.0
) -> SunSpecDevice:
    """Connect, scan and disconnect: everything a config flow needs to show a device.

    ``request_timeout`` bounds the connection attempt and each request.
    """
    async with ModbusLink(host, port, unit_id, timeout=request_timeout) as link:
        return await scan_device(link)


async def refresh_model(link: ModbusLink, model: DecodedModel) -> DecodedModel:
    """Read one already found model again (the poll step after a scan)."""
    registers = await read_model(link, model.address, model.length)
    if registers[0] != model.model_id:
        raise SunSpecModelChainError(
            f"{link.where}: expected model {model.model_id} at {model.address}, "
            f"found {registers[0]} (the device's map changed: scan again)"
        )
    return decode_model(model.definition, model.address, registers)
